/* Arca's native addon: the few things Node.js lacks or does too slowly. */
#include "arca.h"

int arca_bytes(napi_env env, napi_value value, uint8_t **data, size_t *len) {
  napi_typedarray_type type;
  if (napi_get_typedarray_info(env, value, &type, len, (void **)data, NULL, NULL) != napi_ok) return 0;
  return type == napi_uint8_array;
}

static napi_value Init(napi_env env, napi_value exports) {
  register_poly1305(env, exports);
  register_xattr(env, exports);
  register_memory(env, exports);
  register_json_items(env, exports);
  register_fastcdc(env, exports);
  register_seal(env, exports);
  register_sha256(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
