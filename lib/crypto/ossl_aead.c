/* OpenSSL 3 backend: AES-256-GCM through EVP_CIPHER with OSSL_PARAM tags. */
#include <limits.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "crypto/backend.h"
#include "crypto/ossl.h"

/* EVP lengths are int: feed big buffers in slices. out NULL means AAD. */
static int update(EVP_CIPHER_CTX *ctx, int enc, uint8_t *out, const uint8_t *in, size_t len) {
  while (len) {
    int n = len > INT_MAX / 2 ? INT_MAX / 2 : (int)len, got = 0;
    int ok = enc ? EVP_EncryptUpdate(ctx, out, &got, in, n) : EVP_DecryptUpdate(ctx, out, &got, in, n);
    if (ok != 1 || (out && got != n)) return 0;
    in += n;
    if (out) out += n;
    len -= (size_t)n;
  }
  return 1;
}

static EVP_CIPHER_CTX *start(int enc, const uint8_t *key, const uint8_t *nonce, EVP_CIPHER **cipher) {
  *cipher = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
  EVP_CIPHER_CTX *ctx = *cipher ? EVP_CIPHER_CTX_new() : NULL;
  if (!ctx) return NULL;
  /* The default GCM IV length is 12 bytes, the size the API fixes. */
  int ok = enc ? EVP_EncryptInit_ex2(ctx, *cipher, key, nonce, NULL) : EVP_DecryptInit_ex2(ctx, *cipher, key, nonce, NULL);
  if (ok != 1) {
    EVP_CIPHER_CTX_free(ctx);
    return NULL;
  }
  return ctx;
}

iotkit_err_t iotkit__crypto_gcm_seal(const uint8_t *key, const uint8_t *nonce, const void *aad, size_t aad_len,
                                     const void *pt, size_t len, void *ct, uint8_t *tag) {
  EVP_CIPHER *cipher = NULL;
  EVP_CIPHER_CTX *ctx = start(1, key, nonce, &cipher);
  uint8_t last[16];
  int got = 0;
  OSSL_PARAM params[] = {OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, IOTKIT_AES256GCM_TAG_LEN),
                         OSSL_PARAM_construct_end()};
  iotkit_err_t rc = IOTKIT_ERR_INTERNAL;
  if (ctx && update(ctx, 1, NULL, aad, aad_len) && update(ctx, 1, ct, pt, len) &&
      EVP_EncryptFinal_ex(ctx, last, &got) == 1 && got == 0 && EVP_CIPHER_CTX_get_params(ctx, params) == 1)
    rc = IOTKIT_OK;
  EVP_CIPHER_CTX_free(ctx); /* cleanses the key schedule */
  EVP_CIPHER_free(cipher);
  return rc == IOTKIT_OK ? rc : iotkit__ossl_fail(rc);
}

iotkit_err_t iotkit__crypto_gcm_open(const uint8_t *key, const uint8_t *nonce, const void *aad, size_t aad_len,
                                     const void *ct, size_t len, const uint8_t *tag, void *pt) {
  EVP_CIPHER *cipher = NULL;
  EVP_CIPHER_CTX *ctx = start(0, key, nonce, &cipher);
  uint8_t last[16];
  int got = 0;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, (void *)tag, IOTKIT_AES256GCM_TAG_LEN),
      OSSL_PARAM_construct_end()};
  iotkit_err_t rc = IOTKIT_ERR_INTERNAL;
  if (ctx && update(ctx, 0, NULL, aad, aad_len) && update(ctx, 0, pt, ct, len) &&
      EVP_CIPHER_CTX_set_params(ctx, params) == 1) {
    /* Only the final step compares the tag; the plaintext written so far is not yet authentic. */
    rc = EVP_DecryptFinal_ex(ctx, last, &got) == 1 && got == 0 ? IOTKIT_OK : IOTKIT_ERR_CRYPTO_AUTH;
  }
  EVP_CIPHER_CTX_free(ctx);
  EVP_CIPHER_free(cipher);
  if (rc != IOTKIT_OK) {
    if (len) OPENSSL_cleanse(pt, len);
    return iotkit__ossl_fail(rc);
  }
  return rc;
}
