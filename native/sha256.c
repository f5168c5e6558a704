/*
 * SHA-256 of bytes given in pieces, as a hex string: a listed Kubernetes object is a short
 * prefix (kind, apiVersion) and its bytes in the page, and joining them to hash them held a
 * second copy of every page. A Hash object per item from node:crypto cost more than the copy.
 * The digest is OpenSSL's, from inside Node.js; each thread keeps its own context.
 */
#include <node_api.h>
#include <openssl/evp.h>
#include <pthread.h>

#include "arca.h"

static pthread_key_t context_key;
static pthread_once_t context_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256;

static void free_context(void *p) { EVP_MD_CTX_free(p); }

static void init_once(void) {
  pthread_key_create(&context_key, free_context);
  sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static EVP_MD_CTX *context(void) {
  pthread_once(&context_once, init_once);
  if (!sha256) return NULL;
  EVP_MD_CTX *c = pthread_getspecific(context_key);
  if (!c && (c = EVP_MD_CTX_new())) pthread_setspecific(context_key, c);
  return c;
}

/* sha256Hex(...pieces: Uint8Array[]): string, the digest of the pieces joined */
static napi_value Sha256Hex(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value args[4], result;
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  if (argc > 4) { /* argc is now the count given, which args may not hold */
    napi_throw_type_error(env, NULL, "sha256Hex(...pieces: Uint8Array[]) takes up to 4 pieces");
    return NULL;
  }
  EVP_MD_CTX *c = context();
  if (!c || !EVP_DigestInit_ex2(c, sha256, NULL)) {
    napi_throw_error(env, NULL, "sha256Hex: OpenSSL could not provide SHA-256");
    return NULL;
  }
  for (size_t i = 0; i < argc; i++) {
    uint8_t *data;
    size_t len;
    static const char *names[] = {"piece 1", "piece 2", "piece 3", "piece 4"};
    if (!arca_arg_bytes(env, args[i], "sha256Hex", names[i], 0, &data, &len)) return NULL;
    if (!EVP_DigestUpdate(c, data, len)) {
      napi_throw_error(env, NULL, "sha256Hex: OpenSSL failed to hash");
      return NULL;
    }
  }
  uint8_t digest[32];
  unsigned int n = 0;
  if (!EVP_DigestFinal_ex(c, digest, &n) || n != 32) {
    napi_throw_error(env, NULL, "sha256Hex: OpenSSL failed to finish the digest");
    return NULL;
  }
  static const char hex[] = "0123456789abcdef";
  char out[64];
  for (int i = 0; i < 32; i++) {
    out[2 * i] = hex[digest[i] >> 4];
    out[2 * i + 1] = hex[digest[i] & 15];
  }
  napi_create_string_latin1(env, out, 64, &result);
  return result;
}

void register_sha256(napi_env env, napi_value exports) {
  arca_export(env, exports, "sha256Hex", Sha256Hex);
}
