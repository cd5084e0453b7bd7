/* OpenSSL 3 backend: signing and verification through EVP_DigestSign/Verify. */
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "crypto/backend.h"
#include "crypto/ossl.h"

/* Set up ctx for alg: the digest (none for Ed25519) and the RSA padding. */
static int init(EVP_MD_CTX *ctx, const iotkit__bk_key_t *k, iotkit_sig_alg_t alg, int sign) {
  const char *md = alg == IOTKIT_SIG_ED25519 ? NULL : "SHA256";
  EVP_PKEY_CTX *pctx = NULL;
  int ok = sign ? EVP_DigestSignInit_ex(ctx, &pctx, md, NULL, NULL, k->pkey, NULL)
                : EVP_DigestVerifyInit_ex(ctx, &pctx, md, NULL, NULL, k->pkey, NULL);
  if (ok != 1) return 0;
  if (alg == IOTKIT_SIG_RSA_PSS_SHA256)
    return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
           EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, "SHA256", NULL) == 1 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) == 1;
  if (alg == IOTKIT_SIG_RSA_PKCS1_SHA256) return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
  return 1;
}

iotkit_err_t iotkit__crypto_sign(const iotkit__bk_key_t *k, iotkit_sig_alg_t alg, const void *msg, size_t len,
                                 uint8_t *sig, size_t cap, size_t *sig_len) {
  static const unsigned char none = 0;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  size_t n = cap;
  iotkit_err_t rc = IOTKIT_ERR_INTERNAL;
  if (ctx && init(ctx, k, alg, 1) && EVP_DigestSign(ctx, sig, &n, len ? msg : &none, len) == 1) {
    *sig_len = n;
    rc = IOTKIT_OK;
  }
  EVP_MD_CTX_free(ctx);
  return rc == IOTKIT_OK ? rc : iotkit__ossl_fail(rc);
}

iotkit_err_t iotkit__crypto_verify(const iotkit__bk_key_t *k, iotkit_sig_alg_t alg, const void *msg, size_t len,
                                   const uint8_t *sig, size_t sig_len) {
  static const unsigned char none = 0;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  iotkit_err_t rc = IOTKIT_ERR_INTERNAL;
  if (ctx && init(ctx, k, alg, 0))
    /* 0 is a bad signature, negative a malformed one: both are "not valid". */
    rc = EVP_DigestVerify(ctx, sig, sig_len, len ? msg : &none, len) == 1 ? IOTKIT_OK : IOTKIT_ERR_BAD_SIGNATURE;
  EVP_MD_CTX_free(ctx);
  return rc == IOTKIT_OK ? rc : iotkit__ossl_fail(rc);
}
