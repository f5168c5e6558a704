/*
 * restic's authenticated encryption in one call per blob:
 *   sealed = IV (16) || AES-256-CTR(encKey, IV, plain) || Poly1305-AES_{k,r}(IV, ciphertext) (16)
 * In JavaScript, createCipheriv, randomBytes and the buffers between them cost about 20 µs
 * per blob, more than the work itself for the 1-3 KiB objects of a resource backup.
 *
 * AES and the random IVs come from the OpenSSL inside Node.js, which exports its symbols to
 * addons. Each thread (the main one and every blob worker) keeps its own cipher contexts.
 */
#include <node_api.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca.h"

#define KEY_SIZE 64 /* encryption key (32) || MAC k (16) || MAC r (16) */
#define IV_SIZE 16
#define MAC_SIZE 16
#define OVERHEAD (IV_SIZE + MAC_SIZE)

typedef struct {
  EVP_CIPHER_CTX *ctr, *ecb;
  uint8_t ctr_key[32], ecb_key[16];
  int ctr_keyed, ecb_keyed;
} contexts_t;

static pthread_key_t contexts_key;
static pthread_once_t contexts_once = PTHREAD_ONCE_INIT;
static EVP_CIPHER *aes256ctr, *aes128ecb;

static void free_contexts(void *p) {
  contexts_t *c = p;
  EVP_CIPHER_CTX_free(c->ctr);
  EVP_CIPHER_CTX_free(c->ecb);
  free(c);
}

static void init_once(void) {
  pthread_key_create(&contexts_key, free_contexts);
  aes256ctr = EVP_CIPHER_fetch(NULL, "AES-256-CTR", NULL);
  aes128ecb = EVP_CIPHER_fetch(NULL, "AES-128-ECB", NULL);
}

/* This thread's contexts; NULL if OpenSSL could not make them. */
static contexts_t *contexts(void) {
  pthread_once(&contexts_once, init_once);
  if (!aes256ctr || !aes128ecb) return NULL;
  contexts_t *c = pthread_getspecific(contexts_key);
  if (c) return c;
  c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->ctr = EVP_CIPHER_CTX_new();
  c->ecb = EVP_CIPHER_CTX_new();
  if (!c->ctr || !c->ecb) {
    free_contexts(c);
    return NULL;
  }
  pthread_setspecific(contexts_key, c);
  return c;
}

/* AES-256-CTR from `iv`; the key schedule is kept while the key stays the same. */
static int ctr(contexts_t *c, const uint8_t key[32], const uint8_t iv[16], const uint8_t *in, size_t n, uint8_t *out) {
  const int same = c->ctr_keyed && memcmp(c->ctr_key, key, 32) == 0;
  if (!EVP_EncryptInit_ex2(c->ctr, same ? NULL : aes256ctr, same ? NULL : key, iv, NULL)) return 0;
  memcpy(c->ctr_key, key, 32);
  c->ctr_keyed = 1;
  while (n > 0) {
    const int piece = n > (1 << 30) ? (1 << 30) : (int)n;
    int written;
    if (!EVP_EncryptUpdate(c->ctr, out, &written, in, piece)) return 0;
    in += piece;
    out += piece;
    n -= piece;
  }
  return 1;
}

/* Poly1305-AES: the one-time key is r || AES-128_k(IV). */
static int mac(contexts_t *c, const uint8_t *key, const uint8_t iv[16], const uint8_t *data, size_t n, uint8_t tag[16]) {
  uint8_t poly_key[32];
  int written;
  const uint8_t *k = key + 32, *r = key + 48;
  if (!c->ecb_keyed || memcmp(c->ecb_key, k, 16) != 0) {
    if (!EVP_EncryptInit_ex2(c->ecb, aes128ecb, k, NULL, NULL)) return 0;
    EVP_CIPHER_CTX_set_padding(c->ecb, 0);
    memcpy(c->ecb_key, k, 16);
    c->ecb_keyed = 1;
  }
  memcpy(poly_key, r, 16);
  if (!EVP_EncryptUpdate(c->ecb, poly_key + 16, &written, iv, 16) || written != 16) return 0;
  arca_poly1305(tag, data, n, poly_key);
  return 1;
}

/* The arguments of seal and open: key, input, output, offset into the output; 0 after throwing. */
static int arguments(napi_env env, napi_callback_info info, const char *fn, const char *input, uint8_t **key,
                     uint8_t **in, size_t *in_len, uint8_t **out, size_t *out_len, size_t *offset) {
  size_t argc = 4, key_len;
  napi_value args[4];
  napi_get_cb_info(env, info, &argc, args, NULL, NULL); /* missing ones read as undefined */
  return arca_arg_bytes(env, args[0], fn, "key", KEY_SIZE, key, &key_len) &&
         arca_arg_bytes(env, args[1], fn, input, 0, in, in_len) && arca_arg_bytes(env, args[2], fn, "out", 0, out, out_len) &&
         arca_arg_index(env, args[3], fn, "offset", *out_len, offset);
}

/* RangeError unless out has `need` bytes from offset (offset <= out_len was checked). */
static int room(napi_env env, const char *fn, size_t out_len, size_t offset, size_t need) {
  char message[200];
  if (out_len - offset >= need) return 1;
  snprintf(message, sizeof message, "out has no room from offset %zu: %zu bytes left, and the result needs %zu", offset,
           out_len - offset, need);
  return arca_throw_range(env, fn, message);
}

static contexts_t *contexts_or_throw(napi_env env) {
  contexts_t *c = contexts();
  if (!c) napi_throw_error(env, NULL, "OpenSSL could not provide AES (out of memory?)");
  return c;
}

int arca_seal(const uint8_t key[64], const uint8_t *plain, size_t n, uint8_t *out) {
  contexts_t *c = contexts();
  uint8_t *body = out + IV_SIZE;
  return c && RAND_bytes(out, IV_SIZE) == 1 && ctr(c, key, out, plain, n, body) && mac(c, key, out, body, n, body + n);
}

/* seal(key: 64 bytes, plain, out, offset): the sealed length, plain's length + 32. */
static napi_value Seal(napi_env env, napi_callback_info info) {
  uint8_t *key, *plain, *out;
  size_t plain_len, out_len, offset;
  napi_value result;
  if (!arguments(env, info, "seal", "plain", &key, &plain, &plain_len, &out, &out_len, &offset) ||
      !room(env, "seal", out_len, offset, plain_len + OVERHEAD))
    return NULL;
  if (!contexts_or_throw(env)) return NULL;
  if (!arca_seal(key, plain, plain_len, out + offset)) {
    napi_throw_error(env, NULL, "seal: OpenSSL failed to encrypt");
    return NULL;
  }
  napi_create_double(env, (double)(plain_len + OVERHEAD), &result);
  return result;
}

/* open(key: 64 bytes, sealed, out, offset): false if the MAC does not match (nothing written). */
static napi_value Open(napi_env env, napi_callback_info info) {
  uint8_t *key, *sealed, *out, tag[MAC_SIZE];
  size_t sealed_len, out_len, offset;
  napi_value result;
  if (!arguments(env, info, "open", "sealed", &key, &sealed, &sealed_len, &out, &out_len, &offset)) return NULL;
  if (sealed_len < OVERHEAD) {
    char message[120];
    snprintf(message, sizeof message, "sealed must be at least %d bytes (got %zu)", OVERHEAD, sealed_len);
    arca_throw_range(env, "open", message);
    return NULL;
  }
  if (!room(env, "open", out_len, offset, sealed_len - OVERHEAD)) return NULL;
  contexts_t *c = contexts_or_throw(env);
  if (!c) return NULL;
  const size_t n = sealed_len - OVERHEAD;
  const uint8_t *iv = sealed, *body = sealed + IV_SIZE;
  if (!mac(c, key, iv, body, n, tag)) {
    napi_throw_error(env, NULL, "open: OpenSSL failed to compute the MAC");
    return NULL;
  }
  const int authentic = CRYPTO_memcmp(tag, body + n, MAC_SIZE) == 0;
  if (authentic && !ctr(c, key, iv, body, n, out + offset)) {
    napi_throw_error(env, NULL, "open: OpenSSL failed to decrypt");
    return NULL;
  }
  napi_get_boolean(env, authentic, &result);
  return result;
}

void register_seal(napi_env env, napi_value exports) {
  arca_export(env, exports, "seal", Seal);
  arca_export(env, exports, "open", Open);
}
