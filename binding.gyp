{
  "targets": [
    {
      "target_name": "arca_native",
      "sources": ["native/poly1305.c", "native/xattr.c"],
      "cflags": ["-O3"]
    }
  ]
}
