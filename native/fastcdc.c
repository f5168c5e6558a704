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

static napi_value FastcdcScan(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value args[7], result;
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  int32_t *gear;
  uint8_t *data;
  size_t gear_len, data_len;
  int64_t from, normal, limit;
  int32_t mask_s, mask_l;
  if (argc != 7 || !arca_typed(env, args[0], napi_int32_array, (void **)&gear, &gear_len) || gear_len != 256 ||
      !arca_typed(env, args[1], napi_uint8_array, (void **)&data, &data_len) ||
      napi_get_value_int64(env, args[2], &from) != napi_ok ||
      napi_get_value_int64(env, args[3], &normal) != napi_ok ||
      napi_get_value_int64(env, args[4], &limit) != napi_ok ||
      napi_get_value_int32(env, args[5], &mask_s) != napi_ok ||
      napi_get_value_int32(env, args[6], &mask_l) != napi_ok || from < 0 || from > normal ||
      normal > limit || (uint64_t)limit > data_len) {
    napi_throw_type_error(env, NULL,
                          "fastcdcScan(gear: Int32Array(256), data: Uint8Array, from, normal, limit, maskS, maskL)");
    return NULL;
  }
  uint32_t h = 0, ms = (uint32_t)mask_s, ml = (uint32_t)mask_l;
  int64_t i = from;
  for (; i < normal; i++) {
    h = (h << 1) + (uint32_t)gear[data[i]];
    if ((h & ms) == 0) goto found;
  }
  for (; i < limit; i++) {
    h = (h << 1) + (uint32_t)gear[data[i]];
    if ((h & ml) == 0) goto found;
  }
  napi_create_int64(env, limit, &result);
  return result;
found:
  napi_create_int64(env, i + 1, &result);
  return result;
}

void register_fastcdc(napi_env env, napi_value exports) {
  arca_export(env, exports, "fastcdcScan", FastcdcScan);
}
