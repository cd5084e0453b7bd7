/* No secret reaches the log at any level: passwords (right and wrong), a
 * token used as password, and the bytes of a TLS client key, through connect,
 * publish, subscribe and disconnect over TLS. The test HAL keeps every line
 * at every level (TRACE included), libmosquitto's own log lines with them. */
#ifdef IOTKIT_WITH_MQTT /* built without MQTT: nothing to test here */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "iotkit/transport.h"
#include "mosquitto_server.h"
#include "test_hal.h"
#include "transport_client.h"

#define PASSWORD "S3cr3t-Pass-4f9e1c"
#define WRONG_PASSWORD "Wr0ng-Pass-77ab02"
#define TOKEN "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJkZXYtand0In0.c2lnbmF0dXJlLWJ5dGVz"
#define URI_PASSWORD "Ur1-Pass-0c3d5a"

static mosq_server_t *srv;
static char files[3][192]; /* CA, client certificate, client key */
static char key_lines[16][128]; /* base64 lines of the client key */
static int nkey_lines;

static void setup(void) {
  srv = mosq_server_new();
  cr_assert_not_null(srv);
  cr_assert(mosq_server_enable_tls(srv));
  cr_assert(mosq_server_make_client_cert(srv, "dev", "ca", "dev"));
  cr_assert(mosq_server_add_user(srv, "dev", PASSWORD));
  cr_assert(mosq_server_add_user(srv, "dev-jwt", TOKEN));
  cr_assert(mosq_server_add_user(srv, "dev-uri", URI_PASSWORD));
  cr_assert(mosq_server_start(srv));
  const char *names[] = {"ca.crt", "dev.crt", "dev.key"};
  for (int i = 0; i < 3; i++) snprintf(files[i], sizeof files[i], "%s", mosq_server_file(srv, names[i]));
  FILE *f = fopen(files[2], "r");
  cr_assert_not_null(f);
  char line[128];
  while (fgets(line, sizeof line, f) && nkey_lines < 16) {
    line[strcspn(line, "\n")] = '\0';
    if (strncmp(line, "-----", 5) != 0 && strlen(line) >= 16) memcpy(key_lines[nkey_lines++], line, sizeof line);
  }
  fclose(f);
  cr_assert_gt(nkey_lines, 0, "no key material found in %s", files[2]);
}

static void teardown(void) { mosq_server_free(srv); }

/* Every secret, whole and as an 8-character prefix (a truncated line). */
static void assert_log_clean(tclient_t *c) {
  cr_assert(test_hal_log_complete(c->th), "the test HAL dropped lines: the check would be partial");
  const char *secrets[] = {PASSWORD, WRONG_PASSWORD, TOKEN, URI_PASSWORD};
  for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++) {
    char prefix[9] = {0};
    memcpy(prefix, secrets[i], 8);
    cr_assert_not(test_hal_log_contains(c->th, secrets[i]), "secret %zu logged", i);
    cr_assert_not(test_hal_log_contains(c->th, prefix), "a prefix of secret %zu logged", i);
  }
  for (int i = 0; i < nkey_lines; i++) {
    char part[17] = {0};
    memcpy(part, key_lines[i], 16);
    cr_assert_not(test_hal_log_contains(c->th, key_lines[i]), "key line %d logged", i);
    cr_assert_not(test_hal_log_contains(c->th, part), "part of key line %d logged", i);
  }
}

static tclient_t *client(const char *uri, const char *user, const char *password) {
  iotkit_tls_config_t tls = {.ca_file = files[0], .cert_file = files[1], .key_file = files[2], .verify_peer = true};
  tclient_t *c = tclient_new(&(tclient_opts_t){
      .uri = uri, .protocol = 5, .client_id = "dev", .username = user, .password = password, .tls = tls});
  cr_assert_not_null(c);
  return c;
}

/* A whole session: connect, subscribe, publish at each QoS, receive, disconnect. */
static void run_session(tclient_t *c) {
  cr_assert_eq(tclient_connect(c), IOTKIT_OK, "%s", tclient_last_error(c));
  cr_assert_eq(tclient_subscribe(c, "dev/#", 2), IOTKIT_OK);
  for (int qos = 0; qos <= 2; qos++) {
    uint32_t id;
    cr_assert_eq(tclient_send(c, "dev/t", "payload", 7, qos, &id), IOTKIT_OK);
    cr_assert_eq(tclient_wait_delivery(c, id), IOTKIT_OK);
  }
  cr_assert(tclient_poll_until(c, &c->messages, 3));
  cr_assert_eq(c->ops->disconnect(c->ctx), IOTKIT_OK);
  cr_assert(tclient_poll_until(c, &c->disconnected, 1));
  cr_assert_eq(c->disc_reason, IOTKIT_OK);
  cr_assert(test_hal_log_count(c->th, IOTKIT_LOG_TRACE) > 0, "no TRACE line: not the chattiest level");
}

TestSuite(secrets, .init = setup, .fini = teardown, .timeout = 60);

Test(secrets, password_and_key_through_a_whole_session) {
  tclient_t *c = client(mosq_server_uri(srv), "dev", PASSWORD);
  run_session(c);
  cr_assert(test_hal_log_contains(c->th, "libmosquitto:"), "libmosquitto's log is not routed: incomplete check");
  assert_log_clean(c);
  tclient_free(c);
}

Test(secrets, wrong_password_refusal) {
  tclient_t *c = client(mosq_server_uri(srv), "dev", WRONG_PASSWORD);
  cr_assert_eq(tclient_connect(c), IOTKIT_ERR_AUTH, "%s", tclient_last_error(c));
  cr_assert_not(strstr(tclient_last_error(c), WRONG_PASSWORD));
  cr_assert_not(strstr(c->disc_detail, WRONG_PASSWORD));
  assert_log_clean(c);
  tclient_free(c);
}

Test(secrets, token_as_password) {
  tclient_t *c = client(mosq_server_uri(srv), "dev-jwt", TOKEN);
  run_session(c);
  assert_log_clean(c);
  tclient_free(c);
}

Test(secrets, password_in_the_uri) {
  char uri[192];
  snprintf(uri, sizeof uri, "mqtts://dev-uri:%s@127.0.0.1:%u", URI_PASSWORD, mosq_server_port(srv));
  tclient_t *c = client(uri, NULL, NULL);
  run_session(c);
  assert_log_clean(c);
  tclient_free(c);
}

Test(secrets, tls_refusal_with_a_key_loaded) {
  /* the other CA: the handshake fails after the key was loaded */
  char other[192];
  snprintf(other, sizeof other, "%s", mosq_server_file(srv, "other-ca.crt"));
  iotkit_tls_config_t tls = {.ca_file = other, .cert_file = files[1], .key_file = files[2], .verify_peer = true};
  tclient_t *c = tclient_new(&(tclient_opts_t){.uri = mosq_server_uri(srv), .username = "dev", .password = PASSWORD,
                                               .tls = tls});
  cr_assert_not_null(c);
  cr_assert_eq(tclient_connect(c), IOTKIT_ERR_TLS, "%s", tclient_last_error(c));
  assert_log_clean(c);
  tclient_free(c);
}
#endif /* IOTKIT_WITH_MQTT */
