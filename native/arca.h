/* The parts of Arca's native addon; addon.c registers each one's functions on the exports. */
#ifndef ARCA_NATIVE_H
#define ARCA_NATIVE_H

#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

/* A typed array argument's elements and length; 0 if the value is not one of type `want`. */
int arca_typed(napi_env env, napi_value value, napi_typedarray_type want, void **data, size_t *len);
/* A Uint8Array (or Buffer) argument's bytes; 0 if the value is not one. */
int arca_bytes(napi_env env, napi_value value, uint8_t **data, size_t *len);
/* A path argument as a new NUL-terminated string (free it): a string, or a Uint8Array of the
 * bytes of a name that is not UTF-8; NULL, with a TypeError naming fn's path thrown, for anything else. */
char *arca_path_arg(napi_env env, napi_value value, const char *fn);
/* Throws a Node-style fs error (code, errno, syscall, path). */
void arca_throw_errno(napi_env env, int err, const char *syscall, const char *path);
/*
 * Checked arguments of exported functions: each returns 1, or 0 after throwing an error that names
 * the function and the argument, with Node's codes: a TypeError (ERR_INVALID_ARG_TYPE) for a value
 * of the wrong type or a detached buffer, a RangeError (ERR_OUT_OF_RANGE) for a bad number or size.
 */
/* A typed array of type `want`, attached; `len` is its element count. */
int arca_arg_typed(napi_env env, napi_value value, const char *fn, const char *arg, napi_typedarray_type want,
                   void **data, size_t *len);
/* A Uint8Array (or Buffer); with `size` nonzero, of exactly that many bytes. */
int arca_arg_bytes(napi_env env, napi_value value, const char *fn, const char *arg, size_t size, uint8_t **data,
                   size_t *len);
/* A number that is an integer from min to max (within ±2^53): no NaN, Infinity or fraction. */
int arca_arg_integer(napi_env env, napi_value value, const char *fn, const char *arg, double min, double max,
                     double *out);
/* An offset or length: an integer from 0 to max. */
int arca_arg_index(napi_env env, napi_value value, const char *fn, const char *arg, size_t max, size_t *out);
/* A finite number from min to max. */
int arca_arg_number(napi_env env, napi_value value, const char *fn, const char *arg, double min, double max,
                    double *out);
/* Throws a TypeError (ERR_INVALID_ARG_TYPE) "fn: arg must be want (got ...)"; returns 0. */
int arca_throw_type(napi_env env, napi_value value, const char *fn, const char *arg, const char *want);
/* Throws a RangeError (ERR_OUT_OF_RANGE) "fn: message"; returns 0. */
int arca_throw_range(napi_env env, const char *fn, const char *message);
/* exports[name] = a JavaScript function calling fn. */
void arca_export(napi_env env, napi_value exports, const char *name, napi_callback fn);
/* Poly1305 with the 32-byte one-time key r || s (r is clamped here). */
void arca_poly1305(uint8_t out[16], const uint8_t *m, size_t len, const uint8_t key[32]);

/* restic's sealing of n bytes into out (n + 32 bytes: IV, ciphertext, MAC); 0 if OpenSSL failed.
 * Safe on any thread: each keeps its own cipher contexts. */
int arca_seal(const uint8_t key[64], const uint8_t *plain, size_t n, uint8_t *out);

void register_poly1305(napi_env env, napi_value exports);
void register_xattr(napi_env env, napi_value exports);
void register_memory(napi_env env, napi_value exports);
void register_json_items(napi_env env, napi_value exports);
void register_fastcdc(napi_env env, napi_value exports);
void register_seal(napi_env env, napi_value exports);
void register_sha256(napi_env env, napi_value exports);
void register_seal_batch(napi_env env, napi_value exports);
void register_utimens(napi_env env, napi_value exports);

#endif
