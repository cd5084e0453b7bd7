/* The HTTP backend against a real nginx on 127.0.0.1: exact bytes, methods,
   headers and connection reuse as nginx logged them. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "http_fixture.h"
#include "net_util.h"
#include "nginx_server.h"

static nginx_server_t *srv;
static http_fx_t fx;
static char base[128];

static void setup(void) {
  http_fx_init(&fx);
  srv = nginx_server_new();
  cr_assert_not_null(srv);
  cr_assert(nginx_server_add_config(srv, "location = /api/t/missing { return 404; }"));
  cr_assert(nginx_server_add_config(srv, "location = /api/t/forbidden { return 403; }"));
  cr_assert(nginx_server_add_config(srv, "location = /api/t/unauthorized { return 401; }"));
  cr_assert(nginx_server_add_config(srv, "location = /api/t/teapot { return 418; }"));
  char small[256];
  snprintf(small, sizeof small, "location = /api/t/small { client_max_body_size 8; proxy_pass http://unix:%s/upstream.sock; }",
           nginx_server_dir(srv));
  cr_assert(nginx_server_add_config(srv, small));
  cr_assert(nginx_server_start(srv));
  snprintf(base, sizeof base, "%s/api/", nginx_server_url(srv));
}

static void teardown(void) {
  http_fx_fini(&fx);
  nginx_server_free(srv);
}

/* The logged requests other than the connect probe (HEAD). */
static size_t posted(nginx_request_t *out, size_t max) {
  nginx_request_t all[64];
  size_t n = nginx_server_requests(srv, all, 64), k = 0;
  for (size_t i = 0; i < n && i < 64; i++) {
    if (strcmp(all[i].method, "HEAD") != 0 && k < max) out[k++] = all[i];
  }
  return k;
}

/* posted(), after waiting up to 5 s for at least @p want entries: nginx writes its
   access-log line after the response, so the client can be told first. */
static size_t posted_at_least(nginx_request_t *out, size_t max, size_t want) {
  size_t k = 0;
  for (int i = 0; i < 500 && (k = posted(out, max)) < want; i++) test_msleep(10);
  return k;
}

/* Send and wait for its delivery; returns the status. */
static int send_and_wait(const char *channel, const void *payload, size_t len) {
  int before = transport_rec_read(&fx.rec, &fx.rec.deliveries);
  uint32_t id = http_fx_send(&fx, channel, payload, len);
  cr_assert(http_fx_wait(&fx, &fx.rec.deliveries, before + 1), "no delivery");
  return transport_rec_status(&fx.rec, id);
}

/* Open a client on @p uri (NULL: the base), connect, post one message that
   must be delivered, and return what nginx logged for it. */
static nginx_request_t post_one(const char *uri, const http_fx_opts_t *o, const char *channel, const void *payload,
                                size_t len) {
  http_fx_open(&fx, uri ? uri : base, o);
  http_fx_connect(&fx);
  cr_assert_eq(send_and_wait(channel, payload, len), IOTKIT_OK, "%s", fx.ops->last_error(fx.ctx));
  nginx_request_t r[4];
  cr_assert_eq(posted_at_least(r, 4, 1), 1);
  return r[0];
}

/* Connect to the base and return the delivery status of one send to @p channel. */
static int status_of(const char *channel) {
  http_fx_open(&fx, base, NULL);
  http_fx_connect(&fx);
  return send_and_wait(channel, "x", 1);
}

TestSuite(http, .init = setup, .fini = teardown, .timeout = 60);

Test(http, describes_itself) {
  cr_assert_str_eq(fx.ops->name, "http-curl");
  cr_assert_str_eq(fx.ops->schemes[0], "http");
  cr_assert_str_eq(fx.ops->schemes[1], "https");
  cr_assert_null(fx.ops->schemes[2]);
}

Test(http, registry_serves_http_and_https) {
  const iotkit_transport_ops_t *found = NULL;
  cr_assert_eq(iotkit_transport_find(NULL, "http", &found), IOTKIT_OK);
  cr_assert_eq(found, fx.ops);
  cr_assert_eq(iotkit_transport_find(NULL, "HTTPS", &found), IOTKIT_OK);
  cr_assert_eq(found, fx.ops);
}

Test(http, connect_probes_base_path) {
  http_fx_open(&fx, base, NULL);
  http_fx_connect(&fx);
  cr_assert_geq(fx.ops->fd(fx.ctx), 0);
  nginx_request_t r[4];
  cr_assert_eq(nginx_server_requests(srv, r, 4), 1);
  cr_assert_str_eq(r[0].method, "HEAD");
  cr_assert_str_eq(r[0].uri, "/api/");
  cr_assert_str_eq(r[0].protocol, "HTTP/1.1");
}

Test(http, binary_telemetry_reaches_server_byte_for_byte) {
  unsigned char bytes[3000];
  for (size_t i = 0; i < sizeof bytes; i++) bytes[i] = (unsigned char)(i * 7 + (i >> 8));
  nginx_request_t r[1] = {post_one(NULL, NULL, "iotkit/v1/dev-1/telemetry", bytes, sizeof bytes)};
  cr_assert_str_eq(r[0].method, "POST");
  cr_assert_str_eq(r[0].uri, "/api/iotkit/v1/dev-1/telemetry");
  cr_assert_str_eq(r[0].content_type, "application/octet-stream");
  cr_assert_eq(r[0].status, 200);
  unsigned char got[4096];
  cr_assert_eq(nginx_request_body(&r[0], got, sizeof got), (long)sizeof bytes);
  cr_assert_eq(memcmp(got, bytes, sizeof bytes), 0);
}

Test(http, json_telemetry_is_labelled_json) {
  const char *doc = " {\"seq\":1,\"ts\":1764081600000,\"temperature\":21.53}\n";
  nginx_request_t r[1] = {post_one(NULL, NULL, "iotkit/v1/dev-1/telemetry", doc, strlen(doc))};
  cr_assert_str_eq(r[0].content_type, "application/json");
  char got[256] = {0};
  cr_assert_eq(nginx_request_body(&r[0], got, sizeof got - 1), (long)strlen(doc));
  cr_assert_str_eq(got, doc);
}

Test(http, empty_payload_is_posted) {
  nginx_request_t r = post_one(NULL, NULL, "iotkit/v1/dev-1/events/boot", NULL, 0);
  cr_assert_str_eq(r.method, "POST");
}

Test(http, reported_state_is_put) {
  http_fx_open(&fx, base, NULL);
  http_fx_connect(&fx);
  cr_assert_eq(send_and_wait("iotkit/v1/dev-1/state/reported", "{\"on\":true}", 11), IOTKIT_OK);
  cr_assert_eq(send_and_wait("iotkit/v1/dev-1/xstate/reported", "{}", 2), IOTKIT_OK);
  nginx_request_t r[4];
  cr_assert_eq(posted_at_least(r, 4, 2), 2);
  cr_assert_str_eq(r[0].method, "PUT");
  cr_assert_str_eq(r[1].method, "POST", "only a whole 'state' level makes a PUT");
}

Test(http, channel_bytes_are_percent_encoded) {
  nginx_request_t r = post_one(NULL, NULL, "dev 1/a?b%c", "x", 1);
  cr_assert_str_eq(r.uri, "/api/dev 1/a?b%c");
  cr_assert_str_eq(r.args, "-", "the '?' stays in the path");
}

Test(http, keepalive_reuses_one_connection) {
  http_fx_open(&fx, base, NULL);
  http_fx_connect(&fx);
  for (int i = 0; i < 5; i++) cr_assert_eq(send_and_wait("t/keep", &i, sizeof i), IOTKIT_OK);
  nginx_request_t r[8];
  size_t n = nginx_server_requests(srv, r, 8);
  cr_assert_eq(n, 6);
  for (size_t i = 1; i < n; i++) {
    cr_assert_eq(r[i].connection, r[0].connection, "request %zu on another connection", i);
    cr_assert_eq(r[i].connection_requests, i + 1);
  }
}

Test(http, query_options_are_not_sent) {
  char uri[192];
  snprintf(uri, sizeof uri, "%s?attempts=2&wait=5", base);
  cr_assert_str_eq(post_one(uri, NULL, "t/q", "x", 1).args, "-");
}

Test(http, not_found_is_NOT_FOUND) {
  cr_assert_eq(status_of("t/missing"), IOTKIT_ERR_NOT_FOUND);
  cr_assert(strstr(fx.ops->last_error(fx.ctx), "404") != NULL, "%s", fx.ops->last_error(fx.ctx));
  cr_assert_eq(transport_rec_read(&fx.rec, &fx.rec.disconnected), 0, "a refused send keeps the session");
}

Test(http, forbidden_is_AUTH) {
  cr_assert_eq(status_of("t/forbidden"), IOTKIT_ERR_AUTH);
}

Test(http, unauthorized_is_AUTH) {
  cr_assert_eq(status_of("t/unauthorized"), IOTKIT_ERR_AUTH);
}

Test(http, body_over_server_limit_is_TOO_LARGE) {
  http_fx_open(&fx, base, NULL);
  http_fx_connect(&fx);
  cr_assert_eq(send_and_wait("t/small", "0123456789abcdef", 16), IOTKIT_ERR_TOO_LARGE);
  cr_assert_eq(send_and_wait("t/small", "01234567", 8), IOTKIT_OK);
}

Test(http, other_refusal_is_PROTOCOL) {
  cr_assert_eq(status_of("t/teapot"), IOTKIT_ERR_PROTOCOL);
  cr_assert(strstr(fx.ops->last_error(fx.ctx), "418") != NULL, "%s", fx.ops->last_error(fx.ctx));
}

Test(http, token_without_user_is_bearer) {
  nginx_request_t r = post_one(NULL, &(http_fx_opts_t){.password = "tok-123"}, "t/auth", "x", 1);
  cr_assert_str_eq(r.authorization, "Bearer tok-123");
  cr_assert_not(test_hal_log_contains(fx.th, "tok-123"), "the token was logged");
}

Test(http, user_and_password_is_basic) {
  nginx_request_t r = post_one(NULL, &(http_fx_opts_t){.user = "dev-1", .password = "s3cret"}, "t/auth", "x", 1);
  cr_assert_str_eq(r.authorization, "Basic ZGV2LTE6czNjcmV0"); /* base64("dev-1:s3cret") */
  cr_assert_not(test_hal_log_contains(fx.th, "s3cret"), "the password was logged");
}

Test(http, credentials_from_uri) {
  char uri[192];
  snprintf(uri, sizeof uri, "http://dev-1:s3cret@127.0.0.1:%u/api", nginx_server_port(srv));
  cr_assert_str_eq(post_one(uri, NULL, "t/auth", "x", 1).authorization, "Basic ZGV2LTE6czNjcmV0");
}

Test(http, no_credentials_no_header) {
  cr_assert_str_eq(post_one(NULL, NULL, "t/auth", "x", 1).authorization, "-");
}

Test(http, disconnect_then_reconnect) {
  http_fx_open(&fx, base, NULL);
  http_fx_connect(&fx);
  cr_assert_eq(fx.ops->disconnect(fx.ctx), IOTKIT_OK);
  cr_assert_eq(transport_rec_read(&fx.rec, &fx.rec.disconnected), 1);
  cr_assert_eq(fx.rec.disc_reason, IOTKIT_OK);
  iotkit_message_t m = {.channel = "t", .payload = "x", .len = 1};
  uint32_t id;
  cr_assert_eq(fx.ops->send(fx.ctx, &m, &id), IOTKIT_ERR_NOT_CONNECTED);
  http_fx_connect(&fx);
  cr_assert_eq(send_and_wait("t/again", "x", 1), IOTKIT_OK);
}

Test(http, server_gone_ends_session_and_fails_send) {
  char uri[192];
  snprintf(uri, sizeof uri, "%s?attempts=2&backoff_ms=10", base);
  http_fx_open(&fx, uri, NULL);
  http_fx_connect(&fx);
  nginx_server_stop(srv);
  uint32_t id = http_fx_send(&fx, "t/lost", "x", 1);
  cr_assert(http_fx_wait(&fx, &fx.rec.disconnected, 1));
  cr_assert_eq(fx.rec.disc_reason, IOTKIT_ERR_CONNECTION_LOST);
  cr_assert_eq(transport_rec_status(&fx.rec, id), IOTKIT_ERR_CONNECTION_LOST);
  char port[16];
  snprintf(port, sizeof port, ":%u", nginx_server_port(srv));
  cr_assert(strstr(fx.ops->last_error(fx.ctx), port) != NULL, "%s", fx.ops->last_error(fx.ctx));
}

Test(http, server_restart_within_retries_loses_nothing) {
  char uri[192];
  snprintf(uri, sizeof uri, "%s?attempts=10&backoff_ms=100", base);
  http_fx_open(&fx, uri, NULL);
  http_fx_connect(&fx);
  uint16_t port = nginx_server_port(srv);
  nginx_server_stop(srv);
  uint32_t id = http_fx_send(&fx, "t/restart", "kept", 4);
  uint64_t end = test_now_ms() + 10000; /* until the first attempt has failed */
  while (!test_hal_log_contains(fx.th, "attempt 2 in") && test_now_ms() < end) fx.ops->poll(fx.ctx, 5);
  cr_assert(test_hal_log_contains(fx.th, "attempt 2 in"));
  cr_assert(nginx_server_start(srv));
  cr_assert_eq(nginx_server_port(srv), port, "nginx came back on another port");
  cr_assert(http_fx_wait(&fx, &fx.rec.deliveries, 1));
  cr_assert_eq(transport_rec_status(&fx.rec, id), IOTKIT_OK);
  cr_assert_eq(transport_rec_read(&fx.rec, &fx.rec.disconnected), 0);
  nginx_request_t r[4];
  cr_assert_eq(posted_at_least(r, 4, 1), 1);
  char body[8] = {0};
  cr_assert_eq(nginx_request_body(&r[0], body, sizeof body - 1), 4);
  cr_assert_str_eq(body, "kept");
}

/* ------------------------------------------------------- no server -- */

static void setup_no_server(void) { http_fx_init(&fx); }
static void teardown_no_server(void) { http_fx_fini(&fx); }

TestSuite(http_down, .init = setup_no_server, .fini = teardown_no_server, .timeout = 60);

Test(http_down, server_not_listening_is_CONNECT_naming_port) {
  uint16_t port = test_free_port();
  char uri[64];
  snprintf(uri, sizeof uri, "http://127.0.0.1:%u/api", port);
  http_fx_open(&fx, uri, NULL);
  cr_assert_eq(fx.ops->connect(fx.ctx), IOTKIT_OK, "the attempt starts");
  cr_assert(http_fx_wait(&fx, &fx.rec.disconnected, 1));
  cr_assert_eq(fx.rec.disc_reason, IOTKIT_ERR_CONNECT);
  cr_assert_eq(transport_rec_read(&fx.rec, &fx.rec.connected), 0);
  char needle[16];
  snprintf(needle, sizeof needle, ":%u", port);
  cr_assert(strstr(fx.rec.disc_detail, needle) != NULL, "%s", fx.rec.disc_detail);
  cr_assert_str_eq(fx.ops->last_error(fx.ctx), fx.rec.disc_detail);
  /* and it may try again */
  cr_assert_eq(fx.ops->connect(fx.ctx), IOTKIT_OK);
  cr_assert(http_fx_wait(&fx, &fx.rec.disconnected, 2));
}
