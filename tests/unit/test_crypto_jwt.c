/* JWS/JWT: RFC 7515 A.2/A.3 and RFC 8037 A.4 examples, round trips and claims. */
#include "test_crypto_jwt_util.h"

Test(jws, rfc8037_a4_eddsa_sign_is_exact) {
  iotkit_key_t *k = rfc8037_key(true);
  const char *payload = "Example of Ed25519 signing";
  char *token = NULL;
  cr_assert_eq(iotkit_jws_sign(IOTKIT_JWT_EDDSA, k, NULL, NULL, payload, strlen(payload), &token), IOTKIT_OK);
  cr_assert_str_eq(token, RFC8037_A4_TOKEN);
  iotkit_free(token);
  iotkit_key_free(k);
}

Test(jws, rfc8037_a4_eddsa_verifies_with_public_key) {
  iotkit_key_t *pub = rfc8037_key(false);
  char *payload = NULL;
  size_t len = 0;
  cr_assert_eq(iotkit_jws_verify(RFC8037_A4_TOKEN, IOTKIT_JWT_EDDSA, pub, &payload, &len), IOTKIT_OK);
  cr_assert_str_eq(payload, "Example of Ed25519 signing");
  cr_assert_eq(len, strlen(payload));
  iotkit_free(payload);
  iotkit_key_free(pub);
}

static void check_rfc7515_claims(const iotkit_jwt_claims_t *c) {
  const char *iss = NULL;
  int64_t exp = 0;
  bool root = false;
  cr_assert_eq(iotkit_jwt_claims_get_string(c, "iss", &iss), IOTKIT_OK);
  cr_assert_str_eq(iss, "joe");
  cr_assert_eq(iotkit_jwt_claims_get_int(c, "exp", &exp), IOTKIT_OK);
  cr_assert_eq(exp, RFC7515_EXP);
  cr_assert_eq(iotkit_jwt_claims_get_bool(c, "http://example.com/is_root", &root), IOTKIT_OK);
  cr_assert(root);
}

Test(jwt, rfc7515_a2_rs256_verifies_before_exp) {
  iotkit_key_t *pub = load_pem(RFC7515_RSA_PUB_PEM);
  iotkit_jwt_verify_opts_t o;
  verify_opts(&o, IOTKIT_JWT_RS256, pub, RFC7515_EXP - 1);
  iotkit_jwt_claims_t *c = NULL;
  cr_assert_eq(iotkit_jwt_verify(RFC7515_A2_TOKEN, &o, &c), IOTKIT_OK);
  check_rfc7515_claims(c);
  iotkit_jwt_claims_free(c);
  iotkit_key_free(pub);
}

Test(jwt, rfc7515_a3_es256_verifies_before_exp) {
  iotkit_key_t *pub = load_pem(RFC7515_EC_PUB_PEM);
  iotkit_jwt_verify_opts_t o;
  verify_opts(&o, IOTKIT_JWT_ES256, pub, RFC7515_EXP - 1000);
  iotkit_jwt_claims_t *c = NULL;
  cr_assert_eq(iotkit_jwt_verify(RFC7515_A3_TOKEN, &o, &c), IOTKIT_OK);
  check_rfc7515_claims(c);
  iotkit_jwt_claims_free(c);
  iotkit_key_free(pub);
}

Test(jwt, time_from_hal_wall_clock) {
  iotkit_key_t *pub = load_pem(RFC7515_EC_PUB_PEM);
  uint64_t counter = 0;
  iotkit_hal_t hal;
  test_hal(&hal, &counter); /* wall clock 1300819000 s, before exp */
  iotkit_jwt_verify_opts_t o;
  verify_opts(&o, IOTKIT_JWT_ES256, pub, 0);
  o.hal = &hal;
  cr_assert_eq(iotkit_jwt_verify(RFC7515_A3_TOKEN, &o, NULL), IOTKIT_OK);
  iotkit_key_free(pub);
}

/* Create with every registered time claim, sub, aud and custom claims, then verify. */
static void roundtrip(iotkit_jwt_alg_t alg, const char *priv_pem, const char *pub_pem) {
  iotkit_key_t *k = load_pem(priv_pem), *pub = load_pem(pub_pem);
  iotkit_jwt_claims_t *c = NULL;
  cr_assert_eq(iotkit_jwt_claims_new(&c), IOTKIT_OK);
  cr_assert_eq(iotkit_jwt_claims_set_string(c, "sub", "device-42"), IOTKIT_OK);
  cr_assert_eq(iotkit_jwt_claims_set_string(c, "aud", "broker.example"), IOTKIT_OK);
  cr_assert_eq(iotkit_jwt_claims_set_int(c, "iat", 1700000000), IOTKIT_OK);
  cr_assert_eq(iotkit_jwt_claims_set_int(c, "nbf", 1700000000), IOTKIT_OK);
  cr_assert_eq(iotkit_jwt_claims_set_int(c, "exp", 1700003600), IOTKIT_OK);
  cr_assert_eq(iotkit_jwt_claims_set_bool(c, "admin", false), IOTKIT_OK);
  cr_assert_eq(iotkit_jwt_claims_set_json(c, "scope", "{\"topics\":[\"a/b\",\"c\"]}"), IOTKIT_OK);
  char *token = NULL;
  cr_assert_eq(iotkit_jwt_create(c, alg, k, "key-1", &token), IOTKIT_OK);
  iotkit_jwt_claims_free(c);

  iotkit_jwt_verify_opts_t o;
  verify_opts(&o, alg, pub, 1700000100);
  o.audience = "broker.example";
  iotkit_jwt_claims_t *got = NULL;
  cr_assert_eq(iotkit_jwt_verify(token, &o, &got), IOTKIT_OK);
  const char *sub = NULL;
  char *scope = NULL;
  bool admin = true;
  cr_assert_eq(iotkit_jwt_claims_get_string(got, "sub", &sub), IOTKIT_OK);
  cr_assert_str_eq(sub, "device-42");
  cr_assert_eq(iotkit_jwt_claims_get_bool(got, "admin", &admin), IOTKIT_OK);
  cr_assert_not(admin);
  cr_assert_eq(iotkit_jwt_claims_get_json(got, "scope", &scope), IOTKIT_OK);
  cr_assert_str_eq(scope, "{\"topics\":[\"a/b\",\"c\"]}");
  iotkit_free(scope);
  iotkit_jwt_claims_free(got);

  /* The header is {"alg":...,"typ":"JWT","kid":"key-1"}. */
  char header[128];
  size_t hl = 0;
  cr_assert_eq(iotkit_base64url_decode(token, strcspn(token, "."), header, sizeof header - 1, &hl), IOTKIT_OK);
  header[hl] = '\0';
  char want[128];
  snprintf(want, sizeof want, "{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"key-1\"}", iotkit_jwt_alg_name(alg));
  cr_assert_str_eq(header, want);
  iotkit_free(token);
  iotkit_key_free(k);
  iotkit_key_free(pub);
}

Test(jwt, roundtrip_es256) { roundtrip(IOTKIT_JWT_ES256, RFC7515_EC_PRIV_PEM, RFC7515_EC_PUB_PEM); }
Test(jwt, roundtrip_rs256) { roundtrip(IOTKIT_JWT_RS256, RFC7515_RSA_PRIV_PEM, RFC7515_RSA_PUB_PEM); }

Test(jwt, roundtrip_eddsa_with_generated_key) {
  uint64_t counter = 0;
  iotkit_hal_t hal;
  test_hal(&hal, &counter);
  iotkit_key_t *k = NULL;
  cr_assert_eq(iotkit_key_generate(&hal, IOTKIT_KEY_ED25519, &k), IOTKIT_OK);
  iotkit_jwt_claims_t *c = NULL;
  cr_assert_eq(iotkit_jwt_claims_new(&c), IOTKIT_OK);
  cr_assert_eq(iotkit_jwt_claims_set_int(c, "exp", 1300819000 + 60), IOTKIT_OK);
  char *token = NULL;
  cr_assert_eq(iotkit_jwt_create(c, IOTKIT_JWT_EDDSA, k, NULL, &token), IOTKIT_OK);
  iotkit_jwt_verify_opts_t o;
  verify_opts(&o, IOTKIT_JWT_EDDSA, k, 0);
  o.hal = &hal;
  cr_assert_eq(iotkit_jwt_verify(token, &o, NULL), IOTKIT_OK);
  iotkit_free(token);
  iotkit_jwt_claims_free(c);
  iotkit_key_free(k);
}

Test(jwt, audience_in_array) {
  iotkit_key_t *k = rfc8037_key(true);
  iotkit_jwt_claims_t *c = NULL;
  cr_assert_eq(iotkit_jwt_claims_new(&c), IOTKIT_OK);
  cr_assert_eq(iotkit_jwt_claims_set_json(c, "aud", "[\"x\",\"broker\"]"), IOTKIT_OK);
  cr_assert_eq(iotkit_jwt_claims_set_int(c, "exp", 2000), IOTKIT_OK);
  char *token = NULL;
  cr_assert_eq(iotkit_jwt_create(c, IOTKIT_JWT_EDDSA, k, NULL, &token), IOTKIT_OK);
  iotkit_jwt_verify_opts_t o;
  verify_opts(&o, IOTKIT_JWT_EDDSA, k, 1000);
  o.audience = "broker";
  cr_assert_eq(iotkit_jwt_verify(token, &o, NULL), IOTKIT_OK);
  o.audience = "other";
  cr_assert_eq(iotkit_jwt_verify(token, &o, NULL), IOTKIT_ERR_JWT_AUDIENCE);
  iotkit_free(token);
  iotkit_jwt_claims_free(c);
  iotkit_key_free(k);
}

Test(jwt, leeway_accepts_small_skew) {
  iotkit_key_t *pub = load_pem(RFC7515_EC_PUB_PEM);
  iotkit_jwt_verify_opts_t o;
  verify_opts(&o, IOTKIT_JWT_ES256, pub, RFC7515_EXP + 30);
  cr_assert_eq(iotkit_jwt_verify(RFC7515_A3_TOKEN, &o, NULL), IOTKIT_ERR_JWT_EXPIRED);
  o.leeway_s = 60;
  cr_assert_eq(iotkit_jwt_verify(RFC7515_A3_TOKEN, &o, NULL), IOTKIT_OK);
  iotkit_key_free(pub);
}

/* ---------------------------------------------------------------- claims -- */

Test(jwt_claims, set_replaces_and_get_checks_type) {
  iotkit_jwt_claims_t *c = NULL;
  cr_assert_eq(iotkit_jwt_claims_new(&c), IOTKIT_OK);
  cr_assert_eq(iotkit_jwt_claims_set_string(c, "sub", "a"), IOTKIT_OK);
  cr_assert_eq(iotkit_jwt_claims_set_string(c, "sub", "b"), IOTKIT_OK);
  const char *s = NULL;
  int64_t i = 0;
  bool b = false;
  char *json = NULL;
  cr_assert_eq(iotkit_jwt_claims_get_string(c, "sub", &s), IOTKIT_OK);
  cr_assert_str_eq(s, "b");
  cr_assert_eq(iotkit_jwt_claims_get_json(c, "sub", &json), IOTKIT_OK);
  cr_assert_str_eq(json, "\"b\"");
  iotkit_free(json);
  cr_assert_eq(iotkit_jwt_claims_get_int(c, "sub", &i), IOTKIT_ERR_JWT_CLAIM);
  cr_assert_eq(iotkit_jwt_claims_get_bool(c, "sub", &b), IOTKIT_ERR_JWT_CLAIM);
  cr_assert_eq(iotkit_jwt_claims_get_string(c, "nope", &s), IOTKIT_ERR_NOT_FOUND);
  cr_assert_eq(iotkit_jwt_claims_set_json(c, "frac", "1.5"), IOTKIT_OK);
  cr_assert_eq(iotkit_jwt_claims_get_int(c, "frac", &i), IOTKIT_ERR_JWT_CLAIM);
  cr_assert_eq(iotkit_jwt_claims_set_int(c, "n", -9007199254740992LL), IOTKIT_OK);
  cr_assert_eq(iotkit_jwt_claims_get_int(c, "n", &i), IOTKIT_OK);
  cr_assert_eq(i, -9007199254740992LL);
  iotkit_jwt_claims_free(c);
}

Test(jwt_claims, int_beyond_2_pow_53_is_invalid) {
  iotkit_jwt_claims_t *c = NULL;
  cr_assert_eq(iotkit_jwt_claims_new(&c), IOTKIT_OK);
  cr_assert_eq(iotkit_jwt_claims_set_int(c, "exp", 9007199254740993LL), IOTKIT_ERR_INVALID_ARG);
  iotkit_jwt_claims_free(c);
}

Test(jwt_claims, bad_json_is_bad_encoding) {
  iotkit_jwt_claims_t *c = NULL;
  cr_assert_eq(iotkit_jwt_claims_new(&c), IOTKIT_OK);
  cr_assert_eq(iotkit_jwt_claims_set_json(c, "x", "{\"a\":"), IOTKIT_ERR_BAD_ENCODING);
  cr_assert_eq(iotkit_jwt_claims_set_json(c, "x", "1 2"), IOTKIT_ERR_BAD_ENCODING);
  char *json = NULL;
  cr_assert_eq(iotkit_jwt_claims_get_json(c, "x", &json), IOTKIT_ERR_NOT_FOUND);
  iotkit_jwt_claims_free(c);
}

Test(jwt_claims, null_args) {
  iotkit_jwt_claims_t *c = NULL;
  cr_assert_eq(iotkit_jwt_claims_new(NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_jwt_claims_new(&c), IOTKIT_OK);
  const char *s;
  int64_t i;
  bool b;
  char *j;
  cr_assert_eq(iotkit_jwt_claims_set_string(NULL, "a", "b"), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_jwt_claims_set_string(c, NULL, "b"), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_jwt_claims_set_string(c, "", "b"), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_jwt_claims_set_string(c, "a", NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_jwt_claims_set_int(NULL, "a", 1), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_jwt_claims_set_bool(c, NULL, true), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_jwt_claims_set_json(c, "a", NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_jwt_claims_get_string(c, "a", NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_jwt_claims_get_string(NULL, "a", &s), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_jwt_claims_get_int(c, NULL, &i), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_jwt_claims_get_bool(c, "a", NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_jwt_claims_get_json(c, "a", NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_jwt_claims_get_json(NULL, "a", &j), IOTKIT_ERR_INVALID_ARG);
  (void)b;
  iotkit_jwt_claims_free(c);
  iotkit_jwt_claims_free(NULL);
}

Test(jwt, alg_names) {
  cr_assert_str_eq(iotkit_jwt_alg_name(IOTKIT_JWT_EDDSA), "EdDSA");
  cr_assert_str_eq(iotkit_jwt_alg_name(IOTKIT_JWT_ES256), "ES256");
  cr_assert_str_eq(iotkit_jwt_alg_name(IOTKIT_JWT_RS256), "RS256");
  cr_assert_str_eq(iotkit_jwt_alg_name((iotkit_jwt_alg_t)0), "?");
}

/* Integer claims are exact up to 2^53, also where cJSON's 15 printed digits are not enough. */
Test(jwt, integer_claims_up_to_2_53_are_exact) {
  static const int64_t values[] = {(INT64_C(1) << 53) - 1, INT64_C(1) << 53, -((INT64_C(1) << 53) - 1),
                                   INT64_C(1000000000000001), INT64_C(123456789012345678) / 100};
  iotkit_key_t *k = rfc8037_key(true);
  for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
    iotkit_jwt_claims_t *c = NULL;
    cr_assert_eq(iotkit_jwt_claims_new(&c), IOTKIT_OK);
    cr_assert_eq(iotkit_jwt_claims_set_int(c, "n", values[i]), IOTKIT_OK);
    cr_assert_eq(iotkit_jwt_claims_set_json(c, "nested", "{\"m\":[4503599627370497]}"), IOTKIT_OK);
    cr_assert_eq(iotkit_jwt_claims_set_int(c, "exp", 2000), IOTKIT_OK);
    char *token = NULL;
    cr_assert_eq(iotkit_jwt_create(c, IOTKIT_JWT_EDDSA, k, NULL, &token), IOTKIT_OK);
    iotkit_jwt_verify_opts_t o;
    verify_opts(&o, IOTKIT_JWT_EDDSA, k, 1000);
    iotkit_jwt_claims_t *got = NULL;
    cr_assert_eq(iotkit_jwt_verify(token, &o, &got), IOTKIT_OK);
    int64_t n = 0;
    iotkit_err_t gr = iotkit_jwt_claims_get_int(got, "n", &n);
    cr_assert_eq(gr, IOTKIT_OK, "claim %zu: %s", i, iotkit_err_name(gr));
    cr_assert_eq(n, values[i], "claim %zu: %lld became %lld", i, (long long)values[i], (long long)n);
    iotkit_free(token);
    iotkit_jwt_claims_free(c);
    iotkit_jwt_claims_free(got);
  }
  iotkit_key_free(k);
}
