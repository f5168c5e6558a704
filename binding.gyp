{
  "targets": [
    {
      "target_name": "arca_native",
      "sources": ["native/addon.c", "native/poly1305.c", "native/xattr.c", "native/memory.c", "native/json-items.c", "native/fastcdc.c", "native/seal.c", "native/sha256.c"],
      "cflags": ["-O3"]
    }
  ]
}
