/*
 * Small blobs compressed and sealed on a thread of libuv's pool, many per call: a first
 * backup of 100,000 Kubernetes objects spent about 1.4 s of its main thread in zstd and
 * AES/Poly1305 (11 µs and 2.5 µs per 2 KiB object), where it is the bottleneck. A worker
 * thread would do the same for another V8 heap's memory; this costs a context per thread.
 *
 * zstd is the copy that zstd-napi ships, built into this addon (binding.gyp).
 */
#include <node_api.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "arca.h"

#define KEY_SIZE 64
#define OVERHEAD 32

typedef struct {
  ZSTD_CCtx *cctx;
  uint8_t *scratch;
  size_t scratch_len;
} zstd_t;

static pthread_key_t zstd_key;
static pthread_once_t zstd_once = PTHREAD_ONCE_INIT;

static void free_zstd(void *p) {
  zstd_t *z = p;
  ZSTD_freeCCtx(z->cctx);
  free(z->scratch);
  free(z);
}

static void init_once(void) { pthread_key_create(&zstd_key, free_zstd); }

/* This thread's compression context, with a scratch of at least `need` bytes; NULL if out of memory. */
static zstd_t *thread_zstd(size_t need) {
  pthread_once(&zstd_once, init_once);
  zstd_t *z = pthread_getspecific(zstd_key);
  if (!z) {
    if (!(z = calloc(1, sizeof *z)) || !(z->cctx = ZSTD_createCCtx())) {
      free(z);
      return NULL;
    }
    pthread_setspecific(zstd_key, z);
  }
  if (z->scratch_len < need) {
    uint8_t *grown = realloc(z->scratch, need);
    if (!grown) return NULL;
    z->scratch = grown;
    z->scratch_len = need;
  }
  return z;
}

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref keep[5]; /* key, input, lengths, output, results: alive until the work is done */
  const uint8_t *key, *in;
  const uint32_t *lengths;
  size_t count;
  int level;       /* 0: store as given */
  size_t min_len;  /* smaller blobs are stored as given */
  double max_kept; /* the compressed form is kept if at most this fraction of the plain */
  uint8_t *out;
  size_t out_len;
  int32_t *results; /* per blob: sealed length, uncompressed length or -1 */
  const char *failure;
} batch_t;

static void execute(napi_env env, void *data) {
  (void)env;
  batch_t *b = data;
  const uint8_t *in = b->in;
  size_t at = 0;
  for (size_t i = 0; i < b->count; i++) {
    const size_t n = b->lengths[i];
    const uint8_t *plain = in;
    size_t plain_len = n;
    int compressed = 0;
    if (b->level != 0 && n >= b->min_len) {
      zstd_t *z = thread_zstd(ZSTD_compressBound(n));
      if (!z) {
        b->failure = "out of memory for zstd";
        return;
      }
      const size_t packed = ZSTD_compressCCtx(z->cctx, z->scratch, z->scratch_len, in, n, b->level);
      if (ZSTD_isError(packed)) {
        b->failure = ZSTD_getErrorName(packed);
        return;
      }
      if ((double)packed <= (double)n * b->max_kept) {
        plain = z->scratch;
        plain_len = packed;
        compressed = 1;
      }
    }
    if (at + plain_len + OVERHEAD > b->out_len) {
      b->failure = "the output has no room for the sealed blobs";
      return;
    }
    if (!arca_seal(b->key, plain, plain_len, b->out + at)) {
      b->failure = "OpenSSL failed to encrypt";
      return;
    }
    b->results[2 * i] = (int32_t)(plain_len + OVERHEAD);
    b->results[2 * i + 1] = compressed ? (int32_t)n : -1;
    at += plain_len + OVERHEAD;
    in += n;
  }
}

static void complete(napi_env env, napi_status status, void *data) {
  batch_t *b = data;
  napi_value result;
  if (status == napi_ok && !b->failure) {
    napi_get_undefined(env, &result);
    napi_resolve_deferred(env, b->deferred, result);
  } else {
    napi_value message;
    char text[200];
    snprintf(text, sizeof text, "sealing %zu blobs: %s", b->count, b->failure ? b->failure : "the work was cancelled");
    napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, NULL, message, &result);
    napi_reject_deferred(env, b->deferred, result);
  }
  for (int i = 0; i < 5; i++) napi_delete_reference(env, b->keep[i]);
  napi_delete_async_work(env, b->work);
  free(b);
}

/*
 * sealBatch(key: 64 bytes, input: the blobs back to back, lengths: Uint32Array, level: number
 * (0: no compression), minLength: number, maxKept: number, out: Uint8Array, results:
 * Int32Array(2 × count)): Promise<void>. The sealed blobs land back to back in `out`, which needs the input's length
 * plus 32 per blob; none of the arrays may change until the promise settles.
 */
static napi_value SealBatch(napi_env env, napi_callback_info info) {
  size_t argc = 8, key_len, in_len, results_len;
  napi_value args[8], promise, name;
  uint32_t *lengths;
  int32_t *results;
  double level, min_len, max_kept;
  batch_t *b = calloc(1, sizeof *b);
  const char *usage =
      "sealBatch(key: 64-byte Uint8Array, input: Uint8Array, lengths: Uint32Array, level: number, minLength: number, "
      "maxKept: number, out: Uint8Array, results: Int32Array)";
  if (!b) {
    napi_throw_error(env, NULL, "sealBatch: out of memory");
    return NULL;
  }
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  if (argc != 8 || !arca_bytes(env, args[0], (uint8_t **)&b->key, &key_len) || key_len != KEY_SIZE ||
      !arca_bytes(env, args[1], (uint8_t **)&b->in, &in_len) ||
      !arca_typed(env, args[2], napi_uint32_array, (void **)&lengths, &b->count) ||
      napi_get_value_double(env, args[3], &level) != napi_ok || napi_get_value_double(env, args[4], &min_len) != napi_ok ||
      napi_get_value_double(env, args[5], &max_kept) != napi_ok || min_len < 0 ||
      !arca_bytes(env, args[6], &b->out, &b->out_len) ||
      !arca_typed(env, args[7], napi_int32_array, (void **)&results, &results_len) || results_len != 2 * b->count) {
    free(b);
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  size_t total = 0;
  for (size_t i = 0; i < b->count; i++) total += lengths[i];
  if (total != in_len || in_len + OVERHEAD * b->count > b->out_len) {
    free(b);
    napi_throw_range_error(env, NULL, "sealBatch: the lengths do not add up to the input, or the output is too small");
    return NULL;
  }
  b->lengths = lengths;
  b->results = results;
  b->level = (int)level;
  b->min_len = (size_t)min_len;
  b->max_kept = max_kept;
  const int keep[5] = {0, 1, 2, 6, 7};
  for (int i = 0; i < 5; i++) napi_create_reference(env, args[keep[i]], 1, &b->keep[i]);
  napi_create_promise(env, &b->deferred, &promise);
  napi_create_string_utf8(env, "arca:sealBatch", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, execute, complete, b, &b->work);
  napi_queue_async_work(env, b->work);
  return promise;
}

void register_seal_batch(napi_env env, napi_value exports) { arca_export(env, exports, "sealBatch", SealBatch); }
