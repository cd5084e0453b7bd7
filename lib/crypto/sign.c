/* Signatures: algorithm/key checks and the ECDSA raw<->DER step over the backend. */
#include <string.h>

#include "crypto/backend.h"
#include "crypto/internal.h"

/* The key type each algorithm needs. */
static iotkit_key_type_t key_type_for(iotkit_sig_alg_t alg) {
  switch (alg) {
    case IOTKIT_SIG_ED25519: return IOTKIT_KEY_ED25519;
    case IOTKIT_SIG_ECDSA_P256_SHA256: return IOTKIT_KEY_P256;
    case IOTKIT_SIG_RSA_PSS_SHA256:
    case IOTKIT_SIG_RSA_PKCS1_SHA256: return IOTKIT_KEY_RSA;
  }
  return (iotkit_key_type_t)0;
}

iotkit_err_t iotkit_sign(const iotkit_key_t *key, iotkit_sig_alg_t alg, const void *msg, size_t len, void *sig,
                         size_t cap, size_t *sig_len) {
  if (!key || !IOTKIT__BUF_OK(msg, len) || !sig || !sig_len) return IOTKIT_ERR_INVALID_ARG;
  iotkit_key_type_t want = key_type_for(alg);
  if (!want) return IOTKIT_ERR_INVALID_ARG;
  if (key->type != want || !key->has_private) return IOTKIT_ERR_BAD_KEY;
  if (cap < key->sig_len) {
    *sig_len = key->sig_len;
    return IOTKIT_ERR_BUFFER_TOO_SMALL;
  }
  uint8_t tmp[IOTKIT_SIG_MAX_LEN];
  size_t n = 0;
  iotkit_err_t rc = iotkit__crypto_sign(key->bk, alg, msg, len, tmp, sizeof tmp, &n);
  if (rc != IOTKIT_OK) return rc;
  if (alg == IOTKIT_SIG_ECDSA_P256_SHA256) {
    uint8_t raw[64];
    rc = iotkit__crypto_ecdsa_der_to_raw(tmp, n, raw);
    if (rc != IOTKIT_OK) return IOTKIT_ERR_INTERNAL;
    memcpy(tmp, raw, 64);
    n = 64;
  }
  if (n != key->sig_len) return IOTKIT_ERR_INTERNAL;
  memcpy(sig, tmp, n);
  *sig_len = n;
  return IOTKIT_OK;
}

iotkit_err_t iotkit_verify(const iotkit_key_t *key, iotkit_sig_alg_t alg, const void *msg, size_t len,
                           const void *sig, size_t sig_len) {
  if (!key || !IOTKIT__BUF_OK(msg, len) || !sig) return IOTKIT_ERR_INVALID_ARG;
  iotkit_key_type_t want = key_type_for(alg);
  if (!want) return IOTKIT_ERR_INVALID_ARG;
  if (key->type != want) return IOTKIT_ERR_BAD_KEY;
  if (sig_len != key->sig_len) return IOTKIT_ERR_BAD_SIGNATURE;
  if (alg == IOTKIT_SIG_ECDSA_P256_SHA256) {
    uint8_t der[IOTKIT__ECDSA_DER_MAX];
    size_t n = iotkit__crypto_ecdsa_raw_to_der(sig, der);
    return iotkit__crypto_verify(key->bk, alg, msg, len, der, n);
  }
  return iotkit__crypto_verify(key->bk, alg, msg, len, sig, sig_len);
}
