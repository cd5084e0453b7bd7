// requires: coap mqtt http
/* iotkit-hub's HTTP front between devices and a real mosquitto, on 127.0.0.1:
 * curl (the command-line tool) and the SDK's HTTP backend on one side, an
 * independent MQTT client on the other. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub_fixture.h"
#include "iotkit/transport.h"
#include "net_util.h"
#include "transport_client.h"

#define HUB_BIN IOTKIT_BINARY_DIR "/tools/iotkit-hub/iotkit-hub"
#define TOKEN1 HUB_FX_KEY1_HEX
#define TOKEN2 HUB_FX_KEY2_HEX

static hub_fixture_t fx;

static void setup(void) { hub_fixture_init(&fx, HUB_BIN); }
static void teardown(void) { hub_fixture_fini(&fx); }
TestSuite(hub_http, .init = setup, .fini = teardown, .timeout = 120);

static void start(bool tls) {
  cr_assert(hub_srv_enable_http(fx.hub, tls));
  hub_fixture_start(&fx);
}

static const mqtt_peer_msg_t *wait_topic(const char *topic, size_t nth) {
  return hub_fixture_wait_topic(&fx, topic, nth);
}

/* curl METHOD hub/PATH with a token (or none) and a JSON body; the HTTP status, or -1. */
static int curl(const char *method, const char *token, const char *path, const char *body) {
  char cmd[1024], auth[128] = "";
  if (token) snprintf(auth, sizeof auth, "-H 'Authorization: Bearer %s'", token);
  snprintf(cmd, sizeof cmd,
           "curl -s -o /dev/null -w '%%{http_code}' --cacert '%s' -X %s %s -H 'Content-Type: application/json' "
           "--data-binary '%s' '%s/%s'",
           hub_srv_file(fx.hub, "ca.crt"), method, auth, body, hub_srv_http_uri(fx.hub), path);
  FILE *p = popen(cmd, "r");
  if (!p) return -1;
  int status = -1;
  if (fscanf(p, "%d", &status) != 1) status = -1;
  pclose(p);
  return status;
}

/* A refused request published nothing: sensor-2's message after it is the only one. */
static void assert_nothing_published_before_sensor2(void) {
  cr_assert_eq(curl("POST", TOKEN2, "iotkit/v1/sensor-2/telemetry", "{\"ok\":1}"), 204);
  cr_assert_not_null(wait_topic("iotkit/v1/sensor-2/telemetry", 0));
  cr_assert_eq(mqtt_peer_count(fx.peer), 1);
}

Test(hub_http, curl_posts_telemetry_over_https_with_a_token_and_it_appears_on_mqtt) {
  start(true);
  cr_assert_eq(curl("POST", TOKEN1, "iotkit/v1/sensor-1/telemetry", "{\"t\":21.5}"), 204);
  const mqtt_peer_msg_t *m = wait_topic("iotkit/v1/sensor-1/telemetry", 0);
  cr_assert_not_null(m, "see %s", hub_srv_log_path(fx.hub));
  cr_assert_str_eq((const char *)m->payload, "{\"t\":21.5}");
  cr_assert_eq(m->qos, 1);
  cr_assert(hub_srv_log_contains(fx.hub, "device sensor-1 (127.0.0.1:"));
  cr_assert(hub_srv_stop(fx.hub));
}

Test(hub_http, without_a_token_401_and_nothing_published) {
  start(true);
  cr_assert_eq(curl("POST", NULL, "iotkit/v1/sensor-1/telemetry", "{\"t\":1}"), 401);
  assert_nothing_published_before_sensor2();
}

Test(hub_http, with_an_unknown_token_401_and_nothing_published) {
  start(true);
  cr_assert_eq(curl("POST", "00ff", "iotkit/v1/sensor-1/telemetry", "{\"t\":1}"), 401);
  assert_nothing_published_before_sensor2();
}

Test(hub_http, with_another_devices_token_403_and_nothing_published) {
  start(true);
  cr_assert_eq(curl("POST", TOKEN2, "iotkit/v1/sensor-1/telemetry", "{\"t\":1}"), 403);
  cr_assert_eq(curl("GET", TOKEN2, "iotkit/v1/sensor-1/state/desired?wait=0", ""), 403);
  assert_nothing_published_before_sensor2();
}

Test(hub_http, reported_state_that_is_not_json_400_and_the_hub_keeps_serving) {
  start(true);
  cr_assert_eq(curl("PUT", TOKEN1, "iotkit/v1/sensor-1/state/reported", "not json"), 400);
  assert_nothing_published_before_sensor2();
}

Test(hub_http, unknown_channel_404) {
  start(true);
  cr_assert_eq(curl("POST", TOKEN1, "iotkit/v1/sensor-1/no/such", "{}"), 404);
  assert_nothing_published_before_sensor2();
}

Test(hub_http, reported_state_by_post_405) {
  start(true);
  cr_assert_eq(curl("POST", TOKEN1, "iotkit/v1/sensor-1/state/reported", "{\"state\":{}}"), 405);
  assert_nothing_published_before_sensor2();
}

Test(hub_http, location_is_published_retained) {
  start(true);
  const char *loc = "{\"lat\":52.52,\"lon\":13.405,\"ts\":1767225600000}";
  cr_assert_eq(curl("POST", TOKEN1, "iotkit/v1/sensor-1/location", loc), 204);
  const mqtt_peer_msg_t *m = wait_topic("iotkit/v1/sensor-1/location", 0);
  cr_assert_not_null(m, "see %s", hub_srv_log_path(fx.hub));
  cr_assert_str_eq((const char *)m->payload, loc);
  /* The broker kept it: a later subscriber gets it at once, marked retained. */
  mqtt_peer_t *late =
      mqtt_peer_new(&(mqtt_peer_opts_t){.port = mosq_server_port(fx.mq), .topic = "iotkit/v1/sensor-1/location", .qos = 1});
  cr_assert_not_null(late);
  cr_assert(mqtt_peer_wait(late, 1, 10000));
  cr_assert(mqtt_peer_get(late, 0)->retain);
  mqtt_peer_free(late);
}

Test(hub_http, location_without_a_latitude_400_and_nothing_published) {
  start(true);
  cr_assert_eq(curl("POST", TOKEN1, "iotkit/v1/sensor-1/location", "{\"lon\":13.405}"), 400);
  assert_nothing_published_before_sensor2();
}

/* A device on the SDK's HTTP backend with its token. */
static tclient_t *sdk_device(const char *id, const char *token) {
  tclient_opts_t o = {.uri = hub_srv_http_uri(fx.hub), .ops = iotkit_transport_http(), .client_id = id, .password = token};
  o.tls.ca_file = hub_srv_file(fx.hub, "ca.crt");
  o.tls.verify_peer = true;
  tclient_t *c = tclient_new(&o);
  cr_assert_not_null(c);
  iotkit_err_t rc = tclient_connect(c);
  cr_assert_eq(rc, IOTKIT_OK, "%s: %s", iotkit_err_name(rc), tclient_last_error(c));
  return c;
}

static void sdk_send(tclient_t *c, const char *channel, const char *payload) {
  uint32_t id = 0;
  cr_assert_eq(tclient_send(c, channel, payload, strlen(payload), 1, &id), IOTKIT_OK);
  iotkit_err_t rc = tclient_wait_delivery(c, id);
  cr_assert_eq(rc, IOTKIT_OK, "%s: %s: %s", channel, iotkit_err_name(rc), tclient_last_error(c));
}

static const tclient_msg_t *wait_message(tclient_t *c, const char *channel) {
  for (uint64_t end = test_now_ms() + 10000; test_now_ms() < end;) {
    for (int i = 0; i < c->messages && i < TCLIENT_MAX_EVENTS; i++) {
      if (strcmp(c->msgs[i].channel, channel) == 0) return &c->msgs[i];
    }
    c->ops->poll(c->ctx, 50);
  }
  return NULL;
}

Test(hub_http, sdk_device_messages_land_on_the_topics_of_an_mqtt_device) {
  start(true);
  tclient_t *dev = sdk_device("sensor-1", TOKEN1);
  sdk_send(dev, "iotkit/v1/sensor-1/telemetry", "{\"seq\":1}");
  sdk_send(dev, "iotkit/v1/sensor-1/state/reported", "{\"state\":{\"fw\":\"1\"},\"ts\":1}");
  sdk_send(dev, "iotkit/v1/sensor-1/events/overheat", "{\"type\":\"overheat\",\"ts\":1,\"data\":{}}");
  const mqtt_peer_msg_t *m = wait_topic("iotkit/v1/sensor-1/telemetry", 0);
  cr_assert_not_null(m);
  cr_assert_str_eq((const char *)m->payload, "{\"seq\":1}");
  cr_assert_not_null(wait_topic("iotkit/v1/sensor-1/state/reported", 0));
  cr_assert_not_null(wait_topic("iotkit/v1/sensor-1/events/overheat", 0));
  /* What the broker kept: the reported state only. */
  mqtt_peer_t *late = mqtt_peer_new(&(mqtt_peer_opts_t){.port = mosq_server_port(fx.mq), .topic = "iotkit/v1/#", .qos = 1});
  cr_assert_not_null(late);
  cr_assert(mqtt_peer_wait(late, 1, 10000));
  cr_assert_str_eq(mqtt_peer_get(late, 0)->topic, "iotkit/v1/sensor-1/state/reported");
  cr_assert(mqtt_peer_get(late, 0)->retain);
  mqtt_peer_free(late);
  tclient_free(dev);
}

Test(hub_http, sdk_device_long_polls_desired_state_and_a_command_and_answers_it) {
  start(true);
  const char *desired = "{\"version\":3,\"state\":{\"led\":\"on\"}}";
  cr_assert(mqtt_peer_publish(fx.peer, "iotkit/v1/sensor-1/state/desired", desired, strlen(desired), 1, true));
  cr_assert_not_null(wait_topic("iotkit/v1/sensor-1/state/desired", 0));
  tclient_t *dev = sdk_device("sensor-1", TOKEN1);
  cr_assert_eq(dev->ops->subscribe(dev->ctx, "iotkit/v1/sensor-1/state/desired", 1), IOTKIT_OK);
  cr_assert_eq(dev->ops->subscribe(dev->ctx, "iotkit/v1/sensor-1/commands/request", 1), IOTKIT_OK);
  const tclient_msg_t *got = wait_message(dev, "iotkit/v1/sensor-1/state/desired");
  cr_assert_not_null(got, "see %s", hub_srv_log_path(fx.hub));
  cr_assert_str_eq(got->payload, desired);
  const char *cmd = "{\"id\":\"7\",\"name\":\"ping\"}";
  cr_assert(mqtt_peer_publish(fx.peer, "iotkit/v1/sensor-1/commands/request", cmd, strlen(cmd), 1, false));
  got = wait_message(dev, "iotkit/v1/sensor-1/commands/request");
  cr_assert_not_null(got, "see %s", hub_srv_log_path(fx.hub));
  cr_assert_str_eq(got->payload, cmd);
  sdk_send(dev, "iotkit/v1/sensor-1/commands/response", "{\"id\":\"7\",\"status\":\"ok\",\"result\":{\"pong\":true}}");
  const mqtt_peer_msg_t *m = wait_topic("iotkit/v1/sensor-1/commands/response", 0);
  cr_assert_not_null(m);
  cr_assert_str_eq((const char *)m->payload, "{\"id\":\"7\",\"status\":\"ok\",\"result\":{\"pong\":true}}");
  tclient_free(dev);
}

Test(hub_http, plain_http_when_allowed) {
  start(false);
  cr_assert_eq(strncmp(hub_srv_http_uri(fx.hub), "http://", 7), 0);
  cr_assert_eq(curl("POST", TOKEN1, "iotkit/v1/sensor-1/telemetry", "{\"t\":1}"), 204);
  cr_assert_not_null(wait_topic("iotkit/v1/sensor-1/telemetry", 0));
}
