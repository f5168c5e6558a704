/*
 * Where each item of a Kubernetes LIST response starts and ends, and where its apiVersion,
 * kind and metadata name, namespace and labels are: the resource backup stores each object's
 * bytes as served and parses only those few members. Walking every byte of a page in
 * JavaScript cost as much CPU as the API server spent serving it; here it costs a tenth.
 *
 * scanList(body: Uint8Array): Int32Array | null
 *   [0, 1]   the list's own metadata value (continue token, resourceVersion), or -1, -1
 *   [2]      the number of items
 *   then per item ITEM_WIDTH ints, [start, end) pairs or -1, -1 when absent:
 *            item, apiVersion, kind, metadata.name, metadata.namespace, metadata.labels
 * null when the body is not a JSON object with an "items" array of objects (the caller then
 * parses it whole, which names what is wrong).
 */
#include "arca.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ITEM_WIDTH 12
enum { F_ITEM = 0, F_API_VERSION = 2, F_KIND = 4, F_NAME = 6, F_NAMESPACE = 8, F_LABELS = 10 };

typedef struct {
  const uint8_t *b;
  long n;
  int32_t *out;
  long len, cap;
  int saw_items;
} scan_t;

static long skip_space(const scan_t *s, long i) {
  while (i < s->n && (s->b[i] == ' ' || s->b[i] == '\n' || s->b[i] == '\r' || s->b[i] == '\t')) i++;
  return i;
}

/* i at the opening quote; returns the index just past the closing one, or -1. */
static long skip_string(const scan_t *s, long i) {
  for (i++; i < s->n; i++) {
    const uint8_t *q = memchr(s->b + i, '"', (size_t)(s->n - i));
    if (!q) return -1;
    long at = q - s->b, backslashes = 0;
    while (at - 1 - backslashes >= i && s->b[at - 1 - backslashes] == '\\') backslashes++;
    if (backslashes % 2 == 0) return at + 1;
    i = at;
  }
  return -1;
}

static long skip_value(const scan_t *s, long i) {
  if (i >= s->n) return -1;
  uint8_t first = s->b[i];
  if (first == '"') return skip_string(s, i);
  if (first != '{' && first != '[') {
    while (i < s->n && s->b[i] != ',' && s->b[i] != '}' && s->b[i] != ']' && s->b[i] != ' ' &&
           s->b[i] != '\n' && s->b[i] != '\r' && s->b[i] != '\t')
      i++;
    return i < s->n ? i : -1;
  }
  long depth = 0;
  for (; i < s->n; i++) {
    uint8_t c = s->b[i];
    if (c == '"') {
      i = skip_string(s, i) - 1;
      if (i < 0) return -1;
    } else if (c == '{' || c == '[') depth++;
    else if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
    }
  }
  return -1;
}

static int key_is(const scan_t *s, long start, long end, const char *quoted) {
  size_t len = strlen(quoted);
  return (size_t)(end - start) == len && memcmp(s->b + start, quoted, len) == 0;
}

/* What to do with each member of an object: record its span (or not) and return the index
 * just past its value, or -1. */
typedef long (*member_fn)(scan_t *s, long key_start, long key_end, long value, int32_t *spans);

static long walk_object(scan_t *s, long i, member_fn member, int32_t *spans) {
  if (i >= s->n || s->b[i] != '{') return -1;
  i = skip_space(s, i + 1);
  if (i < s->n && s->b[i] == '}') return i + 1;
  for (;;) {
    if (i >= s->n || s->b[i] != '"') return -1;
    long key_start = i, key_end = skip_string(s, i);
    if (key_end < 0) return -1;
    i = skip_space(s, key_end);
    if (i >= s->n || s->b[i] != ':') return -1;
    i = member(s, key_start, key_end, skip_space(s, i + 1), spans);
    if (i < 0) return -1;
    i = skip_space(s, i);
    if (i >= s->n) return -1;
    if (s->b[i] == '}') return i + 1;
    if (s->b[i] != ',') return -1;
    i = skip_space(s, i + 1);
  }
}

static void set_span(int32_t *spans, int field, long start, long end) {
  spans[field] = (int32_t)start;
  spans[field + 1] = (int32_t)end;
}

static long metadata_member(scan_t *s, long k0, long k1, long value, int32_t *spans) {
  long after = skip_value(s, value);
  if (after < 0) return -1;
  if (key_is(s, k0, k1, "\"name\"")) set_span(spans, F_NAME, value, after);
  else if (key_is(s, k0, k1, "\"namespace\"")) set_span(spans, F_NAMESPACE, value, after);
  else if (key_is(s, k0, k1, "\"labels\"")) set_span(spans, F_LABELS, value, after);
  return after;
}

static long item_member(scan_t *s, long k0, long k1, long value, int32_t *spans) {
  if (key_is(s, k0, k1, "\"metadata\"")) return walk_object(s, value, metadata_member, spans);
  long after = skip_value(s, value);
  if (after < 0) return -1;
  if (key_is(s, k0, k1, "\"apiVersion\"")) set_span(spans, F_API_VERSION, value, after);
  else if (key_is(s, k0, k1, "\"kind\"")) set_span(spans, F_KIND, value, after);
  return after;
}

static int32_t *next_item(scan_t *s) {
  if (s->len + ITEM_WIDTH > s->cap) {
    long cap = s->cap * 2;
    int32_t *grown = realloc(s->out, (size_t)cap * sizeof(int32_t));
    if (!grown) return NULL;
    s->out = grown;
    s->cap = cap;
  }
  int32_t *spans = s->out + s->len;
  for (int k = 0; k < ITEM_WIDTH; k++) spans[k] = -1;
  s->len += ITEM_WIDTH;
  s->out[2]++;
  return spans;
}

static long scan_items(scan_t *s, long i) {
  if (i + 4 <= s->n && memcmp(s->b + i, "null", 4) == 0) return i + 4;
  if (i >= s->n || s->b[i] != '[') return -1;
  i = skip_space(s, i + 1);
  if (i < s->n && s->b[i] == ']') return i + 1;
  for (;;) {
    int32_t *spans = next_item(s);
    if (!spans) return -1;
    long start = i;
    i = walk_object(s, i, item_member, spans);
    if (i < 0) return -1;
    /* next_item may have moved the buffer; the spans of this item are the last ones. */
    set_span(s->out + s->len - ITEM_WIDTH, F_ITEM, start, i);
    i = skip_space(s, i);
    if (i >= s->n) return -1;
    if (s->b[i] == ']') return i + 1;
    if (s->b[i] != ',') return -1;
    i = skip_space(s, i + 1);
  }
}

static long list_member(scan_t *s, long k0, long k1, long value, int32_t *spans) {
  (void)spans;
  if (key_is(s, k0, k1, "\"items\"")) {
    s->saw_items = 1;
    return scan_items(s, value);
  }
  long after = skip_value(s, value);
  if (after >= 0 && key_is(s, k0, k1, "\"metadata\"")) set_span(s->out, 0, value, after);
  return after;
}

static napi_value ScanList(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg, result;
  napi_get_cb_info(env, info, &argc, &arg, NULL, NULL);
  uint8_t *data;
  size_t length;
  if (!arca_arg_bytes(env, arg, "scanList", "body", 0, &data, &length)) return NULL;
  if (length > INT32_MAX) {
    arca_throw_range(env, "scanList", "body must be less than 2 GiB");
    return NULL;
  }
  scan_t s = {data, (long)length, malloc(64 * sizeof(int32_t)), 3, 64, 0};
  if (!s.out) {
    napi_throw_error(env, NULL, "scanList: out of memory");
    return NULL;
  }
  s.out[0] = s.out[1] = -1;
  s.out[2] = 0;
  long end = walk_object(&s, skip_space(&s, 0), list_member, NULL);
  if (end < 0 || !s.saw_items || skip_space(&s, end) != s.n) {
    free(s.out);
    napi_get_null(env, &result);
    return result;
  }
  napi_value buffer;
  void *copy;
  napi_create_arraybuffer(env, (size_t)s.len * sizeof(int32_t), &copy, &buffer);
  memcpy(copy, s.out, (size_t)s.len * sizeof(int32_t));
  free(s.out);
  napi_create_typedarray(env, napi_int32_array, (size_t)s.len, buffer, 0, &result);
  return result;
}

void register_json_items(napi_env env, napi_value exports) {
  arca_export(env, exports, "scanList", ScanList);
}
