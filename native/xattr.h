/* Extended attribute calls, added to the addon's exports by its init (poly1305.c). */
#ifndef ARCA_XATTR_H
#define ARCA_XATTR_H

#include <node_api.h>

void register_xattr(napi_env env, napi_value exports);

#endif
