/* Connection supervision: reconnect with full-jitter backoff, re-subscription
   and re-sent state, the credentials callback, the loop connecting by itself.
   On the capture transport with the manual clock. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_fixture.h"

static model_fixture_t fx;
static void setup(void) { model_fixture_init(&fx); }
static void teardown(void) { model_fixture_fini(&fx); }
TestSuite(device_supervisor, .init = setup, .fini = teardown);

static int ups, downs;
static void on_conn(iotkit_device_t *dev, void *user, bool up, iotkit_err_t reason, const char *detail) {
  (void)dev, (void)user, (void)reason, (void)detail;
  if (up)
    ups++;
  else
    downs++;
}

static iotkit_device_t *make(void) {
  ups = downs = 0;
  cr_assert_eq(iotkit_device_new(&fx.cfg, &fx.dev), IOTKIT_OK);
  iotkit_device_on_connection(fx.dev, on_conn, NULL);
  return fx.dev;
}

/* Delays announced in the log, in order ("next connection attempt in N ms"). */
static int delays(unsigned *out, int max) {
  const char *p = iotkit_hal_memory_log(fx.hal);
  int n = 0;
  while (n < max && (p = strstr(p, "next connection attempt in ")) != NULL) {
    p += strlen("next connection attempt in ");
    out[n++] = (unsigned)strtoul(p, NULL, 10);
  }
  return n;
}

Test(device_supervisor, lost_connection_comes_back_with_subscriptions_status_and_state) {
  fx.cfg.reconnect_min_ms = 200;
  make();
  model_fixture_connect(&fx);
  cr_assert_eq(iotkit_device_subscribe(fx.dev, "config/#", 1), IOTKIT_OK);
  cr_assert_eq(iotkit_device_report(fx.dev, "{\"a\":1}"), IOTKIT_OK);
  capture_drop();
  model_fixture_pump(&fx);
  cr_assert_eq(downs, 1);
  cr_assert_not(iotkit_device_is_connected(fx.dev));
  unsigned d[4];
  cr_assert_eq(delays(d, 4), 1);
  cr_assert_leq(d[0], 200);
  model_fixture_advance(&fx, d[0]);
  model_fixture_pump(&fx);
  cr_assert_eq(ups, 2);
  cr_assert(iotkit_device_is_connected(fx.dev));
  cr_assert(capture_subscribed("iotkit/v1/sensor-1/config/#"));
  cr_assert(capture_subscribed("iotkit/v1/sensor-1/commands/request"));
  cr_assert(capture_subscribed("iotkit/v1/sensor-1/state/desired"));
  cr_assert_eq(model_fixture_count("status"), 2);
  cr_assert_eq(model_fixture_count("state/reported"), 2);
  cr_assert_str_eq(model_fixture_last("state/reported"), "{\"state\":{\"a\":1},\"ts\":1767225600000}");
}

Test(device_supervisor, backoff_doubles_up_to_the_maximum_with_jitter) {
  fx.cfg.reconnect_min_ms = 100;
  fx.cfg.reconnect_max_ms = 1000;
  make();
  model_fixture_connect(&fx);
  capture_refuse(true);
  capture_drop();
  model_fixture_pump(&fx);
  /* Each failed attempt doubles the bound: 100, 200, 400, 800, then 1000 for ever. */
  for (int i = 0; i < 8; i++) {
    model_fixture_advance(&fx, 1000);
    model_fixture_pump(&fx);
  }
  unsigned d[16];
  int n = delays(d, 16);
  cr_assert_geq(n, 8);
  unsigned bound = 100, sum = 0;
  bool all_equal_bound = true;
  for (int i = 0; i < n; i++) {
    cr_assert_leq(d[i], bound, "delay %d = %u > %u", i, d[i], bound);
    all_equal_bound = all_equal_bound && d[i] == bound;
    sum += d[i];
    bound = bound * 2 > 1000 ? 1000 : bound * 2;
  }
  cr_assert_not(all_equal_bound, "no jitter");
  cr_assert_gt(sum, 0);
  capture_refuse(false);
  model_fixture_advance(&fx, 1000);
  model_fixture_pump(&fx);
  cr_assert(iotkit_device_is_connected(fx.dev));
  cr_assert_eq(downs, 1); /* failed attempts are not reported as transitions */
}

Test(device_supervisor, no_reconnect_when_turned_off) {
  fx.cfg.auto_reconnect = false;
  make();
  model_fixture_connect(&fx);
  int connects = capture_connects();
  capture_drop();
  model_fixture_pump(&fx);
  model_fixture_advance(&fx, 120000);
  model_fixture_pump(&fx);
  cr_assert_eq(capture_connects(), connects);
  cr_assert_not(iotkit_device_is_connected(fx.dev));
}

Test(device_supervisor, no_reconnect_after_a_requested_disconnect) {
  make();
  model_fixture_connect(&fx);
  int connects = capture_connects();
  cr_assert_eq(iotkit_device_disconnect(fx.dev), IOTKIT_OK);
  model_fixture_advance(&fx, 120000);
  cr_assert_eq(iotkit_device_poll(fx.dev, 0), IOTKIT_OK);
  cr_assert_eq(capture_connects(), connects);
}

static int cred_calls;
static iotkit_err_t cred_result;
static iotkit_err_t refresh(iotkit_device_t *dev, void *user, char *u, size_t ucap, char *p, size_t pcap) {
  (void)dev, (void)user;
  cred_calls++;
  cr_assert_eq(ucap, IOTKIT_MAX_CREDENTIAL);
  cr_assert_eq(pcap, IOTKIT_MAX_CREDENTIAL);
  if (cred_calls == 1) cr_assert_str_eq(p, "initial");
  snprintf(u, ucap, "user");
  snprintf(p, pcap, "token-%d", cred_calls);
  return cred_result;
}

Test(device_supervisor, credentials_are_refreshed_before_every_connect) {
  fx.cfg.password = "initial";
  fx.cfg.reconnect_min_ms = 1;
  make();
  cred_result = IOTKIT_OK;
  cr_assert_eq(iotkit_device_on_credentials(fx.dev, refresh, NULL), IOTKIT_OK);
  model_fixture_connect(&fx);
  cr_assert_str_eq(capture_password(), "token-1");
  capture_drop();
  model_fixture_pump(&fx);
  model_fixture_advance(&fx, 1);
  model_fixture_pump(&fx);
  cr_assert(iotkit_device_is_connected(fx.dev));
  cr_assert_eq(cred_calls, 2);
  cr_assert_str_eq(capture_password(), "token-2");
}

Test(device_supervisor, failing_credentials_callback_fails_the_connect) {
  fx.cfg.password = "initial";
  make();
  cred_result = IOTKIT_ERR_AUTH;
  iotkit_device_on_credentials(fx.dev, refresh, NULL);
  cr_assert_eq(iotkit_device_connect(fx.dev), IOTKIT_ERR_AUTH);
  cr_assert_eq(capture_connects(), 0);
  char buf[IOTKIT_ERROR_TEXT_SIZE];
  cr_assert_not_null(strstr(iotkit_device_last_error(fx.dev, buf, sizeof(buf)), "credentials callback"));
}

Test(device_supervisor, on_credentials_null_device) {
  cr_assert_eq(iotkit_device_on_credentials(NULL, refresh, NULL), IOTKIT_ERR_INVALID_ARG);
}

static bool is_up(void *arg) { return iotkit_device_is_connected(arg); }

Test(device_supervisor, started_loop_connects_by_itself) {
  make();
  cr_assert_eq(iotkit_device_report(fx.dev, "{\"boot\":1}"), IOTKIT_OK);
  cr_assert_eq(iotkit_device_start(fx.dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_connect(fx.dev), IOTKIT_ERR_STATE);
  bool up = false;
  for (int i = 0; i < 5000 && !up; i++) {
    up = is_up(fx.dev);
    if (!up) fx.hal->sleep_ms(fx.hal->ctx, 1);
  }
  cr_assert(up);
  cr_assert_eq(iotkit_device_stop(fx.dev), IOTKIT_OK);
  cr_assert_eq(ups, 1);
  cr_assert_eq(model_fixture_count("state/reported"), 1);
}

Test(device_supervisor, defaults) {
  iotkit_device_config_t cfg;
  iotkit_device_config_init(&cfg);
  cr_assert(cfg.auto_reconnect);
  cr_assert_eq(cfg.reconnect_min_ms, IOTKIT_RECONNECT_MIN_DEFAULT_MS);
  cr_assert_eq(cfg.reconnect_max_ms, IOTKIT_RECONNECT_MAX_DEFAULT_MS);
  cr_assert_eq(cfg.command_timeout_ms, IOTKIT_COMMAND_TIMEOUT_DEFAULT_MS);
}
