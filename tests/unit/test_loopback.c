#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "iotkit/transport.h"
#include "test_hal.h"

/* What the events recorded. */
typedef struct rec {
  int connected;
  int disconnected;
  iotkit_err_t disc_reason;
  int messages;
  char channel[128];
  char payload[256];
  size_t len;
  int deliveries;
  uint32_t last_id;
  iotkit_err_t last_status;
  bool resend_from_callback;
} rec_t;

static const iotkit_transport_ops_t *ops;
static void *ctx;
static rec_t rec;
static iotkit_uri_t uri;
static test_hal_t *th;

static void on_connected(void *u) { ((rec_t *)u)->connected++; }
static void on_disconnected(void *u, iotkit_err_t reason, const char *detail) {
  rec_t *r = u;
  cr_assert_not_null(detail);
  r->disconnected++;
  r->disc_reason = reason;
}
static void on_message(void *u, const char *channel, const void *payload, size_t len) {
  rec_t *r = u;
  r->messages++;
  snprintf(r->channel, sizeof r->channel, "%s", channel);
  cr_assert_leq(len, sizeof r->payload);
  memcpy(r->payload, payload, len);
  r->len = len;
  if (r->resend_from_callback) {
    uint32_t id;
    iotkit_message_t m = {.channel = channel, .payload = payload, .len = len};
    cr_assert_eq(ops->send(ctx, &m, &id), IOTKIT_OK);
  }
}
static void on_delivery(void *u, uint32_t id, iotkit_err_t status) {
  rec_t *r = u;
  r->deliveries++;
  r->last_id = id;
  r->last_status = status;
}

static void open_loop(const char *text, bool with_hal, size_t max_payload) {
  ops = iotkit_transport_loopback();
  memset(&rec, 0, sizeof rec);
  cr_assert_eq(iotkit_uri_parse(text, &uri), IOTKIT_OK);
  th = test_hal_new();
  iotkit_transport_config_t cfg;
  iotkit_transport_config_init(&cfg);
  cfg.uri = &uri;
  cfg.hal = with_hal ? test_hal_get(th) : NULL;
  cfg.client_id = "dev-1";
  cfg.clean_session = true;
  cfg.max_payload = max_payload;
  iotkit_transport_events_t ev = {.user = &rec, .connected = on_connected, .disconnected = on_disconnected,
                                  .message = on_message, .delivery = on_delivery};
  cr_assert_eq(ops->create(&cfg, &ev, &ctx), IOTKIT_OK);
}

static void open_default(void) { open_loop("loop://x", true, 1024); }

static void close_loop(void) {
  if (ops) ops->destroy(ctx);
  ctx = NULL;
  iotkit_uri_clear(&uri);
  test_hal_free(th);
  th = NULL;
}

static void connect_now(void) {
  cr_assert_eq(ops->connect(ctx), IOTKIT_OK);
  cr_assert_eq(rec.connected, 0, "connected() only fires from poll");
  cr_assert_eq(ops->poll(ctx, 0), IOTKIT_OK);
  cr_assert_eq(rec.connected, 1);
}

static iotkit_err_t send_str(const char *channel, const char *text, uint32_t *id) {
  iotkit_message_t m = {.channel = channel, .payload = text, .len = strlen(text), .qos = 1};
  return ops->send(ctx, &m, id);
}

TestSuite(loopback, .init = open_default, .fini = close_loop);

Test(loopback, describes_itself) {
  cr_assert_str_eq(ops->name, "loopback");
  cr_assert_str_eq(ops->schemes[0], "loop");
  cr_assert_eq(ops->fd(ctx), -1);
  cr_assert_str_eq(ops->last_error(ctx), "");
}

Test(loopback, connect_fires_on_next_poll) { connect_now(); }

Test(loopback, echo_to_matching_subscription) {
  connect_now();
  cr_assert_eq(ops->subscribe(ctx, "dev/+/cmd", 1), IOTKIT_OK);
  uint32_t id = 0;
  cr_assert_eq(send_str("dev/7/cmd", "hello", &id), IOTKIT_OK);
  cr_assert_neq(id, 0);
  cr_assert_eq(rec.messages, 0);
  cr_assert_eq(ops->poll(ctx, 0), IOTKIT_OK);
  cr_assert_eq(rec.messages, 1);
  cr_assert_str_eq(rec.channel, "dev/7/cmd");
  cr_assert_eq(rec.len, 5);
  cr_assert_eq(memcmp(rec.payload, "hello", 5), 0);
  cr_assert_eq(rec.deliveries, 1);
  cr_assert_eq(rec.last_id, id);
  cr_assert_eq(rec.last_status, IOTKIT_OK);
}

Test(loopback, hash_wildcard_subscription) {
  connect_now();
  cr_assert_eq(ops->subscribe(ctx, "dev/#", 0), IOTKIT_OK);
  uint32_t id;
  cr_assert_eq(send_str("dev/a/b/c", "x", &id), IOTKIT_OK);
  ops->poll(ctx, 0);
  cr_assert_eq(rec.messages, 1);
  cr_assert_str_eq(rec.channel, "dev/a/b/c");
}

Test(loopback, overlapping_subscriptions_deliver_once) {
  connect_now();
  cr_assert_eq(ops->subscribe(ctx, "a/#", 0), IOTKIT_OK);
  cr_assert_eq(ops->subscribe(ctx, "a/b", 0), IOTKIT_OK);
  cr_assert_eq(ops->subscribe(ctx, "a/b", 0), IOTKIT_OK);
  uint32_t id;
  cr_assert_eq(send_str("a/b", "x", &id), IOTKIT_OK);
  ops->poll(ctx, 0);
  cr_assert_eq(rec.messages, 1);
}

Test(loopback, unsubscribed_channel_only_confirmed) {
  connect_now();
  cr_assert_eq(ops->subscribe(ctx, "a/b", 0), IOTKIT_OK);
  uint32_t id;
  cr_assert_eq(send_str("a/c", "x", &id), IOTKIT_OK);
  ops->poll(ctx, 0);
  cr_assert_eq(rec.messages, 0);
  cr_assert_eq(rec.deliveries, 1);
}

Test(loopback, binary_and_empty_payloads) {
  connect_now();
  cr_assert_eq(ops->subscribe(ctx, "bin", 0), IOTKIT_OK);
  static const unsigned char bytes[] = {0, 1, 0, 255, 0};
  uint32_t id;
  iotkit_message_t m = {.channel = "bin", .payload = bytes, .len = sizeof bytes};
  cr_assert_eq(ops->send(ctx, &m, &id), IOTKIT_OK);
  ops->poll(ctx, 0);
  cr_assert_eq(rec.len, sizeof bytes);
  cr_assert_eq(memcmp(rec.payload, bytes, sizeof bytes), 0);
  iotkit_message_t empty = {.channel = "bin", .payload = NULL, .len = 0};
  cr_assert_eq(ops->send(ctx, &empty, &id), IOTKIT_OK);
  ops->poll(ctx, 0);
  cr_assert_eq(rec.messages, 2);
  cr_assert_eq(rec.len, 0);
}

Test(loopback, ids_are_distinct) {
  connect_now();
  uint32_t a, b;
  cr_assert_eq(send_str("t", "1", &a), IOTKIT_OK);
  cr_assert_eq(send_str("t", "2", &b), IOTKIT_OK);
  cr_assert_neq(a, b);
  ops->poll(ctx, 0);
  cr_assert_eq(rec.deliveries, 2);
  cr_assert_eq(rec.last_id, b);
}

Test(loopback, max_payload_enforced) {
  connect_now();
  char big[1025];
  memset(big, 'x', sizeof big);
  iotkit_message_t m = {.channel = "t", .payload = big, .len = sizeof big};
  uint32_t id = 77;
  cr_assert_eq(ops->send(ctx, &m, &id), IOTKIT_ERR_TOO_LARGE);
  cr_assert_eq(id, 77, "a failed send leaves msg_id alone");
  cr_assert(strstr(ops->last_error(ctx), "1025") != NULL);
  m.len = 1024;
  cr_assert_eq(ops->send(ctx, &m, &id), IOTKIT_OK);
  ops->poll(ctx, 0);
  cr_assert_eq(rec.deliveries, 1, "the refused send has no delivery event");
}

Test(loopback, send_before_connect) {
  uint32_t id;
  cr_assert_eq(send_str("t", "x", &id), IOTKIT_ERR_NOT_CONNECTED);
}

Test(loopback, send_before_connected_event) {
  cr_assert_eq(ops->connect(ctx), IOTKIT_OK);
  uint32_t id;
  cr_assert_eq(send_str("t", "x", &id), IOTKIT_ERR_NOT_CONNECTED);
}

Test(loopback, subscribe_before_connect) {
  cr_assert_eq(ops->subscribe(ctx, "t", 0), IOTKIT_ERR_NOT_CONNECTED);
}

Test(loopback, connect_twice_is_state_error) {
  connect_now();
  cr_assert_eq(ops->connect(ctx), IOTKIT_ERR_STATE);
}

Test(loopback, disconnect_fires_ok) {
  connect_now();
  cr_assert_eq(ops->disconnect(ctx), IOTKIT_OK);
  cr_assert_eq(rec.disconnected, 0);
  ops->poll(ctx, 0);
  cr_assert_eq(rec.disconnected, 1);
  cr_assert_eq(rec.disc_reason, IOTKIT_OK);
  uint32_t id;
  cr_assert_eq(send_str("t", "x", &id), IOTKIT_ERR_NOT_CONNECTED);
}

Test(loopback, disconnect_when_down) { cr_assert_eq(ops->disconnect(ctx), IOTKIT_ERR_NOT_CONNECTED); }

Test(loopback, disconnect_before_connected_event_cancels_it) {
  cr_assert_eq(ops->connect(ctx), IOTKIT_OK);
  cr_assert_eq(ops->disconnect(ctx), IOTKIT_OK);
  ops->poll(ctx, 0);
  cr_assert_eq(rec.connected, 0);
  cr_assert_eq(rec.disconnected, 1);
}

Test(loopback, clean_session_forgets_subscriptions) {
  connect_now();
  cr_assert_eq(ops->subscribe(ctx, "t", 0), IOTKIT_OK);
  cr_assert_eq(ops->disconnect(ctx), IOTKIT_OK);
  ops->poll(ctx, 0);
  cr_assert_eq(ops->connect(ctx), IOTKIT_OK);
  ops->poll(ctx, 0);
  uint32_t id;
  cr_assert_eq(send_str("t", "x", &id), IOTKIT_OK);
  ops->poll(ctx, 0);
  cr_assert_eq(rec.messages, 0);
}

Test(loopback, events_raised_by_callbacks_wait_for_next_poll) {
  connect_now();
  cr_assert_eq(ops->subscribe(ctx, "echo", 0), IOTKIT_OK);
  rec.resend_from_callback = true;
  uint32_t id;
  cr_assert_eq(send_str("echo", "ping", &id), IOTKIT_OK);
  ops->poll(ctx, 0);
  cr_assert_eq(rec.messages, 1);
  ops->poll(ctx, 0);
  cr_assert_eq(rec.messages, 2);
}

Test(loopback, null_arguments) {
  uint32_t id;
  iotkit_message_t m = {.channel = "t", .payload = "x", .len = 1};
  cr_assert_eq(ops->send(NULL, &m, &id), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(ops->send(ctx, NULL, &id), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(ops->send(ctx, &m, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(ops->connect(NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(ops->disconnect(NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(ops->poll(NULL, 0), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(ops->subscribe(NULL, "t", 0), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(ops->subscribe(ctx, NULL, 0), IOTKIT_ERR_INVALID_ARG);
  cr_assert_str_eq(ops->last_error(NULL), "");
  ops->destroy(NULL);
}

Test(loopback, bad_messages) {
  connect_now();
  uint32_t id;
  iotkit_message_t m = {.channel = "a/+", .payload = "x", .len = 1};
  cr_assert_eq(ops->send(ctx, &m, &id), IOTKIT_ERR_INVALID_ARG, "wildcard channel");
  m.channel = "";
  cr_assert_eq(ops->send(ctx, &m, &id), IOTKIT_ERR_INVALID_ARG, "empty channel");
  m.channel = "t";
  m.qos = 3;
  cr_assert_eq(ops->send(ctx, &m, &id), IOTKIT_ERR_INVALID_ARG, "qos 3");
  m.qos = 0;
  m.payload = NULL;
  cr_assert_eq(ops->send(ctx, &m, &id), IOTKIT_ERR_INVALID_ARG, "NULL payload with length");
}

Test(loopback, bad_filters) {
  connect_now();
  cr_assert_eq(ops->subscribe(ctx, "a/#/b", 0), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(ops->subscribe(ctx, "a", -1), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(ops->subscribe(ctx, "a", 3), IOTKIT_ERR_INVALID_ARG);
}

Test(loopback_create, null_arguments) {
  ops = iotkit_transport_loopback();
  iotkit_uri_t u;
  cr_assert_eq(iotkit_uri_parse("loop://x", &u), IOTKIT_OK);
  iotkit_transport_config_t cfg;
  iotkit_transport_config_init(&cfg);
  cfg.uri = &u;
  cfg.max_payload = 0; /* as before: no limit */
  iotkit_transport_events_t ev = {0};
  void *c = NULL;
  cr_assert_eq(ops->create(NULL, &ev, &c), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(ops->create(&cfg, NULL, &c), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(ops->create(&cfg, &ev, NULL), IOTKIT_ERR_INVALID_ARG);
  cfg.uri = NULL;
  cr_assert_eq(ops->create(&cfg, &ev, &c), IOTKIT_ERR_INVALID_ARG);
  cr_assert_null(c);
  iotkit_uri_clear(&u);
}

Test(loopback_create, malformed_option) {
  ops = iotkit_transport_loopback();
  iotkit_uri_t u;
  cr_assert_eq(iotkit_uri_parse("loop://x?drop_after=soon", &u), IOTKIT_OK);
  iotkit_transport_config_t cfg;
  iotkit_transport_config_init(&cfg);
  cfg.uri = &u;
  cfg.max_payload = 0; /* as before: no limit */
  iotkit_transport_events_t ev = {0};
  void *c = NULL;
  cr_assert_eq(ops->create(&cfg, &ev, &c), IOTKIT_ERR_BAD_URI);
  cr_assert_null(c);
  iotkit_uri_clear(&u);
}

Test(loopback_options, refuse_fails_connect, .fini = close_loop) {
  open_loop("loop://x?refuse=1", true, 0);
  cr_assert_eq(ops->connect(ctx), IOTKIT_ERR_CONNECT);
  cr_assert(strstr(ops->last_error(ctx), "refuse") != NULL);
  ops->poll(ctx, 0);
  cr_assert_eq(rec.connected, 0);
  cr_assert_eq(rec.disconnected, 0, "a refused connect raises no event");
}

Test(loopback_options, drop_after_loses_connection, .fini = close_loop) {
  open_loop("loop://x?a=b&drop_after=2", true, 0);
  connect_now();
  uint32_t id;
  cr_assert_eq(send_str("t", "1", &id), IOTKIT_OK);
  cr_assert_eq(send_str("t", "2", &id), IOTKIT_OK);
  cr_assert_eq(send_str("t", "3", &id), IOTKIT_ERR_NOT_CONNECTED);
  ops->poll(ctx, 0);
  cr_assert_eq(rec.deliveries, 2);
  cr_assert_eq(rec.disconnected, 1);
  cr_assert_eq(rec.disc_reason, IOTKIT_ERR_CONNECTION_LOST);
  /* reconnecting restarts the count */
  cr_assert_eq(ops->connect(ctx), IOTKIT_OK);
  ops->poll(ctx, 0);
  cr_assert_eq(rec.connected, 2);
  cr_assert_eq(send_str("t", "4", &id), IOTKIT_OK);
  cr_assert_eq(send_str("t", "5", &id), IOTKIT_OK);
  ops->poll(ctx, 0);
  cr_assert_eq(rec.disconnected, 2);
}

Test(loopback_options, zero_max_payload_is_unlimited, .fini = close_loop) {
  open_loop("loop://x", false, 0);
  connect_now();
  static char big[100000];
  iotkit_message_t m = {.channel = "t", .payload = big, .len = sizeof big};
  uint32_t id;
  cr_assert_eq(ops->send(ctx, &m, &id), IOTKIT_OK);
}

/* send() from another thread while this one polls. */
static void *sender(void *arg) {
  (void)arg;
  for (int i = 0; i < 2000; i++) {
    uint32_t id;
    cr_assert_eq(send_str("t", "x", &id), IOTKIT_OK);
  }
  return NULL;
}

static void concurrent_sends(void) {
  connect_now();
  cr_assert_eq(ops->subscribe(ctx, "t", 0), IOTKIT_OK);
  pthread_t t;
  cr_assert_eq(pthread_create(&t, NULL, sender, NULL), 0);
  while (rec.deliveries < 2000) ops->poll(ctx, 0);
  pthread_join(t, NULL);
  ops->poll(ctx, 0);
  cr_assert_eq(rec.deliveries, 2000);
  cr_assert_eq(rec.messages, 2000);
}

Test(loopback, send_concurrent_with_poll_hal_mutex) { concurrent_sends(); }

Test(loopback_options, send_concurrent_with_poll_pthread, .fini = close_loop) {
  open_loop("loop://x", false, 0);
  concurrent_sends();
}
