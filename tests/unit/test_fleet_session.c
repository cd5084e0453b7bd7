// requires: mqtt fleet
/* The fleet's session and live-view calls without a broker: each bad input and
   each wrong state with its code, and the external-loop answers of a fleet
   that is not connected. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "fleet_fixture.h"
#include "net_util.h"

static fleet_fixture_t fx;
static iotkit_fleet_t *fleet;
static iotkit_fleet_config_t cfg;

static void setup(void) {
  fleet_fixture_setup_memory(&fx);
  iotkit_fleet_config_init(&cfg);
  cfg.db_path = ":memory:";
  cfg.hal = fx.hal;
}

static void teardown(void) {
  iotkit_fleet_free(fleet);
  fleet = NULL;
  fleet_fixture_teardown(&fx);
}
TestSuite(fleet_session, .init = setup, .fini = teardown, .timeout = 30);

static iotkit_fleet_t *open_with(const char *uri) {
  cfg.uri = uri;
  cr_assert_eq(iotkit_fleet_new(&cfg, &fleet), IOTKIT_OK);
  return fleet;
}

Test(fleet_session, config_defaults) {
  cr_assert_eq(cfg.mqtt_version, 311);
  cr_assert_eq(cfg.keepalive_s, IOTKIT_KEEPALIVE_DEFAULT_S);
  cr_assert_eq(cfg.connect_timeout_ms, IOTKIT_CONNECT_TIMEOUT_DEFAULT_MS);
  cr_assert_eq(cfg.heartbeat_ms, 0, "stale detection is off by default");
  cr_assert_not(cfg.auto_register, "auto-registration is off by default");
  cr_assert_str_eq(cfg.broker_uptime_topic, "$SYS/broker/uptime");
  cr_assert_eq(cfg.location_history_max, IOTKIT_FLEET_LOCATION_HISTORY_DEFAULT);
}

Test(fleet_session, mqtt_version_other_than_311_or_5) {
  cfg.mqtt_version = 4;
  cr_assert_eq(iotkit_fleet_new(&cfg, &fleet), IOTKIT_ERR_INVALID_ARG);
}

Test(fleet_session, connect_without_uri) {
  open_with(NULL);
  cr_assert_eq(iotkit_fleet_connect(fleet), IOTKIT_ERR_INVALID_ARG);
}

Test(fleet_session, connect_with_a_malformed_uri) {
  open_with("mqtt://");
  cr_assert_eq(iotkit_fleet_connect(fleet), IOTKIT_ERR_BAD_URI);
}

Test(fleet_session, connect_with_an_unknown_scheme) {
  open_with("gopher://127.0.0.1:70");
  cr_assert_eq(iotkit_fleet_connect(fleet), IOTKIT_ERR_UNKNOWN_SCHEME);
}

Test(fleet_session, connect_refused) {
  char uri[64];
  snprintf(uri, sizeof uri, "mqtt://127.0.0.1:%u", (unsigned)test_free_port());
  open_with(uri);
  cr_assert_eq(iotkit_fleet_connect(fleet), IOTKIT_ERR_CONNECT);
  char why[IOTKIT_ERROR_TEXT_SIZE];
  cr_assert(strstr(iotkit_fleet_last_error(fleet, why, sizeof why), "127.0.0.1"), "%s", why);
  cr_assert_not(iotkit_fleet_is_connected(fleet));
  cr_assert_eq(iotkit_fleet_fd(fleet), -1);
}

Test(fleet_session, not_connected_states) {
  open_with("mqtt://127.0.0.1:1");
  cr_assert_eq(iotkit_fleet_poll(fleet, 0), IOTKIT_ERR_NOT_CONNECTED);
  cr_assert_eq(iotkit_fleet_poll(fleet, -1), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_disconnect(fleet), IOTKIT_ERR_NOT_CONNECTED);
  cr_assert_eq(iotkit_fleet_stop(fleet), IOTKIT_ERR_STATE);
  cr_assert_eq(iotkit_fleet_fd(fleet), -1);
  cr_assert_eq(iotkit_fleet_next_timeout_ms(fleet), -1);
  cr_assert_not(iotkit_fleet_is_connected(fleet));
}

/* The fleet's thread keeps trying an unreachable broker, with backoff, until stopped. */
Test(fleet_session, start_keeps_trying) {
  char uri[64];
  snprintf(uri, sizeof uri, "mqtt://127.0.0.1:%u", (unsigned)test_free_port());
  cfg.reconnect_min_ms = 20;
  cfg.reconnect_max_ms = 50;
  open_with(uri);
  cr_assert_eq(iotkit_fleet_start(fleet), IOTKIT_OK);
  cr_assert_eq(iotkit_fleet_start(fleet), IOTKIT_ERR_STATE);
  cr_assert_eq(iotkit_fleet_poll(fleet, 0), IOTKIT_ERR_STATE, "the thread polls");
  cr_assert_eq(iotkit_fleet_connect(fleet), IOTKIT_ERR_STATE);
  test_msleep(200);
  cr_assert_eq(iotkit_fleet_stop(fleet), IOTKIT_OK);
  cr_assert_not(iotkit_fleet_is_connected(fleet));
  /* Stopped, it is still supervising: a poll makes the next attempt. */
  cr_assert_eq(iotkit_fleet_poll(fleet, 10), IOTKIT_OK);
  cr_assert_eq(iotkit_fleet_disconnect(fleet), IOTKIT_OK, "stops the reconnection");
  cr_assert_eq(iotkit_fleet_poll(fleet, 0), IOTKIT_ERR_NOT_CONNECTED);
}

Test(fleet_session, start_without_uri) {
  open_with(NULL);
  cr_assert_eq(iotkit_fleet_start(fleet), IOTKIT_ERR_INVALID_ARG);
}

Test(fleet_session, null_fleet) {
  cr_assert_eq(iotkit_fleet_connect(NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_disconnect(NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_poll(NULL, 0), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_start(NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_stop(NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_sync(NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_fd(NULL), -1);
  cr_assert_eq(iotkit_fleet_next_timeout_ms(NULL), -1);
  cr_assert_not(iotkit_fleet_is_connected(NULL));
  cr_assert_eq(iotkit_fleet_on_status(NULL, NULL, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_on_telemetry(NULL, NULL, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_on_stale(NULL, NULL, NULL), IOTKIT_ERR_INVALID_ARG);
  iotkit_fleet_stats_t s;
  cr_assert_eq(iotkit_fleet_stats(NULL, &s), IOTKIT_ERR_INVALID_ARG);
}

Test(fleet_session, view_queries_bad_input) {
  open_with(NULL);
  cr_assert_eq(fleet_fixture_create(fleet, "d", NULL, NULL, 0), IOTKIT_OK);
  iotkit_fleet_presence_t p;
  cr_assert_eq(iotkit_fleet_presence(fleet, "d", &p), IOTKIT_OK);
  cr_assert_not(p.online);
  cr_assert_eq(p.last_seen_ms, 0);
  cr_assert_eq(p.status_ts_ms, IOTKIT_PROTOCOL_NO_TS);
  cr_assert_eq(iotkit_fleet_presence(fleet, "nobody", &p), IOTKIT_ERR_NOT_FOUND);
  cr_assert_eq(iotkit_fleet_presence(fleet, "bad/id", &p), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_presence_sized(fleet, "d", &p, 0), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_presence_sized(fleet, "d", NULL, sizeof p), IOTKIT_ERR_INVALID_ARG);
  /* A caller compiled with a shorter struct gets only its part. */
  iotkit_fleet_presence_t part;
  memset(&part, 0x5a, sizeof part);
  cr_assert_eq(iotkit_fleet_presence_sized(fleet, "d", &part, sizeof(bool)), IOTKIT_OK);
  cr_assert_eq(part.last_seen_ms, 0x5a5a5a5a5a5a5a5a);
  char *state = (char *)"x";
  cr_assert_eq(iotkit_fleet_state(fleet, "d", &state, NULL), IOTKIT_OK);
  cr_assert_null(state);
  cr_assert_eq(iotkit_fleet_state(fleet, "nobody", &state, NULL), IOTKIT_ERR_NOT_FOUND);
  cr_assert_eq(iotkit_fleet_state(fleet, "d", NULL, NULL), IOTKIT_ERR_INVALID_ARG);
  iotkit_telemetry_batch_t *b = NULL;
  cr_assert_eq(iotkit_fleet_latest(fleet, "d", NULL, &b), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_batch_count(b), 0);
  iotkit_telemetry_batch_free(b);
  cr_assert_eq(iotkit_fleet_latest(fleet, "d", NULL, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_latest(fleet, "", NULL, &b), IOTKIT_ERR_INVALID_ARG);
  iotkit_fleet_stats_t s;
  cr_assert_eq(iotkit_fleet_stats_sized(fleet, &s, 0), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_stats(fleet, &s), IOTKIT_OK);
  cr_assert_eq(s.messages, 0);
  cr_assert_eq(iotkit_fleet_sync(fleet), IOTKIT_OK);
  /* A deleted device leaves the view. */
  cr_assert_eq(iotkit_fleet_device_delete(fleet, "d"), IOTKIT_OK);
  cr_assert_eq(iotkit_fleet_presence(fleet, "d", &p), IOTKIT_ERR_NOT_FOUND);
}
