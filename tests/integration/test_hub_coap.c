// requires: coap mqtt
/* iotkit-hub between CoAP devices and a real mosquitto, on 127.0.0.1: libcoap's
 * own client and the SDK's CoAP backend on one side, an independent MQTT
 * client on the other. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coap_server.h"
#include "hub_fixture.h"
#include "iotkit/transport.h"
#include "net_util.h"
#include "test_hal.h"
#include "transport_client.h"

#define HUB_BIN IOTKIT_BINARY_DIR "/tools/iotkit-hub/iotkit-hub"
#define KEY1 HUB_FX_KEY1
#define KEY1_HEX HUB_FX_KEY1_HEX
#define KEY2 HUB_FX_KEY2
#define KEY2_HEX HUB_FX_KEY2_HEX

static hub_fixture_t fx;

static void setup(void) { hub_fixture_init(&fx, HUB_BIN); }
static void teardown(void) { hub_fixture_fini(&fx); }
TestSuite(hub_coap, .init = setup, .fini = teardown, .timeout = 120);

static void start(void) { hub_fixture_start(&fx); }

static size_t count_topic(const char *topic) { return hub_fixture_count_topic(&fx, topic); }

static const mqtt_peer_msg_t *wait_topic(const char *topic, size_t nth) {
  return hub_fixture_wait_topic(&fx, topic, nth);
}

/* coap-client-openssl: METHOD uri-path (after the endpoint) with PAYLOAD and an
   extra flag and value (or NULL); its output (with the code and diagnostic
   of an error answer) into out. */
static int coap_client(const char *method, const char *identity, const char *key, const char *path,
                       const char *payload, const char *const extra[2], char *out, size_t cap) {
  char uri[256];
  snprintf(uri, sizeof uri, "%s/%s", identity ? hub_srv_coaps_uri(fx.hub) : hub_srv_coap_uri(fx.hub), path);
  const char *args[16];
  int n = 0;
  args[n++] = "-m";
  args[n++] = method;
  if (identity) {
    args[n++] = "-u";
    args[n++] = identity;
    args[n++] = "-k";
    args[n++] = key;
  }
  if (payload) {
    args[n++] = "-e";
    args[n++] = payload;
  }
  if (extra) {
    args[n++] = extra[0];
    args[n++] = extra[1];
  }
  args[n++] = uri;
  args[n] = NULL;
  return coap_client_run_all(args, out, cap);
}

/* A device on the SDK's CoAP backend, connected. */
static tclient_t *sdk_device(const char *uri, const char *id, const char *key_hex) {
  tclient_opts_t o = {.uri = uri, .ops = iotkit_transport_coap(), .client_id = id};
  o.tls.psk_identity = id;
  o.tls.psk_key_hex = key_hex;
  tclient_t *c = tclient_new(&o);
  cr_assert_not_null(c);
  iotkit_err_t rc = tclient_connect(c);
  cr_assert_eq(rc, IOTKIT_OK, "connect %s: %s: %s", uri, iotkit_err_name(rc), tclient_last_error(c));
  return c;
}

static void sdk_send(tclient_t *c, const char *channel, const char *payload, int qos) {
  uint32_t id = 0;
  cr_assert_eq(tclient_send(c, channel, payload, strlen(payload), qos, &id), IOTKIT_OK);
  iotkit_err_t rc = tclient_wait_delivery(c, id);
  cr_assert_eq(rc, IOTKIT_OK, "%s: %s: %s", channel, iotkit_err_name(rc), tclient_last_error(c));
}

Test(hub_coap, coap_client_posts_telemetry_with_dtls_psk_and_it_appears_on_mqtt) {
  start();
  char out[512];
  cr_assert_eq(coap_client("post", "sensor-1", KEY1, "iotkit/v1/sensor-1/telemetry", "{\"t\":21.5}", NULL, out,
                           sizeof out),
               0, "%s", out);
  const mqtt_peer_msg_t *m = wait_topic("iotkit/v1/sensor-1/telemetry", 0);
  cr_assert_not_null(m, "telemetry never reached MQTT (see %s)", hub_srv_log_path(fx.hub));
  cr_assert_str_eq((const char *)m->payload, "{\"t\":21.5}");
  cr_assert_eq(m->qos, 1);
  cr_assert_not(m->retain);
  cr_assert(hub_srv_log_contains(fx.hub, "device sensor-1 (127.0.0.1:"));
  cr_assert(hub_srv_stop(fx.hub), "the hub did not exit cleanly on SIGTERM");
  cr_assert(hub_srv_log_contains(fx.hub, "stopping: 1 messages published"));
}

Test(hub_coap, sdk_device_messages_land_on_the_topics_of_an_mqtt_device) {
  start();
  tclient_t *dev = sdk_device(hub_srv_coaps_uri(fx.hub), "sensor-1", KEY1_HEX);
  sdk_send(dev, "iotkit/v1/sensor-1/status", "{\"status\":\"online\",\"ts\":1767225600000}", 1);
  sdk_send(dev, "iotkit/v1/sensor-1/telemetry", "{\"seq\":1,\"temperature\":21.53}", 1);
  sdk_send(dev, "iotkit/v1/sensor-1/telemetry", "{\"seq\":2,\"temperature\":21.6}", 0);
  sdk_send(dev, "iotkit/v1/sensor-1/state/reported", "{\"state\":{\"firmware\":\"1.4.2\"},\"ts\":1767225600000}", 1);
  sdk_send(dev, "iotkit/v1/sensor-1/events/overheat",
           "{\"type\":\"overheat\",\"ts\":1767225600000,\"data\":{\"temperature\":85.5}}", 1);

  const mqtt_peer_msg_t *m = wait_topic("iotkit/v1/sensor-1/status", 0);
  cr_assert_not_null(m);
  cr_assert_eq(m->qos, 1);
  m = wait_topic("iotkit/v1/sensor-1/telemetry", 0);
  cr_assert_not_null(m);
  cr_assert_str_eq((const char *)m->payload, "{\"seq\":1,\"temperature\":21.53}");
  cr_assert_eq(m->qos, 1);
  cr_assert_not(m->retain);
  m = wait_topic("iotkit/v1/sensor-1/telemetry", 1);
  cr_assert_not_null(m);
  cr_assert_eq(m->qos, 0, "non-confirmable telemetry is QoS 0");
  m = wait_topic("iotkit/v1/sensor-1/state/reported", 0);
  cr_assert_not_null(m);
  cr_assert_str_eq((const char *)m->payload, "{\"state\":{\"firmware\":\"1.4.2\"},\"ts\":1767225600000}");
  m = wait_topic("iotkit/v1/sensor-1/events/overheat", 0);
  cr_assert_not_null(m);
  cr_assert_eq(m->qos, 1);
  /* What the broker kept: status and reported state, as from an MQTT device (a
     live subscriber is never told that a message is retained). */
  mqtt_peer_t *late = mqtt_peer_new(&(mqtt_peer_opts_t){.port = mosq_server_port(fx.mq), .topic = "iotkit/v1/#", .qos = 1});
  cr_assert_not_null(late);
  cr_assert(mqtt_peer_wait(late, 2, 10000));
  test_msleep(200); /* retained messages come at once after the SUBACK; nothing else is sent */
  cr_assert_eq(mqtt_peer_count(late), 2);
  for (size_t i = 0; i < 2; i++) {
    const mqtt_peer_msg_t *r = mqtt_peer_get(late, i);
    cr_assert(r->retain);
    cr_assert(strcmp(r->topic, "iotkit/v1/sensor-1/status") == 0 ||
                  strcmp(r->topic, "iotkit/v1/sensor-1/state/reported") == 0,
              "%s", r->topic);
  }
  mqtt_peer_free(late);
  tclient_free(dev);
}

/* Poll @p c until it received a message on @p channel. */
static const tclient_msg_t *wait_message(tclient_t *c, const char *channel) {
  for (uint64_t end = test_now_ms() + 10000; test_now_ms() < end;) {
    for (int i = 0; i < c->messages && i < TCLIENT_MAX_EVENTS; i++) {
      if (strcmp(c->msgs[i].channel, channel) == 0 && c->msgs[i].len > 0) return &c->msgs[i];
    }
    c->ops->poll(c->ctx, 50);
  }
  return NULL;
}

Test(hub_coap, desired_state_and_commands_from_mqtt_reach_the_device_through_observe) {
  start();
  /* Retained before the device looks: the first answer carries it. */
  const char *desired = "{\"version\":7,\"state\":{\"interval_ms\":5000,\"led\":\"on\"}}";
  cr_assert(mqtt_peer_publish(fx.peer, "iotkit/v1/sensor-1/state/desired", desired, strlen(desired), 1, true));
  cr_assert_not_null(wait_topic("iotkit/v1/sensor-1/state/desired", 0));
  tclient_t *dev = sdk_device(hub_srv_coaps_uri(fx.hub), "sensor-1", KEY1_HEX);
  cr_assert_eq(dev->ops->subscribe(dev->ctx, "iotkit/v1/sensor-1/state/desired", 1), IOTKIT_OK);
  cr_assert_eq(dev->ops->subscribe(dev->ctx, "iotkit/v1/sensor-1/commands/request", 1), IOTKIT_OK);
  const tclient_msg_t *got = wait_message(dev, "iotkit/v1/sensor-1/state/desired");
  cr_assert_not_null(got, "no desired state (see %s)", hub_srv_log_path(fx.hub));
  cr_assert_str_eq(got->payload, desired);
  /* A command published before or after the observation is registered waits in the hub's queue. */

  const char *cmd = "{\"id\":\"42\",\"name\":\"set_interval\",\"params\":{\"interval_ms\":5000}}";
  cr_assert(mqtt_peer_publish(fx.peer, "iotkit/v1/sensor-1/commands/request", cmd, strlen(cmd), 1, false));
  got = wait_message(dev, "iotkit/v1/sensor-1/commands/request");
  cr_assert_not_null(got, "no command (see %s)", hub_srv_log_path(fx.hub));
  cr_assert_str_eq(got->payload, cmd);
  sdk_send(dev, "iotkit/v1/sensor-1/commands/response", "{\"id\":\"42\",\"status\":\"ok\",\"result\":{\"interval_ms\":5000}}",
           1);
  const mqtt_peer_msg_t *m = wait_topic("iotkit/v1/sensor-1/commands/response", 0);
  cr_assert_not_null(m);
  cr_assert_str_eq((const char *)m->payload, "{\"id\":\"42\",\"status\":\"ok\",\"result\":{\"interval_ms\":5000}}");
  cr_assert_eq(m->qos, 1);
  cr_assert_not(m->retain);
  tclient_free(dev);
}

Test(hub_coap, commands_published_in_a_burst_all_reach_the_device_in_order) {
  start();
  tclient_t *dev = sdk_device(hub_srv_coaps_uri(fx.hub), "sensor-1", KEY1_HEX);
  cr_assert_eq(dev->ops->subscribe(dev->ctx, "iotkit/v1/sensor-1/commands/request", 1), IOTKIT_OK);
  dev->ops->poll(dev->ctx, 100); /* registering, or not yet: commands wait in the hub either way */
  char cmd[64];
  for (int i = 0; i < 5; i++) {
    snprintf(cmd, sizeof cmd, "{\"id\":\"%d\",\"name\":\"ping\"}", i);
    cr_assert(mqtt_peer_publish(fx.peer, "iotkit/v1/sensor-1/commands/request", cmd, strlen(cmd), 1, false));
  }
  for (uint64_t end = test_now_ms() + 10000; dev->messages < 5 && test_now_ms() < end;) dev->ops->poll(dev->ctx, 50);
  dev->ops->poll(dev->ctx, 200); /* nothing more comes: no empty or repeated notification */
  cr_assert_eq(dev->messages, 5, "see %s", hub_srv_log_path(fx.hub));
  for (int i = 0; i < 5; i++) {
    snprintf(cmd, sizeof cmd, "{\"id\":\"%d\",\"name\":\"ping\"}", i);
    cr_assert_str_eq(dev->msgs[i].payload, cmd);
  }
  tclient_free(dev);
}

Test(hub_coap, wrong_psk_fails_the_handshake_with_a_clear_error) {
  start();
  tclient_opts_t o = {.uri = hub_srv_coaps_uri(fx.hub), .ops = iotkit_transport_coap(), .client_id = "sensor-1"};
  o.tls.psk_identity = "sensor-1";
  o.tls.psk_key_hex = KEY2_HEX; /* sensor-2's key */
  tclient_t *c = tclient_new(&o);
  cr_assert_not_null(c);
  iotkit_err_t rc = tclient_connect(c);
  /* The hub cannot read the device's Finished message and drops it (DTLS
     discards bad records), so the device gives up: its error says why. */
  cr_assert_neq(rc, IOTKIT_OK);
  cr_assert(strstr(c->disc_detail, "did not accept identity 'sensor-1'") != NULL, "%s: %s", iotkit_err_name(rc),
            c->disc_detail);
  tclient_free(c);
  /* libcoap's client too (it gives up after -B seconds); and an identity the
     hub does not know: refused, and said so in the hub's log. */
  char out[512];
  const char *const give_up[2] = {"-B", "3"};
  coap_client("post", "sensor-1", "wrong", "iotkit/v1/sensor-1/telemetry", "{}", give_up, out, sizeof out);
  coap_client("post", "nobody", KEY1, "iotkit/v1/sensor-1/telemetry", "{}", give_up, out, sizeof out);
  cr_assert(hub_srv_log_contains(fx.hub, "unknown PSK identity 'nobody'"));
  cr_assert_eq(mqtt_peer_count(fx.peer), 0);
}

Test(hub_coap, a_device_touching_another_devices_resource_gets_403_and_nothing_is_published) {
  start();
  char out[512];
  coap_client("post", "sensor-1", KEY1, "iotkit/v1/sensor-2/telemetry", "{\"t\":1}", NULL, out, sizeof out);
  cr_assert(strstr(out, "4.03") != NULL, "%s", out);
  cr_assert(strstr(out, "sensor-2") != NULL, "diagnostic payload: %s", out);
  coap_client("put", "sensor-1", KEY1, "iotkit/v1/sensor-2/state/reported", "{\"state\":{}}", NULL, out, sizeof out);
  cr_assert(strstr(out, "4.03") != NULL, "%s", out);
  coap_client("get", "sensor-1", KEY1, "iotkit/v1/sensor-2/state/desired", NULL, NULL, out, sizeof out);
  cr_assert(strstr(out, "4.03") != NULL, "%s", out);
  /* sensor-2's own message after them: once it is there, nothing else came before it. */
  coap_client("post", "sensor-2", KEY2, "iotkit/v1/sensor-2/telemetry", "{\"t\":2}", NULL, out, sizeof out);
  const mqtt_peer_msg_t *m = wait_topic("iotkit/v1/sensor-2/telemetry", 0);
  cr_assert_not_null(m);
  cr_assert_str_eq((const char *)m->payload, "{\"t\":2}");
  cr_assert_eq(mqtt_peer_count(fx.peer), 1);
  cr_assert(hub_srv_log_contains(fx.hub, "device sensor-1 (127.0.0.1:"));
  cr_assert(hub_srv_log_contains(fx.hub, "refused: 4.03"));
}

/* @p path with @p payload (and option) from sensor-1 gets @p code; then the hub still serves sensor-2. */
static void expect_refusal(const char *method, const char *path, const char *payload, const char *const opt[2],
                           const char *code) {
  start();
  char out[512];
  coap_client(method, "sensor-1", KEY1, path, payload, opt, out, sizeof out);
  cr_assert(strstr(out, code) != NULL, "want %s, got: %s", code, out);
  cr_assert_gt(strlen(out), strlen(code) + 2, "a diagnostic payload: %s", out);
  cr_assert_eq(coap_client("post", "sensor-2", KEY2, "iotkit/v1/sensor-2/telemetry", "{\"ok\":1}", NULL, out,
                           sizeof out),
               0);
  cr_assert_not_null(wait_topic("iotkit/v1/sensor-2/telemetry", 0));
  cr_assert_eq(mqtt_peer_count(fx.peer), 1, "the refused request published nothing");
}

Test(hub_coap, reported_state_that_is_not_json_gets_400) {
  expect_refusal("put", "iotkit/v1/sensor-1/state/reported", "not json", NULL, "4.00");
}

Test(hub_coap, reported_state_without_a_state_object_gets_400) {
  expect_refusal("put", "iotkit/v1/sensor-1/state/reported", "{\"firmware\":\"1\"}", NULL, "4.00");
}

Test(hub_coap, command_response_without_an_id_gets_400) {
  expect_refusal("post", "iotkit/v1/sensor-1/commands/response", "{\"status\":\"ok\"}", NULL, "4.00");
}

Test(hub_coap, empty_telemetry_gets_400) {
  expect_refusal("post", "iotkit/v1/sensor-1/telemetry", NULL, NULL, "4.00");
}

Test(hub_coap, telemetry_declared_json_that_is_not_gets_400) {
  expect_refusal("post", "iotkit/v1/sensor-1/telemetry", "{broken", (const char *const[]){"-t", "50"}, "4.00");
}

Test(hub_coap, malformed_content_format_option_gets_a_reset) {
  /* Three bytes where the format allows two: libcoap rejects the message itself. */
  expect_refusal("post", "iotkit/v1/sensor-1/telemetry", "{}", (const char *const[]){"-O", "12,0x010203"}, "RST");
}

Test(hub_coap, unsupported_critical_option_gets_402) {
  /* Option 9 (OSCORE) is critical and this hub does not do OSCORE: libcoap answers. */
  expect_refusal("post", "iotkit/v1/sensor-1/telemetry", "{}", (const char *const[]){"-O", "9,x"}, "4.02");
}

Test(hub_coap, unsupported_content_format_gets_415) {
  expect_refusal("post", "iotkit/v1/sensor-1/telemetry", "{}", (const char *const[]){"-t", "41"}, "4.15");
}

Test(hub_coap, unknown_channel_gets_404) {
  expect_refusal("post", "iotkit/v1/sensor-1/no/such/thing", "{}", NULL, "4.04");
}

Test(hub_coap, outside_the_prefix_gets_404) {
  expect_refusal("post", "other/v9/sensor-1/telemetry", "{}", NULL, "4.04");
}

Test(hub_coap, reported_state_by_post_gets_405) {
  expect_refusal("post", "iotkit/v1/sensor-1/state/reported", "{\"state\":{}}", NULL, "4.05");
}

/* Deliveries of the loss test, counted by the device's events. */
typedef struct loss_rec {
  int delivered, failed;
} loss_rec_t;

static void loss_on_connected(void *u) { (void)u; }
static void loss_on_disconnected(void *u, iotkit_err_t r, const char *d) { (void)u, (void)r, (void)d; }
static void loss_on_message(void *u, const char *c, const void *p, size_t n) { (void)u, (void)c, (void)p, (void)n; }
static void loss_on_delivery(void *u, uint32_t id, iotkit_err_t status) {
  (void)id;
  loss_rec_t *r = u;
  if (status == IOTKIT_OK) {
    r->delivered++;
  } else {
    r->failed++;
  }
}

/* With 20% of the hub's datagrams lost, every confirmable message arrives on
   MQTT exactly once: the device retransmits, the hub filters the duplicates
   by message id. 1000 messages, as the issue asks; IOTKIT_HUB_LOSS_COUNT sets another count. */
Test(hub_coap, twenty_percent_loss_every_confirmable_message_arrives_once, .timeout = 600) {
  cr_assert(hub_srv_add_config(fx.hub, "packet_loss = 20%"));
  start();
  const char *env = getenv("IOTKIT_HUB_LOSS_COUNT");
  int n = env && atoi(env) > 0 ? atoi(env) : 1000;
  test_hal_t *th = test_hal_new();
  iotkit_uri_t uri;
  char text[128];
  /* Short retransmission timer and several messages in flight, so the run is short. */
  snprintf(text, sizeof text, "%s?ack_timeout_ms=1000&max_retransmit=8&nstart=16", hub_srv_coap_uri(fx.hub));
  cr_assert_eq(iotkit_uri_parse(text, &uri), IOTKIT_OK);
  loss_rec_t rec = {0};
  iotkit_transport_config_t cfg;
  iotkit_transport_config_init(&cfg);
  cfg.uri = &uri;
  cfg.hal = test_hal_get(th);
  cfg.client_id = "sensor-1";
  cfg.connect_timeout_ms = 10000;
  iotkit_transport_events_t ev = {.struct_size = sizeof ev,
                                  .user = &rec,
                                  .connected = loss_on_connected,
                                  .disconnected = loss_on_disconnected,
                                  .message = loss_on_message,
                                  .delivery = loss_on_delivery};
  const iotkit_transport_ops_t *ops = iotkit_transport_coap();
  void *ctx = NULL;
  cr_assert_eq(ops->create(&cfg, &ev, &ctx), IOTKIT_OK);
  cr_assert_eq(ops->connect(ctx), IOTKIT_OK);
  ops->poll(ctx, 10);
  for (int i = 1; i <= n; i++) {
    char payload[64];
    snprintf(payload, sizeof payload, "{\"seq\":%d}", i);
    iotkit_message_t m = {.channel = "iotkit/v1/sensor-1/telemetry", .payload = payload, .len = strlen(payload),
                          .qos = 1};
    uint32_t id;
    cr_assert_eq(ops->send(ctx, &m, &id), IOTKIT_OK);
    ops->poll(ctx, 0);
  }
  for (uint64_t end = test_now_ms() + 500000; rec.delivered + rec.failed < n && test_now_ms() < end;) ops->poll(ctx, 50);
  cr_assert_eq(rec.failed, 0, "%s", ops->last_error(ctx));
  cr_assert_eq(rec.delivered, n);
  const char *topic = "iotkit/v1/sensor-1/telemetry";
  for (uint64_t end = test_now_ms() + 10000; count_topic(topic) < (size_t)n && test_now_ms() < end;) test_msleep(20);
  cr_assert_eq(count_topic(topic), (size_t)n, "every message once on MQTT (see %s)", hub_srv_log_path(fx.hub));
  /* Each sequence number exactly once. */
  char *seen = calloc((size_t)n + 1, 1);
  cr_assert_not_null(seen);
  for (size_t i = 0; i < mqtt_peer_count(fx.peer); i++) {
    const mqtt_peer_msg_t *m = mqtt_peer_get(fx.peer, i);
    int seq = 0;
    cr_assert_eq(sscanf((const char *)m->payload, "{\"seq\":%d}", &seq), 1);
    cr_assert(seq >= 1 && seq <= n && !seen[seq], "seq %d twice or out of range", seq);
    seen[seq] = 1;
  }
  free(seen);
  ops->destroy(ctx);
  iotkit_uri_clear(&uri);
  test_hal_free(th);
  cr_assert(hub_srv_stop(fx.hub));
  cr_assert_not(hub_srv_log_contains(fx.hub, " 0 duplicates filtered"), "the loss made duplicates and the hub counted them");
}

/* The hub stands in for the broker's last will: a session that ends while the
   device's last status said online gets {"status":"offline","reason":"connection_lost"}. */
Test(hub_coap, a_session_that_ends_while_online_gets_the_last_will) {
  cr_assert(hub_srv_add_config(fx.hub, "session_timeout_s = 1"));
  start();
  tclient_t *dev = sdk_device(hub_srv_coap_uri(fx.hub), "sensor-1", KEY1_HEX);
  sdk_send(dev, "iotkit/v1/sensor-1/status", "{\"status\":\"online\",\"ts\":1767225600000}", 1);
  tclient_free(dev); /* gone without a word */
  const mqtt_peer_msg_t *m = wait_topic("iotkit/v1/sensor-1/status", 1);
  cr_assert_not_null(m, "no last will (see %s)", hub_srv_log_path(fx.hub));
  cr_assert_str_eq((const char *)m->payload, "{\"status\":\"offline\",\"reason\":\"connection_lost\"}");
  cr_assert_eq(m->qos, 1);
  cr_assert(hub_srv_log_contains(fx.hub, "device sensor-1 (127.0.0.1:"));
}

Test(hub_coap, a_device_that_said_offline_gets_no_last_will) {
  cr_assert(hub_srv_add_config(fx.hub, "session_timeout_s = 1"));
  start();
  tclient_t *dev = sdk_device(hub_srv_coap_uri(fx.hub), "sensor-1", KEY1_HEX);
  sdk_send(dev, "iotkit/v1/sensor-1/status", "{\"status\":\"online\",\"ts\":1767225600000}", 1);
  sdk_send(dev, "iotkit/v1/sensor-1/status", "{\"status\":\"offline\",\"reason\":\"disconnect\",\"ts\":1767225601000}", 1);
  tclient_free(dev);
  for (uint64_t end = test_now_ms() + 10000; !hub_srv_log_contains(fx.hub, "session of sensor-1") && test_now_ms() < end;) {
    test_msleep(50);
  }
  cr_assert(hub_srv_log_contains(fx.hub, "session of sensor-1"), "the session ended (see %s)", hub_srv_log_path(fx.hub));
  cr_assert_not_null(wait_topic("iotkit/v1/sensor-1/status", 1));
  cr_assert_eq(count_topic("iotkit/v1/sensor-1/status"), 2, "online and offline, no will");
}
