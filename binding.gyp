{
  "targets": [
    {
      "target_name": "arca_native",
      "sources": ["native/addon.c", "native/poly1305.c", "native/xattr.c", "native/memory.c", "native/json-items.c", "native/fastcdc.c", "native/seal.c", "native/seal-batch.c", "native/sha256.c", "native/utimens.c"],
      "dependencies": ["node_modules/zstd-napi/deps/zstd.gyp:libzstd"],
      "cflags": ["-O3"]
    }
  ]
}
