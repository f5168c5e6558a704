/* The parts of Arca's native addon; addon.c registers each one's functions on the exports. */
#ifndef ARCA_NATIVE_H
#define ARCA_NATIVE_H

#include <node_api.h>

void register_poly1305(napi_env env, napi_value exports);
void register_xattr(napi_env env, napi_value exports);
void register_memory(napi_env env, napi_value exports);
void register_json_items(napi_env env, napi_value exports);
void register_fastcdc(napi_env env, napi_value exports);

#endif
