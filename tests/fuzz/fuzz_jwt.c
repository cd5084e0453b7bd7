/* JWT and JWS (lib/crypto/jws.c, jwt.c, jwt_claims.c): a compact token is
   verified as a JWS with ES256 (the RFC 7515 P-256 key) and RS256 (the RFC
   7515 RSA key), and as a JWT with claims checked (expiry, audience) against
   a fixed clock. What verifies must have a payload. */
#include "fuzz_keys.h"
#include "fuzz_util.h"

static iotkit_key_t *g_ec, *g_rsa;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  FUZZ_CHECK(iotkit_key_load(RFC7515_EC_PUB_PEM, strlen(RFC7515_EC_PUB_PEM), &g_ec) == IOTKIT_OK);
  FUZZ_CHECK(iotkit_key_load(RFC7515_RSA_PUB_PEM, strlen(RFC7515_RSA_PUB_PEM), &g_rsa) == IOTKIT_OK);
  return 0;
}

static void jws(const char *token, iotkit_jwt_alg_t alg, const iotkit_key_t *key) {
  char *payload = NULL;
  size_t len = 0;
  if (iotkit_jws_verify(token, alg, key, &payload, &len) == IOTKIT_OK) {
    FUZZ_CHECK(payload != NULL);
    iotkit_free(payload);
  } else {
    FUZZ_CHECK(payload == NULL);
  }
}

static void jwt(const char *token, iotkit_jwt_alg_t alg, const iotkit_key_t *key, bool require_exp) {
  iotkit_jwt_verify_opts_t o;
  iotkit_jwt_verify_opts_init(&o);
  o.alg = alg;
  o.key = key;
  o.now_s = 1700000000;
  o.leeway_s = 60;
  o.audience = require_exp ? "iotkit" : NULL;
  o.require_exp = require_exp;
  iotkit_jwt_claims_t *c = NULL;
  if (iotkit_jwt_verify(token, &o, &c) == IOTKIT_OK) {
    FUZZ_CHECK(c != NULL);
    iotkit_jwt_claims_free(c);
  } else {
    FUZZ_CHECK(c == NULL);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *token = fuzz_strndup(data, size);
  jws(token, IOTKIT_JWT_ES256, g_ec);
  jws(token, IOTKIT_JWT_RS256, g_rsa);
  jwt(token, IOTKIT_JWT_ES256, g_ec, false);
  jwt(token, IOTKIT_JWT_RS256, g_rsa, true);
  free(token);
  return 0;
}
