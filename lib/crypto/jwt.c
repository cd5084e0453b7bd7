/* JWT (RFC 7519) creation and verification over compact JWS. */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "crypto/jwt.h"

iotkit_err_t iotkit_jwt_create(const iotkit_jwt_claims_t *claims, iotkit_jwt_alg_t alg, const iotkit_key_t *key,
                               const char *kid, char **token) {
  if (!claims || !key || !token) return IOTKIT_ERR_INVALID_ARG;
  char *json = iotkit__jwt_json_print(claims->obj);
  if (!json) return IOTKIT_ERR_NOMEM;
  iotkit_err_t rc = iotkit_jws_sign(alg, key, "JWT", kid, json, strlen(json), token);
  cJSON_free(json);
  return rc;
}

void iotkit_jwt_verify_opts_init(iotkit_jwt_verify_opts_t *opts) {
  if (!opts) return;
  memset(opts, 0, sizeof *opts);
  opts->struct_size = sizeof(*opts);
  opts->require_exp = true;
}

/* Seconds since the epoch from the HAL's wall clock or the caller. */
static iotkit_err_t current_time(const iotkit_jwt_verify_opts_t *opts, int64_t *now) {
  if (opts->hal) {
    if (!opts->hal->wall_ms) return IOTKIT_ERR_UNSUPPORTED;
    int64_t ms = opts->hal->wall_ms(opts->hal->ctx);
    if (ms <= 0) return IOTKIT_ERR_INVALID_ARG;
    *now = ms / 1000;
    return IOTKIT_OK;
  }
  /* 10^11 s is the year 5138: a larger value is almost surely milliseconds. */
  if (opts->now_s <= 0 || opts->now_s >= INT64_C(100000000000)) return IOTKIT_ERR_INVALID_ARG;
  *now = opts->now_s;
  return IOTKIT_OK;
}

/* A NumericDate claim: absent (*present false), a number, or a claim error. */
static iotkit_err_t numeric_date(const cJSON *obj, const char *name, bool *present, double *value) {
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
  *present = it != NULL;
  if (!it) return IOTKIT_OK;
  if (!cJSON_IsNumber(it)) return IOTKIT_ERR_JWT_CLAIM;
  *value = it->valuedouble;
  return IOTKIT_OK;
}

static bool audience_matches(const cJSON *aud, const char *want) {
  if (cJSON_IsString(aud)) return strcmp(aud->valuestring, want) == 0;
  if (!cJSON_IsArray(aud)) return false;
  const cJSON *it;
  cJSON_ArrayForEach(it, aud) {
    if (cJSON_IsString(it) && strcmp(it->valuestring, want) == 0) return true;
  }
  return false;
}

static iotkit_err_t check_claims(const cJSON *obj, const iotkit_jwt_verify_opts_t *opts, int64_t now) {
  bool has_exp, has_nbf, has_iat;
  double exp = 0, nbf = 0, iat = 0;
  iotkit_err_t rc = numeric_date(obj, "exp", &has_exp, &exp);
  if (rc == IOTKIT_OK) rc = numeric_date(obj, "nbf", &has_nbf, &nbf);
  if (rc == IOTKIT_OK) rc = numeric_date(obj, "iat", &has_iat, &iat);
  if (rc != IOTKIT_OK) return rc;
  if (!has_exp && opts->require_exp) return IOTKIT_ERR_JWT_CLAIM;
  double t = (double)now, leeway = (double)opts->leeway_s;
  if (has_exp && t >= exp + leeway) return IOTKIT_ERR_JWT_EXPIRED;
  if (has_nbf && t + leeway < nbf) return IOTKIT_ERR_JWT_NOT_YET_VALID;
  if (opts->audience && !audience_matches(cJSON_GetObjectItemCaseSensitive(obj, "aud"), opts->audience))
    return IOTKIT_ERR_JWT_AUDIENCE;
  return IOTKIT_OK;
}

iotkit_err_t iotkit_jwt_verify(const char *token, const iotkit_jwt_verify_opts_t *user_opts,
                               iotkit_jwt_claims_t **claims) {
  iotkit_jwt_verify_opts_t full;
  if (!user_opts ||
      IOTKIT__STRUCT_IN(full, iotkit_jwt_verify_opts_init, user_opts, IOTKIT__JWT_VERIFY_OPTS) != IOTKIT_OK)
    return IOTKIT_ERR_INVALID_ARG;
  const iotkit_jwt_verify_opts_t *opts = &full;
  if (!token || !opts->key || opts->leeway_s > IOTKIT_JWT_MAX_LEEWAY_S) return IOTKIT_ERR_INVALID_ARG;
  int64_t now = 0;
  iotkit_err_t rc = current_time(opts, &now);
  if (rc != IOTKIT_OK) return rc;
  char *payload = NULL;
  size_t len = 0;
  rc = iotkit_jws_verify(token, opts->alg, opts->key, &payload, &len);
  if (rc != IOTKIT_OK) return rc;
  cJSON *obj = iotkit__jwt_parse_object(payload, len);
  free(payload);
  if (!obj) return IOTKIT_ERR_JWT_MALFORMED;
  rc = check_claims(obj, opts, now);
  if (rc != IOTKIT_OK || !claims) {
    cJSON_Delete(obj);
    return rc;
  }
  return iotkit__jwt_claims_wrap(obj, claims);
}
