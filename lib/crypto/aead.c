/* AES-256-GCM: argument checks and the GCM length limit over the backend. */
#include "crypto/backend.h"
#include "crypto/internal.h"

/* NIST SP 800-38D: at most 2^39 - 256 bits of plaintext per invocation. */
#define IOTKIT__GCM_MAX_LEN ((UINT64_C(1) << 36) - 32)

static iotkit_err_t check(const uint8_t *key, const uint8_t *nonce, const void *aad, size_t aad_len, const void *in,
                          size_t len, const void *out, const uint8_t *tag) {
  if (!key || !nonce || !tag || !IOTKIT__BUF_OK(aad, aad_len) || !IOTKIT__BUF_OK(in, len) || !IOTKIT__BUF_OK(out, len))
    return IOTKIT_ERR_INVALID_ARG;
  if ((uint64_t)len > IOTKIT__GCM_MAX_LEN || (uint64_t)aad_len > IOTKIT__GCM_MAX_LEN) return IOTKIT_ERR_TOO_LARGE;
  return IOTKIT_OK;
}

iotkit_err_t iotkit_aes256gcm_seal(const uint8_t key[IOTKIT_AES256GCM_KEY_LEN],
                                   const uint8_t nonce[IOTKIT_AES256GCM_NONCE_LEN], const void *aad, size_t aad_len,
                                   const void *pt, size_t len, void *ct, uint8_t tag[IOTKIT_AES256GCM_TAG_LEN]) {
  iotkit_err_t rc = check(key, nonce, aad, aad_len, pt, len, ct, tag);
  return rc != IOTKIT_OK ? rc : iotkit__crypto_gcm_seal(key, nonce, aad, aad_len, pt, len, ct, tag);
}

iotkit_err_t iotkit_aes256gcm_open(const uint8_t key[IOTKIT_AES256GCM_KEY_LEN],
                                   const uint8_t nonce[IOTKIT_AES256GCM_NONCE_LEN], const void *aad, size_t aad_len,
                                   const void *ct, size_t len, const uint8_t tag[IOTKIT_AES256GCM_TAG_LEN],
                                   void *pt) {
  iotkit_err_t rc = check(key, nonce, aad, aad_len, ct, len, pt, tag);
  return rc != IOTKIT_OK ? rc : iotkit__crypto_gcm_open(key, nonce, aad, aad_len, ct, len, tag, pt);
}
