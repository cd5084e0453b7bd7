/* Helpers for the crypto tests: hex decoding and a HAL with a random source. */
#ifndef TEST_CRYPTO_UTIL_H
#define TEST_CRYPTO_UTIL_H

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iotkit/iotkit.h"

/* Decode hex text into a malloc'd buffer (at least 1 byte, so never NULL); *len gets the size. */
static inline uint8_t *hex(const char *s, size_t *len) {
  size_t n = strlen(s) / 2;
  uint8_t *b = malloc(n ? n : 1);
  cr_assert_not_null(b);
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    cr_assert_eq(sscanf(s + 2 * i, "%2x", &v), 1);
    b[i] = (uint8_t)v;
  }
  if (len) *len = n;
  return b;
}

/* Assert that buf (n bytes) equals the hex text. */
static inline void assert_hex(const void *buf, size_t n, const char *want) {
  size_t wn;
  uint8_t *w = hex(want, &wn);
  cr_assert_eq(n, wn, "length %zu, expected %zu", n, wn);
  cr_assert(memcmp(buf, w, n) == 0, "bytes differ from %s", want);
  free(w);
}

/* A test random source: a counter run through SHA-256 (deterministic, NOT secure). */
static inline iotkit_err_t test_random(void *ctx, void *buf, size_t len) {
  uint64_t *counter = ctx;
  uint8_t *o = buf;
  while (len) {
    uint8_t block[32];
    (*counter)++;
    cr_assert_eq(iotkit_sha256(counter, sizeof *counter, block), IOTKIT_OK);
    size_t n = len < 32 ? len : 32;
    memcpy(o, block, n);
    o += n;
    len -= n;
  }
  return IOTKIT_OK;
}

static inline iotkit_err_t failing_random(void *ctx, void *buf, size_t len) {
  (void)ctx;
  memset(buf, 0xAB, len);
  return IOTKIT_ERR_IO;
}

/* A HAL with only a random source and a fixed wall clock (ms), filled by hand. */
static inline int64_t test_wall_ms(void *ctx) {
  (void)ctx;
  return 1300819000LL * 1000;
}

static inline void test_hal(iotkit_hal_t *hal, uint64_t *counter) {
  memset(hal, 0, sizeof *hal);
  hal->ctx = counter;
  hal->random = test_random;
  hal->wall_ms = test_wall_ms;
}

#endif
