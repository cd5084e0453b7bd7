/* The MQTT backend against a real mosquitto broker on 127.0.0.1. */
#ifdef IOTKIT_WITH_MQTT /* built without MQTT: nothing to test here */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "iotkit/transport.h"
#include "mosquitto_server.h"
#include "mqtt_peer.h"
#include "net_util.h"
#include "test_hal.h"

#define MAX_IDS 1024

typedef struct rec {
  pthread_mutex_t lock; /* deliveries may race with the concurrent sender's bookkeeping */
  int connected;
  int disconnected;
  iotkit_err_t disc_reason;
  char disc_detail[256];
  int messages;
  char channel[128];
  unsigned char payload[512];
  size_t len;
  int deliveries;
  uint32_t ids[MAX_IDS];
  iotkit_err_t statuses[MAX_IDS];
} rec_t;

static mosq_server_t *srv;
static test_hal_t *th;
static const iotkit_transport_ops_t *ops;
static void *ctx;
static rec_t rec;
static iotkit_uri_t uri;
static mqtt_peer_t *peer;

static void on_connected(void *u) { ((rec_t *)u)->connected++; }
static void on_disconnected(void *u, iotkit_err_t reason, const char *detail) {
  rec_t *r = u;
  r->disconnected++;
  r->disc_reason = reason;
  snprintf(r->disc_detail, sizeof r->disc_detail, "%s", detail);
}
static void on_message(void *u, const char *channel, const void *payload, size_t len) {
  rec_t *r = u;
  r->messages++;
  snprintf(r->channel, sizeof r->channel, "%s", channel);
  r->len = len < sizeof r->payload ? len : sizeof r->payload;
  memcpy(r->payload, payload, r->len);
}
static void on_delivery(void *u, uint32_t id, iotkit_err_t status) {
  rec_t *r = u;
  pthread_mutex_lock(&r->lock);
  if (r->deliveries < MAX_IDS) {
    r->ids[r->deliveries] = id;
    r->statuses[r->deliveries] = status;
  }
  r->deliveries++;
  pthread_mutex_unlock(&r->lock);
}

static void setup_broker(void) {
  srv = mosq_server_new();
  cr_assert_not_null(srv);
  th = test_hal_new();
  cr_assert_not_null(th);
  memset(&rec, 0, sizeof rec);
  pthread_mutex_init(&rec.lock, NULL);
  ops = iotkit_transport_mqtt();
  cr_assert_not_null(ops, "built without MQTT");
}

static void setup(void) {
  setup_broker();
  cr_assert(mosq_server_start(srv));
}

static void teardown(void) {
  if (ops && ctx) ops->destroy(ctx);
  ctx = NULL;
  mqtt_peer_free(peer);
  peer = NULL;
  iotkit_uri_clear(&uri);
  mosq_server_free(srv);
  test_hal_free(th);
}

typedef struct client_opts {
  int protocol;
  const char *user;
  const char *password;
  size_t max_payload;
  iotkit_will_t will;
} client_opts_t;

static void open_client(const char *uri_text, const client_opts_t *o) {
  cr_assert_eq(iotkit_uri_parse(uri_text, &uri), IOTKIT_OK);
  iotkit_transport_config_t cfg;
  iotkit_transport_config_init(&cfg);
  cfg.uri = &uri;
  cfg.hal = test_hal_get(th);
  cfg.client_id = "dev-1";
  cfg.username = o->user;
  cfg.password = o->password;
  cfg.keepalive_s = 30;
  cfg.clean_session = true;
  cfg.protocol_version = o->protocol ? o->protocol : 311;
  cfg.connect_timeout_ms = 10000;
  cfg.max_payload = o->max_payload;
  cfg.will = o->will;
  iotkit_transport_events_t ev = {.user = &rec, .connected = on_connected, .disconnected = on_disconnected,
                                  .message = on_message, .delivery = on_delivery};
  cr_assert_eq(ops->create(&cfg, &ev, &ctx), IOTKIT_OK);
}

/* Poll until *counter reaches want, for up to 10 s; true if it did. */
static bool poll_until(const int *counter, int want) {
  uint64_t end = test_now_ms() + 10000;
  while (test_now_ms() < end) {
    pthread_mutex_lock(&rec.lock);
    bool done = *counter >= want;
    pthread_mutex_unlock(&rec.lock);
    if (done) return true;
    cr_assert_eq(ops->poll(ctx, 50), IOTKIT_OK);
  }
  return false;
}

static void connect_client(int protocol) {
  open_client(mosq_server_uri(srv), &(client_opts_t){.protocol = protocol});
  cr_assert_eq(ops->connect(ctx), IOTKIT_OK, "%s", ops->last_error(ctx));
  cr_assert(poll_until(&rec.connected, 1), "no connected event: %s", ops->last_error(ctx));
  cr_assert_eq(rec.disconnected, 0);
}

static void open_peer(const char *topic, int protocol) {
  peer = mqtt_peer_new(&(mqtt_peer_opts_t){
      .port = mosq_server_port(srv), .topic = topic, .qos = 2, .protocol_version = protocol});
  cr_assert_not_null(peer);
}

TestSuite(mqtt, .init = setup, .fini = teardown, .timeout = 60);

Test(mqtt, describes_itself) {
  cr_assert_str_eq(ops->name, "mqtt-mosquitto");
  cr_assert_str_eq(ops->schemes[0], "mqtt");
  cr_assert_str_eq(ops->schemes[1], "mqtts");
  cr_assert_null(ops->schemes[2]);
}

Test(mqtt, connect_311) {
  connect_client(311);
  cr_assert_geq(ops->fd(ctx), 0);
}

Test(mqtt, connect_5) { connect_client(5); }

/* fd() is the context's epoll descriptor: there before connect(), the same
   while connecting, connected and after a disconnect. */
Test(mqtt, fd_is_stable_for_the_context_life) {
  open_client(mosq_server_uri(srv), &(client_opts_t){0});
  int fd = ops->fd(ctx);
  cr_assert_geq(fd, 0);
  cr_assert_str_eq(ops->last_error(ctx), "");
  cr_assert_eq(ops->timeout_ms(ctx), -1, "nothing to do without a connection");
  cr_assert_eq(ops->connect(ctx), IOTKIT_OK);
  cr_assert_eq(ops->fd(ctx), fd);
  cr_assert(poll_until(&rec.connected, 1));
  cr_assert_eq(ops->fd(ctx), fd);
  cr_assert_geq(ops->timeout_ms(ctx), 0);
  cr_assert_leq(ops->timeout_ms(ctx), 1000);
  cr_assert_eq(ops->disconnect(ctx), IOTKIT_OK);
  cr_assert(poll_until(&rec.disconnected, 1));
  cr_assert_eq(ops->fd(ctx), fd);
}

/* Publish a binary payload at every QoS; the peer gets the exact bytes. */
static void publish_all_qos(int protocol) {
  open_peer("dev/#", protocol);
  connect_client(protocol);
  static const unsigned char bytes[] = {'a', 0, 'b', 0, 0, 0xff, 0x80, 0, 'z'};
  uint32_t ids[3];
  for (int qos = 0; qos <= 2; qos++) {
    char channel[32];
    snprintf(channel, sizeof channel, "dev/qos%d", qos);
    iotkit_message_t m = {.channel = channel, .payload = bytes, .len = sizeof bytes, .qos = qos};
    cr_assert_eq(ops->send(ctx, &m, &ids[qos]), IOTKIT_OK, "%s", ops->last_error(ctx));
  }
  cr_assert(poll_until(&rec.deliveries, 3));
  for (int i = 0; i < 3; i++) {
    cr_assert_eq(rec.statuses[i], IOTKIT_OK);
    bool known = rec.ids[i] == ids[0] || rec.ids[i] == ids[1] || rec.ids[i] == ids[2];
    cr_assert(known, "delivery for unknown id %u", rec.ids[i]);
  }
  cr_assert_neq(ids[0], ids[1]);
  cr_assert_neq(ids[1], ids[2]);
  cr_assert(mqtt_peer_wait(peer, 3, 10000));
  for (int qos = 0; qos <= 2; qos++) {
    char channel[32];
    snprintf(channel, sizeof channel, "dev/qos%d", qos);
    bool seen = false;
    for (size_t i = 0; i < 3; i++) {
      const mqtt_peer_msg_t *got = mqtt_peer_get(peer, i);
      if (strcmp(got->topic, channel) != 0) continue;
      seen = true;
      cr_assert_eq(got->len, sizeof bytes);
      cr_assert_eq(memcmp(got->payload, bytes, sizeof bytes), 0);
      cr_assert_eq(got->qos, qos);
      cr_assert_not(got->retain);
    }
    cr_assert(seen, "nothing on %s", channel);
  }
}

Test(mqtt, publish_qos_0_1_2_exact_bytes_311) { publish_all_qos(311); }

Test(mqtt, publish_qos_0_1_2_exact_bytes_5) { publish_all_qos(5); }

Test(mqtt, retained_message_reaches_later_subscriber) {
  connect_client(311);
  iotkit_message_t m = {.channel = "dev/state", .payload = "on", .len = 2, .qos = 1, .retain = true};
  uint32_t id;
  cr_assert_eq(ops->send(ctx, &m, &id), IOTKIT_OK);
  cr_assert(poll_until(&rec.deliveries, 1));
  open_peer("dev/state", 311);
  cr_assert(mqtt_peer_wait(peer, 1, 10000));
  const mqtt_peer_msg_t *got = mqtt_peer_get(peer, 0);
  cr_assert(got->retain);
  cr_assert_str_eq(got->payload, "on");
}

/* Subscribe, prove the subscription is active with our own echo, then receive from the peer. */
static void subscribe_and_receive(int protocol) {
  connect_client(protocol);
  open_peer(NULL, protocol);
  cr_assert_eq(ops->subscribe(ctx, "cmd/+/run", 1), IOTKIT_OK);
  iotkit_message_t probe = {.channel = "cmd/self/run", .payload = "probe", .len = 5, .qos = 1};
  uint32_t id;
  cr_assert_eq(ops->send(ctx, &probe, &id), IOTKIT_OK);
  cr_assert(poll_until(&rec.messages, 1));
  cr_assert_str_eq(rec.channel, "cmd/self/run");
  static const unsigned char cmd[] = {1, 0, 2, 0};
  cr_assert(mqtt_peer_publish(peer, "cmd/dev-1/run", cmd, sizeof cmd, 1, false));
  cr_assert(poll_until(&rec.messages, 2));
  cr_assert_str_eq(rec.channel, "cmd/dev-1/run");
  cr_assert_eq(rec.len, sizeof cmd);
  cr_assert_eq(memcmp(rec.payload, cmd, sizeof cmd), 0);
}

Test(mqtt, subscribe_and_receive_311) { subscribe_and_receive(311); }

Test(mqtt, subscribe_and_receive_5) { subscribe_and_receive(5); }

static void last_will_on_lost_socket(int protocol) {
  open_peer("dev/status", protocol);
  client_opts_t o = {.protocol = protocol,
                     .will = {.channel = "dev/status", .payload = "offline", .payload_len = 7, .qos = 1}};
  open_client(mosq_server_uri(srv), &o);
  cr_assert_eq(ops->connect(ctx), IOTKIT_OK);
  cr_assert(poll_until(&rec.connected, 1));
  /* destroy() drops the socket without DISCONNECT: the broker must publish the will */
  ops->destroy(ctx);
  ctx = NULL;
  cr_assert(mqtt_peer_wait(peer, 1, 10000), "no last will");
  const mqtt_peer_msg_t *got = mqtt_peer_get(peer, 0);
  cr_assert_str_eq(got->topic, "dev/status");
  cr_assert_str_eq(got->payload, "offline");
}

Test(mqtt, last_will_when_socket_dies_311) { last_will_on_lost_socket(311); }

Test(mqtt, last_will_when_socket_dies_5) { last_will_on_lost_socket(5); }

Test(mqtt, no_last_will_after_clean_disconnect) {
  open_peer("dev/#", 311);
  client_opts_t o = {.will = {.channel = "dev/status", .payload = "offline", .payload_len = 7, .qos = 1}};
  open_client(mosq_server_uri(srv), &o);
  cr_assert_eq(ops->connect(ctx), IOTKIT_OK);
  cr_assert(poll_until(&rec.connected, 1));
  cr_assert_eq(ops->disconnect(ctx), IOTKIT_OK);
  cr_assert(poll_until(&rec.disconnected, 1));
  cr_assert_eq(rec.disc_reason, IOTKIT_OK);
  ops->destroy(ctx);
  ctx = NULL;
  /* a marker published after the disconnect must be the first thing the peer sees */
  cr_assert(mqtt_peer_publish(peer, "dev/marker", "m", 1, 1, false));
  cr_assert(mqtt_peer_wait(peer, 1, 10000));
  cr_assert_str_eq(mqtt_peer_get(peer, 0)->topic, "dev/marker");
}

Test(mqtt, disconnect_reports_ok_and_stops_sends) {
  connect_client(311);
  cr_assert_eq(ops->disconnect(ctx), IOTKIT_OK);
  cr_assert(poll_until(&rec.disconnected, 1));
  cr_assert_eq(rec.disc_reason, IOTKIT_OK);
  iotkit_message_t m = {.channel = "t", .payload = "x", .len = 1};
  uint32_t id;
  cr_assert_eq(ops->send(ctx, &m, &id), IOTKIT_ERR_NOT_CONNECTED);
  cr_assert_eq(ops->disconnect(ctx), IOTKIT_ERR_NOT_CONNECTED);
}

Test(mqtt, reconnect_after_disconnect) {
  connect_client(311);
  cr_assert_eq(ops->disconnect(ctx), IOTKIT_OK);
  cr_assert(poll_until(&rec.disconnected, 1));
  cr_assert_eq(ops->connect(ctx), IOTKIT_OK, "%s", ops->last_error(ctx));
  cr_assert(poll_until(&rec.connected, 2));
}

Test(mqtt, connect_twice_is_state_error) {
  connect_client(311);
  cr_assert_eq(ops->connect(ctx), IOTKIT_ERR_STATE);
}

Test(mqtt, broker_stopped_is_connection_lost) {
  connect_client(311);
  cr_assert(mosq_server_kill(srv));
  cr_assert(poll_until(&rec.disconnected, 1));
  cr_assert_eq(rec.disc_reason, IOTKIT_ERR_CONNECTION_LOST);
  cr_assert(strstr(ops->last_error(ctx), "lost") != NULL, "%s", ops->last_error(ctx));
  /* and it comes back on the same port */
  cr_assert(mosq_server_restart(srv));
  cr_assert_eq(ops->connect(ctx), IOTKIT_OK, "%s", ops->last_error(ctx));
  cr_assert(poll_until(&rec.connected, 2));
}

Test(mqtt, oversize_payload_is_too_large) {
  open_client(mosq_server_uri(srv), &(client_opts_t){.max_payload = 16});
  cr_assert_eq(ops->connect(ctx), IOTKIT_OK);
  cr_assert(poll_until(&rec.connected, 1));
  char big[17] = {0};
  iotkit_message_t m = {.channel = "t", .payload = big, .len = sizeof big, .qos = 1};
  uint32_t id = 1234;
  cr_assert_eq(ops->send(ctx, &m, &id), IOTKIT_ERR_TOO_LARGE);
  cr_assert_eq(id, 1234);
  cr_assert(strstr(ops->last_error(ctx), "17") != NULL, "%s", ops->last_error(ctx));
  m.len = 16;
  cr_assert_eq(ops->send(ctx, &m, &id), IOTKIT_OK);
  cr_assert(poll_until(&rec.deliveries, 1));
  cr_assert_eq(rec.ids[0], id, "only the accepted send is confirmed");
}

Test(mqtt, send_and_subscribe_before_connect) {
  open_client(mosq_server_uri(srv), &(client_opts_t){0});
  iotkit_message_t m = {.channel = "t", .payload = "x", .len = 1};
  uint32_t id;
  cr_assert_eq(ops->send(ctx, &m, &id), IOTKIT_ERR_NOT_CONNECTED);
  cr_assert_eq(ops->subscribe(ctx, "t", 0), IOTKIT_ERR_NOT_CONNECTED);
  cr_assert_eq(ops->disconnect(ctx), IOTKIT_ERR_NOT_CONNECTED);
  cr_assert_eq(ops->poll(ctx, 0), IOTKIT_OK);
}

Test(mqtt, null_and_bad_arguments) {
  connect_client(311);
  uint32_t id;
  iotkit_message_t m = {.channel = "t", .payload = "x", .len = 1};
  cr_assert_eq(ops->send(NULL, &m, &id), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(ops->send(ctx, NULL, &id), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(ops->send(ctx, &m, NULL), IOTKIT_ERR_INVALID_ARG);
  m.channel = "a/#";
  cr_assert_eq(ops->send(ctx, &m, &id), IOTKIT_ERR_INVALID_ARG);
  m.channel = "t";
  m.qos = 3;
  cr_assert_eq(ops->send(ctx, &m, &id), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(ops->subscribe(NULL, "t", 0), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(ops->subscribe(ctx, NULL, 0), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(ops->subscribe(ctx, "a/#/b", 0), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(ops->connect(NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(ops->disconnect(NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(ops->poll(NULL, 0), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(ops->poll(ctx, -1), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(ops->fd(NULL), -1);
  cr_assert_str_eq(ops->last_error(NULL), "");
  ops->destroy(NULL);
}

/* send() from another thread while this one polls. */
#define CONCURRENT_SENDS 300
static void *sender(void *arg) {
  (void)arg;
  for (int i = 0; i < CONCURRENT_SENDS; i++) {
    iotkit_message_t m = {.channel = "dev/load", .payload = &i, .len = sizeof i, .qos = i % 3};
    uint32_t id;
    cr_assert_eq(ops->send(ctx, &m, &id), IOTKIT_OK, "%s", ops->last_error(ctx));
  }
  return NULL;
}

Test(mqtt, send_concurrent_with_poll) {
  open_peer("dev/load", 311);
  connect_client(311);
  pthread_t t;
  cr_assert_eq(pthread_create(&t, NULL, sender, NULL), 0);
  bool all = poll_until(&rec.deliveries, CONCURRENT_SENDS);
  pthread_join(t, NULL);
  cr_assert(all, "only %d deliveries", rec.deliveries);
  for (int i = 0; i < CONCURRENT_SENDS; i++) cr_assert_eq(rec.statuses[i], IOTKIT_OK);
  cr_assert(mqtt_peer_wait(peer, CONCURRENT_SENDS, 10000), "peer got %zu", mqtt_peer_count(peer));
}

/* ------------------------------------------------------- failures -- */

TestSuite(mqtt_fail, .init = setup_broker, .fini = teardown, .timeout = 60);

/* connect() does not wait for the TCP connection: a refusal comes either from
   connect() at once (no event then) or as disconnected(IOTKIT_ERR_CONNECT). */
Test(mqtt_fail, broker_not_listening_is_connect_error) {
  open_client(mosq_server_uri(srv), &(client_opts_t){0}); /* never started */
  iotkit_err_t rc = ops->connect(ctx);
  if (rc == IOTKIT_OK) {
    cr_assert(poll_until(&rec.disconnected, 1));
    cr_assert_eq(rec.disc_reason, IOTKIT_ERR_CONNECT, "%s", iotkit_err_name(rec.disc_reason));
    cr_assert_eq(rec.connected, 0);
  } else {
    cr_assert_eq(rc, IOTKIT_ERR_CONNECT, "%s", iotkit_err_name(rc));
    cr_assert_eq(ops->poll(ctx, 10), IOTKIT_OK);
    cr_assert_eq(rec.connected + rec.disconnected, 0, "a failed connect raises no event");
  }
  char port[16];
  snprintf(port, sizeof port, ":%u", mosq_server_port(srv));
  cr_assert(strstr(ops->last_error(ctx), port) != NULL, "%s", ops->last_error(ctx));
  cr_assert(strstr(ops->last_error(ctx), "refused") != NULL, "%s", ops->last_error(ctx));
}

static void start_with_user(void) {
  cr_assert(mosq_server_add_user(srv, "dev-1", "right-pass"));
  cr_assert(mosq_server_start(srv));
}

static void wrong_password_is_auth(int protocol) {
  start_with_user();
  client_opts_t o = {.protocol = protocol, .user = "dev-1", .password = "wrong-pass-xyz"};
  open_client(mosq_server_uri(srv), &o);
  cr_assert_eq(ops->connect(ctx), IOTKIT_OK);
  cr_assert(poll_until(&rec.disconnected, 1));
  cr_assert_eq(rec.connected, 0);
  cr_assert_eq(rec.disc_reason, IOTKIT_ERR_AUTH, "%s", iotkit_err_name(rec.disc_reason));
  cr_assert(strstr(rec.disc_detail, "refused") != NULL, "%s", rec.disc_detail);
  cr_assert_str_eq(ops->last_error(ctx), rec.disc_detail);
  cr_assert_not(test_hal_log_contains(th, "wrong-pass-xyz"), "the password was logged");
  cr_assert(test_hal_log_contains(th, "refused"));
}

Test(mqtt_fail, wrong_password_is_auth_311) { wrong_password_is_auth(311); }

Test(mqtt_fail, wrong_password_is_auth_5) { wrong_password_is_auth(5); }

Test(mqtt_fail, no_credentials_is_auth) {
  start_with_user();
  open_client(mosq_server_uri(srv), &(client_opts_t){0});
  cr_assert_eq(ops->connect(ctx), IOTKIT_OK);
  cr_assert(poll_until(&rec.disconnected, 1));
  cr_assert_eq(rec.disc_reason, IOTKIT_ERR_AUTH);
}

Test(mqtt_fail, right_password_connects) {
  start_with_user();
  open_client(mosq_server_uri(srv), &(client_opts_t){.user = "dev-1", .password = "right-pass"});
  cr_assert_eq(ops->connect(ctx), IOTKIT_OK);
  cr_assert(poll_until(&rec.connected, 1), "%s", ops->last_error(ctx));
}

Test(mqtt_fail, credentials_from_uri) {
  start_with_user();
  char text[128];
  snprintf(text, sizeof text, "mqtt://dev-1:right%%2Dpass@127.0.0.1:%u", mosq_server_port(srv));
  open_client(text, &(client_opts_t){0});
  cr_assert_eq(ops->connect(ctx), IOTKIT_OK);
  cr_assert(poll_until(&rec.connected, 1), "%s", ops->last_error(ctx));
}

/* --------------------------------------------------------- create -- */

Test(mqtt_create, bad_configs) {
  const iotkit_transport_ops_t *m = iotkit_transport_mqtt();
  cr_assert_not_null(m);
  iotkit_uri_t u;
  cr_assert_eq(iotkit_uri_parse("mqtt://127.0.0.1:1", &u), IOTKIT_OK);
  iotkit_transport_events_t ev = {0};
  iotkit_transport_config_t cfg;
  iotkit_transport_config_init(&cfg);
  cfg.uri = &u;
  cfg.client_id = "c";
  cfg.clean_session = true;
  cfg.protocol_version = 311;
  cfg.max_payload = 0; /* as before: no limit */
  void *c = NULL;
  cr_assert_eq(m->create(NULL, &ev, &c), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(m->create(&cfg, NULL, &c), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(m->create(&cfg, &ev, NULL), IOTKIT_ERR_INVALID_ARG);
  cfg.protocol_version = 4;
  cr_assert_eq(m->create(&cfg, &ev, &c), IOTKIT_ERR_INVALID_ARG, "unknown protocol version");
  cfg.protocol_version = 5;
  cfg.clean_session = false;
  cfg.client_id = NULL;
  cr_assert_eq(m->create(&cfg, &ev, &c), IOTKIT_ERR_INVALID_ARG, "persistent session without client id");
  cfg.clean_session = true;
  cfg.will = (iotkit_will_t){.channel = "a/+", .payload = "x", .payload_len = 1};
  cr_assert_eq(m->create(&cfg, &ev, &c), IOTKIT_ERR_INVALID_ARG, "wildcard will topic");
  cfg.will = (iotkit_will_t){.channel = "w", .payload = "x", .payload_len = 1, .qos = 3};
  cr_assert_eq(m->create(&cfg, &ev, &c), IOTKIT_ERR_INVALID_ARG, "will qos 3");
  cfg.uri = NULL;
  cr_assert_eq(m->create(&cfg, &ev, &c), IOTKIT_ERR_INVALID_ARG);
  cr_assert_null(c);
  iotkit_uri_clear(&u);
}

/* The URI option inflight=N (0..65535): a malformed or too large value fails create(). */
static iotkit_err_t create_with(const char *uri_text) {
  iotkit_uri_t u;
  cr_assert_eq(iotkit_uri_parse(uri_text, &u), IOTKIT_OK, "%s", uri_text);
  iotkit_transport_events_t ev = {0};
  iotkit_transport_config_t cfg;
  iotkit_transport_config_init(&cfg);
  cfg.uri = &u;
  cfg.client_id = "c";
  void *c = NULL;
  iotkit_err_t err = iotkit_transport_mqtt()->create(&cfg, &ev, &c);
  if (c) iotkit_transport_mqtt()->destroy(c);
  iotkit_uri_clear(&u);
  return err;
}

Test(mqtt_create, inflight_option_bad_values) {
  cr_assert_eq(create_with("mqtt://127.0.0.1:1?inflight=x"), IOTKIT_ERR_INVALID_ARG, "not a number");
  cr_assert_eq(create_with("mqtt://127.0.0.1:1?inflight="), IOTKIT_ERR_INVALID_ARG, "empty");
  cr_assert_eq(create_with("mqtt://127.0.0.1:1?inflight=-1"), IOTKIT_ERR_INVALID_ARG, "negative");
  cr_assert_eq(create_with("mqtt://127.0.0.1:1?inflight=65536"), IOTKIT_ERR_INVALID_ARG, "above 65535");
  cr_assert_eq(create_with("mqtt://127.0.0.1:1?inflight=65535"), IOTKIT_OK);
  cr_assert_eq(create_with("mqtt://127.0.0.1:1?inflight=0"), IOTKIT_OK, "0: no limit");
  cr_assert_eq(create_with("mqtt://127.0.0.1:1?other=1"), IOTKIT_OK, "other options are not ours");
}

/* A window of one: every QoS 1 message still goes out and is confirmed, in order. */
Test(mqtt, inflight_one_delivers_everything_in_order) {
  open_peer("dev/w", 311);
  char text[256];
  snprintf(text, sizeof text, "%s?inflight=1", mosq_server_uri(srv));
  open_client(text, &(client_opts_t){.protocol = 311});
  cr_assert_eq(ops->connect(ctx), IOTKIT_OK, "%s", ops->last_error(ctx));
  cr_assert(poll_until(&rec.connected, 1), "%s", ops->last_error(ctx));
  uint32_t ids[50];
  for (int i = 0; i < 50; i++) {
    char p[8];
    int n = snprintf(p, sizeof p, "%d", i);
    iotkit_message_t m = {.channel = "dev/w", .payload = p, .len = (size_t)n, .qos = 1};
    cr_assert_eq(ops->send(ctx, &m, &ids[i]), IOTKIT_OK, "%s", ops->last_error(ctx));
  }
  cr_assert(poll_until(&rec.deliveries, 50), "only %d deliveries", rec.deliveries);
  for (int i = 0; i < 50; i++) {
    cr_assert_eq(rec.ids[i], ids[i], "confirmation %d", i);
    cr_assert_eq(rec.statuses[i], IOTKIT_OK);
  }
  cr_assert(mqtt_peer_wait(peer, 50, 10000), "peer got %zu", mqtt_peer_count(peer));
}

#endif /* IOTKIT_WITH_MQTT */
