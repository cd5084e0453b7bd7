/* Device JWT provider: claims, expiry, refresh margin, verification with the public key, bad arguments. */
#include "test_crypto_jwt_util.h"

/* 2026-01-01T00:00:00Z, where the memory HAL's manual wall clock starts. */
#define T0 INT64_C(1767225600)

static iotkit_hal_t *hal;
static iotkit_key_t *priv, *pub;

static void setup(void) {
  iotkit_hal_memory_config_t mc;
  iotkit_hal_memory_config_init(&mc);
  mc.manual_clock = true;
  cr_assert_eq(iotkit_hal_memory_new(&mc, &hal), IOTKIT_OK);
  priv = rfc8037_key(true);
  pub = rfc8037_key(false);
}

static void teardown(void) {
  iotkit_key_free(priv);
  iotkit_key_free(pub);
  iotkit_hal_free(hal);
}

static void config(iotkit_jwt_provider_config_t *c) {
  iotkit_jwt_provider_config_init(c);
  c->key = priv;
  c->alg = IOTKIT_JWT_EDDSA;
  c->device_id = "dev-a";
  c->audience = "broker.example";
  c->hal = hal;
  c->lifetime_s = 600;
  c->refresh_margin_s = 60;
}

static iotkit_jwt_provider_t *make(const iotkit_jwt_provider_config_t *c) {
  iotkit_jwt_provider_t *p = NULL;
  cr_assert_eq(iotkit_jwt_provider_new(c, &p), IOTKIT_OK);
  return p;
}

static void get(iotkit_jwt_provider_t *p, char *buf, size_t cap, int64_t *exp) {
  cr_assert_eq(iotkit_jwt_provider_get(p, buf, cap, exp), IOTKIT_OK);
}

static void advance_s(uint64_t s) { cr_assert_eq(iotkit_hal_memory_advance(hal, s * 1000), IOTKIT_OK); }

static iotkit_err_t verify_at(const char *token, const iotkit_key_t *key, const char *aud, int64_t now) {
  iotkit_jwt_verify_opts_t o;
  verify_opts(&o, IOTKIT_JWT_EDDSA, key, now);
  o.audience = aud;
  return iotkit_jwt_verify(token, &o, NULL);
}

TestSuite(jwt_provider, .init = setup, .fini = teardown);

Test(jwt_provider, token_has_the_device_claims) {
  iotkit_jwt_provider_config_t c;
  config(&c);
  iotkit_jwt_provider_t *p = make(&c);
  char tok[1024];
  int64_t exp = 0;
  get(p, tok, sizeof tok, &exp);
  cr_assert_eq(exp, T0 + 600);
  iotkit_jwt_verify_opts_t o;
  verify_opts(&o, IOTKIT_JWT_EDDSA, pub, T0);
  o.audience = "broker.example";
  iotkit_jwt_claims_t *cl = NULL;
  cr_assert_eq(iotkit_jwt_verify(tok, &o, &cl), IOTKIT_OK);
  const char *s = NULL;
  int64_t v = 0;
  cr_assert_eq(iotkit_jwt_claims_get_string(cl, "iss", &s), IOTKIT_OK);
  cr_assert_str_eq(s, "dev-a");
  cr_assert_eq(iotkit_jwt_claims_get_string(cl, "sub", &s), IOTKIT_OK);
  cr_assert_str_eq(s, "dev-a");
  cr_assert_eq(iotkit_jwt_claims_get_string(cl, "aud", &s), IOTKIT_OK);
  cr_assert_str_eq(s, "broker.example");
  cr_assert_eq(iotkit_jwt_claims_get_int(cl, "iat", &v), IOTKIT_OK);
  cr_assert_eq(v, T0);
  cr_assert_eq(iotkit_jwt_claims_get_int(cl, "exp", &v), IOTKIT_OK);
  cr_assert_eq(v, T0 + 600);
  iotkit_jwt_claims_free(cl);
  iotkit_jwt_provider_free(p);
}

Test(jwt_provider, header_carries_kid_when_given) {
  iotkit_jwt_provider_config_t c;
  config(&c);
  c.kid = "dev-a-2026";
  iotkit_jwt_provider_t *p = make(&c);
  char tok[1024];
  get(p, tok, sizeof tok, NULL);
  char hdr[128];
  size_t n = 0;
  cr_assert_eq(iotkit_base64url_decode(tok, strcspn(tok, "."), hdr, sizeof hdr - 1, &n), IOTKIT_OK);
  hdr[n] = '\0';
  cr_assert_str_eq(hdr, "{\"alg\":\"EdDSA\",\"typ\":\"JWT\",\"kid\":\"dev-a-2026\"}");
  iotkit_jwt_provider_free(p);
}

Test(jwt_provider, no_audience_leaves_aud_out) {
  iotkit_jwt_provider_config_t c;
  config(&c);
  c.audience = NULL;
  iotkit_jwt_provider_t *p = make(&c);
  char tok[1024];
  get(p, tok, sizeof tok, NULL);
  iotkit_jwt_verify_opts_t o;
  verify_opts(&o, IOTKIT_JWT_EDDSA, pub, T0);
  iotkit_jwt_claims_t *cl = NULL;
  cr_assert_eq(iotkit_jwt_verify(tok, &o, &cl), IOTKIT_OK);
  const char *s = NULL;
  cr_assert_eq(iotkit_jwt_claims_get_string(cl, "aud", &s), IOTKIT_ERR_NOT_FOUND);
  iotkit_jwt_claims_free(cl);
  iotkit_jwt_provider_free(p);
}

Test(jwt_provider, token_is_kept_until_the_refresh_margin) {
  iotkit_jwt_provider_config_t c;
  config(&c);
  iotkit_jwt_provider_t *p = make(&c);
  char first[1024], again[1024];
  int64_t exp = 0;
  get(p, first, sizeof first, &exp);
  advance_s(539); /* 61 s left: outside the 60 s margin */
  get(p, again, sizeof again, &exp);
  cr_assert_str_eq(again, first);
  cr_assert_eq(exp, T0 + 600);
  advance_s(1); /* 60 s left: re-minted */
  get(p, again, sizeof again, &exp);
  cr_assert_str_neq(again, first);
  cr_assert_eq(exp, T0 + 540 + 600);
  cr_assert_eq(verify_at(again, pub, "broker.example", T0 + 540), IOTKIT_OK);
  iotkit_jwt_provider_free(p);
}

Test(jwt_provider, default_margin_is_a_quarter_of_the_lifetime) {
  iotkit_jwt_provider_config_t c;
  config(&c);
  c.refresh_margin_s = 0;
  iotkit_jwt_provider_t *p = make(&c);
  char first[1024], again[1024];
  get(p, first, sizeof first, NULL);
  advance_s(449);
  get(p, again, sizeof again, NULL);
  cr_assert_str_eq(again, first);
  advance_s(1);
  get(p, again, sizeof again, NULL);
  cr_assert_str_neq(again, first);
  iotkit_jwt_provider_free(p);
}

Test(jwt_provider, old_token_expires_at_exp) {
  iotkit_jwt_provider_config_t c;
  config(&c);
  iotkit_jwt_provider_t *p = make(&c);
  char tok[1024];
  get(p, tok, sizeof tok, NULL);
  cr_assert_eq(verify_at(tok, pub, "broker.example", T0 + 599), IOTKIT_OK);
  cr_assert_eq(verify_at(tok, pub, "broker.example", T0 + 600), IOTKIT_ERR_JWT_EXPIRED);
  iotkit_jwt_provider_free(p);
}

Test(jwt_provider, wrong_audience_is_refused_by_the_verifier) {
  iotkit_jwt_provider_config_t c;
  config(&c);
  iotkit_jwt_provider_t *p = make(&c);
  char tok[1024];
  get(p, tok, sizeof tok, NULL);
  cr_assert_eq(verify_at(tok, pub, "other.example", T0), IOTKIT_ERR_JWT_AUDIENCE);
  iotkit_jwt_provider_free(p);
}

Test(jwt_provider, invalidate_mints_a_new_token) {
  iotkit_jwt_provider_config_t c;
  config(&c);
  iotkit_jwt_provider_t *p = make(&c);
  char first[1024], again[1024];
  get(p, first, sizeof first, NULL);
  advance_s(1);
  iotkit_jwt_provider_invalidate(p);
  get(p, again, sizeof again, NULL);
  cr_assert_str_neq(again, first);
  iotkit_jwt_provider_invalidate(NULL);
  iotkit_jwt_provider_free(p);
}

Test(jwt_provider, small_buffer_is_refused_untouched) {
  iotkit_jwt_provider_config_t c;
  config(&c);
  iotkit_jwt_provider_t *p = make(&c);
  char small[16] = "untouched";
  int64_t exp = 7;
  cr_assert_eq(iotkit_jwt_provider_get(p, small, sizeof small, &exp), IOTKIT_ERR_BUFFER_TOO_SMALL);
  cr_assert_str_eq(small, "untouched");
  cr_assert_eq(exp, 7);
  iotkit_jwt_provider_free(p);
}

Test(jwt_provider, es256_and_rs256_tokens_verify) {
  iotkit_key_t *ec = load_pem(RFC7515_EC_PRIV_PEM), *ec_pub = load_pem(RFC7515_EC_PUB_PEM);
  iotkit_key_t *rsa = load_pem(RFC7515_RSA_PRIV_PEM), *rsa_pub = load_pem(RFC7515_RSA_PUB_PEM);
  const struct {
    iotkit_jwt_alg_t alg;
    iotkit_key_t *priv, *pub;
  } cases[] = {{IOTKIT_JWT_ES256, ec, ec_pub}, {IOTKIT_JWT_RS256, rsa, rsa_pub}};
  for (size_t i = 0; i < 2; i++) {
    iotkit_jwt_provider_config_t c;
    config(&c);
    c.alg = cases[i].alg;
    c.key = cases[i].priv;
    iotkit_jwt_provider_t *p = make(&c);
    char tok[2048];
    get(p, tok, sizeof tok, NULL);
    iotkit_jwt_verify_opts_t o;
    verify_opts(&o, cases[i].alg, cases[i].pub, T0);
    cr_assert_eq(iotkit_jwt_verify(tok, &o, NULL), IOTKIT_OK);
    iotkit_jwt_provider_free(p);
  }
  iotkit_key_free(ec);
  iotkit_key_free(ec_pub);
  iotkit_key_free(rsa);
  iotkit_key_free(rsa_pub);
}

/* ---- bad arguments ---- */

static iotkit_err_t try_new(const iotkit_jwt_provider_config_t *c) {
  iotkit_jwt_provider_t *p = (iotkit_jwt_provider_t *)0x1;
  iotkit_err_t rc = iotkit_jwt_provider_new(c, &p);
  cr_assert_eq(p, (iotkit_jwt_provider_t *)0x1, "output written on failure");
  return rc;
}

#define BAD_CONFIG(name, edit, want)  \
  Test(jwt_provider, name) {          \
    iotkit_jwt_provider_config_t c;   \
    config(&c);                       \
    edit;                             \
    cr_assert_eq(try_new(&c), want);  \
  }

BAD_CONFIG(new_without_key, c.key = NULL, IOTKIT_ERR_INVALID_ARG)
BAD_CONFIG(new_without_hal, c.hal = NULL, IOTKIT_ERR_INVALID_ARG)
BAD_CONFIG(new_without_device_id, c.device_id = NULL, IOTKIT_ERR_INVALID_ARG)
BAD_CONFIG(new_with_unsafe_device_id, c.device_id = "a/b", IOTKIT_ERR_INVALID_ARG)
BAD_CONFIG(new_with_unknown_alg, c.alg = (iotkit_jwt_alg_t)9, IOTKIT_ERR_INVALID_ARG)
BAD_CONFIG(new_with_lifetime_below_60, c.lifetime_s = 59, IOTKIT_ERR_INVALID_ARG)
BAD_CONFIG(new_with_lifetime_above_a_day, c.lifetime_s = IOTKIT_JWT_LIFETIME_MAX_S + 1, IOTKIT_ERR_INVALID_ARG)
BAD_CONFIG(new_with_margin_equal_to_lifetime, c.refresh_margin_s = c.lifetime_s, IOTKIT_ERR_INVALID_ARG)
BAD_CONFIG(new_with_empty_audience, c.audience = "", IOTKIT_ERR_INVALID_ARG)
BAD_CONFIG(new_with_empty_kid, c.kid = "", IOTKIT_ERR_INVALID_ARG)
BAD_CONFIG(new_with_public_key_only, c.key = pub, IOTKIT_ERR_BAD_KEY)
BAD_CONFIG(new_with_key_of_another_alg, c.alg = IOTKIT_JWT_ES256, IOTKIT_ERR_BAD_KEY)

Test(jwt_provider, new_with_hal_without_wall_clock) {
  iotkit_hal_t bare;
  iotkit_hal_init(&bare);
  iotkit_jwt_provider_config_t c;
  config(&c);
  c.hal = &bare;
  cr_assert_eq(try_new(&c), IOTKIT_ERR_UNSUPPORTED);
}

Test(jwt_provider, new_null_arguments) {
  iotkit_jwt_provider_config_t c;
  config(&c);
  cr_assert_eq(try_new(NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_jwt_provider_new(&c, NULL), IOTKIT_ERR_INVALID_ARG);
}

Test(jwt_provider, get_null_arguments) {
  iotkit_jwt_provider_config_t c;
  config(&c);
  iotkit_jwt_provider_t *p = make(&c);
  char tok[1024];
  cr_assert_eq(iotkit_jwt_provider_get(NULL, tok, sizeof tok, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_jwt_provider_get(p, NULL, sizeof tok, NULL), IOTKIT_ERR_INVALID_ARG);
  iotkit_jwt_provider_free(p);
  iotkit_jwt_provider_free(NULL);
}

static int64_t unset_clock(void *ctx) {
  (void)ctx;
  return 0;
}

Test(jwt_provider, get_with_an_unset_wall_clock_is_a_state_error) {
  iotkit_hal_t h;
  iotkit_hal_init(&h);
  h.wall_ms = unset_clock;
  iotkit_jwt_provider_config_t c;
  config(&c);
  c.hal = &h;
  iotkit_jwt_provider_t *p = make(&c);
  char tok[1024] = "x";
  cr_assert_eq(iotkit_jwt_provider_get(p, tok, sizeof tok, NULL), IOTKIT_ERR_STATE);
  cr_assert_str_eq(tok, "x");
  iotkit_jwt_provider_free(p);
}

Test(jwt_provider, config_init_defaults) {
  iotkit_jwt_provider_config_t c;
  memset(&c, 0xFF, sizeof c);
  iotkit_jwt_provider_config_init(&c);
  cr_assert_null(c.key);
  cr_assert_null(c.audience);
  cr_assert_eq(c.lifetime_s, IOTKIT_JWT_LIFETIME_DEFAULT_S);
  cr_assert_eq(c.refresh_margin_s, 0);
  iotkit_jwt_provider_config_init(NULL);
}

static int64_t settable_clock(void *ctx) { return *(int64_t *)ctx; }

Test(jwt_provider, clock_set_back_before_iat_mints_again) {
  int64_t now_ms = (T0 + 100) * 1000;
  iotkit_hal_t h;
  iotkit_hal_init(&h);
  h.ctx = &now_ms;
  h.wall_ms = settable_clock;
  iotkit_jwt_provider_config_t c;
  config(&c);
  c.hal = &h;
  iotkit_jwt_provider_t *p = make(&c);
  char first[1024], again[1024];
  int64_t exp = 0;
  get(p, first, sizeof first, &exp);
  cr_assert_eq(exp, T0 + 700);
  now_ms = T0 * 1000;
  get(p, again, sizeof again, &exp);
  cr_assert_str_neq(again, first);
  cr_assert_eq(exp, T0 + 600);
  iotkit_jwt_provider_free(p);
}
