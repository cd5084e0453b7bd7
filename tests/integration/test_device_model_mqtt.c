/* The device model against a real mosquitto on 127.0.0.1, checked by an
   independent libmosquitto client: desired state, commands, reconnects, bad input. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_fixture.h"
#include "hal_tmpdir.h"
#include "mosquitto_server.h"
#include "mqtt_peer.h"
#include "peer_wait.h"

#ifdef IOTKIT_TEST_VIA_HUB /* the same suite through iotkit-hub: see test_device_model_hub_*.c */
#include "hub_fixture.h"
static hub_srv_t *hub;
static char hub_uri[256];
/* Criterion does not run the suite's fini after a skip: stop the servers first. */
#define MQTT_ONLY(why)                                  \
  do {                                                  \
    hub_srv_free(hub);                                  \
    hub = NULL;                                         \
    mosq_server_free(srv);                              \
    srv = NULL;                                         \
    cr_skip_test("not through the hub: %s", why);      \
  } while (0)
#else
#define MQTT_ONLY(why) ((void)0)
#endif

#define T(suffix) "iotkit/v1/mdev/" suffix
#define WAIT_MS 10000

static device_fixture_t fx;
static mosq_server_t *srv;
static iotkit_device_t *dev;
static mqtt_peer_t *peer;

static void setup(void) {
  srv = mosq_server_new();
  cr_assert_not_null(srv);
  cr_assert(mosq_server_start(srv));
  device_fixture_init(&fx, mosq_server_uri(srv));
  fx.cfg.device_id = "mdev";
  fx.cfg.reconnect_min_ms = 100;
  fx.cfg.reconnect_max_ms = 500;
#ifdef IOTKIT_TEST_VIA_HUB
  hub = hub_fixture_for_device(HUB_BIN, mosq_server_uri(srv), IOTKIT_TEST_VIA_HUB, &fx.cfg, hub_uri, sizeof hub_uri);
#endif
}

static void teardown(void) {
  iotkit_device_free(dev);
  dev = NULL;
  mqtt_peer_free(peer);
  peer = NULL;
  device_fixture_fini(&fx);
#ifdef IOTKIT_TEST_VIA_HUB
  hub_srv_free(hub);
  hub = NULL;
#endif
  mosq_server_free(srv);
}
TestSuite(device_model_mqtt, .init = setup, .fini = teardown, .timeout = 60);

static mqtt_peer_t *new_peer(void) {
  mqtt_peer_t *p = mqtt_peer_new(&(mqtt_peer_opts_t){.port = mosq_server_port(srv), .topic = "iotkit/v1/#", .qos = 1});
  cr_assert_not_null(p);
  return p;
}

static void publish(const char *topic, const char *json, bool retain) {
  cr_assert(mqtt_peer_publish(peer, topic, json, strlen(json), 1, retain));
}

/* What the desired callback saw (from the loop thread). */
static struct {
  atomic_int calls;
  char delta[256];
  uint64_t version;
} desired;

static void on_desired(iotkit_device_t *d, void *user, const char *delta, uint64_t version) {
  (void)d, (void)user;
  snprintf(desired.delta, sizeof(desired.delta), "%s", delta);
  desired.version = version;
  atomic_fetch_add(&desired.calls, 1);
}

static void ping(iotkit_device_t *d, void *user, const char *id, const char *name, const char *params,
                 iotkit_command_t *cmd) {
  (void)d, (void)user, (void)id, (void)name, (void)params;
  iotkit_command_complete(cmd, "{\"pong\":true}");
}

static void never(iotkit_device_t *d, void *user, const char *id, const char *name, const char *params,
                  iotkit_command_t *cmd) {
  (void)d, (void)user, (void)id, (void)name, (void)params, (void)cmd; /* released by free */
}

static bool online(void *arg) { return iotkit_device_is_connected(arg); }
/* The connection callback runs after the state flips: wait for the callback itself. */
static bool one_down(void *arg) { return atomic_load(&((device_counts_t *)arg)->downs) >= 1; }
static bool one_up(void *arg) { return atomic_load(&((device_counts_t *)arg)->ups) >= 1; }
static bool desired_called(void *arg) { return atomic_load(&desired.calls) >= *(int *)arg; }

/* A device with handlers, its loop running, connected; the peer watching. */
static void running_device(void) {
  memset(&desired, 0, sizeof(desired));
  cr_assert_eq(iotkit_device_new(&fx.cfg, &dev), IOTKIT_OK);
  iotkit_device_on_desired(dev, on_desired, NULL);
  iotkit_device_command_register(dev, "ping", ping, NULL);
  iotkit_device_command_register(dev, "never", never, NULL);
  cr_assert_eq(iotkit_device_report(dev, "{\"fw\":\"1.0\"}"), IOTKIT_OK);
  if (!peer) peer = new_peer();
  cr_assert_eq(iotkit_device_start(dev), IOTKIT_OK);
  cr_assert(device_fixture_wait(&fx, NULL, online, dev, WAIT_MS));
  cr_assert_not_null(peer_wait_for(peer, 0, T("status"), "online", WAIT_MS, NULL));
}

static void expect_response(size_t from, const char *want) {
  const mqtt_peer_msg_t *m = peer_next_on(peer, from, T("commands/response"), WAIT_MS);
  cr_assert_not_null(m, "no response");
  cr_assert_str_eq((const char *)m->payload, want);
}

Test(device_model_mqtt, command_gets_the_documented_response) {
  running_device();
  size_t from = mqtt_peer_count(peer);
  publish(T("commands/request"), "{\"id\":\"1\",\"name\":\"ping\"}", false);
  expect_response(from, "{\"id\":\"1\",\"status\":\"ok\",\"result\":{\"pong\":true}}");
  const mqtt_peer_msg_t *m = peer_next_on(peer, from, T("commands/response"), WAIT_MS);
  cr_assert_eq(m->qos, 1);
  cr_assert_not(m->retain);
}

Test(device_model_mqtt, unknown_command_gets_the_error_response) {
  running_device();
  size_t from = mqtt_peer_count(peer);
  publish(T("commands/request"), "{\"id\":\"2\",\"name\":\"launch\"}", false);
  expect_response(from, "{\"id\":\"2\",\"status\":\"error\",\"error\":{\"code\":\"unknown_command\","
                        "\"message\":\"no handler for command 'launch'\"}}");
}

Test(device_model_mqtt, slow_handler_gets_the_timeout_response) {
  fx.cfg.command_timeout_ms = 300;
  running_device();
  size_t from = mqtt_peer_count(peer);
  publish(T("commands/request"), "{\"id\":\"3\",\"name\":\"never\"}", false);
  expect_response(from, "{\"id\":\"3\",\"status\":\"error\",\"error\":{\"code\":\"timeout\","
                        "\"message\":\"no result within 300 ms\"}}");
}

Test(device_model_mqtt, desired_changed_while_offline_is_applied_after_reconnect) {
  memset(&desired, 0, sizeof(desired));
  cr_assert_eq(iotkit_device_new(&fx.cfg, &dev), IOTKIT_OK);
  iotkit_device_on_desired(dev, on_desired, NULL);
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_disconnect(dev), IOTKIT_OK);
  peer = new_peer();
  publish(T("state/desired"), "{\"version\":5,\"state\":{\"interval_ms\":250}}", true);
  cr_assert_eq(atomic_load(&desired.calls), 0);
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_OK);
  int one = 1;
  cr_assert(device_fixture_wait(&fx, dev, desired_called, &one, WAIT_MS));
  cr_assert_str_eq(desired.delta, "{\"interval_ms\":250}");
  cr_assert_eq(desired.version, 5);
}

Test(device_model_mqtt, restarted_device_applies_the_stored_desired_state_before_connecting) {
  MQTT_ONLY("it stops the broker to make the connect fail");
  char dir[256];
  hal_tmpdir_make(dir, sizeof(dir));
  fx.cfg.hal = NULL;
  fx.cfg.state_dir = dir;
  running_device();
  publish(T("state/desired"), "{\"version\":3,\"state\":{\"led\":\"on\"}}", true);
  int one = 1;
  cr_assert(device_fixture_wait(&fx, NULL, desired_called, &one, WAIT_MS));
  iotkit_device_free(dev);
  dev = NULL;

  /* Restarted with nothing listening: the stored state is applied, then the connect fails. */
  cr_assert(mosq_server_stop(srv));
  memset(&desired, 0, sizeof(desired));
  cr_assert_eq(iotkit_device_new(&fx.cfg, &dev), IOTKIT_OK);
  iotkit_device_on_desired(dev, on_desired, NULL);
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_ERR_CONNECT);
  cr_assert_eq(atomic_load(&desired.calls), 1);
  cr_assert_str_eq(desired.delta, "{\"led\":\"on\"}");
  cr_assert_eq(desired.version, 3);
  iotkit_device_free(dev);
  dev = NULL;
  hal_tmpdir_remove(dir);
}

Test(device_model_mqtt, broker_restart_reconnects_resubscribes_and_reports_again) {
  MQTT_ONLY("the device's session is with the hub, which rides out the broker restart");
  device_counts_t c = {.want = 0};
  running_device();
  iotkit_device_on_connection(dev, device_counts_on_connection, &c);
  mqtt_peer_free(peer);
  peer = NULL;
  cr_assert(mosq_server_stop(srv));
  cr_assert(device_fixture_wait(&fx, NULL, one_down, &c, WAIT_MS));
  cr_assert(mosq_server_restart(srv));
  /* The bound: the longest backoff (500 ms) plus a connect; the budget is generous. */
  cr_assert(device_fixture_wait(&fx, NULL, one_up, &c, WAIT_MS));
  cr_assert(iotkit_device_is_connected(dev));
  cr_assert_eq(atomic_load(&c.ups), 1);
  cr_assert_geq(atomic_load(&c.downs), 1);
  /* Every wait the device chose stayed within the backoff bound. */
  int waits = 0;
  for (const char *p = iotkit_hal_memory_log(fx.hal); (p = strstr(p, "next connection attempt in ")) != NULL; waits++) {
    p += strlen("next connection attempt in ");
    cr_assert_leq(strtoul(p, NULL, 10), 500ul);
  }
  cr_assert_geq(waits, 1);
  /* The broker kept nothing (no persistence): retained status and state come from the device again. */
  peer = new_peer();
  cr_assert_not_null(peer_wait_for(peer, 0, T("status"), "\"online\"", WAIT_MS, NULL));
  const mqtt_peer_msg_t *rep = peer_next_on(peer, 0, T("state/reported"), WAIT_MS);
  cr_assert_not_null(rep);
  cr_assert(rep->retain);
  cr_assert_not_null(strstr((const char *)rep->payload, "{\"state\":{\"fw\":\"1.0\"},\"ts\":"));
  size_t from = mqtt_peer_count(peer);
  publish(T("commands/request"), "{\"id\":\"again\",\"name\":\"ping\"}", false);
  expect_response(from, "{\"id\":\"again\",\"status\":\"ok\",\"result\":{\"pong\":true}}");
}

/* ------------------------------------------------------------ bad input -- */
/* The device answers requests in order, so if the first response after a bad
   request is the one to a good request sent after it, the bad one got none. */

static void bad_then_ping(const char *topic, const char *bad) {
  size_t from = mqtt_peer_count(peer);
  publish(topic, bad, false);
  publish(T("commands/request"), "{\"id\":\"ok\",\"name\":\"ping\"}", false);
  expect_response(from, "{\"id\":\"ok\",\"status\":\"ok\",\"result\":{\"pong\":true}}");
  cr_assert(iotkit_device_is_connected(dev));
}

Test(device_model_mqtt, malformed_command_json_is_ignored) {
  running_device();
  bad_then_ping(T("commands/request"), "{\"id\":\"bad\",\"name\":\"ping\",\"params\":{oops}}");
  cr_assert(strstr(iotkit_hal_memory_log(fx.hal), "ignored a command request: not JSON"));
}

Test(device_model_mqtt, command_params_not_an_object_is_bad_request) {
  running_device();
  size_t from = mqtt_peer_count(peer);
  publish(T("commands/request"), "{\"id\":\"p\",\"name\":\"ping\",\"params\":\"x\"}", false);
  expect_response(from, "{\"id\":\"p\",\"status\":\"error\",\"error\":{\"code\":\"bad_request\","
                        "\"message\":\"params must be a JSON object\"}}");
}

Test(device_model_mqtt, command_for_another_device_id_gets_no_response) {
  running_device();
  size_t from = mqtt_peer_count(peer);
  bad_then_ping("iotkit/v1/other/commands/request", "{\"id\":\"x\",\"name\":\"ping\"}");
  cr_assert_null(peer_next_on(peer, from, "iotkit/v1/other/commands/response", 0));
}

Test(device_model_mqtt, command_over_max_payload_is_ignored) {
  fx.cfg.max_payload = 200;
  running_device();
  char big[400];
  snprintf(big, sizeof(big), "{\"id\":\"big\",\"name\":\"ping\",\"params\":{\"pad\":\"%0300d\"}}", 0);
  bad_then_ping(T("commands/request"), big);
#ifdef IOTKIT_TEST_VIA_HUB
  if (strncmp(IOTKIT_TEST_VIA_HUB, "http", 4) == 0) { /* the HTTP backend drops it while reading, with its own line */
    cr_assert(strstr(iotkit_hal_memory_log(fx.hal), "exceeds the limit of 200 bytes; dropped"));
    return;
  }
#endif
  cr_assert(strstr(iotkit_hal_memory_log(fx.hal), "ignored a message of 346 bytes on iotkit/v1/mdev/commands/request"));
}

Test(device_model_mqtt, malformed_desired_is_ignored_and_the_next_applied) {
  MQTT_ONLY("the hub passes on the latest desired state: the malformed one may be skipped");
  running_device();
  publish(T("state/desired"), "{\"version\":2,\"state\":", true);
  publish(T("state/desired"), "{\"version\":3,\"state\":{\"a\":1}}", true);
  int one = 1;
  cr_assert(device_fixture_wait(&fx, NULL, desired_called, &one, WAIT_MS));
  cr_assert_eq(desired.version, 3);
  cr_assert_eq(atomic_load(&desired.calls), 1);
  cr_assert(strstr(iotkit_hal_memory_log(fx.hal), "ignored a desired state: not JSON"));
}

/* A broker that stops answering without closing the connection (half-open) is
   found by the keepalive, and the device comes back when it answers again. */
Test(device_model_mqtt, frozen_broker_is_noticed_by_the_keepalive, .timeout = 90) {
  MQTT_ONLY("MQTT keepalive");
  device_counts_t c = {.want = 0};
  fx.cfg.keepalive_s = 5; /* the least libmosquitto allows */
  fx.cfg.connect_timeout_ms = 2000;
  running_device();
  iotkit_device_on_connection(dev, device_counts_on_connection, &c);
  cr_assert(mosq_server_pause(srv, true));
  /* Ping after one keepalive of silence, give up after another: about 10 s. */
  cr_assert(device_fixture_wait(&fx, NULL, one_down, &c, 30000));
  cr_assert_eq(atomic_load(&c.downs), 1);
  cr_assert(device_fixture_error_has(dev, "lost"));
  cr_assert(mosq_server_pause(srv, false));
  cr_assert(device_fixture_wait(&fx, NULL, one_up, &c, 30000));
  cr_assert(iotkit_device_is_connected(dev));
  cr_assert_eq(atomic_load(&c.ups), 1);
}
