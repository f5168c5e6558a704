/*
 * The gear-hash loop of FastCDC (src/snapshot/fastcdc.ts keeps the sizes, masks and table):
 * in JavaScript it was the largest single cost of a first backup, about 2 s a GiB.
 *
 * fastcdcScan(gear: Int32Array(256), data: Uint8Array, from, normal, limit, maskS, maskL): number
 *   hashes data[from..limit), testing maskS before `normal` and maskL after it; returns the
 *   offset just past the first byte whose hash fits its mask, or `limit`. The hash starts at 0
 *   at `from` and works in 32-bit wrapping arithmetic, as the JavaScript did.
 */
#include "arca.h"

#include <stdint.h>
#include <stdio.h>

static napi_value FastcdcScan(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value args[7], result;
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  int32_t *gear;
  uint8_t *data;
  size_t gear_len, data_len;
  size_t from, normal, limit;
  double mask_s, mask_l;
  /* from <= normal <= limit <= data.length; a mask is 32 bits, signed or not */
  if (!arca_arg_typed(env, args[0], "fastcdcScan", "gear", napi_int32_array, (void **)&gear, &gear_len) ||
      !arca_arg_bytes(env, args[1], "fastcdcScan", "data", 0, &data, &data_len) ||
      !arca_arg_index(env, args[2], "fastcdcScan", "from", data_len, &from) ||
      !arca_arg_index(env, args[3], "fastcdcScan", "normal", data_len, &normal) ||
      !arca_arg_index(env, args[4], "fastcdcScan", "limit", data_len, &limit) ||
      !arca_arg_integer(env, args[5], "fastcdcScan", "maskS", INT32_MIN, UINT32_MAX, &mask_s) ||
      !arca_arg_integer(env, args[6], "fastcdcScan", "maskL", INT32_MIN, UINT32_MAX, &mask_l))
    return NULL;
  if (gear_len != 256) {
    char message[80];
    snprintf(message, sizeof message, "gear must have 256 entries (got %zu)", gear_len);
    arca_throw_range(env, "fastcdcScan", message);
    return NULL;
  }
  if (from > normal || normal > limit) {
    char message[160];
    snprintf(message, sizeof message, "from (%zu), normal (%zu) and limit (%zu) must be in order", from, normal, limit);
    arca_throw_range(env, "fastcdcScan", message);
    return NULL;
  }
  uint32_t h = 0, ms = (uint32_t)(int64_t)mask_s, ml = (uint32_t)(int64_t)mask_l;
  size_t i = from;
  for (; i < normal; i++) {
    h = (h << 1) + (uint32_t)gear[data[i]];
    if ((h & ms) == 0) goto found;
  }
  for (; i < limit; i++) {
    h = (h << 1) + (uint32_t)gear[data[i]];
    if ((h & ml) == 0) goto found;
  }
  napi_create_int64(env, (int64_t)limit, &result);
  return result;
found:
  napi_create_int64(env, (int64_t)i + 1, &result);
  return result;
}

void register_fastcdc(napi_env env, napi_value exports) {
  arca_export(env, exports, "fastcdcScan", FastcdcScan);
}
