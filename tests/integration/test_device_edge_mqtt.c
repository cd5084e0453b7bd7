// requires: mqtt
/* Edge analytics end to end through a real mosquitto on 127.0.0.1: a configuration
   pushed as desired state changes what the device sends, a rule calls a local
   command handler and raises an event, an invalid configuration is refused and
   reported while the old one stays active, and the configuration survives a
   restart of the device (POSIX HAL state directory). */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_fixture.h"
#include "hal_tmpdir.h"
#include "mosquitto_server.h"
#include "mqtt_peer.h"
#include "peer_wait.h"

#define T(suffix) "iotkit/v1/edev/" suffix
#define WAIT_MS 10000

static device_fixture_t fx;
static mosq_server_t *srv;
static iotkit_device_t *dev;
static mqtt_peer_t *peer;
static char dir[256];
static atomic_int cooled;

static void setup(void) {
  srv = mosq_server_new();
  cr_assert_not_null(srv);
  cr_assert(mosq_server_start(srv));
  device_fixture_init(&fx, mosq_server_uri(srv));
  hal_tmpdir_make(dir, sizeof(dir));
  fx.cfg.device_id = "edev";
  fx.cfg.hal = NULL;
  fx.cfg.state_dir = dir;
  peer = mqtt_peer_new(&(mqtt_peer_opts_t){.port = mosq_server_port(srv), .topic = "iotkit/v1/#", .qos = 1});
  cr_assert_not_null(peer);
}

static void teardown(void) {
  iotkit_device_free(dev);
  dev = NULL;
  mqtt_peer_free(peer);
  device_fixture_fini(&fx);
  mosq_server_free(srv);
  hal_tmpdir_remove(dir);
}
TestSuite(device_edge_mqtt, .init = setup, .fini = teardown, .timeout = 60);

static void cool(iotkit_device_t *d, void *user, const char *id, const char *name, const char *params,
                 iotkit_command_t *cmd) {
  (void)d, (void)user, (void)id, (void)name, (void)params;
  atomic_fetch_add(&cooled, 1);
  iotkit_command_complete(cmd, NULL);
}

static bool online(void *arg) { return iotkit_device_is_connected(arg); }
static bool cooled_once(void *arg) { return atomic_load(&cooled) >= *(int *)arg; }

static void start_device(void) {
  cr_assert_eq(iotkit_device_new(&fx.cfg, &dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_command_register(dev, "cool", cool, NULL), IOTKIT_OK);
  cr_assert_eq(iotkit_device_start(dev), IOTKIT_OK);
  cr_assert(device_fixture_wait(&fx, NULL, online, dev, WAIT_MS));
}

static uint64_t send_temp(int64_t ts, double v) {
  iotkit_telemetry_batch_t *b = NULL;
  cr_assert_eq(iotkit_telemetry_batch_new(NULL, &b), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_batch_add_double(b, "temp", "Cel", ts, v), IOTKIT_OK);
  uint64_t seq = 0;
  cr_assert_eq(iotkit_device_send_batch(dev, b, IOTKIT_TELEMETRY_FORMAT_JSON, &seq, NULL), IOTKIT_OK);
  iotkit_telemetry_batch_free(b);
  return seq;
}

static void publish_desired(const char *doc) {
  cr_assert(mqtt_peer_publish(peer, T("state/desired"), doc, strlen(doc), 1, true));
}

#define CONFIG_V1                                                                                              \
  "{\"version\":1,\"state\":{\"edge\":{\"streams\":[{\"metric\":\"temp\",\"processors\":[{\"type\":\"deadband\"," \
  "\"absolute\":0.5},{\"type\":\"threshold\",\"name\":\"hot\",\"above\":30,\"hysteresis\":1}]}],"             \
  "\"rules\":[{\"name\":\"overheat\",\"when\":{\"detector\":\"hot\"},\"actions\":[{\"command\":\"cool\"},"     \
  "{\"event\":\"overheat\"}]}]}}}"

#define CONFIG_V2_BAD                                                                                          \
  "{\"version\":2,\"state\":{\"edge\":{\"streams\":[{\"metric\":\"temp\",\"processors\":[{\"type\":\"deadband\"," \
  "\"absolute\":5},{\"type\":\"window\",\"mode\":\"sliding\",\"points\":100000000,\"aggregates\":[\"mean\"]}]}]}}}"

Test(device_edge_mqtt, desired_state_retunes_the_device_and_a_bad_one_is_refused) {
  start_device();
  size_t from = mqtt_peer_count(peer);
  publish_desired(CONFIG_V1);
  cr_assert_not_null(peer_wait_for(peer, from, T("state/reported"), "\"edge\":{\"active\":true,\"version\":1}", WAIT_MS, NULL));

  /* Report by exception: 20 sent, 20.3 held, 21 sent. */
  from = mqtt_peer_count(peer);
  cr_assert_gt(send_temp(1000, 20.0), 0);
  cr_assert_eq(send_temp(2000, 20.3), 0);
  cr_assert_gt(send_temp(3000, 21.0), 0);
  cr_assert_not_null(peer_wait_for(peer, from, T("telemetry"), "21", WAIT_MS, NULL));
  iotkit_edge_stats_t st;
  cr_assert_eq(iotkit_device_edge_stats(dev, &st), IOTKIT_OK);
  cr_assert_eq(st.points_held, 1);

  /* The rule: the local handler and the event. */
  from = mqtt_peer_count(peer);
  cr_assert_gt(send_temp(4000, 31.0), 0);
  int one = 1;
  cr_assert(device_fixture_wait(&fx, NULL, cooled_once, &one, WAIT_MS));
  cr_assert_not_null(peer_wait_for(peer, from, T("events/overheat"), "\"rule\":\"overheat\"", WAIT_MS, NULL));

  /* Refused as a whole, reported, the old configuration still active. */
  from = mqtt_peer_count(peer);
  publish_desired(CONFIG_V2_BAD);
  cr_assert_not_null(peer_wait_for(peer, from, T("state/reported"),
                                   "\"refused\":{\"version\":2,\"code\":\"IOTKIT_ERR_TOO_LARGE\","
                                   "\"pointer\":\"/streams/0/processors/1/points\"", WAIT_MS, NULL));
  cr_assert_eq(send_temp(5000, 31.3), 0, "the band of 0.5 still holds");
  cr_assert_gt(send_temp(6000, 32.0), 0);
}

Test(device_edge_mqtt, the_configuration_survives_a_restart) {
  start_device();
  size_t from = mqtt_peer_count(peer);
  publish_desired(CONFIG_V1);
  cr_assert_not_null(peer_wait_for(peer, from, T("state/reported"), "\"edge\":{\"active\":true,\"version\":1}", WAIT_MS, NULL));
  cr_assert_eq(iotkit_device_free(dev), IOTKIT_OK);
  dev = NULL;

  from = mqtt_peer_count(peer);
  start_device(); /* the same state directory: a restarted device */
  cr_assert_not_null(peer_wait_for(peer, from, T("state/reported"), "\"edge\":{\"active\":true,\"version\":1}", WAIT_MS, NULL));
  cr_assert_gt(send_temp(1000, 20.0), 0);
  cr_assert_eq(send_temp(2000, 20.4), 0);
  atomic_store(&cooled, 0);
  cr_assert_gt(send_temp(3000, 35.0), 0);
  int one = 1;
  cr_assert(device_fixture_wait(&fx, NULL, cooled_once, &one, WAIT_MS));
}
