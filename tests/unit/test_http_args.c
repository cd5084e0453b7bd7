/* The HTTP backend's argument checks and state rules; no server is involved
   (a connect attempt goes to a port nothing listens on). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "iotkit/transport.h"
#include "net_util.h"
#include "test_hal.h"
#include "transport_rec.h"

static const iotkit_transport_ops_t *ops;
static test_hal_t *th;
static transport_rec_t rec;
static iotkit_transport_events_t ev;
static iotkit_uri_t uri;
static void *ctx;
static iotkit_transport_config_t cfg;

static void parse(const char *text) {
  iotkit_uri_clear(&uri);
  cr_assert_eq(iotkit_uri_parse(text, &uri), IOTKIT_OK, "%s", text);
}

static void setup(void) {
  ops = iotkit_transport_http();
  cr_assert_not_null(ops, "built without HTTP");
  th = test_hal_new();
  transport_rec_init(&rec);
  ev = transport_rec_events(&rec);
  char text[64];
  snprintf(text, sizeof text, "http://127.0.0.1:%u/api", test_free_port());
  parse(text);
  cfg = (iotkit_transport_config_t){.uri = &uri, .hal = test_hal_get(th), .client_id = "dev-1",
                                    .connect_timeout_ms = 2000, .max_payload = 16, .tls.verify_peer = true};
}

static void teardown(void) {
  if (ctx) ops->destroy(ctx);
  ctx = NULL;
  iotkit_uri_clear(&uri);
  test_hal_free(th);
}

static void create(void) { cr_assert_eq(ops->create(&cfg, &ev, &ctx), IOTKIT_OK); }

/* create() with the current cfg must fail with @p want and leave ctx alone. */
static void create_fails(iotkit_err_t want) {
  void *out = (void *)&out;
  cr_assert_eq(ops->create(&cfg, &ev, &out), want);
  cr_assert_eq(out, (void *)&out, "output touched on failure");
}

/* send() of @p m must fail with @p want and leave the id alone. */
static void send_fails(const iotkit_message_t *m, iotkit_err_t want) {
  uint32_t id = 777;
  cr_assert_eq(ops->send(ctx, m, &id), want);
  cr_assert_eq(id, 777);
}

static void send_channel_fails(const char *channel) {
  create();
  iotkit_message_t m = {.channel = channel, .payload = "x", .len = 1};
  send_fails(&m, IOTKIT_ERR_INVALID_ARG);
}

TestSuite(http_args, .init = setup, .fini = teardown, .timeout = 30);

Test(http_args, create_null_config) { cr_assert_eq(ops->create(NULL, &ev, &ctx), IOTKIT_ERR_INVALID_ARG); }
Test(http_args, create_null_events) { cr_assert_eq(ops->create(&cfg, NULL, &ctx), IOTKIT_ERR_INVALID_ARG); }
Test(http_args, create_null_out) { cr_assert_eq(ops->create(&cfg, &ev, NULL), IOTKIT_ERR_INVALID_ARG); }

Test(http_args, create_null_uri) {
  cfg.uri = NULL;
  create_fails(IOTKIT_ERR_INVALID_ARG);
}

Test(http_args, create_cert_without_key) {
  cfg.tls.cert_file = "/nonexistent/client.pem";
  create_fails(IOTKIT_ERR_INVALID_ARG);
}

Test(http_args, create_key_without_cert) {
  cfg.tls.key_file = "/nonexistent/client.key";
  create_fails(IOTKIT_ERR_INVALID_ARG);
}

Test(http_args, create_zero_attempts) {
  parse("http://127.0.0.1:1/api?attempts=0");
  create_fails(IOTKIT_ERR_INVALID_ARG);
}

Test(http_args, create_wait_not_a_number) {
  parse("http://127.0.0.1:1/api?wait=soon");
  create_fails(IOTKIT_ERR_INVALID_ARG);
}

Test(http_args, create_inflight_too_large) {
  parse("http://127.0.0.1:1/api?inflight=65");
  create_fails(IOTKIT_ERR_INVALID_ARG);
}

Test(http_args, create_with_every_option) {
  parse("https://127.0.0.1:1/api/?attempts=3&backoff_ms=5&wait=10&poll_ms=100&timeout_ms=5000&inflight=2");
  create();
  cr_assert_str_eq(ops->last_error(ctx), "");
}

Test(http_args, send_null_context) {
  iotkit_message_t m = {.channel = "t", .payload = "x", .len = 1};
  uint32_t id;
  cr_assert_eq(ops->send(NULL, &m, &id), IOTKIT_ERR_INVALID_ARG);
}

Test(http_args, send_null_message) {
  create();
  send_fails(NULL, IOTKIT_ERR_INVALID_ARG);
}

Test(http_args, send_null_id) {
  create();
  iotkit_message_t m = {.channel = "t", .payload = "x", .len = 1};
  cr_assert_eq(ops->send(ctx, &m, NULL), IOTKIT_ERR_INVALID_ARG);
}

Test(http_args, send_null_channel) { send_channel_fails(NULL); }
Test(http_args, send_empty_channel) { send_channel_fails(""); }
Test(http_args, send_plus_wildcard) { send_channel_fails("a/+/b"); }
Test(http_args, send_hash_wildcard) { send_channel_fails("a/#"); }
Test(http_args, send_empty_level) { send_channel_fails("a//b"); }
Test(http_args, send_trailing_slash) { send_channel_fails("a/b/"); }
Test(http_args, send_leading_slash) { send_channel_fails("/a"); }
Test(http_args, send_dot_level) { send_channel_fails("a/./b"); }
Test(http_args, send_dotdot_level) { send_channel_fails("a/../b"); }

Test(http_args, send_null_payload_with_length) {
  create();
  iotkit_message_t m = {.channel = "t", .payload = NULL, .len = 3};
  send_fails(&m, IOTKIT_ERR_INVALID_ARG);
}

Test(http_args, send_qos_3) {
  create();
  iotkit_message_t m = {.channel = "t", .payload = "x", .len = 1, .qos = 3};
  send_fails(&m, IOTKIT_ERR_INVALID_ARG);
}

Test(http_args, send_over_max_payload_is_TOO_LARGE) {
  create();
  char big[17] = {0};
  iotkit_message_t m = {.channel = "t", .payload = big, .len = sizeof big};
  send_fails(&m, IOTKIT_ERR_TOO_LARGE);
  cr_assert(strstr(ops->last_error(ctx), "17") != NULL, "%s", ops->last_error(ctx));
}

Test(http_args, send_before_connect_is_NOT_CONNECTED) {
  create();
  iotkit_message_t m = {.channel = "t", .payload = "x", .len = 1};
  send_fails(&m, IOTKIT_ERR_NOT_CONNECTED);
}

Test(http_args, subscribe_null_context) { cr_assert_eq(ops->subscribe(NULL, "t", 0), IOTKIT_ERR_INVALID_ARG); }

Test(http_args, subscribe_null_channel) {
  create();
  cr_assert_eq(ops->subscribe(ctx, NULL, 0), IOTKIT_ERR_INVALID_ARG);
}

Test(http_args, subscribe_wildcard) {
  create();
  cr_assert_eq(ops->subscribe(ctx, "a/+", 0), IOTKIT_ERR_INVALID_ARG);
}

Test(http_args, subscribe_qos_minus_1) {
  create();
  cr_assert_eq(ops->subscribe(ctx, "t", -1), IOTKIT_ERR_INVALID_ARG);
}

Test(http_args, subscribe_before_connect_is_NOT_CONNECTED) {
  create();
  cr_assert_eq(ops->subscribe(ctx, "t", 0), IOTKIT_ERR_NOT_CONNECTED);
}

Test(http_args, connect_null) { cr_assert_eq(ops->connect(NULL), IOTKIT_ERR_INVALID_ARG); }
Test(http_args, disconnect_null) { cr_assert_eq(ops->disconnect(NULL), IOTKIT_ERR_INVALID_ARG); }

Test(http_args, disconnect_when_down_is_NOT_CONNECTED) {
  create();
  cr_assert_eq(ops->disconnect(ctx), IOTKIT_ERR_NOT_CONNECTED);
  cr_assert_eq(rec.disconnected, 0);
}

Test(http_args, connect_while_connecting_is_STATE) {
  create();
  cr_assert_eq(ops->connect(ctx), IOTKIT_OK);
  cr_assert_eq(ops->connect(ctx), IOTKIT_ERR_STATE);
}

Test(http_args, disconnect_while_connecting_reports_ok) {
  create();
  cr_assert_eq(ops->connect(ctx), IOTKIT_OK);
  cr_assert_eq(ops->disconnect(ctx), IOTKIT_OK);
  cr_assert_eq(rec.disconnected, 1);
  cr_assert_eq(rec.disc_reason, IOTKIT_OK);
  cr_assert_eq(ops->poll(ctx, 20), IOTKIT_OK);
  cr_assert_eq(rec.connected + rec.disconnected, 1, "the aborted probe reports nothing more");
}

Test(http_args, poll_null) { cr_assert_eq(ops->poll(NULL, 0), IOTKIT_ERR_INVALID_ARG); }

Test(http_args, poll_negative_timeout) {
  create();
  cr_assert_eq(ops->poll(ctx, -1), IOTKIT_ERR_INVALID_ARG);
}

Test(http_args, poll_when_down_does_nothing) {
  create();
  cr_assert_eq(ops->poll(ctx, 0), IOTKIT_OK);
  cr_assert_eq(rec.connected + rec.disconnected + rec.deliveries + rec.messages, 0);
}

Test(http_args, fd_is_one_stable_descriptor) {
  create();
  int fd = ops->fd(ctx);
  cr_assert_geq(fd, 0, "the epoll set an external loop watches");
  cr_assert_eq(ops->fd(ctx), fd);
  cr_assert_eq(ops->fd(NULL), -1);
  cr_assert_eq(ops->timeout_ms(ctx), -1, "nothing to do while down");
  cr_assert_eq(ops->timeout_ms(NULL), -1);
}

Test(http_args, unsubscribe_bad_arguments) {
  create();
  cr_assert_eq(ops->unsubscribe(ctx, "a/+"), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(ops->unsubscribe(ctx, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(ops->unsubscribe(NULL, "a"), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(ops->unsubscribe(ctx, "a"), IOTKIT_ERR_NOT_CONNECTED);
}

Test(http_args, last_error_null_is_empty) { cr_assert_str_eq(ops->last_error(NULL), ""); }

Test(http_args, destroy_null_is_noop) { ops->destroy(NULL); }
