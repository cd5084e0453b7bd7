/* The CoAP backend's argument and state checks. No server: a coap:// endpoint
   on a free 127.0.0.1 port is "connected" without any traffic. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "coap_server.h"
#include "net_util.h"
#include "iotkit/transport.h"
#include "test_hal.h"

static test_hal_t *th;
static const iotkit_transport_ops_t *ops;
static iotkit_uri_t uri;
static void *ctx;
static int n_connected, n_disconnected, n_delivery;
static iotkit_err_t last_reason, last_delivery;
static char order[16];

static void on_connected(void *u) {
  (void)u;
  n_connected++;
}
static void on_disconnected(void *u, iotkit_err_t reason, const char *detail) {
  (void)u;
  (void)detail;
  n_disconnected++;
  last_reason = reason;
  strncat(order, "D", sizeof order - strlen(order) - 1);
}
static void on_delivery(void *u, uint32_t id, iotkit_err_t status) {
  (void)u;
  (void)id;
  n_delivery++;
  last_delivery = status;
  strncat(order, "d", sizeof order - strlen(order) - 1);
}

static const iotkit_transport_events_t k_events = {
    .connected = on_connected, .disconnected = on_disconnected, .delivery = on_delivery};

static void setup(void) {
  ops = iotkit_transport_coap();
  if (!ops) cr_skip_test("built without CoAP");
  th = test_hal_new();
  cr_assert_not_null(th);
}

static void teardown(void) {
  if (ops && ctx) ops->destroy(ctx);
  ctx = NULL;
  iotkit_uri_clear(&uri);
  test_hal_free(th);
}

TestSuite(coap_args, .init = setup, .fini = teardown);

/* create() on @p text with @p tls and max_payload; returns its result. */
static iotkit_err_t create_with(const char *text, const iotkit_tls_config_t *tls, size_t max_payload) {
  cr_assert_eq(iotkit_uri_parse(text, &uri), IOTKIT_OK, "%s", text);
  iotkit_transport_config_t cfg;
  iotkit_transport_config_init(&cfg);
  cfg.uri = &uri;
  cfg.hal = test_hal_get(th);
  cfg.max_payload = max_payload;
  if (tls) cfg.tls = *tls;
  return ops->create(&cfg, &k_events, &ctx);
}

static void open_free_port(size_t max_payload) {
  char text[64];
  snprintf(text, sizeof text, "coap://127.0.0.1:%u", test_free_udp_port());
  cr_assert_eq(create_with(text, NULL, max_payload), IOTKIT_OK);
}

static void open_connected(void) {
  open_free_port(0);
  cr_assert_eq(ops->connect(ctx), IOTKIT_OK, "%s", ops->last_error(ctx));
  cr_assert_eq(ops->poll(ctx, 0), IOTKIT_OK);
  cr_assert_eq(n_connected, 1);
}

Test(coap_args, create_null_config) { cr_assert_eq(ops->create(NULL, &k_events, &ctx), IOTKIT_ERR_INVALID_ARG); }

Test(coap_args, create_null_events) {
  cr_assert_eq(iotkit_uri_parse("coap://127.0.0.1", &uri), IOTKIT_OK);
  iotkit_transport_config_t cfg;
  iotkit_transport_config_init(&cfg);
  cfg.uri = &uri;
  cfg.hal = test_hal_get(th);
  cfg.max_payload = 0; /* as before: no limit */
  cr_assert_eq(ops->create(&cfg, NULL, &ctx), IOTKIT_ERR_INVALID_ARG);
  cr_assert_null(ctx);
}

Test(coap_args, create_null_out) {
  cr_assert_eq(iotkit_uri_parse("coap://127.0.0.1", &uri), IOTKIT_OK);
  iotkit_transport_config_t cfg;
  iotkit_transport_config_init(&cfg);
  cfg.uri = &uri;
  cfg.hal = test_hal_get(th);
  cfg.max_payload = 0; /* as before: no limit */
  cr_assert_eq(ops->create(&cfg, &k_events, NULL), IOTKIT_ERR_INVALID_ARG);
}

Test(coap_args, create_null_uri) {
  iotkit_transport_config_t cfg;
  iotkit_transport_config_init(&cfg);
  cfg.hal = test_hal_get(th);
  cfg.max_payload = 0; /* as before: no limit */
  cr_assert_eq(ops->create(&cfg, &k_events, &ctx), IOTKIT_ERR_INVALID_ARG);
}

Test(coap_args, create_malformed_query_number) {
  cr_assert_eq(create_with("coap://127.0.0.1?ack_timeout_ms=soon", NULL, 0), IOTKIT_ERR_BAD_URI);
  cr_assert_null(ctx);
}

Test(coap_args, create_ack_timeout_below_one_second) {
  cr_assert_eq(create_with("coap://127.0.0.1?ack_timeout_ms=500", NULL, 0), IOTKIT_ERR_BAD_URI);
}

Test(coap_args, create_max_retransmit_too_large) {
  cr_assert_eq(create_with("coap://127.0.0.1?max_retransmit=21", NULL, 0), IOTKIT_ERR_BAD_URI);
}

Test(coap_args, create_nstart_too_large) {
  cr_assert_eq(create_with("coap://127.0.0.1?nstart=33", NULL, 0), IOTKIT_ERR_BAD_URI);
}

Test(coap_args, create_zero_observe_retry) {
  cr_assert_eq(create_with("coap://127.0.0.1?observe_retry_ms=0", NULL, 0), IOTKIT_ERR_BAD_URI);
}

Test(coap_args, create_psk_bad_hex) {
  iotkit_tls_config_t tls = {.psk_identity = "dev-1", .psk_key_hex = "12xy"};
  cr_assert_eq(create_with("coaps://127.0.0.1", &tls, 0), IOTKIT_ERR_INVALID_ARG);
}

Test(coap_args, create_psk_odd_hex) {
  iotkit_tls_config_t tls = {.psk_identity = "dev-1", .psk_key_hex = "123"};
  cr_assert_eq(create_with("coaps://127.0.0.1", &tls, 0), IOTKIT_ERR_INVALID_ARG);
}

Test(coap_args, create_psk_key_without_identity) {
  iotkit_tls_config_t tls = {.psk_key_hex = "0011"};
  cr_assert_eq(create_with("coaps://127.0.0.1", &tls, 0), IOTKIT_ERR_INVALID_ARG);
}

Test(coap_args, create_certificate_without_key) {
  iotkit_tls_config_t tls = {.cert_file = "/nonexistent/cert.pem", .verify_peer = true};
  cr_assert_eq(create_with("coaps://127.0.0.1", &tls, 0), IOTKIT_ERR_INVALID_ARG);
}

Test(coap_args, send_before_connect) {
  open_free_port(0);
  iotkit_message_t m = {.channel = "a/telemetry", .payload = "x", .len = 1, .qos = 1};
  uint32_t id = 77;
  cr_assert_eq(ops->send(ctx, &m, &id), IOTKIT_ERR_NOT_CONNECTED);
  cr_assert_eq(id, 77);
  cr_assert(strstr(ops->last_error(ctx), "not connected") != NULL);
}

Test(coap_args, send_null_message) {
  open_connected();
  uint32_t id;
  cr_assert_eq(ops->send(ctx, NULL, &id), IOTKIT_ERR_INVALID_ARG);
}

Test(coap_args, send_null_id) {
  open_connected();
  iotkit_message_t m = {.channel = "a/telemetry", .payload = "x", .len = 1, .qos = 1};
  cr_assert_eq(ops->send(ctx, &m, NULL), IOTKIT_ERR_INVALID_ARG);
}

Test(coap_args, send_wildcard_channel) {
  open_connected();
  iotkit_message_t m = {.channel = "a/+/telemetry", .payload = "x", .len = 1, .qos = 1};
  uint32_t id;
  cr_assert_eq(ops->send(ctx, &m, &id), IOTKIT_ERR_INVALID_ARG);
}

Test(coap_args, send_bad_qos) {
  open_connected();
  iotkit_message_t m = {.channel = "a/telemetry", .payload = "x", .len = 1, .qos = 3};
  uint32_t id;
  cr_assert_eq(ops->send(ctx, &m, &id), IOTKIT_ERR_INVALID_ARG);
}

Test(coap_args, send_null_payload_with_length) {
  open_connected();
  iotkit_message_t m = {.channel = "a/telemetry", .payload = NULL, .len = 4, .qos = 1};
  uint32_t id;
  cr_assert_eq(ops->send(ctx, &m, &id), IOTKIT_ERR_INVALID_ARG);
}

Test(coap_args, send_over_max_payload) {
  open_free_port(8);
  cr_assert_eq(ops->connect(ctx), IOTKIT_OK);
  iotkit_message_t m = {.channel = "a/telemetry", .payload = "123456789", .len = 9, .qos = 1};
  uint32_t id;
  cr_assert_eq(ops->send(ctx, &m, &id), IOTKIT_ERR_TOO_LARGE);
  cr_assert(strstr(ops->last_error(ctx), "limit of 8") != NULL, "%s", ops->last_error(ctx));
  cr_assert_eq(ops->poll(ctx, 0), IOTKIT_OK);
  cr_assert_eq(n_delivery, 0); /* a refused send never reports */
}

Test(coap_args, subscribe_wildcard_unsupported) {
  open_connected();
  cr_assert_eq(ops->subscribe(ctx, "a/+/cmd", 1), IOTKIT_ERR_UNSUPPORTED);
  cr_assert(strstr(ops->last_error(ctx), "wildcard") != NULL);
}

Test(coap_args, subscribe_invalid_filter) {
  open_connected();
  cr_assert_eq(ops->subscribe(ctx, "a/#/b", 1), IOTKIT_ERR_INVALID_ARG);
}

Test(coap_args, subscribe_null_channel) {
  open_connected();
  cr_assert_eq(ops->subscribe(ctx, NULL, 1), IOTKIT_ERR_INVALID_ARG);
}

Test(coap_args, subscribe_before_connect) {
  open_free_port(0);
  cr_assert_eq(ops->subscribe(ctx, "a/cmd", 1), IOTKIT_ERR_NOT_CONNECTED);
}

Test(coap_args, connect_twice) {
  open_connected();
  cr_assert_eq(ops->connect(ctx), IOTKIT_ERR_STATE);
}

Test(coap_args, disconnect_when_down) {
  open_free_port(0);
  cr_assert_eq(ops->disconnect(ctx), IOTKIT_ERR_NOT_CONNECTED);
  cr_assert_eq(n_disconnected, 0);
}

Test(coap_args, poll_negative_timeout) {
  open_free_port(0);
  cr_assert_eq(ops->poll(ctx, -1), IOTKIT_ERR_INVALID_ARG);
}

Test(coap_args, null_context_is_harmless) {
  ops->destroy(NULL);
  cr_assert_eq(ops->connect(NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(ops->disconnect(NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(ops->poll(NULL, 0), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(ops->subscribe(NULL, "a", 0), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(ops->fd(NULL), -1);
  cr_assert_str_eq(ops->last_error(NULL), "");
}

Test(coap_args, fd_is_libcoap_descriptor) {
  open_free_port(0);
  cr_assert_geq(ops->fd(ctx), 0);
}

Test(coap_args, plain_udp_connects_on_first_poll_and_logs) {
  open_free_port(0);
  cr_assert_eq(ops->connect(ctx), IOTKIT_OK);
  cr_assert_eq(n_connected, 0); /* events come from poll() */
  cr_assert_eq(ops->poll(ctx, 0), IOTKIT_OK);
  cr_assert_eq(n_connected, 1);
  cr_assert(test_hal_log_contains(th, "coap: using 127.0.0.1:"));
}

Test(coap_args, disconnect_fails_waiting_sends_before_disconnected) {
  open_connected();
  iotkit_message_t m = {.channel = "a/telemetry", .payload = "x", .len = 1, .qos = 1};
  uint32_t id;
  cr_assert_eq(ops->send(ctx, &m, &id), IOTKIT_OK);
  cr_assert_eq(ops->disconnect(ctx), IOTKIT_OK);
  cr_assert_str_eq(order, "dD");
  cr_assert_eq(last_delivery, IOTKIT_ERR_CONNECTION_LOST);
  cr_assert_eq(last_reason, IOTKIT_OK);
  cr_assert_eq(ops->send(ctx, &m, &id), IOTKIT_ERR_NOT_CONNECTED);
}

Test(coap_args, reconnect_after_disconnect) {
  open_connected();
  cr_assert_eq(ops->disconnect(ctx), IOTKIT_OK);
  cr_assert_eq(ops->connect(ctx), IOTKIT_OK, "%s", ops->last_error(ctx));
  cr_assert_eq(ops->poll(ctx, 0), IOTKIT_OK);
  cr_assert_eq(n_connected, 2);
}
