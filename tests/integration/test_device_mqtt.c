// requires: mqtt
/* A device against a real mosquitto broker, checked by an independent subscriber. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "device_fixture.h"
#include "mosquitto_server.h"
#include "mqtt_peer.h"

static device_fixture_t fx;
static mosq_server_t *srv;

static void setup(void) {
  srv = mosq_server_new();
  cr_assert_not_null(srv);
  device_fixture_init(&fx, mosq_server_uri(srv));
  fx.cfg.device_id = "mqtt-dev-1";
}

static void teardown(void) {
  device_fixture_fini(&fx);
  mosq_server_free(srv);
}
TestSuite(device_mqtt, .init = setup, .fini = teardown, .timeout = 60);

static mqtt_peer_t *subscriber(const char *topic) {
  mqtt_peer_t *p = mqtt_peer_new(&(mqtt_peer_opts_t){.port = mosq_server_port(srv), .topic = topic, .qos = 1});
  cr_assert_not_null(p);
  return p;
}

Test(device_mqtt, telemetry_reaches_an_independent_subscriber) {
  cr_assert(mosq_server_start(srv));
  mqtt_peer_t *peer = subscriber("iotkit/v1/+/telemetry");
  device_counts_t c = {.want = 1};
  iotkit_device_t *dev = NULL;
  cr_assert_eq(iotkit_device_new(&fx.cfg, &dev), IOTKIT_OK);
  iotkit_device_on_connection(dev, device_counts_on_connection, &c);
  iotkit_device_on_delivery(dev, device_counts_on_delivery, &c);
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_OK);
  cr_assert_eq(atomic_load(&c.ups), 1);
  cr_assert(iotkit_device_is_connected(dev));
  cr_assert_geq(iotkit_device_fd(dev), 0);

  /* Bytes, not text: a NUL and high bytes must arrive as sent. */
  const unsigned char payload[] = {'{', 0x00, 0xff, 0x7f, '}', 0x80};
  uint32_t id = 0;
  cr_assert_eq(iotkit_device_send_telemetry(dev, payload, sizeof(payload), &id), IOTKIT_OK);
  cr_assert(device_fixture_wait(&fx, dev, device_counts_settled, &c, 10000));
  cr_assert_eq(atomic_load(&c.delivered), 1);

  cr_assert(mqtt_peer_wait(peer, 1, 10000));
  const mqtt_peer_msg_t *m = mqtt_peer_get(peer, 0);
  cr_assert_str_eq(m->topic, "iotkit/v1/mqtt-dev-1/telemetry");
  cr_assert_eq(m->len, sizeof(payload));
  cr_assert_eq(memcmp(m->payload, payload, sizeof(payload)), 0);
  cr_assert_eq(m->qos, 1);

  cr_assert_eq(iotkit_device_disconnect(dev), IOTKIT_OK);
  cr_assert_not(iotkit_device_is_connected(dev));
  iotkit_device_free(dev);
  mqtt_peer_free(peer);
}

typedef struct got {
  int n;
  char channel[96];
  char payload[16];
} got_t;

static void on_msg(iotkit_device_t *dev, void *user, const char *channel, const void *payload, size_t len) {
  (void)dev;
  got_t *got = user;
  got->n++;
  snprintf(got->channel, sizeof(got->channel), "%s", channel);
  snprintf(got->payload, sizeof(got->payload), "%.*s", (int)len, (const char *)payload);
}

static bool arrived(void *arg) { return ((got_t *)arg)->n > 0; }

Test(device_mqtt, messages_reach_the_message_callback) {
  cr_assert(mosq_server_start(srv));
  mqtt_peer_t *peer = subscriber(NULL);
  got_t got = {0};
  iotkit_device_t *dev = device_fixture_connect(&fx);
  iotkit_device_on_message(dev, on_msg, &got);
  cr_assert_eq(iotkit_device_subscribe(dev, "commands/#", 1), IOTKIT_OK);
  /* The device's subscription takes effect once the broker has processed it; a
     retained message reaches it whichever comes first. */
  cr_assert(mqtt_peer_publish(peer, "iotkit/v1/mqtt-dev-1/commands/reboot", "now", 3, 1, true));
  cr_assert(device_fixture_wait(&fx, dev, arrived, &got, 10000));
  cr_assert_str_eq(got.channel, "iotkit/v1/mqtt-dev-1/commands/reboot");
  cr_assert_str_eq(got.payload, "now");
  iotkit_device_free(dev);
  mqtt_peer_free(peer);
}

Test(device_mqtt, background_loop_with_three_sending_threads) {
  cr_assert(mosq_server_start(srv));
  mqtt_peer_t *peer = subscriber("iotkit/v1/mqtt-dev-1/telemetry");
  device_counts_t c = {.want = 120};
  iotkit_device_t *dev = device_fixture_connect(&fx);
  iotkit_device_on_delivery(dev, device_counts_on_delivery, &c);
  cr_assert_eq(iotkit_device_start(dev), IOTKIT_OK);
  device_fixture_send_from_threads(dev, 3, 40);
  cr_assert(device_fixture_wait(&fx, NULL, device_counts_settled, &c, 20000), "confirmed %d of %d",
            atomic_load(&c.delivered), c.want);
  cr_assert_eq(atomic_load(&c.delivered), 120);
  cr_assert(mqtt_peer_wait(peer, 120, 20000), "subscriber saw %zu", mqtt_peer_count(peer));
  cr_assert_eq(mqtt_peer_count(peer), 120);
  cr_assert_eq(iotkit_device_stop(dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_disconnect(dev), IOTKIT_OK);
  iotkit_device_free(dev);
  mqtt_peer_free(peer);
}

Test(device_mqtt, broker_not_listening) {
  /* The server picked a free port but was never started: nothing listens there. */
  iotkit_device_t *dev = NULL;
  cr_assert_eq(iotkit_device_new(&fx.cfg, &dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_ERR_CONNECT);
  char port[32];
  snprintf(port, sizeof(port), "127.0.0.1:%u", (unsigned)mosq_server_port(srv));
  cr_assert(device_fixture_error_has(dev, port));
  cr_assert(device_fixture_error_has(dev, "cannot connect to"));
  cr_assert_not(iotkit_device_is_connected(dev));
  iotkit_device_free(dev);
}

Test(device_mqtt, wrong_password_is_auth) {
  cr_assert(mosq_server_add_user(srv, "mqtt-dev-1", "right"));
  cr_assert(mosq_server_start(srv));
  fx.cfg.username = "mqtt-dev-1";
  fx.cfg.password = "wrong";
  iotkit_device_t *dev = NULL;
  cr_assert_eq(iotkit_device_new(&fx.cfg, &dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_ERR_AUTH);
  cr_assert_not(device_fixture_error_has(dev, "wrong"), "the password must not be in the error text");
  iotkit_device_free(dev);
  fx.cfg.password = "right";
  cr_assert_eq(iotkit_device_new(&fx.cfg, &dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_OK);
  iotkit_device_free(dev);
}

static bool went_down(void *arg) { return atomic_load(&((device_counts_t *)arg)->downs) > 0; }

Test(device_mqtt, broker_crash_reaches_the_callback_from_the_loop) {
  cr_assert(mosq_server_start(srv));
  device_counts_t c = {.want = 0};
  iotkit_device_t *dev = NULL;
  fx.cfg.telemetry_durable = false; /* NOT_CONNECTED below is the direct path's answer */
  cr_assert_eq(iotkit_device_new(&fx.cfg, &dev), IOTKIT_OK);
  iotkit_device_on_connection(dev, device_counts_on_connection, &c);
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_start(dev), IOTKIT_OK);
  cr_assert(mosq_server_kill(srv));
  cr_assert(device_fixture_wait(&fx, NULL, went_down, &c, 20000));
  cr_assert_not(iotkit_device_is_connected(dev));
  cr_assert_eq(iotkit_device_send_telemetry(dev, "x", 1, NULL), IOTKIT_ERR_NOT_CONNECTED);
  char port[32];
  snprintf(port, sizeof(port), "127.0.0.1:%u", (unsigned)mosq_server_port(srv));
  cr_assert(device_fixture_error_has(dev, port));
  iotkit_device_free(dev);
}
