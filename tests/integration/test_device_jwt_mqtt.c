/* JWT device auth across broker restarts, with a real mosquitto on 127.0.0.1:
   the device's credentials hook takes its password from an iotkit_jwt_provider
   whose wall clock is a memory HAL's manual clock. mosquitto cannot verify a
   JWT, so the test verifies, as the server would (iotkit_jwt_verify with the
   public key only), every token the hook handed to the transport. */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "device_fixture.h"
#include "mosquitto_server.h"

#define LIFETIME_S 600u
#define MARGIN_S 150u
#define WAIT_MS 10000
#define MAX_TOKENS 16

static device_fixture_t fx;
static mosq_server_t *srv;
static iotkit_device_t *dev;
static iotkit_hal_t *clock_hal; /* manual clock for the provider */
static iotkit_key_t *key, *pub;
static iotkit_jwt_provider_t *provider;
static char tokens[MAX_TOKENS][1024];
static atomic_int n_tokens;

/* The hook: the provider's token, and a copy of what the transport is given. */
static iotkit_err_t credentials(iotkit_device_t *d, void *user, char *username, size_t ucap, char *password,
                               size_t pcap) {
  (void)d, (void)username, (void)ucap;
  iotkit_err_t err = iotkit_jwt_provider_get(user, password, pcap, NULL);
  int i = atomic_load(&n_tokens);
  if (err == IOTKIT_OK && i < MAX_TOKENS) {
    snprintf(tokens[i], sizeof tokens[i], "%s", password);
    atomic_store(&n_tokens, i + 1);
  }
  return err;
}

static void setup(void) {
  srv = mosq_server_new();
  cr_assert_not_null(srv);
  cr_assert(mosq_server_start(srv));
  device_fixture_init(&fx, mosq_server_uri(srv));
  fx.cfg.device_id = "jdev";
  fx.cfg.username = "jdev";
  fx.cfg.reconnect_min_ms = 100;
  fx.cfg.reconnect_max_ms = 300;
  iotkit_hal_memory_config_t mc;
  iotkit_hal_memory_config_init(&mc);
  mc.manual_clock = true;
  cr_assert_eq(iotkit_hal_memory_new(&mc, &clock_hal), IOTKIT_OK);
  cr_assert_eq(iotkit_key_generate(clock_hal, IOTKIT_KEY_P256, &key), IOTKIT_OK);
  char *pem = NULL;
  cr_assert_eq(iotkit_key_export_public_pem(key, &pem), IOTKIT_OK);
  cr_assert_eq(iotkit_key_load(pem, strlen(pem), &pub), IOTKIT_OK);
  iotkit_free(pem);
  iotkit_jwt_provider_config_t pc;
  iotkit_jwt_provider_config_init(&pc);
  pc.key = key;
  pc.alg = IOTKIT_JWT_ES256;
  pc.device_id = "jdev";
  pc.hal = clock_hal;
  pc.lifetime_s = LIFETIME_S;
  pc.refresh_margin_s = MARGIN_S;
  cr_assert_eq(iotkit_jwt_provider_new(&pc, &provider), IOTKIT_OK);
}

static void teardown(void) {
  iotkit_device_free(dev);
  iotkit_jwt_provider_free(provider);
  iotkit_key_free(pub);
  iotkit_key_free(key);
  iotkit_hal_free(clock_hal);
  device_fixture_fini(&fx);
  mosq_server_free(srv);
}
TestSuite(device_jwt_mqtt, .init = setup, .fini = teardown, .timeout = 60);

static bool online(void *arg) { return iotkit_device_is_connected(arg); }
static bool offline(void *arg) { return !iotkit_device_is_connected(arg); }
static bool tokens_at_least(void *arg) { return atomic_load(&n_tokens) >= *(int *)arg; }

static int64_t now_s(void) { return clock_hal->wall_ms(clock_hal->ctx) / 1000; }

/* Verify token @p i at the provider's current time; returns its iat. */
static int64_t verify(int i) {
  iotkit_jwt_verify_opts_t vo;
  iotkit_jwt_verify_opts_init(&vo);
  vo.alg = IOTKIT_JWT_ES256;
  vo.key = pub;
  vo.hal = clock_hal;
  iotkit_jwt_claims_t *claims = NULL;
  iotkit_err_t err = iotkit_jwt_verify(tokens[i], &vo, &claims);
  cr_assert_eq(err, IOTKIT_OK, "token %d refused: %s", i, iotkit_err_name(err));
  int64_t iat = 0, exp = 0;
  cr_assert_eq(iotkit_jwt_claims_get_int(claims, "iat", &iat), IOTKIT_OK);
  cr_assert_eq(iotkit_jwt_claims_get_int(claims, "exp", &exp), IOTKIT_OK);
  cr_assert_eq(exp, iat + (int64_t)LIFETIME_S);
  cr_assert_gt(exp - now_s(), (int64_t)MARGIN_S, "token %d presented inside its refresh margin", i);
  iotkit_jwt_claims_free(claims);
  return iat;
}

/* Restart the broker and wait until the device is back with one more token presented. */
static int restart_broker(void) {
  int before = atomic_load(&n_tokens);
  cr_assert(mosq_server_stop(srv));
  cr_assert(device_fixture_wait(&fx, NULL, offline, dev, WAIT_MS));
  cr_assert(mosq_server_restart(srv));
  int want = before + 1;
  cr_assert(device_fixture_wait(&fx, NULL, tokens_at_least, &want, WAIT_MS), "the hook was not called");
  cr_assert(device_fixture_wait(&fx, NULL, online, dev, WAIT_MS), "no reconnect");
  return atomic_load(&n_tokens) - 1; /* the token of the session that came up */
}

Test(device_jwt_mqtt, a_fresh_token_on_every_connect_refreshed_after_the_margin_across_broker_restarts) {
  cr_assert_eq(iotkit_device_new(&fx.cfg, &dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_on_credentials(dev, credentials, provider), IOTKIT_OK);
  cr_assert_eq(iotkit_device_start(dev), IOTKIT_OK);
  cr_assert(device_fixture_wait(&fx, NULL, online, dev, WAIT_MS));
  cr_assert_eq(atomic_load(&n_tokens), 1);
  int64_t iat1 = verify(0);
  cr_assert_eq(iat1, now_s());

  /* Before the margin: the reconnect presents the same, still valid, token. */
  cr_assert_eq(iotkit_hal_memory_advance(clock_hal, 100 * 1000), IOTKIT_OK);
  int i = restart_broker();
  cr_assert_eq(verify(i), iat1);
  cr_assert_str_eq(tokens[i], tokens[0]);

  /* Past the margin: the reconnect mints and presents a new token. */
  cr_assert_eq(iotkit_hal_memory_advance(clock_hal, (LIFETIME_S - MARGIN_S - 100 + 10) * 1000ull), IOTKIT_OK);
  i = restart_broker();
  int64_t iat2 = verify(i);
  cr_assert_eq(iat2, now_s());
  cr_assert_gt(iat2, iat1);
  cr_assert_str_neq(tokens[i], tokens[0]);
}
