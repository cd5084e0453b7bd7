/* The JWT claims set: a JSON object held in cJSON. */
#include <stdio.h>
#include <stdlib.h>

#include "core/util.h"
#include "crypto/jwt.h"

/* Integers above 2^53 are not exact in a JSON number (an IEEE double). */
#define IOTKIT__JSON_INT_MAX 9007199254740992.0

iotkit_err_t iotkit__jwt_claims_wrap(cJSON *obj, iotkit_jwt_claims_t **out) {
  iotkit_jwt_claims_t *c = malloc(sizeof *c);
  if (!c) {
    cJSON_Delete(obj);
    return IOTKIT_ERR_NOMEM;
  }
  c->obj = obj;
  *out = c;
  return IOTKIT_OK;
}

iotkit_err_t iotkit_jwt_claims_new(iotkit_jwt_claims_t **out) {
  if (!out) return IOTKIT_ERR_INVALID_ARG;
  cJSON *obj = cJSON_CreateObject();
  return obj ? iotkit__jwt_claims_wrap(obj, out) : IOTKIT_ERR_NOMEM;
}

void iotkit_jwt_claims_free(iotkit_jwt_claims_t *c) {
  if (!c) return;
  cJSON_Delete(c->obj);
  free(c);
}

/* Put item under name, replacing any claim of that name (takes item). */
static iotkit_err_t put(iotkit_jwt_claims_t *c, const char *name, cJSON *item) {
  if (!item) return IOTKIT_ERR_NOMEM;
  cJSON_DeleteItemFromObjectCaseSensitive(c->obj, name);
  if (!cJSON_AddItemToObject(c->obj, name, item)) {
    cJSON_Delete(item);
    return IOTKIT_ERR_NOMEM;
  }
  return IOTKIT_OK;
}

#define IOTKIT__NAME_OK(c, name) ((c) && (name) && *(name))

/* Integral numbers of 15 digits and more as exact raw text: cJSON prints numbers
   with 15 significant digits, which changes integer claims between 1e15 and 2^53. */
static bool exact_integers(cJSON *item) {
  for (cJSON *c = item->child; c; c = c->next) {
    double v = cJSON_IsNumber(c) ? c->valuedouble : 0;
    double mag = v < 0 ? -v : v;
    if (mag >= 1e15 && mag <= 9007199254740992.0 && (double)(long long)v == v) {
      char text[32];
      snprintf(text, sizeof text, "%lld", (long long)c->valuedouble);
      cJSON *raw = cJSON_CreateRaw(text);
      if (raw) { /* the member name moves to the replacement (ViaPointer keeps none) */
        raw->string = c->string;
        raw->type |= c->type & cJSON_StringIsConst;
        c->string = NULL;
      }
      if (!raw || !cJSON_ReplaceItemViaPointer(item, c, raw)) {
        cJSON_Delete(raw);
        return false;
      }
      c = raw;
    } else if ((cJSON_IsObject(c) || cJSON_IsArray(c)) && !exact_integers(c)) {
      return false;
    }
  }
  return true;
}

char *iotkit__jwt_json_print(const cJSON *item) {
  /* a lone number is printed through an array holding it, so the rule above applies */
  cJSON *copy = cJSON_Duplicate(item, true);
  cJSON *holder = copy && cJSON_IsNumber(copy) ? cJSON_CreateArray() : NULL;
  if (holder) cJSON_AddItemToArray(holder, copy);
  char *json = copy && exact_integers(holder ? holder : copy) ? cJSON_PrintUnformatted(holder ? holder->child : copy)
                                                               : NULL;
  cJSON_Delete(holder ? holder : copy);
  return json;
}


iotkit_err_t iotkit_jwt_claims_set_string(iotkit_jwt_claims_t *c, const char *name, const char *value) {
  if (!IOTKIT__NAME_OK(c, name) || !value) return IOTKIT_ERR_INVALID_ARG;
  return put(c, name, cJSON_CreateString(value));
}

iotkit_err_t iotkit_jwt_claims_set_int(iotkit_jwt_claims_t *c, const char *name, int64_t value) {
  if (!IOTKIT__NAME_OK(c, name) || value > (INT64_C(1) << 53) || value < -(INT64_C(1) << 53))
    return IOTKIT_ERR_INVALID_ARG;
  return put(c, name, cJSON_CreateNumber((double)value));
}

iotkit_err_t iotkit_jwt_claims_set_bool(iotkit_jwt_claims_t *c, const char *name, bool value) {
  if (!IOTKIT__NAME_OK(c, name)) return IOTKIT_ERR_INVALID_ARG;
  return put(c, name, cJSON_CreateBool(value));
}

iotkit_err_t iotkit_jwt_claims_set_json(iotkit_jwt_claims_t *c, const char *name, const char *json) {
  if (!IOTKIT__NAME_OK(c, name) || !json) return IOTKIT_ERR_INVALID_ARG;
  const char *end = NULL;
  cJSON *item = cJSON_ParseWithOpts(json, &end, true);
  if (!item) return IOTKIT_ERR_BAD_ENCODING;
  return put(c, name, item);
}

/* The claim, or NULL. */
static const cJSON *find(const iotkit_jwt_claims_t *c, const char *name) {
  return cJSON_GetObjectItemCaseSensitive(c->obj, name);
}

iotkit_err_t iotkit_jwt_claims_get_string(const iotkit_jwt_claims_t *c, const char *name, const char **value) {
  if (!IOTKIT__NAME_OK(c, name) || !value) return IOTKIT_ERR_INVALID_ARG;
  const cJSON *it = find(c, name);
  if (!it) return IOTKIT_ERR_NOT_FOUND;
  if (!cJSON_IsString(it)) return IOTKIT_ERR_JWT_CLAIM;
  *value = it->valuestring;
  return IOTKIT_OK;
}

iotkit_err_t iotkit_jwt_claims_get_int(const iotkit_jwt_claims_t *c, const char *name, int64_t *value) {
  if (!IOTKIT__NAME_OK(c, name) || !value) return IOTKIT_ERR_INVALID_ARG;
  const cJSON *it = find(c, name);
  if (!it) return IOTKIT_ERR_NOT_FOUND;
  if (!cJSON_IsNumber(it)) return IOTKIT_ERR_JWT_CLAIM;
  double v = it->valuedouble;
  /* In range first (also false for NaN), so that the cast is defined; then integral. */
  if (!(v <= IOTKIT__JSON_INT_MAX && v >= -IOTKIT__JSON_INT_MAX) || (double)(int64_t)v != v)
    return IOTKIT_ERR_JWT_CLAIM;
  *value = (int64_t)v;
  return IOTKIT_OK;
}

iotkit_err_t iotkit_jwt_claims_get_bool(const iotkit_jwt_claims_t *c, const char *name, bool *value) {
  if (!IOTKIT__NAME_OK(c, name) || !value) return IOTKIT_ERR_INVALID_ARG;
  const cJSON *it = find(c, name);
  if (!it) return IOTKIT_ERR_NOT_FOUND;
  if (!cJSON_IsBool(it)) return IOTKIT_ERR_JWT_CLAIM;
  *value = cJSON_IsTrue(it);
  return IOTKIT_OK;
}

iotkit_err_t iotkit_jwt_claims_get_json(const iotkit_jwt_claims_t *c, const char *name, char **json) {
  if (!IOTKIT__NAME_OK(c, name) || !json) return IOTKIT_ERR_INVALID_ARG;
  const cJSON *it = find(c, name);
  if (!it) return IOTKIT_ERR_NOT_FOUND;
  char *text = iotkit__jwt_json_print(it);
  if (!text) return IOTKIT_ERR_NOMEM;
  /* cJSON allocates with its hooks (malloc by default); hand out memory iotkit_free() can release. */
  char *copy = iotkit__strdup(text);
  cJSON_free(text);
  if (!copy) return IOTKIT_ERR_NOMEM;
  *json = copy;
  return IOTKIT_OK;
}
