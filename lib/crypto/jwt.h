/* JWS/JWT internals shared by jws.c, jwt_claims.c and jwt.c. */
#ifndef IOTKIT__CRYPTO_JWT_H
#define IOTKIT__CRYPTO_JWT_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "iotkit/crypto.h"

struct iotkit_jwt_claims {
  cJSON *obj; /* always a JSON object */
};

/*
 * Parse text[0..len) (with a NUL at text[len]) as one JSON object: no NUL
 * inside, nothing after it, no member name twice. NULL if it is anything else.
 */
cJSON *iotkit__jwt_parse_object(const char *text, size_t len);

/* @p item as compact JSON (cJSON_free it), or NULL without memory. Unlike
   cJSON_PrintUnformatted, integers from 1e15 to 2^53 keep every digit. */
char *iotkit__jwt_json_print(const cJSON *item);

/* Wrap a parsed JSON object into a claims handle (takes obj, also on failure). */
iotkit_err_t iotkit__jwt_claims_wrap(cJSON *obj, iotkit_jwt_claims_t **out);

/* The signature algorithm and key type behind a JWS alg; false for an unknown alg. */
bool iotkit__jwt_alg_params(iotkit_jwt_alg_t alg, iotkit_sig_alg_t *sig, iotkit_key_type_t *type);

#endif
