/* Arca's native addon: the few things Node.js lacks or does too slowly. */
#include "arca.h"

static napi_value Init(napi_env env, napi_value exports) {
  register_poly1305(env, exports);
  register_xattr(env, exports);
  register_memory(env, exports);
  register_json_items(env, exports);
  register_fastcdc(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
