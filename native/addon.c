/* Arca's native addon: the few things Node.js lacks or does too slowly. */
#include "arca.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

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

/* The shortest of %.15g and %.17g that reads back as x: "0.1", not "0.10000000000000001". */
static void format_number(double x, char *out, size_t size) {
  snprintf(out, size, "%.15g", x);
  if (strtod(out, NULL) != x) snprintf(out, size, "%.17g", x);
}

/* What a rejected argument was, for the message: "NaN", "-1", "a string", "an Int32Array". */
static void describe(napi_env env, napi_value value, char *out, size_t size) {
  napi_valuetype type;
  bool flag = false;
  if (napi_typeof(env, value, &type) != napi_ok) {
    snprintf(out, size, "something else");
    return;
  }
  if (type == napi_number) {
    double x = 0;
    napi_get_value_double(env, value, &x);
    if (isnan(x)) snprintf(out, size, "NaN");
    else if (isinf(x)) snprintf(out, size, x > 0 ? "Infinity" : "-Infinity");
    else format_number(x, out, size);
    return;
  }
  if (type == napi_object) {
    static const char *names[] = {"an Int8Array",    "a Uint8Array",   "a Uint8ClampedArray", "an Int16Array",
                                  "a Uint16Array",   "an Int32Array",  "a Uint32Array",       "a Float32Array",
                                  "a Float64Array",  "a BigInt64Array", "a BigUint64Array"};
    napi_typedarray_type kind;
    size_t len;
    if (napi_is_typedarray(env, value, &flag) == napi_ok && flag &&
        napi_get_typedarray_info(env, value, &kind, &len, NULL, NULL, NULL) == napi_ok &&
        (size_t)kind < sizeof names / sizeof names[0]) {
      snprintf(out, size, "%s", names[kind]);
    } else if (napi_is_arraybuffer(env, value, &flag) == napi_ok && flag) {
      snprintf(out, size, "an ArrayBuffer");
    } else if (napi_is_dataview(env, value, &flag) == napi_ok && flag) {
      snprintf(out, size, "a DataView");
    } else if (napi_is_array(env, value, &flag) == napi_ok && flag) {
      snprintf(out, size, "an Array");
    } else {
      snprintf(out, size, "an object");
    }
    return;
  }
  static const char *types[] = {"undefined", "null",     "a boolean", "a number",   "a string",
                                "a symbol",  "an object", "a function", "an external", "a bigint"};
  snprintf(out, size, "%s", (size_t)type < sizeof types / sizeof types[0] ? types[type] : "something else");
}

static int throw_with(napi_env env, int range, const char *fn, const char *arg, const char *want, napi_value value) {
  char got[64], message[320];
  describe(env, value, got, sizeof got);
  snprintf(message, sizeof message, "%s: %s must be %s (got %s)", fn, arg, want, got);
  if (range) napi_throw_range_error(env, "ERR_OUT_OF_RANGE", message);
  else napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
  return 0;
}

int arca_throw_type(napi_env env, napi_value value, const char *fn, const char *arg, const char *want) {
  return throw_with(env, 0, fn, arg, want, value);
}

int arca_throw_range(napi_env env, const char *fn, const char *message) {
  char text[320];
  snprintf(text, sizeof text, "%s: %s", fn, message);
  napi_throw_range_error(env, "ERR_OUT_OF_RANGE", text);
  return 0;
}

int arca_arg_typed(napi_env env, napi_value value, const char *fn, const char *arg, napi_typedarray_type want,
                   void **data, size_t *len) {
  static const char *wants[] = {"an Int8Array",   "a Uint8Array (or Buffer)", "a Uint8ClampedArray",
                                "an Int16Array",  "a Uint16Array",            "an Int32Array",
                                "a Uint32Array",  "a Float32Array",           "a Float64Array",
                                "a BigInt64Array", "a BigUint64Array"};
  const char *name = (size_t)want < sizeof wants / sizeof wants[0] ? wants[want] : "a typed array";
  napi_typedarray_type type;
  napi_value buffer;
  bool flag = false;
  if (napi_is_typedarray(env, value, &flag) != napi_ok || !flag ||
      napi_get_typedarray_info(env, value, &type, len, data, &buffer, NULL) != napi_ok || type != want) {
    return throw_with(env, 0, fn, arg, name, value);
  }
  /* A transferred buffer reads as empty; say what happened rather than "too short". */
  if (napi_is_detached_arraybuffer(env, buffer, &flag) != napi_ok || flag) {
    char message[320];
    snprintf(message, sizeof message, "%s: %s is detached (its ArrayBuffer was transferred)", fn, arg);
    napi_throw_type_error(env, "ERR_INVALID_STATE", message);
    return 0;
  }
  return 1;
}

int arca_arg_bytes(napi_env env, napi_value value, const char *fn, const char *arg, size_t size, uint8_t **data,
                   size_t *len) {
  if (!arca_arg_typed(env, value, fn, arg, napi_uint8_array, (void **)data, len)) return 0;
  if (size != 0 && *len != size) {
    char message[200];
    snprintf(message, sizeof message, "%s must be %zu bytes (got %zu)", arg, size, *len);
    return arca_throw_range(env, fn, message);
  }
  return 1;
}

int arca_arg_number(napi_env env, napi_value value, const char *fn, const char *arg, double min, double max,
                    double *out) {
  char want[120];
  napi_valuetype type;
  char low[32], high[32];
  format_number(min, low, sizeof low);
  format_number(max, high, sizeof high);
  snprintf(want, sizeof want, "a number from %s to %s", low, high);
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_number) return throw_with(env, 0, fn, arg, want, value);
  napi_get_value_double(env, value, out);
  if (!(*out >= min && *out <= max)) return throw_with(env, 1, fn, arg, want, value); /* NaN fails too */
  return 1;
}

int arca_arg_integer(napi_env env, napi_value value, const char *fn, const char *arg, double min, double max,
                     double *out) {
  char want[120];
  napi_valuetype type;
  char low[32], high[32];
  format_number(min, low, sizeof low);
  format_number(max, high, sizeof high);
  snprintf(want, sizeof want, "an integer from %s to %s", low, high);
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_number) return throw_with(env, 0, fn, arg, want, value);
  napi_get_value_double(env, value, out);
  if (!(*out >= min && *out <= max) || trunc(*out) != *out) return throw_with(env, 1, fn, arg, want, value);
  return 1;
}

int arca_arg_index(napi_env env, napi_value value, const char *fn, const char *arg, size_t max, size_t *out) {
  double x;
  if (!arca_arg_integer(env, value, fn, arg, 0, (double)max, &x)) return 0;
  *out = (size_t)x;
  return 1;
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
