/*
 * Device JWT provider: mints {"iss","sub","aud","iat","exp"} tokens from the
 * device key and the HAL wall clock, and keeps the current one until it is
 * within the refresh margin of its expiry.
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "crypto/jwt.h"

struct iotkit_jwt_provider {
  const iotkit_key_t *key;
  const iotkit_hal_t *hal;
  iotkit_jwt_alg_t alg;
  char *device_id, *audience, *kid;
  uint32_t lifetime_s, margin_s;
  char *token; /* current token or NULL */
  int64_t iat, exp;
};

void iotkit_jwt_provider_config_init(iotkit_jwt_provider_config_t *cfg) {
  if (!cfg) return;
  memset(cfg, 0, sizeof *cfg);
  cfg->struct_size = sizeof(*cfg);
  cfg->lifetime_s = IOTKIT_JWT_LIFETIME_DEFAULT_S;
}

static iotkit_err_t check_config(const iotkit_jwt_provider_config_t *cfg) {
  iotkit_sig_alg_t sig;
  iotkit_key_type_t type;
  if (!cfg->key || !cfg->hal || !iotkit__is_safe_name(cfg->device_id, IOTKIT_MAX_DEVICE_ID) ||
      !iotkit__jwt_alg_params(cfg->alg, &sig, &type) || cfg->lifetime_s < 60 ||
      cfg->lifetime_s > IOTKIT_JWT_LIFETIME_MAX_S || cfg->refresh_margin_s >= cfg->lifetime_s ||
      (cfg->audience && !*cfg->audience) || (cfg->kid && !*cfg->kid))
    return IOTKIT_ERR_INVALID_ARG;
  if (iotkit_key_type(cfg->key) != type || !iotkit_key_has_private(cfg->key)) return IOTKIT_ERR_BAD_KEY;
  if (!cfg->hal->wall_ms) return IOTKIT_ERR_UNSUPPORTED;
  return IOTKIT_OK;
}

iotkit_err_t iotkit_jwt_provider_new(const iotkit_jwt_provider_config_t *user_cfg, iotkit_jwt_provider_t **out) {
  if (!user_cfg || !out) return IOTKIT_ERR_INVALID_ARG;
  iotkit_jwt_provider_config_t full;
  if (IOTKIT__STRUCT_IN(full, iotkit_jwt_provider_config_init, user_cfg, IOTKIT__JWT_PROVIDER_CONFIG) != IOTKIT_OK)
    return IOTKIT_ERR_INVALID_ARG;
  const iotkit_jwt_provider_config_t *cfg = &full;
  iotkit_err_t rc = check_config(cfg);
  if (rc != IOTKIT_OK) return rc;
  iotkit_jwt_provider_t *p = calloc(1, sizeof *p);
  if (!p) return IOTKIT_ERR_NOMEM;
  p->key = cfg->key;
  p->hal = cfg->hal;
  p->alg = cfg->alg;
  p->lifetime_s = cfg->lifetime_s;
  p->margin_s = cfg->refresh_margin_s ? cfg->refresh_margin_s : cfg->lifetime_s / 4;
  p->device_id = iotkit__strdup(cfg->device_id);
  p->audience = iotkit__strdup(cfg->audience);
  p->kid = iotkit__strdup(cfg->kid);
  if (!p->device_id || (cfg->audience && !p->audience) || (cfg->kid && !p->kid)) {
    iotkit_jwt_provider_free(p);
    return IOTKIT_ERR_NOMEM;
  }
  *out = p;
  return IOTKIT_OK;
}

static iotkit_err_t mint(iotkit_jwt_provider_t *p, int64_t now) {
  iotkit_jwt_claims_t *c = NULL;
  iotkit_err_t rc = iotkit_jwt_claims_new(&c);
  if (rc == IOTKIT_OK) rc = iotkit_jwt_claims_set_string(c, "iss", p->device_id);
  if (rc == IOTKIT_OK) rc = iotkit_jwt_claims_set_string(c, "sub", p->device_id);
  if (rc == IOTKIT_OK && p->audience) rc = iotkit_jwt_claims_set_string(c, "aud", p->audience);
  if (rc == IOTKIT_OK) rc = iotkit_jwt_claims_set_int(c, "iat", now);
  if (rc == IOTKIT_OK) rc = iotkit_jwt_claims_set_int(c, "exp", now + p->lifetime_s);
  char *token = NULL;
  if (rc == IOTKIT_OK) rc = iotkit_jwt_create(c, p->alg, p->key, p->kid, &token);
  iotkit_jwt_claims_free(c);
  if (rc != IOTKIT_OK) return rc;
  iotkit__free_secret(p->token);
  p->token = token;
  p->iat = now;
  p->exp = now + p->lifetime_s;
  return IOTKIT_OK;
}

iotkit_err_t iotkit_jwt_provider_get(iotkit_jwt_provider_t *p, char *buf, size_t cap, int64_t *expires_at) {
  if (!p || !buf) return IOTKIT_ERR_INVALID_ARG;
  int64_t ms = p->hal->wall_ms(p->hal->ctx);
  if (ms <= 0) return IOTKIT_ERR_STATE;
  int64_t now = ms / 1000;
  /* A clock that went back before iat would make the server see a token from the future. */
  if (!p->token || now >= p->exp - (int64_t)p->margin_s || now < p->iat) {
    iotkit_err_t rc = mint(p, now);
    if (rc != IOTKIT_OK) return rc;
  }
  size_t len = strlen(p->token);
  if (cap <= len) return IOTKIT_ERR_BUFFER_TOO_SMALL;
  memcpy(buf, p->token, len + 1);
  if (expires_at) *expires_at = p->exp;
  return IOTKIT_OK;
}

void iotkit_jwt_provider_invalidate(iotkit_jwt_provider_t *p) {
  if (!p) return;
  iotkit__free_secret(p->token);
  p->token = NULL;
}

void iotkit_jwt_provider_free(iotkit_jwt_provider_t *p) {
  if (!p) return;
  iotkit__free_secret(p->token);
  free(p->device_id);
  free(p->audience);
  free(p->kid);
  free(p);
}
