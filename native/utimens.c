/*
 * File times to the nanosecond, as restic restores them: Node.js's utimes takes seconds as a
 * double, which is about 240 ns coarse for today's dates. Never follows a symlink.
 */
#include "arca.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

/* lutimens(path: string | Uint8Array, atimeSec, atimeNsec, mtimeSec, mtimeNsec): undefined */
static napi_value Lutimens(napi_env env, napi_callback_info info) {
  static const char *names[4] = {"atimeSec", "atimeNsec", "mtimeSec", "mtimeNsec"};
  /* seconds Number holds exactly, nanoseconds within the second */
  static const double max_sec = 9007199254740991.0;
  size_t argc = 5;
  napi_value args[5];
  int64_t v[4];
  char *path;
  napi_get_cb_info(env, info, &argc, args, NULL, NULL); /* missing ones read as undefined */
  for (int i = 0; i < 4; i++) {
    int nsec = i % 2 == 1;
    double d;
    if (!arca_arg_integer(env, args[i + 1], "lutimens", names[i], nsec ? 0 : -max_sec, nsec ? 999999999 : max_sec, &d))
      return NULL;
    v[i] = (int64_t)d;
  }
  if (!(path = arca_path_arg(env, args[0], "lutimens"))) return NULL;
  struct timespec times[2] = {{(time_t)v[0], (long)v[1]}, {(time_t)v[2], (long)v[3]}};
  if (utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW) != 0) arca_throw_errno(env, errno, "utimensat", path);
  free(path);
  return NULL;
}

void register_utimens(napi_env env, napi_value exports) {
  arca_export(env, exports, "lutimens", Lutimens);
}
