/* SHA-256, HMAC-SHA256 and HKDF-SHA256: argument checks over the backend. */
#include <stdlib.h>

#include "crypto/backend.h"
#include "crypto/internal.h"
#include "iotkit/crypto.h"

struct iotkit_sha256 {
  iotkit__bk_sha256_t *bk;
};

iotkit_err_t iotkit_sha256(const void *data, size_t len, uint8_t out[IOTKIT_SHA256_LEN]) {
  if (!IOTKIT__BUF_OK(data, len) || !out) return IOTKIT_ERR_INVALID_ARG;
  iotkit__bk_sha256_t *h = NULL;
  iotkit_err_t rc = iotkit__crypto_sha256_new(&h);
  if (rc == IOTKIT_OK) rc = iotkit__crypto_sha256_update(h, data, len);
  if (rc == IOTKIT_OK) rc = iotkit__crypto_sha256_final(h, out);
  iotkit__crypto_sha256_free(h);
  return rc;
}

iotkit_err_t iotkit_sha256_new(iotkit_sha256_t **out) {
  if (!out) return IOTKIT_ERR_INVALID_ARG;
  iotkit_sha256_t *h = calloc(1, sizeof *h);
  if (!h) return IOTKIT_ERR_NOMEM;
  iotkit_err_t rc = iotkit__crypto_sha256_new(&h->bk);
  if (rc != IOTKIT_OK) {
    free(h);
    return rc;
  }
  *out = h;
  return IOTKIT_OK;
}

iotkit_err_t iotkit_sha256_update(iotkit_sha256_t *h, const void *data, size_t len) {
  if (!h || !IOTKIT__BUF_OK(data, len)) return IOTKIT_ERR_INVALID_ARG;
  return iotkit__crypto_sha256_update(h->bk, data, len);
}

iotkit_err_t iotkit_sha256_final(iotkit_sha256_t *h, uint8_t out[IOTKIT_SHA256_LEN]) {
  if (!h || !out) return IOTKIT_ERR_INVALID_ARG;
  return iotkit__crypto_sha256_final(h->bk, out);
}

void iotkit_sha256_free(iotkit_sha256_t *h) {
  if (!h) return;
  iotkit__crypto_sha256_free(h->bk);
  free(h);
}

iotkit_err_t iotkit_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                                uint8_t out[IOTKIT_SHA256_LEN]) {
  if (!IOTKIT__BUF_OK(key, key_len) || !IOTKIT__BUF_OK(data, len) || !out) return IOTKIT_ERR_INVALID_ARG;
  return iotkit__crypto_hmac_sha256(key, key_len, data, len, out);
}

iotkit_err_t iotkit_hkdf_sha256(const void *salt, size_t salt_len, const void *ikm, size_t ikm_len,
                                const void *info, size_t info_len, void *okm, size_t okm_len) {
  if (!IOTKIT__BUF_OK(salt, salt_len) || !IOTKIT__BUF_OK(ikm, ikm_len) || !IOTKIT__BUF_OK(info, info_len) || !okm ||
      okm_len == 0 || okm_len > IOTKIT_HKDF_SHA256_MAX_LEN)
    return IOTKIT_ERR_INVALID_ARG;
  return iotkit__crypto_hkdf_sha256(salt, salt_len, ikm, ikm_len, info, info_len, okm, okm_len);
}
