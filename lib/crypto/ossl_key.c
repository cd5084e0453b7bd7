/* OpenSSL 3 backend: key making, decoding and export (EVP_PKEY, OSSL_DECODER/ENCODER). */
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/backend.h"
#include "crypto/ossl.h"

/* The largest key file or buffer we decode (a PEM RSA-8192 key is under 7 KiB). */
#define IOTKIT__KEY_MAX_LEN (64 * 1024)

static iotkit_err_t wrap(EVP_PKEY *pkey, iotkit__bk_key_t **out) {
  iotkit__bk_key_t *k = malloc(sizeof *k);
  if (!k) {
    EVP_PKEY_free(pkey);
    return IOTKIT_ERR_NOMEM;
  }
  k->pkey = pkey;
  *out = k;
  return IOTKIT_OK;
}

void iotkit__crypto_key_free(iotkit__bk_key_t *k) {
  if (!k) return;
  EVP_PKEY_free(k->pkey); /* OpenSSL clears private components when it frees them */
  free(k);
}

iotkit_err_t iotkit__crypto_key_ed25519_from_seed(const uint8_t seed[32], iotkit__bk_key_t **out) {
  EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key_ex(NULL, "ED25519", NULL, seed, 32);
  return pkey ? wrap(pkey, out) : iotkit__ossl_fail(IOTKIT_ERR_BAD_KEY);
}

iotkit_err_t iotkit__crypto_key_ed25519_from_public(const uint8_t pub[32], iotkit__bk_key_t **out) {
  EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, pub, 32);
  return pkey ? wrap(pkey, out) : iotkit__ossl_fail(IOTKIT_ERR_BAD_KEY);
}

iotkit_err_t iotkit__crypto_key_ed25519_public(const iotkit__bk_key_t *k, uint8_t pub[32]) {
  size_t n = 32;
  return EVP_PKEY_get_raw_public_key(k->pkey, pub, &n) == 1 && n == 32 ? IOTKIT_OK
                                                                        : iotkit__ossl_fail(IOTKIT_ERR_BAD_KEY);
}

iotkit_err_t iotkit__crypto_key_p256_from_raw(const uint8_t *priv, const uint8_t pub[65], iotkit__bk_key_t **out) {
  iotkit_err_t rc = IOTKIT_ERR_NOMEM;
  OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
  BIGNUM *d = priv ? BN_secure_new() : NULL;
  OSSL_PARAM *params = NULL;
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
  EVP_PKEY_CTX *check = NULL;
  EVP_PKEY *pkey = NULL;
  if (!bld || !ctx || (priv && !d)) goto done;
  if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, 65))
    goto done;
  if (priv && (!BN_bin2bn(priv, 32, d) || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d))) goto done;
  if (!(params = OSSL_PARAM_BLD_to_param(bld))) goto done;
  rc = IOTKIT_ERR_BAD_KEY;
  if (EVP_PKEY_fromdata_init(ctx) != 1 ||
      EVP_PKEY_fromdata(ctx, &pkey, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) != 1)
    goto done;
  /* The point must be on the curve, and d * G must be that point. */
  check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
  if (!check || EVP_PKEY_public_check(check) != 1 || (priv && EVP_PKEY_pairwise_check(check) != 1)) goto done;
  rc = wrap(pkey, out);
  pkey = NULL;
done:
  EVP_PKEY_free(pkey);
  EVP_PKEY_CTX_free(check);
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params); /* d came from a secure BN, so its copy here is cleansed on free */
  OSSL_PARAM_BLD_free(bld);
  BN_clear_free(d);
  return rc == IOTKIT_OK ? rc : iotkit__ossl_fail(rc);
}

iotkit_err_t iotkit__crypto_key_p256_generate(iotkit__bk_key_t **out) {
  EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  return pkey ? wrap(pkey, out) : iotkit__ossl_fail(IOTKIT_ERR_INTERNAL);
}

/* An encrypted key would make OpenSSL prompt on the terminal: refuse instead. */
static int no_passphrase(char *pass, size_t size, size_t *len, const OSSL_PARAM params[], void *arg) {
  (void)pass, (void)size, (void)params, (void)arg;
  *len = 0;
  return 0;
}

static EVP_PKEY *try_decode(const void *data, size_t len, int selection) {
  EVP_PKEY *pkey = NULL;
  OSSL_DECODER_CTX *dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, NULL, NULL, NULL, selection, NULL, NULL);
  const unsigned char *p = data;
  size_t left = len;
  if (dctx && OSSL_DECODER_CTX_set_passphrase_cb(dctx, no_passphrase, NULL) == 1 &&
      OSSL_DECODER_from_data(dctx, &p, &left) == 1) {
    OSSL_DECODER_CTX_free(dctx);
    return pkey;
  }
  OSSL_DECODER_CTX_free(dctx);
  EVP_PKEY_free(pkey);
  ERR_clear_error();
  return NULL;
}

/* Which of the supported kinds pkey is; IOTKIT_ERR_BAD_KEY for any other. */
static iotkit_err_t classify(EVP_PKEY *pkey, iotkit__key_info_t *info) {
  if (EVP_PKEY_is_a(pkey, "ED25519")) {
    info->type = IOTKIT_KEY_ED25519;
    info->sig_len = IOTKIT_SIG_EC_LEN;
    return IOTKIT_OK;
  }
  if (EVP_PKEY_is_a(pkey, "EC")) {
    char group[32];
    size_t n = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &n) != 1 ||
        strcmp(group, "prime256v1") != 0)
      return iotkit__ossl_fail(IOTKIT_ERR_BAD_KEY);
    info->type = IOTKIT_KEY_P256;
    info->sig_len = IOTKIT_SIG_EC_LEN;
    return IOTKIT_OK;
  }
  /* "RSA" only: an RSA-PSS-restricted key (id-RSASSA-PSS) could not make RS256 signatures. */
  if (EVP_PKEY_is_a(pkey, "RSA") && !EVP_PKEY_is_a(pkey, "RSA-PSS")) {
    int bits = EVP_PKEY_get_bits(pkey);
    if (bits < 2048 || bits > 8192) return IOTKIT_ERR_BAD_KEY;
    info->type = IOTKIT_KEY_RSA;
    info->sig_len = (size_t)EVP_PKEY_get_size(pkey);
    return IOTKIT_OK;
  }
  return IOTKIT_ERR_BAD_KEY;
}

iotkit_err_t iotkit__crypto_key_decode(const void *data, size_t len, iotkit__bk_key_t **out,
                                       iotkit__key_info_t *info) {
  if (len > IOTKIT__KEY_MAX_LEN) return IOTKIT_ERR_TOO_LARGE;
  /* A key pair first: a private-key encoding also holds (or yields) the public half. */
  bool priv = true;
  EVP_PKEY *pkey = try_decode(data, len, EVP_PKEY_KEYPAIR);
  if (!pkey) {
    priv = false;
    pkey = try_decode(data, len, EVP_PKEY_PUBLIC_KEY);
  }
  if (!pkey) return IOTKIT_ERR_BAD_ENCODING;
  iotkit__key_info_t got = {0};
  iotkit_err_t rc = classify(pkey, &got);
  if (rc != IOTKIT_OK) {
    EVP_PKEY_free(pkey);
    return rc;
  }
  got.has_private = priv;
  rc = wrap(pkey, out);
  if (rc == IOTKIT_OK) *info = got;
  return rc;
}

iotkit_err_t iotkit__crypto_key_decode_file(const char *path, iotkit__bk_key_t **out, iotkit__key_info_t *info) {
  BIO *bio = BIO_new_file(path, "rb");
  if (!bio) return iotkit__ossl_fail(IOTKIT_ERR_IO);
  /* Read it whole into a buffer we wipe afterwards (it may hold a private key). */
  unsigned char *buf = OPENSSL_secure_malloc(IOTKIT__KEY_MAX_LEN + 1);
  iotkit_err_t rc = IOTKIT_ERR_NOMEM;
  size_t len = 0;
  if (buf) {
    rc = IOTKIT_OK;
    for (;;) {
      size_t got = 0;
      int r = BIO_read_ex(bio, buf + len, IOTKIT__KEY_MAX_LEN + 1 - len, &got);
      if (r != 1) break; /* end of file (or an error: BIO_eof tells them apart) */
      len += got;
      if (len > IOTKIT__KEY_MAX_LEN) {
        rc = IOTKIT_ERR_TOO_LARGE;
        break;
      }
    }
    if (rc == IOTKIT_OK && !BIO_eof(bio)) rc = IOTKIT_ERR_IO;
    if (rc == IOTKIT_OK) rc = iotkit__crypto_key_decode(buf, len, out, info);
    OPENSSL_secure_clear_free(buf, IOTKIT__KEY_MAX_LEN + 1);
  }
  BIO_free(bio);
  return rc == IOTKIT_OK ? rc : iotkit__ossl_fail(rc);
}

iotkit_err_t iotkit__crypto_key_public_pem(const iotkit__bk_key_t *k, char **pem) {
  OSSL_ENCODER_CTX *ectx =
      OSSL_ENCODER_CTX_new_for_pkey(k->pkey, EVP_PKEY_PUBLIC_KEY, "PEM", "SubjectPublicKeyInfo", NULL);
  unsigned char *data = NULL;
  size_t len = 0;
  iotkit_err_t rc = IOTKIT_ERR_INTERNAL;
  if (ectx && OSSL_ENCODER_to_data(ectx, &data, &len) == 1) {
    char *s = malloc(len + 1);
    if (s) {
      memcpy(s, data, len);
      s[len] = '\0';
      *pem = s;
      rc = IOTKIT_OK;
    } else {
      rc = IOTKIT_ERR_NOMEM;
    }
  }
  OPENSSL_free(data);
  OSSL_ENCODER_CTX_free(ectx);
  return rc == IOTKIT_OK ? rc : iotkit__ossl_fail(rc);
}

iotkit_err_t iotkit__crypto_key_private_pem(const iotkit__bk_key_t *k, char *buf, size_t cap, size_t *out_len) {
  OSSL_ENCODER_CTX *ectx = OSSL_ENCODER_CTX_new_for_pkey(k->pkey, EVP_PKEY_KEYPAIR, "PEM", "PrivateKeyInfo", NULL);
  unsigned char *data = NULL;
  size_t len = 0;
  iotkit_err_t rc = IOTKIT_ERR_INTERNAL;
  if (ectx && OSSL_ENCODER_to_data(ectx, &data, &len) == 1) {
    if (cap <= len) {
      *out_len = len + 1;
      rc = IOTKIT_ERR_BUFFER_TOO_SMALL;
    } else {
      memcpy(buf, data, len);
      buf[len] = '\0';
      *out_len = len;
      rc = IOTKIT_OK;
    }
  }
  /* The encoding holds the private key: wipe it before it goes back to the heap. */
  OPENSSL_clear_free(data, len);
  OSSL_ENCODER_CTX_free(ectx);
  return rc == IOTKIT_OK || rc == IOTKIT_ERR_BUFFER_TOO_SMALL ? rc : iotkit__ossl_fail(rc);
}
