/*
 * ECDSA P-256 signatures between raw r||s (JOSE, the public API) and DER
 * ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } (what backends speak).
 * Backend-independent.
 */
#include <string.h>

#include "crypto/internal.h"

/* One positive INTEGER from 32 big-endian bytes; returns bytes written. */
static size_t put_int(const uint8_t v[32], uint8_t *o) {
  size_t skip = 0;
  while (skip < 31 && v[skip] == 0) skip++;
  size_t n = 32 - skip;
  bool pad = v[skip] & 0x80; /* keep it positive */
  o[0] = 0x02;
  o[1] = (uint8_t)(n + pad);
  if (pad) o[2] = 0;
  memcpy(o + 2 + pad, v + skip, n);
  return 2 + pad + n;
}

size_t iotkit__crypto_ecdsa_raw_to_der(const uint8_t raw[64], uint8_t der[IOTKIT__ECDSA_DER_MAX]) {
  size_t n = put_int(raw, der + 2);
  n += put_int(raw + 32, der + 2 + n);
  der[0] = 0x30;
  der[1] = (uint8_t)n; /* at most 70: short form */
  return n + 2;
}

/* Parse one minimal positive INTEGER of at most 32 value bytes into v (right-aligned). */
static bool get_int(const uint8_t **p, const uint8_t *end, uint8_t v[32]) {
  const uint8_t *q = *p;
  if (end - q < 2 || q[0] != 0x02) return false;
  size_t n = q[1];
  q += 2;
  if (n == 0 || n > 33 || (size_t)(end - q) < n) return false;
  if (q[0] & 0x80) return false;                             /* negative */
  if (n > 1 && q[0] == 0 && !(q[1] & 0x80)) return false;     /* non-minimal */
  if (n == 33) {
    if (q[0] != 0) return false;
    q++, n--;
  }
  memset(v, 0, 32);
  memcpy(v + 32 - n, q, n);
  *p = q + n;
  return true;
}

iotkit_err_t iotkit__crypto_ecdsa_der_to_raw(const uint8_t *der, size_t len, uint8_t raw[64]) {
  if (len < 8 || len > IOTKIT__ECDSA_DER_MAX || der[0] != 0x30 || der[1] != len - 2)
    return IOTKIT_ERR_BAD_SIGNATURE;
  const uint8_t *p = der + 2, *end = der + len;
  uint8_t out[64];
  if (!get_int(&p, end, out) || !get_int(&p, end, out + 32) || p != end) return IOTKIT_ERR_BAD_SIGNATURE;
  memcpy(raw, out, 64);
  return IOTKIT_OK;
}
