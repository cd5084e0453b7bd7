// requires: mqtt fleet
/* End-to-end protection between the fleet and real device handles sealing
   with their keys (docs/protocol.md, "Payload envelope"), through a real
   mosquitto: telemetry, reported state, events and command responses opened;
   commands and desired state sealed; a plain device beside them; a wrong key
   (IOTKIT_ERR_CRYPTO_AUTH, counted, nothing delivered, no crash); a sealed
   message with no key for it; a plain message from a device that has a key. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "fleet_live.h"
#include "net_util.h"

static fleet_live_t fx;
static void setup(void) { fleet_live_setup(&fx, false); }
static void teardown(void) { fleet_live_teardown(&fx); }
TestSuite(fleet_e2e, .init = setup, .fini = teardown, .timeout = 120);

static const uint8_t key_e1[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                   17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const uint8_t key_e2[32] = {0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5,
                                   0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5,
                                   0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0x5a};
static const uint8_t key_wrong[32] = {0x5a};

/* The fleet's keys: e1 (right), e2 (the fleet holds a wrong one), keyed (a key, but its
   device sends plain); every other device has none. */
static pthread_mutex_t asked_mu = PTHREAD_MUTEX_INITIALIZER;
static int asked;
static iotkit_err_t keys(iotkit_fleet_t *f, void *user, const char *id, const char *kid, uint8_t key[32],
                         char kid_out[33]) {
  (void)f, (void)user;
  pthread_mutex_lock(&asked_mu);
  asked++;
  pthread_mutex_unlock(&asked_mu);
  const uint8_t *k = strcmp(id, "e1") == 0      ? key_e1
                     : strcmp(id, "e2") == 0    ? key_wrong
                     : strcmp(id, "keyed") == 0 ? key_e1
                                                : NULL;
  if (!k) return IOTKIT_ERR_NOT_FOUND;
  if (kid && strcmp(kid, "k1") != 0) return IOTKIT_ERR_NOT_FOUND;
  memcpy(key, k, 32);
  snprintf(kid_out, 33, "k1");
  return IOTKIT_OK;
}

static void open_with_keys(void) {
  fx.cfg.key_cb = keys;
  fx.cfg.key_user = NULL;
  fleet_live_open(&fx);
}

static iotkit_fleet_control_stats_t stats(void) {
  iotkit_fleet_control_stats_t st;
  cr_assert_eq(iotkit_fleet_control_stats(fx.fleet, &st), IOTKIT_OK);
  return st;
}

static void ping(iotkit_device_t *dev, void *user, const char *rid, const char *name, const char *params,
                 iotkit_command_t *cmd) {
  (void)dev, (void)user, (void)rid, (void)name, (void)params;
  cr_assert_eq(iotkit_command_complete(cmd, "{\"pong\":true}"), IOTKIT_OK);
}

static iotkit_device_t *device(const char *id, const uint8_t *key) {
  fleet_live_register(&fx, id);
  iotkit_device_t *d = fleet_live_device_e2e(&fx, id, key, key ? "k1" : NULL);
  cr_assert_eq(iotkit_device_command_register(d, "ping", ping, NULL), IOTKIT_OK);
  cr_assert(fleet_live_wait_online(&fx, id, true), "%s online", id);
  return d;
}

static void send_temp(iotkit_device_t *d, double v) {
  char doc[64];
  snprintf(doc, sizeof doc, "{\"temperature\":%g}", v);
  cr_assert_eq(iotkit_device_send_telemetry(d, doc, strlen(doc), NULL), IOTKIT_OK);
}

/* The fleet's latest temperature of @p id, or -1 if none. */
static double latest_temp(const char *id) {
  iotkit_telemetry_batch_t *b = NULL;
  if (iotkit_fleet_latest(fx.fleet, id, "temperature", &b) != IOTKIT_OK) return -1;
  const iotkit_telemetry_point_t *p = NULL;
  double v = -1;
  if (iotkit_telemetry_batch_get(b, 0, &p) == IOTKIT_OK) v = p->value.d;
  iotkit_telemetry_batch_free(b);
  return v;
}

static bool wait_temp(const char *id, double v) {
  uint64_t end = test_now_ms() + FLEET_LIVE_WAIT_MS;
  while (latest_temp(id) != v && test_now_ms() < end) test_msleep(5);
  return latest_temp(id) == v;
}

static bool wait_rejected(uint64_t n) {
  uint64_t end = test_now_ms() + FLEET_LIVE_WAIT_MS;
  while (stats().e2e_rejected < n && test_now_ms() < end) test_msleep(5);
  return stats().e2e_rejected >= n;
}

Test(fleet_e2e, sealed_round_trip_beside_a_plain_device) {
  open_with_keys();
  iotkit_device_t *e1 = device("e1", key_e1);
  iotkit_device_t *p1 = device("p1", NULL);
  send_temp(e1, 21.5);
  send_temp(p1, 7.25);
  cr_assert(wait_temp("e1", 21.5), "sealed telemetry opened");
  cr_assert(wait_temp("p1", 7.25), "plain telemetry read");
  /* Reported state and events, sealed by the device. */
  cr_assert_eq(iotkit_device_report(e1, "{\"fw\":\"1.0\"}"), IOTKIT_OK);
  uint64_t end = test_now_ms() + FLEET_LIVE_WAIT_MS;
  char *state = NULL;
  while (test_now_ms() < end) {
    if (iotkit_fleet_state(fx.fleet, "e1", &state, NULL) == IOTKIT_OK && state && strstr(state, "1.0")) break;
    iotkit_free(state);
    state = NULL;
    test_msleep(5);
  }
  cr_assert_not_null(state);
  cr_assert_str_eq(state, "{\"fw\":\"1.0\"}");
  iotkit_free(state);
  /* A command sealed to the device, its response sealed back. */
  iotkit_fleet_results_t *res = NULL;
  iotkit_err_t rc = iotkit_fleet_command_call(fx.fleet, "e1", "ping", NULL, 5000, &res);
  cr_assert_eq(rc, IOTKIT_OK, "%s", iotkit_err_name(rc));
  cr_assert_str_eq(res->items[0].result_json, "{\"pong\":true}");
  iotkit_fleet_results_free(res);
  cr_assert_eq(iotkit_fleet_command_call(fx.fleet, "p1", "ping", NULL, 5000, &res), IOTKIT_OK);
  iotkit_fleet_results_free(res);
  /* Desired state sealed to it (retained). */
  uint64_t v = 0;
  cr_assert_eq(iotkit_fleet_desired_set(fx.fleet, "e1", "{\"led\":\"on\"}", &v), IOTKIT_OK);
  end = test_now_ms() + FLEET_LIVE_WAIT_MS;
  uint64_t dv = 0;
  char *ds = NULL;
  while (test_now_ms() < end) {
    if (iotkit_device_desired(e1, &ds, &dv) == IOTKIT_OK && dv == v) break;
    iotkit_free(ds);
    ds = NULL;
    test_msleep(5);
  }
  cr_assert_eq(dv, 1);
  cr_assert_str_eq(ds, "{\"led\":\"on\"}");
  iotkit_free(ds);
  cr_assert_eq(iotkit_device_e2e_rejected(e1), 0, "the device opened all the fleet sent");
  iotkit_fleet_control_stats_t st = stats();
  cr_assert_eq(st.e2e_rejected, 0);
  cr_assert_eq(st.e2e_last_error, IOTKIT_OK);
  cr_assert_geq(st.e2e_opened, 3); /* telemetry, state, response */
  cr_assert_eq(st.e2e_sealed, 2);  /* the command and the desired state */
  iotkit_fleet_stats_t fs;
  cr_assert_eq(iotkit_fleet_stats(fx.fleet, &fs), IOTKIT_OK);
  cr_assert_eq(fs.undecodable, 0);
}

Test(fleet_e2e, wrong_key) {
  open_with_keys();
  iotkit_device_t *e2 = device("e2", key_e2); /* the fleet holds key_wrong for it */
  iotkit_device_t *p1 = device("p1", NULL);
  send_temp(e2, 30.0);
  cr_assert(wait_rejected(1));
  iotkit_fleet_control_stats_t st = stats();
  cr_assert_eq(st.e2e_last_error, IOTKIT_ERR_CRYPTO_AUTH, "%s", iotkit_err_name(st.e2e_last_error));
  cr_assert_eq(st.e2e_opened, 0);
  cr_assert_eq(latest_temp("e2"), -1, "nothing of it delivered");
  /* The fleet goes on: the next device's message is read. */
  send_temp(p1, 1.5);
  cr_assert(wait_temp("p1", 1.5));
  /* A command sealed under the wrong key: the device drops it, the fleet times out. */
  iotkit_fleet_results_t *res = NULL;
  cr_assert_eq(iotkit_fleet_command_call(fx.fleet, "e2", "ping", NULL, 500, &res), IOTKIT_ERR_TIMEOUT);
  iotkit_fleet_results_free(res);
  uint64_t end = test_now_ms() + FLEET_LIVE_WAIT_MS;
  while (iotkit_device_e2e_rejected(e2) < 1 && test_now_ms() < end) test_msleep(5);
  cr_assert_geq(iotkit_device_e2e_rejected(e2), 1);
}

Test(fleet_e2e, no_key_for_a_sealed_message_and_plain_from_a_keyed_device) {
  open_with_keys();
  /* "nokey" seals, but the fleet has no key for it. */
  iotkit_device_t *nk = device("nokey", key_e1);
  send_temp(nk, 5.0);
  cr_assert(wait_rejected(1));
  cr_assert_eq(stats().e2e_last_error, IOTKIT_ERR_NOT_FOUND);
  cr_assert_eq(latest_temp("nokey"), -1);
  /* "keyed" has a key at the fleet but sends plain: refused as not an envelope. */
  iotkit_device_t *k = device("keyed", NULL);
  send_temp(k, 6.0);
  cr_assert(wait_rejected(2));
  cr_assert_eq(stats().e2e_last_error, IOTKIT_ERR_BAD_ENCODING);
  cr_assert_eq(latest_temp("keyed"), -1);
  /* Its status (plain by design) still counts: it is online. */
  cr_assert(fleet_live_online(&fx, "keyed"));
}

Test(fleet_e2e, without_a_key_callback_sealed_is_undecodable) {
  fleet_live_open(&fx);
  iotkit_device_t *e1 = device("e1", key_e1);
  send_temp(e1, 9.0);
  uint64_t end = test_now_ms() + FLEET_LIVE_WAIT_MS;
  iotkit_fleet_stats_t fs = {0};
  while (test_now_ms() < end) {
    cr_assert_eq(iotkit_fleet_stats(fx.fleet, &fs), IOTKIT_OK);
    if (fs.undecodable >= 1) break;
    test_msleep(5);
  }
  cr_assert_geq(fs.undecodable, 1);
  cr_assert_eq(latest_temp("e1"), -1);
  cr_assert_eq(stats().e2e_rejected, 0);
}
