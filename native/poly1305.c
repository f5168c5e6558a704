/*
 * Poly1305 for Arca's restic-format crypto, as a tiny Node-API addon: the JavaScript
 * implementation ran at about 200 MB/s and bounded every backup and restore.
 *
 * 44/44/42-bit limbs with 128-bit products (the "donna" layout of RFC 8439 implementations);
 * checked against @noble/ciphers on random inputs by test/repo/poly1305.test.ts.
 */
#include <node_api.h>
#include <stdint.h>
#include <string.h>

#include "arca.h"

typedef unsigned __int128 u128;

#define MASK44 0xfffffffffffULL
#define MASK42 0x3ffffffffffULL

static uint64_t le64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, 8); /* x86-64 and arm64 are little-endian */
  return v;
}

void arca_poly1305(uint8_t out[16], const uint8_t *m, size_t len, const uint8_t key[32]) {
  uint64_t t0 = le64(key), t1 = le64(key + 8);
  /* r, clamped as the RFC requires, split into limbs */
  const uint64_t r0 = t0 & 0xffc0fffffffULL;
  const uint64_t r1 = ((t0 >> 44) | (t1 << 20)) & 0xfffffc0ffffULL;
  const uint64_t r2 = (t1 >> 24) & 0x00ffffffc0fULL;
  const uint64_t s1 = r1 * (5 << 2), s2 = r2 * (5 << 2);
  uint64_t h0 = 0, h1 = 0, h2 = 0, c;
  uint8_t last[16];

  while (len > 0) {
    const uint8_t *p = m;
    uint64_t hibit = (uint64_t)1 << 40; /* 2^128, in the top limb */
    if (len >= 16) {
      m += 16;
      len -= 16;
    } else {
      memset(last, 0, sizeof last);
      memcpy(last, m, len);
      last[len] = 1;
      p = last;
      hibit = 0;
      len = 0;
    }
    t0 = le64(p);
    t1 = le64(p + 8);
    h0 += t0 & MASK44;
    h1 += ((t0 >> 44) | (t1 << 20)) & MASK44;
    h2 += ((t1 >> 24) & MASK42) | hibit;

    u128 d0 = (u128)h0 * r0 + (u128)h1 * s2 + (u128)h2 * s1;
    u128 d1 = (u128)h0 * r1 + (u128)h1 * r0 + (u128)h2 * s2;
    u128 d2 = (u128)h0 * r2 + (u128)h1 * r1 + (u128)h2 * r0;
    c = (uint64_t)(d0 >> 44);
    h0 = (uint64_t)d0 & MASK44;
    d1 += c;
    c = (uint64_t)(d1 >> 44);
    h1 = (uint64_t)d1 & MASK44;
    d2 += c;
    c = (uint64_t)(d2 >> 42);
    h2 = (uint64_t)d2 & MASK42;
    h0 += c * 5;
    c = h0 >> 44;
    h0 &= MASK44;
    h1 += c;
  }

  /* carry through fully */
  c = h1 >> 44; h1 &= MASK44;
  h2 += c; c = h2 >> 42; h2 &= MASK42;
  h0 += c * 5; c = h0 >> 44; h0 &= MASK44;
  h1 += c; c = h1 >> 44; h1 &= MASK44;
  h2 += c; c = h2 >> 42; h2 &= MASK42;
  h0 += c * 5; c = h0 >> 44; h0 &= MASK44;
  h1 += c;

  /* g = h - p; keep g if h >= p, in constant time */
  uint64_t g0 = h0 + 5; c = g0 >> 44; g0 &= MASK44;
  uint64_t g1 = h1 + c; c = g1 >> 44; g1 &= MASK44;
  uint64_t g2 = h2 + c - ((uint64_t)1 << 42);
  c = (g2 >> 63) - 1; /* all ones when g2 did not go negative */
  g0 &= c; g1 &= c; g2 &= c;
  c = ~c;
  h0 = (h0 & c) | g0;
  h1 = (h1 & c) | g1;
  h2 = (h2 & c) | g2;

  /* tag = (h + s) mod 2^128 */
  t0 = le64(key + 16);
  t1 = le64(key + 24);
  h0 += t0 & MASK44; c = h0 >> 44; h0 &= MASK44;
  h1 += (((t0 >> 44) | (t1 << 20)) & MASK44) + c; c = h1 >> 44; h1 &= MASK44;
  h2 += ((t1 >> 24) & MASK42) + c; h2 &= MASK42;
  uint64_t lo = h0 | (h1 << 44);
  uint64_t hi = (h1 >> 20) | (h2 << 24);
  memcpy(out, &lo, 8);
  memcpy(out + 8, &hi, 8);
}

/* poly1305(message: Uint8Array, key: Uint8Array(32)): Buffer(16) */
static napi_value Poly1305(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2], result;
  uint8_t *msg, *key, tag[16];
  size_t msg_len, key_len;
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  if (!arca_arg_bytes(env, args[0], "poly1305", "message", 0, &msg, &msg_len) ||
      !arca_arg_bytes(env, args[1], "poly1305", "key", 32, &key, &key_len))
    return NULL;
  arca_poly1305(tag, msg, msg_len, key);
  napi_create_buffer_copy(env, 16, tag, NULL, &result);
  return result;
}

void register_poly1305(napi_env env, napi_value exports) {
  arca_export(env, exports, "poly1305", Poly1305);
}
