/* Keys: generation, loading, raw import, export. Backend-independent checks. */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "crypto/backend.h"
#include "crypto/internal.h"

/* Wrap a backend key in a public handle (takes bk, also on failure). */
static iotkit_err_t make(iotkit__bk_key_t *bk, const iotkit__key_info_t *info, iotkit_key_t **out) {
  iotkit_key_t *k = malloc(sizeof *k);
  if (!k) {
    iotkit__crypto_key_free(bk);
    return IOTKIT_ERR_NOMEM;
  }
  k->type = info->type;
  k->has_private = info->has_private;
  k->sig_len = info->sig_len;
  k->bk = bk;
  *out = k;
  return IOTKIT_OK;
}

iotkit_err_t iotkit_key_generate(const iotkit_hal_t *hal, iotkit_key_type_t type, iotkit_key_t **out) {
  if (!hal || !out) return IOTKIT_ERR_INVALID_ARG;
  if (type != IOTKIT_KEY_ED25519 && type != IOTKIT_KEY_P256)
    return type == IOTKIT_KEY_RSA ? IOTKIT_ERR_UNSUPPORTED : IOTKIT_ERR_INVALID_ARG;
  if (!hal->random) return IOTKIT_ERR_UNSUPPORTED;
  iotkit__bk_key_t *bk = NULL;
  iotkit_err_t rc;
  if (type == IOTKIT_KEY_ED25519) {
    uint8_t seed[32];
    rc = iotkit_crypto_random(hal, seed, sizeof seed);
    if (rc == IOTKIT_OK) rc = iotkit__crypto_key_ed25519_from_seed(seed, &bk);
    iotkit__memzero(seed, sizeof seed);
  } else {
    rc = iotkit__crypto_key_p256_generate(&bk);
  }
  if (rc != IOTKIT_OK) return rc;
  iotkit__key_info_t info = {type, true, IOTKIT_SIG_EC_LEN};
  return make(bk, &info, out);
}

iotkit_err_t iotkit_key_load(const void *data, size_t len, iotkit_key_t **out) {
  if (!data || len == 0 || !out) return IOTKIT_ERR_INVALID_ARG;
  iotkit__bk_key_t *bk = NULL;
  iotkit__key_info_t info;
  iotkit_err_t rc = iotkit__crypto_key_decode(data, len, &bk, &info);
  return rc != IOTKIT_OK ? rc : make(bk, &info, out);
}

iotkit_err_t iotkit_key_load_file(const char *path, iotkit_key_t **out) {
  if (!path || !*path || !out) return IOTKIT_ERR_INVALID_ARG;
  iotkit__bk_key_t *bk = NULL;
  iotkit__key_info_t info;
  iotkit_err_t rc = iotkit__crypto_key_decode_file(path, &bk, &info);
  return rc != IOTKIT_OK ? rc : make(bk, &info, out);
}

static iotkit_err_t ed25519_from_raw(const uint8_t *priv, size_t priv_len, const uint8_t *pub, size_t pub_len,
                                     iotkit__bk_key_t **bk) {
  if ((priv && priv_len != 32) || (pub && pub_len != 32) || (!priv && !pub)) return IOTKIT_ERR_INVALID_ARG;
  if (!priv) return iotkit__crypto_key_ed25519_from_public(pub, bk);
  iotkit_err_t rc = iotkit__crypto_key_ed25519_from_seed(priv, bk);
  if (rc != IOTKIT_OK || !pub) return rc;
  uint8_t derived[32];
  rc = iotkit__crypto_key_ed25519_public(*bk, derived);
  if (rc == IOTKIT_OK && !iotkit_crypto_equal(derived, pub, 32)) rc = IOTKIT_ERR_BAD_KEY;
  if (rc != IOTKIT_OK) {
    iotkit__crypto_key_free(*bk);
    *bk = NULL;
  }
  return rc;
}

iotkit_err_t iotkit_key_from_raw(iotkit_key_type_t type, const void *priv, size_t priv_len, const void *pub,
                                 size_t pub_len, iotkit_key_t **out) {
  if (!out || (!priv && priv_len) || (!pub && pub_len)) return IOTKIT_ERR_INVALID_ARG;
  iotkit__bk_key_t *bk = NULL;
  iotkit_err_t rc;
  if (type == IOTKIT_KEY_ED25519) {
    rc = ed25519_from_raw(priv, priv_len, pub, pub_len, &bk);
  } else if (type == IOTKIT_KEY_P256) {
    if (!pub || pub_len != 65 || (priv && priv_len != 32)) return IOTKIT_ERR_INVALID_ARG;
    rc = iotkit__crypto_key_p256_from_raw(priv, pub, &bk);
  } else {
    return IOTKIT_ERR_INVALID_ARG;
  }
  if (rc != IOTKIT_OK) return rc;
  iotkit__key_info_t info = {type, priv != NULL, IOTKIT_SIG_EC_LEN};
  return make(bk, &info, out);
}

iotkit_err_t iotkit_key_export_public_pem(const iotkit_key_t *key, char **pem) {
  if (!key || !pem) return IOTKIT_ERR_INVALID_ARG;
  return iotkit__crypto_key_public_pem(key->bk, pem);
}

iotkit_err_t iotkit_key_export_private_pem(const iotkit_key_t *key, char *buf, size_t cap, size_t *len) {
  if (!key || !IOTKIT__BUF_OK(buf, cap) || !len) return IOTKIT_ERR_INVALID_ARG;
  if (!key->has_private) return IOTKIT_ERR_BAD_KEY;
  return iotkit__crypto_key_private_pem(key->bk, buf, cap, len);
}

iotkit_key_type_t iotkit_key_type(const iotkit_key_t *key) { return key ? key->type : (iotkit_key_type_t)0; }

bool iotkit_key_has_private(const iotkit_key_t *key) { return key && key->has_private; }

size_t iotkit_key_signature_size(const iotkit_key_t *key) { return key ? key->sig_len : 0; }

void iotkit_key_free(iotkit_key_t *key) {
  if (!key) return;
  iotkit__crypto_key_free(key->bk);
  iotkit__memzero(key, sizeof *key);
  free(key);
}
