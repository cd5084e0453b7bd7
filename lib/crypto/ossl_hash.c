/* OpenSSL 3 backend: SHA-256, HMAC-SHA256 and HKDF-SHA256 through EVP. */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <stdlib.h>

#include "crypto/backend.h"
#include "crypto/ossl.h"

struct iotkit__bk_sha256 {
  EVP_MD_CTX *ctx;
  EVP_MD *md;
};

iotkit_err_t iotkit__crypto_sha256_new(iotkit__bk_sha256_t **out) {
  iotkit__bk_sha256_t *h = calloc(1, sizeof *h);
  if (!h) return IOTKIT_ERR_NOMEM;
  h->ctx = EVP_MD_CTX_new();
  h->md = EVP_MD_fetch(NULL, "SHA256", NULL);
  if (!h->ctx || !h->md || EVP_DigestInit_ex2(h->ctx, h->md, NULL) != 1) {
    iotkit__crypto_sha256_free(h);
    return iotkit__ossl_fail(IOTKIT_ERR_INTERNAL);
  }
  *out = h;
  return IOTKIT_OK;
}

iotkit_err_t iotkit__crypto_sha256_update(iotkit__bk_sha256_t *h, const void *data, size_t len) {
  if (len == 0) return IOTKIT_OK;
  return EVP_DigestUpdate(h->ctx, data, len) == 1 ? IOTKIT_OK : iotkit__ossl_fail(IOTKIT_ERR_INTERNAL);
}

iotkit_err_t iotkit__crypto_sha256_final(iotkit__bk_sha256_t *h, uint8_t out[IOTKIT_SHA256_LEN]) {
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(h->ctx, out, &n) != 1 || n != IOTKIT_SHA256_LEN) return iotkit__ossl_fail(IOTKIT_ERR_INTERNAL);
  return EVP_DigestInit_ex2(h->ctx, h->md, NULL) == 1 ? IOTKIT_OK : iotkit__ossl_fail(IOTKIT_ERR_INTERNAL);
}

void iotkit__crypto_sha256_free(iotkit__bk_sha256_t *h) {
  if (!h) return;
  EVP_MD_CTX_free(h->ctx); /* cleanses the digest state */
  EVP_MD_free(h->md);
  free(h);
}

iotkit_err_t iotkit__crypto_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                                        uint8_t out[IOTKIT_SHA256_LEN]) {
  static const unsigned char none = 0;
  iotkit_err_t rc = IOTKIT_ERR_INTERNAL;
  EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
  EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
                         OSSL_PARAM_construct_end()};
  size_t n = 0;
  /* OpenSSL wants a non-NULL key pointer even for an empty key. */
  if (ctx && EVP_MAC_init(ctx, key_len ? key : &none, key_len, params) == 1 &&
      (len == 0 || EVP_MAC_update(ctx, data, len) == 1) && EVP_MAC_final(ctx, out, &n, IOTKIT_SHA256_LEN) == 1 &&
      n == IOTKIT_SHA256_LEN)
    rc = IOTKIT_OK;
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
  return rc == IOTKIT_OK ? rc : iotkit__ossl_fail(rc);
}

iotkit_err_t iotkit__crypto_hkdf_sha256(const void *salt, size_t salt_len, const void *ikm, size_t ikm_len,
                                        const void *info, size_t info_len, void *okm, size_t okm_len) {
  static unsigned char none = 0;
  iotkit_err_t rc = IOTKIT_ERR_INTERNAL;
  EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
  EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
  OSSL_PARAM params[5];
  size_t n = 0;
  params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
  params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, ikm_len ? (void *)ikm : &none, ikm_len);
  /* An absent salt is HashLen zero bytes (RFC 5869 2.2); OpenSSL does the same when none is set. */
  if (salt_len) params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
  if (info_len) params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len);
  params[n] = OSSL_PARAM_construct_end();
  if (ctx && EVP_KDF_derive(ctx, okm, okm_len, params) == 1) rc = IOTKIT_OK;
  EVP_KDF_CTX_free(ctx); /* cleanses the PRK */
  EVP_KDF_free(kdf);
  if (rc != IOTKIT_OK) OPENSSL_cleanse(okm, okm_len);
  return rc == IOTKIT_OK ? rc : iotkit__ossl_fail(rc);
}
