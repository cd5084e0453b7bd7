/* The HTTP backend over https against a real nginx (TLS, HTTP/2) on 127.0.0.1,
   with certificates the test makes with the openssl command-line tool. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "hal_tmpdir.h"
#include "http_fixture.h"
#include "nginx_server.h"
#include "test_certs.h"

static nginx_server_t *srv;
static http_fx_t fx;
static char dir[256];
static char ca[300], client_cert[300], client_key[300];

static void setup(void) {
  http_fx_init(&fx);
  hal_tmpdir_make(dir, sizeof dir);
  cr_assert(test_certs_make(dir));
  test_certs_path(ca, sizeof ca, dir, "ca.crt");
  test_certs_path(client_cert, sizeof client_cert, dir, "client.crt");
  test_certs_path(client_key, sizeof client_key, dir, "client.key");
  srv = nginx_server_new();
  cr_assert_not_null(srv);
}

static void teardown(void) {
  http_fx_fini(&fx);
  nginx_server_free(srv);
  hal_tmpdir_remove(dir);
}

/* Serve https with the certificate pair @p name ("server" or "wrong"). */
static void start_tls(const char *name, const char *extra) {
  char cert[300], key[300], file[64];
  snprintf(file, sizeof file, "%s.crt", name);
  test_certs_path(cert, sizeof cert, dir, file);
  snprintf(file, sizeof file, "%s.key", name);
  test_certs_path(key, sizeof key, dir, file);
  cr_assert(nginx_server_set_tls(srv, cert, key));
  if (extra) cr_assert(nginx_server_add_config(srv, extra));
  cr_assert(nginx_server_start(srv));
}

static void open_client(const http_fx_opts_t *o) {
  char uri[128];
  snprintf(uri, sizeof uri, "%s/api", nginx_server_url(srv));
  cr_assert(strncmp(uri, "https://127.0.0.1:", 18) == 0, "%s", uri);
  http_fx_open(&fx, uri, o);
}

/* connect() must fail with a TLS error and no connected event. */
static void expect_tls_refusal(void) {
  cr_assert_eq(fx.ops->connect(fx.ctx), IOTKIT_OK);
  cr_assert(http_fx_wait(&fx, &fx.rec.disconnected, 1));
  cr_assert_eq(fx.rec.disc_reason, IOTKIT_ERR_TLS, "%s: %s", iotkit_err_name(fx.rec.disc_reason),
               fx.rec.disc_detail);
  cr_assert_eq(fx.rec.connected, 0);
  cr_assert(strstr(fx.rec.disc_detail, "127.0.0.1:") != NULL, "%s", fx.rec.disc_detail);
}

static int send_and_wait(const char *channel, const char *text) {
  uint32_t id = http_fx_send(&fx, channel, text, strlen(text));
  cr_assert(http_fx_wait(&fx, &fx.rec.deliveries, transport_rec_read(&fx.rec, &fx.rec.deliveries) + 1));
  return transport_rec_status(&fx.rec, id);
}

TestSuite(https, .init = setup, .fini = teardown, .timeout = 60);

Test(https, verified_with_right_ca_over_http2) {
  start_tls("server", NULL);
  open_client(&(http_fx_opts_t){.tls = {.ca_file = ca}});
  http_fx_connect(&fx);
  cr_assert(test_hal_log_contains(fx.th, "HTTP/2"), "no HTTP/2 in the connect log line");
  cr_assert_eq(send_and_wait("iotkit/v1/dev-1/telemetry", "{\"t\":1}"), IOTKIT_OK);
  cr_assert_eq(send_and_wait("iotkit/v1/dev-1/telemetry", "{\"t\":2}"), IOTKIT_OK);
  nginx_request_t r[4];
  cr_assert_eq(nginx_server_requests(srv, r, 4), 3);
  cr_assert_str_eq(r[1].protocol, "HTTP/2.0");
  cr_assert_str_eq(r[1].method, "POST");
  cr_assert_eq(r[2].connection, r[0].connection, "the TLS connection is reused");
  char body[16] = {0};
  cr_assert_eq(nginx_request_body(&r[2], body, sizeof body - 1), 7);
  cr_assert_str_eq(body, "{\"t\":2}");
  cr_assert_eq(test_hal_log_count(fx.th, IOTKIT_LOG_WARN), 0);
}

Test(https, long_poll_over_http2) {
  start_tls("server", NULL);
  open_client(&(http_fx_opts_t){.tls = {.ca_file = ca}});
  http_fx_connect(&fx);
  cr_assert_eq(fx.ops->subscribe(fx.ctx, "iotkit/v1/dev-1/state/desired", 1), IOTKIT_OK);
  cr_assert(http_fx_wait(&fx, &fx.rec.messages, 1));
  cr_assert_eq(fx.rec.len, 3);
  cr_assert_eq(memcmp(fx.rec.payload, "ok\n", 3), 0); /* what the default location answers */
}

Test(https, host_name_mismatch_is_TLS) {
  start_tls("wrong", NULL);
  open_client(&(http_fx_opts_t){.tls = {.ca_file = ca}});
  expect_tls_refusal();
}

Test(https, unknown_ca_is_TLS) {
  start_tls("server", NULL);
  open_client(NULL); /* the system store does not know the test CA */
  expect_tls_refusal();
}

Test(https, verify_off_accepts_mismatch_and_warns_on_every_connect) {
  start_tls("wrong", NULL);
  open_client(&(http_fx_opts_t){.verify_off = true});
  http_fx_connect(&fx);
  cr_assert(test_hal_log_contains(fx.th, "verification is OFF"));
  cr_assert_eq(test_hal_log_count(fx.th, IOTKIT_LOG_WARN), 1);
  cr_assert_eq(send_and_wait("t", "x"), IOTKIT_OK);
  cr_assert_eq(fx.ops->disconnect(fx.ctx), IOTKIT_OK);
  http_fx_connect(&fx);
  cr_assert_eq(test_hal_log_count(fx.th, IOTKIT_LOG_WARN), 2);
}

#define MTLS_CONFIG "ssl_client_certificate %s;\n    ssl_verify_client on;"

Test(https, mutual_tls_with_client_certificate) {
  char extra[512];
  snprintf(extra, sizeof extra, MTLS_CONFIG, ca);
  start_tls("server", extra);
  open_client(&(http_fx_opts_t){.tls = {.ca_file = ca, .cert_file = client_cert, .key_file = client_key}});
  http_fx_connect(&fx);
  cr_assert_eq(send_and_wait("t", "x"), IOTKIT_OK);
}

Test(https, mutual_tls_without_client_certificate_is_refused) {
  char extra[512];
  snprintf(extra, sizeof extra, MTLS_CONFIG, ca);
  start_tls("server", extra);
  open_client(&(http_fx_opts_t){.tls = {.ca_file = ca}});
  http_fx_connect(&fx); /* nginx answers 400: reachable */
  cr_assert_eq(send_and_wait("t", "x"), IOTKIT_ERR_PROTOCOL);
  cr_assert(strstr(fx.ops->last_error(fx.ctx), "400") != NULL, "%s", fx.ops->last_error(fx.ctx));
}

Test(https, plain_http_to_tls_port_is_an_error) {
  start_tls("server", NULL);
  char uri[128];
  snprintf(uri, sizeof uri, "http://127.0.0.1:%u/api", nginx_server_port(srv));
  http_fx_open(&fx, uri, NULL);
  http_fx_connect(&fx); /* nginx answers 400 to plain HTTP on a TLS port */
  cr_assert_eq(send_and_wait("t", "x"), IOTKIT_ERR_PROTOCOL);
}
