/* Arca's native addon: the few things Node.js lacks or does too slowly. */
#include "arca.h"

int arca_typed(napi_env env, napi_value value, napi_typedarray_type want, void **data, size_t *len) {
  bool is_typed;
  napi_typedarray_type type;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return 0;
  if (napi_get_typedarray_info(env, value, &type, len, data, NULL, NULL) != napi_ok) return 0;
  return type == want;
}

int arca_bytes(napi_env env, napi_value value, uint8_t **data, size_t *len) {
  return arca_typed(env, value, napi_uint8_array, (void **)data, len);
}

void arca_export(napi_env env, napi_value exports, const char *name, napi_callback fn) {
  napi_value value;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, NULL, &value);
  napi_set_named_property(env, exports, name, value);
}

static napi_value Init(napi_env env, napi_value exports) {
  register_poly1305(env, exports);
  register_xattr(env, exports);
  register_memory(env, exports);
  register_json_items(env, exports);
  register_fastcdc(env, exports);
  register_seal(env, exports);
  register_sha256(env, exports);
  register_seal_batch(env, exports);
  register_utimens(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
