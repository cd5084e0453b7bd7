/* JWT device auth end to end on the capture transport: the credentials hook
   takes its password from an iotkit_jwt_provider on the memory HAL's manual
   clock; every token the transport is given is verified as a server would
   (iotkit_jwt_verify with the device's public key only), and a new token is
   minted after the refresh margin, across reconnects. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "model_fixture.h"

#define LIFETIME_S 600u
#define MARGIN_S 150u

static model_fixture_t f;
static iotkit_key_t *key, *pub;
static iotkit_jwt_provider_t *provider;

static iotkit_err_t credentials(iotkit_device_t *dev, void *user, char *username, size_t ucap, char *password,
                               size_t pcap) {
  (void)dev, (void)username, (void)ucap;
  return iotkit_jwt_provider_get(user, password, pcap, NULL);
}

static void setup(void) {
  model_fixture_init(&f);
  f.cfg.username = "sensor-1";
  f.cfg.reconnect_min_ms = 100;
  f.cfg.reconnect_max_ms = 100;
  cr_assert_eq(iotkit_key_generate(f.hal, IOTKIT_KEY_ED25519, &key), IOTKIT_OK);
  char *pem = NULL;
  cr_assert_eq(iotkit_key_export_public_pem(key, &pem), IOTKIT_OK);
  cr_assert_eq(iotkit_key_load(pem, strlen(pem), &pub), IOTKIT_OK); /* what the server holds */
  iotkit_free(pem);
  iotkit_jwt_provider_config_t pc;
  iotkit_jwt_provider_config_init(&pc);
  pc.key = key;
  pc.alg = IOTKIT_JWT_EDDSA;
  pc.device_id = "sensor-1";
  pc.audience = "broker";
  pc.hal = f.hal;
  pc.lifetime_s = LIFETIME_S;
  pc.refresh_margin_s = MARGIN_S;
  cr_assert_eq(iotkit_jwt_provider_new(&pc, &provider), IOTKIT_OK);
  cr_assert_eq(iotkit_device_new(&f.cfg, &f.dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_on_credentials(f.dev, credentials, provider), IOTKIT_OK);
}

static void teardown(void) {
  iotkit_device_free(f.dev);
  f.dev = NULL;
  iotkit_jwt_provider_free(provider);
  iotkit_key_free(pub);
  iotkit_key_free(key);
  model_fixture_fini(&f);
}
TestSuite(device_jwt_auth, .init = setup, .fini = teardown, .timeout = 30);

static int64_t now_s(void) { return f.hal->wall_ms(f.hal->ctx) / 1000; }

/* Verify the password the transport was last given, as the server would, now; returns its iat. */
static int64_t verify_presented(char *token, size_t cap) {
  snprintf(token, cap, "%s", capture_password());
  iotkit_jwt_verify_opts_t vo;
  iotkit_jwt_verify_opts_init(&vo);
  vo.alg = IOTKIT_JWT_EDDSA;
  vo.key = pub;
  vo.hal = f.hal;
  vo.audience = "broker";
  iotkit_jwt_claims_t *claims = NULL;
  iotkit_err_t err = iotkit_jwt_verify(token, &vo, &claims);
  cr_assert_eq(err, IOTKIT_OK, "presented token refused: %s", iotkit_err_name(err));
  int64_t iat = 0, exp = 0;
  const char *sub = NULL;
  cr_assert_eq(iotkit_jwt_claims_get_int(claims, "iat", &iat), IOTKIT_OK);
  cr_assert_eq(iotkit_jwt_claims_get_int(claims, "exp", &exp), IOTKIT_OK);
  cr_assert_eq(iotkit_jwt_claims_get_string(claims, "sub", &sub), IOTKIT_OK);
  cr_assert_str_eq(sub, "sensor-1");
  cr_assert_eq(exp, iat + (int64_t)LIFETIME_S);
  cr_assert_leq(iat, now_s());
  cr_assert_gt(exp - now_s(), (int64_t)MARGIN_S, "a token inside its refresh margin was presented");
  iotkit_jwt_claims_free(claims);
  return iat;
}

/* Lose the connection and let the supervisor bring it back (on the manual clock). */
static void reconnect(void) {
  int creates = capture_creates();
  capture_drop();
  model_fixture_pump(&f);
  cr_assert_not(iotkit_device_is_connected(f.dev));
  for (int i = 0; i < 20 && !(iotkit_device_is_connected(f.dev) && capture_creates() > creates); i++) {
    model_fixture_advance(&f, 50);
    model_fixture_pump(&f);
  }
  cr_assert(iotkit_device_is_connected(f.dev), "no reconnect");
  cr_assert_gt(capture_creates(), creates);
}

Test(device_jwt_auth, each_connect_presents_a_valid_token_refreshed_after_the_margin) {
  char first[1024], token[1024];
  cr_assert_eq(iotkit_device_connect(f.dev), IOTKIT_OK);
  model_fixture_pump(&f);
  int64_t iat1 = verify_presented(first, sizeof(first));
  cr_assert_eq(iat1, now_s());

  /* Well before the margin: a reconnect presents the same token. */
  model_fixture_advance(&f, 100 * 1000);
  reconnect();
  cr_assert_eq(verify_presented(token, sizeof(token)), iat1);
  cr_assert_str_eq(token, first);

  /* Past the refresh margin (less than MARGIN_S left, not yet expired): a new token. */
  model_fixture_advance(&f, (LIFETIME_S - MARGIN_S - 100 + 10) * 1000ull);
  reconnect();
  int64_t iat2 = verify_presented(token, sizeof(token));
  cr_assert_gt(iat2, iat1);
  cr_assert_str_neq(token, first);

  /* The first token, which the device no longer presents, is now close to expiry and
     expires as the server sees it; the new one still verifies. */
  model_fixture_advance(&f, MARGIN_S * 1000ull);
  iotkit_jwt_verify_opts_t vo;
  iotkit_jwt_verify_opts_init(&vo);
  vo.alg = IOTKIT_JWT_EDDSA;
  vo.key = pub;
  vo.hal = f.hal;
  cr_assert_eq(iotkit_jwt_verify(first, &vo, NULL), IOTKIT_ERR_JWT_EXPIRED);
  cr_assert_eq(iotkit_jwt_verify(token, &vo, NULL), IOTKIT_OK);
  reconnect();
  cr_assert_eq(verify_presented(token, sizeof(token)), iat2);
}

Test(device_jwt_auth, a_token_signed_by_another_key_is_refused_by_the_server_side) {
  cr_assert_eq(iotkit_device_connect(f.dev), IOTKIT_OK);
  iotkit_key_t *other = NULL;
  cr_assert_eq(iotkit_key_generate(f.hal, IOTKIT_KEY_ED25519, &other), IOTKIT_OK);
  iotkit_jwt_verify_opts_t vo;
  iotkit_jwt_verify_opts_init(&vo);
  vo.alg = IOTKIT_JWT_EDDSA;
  vo.key = other;
  vo.hal = f.hal;
  cr_assert_eq(iotkit_jwt_verify(capture_password(), &vo, NULL), IOTKIT_ERR_BAD_SIGNATURE);
  iotkit_key_free(other);
}
