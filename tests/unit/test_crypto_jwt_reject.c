/* JWS/JWT: every refused token and argument, each with its exact code. */
#include "test_crypto_jwt_util.h"

/* Verify `token` as ES256 with the RFC 7515 A.3 public key at a time before its exp. */
static iotkit_err_t verify_es256(const char *token) {
  iotkit_key_t *pub = load_pem(RFC7515_EC_PUB_PEM);
  iotkit_jwt_verify_opts_t o;
  verify_opts(&o, IOTKIT_JWT_ES256, pub, RFC7515_EXP - 1);
  iotkit_jwt_claims_t *c = (iotkit_jwt_claims_t *)0x1;
  iotkit_err_t rc = iotkit_jwt_verify(token, &o, &c);
  if (rc != IOTKIT_OK) cr_assert_eq(c, (iotkit_jwt_claims_t *)0x1, "claims written on failure");
  if (rc == IOTKIT_OK) iotkit_jwt_claims_free(c);
  iotkit_key_free(pub);
  return rc;
}

/* The A.3 token with the character at `at` replaced by `with`. */
static iotkit_err_t verify_altered(size_t at, char with) {
  char t[sizeof RFC7515_A3_TOKEN];
  strcpy(t, RFC7515_A3_TOKEN);
  cr_assert_neq(t[at], with);
  t[at] = with;
  return verify_es256(t);
}

Test(jwt_reject, untouched_token_passes) { cr_assert_eq(verify_es256(RFC7515_A3_TOKEN), IOTKIT_OK); }

Test(jwt_reject, flipped_bit_in_signature) {
  /* 'D' -> 'C' flips the lowest bit of the first signature byte's 6-bit group. */
  size_t at = strlen(RFC7515_A3_TOKEN) - 86;
  cr_assert_eq(RFC7515_A3_TOKEN[at], 'D');
  cr_assert_eq(verify_altered(at, 'C'), IOTKIT_ERR_BAD_SIGNATURE);
}

Test(jwt_reject, flipped_bit_in_payload) {
  size_t at = strlen("eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJq"); /* inside "joe" */
  cr_assert_eq(RFC7515_A3_TOKEN[at], 'b');
  cr_assert_eq(verify_altered(at, 'c'), IOTKIT_ERR_BAD_SIGNATURE);
}

Test(jwt_reject, signature_by_another_key) {
  /* A valid ES256 token made with a fresh P-256 key, verified with the A.3 key. */
  uint64_t counter = 0;
  iotkit_hal_t hal;
  test_hal(&hal, &counter);
  iotkit_key_t *other = NULL;
  cr_assert_eq(iotkit_key_generate(&hal, IOTKIT_KEY_P256, &other), IOTKIT_OK);
  const char *payload = "{\"iss\":\"joe\",\"exp\":1300819380}";
  char *token = NULL;
  cr_assert_eq(iotkit_jws_sign(IOTKIT_JWT_ES256, other, NULL, NULL, payload, strlen(payload), &token), IOTKIT_OK);
  cr_assert_eq(verify_es256(token), IOTKIT_ERR_BAD_SIGNATURE);
  iotkit_free(token);
  iotkit_key_free(other);
}

Test(jwt_reject, signature_stripped) {
  char t[sizeof RFC7515_A3_TOKEN];
  strcpy(t, RFC7515_A3_TOKEN);
  strrchr(t, '.')[1] = '\0';
  cr_assert_eq(verify_es256(t), IOTKIT_ERR_BAD_SIGNATURE);
}

Test(jwt_reject, alg_none_rfc7515_a5) { cr_assert_eq(verify_es256(RFC7515_A5_TOKEN), IOTKIT_ERR_JWT_ALG_NONE); }

Test(jwt_reject, alg_none_any_case_with_signature) {
  char *t = craft("{\"alg\":\"NoNe\"}", "{\"exp\":1300819380}", "AAAA");
  cr_assert_eq(verify_es256(t), IOTKIT_ERR_JWT_ALG_NONE);
  free(t);
}

Test(jwt_reject, alg_confusion_hs256_with_public_key_as_secret) {
  /* The classic attack: HMAC the token with the verifier's public key bytes. */
  char *t = craft("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", "{\"iss\":\"joe\",\"exp\":1300819380}", "");
  uint8_t mac[32];
  cr_assert_eq(iotkit_hmac_sha256(RFC7515_EC_PUB_PEM, strlen(RFC7515_EC_PUB_PEM), t, strlen(t) - 1, mac), IOTKIT_OK);
  size_t n = strlen(t);
  t = realloc(t, n + 64);
  cr_assert_eq(iotkit_base64url_encode(mac, 32, t + n, 64, NULL), IOTKIT_OK);
  cr_assert_eq(verify_es256(t), IOTKIT_ERR_JWT_ALG);
  free(t);
}

Test(jwt_reject, alg_mismatch_rs256_token_for_es256) {
  cr_assert_eq(verify_es256(RFC7515_A2_TOKEN), IOTKIT_ERR_JWT_ALG);
}

Test(jwt_reject, expected_alg_with_key_of_other_type_is_bad_key) {
  iotkit_key_t *ec = load_pem(RFC7515_EC_PUB_PEM);
  iotkit_jwt_verify_opts_t o;
  verify_opts(&o, IOTKIT_JWT_RS256, ec, RFC7515_EXP - 1);
  cr_assert_eq(iotkit_jwt_verify(RFC7515_A2_TOKEN, &o, NULL), IOTKIT_ERR_BAD_KEY);
  iotkit_key_free(ec);
}

/* Verify the A.3 token as ES256 with these options. */
static iotkit_err_t a3_with(int64_t now, uint32_t leeway, const iotkit_hal_t *hal, const char *audience) {
  iotkit_key_t *pub = load_pem(RFC7515_EC_PUB_PEM);
  iotkit_jwt_verify_opts_t o;
  verify_opts(&o, IOTKIT_JWT_ES256, pub, now);
  o.leeway_s = leeway;
  o.hal = hal;
  o.audience = audience;
  iotkit_err_t rc = iotkit_jwt_verify(RFC7515_A3_TOKEN, &o, NULL);
  iotkit_key_free(pub);
  return rc;
}

Test(jwt_reject, expired) { cr_assert_eq(a3_with(RFC7515_EXP, 0, NULL, NULL), IOTKIT_ERR_JWT_EXPIRED); }

/* Sign claims with the RFC 8037 Ed25519 key and verify at `now` with `leeway`. */
static iotkit_err_t eddsa_claims_at(const char *payload, int64_t now, uint32_t leeway) {
  iotkit_key_t *k = rfc8037_key(true);
  char *token = NULL;
  cr_assert_eq(iotkit_jws_sign(IOTKIT_JWT_EDDSA, k, "JWT", NULL, payload, strlen(payload), &token), IOTKIT_OK);
  iotkit_jwt_verify_opts_t o;
  verify_opts(&o, IOTKIT_JWT_EDDSA, k, now);
  o.leeway_s = leeway;
  iotkit_err_t rc = iotkit_jwt_verify(token, &o, NULL);
  iotkit_free(token);
  iotkit_key_free(k);
  return rc;
}

Test(jwt_reject, not_yet_valid) {
  cr_assert_eq(eddsa_claims_at("{\"nbf\":1000,\"exp\":5000}", 999, 0), IOTKIT_ERR_JWT_NOT_YET_VALID);
}

Test(jwt_reject, nbf_within_leeway_passes) {
  cr_assert_eq(eddsa_claims_at("{\"nbf\":1000,\"exp\":5000}", 990, 10), IOTKIT_OK);
}

Test(jwt_reject, missing_exp_when_required) {
  cr_assert_eq(eddsa_claims_at("{\"sub\":\"x\"}", 1000, 0), IOTKIT_ERR_JWT_CLAIM);
}

Test(jwt_reject, exp_not_a_number) {
  cr_assert_eq(eddsa_claims_at("{\"exp\":\"5000\"}", 1000, 0), IOTKIT_ERR_JWT_CLAIM);
}

Test(jwt_reject, nbf_not_a_number) {
  cr_assert_eq(eddsa_claims_at("{\"exp\":5000,\"nbf\":true}", 1000, 0), IOTKIT_ERR_JWT_CLAIM);
}

Test(jwt_reject, payload_not_a_json_object) {
  cr_assert_eq(eddsa_claims_at("[1,2]", 1000, 0), IOTKIT_ERR_JWT_MALFORMED);
}

Test(jwt_reject, payload_with_duplicate_claim) {
  cr_assert_eq(eddsa_claims_at("{\"exp\":1,\"exp\":5000}", 1000, 0), IOTKIT_ERR_JWT_MALFORMED);
}

Test(jwt_reject, payload_with_trailing_bytes) {
  cr_assert_eq(eddsa_claims_at("{\"exp\":5000}x", 1000, 0), IOTKIT_ERR_JWT_MALFORMED);
}

Test(jwt_reject, rfc8037_plain_payload_is_not_a_jwt) {
  iotkit_key_t *pub = rfc8037_key(false);
  iotkit_jwt_verify_opts_t o;
  verify_opts(&o, IOTKIT_JWT_EDDSA, pub, 1000);
  cr_assert_eq(iotkit_jwt_verify(RFC8037_A4_TOKEN, &o, NULL), IOTKIT_ERR_JWT_MALFORMED);
  iotkit_key_free(pub);
}

Test(jwt_reject, audience_missing) { cr_assert_eq(a3_with(RFC7515_EXP - 1, 0, NULL, "broker"), IOTKIT_ERR_JWT_AUDIENCE); }

/* ------------------------------------------------------------- malformed -- */

Test(jwt_reject, two_parts) { cr_assert_eq(verify_es256("eyJhbGciOiJFUzI1NiJ9.e30"), IOTKIT_ERR_JWT_MALFORMED); }

Test(jwt_reject, four_parts) {
  cr_assert_eq(verify_es256(RFC7515_A3_TOKEN ".x"), IOTKIT_ERR_JWT_MALFORMED);
}

Test(jwt_reject, empty_header) { cr_assert_eq(verify_es256(".e30.AAAA"), IOTKIT_ERR_JWT_MALFORMED); }

Test(jwt_reject, header_bad_base64url) {
  cr_assert_eq(verify_es256("eyJhbGciOiJFUzI1NiJ9=.e30.AAAA"), IOTKIT_ERR_JWT_MALFORMED);
}

Test(jwt_reject, header_not_json) {
  char *t = craft("alg=ES256", "{}", "AAAA");
  cr_assert_eq(verify_es256(t), IOTKIT_ERR_JWT_MALFORMED);
  free(t);
}

Test(jwt_reject, header_without_alg) {
  char *t = craft("{\"typ\":\"JWT\"}", "{}", "AAAA");
  cr_assert_eq(verify_es256(t), IOTKIT_ERR_JWT_MALFORMED);
  free(t);
}

Test(jwt_reject, header_with_duplicate_alg) {
  char *t = craft("{\"alg\":\"ES256\",\"alg\":\"none\"}", "{}", "AAAA");
  cr_assert_eq(verify_es256(t), IOTKIT_ERR_JWT_MALFORMED);
  free(t);
}

Test(jwt_reject, header_with_crit_is_unsupported) {
  char *t = craft("{\"alg\":\"ES256\",\"crit\":[\"exp\"],\"exp\":1}", "{}", "AAAA");
  cr_assert_eq(verify_es256(t), IOTKIT_ERR_UNSUPPORTED);
  free(t);
}

Test(jwt_reject, signature_bad_base64url) {
  char t[sizeof RFC7515_A3_TOKEN + 1];
  strcpy(t, RFC7515_A3_TOKEN);
  strcat(t, "=");
  cr_assert_eq(verify_es256(t), IOTKIT_ERR_JWT_MALFORMED);
}

Test(jwt_reject, too_long) {
  size_t n = IOTKIT_JWT_MAX_LEN + 10;
  char *t = malloc(n + 1);
  memset(t, 'A', n);
  t[n] = '\0';
  cr_assert_eq(verify_es256(t), IOTKIT_ERR_TOO_LARGE);
  free(t);
}

/* ------------------------------------------------------------- arguments -- */

Test(jwt_reject, now_zero_without_hal) { cr_assert_eq(a3_with(0, 0, NULL, NULL), IOTKIT_ERR_INVALID_ARG); }

Test(jwt_reject, now_given_in_milliseconds) { cr_assert_eq(a3_with(INT64_C(1300819000) * 1000, 0, NULL, NULL), IOTKIT_ERR_INVALID_ARG); }

Test(jwt_reject, leeway_too_large) { cr_assert_eq(a3_with(RFC7515_EXP - 1, IOTKIT_JWT_MAX_LEEWAY_S + 1, NULL, NULL), IOTKIT_ERR_INVALID_ARG); }

Test(jwt_reject, hal_without_wall_clock) {
  iotkit_hal_t hal;
  memset(&hal, 0, sizeof hal);
  cr_assert_eq(a3_with(RFC7515_EXP - 1, 0, &hal, NULL), IOTKIT_ERR_UNSUPPORTED);
}

Test(jwt_reject, sign_with_public_key_is_bad_key) {
  iotkit_key_t *pub = rfc8037_key(false);
  char *token = (char *)0x1;
  cr_assert_eq(iotkit_jws_sign(IOTKIT_JWT_EDDSA, pub, NULL, NULL, "x", 1, &token), IOTKIT_ERR_BAD_KEY);
  cr_assert_eq(token, (char *)0x1);
  iotkit_key_free(pub);
}

Test(jwt_reject, sign_with_key_of_other_type_is_bad_key) {
  iotkit_key_t *k = rfc8037_key(true);
  char *token = NULL;
  cr_assert_eq(iotkit_jws_sign(IOTKIT_JWT_ES256, k, NULL, NULL, "x", 1, &token), IOTKIT_ERR_BAD_KEY);
  iotkit_key_free(k);
}

Test(jwt_reject, sign_payload_too_large) {
  iotkit_key_t *k = rfc8037_key(true);
  size_t n = IOTKIT_JWT_MAX_LEN;
  char *big = calloc(1, n);
  char *token = NULL;
  cr_assert_eq(iotkit_jws_sign(IOTKIT_JWT_EDDSA, k, NULL, NULL, big, n, &token), IOTKIT_ERR_TOO_LARGE);
  free(big);
  iotkit_key_free(k);
}

Test(jwt_reject, null_args) {
  iotkit_key_t *k = rfc8037_key(true);
  iotkit_jwt_claims_t *c = NULL;
  cr_assert_eq(iotkit_jwt_claims_new(&c), IOTKIT_OK);
  char *token = NULL, *payload = NULL;
  iotkit_jwt_verify_opts_t o;
  verify_opts(&o, IOTKIT_JWT_EDDSA, k, 1000);
  cr_assert_eq(iotkit_jws_sign(IOTKIT_JWT_EDDSA, NULL, NULL, NULL, "x", 1, &token), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_jws_sign(IOTKIT_JWT_EDDSA, k, NULL, NULL, NULL, 1, &token), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_jws_sign(IOTKIT_JWT_EDDSA, k, NULL, NULL, "x", 1, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_jws_sign((iotkit_jwt_alg_t)9, k, NULL, NULL, "x", 1, &token), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_jws_verify(NULL, IOTKIT_JWT_EDDSA, k, &payload, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_jws_verify(RFC8037_A4_TOKEN, IOTKIT_JWT_EDDSA, NULL, &payload, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_jws_verify(RFC8037_A4_TOKEN, (iotkit_jwt_alg_t)0, k, &payload, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_jwt_create(NULL, IOTKIT_JWT_EDDSA, k, NULL, &token), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_jwt_create(c, IOTKIT_JWT_EDDSA, NULL, NULL, &token), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_jwt_create(c, IOTKIT_JWT_EDDSA, k, NULL, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_jwt_verify(NULL, &o, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_jwt_verify(RFC8037_A4_TOKEN, NULL, NULL), IOTKIT_ERR_INVALID_ARG);
  o.key = NULL;
  cr_assert_eq(iotkit_jwt_verify(RFC8037_A4_TOKEN, &o, NULL), IOTKIT_ERR_INVALID_ARG);
  iotkit_jwt_verify_opts_init(NULL);
  iotkit_jwt_claims_free(c);
  iotkit_key_free(k);
}
