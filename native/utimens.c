/*
 * File times to the nanosecond, as restic restores them: Node.js's utimes takes seconds as a
 * double, which is about 240 ns coarse for today's dates. Never follows a symlink.
 */
#include "arca.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>

/* A whole number argument in [min, max]; 0 (nothing thrown) if it is not one. */
static int whole(napi_env env, napi_value value, double min, double max, int64_t *out) {
  double d;
  if (napi_get_value_double(env, value, &d) != napi_ok) return 0;
  if (!isfinite(d) || d != floor(d) || d < min || d > max) return 0;
  *out = (int64_t)d;
  return 1;
}

/* lutimens(path: string | Uint8Array, atimeSec, atimeNsec, mtimeSec, mtimeNsec): undefined */
static napi_value Lutimens(napi_env env, napi_callback_info info) {
  static const char *usage =
      "lutimens(path: string | Uint8Array, atimeSec: integer, atimeNsec: 0..999999999, mtimeSec: integer, "
      "mtimeNsec: 0..999999999)";
  /* seconds Number holds exactly, nanoseconds within the second */
  static const double max_sec = 9007199254740991.0;
  size_t argc = 5;
  napi_value args[5];
  int64_t v[4];
  char *path;
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  if (argc != 5) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  for (int i = 0; i < 4; i++) {
    int nsec = i % 2 == 1;
    if (!whole(env, args[i + 1], nsec ? 0 : -max_sec, nsec ? 999999999 : max_sec, &v[i])) {
      napi_throw_range_error(env, NULL, usage);
      return NULL;
    }
  }
  if (!(path = arca_path_arg(env, args[0], usage))) return NULL;
  struct timespec times[2] = {{(time_t)v[0], (long)v[1]}, {(time_t)v[2], (long)v[3]}};
  if (utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW) != 0) arca_throw_errno(env, errno, "utimensat", path);
  free(path);
  return NULL;
}

void register_utimens(napi_env env, napi_value exports) {
  arca_export(env, exports, "lutimens", Lutimens);
}
