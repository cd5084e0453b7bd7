/* Base64 and base64url (RFC 4648), strict decoders. Backend-independent. */
#include <string.h>

#include "crypto/internal.h"

static const char STD[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static iotkit_err_t encode(const char *alpha, bool pad, const void *data, size_t len, char *out, size_t cap,
                           size_t *out_len) {
  if (!IOTKIT__BUF_OK(data, len) || !out) return IOTKIT_ERR_INVALID_ARG;
  if (len > (SIZE_MAX - 1) / 4 * 3 - 3) return IOTKIT_ERR_TOO_LARGE;
  size_t full = len / 3 * 4, rest = len % 3;
  size_t need = full + (rest ? (pad ? 4 : rest + 1) : 0);
  if (cap < need + 1) {
    if (out_len) *out_len = need + 1;
    return IOTKIT_ERR_BUFFER_TOO_SMALL;
  }
  const uint8_t *p = data;
  char *o = out;
  size_t i = 0;
  for (; i + 3 <= len; i += 3) {
    uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
    *o++ = alpha[v >> 18];
    *o++ = alpha[(v >> 12) & 63];
    *o++ = alpha[(v >> 6) & 63];
    *o++ = alpha[v & 63];
  }
  if (rest) {
    uint32_t v = (uint32_t)p[i] << 16 | (rest == 2 ? (uint32_t)p[i + 1] << 8 : 0);
    *o++ = alpha[v >> 18];
    *o++ = alpha[(v >> 12) & 63];
    if (rest == 2) *o++ = alpha[(v >> 6) & 63];
    if (pad) {
      if (rest == 1) *o++ = '=';
      *o++ = '=';
    }
  }
  *o = '\0';
  if (out_len) *out_len = need;
  return IOTKIT_OK;
}

/* Value of a letter of the alphabet, or -1. */
static int value(const char *alpha, char c) {
  if (c == '\0') return -1;
  const char *at = memchr(alpha, c, 64);
  return at ? (int)(at - alpha) : -1;
}

static iotkit_err_t decode(const char *alpha, bool pad, const char *in, size_t in_len, void *out, size_t cap,
                           size_t *out_len) {
  if (!IOTKIT__BUF_OK(in, in_len) || !out || !out_len) return IOTKIT_ERR_INVALID_ARG;
  size_t letters = in_len;
  if (pad) {
    if (in_len % 4) return IOTKIT_ERR_BAD_ENCODING;
    if (in_len && in[in_len - 1] == '=') {
      letters--;
      if (in[in_len - 2] == '=') letters--;
    }
  } else if (in_len % 4 == 1) {
    return IOTKIT_ERR_BAD_ENCODING;
  }
  size_t rest = letters % 4; /* 0, 2 or 3 once the checks above passed */
  if (rest == 1) return IOTKIT_ERR_BAD_ENCODING;
  size_t need = letters / 4 * 3 + (rest ? rest - 1 : 0);
  /* Validate everything before writing anything, so a failure leaves out untouched. */
  for (size_t i = 0; i < letters; i++)
    if (value(alpha, in[i]) < 0) return IOTKIT_ERR_BAD_ENCODING;
  if (rest) {
    /* The unused low bits of the last letter must be zero (one encoding per value). */
    int last = value(alpha, in[letters - 1]);
    if ((rest == 2 && (last & 15)) || (rest == 3 && (last & 3))) return IOTKIT_ERR_BAD_ENCODING;
  }
  if (cap < need) {
    *out_len = need;
    return IOTKIT_ERR_BUFFER_TOO_SMALL;
  }
  uint8_t *o = out;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < letters; i++) {
    acc = (acc << 6) | (uint32_t)value(alpha, in[i]);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      *o++ = (uint8_t)(acc >> bits);
    }
  }
  *out_len = need;
  return IOTKIT_OK;
}

iotkit_err_t iotkit_base64_encode(const void *data, size_t len, char *out, size_t cap, size_t *out_len) {
  return encode(STD, true, data, len, out, cap, out_len);
}

iotkit_err_t iotkit_base64_decode(const char *in, size_t in_len, void *out, size_t cap, size_t *out_len) {
  return decode(STD, true, in, in_len, out, cap, out_len);
}

iotkit_err_t iotkit_base64url_encode(const void *data, size_t len, char *out, size_t cap, size_t *out_len) {
  return encode(URL, false, data, len, out, cap, out_len);
}

iotkit_err_t iotkit_base64url_decode(const char *in, size_t in_len, void *out, size_t cap, size_t *out_len) {
  return decode(URL, false, in, in_len, out, cap, out_len);
}
