/* MQTT over TLS against a real mosquitto with certificates made by the test:
 * server verification (chain and host name), verification off, mutual TLS,
 * and the checks of the TLS options at create(). */
#ifdef IOTKIT_WITH_MQTT /* built without MQTT: nothing to test here */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "iotkit/transport.h"
#include "mosquitto_server.h"
#include "test_certs.h"
#include "test_hal.h"
#include "transport_client.h"

#define VERIFY_OFF_LINE "TLS peer verification is OFF"

static mosq_server_t *srv;
static tclient_t *cl;
static char uri[128];

static void start_tls_broker(const char *san, const char *const *extra) {
  srv = mosq_server_new();
  cr_assert_not_null(srv);
  cr_assert(san ? mosq_server_enable_tls_san(srv, san) : mosq_server_enable_tls(srv));
  for (; extra && *extra; extra++) cr_assert(mosq_server_add_config(srv, *extra));
  cr_assert(mosq_server_make_client_cert(srv, "devA", "ca", "devA"));
  cr_assert(mosq_server_make_client_cert(srv, "rogue", "other-ca", "devA"));
  cr_assert(mosq_server_start(srv));
  snprintf(uri, sizeof uri, "%s", mosq_server_uri(srv));
}

static void setup_tls(void) { start_tls_broker(NULL, NULL); }

static void teardown(void) {
  tclient_free(cl);
  cl = NULL;
  mosq_server_free(srv);
}

/* Path of a file in the broker's directory, copied (mosq_server_file reuses its buffer). */
static const char *file(const char *name) {
  static char paths[4][192];
  static int next;
  char *p = paths[next++ % 4];
  snprintf(p, sizeof paths[0], "%s", mosq_server_file(srv, name));
  return p;
}

static void open_tls(const char *endpoint, iotkit_tls_config_t tls) {
  cl = tclient_new(&(tclient_opts_t){.uri = endpoint, .client_id = "devA", .tls = tls});
  cr_assert_not_null(cl);
}

static void assert_tls_refused(const char *cause) {
  iotkit_err_t rc = tclient_connect(cl);
  cr_assert_eq(rc, IOTKIT_ERR_TLS, "%s: %s", iotkit_err_name(rc), tclient_last_error(cl));
  cr_assert_eq(cl->connected, 0);
  cr_assert(strstr(tclient_last_error(cl), cause), "last_error lacks '%s': %s", cause, tclient_last_error(cl));
  cr_assert(test_hal_log_contains(cl->th, cause), "no log line names '%s'", cause);
}

/* The same when the cause may be @p cause or, if the server's reset discarded
   its alert before the client read it (a race the kernel decides), @p fallback. */
static void assert_tls_refused_or(const char *cause, const char *fallback) {
  iotkit_err_t rc = tclient_connect(cl);
  cr_assert_eq(rc, IOTKIT_ERR_TLS, "%s: %s", iotkit_err_name(rc), tclient_last_error(cl));
  cr_assert_eq(cl->connected, 0);
  const char *why = strstr(tclient_last_error(cl), cause) ? cause : fallback;
  cr_assert(strstr(tclient_last_error(cl), why), "last_error lacks '%s' and '%s': %s", cause, fallback,
            tclient_last_error(cl));
  cr_assert(test_hal_log_contains(cl->th, why), "no log line names '%s'", why);
}

static void assert_publishes(void) {
  uint32_t id;
  cr_assert_eq(tclient_send(cl, "iotkit/v1/devA/t", "x", 1, 1, &id), IOTKIT_OK, "%s", tclient_last_error(cl));
  cr_assert_eq(tclient_wait_delivery(cl, id), IOTKIT_OK);
}

/* ------------------------------------------------ server verification -- */

TestSuite(tls, .init = setup_tls, .fini = teardown, .timeout = 60);

Test(tls, verified_connection_to_ip_publishes) {
  open_tls(uri, (iotkit_tls_config_t){.ca_file = file("ca.crt"), .verify_peer = true});
  cr_assert(cl->uri.secure);
  cr_assert_eq(tclient_connect(cl), IOTKIT_OK, "%s", tclient_last_error(cl));
  assert_publishes();
  cr_assert_not(test_hal_log_contains(cl->th, VERIFY_OFF_LINE));
  cr_assert_eq(test_hal_log_count(cl->th, IOTKIT_LOG_WARN), 0);
}

Test(tls, verified_connection_to_host_name) {
  char by_name[128];
  snprintf(by_name, sizeof by_name, "mqtts://localhost:%u", mosq_server_port(srv));
  open_tls(by_name, (iotkit_tls_config_t){.ca_file = file("ca.crt"), .verify_peer = true});
  cr_assert_eq(tclient_connect(cl), IOTKIT_OK, "%s", tclient_last_error(cl));
}

Test(tls, verified_by_a_hashed_ca_directory) {
  char dir[192];
  snprintf(dir, sizeof dir, "%s/cadir", mosq_server_dir(srv));
  cr_assert_eq(mkdir(dir, 0700), 0);
  cr_assert(test_certs_hash_dir(dir, file("ca.crt")));
  open_tls(uri, (iotkit_tls_config_t){.ca_dir = dir, .verify_peer = true});
  cr_assert_eq(tclient_connect(cl), IOTKIT_OK, "%s", tclient_last_error(cl));
}

Test(tls, unknown_ca_is_refused_as_verify_failure) {
  open_tls(uri, (iotkit_tls_config_t){.ca_file = file("other-ca.crt"), .verify_peer = true});
  assert_tls_refused("certificate verify failed");
}

Test(tls, no_ca_given_trusts_only_the_system_store) {
  open_tls(uri, (iotkit_tls_config_t){.verify_peer = true});
  assert_tls_refused("certificate verify failed");
}

Test(tls, verify_off_warns_on_every_connect) {
  open_tls(uri, (iotkit_tls_config_t){.verify_peer = false});
  for (int i = 1; i <= 3; i++) {
    cr_assert_eq(tclient_connect(cl), IOTKIT_OK, "%s", tclient_last_error(cl));
    cr_assert_eq(test_hal_log_count(cl->th, IOTKIT_LOG_WARN), (unsigned)i, "connect %d", i);
    cr_assert_eq(cl->ops->disconnect(cl->ctx), IOTKIT_OK);
    cr_assert(tclient_poll_until(cl, &cl->disconnected, i));
  }
  cr_assert(test_hal_log_contains(cl->th, VERIFY_OFF_LINE));
}

Test(tls, verify_off_accepts_an_unknown_ca_with_a_warning) {
  open_tls(uri, (iotkit_tls_config_t){.ca_file = file("other-ca.crt"), .verify_peer = false});
  cr_assert_eq(tclient_connect(cl), IOTKIT_OK, "%s", tclient_last_error(cl));
  cr_assert(test_hal_log_contains(cl->th, VERIFY_OFF_LINE));
}

Test(tls, ca_file_that_is_not_pem_fails_connect_with_tls_error) {
  /* readable, so create() accepts it; loading it fails at connect() */
  cl = tclient_new(&(tclient_opts_t){.uri = uri,
                                     .tls = {.ca_file = file("tools.log"), .verify_peer = true}});
  cr_assert_not_null(cl);
  cr_assert_eq(tclient_connect(cl), IOTKIT_ERR_TLS, "%s", tclient_last_error(cl));
  cr_assert(strstr(tclient_last_error(cl), "Unable to load CA"), "%s", tclient_last_error(cl));
}
/* ------------------------------------------------ host name mismatch -- */

static void setup_wrong_host(void) { start_tls_broker("DNS:otherhost", NULL); }

TestSuite(tls_host, .init = setup_wrong_host, .fini = teardown, .timeout = 60);

Test(tls_host, certificate_for_another_host_is_refused) {
  open_tls(uri, (iotkit_tls_config_t){.ca_file = file("ca.crt"), .verify_peer = true});
  assert_tls_refused("host name verification failed");
  cr_assert(strstr(tclient_last_error(cl), "does not name 127.0.0.1"), "%s", tclient_last_error(cl));
}

Test(tls_host, verify_off_accepts_it_with_a_warning) {
  open_tls(uri, (iotkit_tls_config_t){.ca_file = file("ca.crt"), .verify_peer = false});
  cr_assert_eq(tclient_connect(cl), IOTKIT_OK, "%s", tclient_last_error(cl));
  cr_assert(test_hal_log_contains(cl->th, VERIFY_OFF_LINE));
}

/* -------------------------------------------------------- mutual TLS -- */

static void setup_mutual(void) {
  static const char *const extra[] = {"require_certificate true", "use_identity_as_username true", NULL};
  start_tls_broker(NULL, extra);
}

TestSuite(mtls, .init = setup_mutual, .fini = teardown, .timeout = 60);

Test(mtls, device_certificate_connects_and_publishes) {
  open_tls(uri, (iotkit_tls_config_t){.ca_file = file("ca.crt"), .cert_file = file("devA.crt"),
                                      .key_file = file("devA.key"), .verify_peer = true});
  cr_assert_eq(tclient_connect(cl), IOTKIT_OK, "%s", tclient_last_error(cl));
  assert_publishes();
}

Test(mtls, no_client_certificate_is_refused) {
  open_tls(uri, (iotkit_tls_config_t){.ca_file = file("ca.crt"), .verify_peer = true});
  assert_tls_refused("client certificate");
}

Test(mtls, certificate_from_another_ca_is_refused) {
  open_tls(uri, (iotkit_tls_config_t){.ca_file = file("ca.crt"), .cert_file = file("rogue.crt"),
                                      .key_file = file("rogue.key"), .verify_peer = true});
  assert_tls_refused_or("unknown ca", "did it refuse the client certificate?");
}

Test(mtls, key_not_matching_the_certificate_is_refused) {
  open_tls(uri, (iotkit_tls_config_t){.ca_file = file("ca.crt"), .cert_file = file("devA.crt"),
                                      .key_file = file("rogue.key"), .verify_peer = true});
  assert_tls_refused("key values mismatch");
}

/* ---------------------------------------------- options at create() -- */

/* Certificates only (no broker runs): create() checks the options. */
static test_hal_t *th;
static iotkit_uri_t parsed;

static void setup_config(void) {
  srv = mosq_server_new();
  cr_assert_not_null(srv);
  cr_assert(mosq_server_enable_tls(srv));
  cr_assert(mosq_server_make_client_cert(srv, "devA", "ca", "devA"));
  th = test_hal_new();
  cr_assert_not_null(th);
  cr_assert_eq(iotkit_uri_parse(mosq_server_uri(srv), &parsed), IOTKIT_OK);
}

static void teardown_config(void) {
  iotkit_uri_clear(&parsed);
  test_hal_free(th);
  teardown();
}

/* create() with @p tls: its result; a failure must leave *ctx untouched. */
static iotkit_err_t create_with(iotkit_tls_config_t tls) {
  iotkit_transport_config_t cfg;
  iotkit_transport_config_init(&cfg);
  cfg.uri = &parsed;
  cfg.hal = test_hal_get(th);
  cfg.client_id = "devA";
  cfg.clean_session = true;
  cfg.protocol_version = 311;
  cfg.tls = tls;
  cfg.max_payload = 0; /* as before: no limit */
  iotkit_transport_events_t ev = {0};
  void *ctx = (void *)&ev; /* a sentinel: must stay */
  const iotkit_transport_ops_t *ops = iotkit_transport_mqtt();
  iotkit_err_t rc = ops->create(&cfg, &ev, &ctx);
  if (rc == IOTKIT_OK) {
    ops->destroy(ctx);
  } else {
    cr_assert_eq(ctx, (void *)&ev, "a failed create() changed its output");
  }
  return rc;
}

TestSuite(tls_config, .init = setup_config, .fini = teardown_config, .timeout = 60);

Test(tls_config, complete_options_are_accepted) {
  iotkit_tls_config_t tls = {.ca_file = file("ca.crt"), .cert_file = file("devA.crt"), .key_file = file("devA.key"),
                             .verify_peer = true};
  cr_assert_eq(create_with(tls), IOTKIT_OK);
  cr_assert_eq(test_hal_log_count(th, IOTKIT_LOG_ERROR), 0);
}

Test(tls_config, certificate_without_key_is_invalid_arg) {
  cr_assert_eq(create_with((iotkit_tls_config_t){.cert_file = file("devA.crt"), .verify_peer = true}),
               IOTKIT_ERR_INVALID_ARG);
  cr_assert(test_hal_log_contains(th, "client certificate given without its key"));
}

Test(tls_config, key_without_certificate_is_invalid_arg) {
  cr_assert_eq(create_with((iotkit_tls_config_t){.key_file = file("devA.key"), .verify_peer = true}),
               IOTKIT_ERR_INVALID_ARG);
  cr_assert(test_hal_log_contains(th, "client key given without its certificate"));
}

Test(tls_config, missing_ca_file_is_tls_error_naming_it) {
  cr_assert_eq(create_with((iotkit_tls_config_t){.ca_file = "/nonexistent/ca.crt", .verify_peer = true}),
               IOTKIT_ERR_TLS);
  cr_assert(test_hal_log_contains(th, "CA file '/nonexistent/ca.crt' cannot be read: No such file"));
}

Test(tls_config, unreadable_ca_file_is_tls_error_naming_it) {
  /* a directory opens but cannot be read as a file, even as root */
  const char *dir = mosq_server_dir(srv);
  cr_assert_eq(create_with((iotkit_tls_config_t){.ca_file = dir, .verify_peer = true}), IOTKIT_ERR_TLS);
  char want[256];
  snprintf(want, sizeof want, "CA file '%s' cannot be read", dir);
  cr_assert(test_hal_log_contains(th, want), "no log line has: %s", want);
}

Test(tls_config, missing_ca_directory_is_tls_error_naming_it) {
  cr_assert_eq(create_with((iotkit_tls_config_t){.ca_dir = "/nonexistent/certs", .verify_peer = true}),
               IOTKIT_ERR_TLS);
  cr_assert(test_hal_log_contains(th, "CA directory '/nonexistent/certs' cannot be read"));
}

Test(tls_config, missing_certificate_file_is_tls_error_naming_it) {
  iotkit_tls_config_t tls = {.ca_file = file("ca.crt"), .cert_file = "/nonexistent/dev.crt",
                             .key_file = file("devA.key"), .verify_peer = true};
  cr_assert_eq(create_with(tls), IOTKIT_ERR_TLS);
  cr_assert(test_hal_log_contains(th, "client certificate '/nonexistent/dev.crt' cannot be read"));
}

Test(tls_config, missing_key_file_is_tls_error_naming_it) {
  iotkit_tls_config_t tls = {.ca_file = file("ca.crt"), .cert_file = file("devA.crt"),
                             .key_file = "/nonexistent/dev.key", .verify_peer = true};
  cr_assert_eq(create_with(tls), IOTKIT_ERR_TLS);
  cr_assert(test_hal_log_contains(th, "client key '/nonexistent/dev.key' cannot be read"));
}

#endif /* IOTKIT_WITH_MQTT */
