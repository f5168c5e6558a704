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

/*
 * The work has its own copies of everything it reads and writes: JavaScript runs while it is on
 * the pool, and could transfer, detach, shrink or change the caller's buffers (structuredClone
 * with a transfer list, postMessage, a resizable ArrayBuffer, WebAssembly memory that grows). A
 * reference keeps an ArrayBuffer object alive, not its memory. The sealed blobs and results are
 * copied back when the work is done, if `out` and `results` still have room: 0.08 ms of the main
 * thread for a 512 KiB batch of 2 KiB objects, which takes 1.1 ms to compress and seal.
 */
typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref out_ref, results_ref; /* where the results go back to */
  uint8_t key[KEY_SIZE];
  size_t count;
  int level;       /* 0: store as given */
  size_t min_len;  /* smaller blobs are stored as given */
  double max_kept; /* the compressed form is kept if at most this fraction of the plain */
  /* one allocation: lengths, then results (per blob: sealed length, uncompressed length or -1), input, output */
  uint32_t *lengths;
  int32_t *results;
  uint8_t *in, *out;
  size_t out_len, written, block_size;
  const char *failure;
} batch_t;

/*
 * Blocks of finished batches, kept for the next ones: the CLI's allocator maps a block this large
 * anew each time (native/memory.c), and its page faults cost the main thread four times the copy.
 */
#define SPARES 4
static pthread_mutex_t spares_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
  uint8_t *block;
  size_t size;
} spares[SPARES];

/* A block of at least `size` bytes (*got: its size); NULL if out of memory. */
static uint8_t *block_get(size_t size, size_t *got) {
  uint8_t *block = NULL;
  pthread_mutex_lock(&spares_lock);
  for (int i = 0; i < SPARES && !block; i++) {
    if (spares[i].block && spares[i].size >= size) {
      block = spares[i].block;
      *got = spares[i].size;
      spares[i].block = NULL;
    }
  }
  pthread_mutex_unlock(&spares_lock);
  if (!block && (block = malloc(size))) *got = size;
  return block;
}

/* Keeps the block in place of an empty or smaller spare, or frees it. */
static void block_put(uint8_t *block, size_t size) {
  int slot = -1;
  pthread_mutex_lock(&spares_lock);
  for (int i = 0; i < SPARES; i++) {
    if (!spares[i].block) {
      slot = i;
      break;
    }
    if (spares[i].size < size && (slot < 0 || spares[i].size < spares[slot].size)) slot = i;
  }
  uint8_t *evicted = NULL;
  if (slot >= 0) {
    evicted = spares[slot].block;
    spares[slot].block = block;
    spares[slot].size = size;
  } else {
    evicted = block;
  }
  pthread_mutex_unlock(&spares_lock);
  free(evicted);
}

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
  b->written = at;
}

/* The referenced typed array's memory, if it is still attached, of `type` and at least `need` elements. */
static void *still_there(napi_env env, napi_ref ref, napi_typedarray_type type, size_t need) {
  napi_value value, buffer;
  napi_typedarray_type actual;
  size_t len;
  void *data;
  bool detached = true;
  if (napi_get_reference_value(env, ref, &value) != napi_ok || !value ||
      napi_get_typedarray_info(env, value, &actual, &len, &data, &buffer, NULL) != napi_ok ||
      napi_is_detached_arraybuffer(env, buffer, &detached) != napi_ok || detached || actual != type || len < need)
    return NULL;
  return data;
}

static void complete(napi_env env, napi_status status, void *data) {
  batch_t *b = data;
  const char *failure = status != napi_ok ? "the work was cancelled" : b->failure;
  const char *code = NULL;
  if (!failure) {
    uint8_t *out = still_there(env, b->out_ref, napi_uint8_array, b->written);
    int32_t *results = still_there(env, b->results_ref, napi_int32_array, 2 * b->count);
    if (out && results) {
      memcpy(out, b->out, b->written);
      memcpy(results, b->results, 2 * b->count * sizeof(int32_t));
    } else {
      failure = "out or results was detached (transferred) or shrunk while the batch was sealing; nothing was written";
      code = "ERR_INVALID_STATE";
    }
  }
  napi_value result;
  if (!failure) {
    napi_get_undefined(env, &result);
    napi_resolve_deferred(env, b->deferred, result);
  } else {
    napi_value message, code_value = NULL;
    char text[240];
    snprintf(text, sizeof text, "sealBatch: sealing %zu blobs: %s", b->count, failure);
    napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &message);
    if (code) napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &code_value);
    napi_create_error(env, code_value, message, &result);
    napi_reject_deferred(env, b->deferred, result);
  }
  napi_delete_reference(env, b->out_ref);
  napi_delete_reference(env, b->results_ref);
  napi_delete_async_work(env, b->work);
  block_put((uint8_t *)b->lengths, b->block_size);
  free(b);
}

/*
 * sealBatch(key: 64 bytes, input: the blobs back to back, lengths: Uint32Array, level: integer
 * (0: no compression), minLength: integer, maxKept: number from 0 to 1, out: Uint8Array,
 * results: Int32Array(2 × count)): Promise<void>. The sealed blobs land back to back in `out`,
 * which needs the input's length plus 32 per blob, when the promise resolves.
 */
static napi_value SealBatch(napi_env env, napi_callback_info info) {
  static const char *fn = "sealBatch";
  size_t argc = 8, key_len, in_len, count, out_len, results_len;
  napi_value args[8], promise, name;
  uint8_t *key, *in, *out;
  uint32_t *lengths;
  int32_t *results;
  double level, min_len, max_kept;
  char message[200];
  napi_get_cb_info(env, info, &argc, args, NULL, NULL); /* missing ones read as undefined */
  if (!arca_arg_bytes(env, args[0], fn, "key", KEY_SIZE, &key, &key_len) ||
      !arca_arg_bytes(env, args[1], fn, "input", 0, &in, &in_len) ||
      !arca_arg_typed(env, args[2], fn, "lengths", napi_uint32_array, (void **)&lengths, &count) ||
      !arca_arg_integer(env, args[3], fn, "level", ZSTD_minCLevel(), ZSTD_maxCLevel(), &level) ||
      !arca_arg_integer(env, args[4], fn, "minLength", 0, 9007199254740991.0, &min_len) ||
      !arca_arg_number(env, args[5], fn, "maxKept", 0, 1, &max_kept) ||
      !arca_arg_bytes(env, args[6], fn, "out", 0, &out, &out_len) ||
      !arca_arg_typed(env, args[7], fn, "results", napi_int32_array, (void **)&results, &results_len))
    return NULL;
  if (results_len != 2 * count) {
    snprintf(message, sizeof message, "results must have 2 entries per blob, %zu (got %zu)", 2 * count, results_len);
    arca_throw_range(env, fn, message);
    return NULL;
  }
  size_t total = 0;
  for (size_t i = 0; i < count; i++) {
    if (lengths[i] > INT32_MAX - OVERHEAD) { /* results hold sealed lengths as int32 */
      snprintf(message, sizeof message, "lengths[%zu] must be at most %d (got %u)", i, INT32_MAX - OVERHEAD, lengths[i]);
      arca_throw_range(env, fn, message);
      return NULL;
    }
    total += lengths[i];
  }
  if (total != in_len) {
    snprintf(message, sizeof message, "lengths add up to %zu, and input has %zu bytes", total, in_len);
    arca_throw_range(env, fn, message);
    return NULL;
  }
  const size_t need = in_len + OVERHEAD * count;
  if (out_len < need) {
    snprintf(message, sizeof message, "out must have at least %zu bytes for these blobs (got %zu)", need, out_len);
    arca_throw_range(env, fn, message);
    return NULL;
  }
  batch_t *b = calloc(1, sizeof *b);
  uint8_t *block = b ? block_get(count * 3 * sizeof(uint32_t) + in_len + need + 1, &b->block_size) : NULL;
  if (!block) {
    free(b);
    napi_throw_error(env, NULL, "sealBatch: out of memory");
    return NULL;
  }
  memcpy(b->key, key, KEY_SIZE);
  b->count = count;
  b->level = (int)level;
  b->min_len = (size_t)min_len;
  b->max_kept = max_kept;
  b->lengths = (uint32_t *)block;
  b->results = (int32_t *)(block + count * sizeof(uint32_t));
  b->in = block + count * 3 * sizeof(uint32_t);
  b->out = b->in + in_len;
  b->out_len = need;
  memcpy(b->lengths, lengths, count * sizeof(uint32_t));
  memcpy(b->in, in, in_len);
  napi_create_reference(env, args[6], 1, &b->out_ref);
  napi_create_reference(env, args[7], 1, &b->results_ref);
  napi_create_promise(env, &b->deferred, &promise);
  napi_create_string_utf8(env, "arca:sealBatch", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, execute, complete, b, &b->work);
  napi_queue_async_work(env, b->work);
  return promise;
}

void register_seal_batch(napi_env env, napi_value exports) { arca_export(env, exports, "sealBatch", SealBatch); }
