/* The OTA trust store: public keys under key ids, for rotation. */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "ota/internal.h"

typedef struct trusted_key {
  char id[IOTKIT_OTA_MAX_NAME + 1];
  iotkit_key_t *key; /* public half only */
} trusted_key_t;

struct iotkit_ota_trust {
  trusted_key_t keys[IOTKIT_OTA_MAX_KEYS];
  size_t count;
};

iotkit_sig_alg_t iotkit__ota_sig_alg(const iotkit_key_t *key) {
  switch (iotkit_key_type(key)) {
    case IOTKIT_KEY_ED25519: return IOTKIT_SIG_ED25519;
    case IOTKIT_KEY_P256: return IOTKIT_SIG_ECDSA_P256_SHA256;
    default: return (iotkit_sig_alg_t)0;
  }
}

iotkit_err_t iotkit_ota_trust_new(iotkit_ota_trust_t **out) {
  if (!out) return IOTKIT_ERR_INVALID_ARG;
  iotkit_ota_trust_t *t = calloc(1, sizeof(*t));
  if (!t) return IOTKIT_ERR_NOMEM;
  *out = t;
  return IOTKIT_OK;
}

void iotkit_ota_trust_free(iotkit_ota_trust_t *trust) {
  if (!trust) return;
  for (size_t i = 0; i < trust->count; i++) iotkit_key_free(trust->keys[i].key);
  free(trust);
}

static trusted_key_t *find(const iotkit_ota_trust_t *trust, const char *key_id) {
  for (size_t i = 0; i < trust->count; i++)
    if (strcmp(trust->keys[i].id, key_id) == 0) return (trusted_key_t *)&trust->keys[i];
  return NULL;
}

const iotkit_key_t *iotkit__ota_trust_find(const iotkit_ota_trust_t *trust, const char *key_id) {
  trusted_key_t *k = trust && key_id ? find(trust, key_id) : NULL;
  return k ? k->key : NULL;
}

/* Takes @pub (a public key) on success. */
static iotkit_err_t insert(iotkit_ota_trust_t *trust, const char *key_id, iotkit_key_t *pub) {
  if (!iotkit__ota_sig_alg(pub)) return IOTKIT_ERR_BAD_KEY;
  if (find(trust, key_id)) return IOTKIT_ERR_EXISTS;
  if (trust->count == IOTKIT_OTA_MAX_KEYS) return IOTKIT_ERR_TOO_LARGE;
  trusted_key_t *k = &trust->keys[trust->count++];
  memcpy(k->id, key_id, strlen(key_id) + 1);
  k->key = pub;
  return IOTKIT_OK;
}

iotkit_err_t iotkit_ota_trust_add_pem(iotkit_ota_trust_t *trust, const char *key_id, const void *pem, size_t len) {
  if (!trust || !pem || !iotkit__is_safe_name(key_id, IOTKIT_OTA_MAX_NAME)) return IOTKIT_ERR_INVALID_ARG;
  iotkit_key_t *key = NULL, *pub = NULL;
  iotkit_err_t rc = iotkit_key_load(pem, len, &key);
  char *pub_pem = NULL;
  /* Keep the public half only, even when handed a key pair. */
  if (rc == IOTKIT_OK && !iotkit__ota_sig_alg(key)) rc = IOTKIT_ERR_BAD_KEY;
  if (rc == IOTKIT_OK) rc = iotkit_key_export_public_pem(key, &pub_pem);
  if (rc == IOTKIT_OK) rc = iotkit_key_load(pub_pem, strlen(pub_pem), &pub);
  if (rc == IOTKIT_OK) rc = insert(trust, key_id, pub);
  if (rc != IOTKIT_OK) iotkit_key_free(pub);
  iotkit_free(pub_pem);
  iotkit_key_free(key);
  return rc;
}

iotkit_err_t iotkit_ota_trust_add(iotkit_ota_trust_t *trust, const char *key_id, const iotkit_key_t *key) {
  if (!trust || !key || !iotkit__is_safe_name(key_id, IOTKIT_OTA_MAX_NAME)) return IOTKIT_ERR_INVALID_ARG;
  if (!iotkit__ota_sig_alg(key)) return IOTKIT_ERR_BAD_KEY;
  char *pem = NULL;
  iotkit_err_t rc = iotkit_key_export_public_pem(key, &pem);
  if (rc == IOTKIT_OK) rc = iotkit_ota_trust_add_pem(trust, key_id, pem, strlen(pem));
  iotkit_free(pem);
  return rc;
}

iotkit_err_t iotkit_ota_trust_remove(iotkit_ota_trust_t *trust, const char *key_id) {
  if (!trust || !key_id) return IOTKIT_ERR_INVALID_ARG;
  trusted_key_t *k = find(trust, key_id);
  if (!k) return IOTKIT_ERR_NOT_FOUND;
  iotkit_key_free(k->key);
  *k = trust->keys[--trust->count];
  return IOTKIT_OK;
}

size_t iotkit_ota_trust_count(const iotkit_ota_trust_t *trust) { return trust ? trust->count : 0; }
