/* Per-device isolation by a broker ACL (pattern readwrite iotkit/v1/%u/#):
 * device A can neither publish into device B's topics nor read them, checked
 * by independent subscribers (tests/support/mqtt_peer.h), and the backend
 * reports the refusals the protocol carries (MQTT 5 PUBACK/PUBREC reason
 * 0x87, SUBACK 0x87 or 0x80). Two brokers: identities from a password file
 * with an acl_file (which grants every subscription and filters each message),
 * and identities from client certificates (use_identity_as_username) with
 * the dynamic security plugin's roles (which refuses subscriptions). */
#ifdef IOTKIT_WITH_MQTT /* built without MQTT: nothing to test here */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "iotkit/transport.h"
#include "mosquitto_server.h"
#include "mqtt_peer.h"
#include "test_hal.h"
#include "transport_client.h"

#define ACL                               \
  "pattern readwrite iotkit/v1/%u/#\n"    \
  "\n"                                    \
  "user admin\n"                          \
  "topic readwrite iotkit/#\n"

static mosq_server_t *srv;
static tclient_t *dev_a;
static mqtt_peer_t *admin;  /* reads everything under iotkit/ */
static mqtt_peer_t *peer_b; /* device B, reads its own topics */

static void setup(void) {
  srv = mosq_server_new();
  cr_assert_not_null(srv);
  cr_assert(mosq_server_add_user(srv, "devA", "pass-A-1"));
  cr_assert(mosq_server_add_user(srv, "devB", "pass-B-2"));
  cr_assert(mosq_server_add_user(srv, "admin", "pass-admin-3"));
  cr_assert(mosq_server_set_acl(srv, ACL));
  cr_assert(mosq_server_start(srv));
}

static void teardown(void) {
  tclient_free(dev_a);
  dev_a = NULL;
  mqtt_peer_free(admin);
  mqtt_peer_free(peer_b);
  admin = peer_b = NULL;
  mosq_server_free(srv);
}

/* Device A on the backend under test, connected; the two observers subscribed. */
static void connect_all(int protocol) {
  dev_a = tclient_new(&(tclient_opts_t){.uri = mosq_server_uri(srv), .protocol = protocol, .client_id = "devA",
                                        .username = "devA", .password = "pass-A-1"});
  cr_assert_not_null(dev_a);
  cr_assert_eq(tclient_connect(dev_a), IOTKIT_OK, "%s", tclient_last_error(dev_a));
  admin = mqtt_peer_new(&(mqtt_peer_opts_t){.port = mosq_server_port(srv), .topic = "iotkit/#", .qos = 2,
                                            .username = "admin", .password = "pass-admin-3"});
  peer_b = mqtt_peer_new(&(mqtt_peer_opts_t){.port = mosq_server_port(srv), .topic = "iotkit/v1/devB/#", .qos = 2,
                                             .username = "devB", .password = "pass-B-2"});
  cr_assert_not_null(admin);
  cr_assert_not_null(peer_b);
}

static size_t peer_count_prefix(mqtt_peer_t *p, const char *prefix) {
  size_t n = 0;
  for (size_t i = 0; i < mqtt_peer_count(p); i++) n += strncmp(mqtt_peer_get(p, i)->topic, prefix, strlen(prefix)) == 0;
  return n;
}

/* Nothing A sent reached B's topics. Markers make it certain without
   waiting for a time: A's marker follows A's attempts on the same connection,
   and the admin's marker on B's topic follows them at B. */
static void assert_nothing_from_a_on_b_topics(void) {
  uint32_t id;
  cr_assert_eq(tclient_send(dev_a, "iotkit/v1/devA/marker", "m", 1, 1, &id), IOTKIT_OK);
  cr_assert_eq(tclient_wait_delivery(dev_a, id), IOTKIT_OK);
  cr_assert(mqtt_peer_wait(admin, 1, 10000), "the admin did not see A's marker");
  cr_assert(mqtt_peer_publish(admin, "iotkit/v1/devB/marker", "m", 1, 1, false));
  cr_assert(mqtt_peer_wait(peer_b, 1, 10000), "B did not see the admin's marker");
  cr_assert_str_eq(mqtt_peer_get(peer_b, 0)->topic, "iotkit/v1/devB/marker", "B got something from A first");
  cr_assert_eq(peer_count_prefix(admin, "iotkit/v1/devB/evil"), 0, "A's message reached B's topics");
  cr_assert_eq(peer_count_prefix(peer_b, "iotkit/v1/devB/evil"), 0, "A's message reached B");
}

TestSuite(acl, .init = setup, .fini = teardown, .timeout = 60);

static void own_topics_work(int protocol) {
  connect_all(protocol);
  uint32_t id;
  cr_assert_eq(tclient_send(dev_a, "iotkit/v1/devA/telemetry", "t", 1, 1, &id), IOTKIT_OK);
  cr_assert_eq(tclient_wait_delivery(dev_a, id), IOTKIT_OK, "%s", tclient_last_error(dev_a));
  cr_assert(mqtt_peer_wait(admin, 1, 10000));
  cr_assert_str_eq(mqtt_peer_get(admin, 0)->topic, "iotkit/v1/devA/telemetry");
  cr_assert_eq(tclient_subscribe(dev_a, "iotkit/v1/devA/cmd/#", 1), IOTKIT_OK, "%s", tclient_last_error(dev_a));
  cr_assert(mqtt_peer_publish(admin, "iotkit/v1/devA/cmd/reboot", "r", 1, 1, false));
  cr_assert(tclient_poll_until(dev_a, &dev_a->messages, 1));
  cr_assert_str_eq(dev_a->msgs[0].channel, "iotkit/v1/devA/cmd/reboot");
  cr_assert_eq(test_hal_log_count(dev_a->th, IOTKIT_LOG_ERROR) + test_hal_log_count(dev_a->th, IOTKIT_LOG_WARN), 0);
}

Test(acl, own_topics_work_311) { own_topics_work(311); }

Test(acl, own_topics_work_5) { own_topics_work(5); }

/* MQTT 5: the broker says why; both QoS 1 and 2 are reported, QoS 0 cannot be. */
Test(acl, publish_into_other_device_is_refused_and_reported_5) {
  connect_all(5);
  for (int qos = 1; qos <= 2; qos++) {
    uint32_t id;
    cr_assert_eq(tclient_send(dev_a, "iotkit/v1/devB/evil/cmd", "x", 1, qos, &id), IOTKIT_OK);
    iotkit_err_t status = tclient_wait_delivery(dev_a, id);
    cr_assert_eq(status, IOTKIT_ERR_AUTH, "QoS %d: %s", qos, iotkit_err_name(status));
    cr_assert(strstr(tclient_last_error(dev_a), "0x87"), "%s", tclient_last_error(dev_a));
    cr_assert(strstr(tclient_last_error(dev_a), "Not authorized"), "%s", tclient_last_error(dev_a));
  }
  cr_assert_eq(test_hal_log_count(dev_a->th, IOTKIT_LOG_WARN), 2);
  uint32_t id;
  cr_assert_eq(tclient_send(dev_a, "iotkit/v1/devB/evil/cmd", "x", 1, 0, &id), IOTKIT_OK);
  assert_nothing_from_a_on_b_topics();
}

/* MQTT 3.1.1 has no refusal for a publish: the broker acknowledges and drops it. */
Test(acl, publish_into_other_device_is_dropped_311) {
  connect_all(311);
  for (int qos = 0; qos <= 2; qos++) {
    uint32_t id;
    cr_assert_eq(tclient_send(dev_a, "iotkit/v1/devB/evil/cmd", "x", 1, qos, &id), IOTKIT_OK);
    if (qos > 0) cr_assert_eq(tclient_wait_delivery(dev_a, id), IOTKIT_OK, "documented: 3.1.1 cannot report it");
  }
  assert_nothing_from_a_on_b_topics();
}

/* B's traffic, then a marker for A from the admin: A gets the marker and
   nothing from B's topics (the marker follows B's message at the broker). */
static void assert_a_reads_nothing_of_b(void) {
  cr_assert(mqtt_peer_publish(peer_b, "iotkit/v1/devB/secret", "s", 1, 1, false));
  cr_assert(mqtt_peer_publish(admin, "iotkit/v1/devA/marker", "m", 1, 1, false));
  cr_assert(tclient_poll_until(dev_a, &dev_a->messages, 1));
  cr_assert_str_eq(dev_a->msgs[0].channel, "iotkit/v1/devA/marker");
  cr_assert_eq(tclient_count_prefix(dev_a, "iotkit/v1/devB"), 0);
}

/* mosquitto 2.0's acl_file grants every subscription and applies the read
   ACL to each message: A's subscription to B's topics (or to all devices)
   is granted (subscribed(IOTKIT_OK)) yet delivers nothing of B's. */
static void subscription_to_other_device_reads_nothing(int protocol, const char *filter) {
  connect_all(protocol);
  cr_assert_eq(tclient_subscribe(dev_a, "iotkit/v1/devA/#", 1), IOTKIT_OK);
  cr_assert_eq(tclient_subscribe(dev_a, filter, 1), IOTKIT_OK, "%s", tclient_last_error(dev_a));
  assert_a_reads_nothing_of_b();
}

Test(acl, subscription_to_other_device_reads_nothing_311) {
  subscription_to_other_device_reads_nothing(311, "iotkit/v1/devB/#");
}

Test(acl, subscription_to_other_device_reads_nothing_5) {
  subscription_to_other_device_reads_nothing(5, "iotkit/v1/devB/#");
}

Test(acl, wildcard_subscription_reads_only_own_topics_311) {
  subscription_to_other_device_reads_nothing(311, "iotkit/#");
}

Test(acl, wildcard_subscription_reads_only_own_topics_5) { subscription_to_other_device_reads_nothing(5, "iotkit/#"); }

/* ------------------------- identities from client certificates (dynsec) -- */

/* Roles per device; subscriptions are checked when made, so a refused one gets
   a failing SUBACK. Clients without a password are known by certificate CN. */
#define ROLE(name, topic)                                                                   \
  "{\"rolename\":\"" name "\",\"acls\":["                                                    \
  "{\"acltype\":\"publishClientSend\",\"topic\":\"" topic "\",\"allow\":true},"              \
  "{\"acltype\":\"subscribePattern\",\"topic\":\"" topic "\",\"allow\":true}]}"
#define CLIENT(name) "{\"username\":\"" name "\",\"roles\":[{\"rolename\":\"" name "\"}]}"
#define DYNSEC                                                                                              \
  "{\"defaultACLAccess\":{\"publishClientSend\":false,\"publishClientReceive\":true,\"subscribe\":false,"     \
  "\"unsubscribe\":true},"                                                                                 \
  "\"clients\":[" CLIENT("devA") "," CLIENT("devB") "," CLIENT("admin") "],\"groups\":[],"                    \
  "\"roles\":[" ROLE("devA", "iotkit/v1/devA/#") "," ROLE("devB", "iotkit/v1/devB/#") "," ROLE("admin", "iotkit/#") "]}"

static char tls_files[4][192]; /* ca, then cert and key of the last client made */

static const char *tls_file(int i, const char *name) {
  snprintf(tls_files[i], sizeof tls_files[i], "%s", mosq_server_file(srv, name));
  return tls_files[i];
}

static mqtt_peer_t *cert_peer(const char *name, const char *topic) {
  char crt[64], key[64];
  snprintf(crt, sizeof crt, "%s.crt", name);
  snprintf(key, sizeof key, "%s.key", name);
  char ca[192], c[192], k[192];
  snprintf(ca, sizeof ca, "%s", mosq_server_file(srv, "ca.crt"));
  snprintf(c, sizeof c, "%s", mosq_server_file(srv, crt));
  snprintf(k, sizeof k, "%s", mosq_server_file(srv, key));
  mqtt_peer_t *p = mqtt_peer_new(&(mqtt_peer_opts_t){
      .port = mosq_server_port(srv), .topic = topic, .qos = 2, .cafile = ca, .certfile = c, .keyfile = k});
  cr_assert_not_null(p, "peer %s", name);
  return p;
}

static void setup_cert(void) {
  srv = mosq_server_new();
  cr_assert_not_null(srv);
  cr_assert(mosq_server_enable_tls(srv));
  cr_assert(mosq_server_make_client_cert(srv, "devA", "ca", "devA"));
  cr_assert(mosq_server_make_client_cert(srv, "devB", "ca", "devB"));
  cr_assert(mosq_server_make_client_cert(srv, "admin", "ca", "admin"));
  cr_assert(mosq_server_add_config(srv, "require_certificate true"));
  cr_assert(mosq_server_add_config(srv, "use_identity_as_username true"));
  cr_assert(mosq_server_set_dynsec(srv, DYNSEC));
  cr_assert(mosq_server_start(srv));
}

static void connect_all_cert(int protocol) {
  iotkit_tls_config_t tls = {.ca_file = tls_file(0, "ca.crt"), .cert_file = tls_file(1, "devA.crt"),
                             .key_file = tls_file(2, "devA.key"), .verify_peer = true};
  dev_a = tclient_new(&(tclient_opts_t){.uri = mosq_server_uri(srv), .protocol = protocol, .client_id = "devA",
                                        .tls = tls});
  cr_assert_not_null(dev_a);
  cr_assert_eq(tclient_connect(dev_a), IOTKIT_OK, "%s", tclient_last_error(dev_a));
  admin = cert_peer("admin", "iotkit/#");
  peer_b = cert_peer("devB", "iotkit/v1/devB/#");
}

TestSuite(acl_cert, .init = setup_cert, .fini = teardown, .timeout = 60);

Test(acl_cert, own_topics_work) {
  connect_all_cert(5);
  cr_assert_eq(tclient_subscribe(dev_a, "iotkit/v1/devA/#", 1), IOTKIT_OK, "%s", tclient_last_error(dev_a));
  uint32_t id;
  cr_assert_eq(tclient_send(dev_a, "iotkit/v1/devA/telemetry", "t", 1, 1, &id), IOTKIT_OK);
  cr_assert_eq(tclient_wait_delivery(dev_a, id), IOTKIT_OK, "%s", tclient_last_error(dev_a));
  cr_assert(mqtt_peer_wait(admin, 1, 10000));
  cr_assert(tclient_poll_until(dev_a, &dev_a->messages, 1), "A's own echo");
}

Test(acl_cert, publish_into_other_device_is_refused_and_reported_5) {
  connect_all_cert(5);
  uint32_t id;
  cr_assert_eq(tclient_send(dev_a, "iotkit/v1/devB/evil/cmd", "x", 1, 1, &id), IOTKIT_OK);
  cr_assert_eq(tclient_wait_delivery(dev_a, id), IOTKIT_ERR_AUTH, "%s", tclient_last_error(dev_a));
  cr_assert(strstr(tclient_last_error(dev_a), "0x87"), "%s", tclient_last_error(dev_a));
  assert_nothing_from_a_on_b_topics();
}

/* The subscription is refused and reported (event, last_error, ERROR line). */
static void subscription_is_refused(int protocol) {
  connect_all_cert(protocol);
  cr_assert_eq(tclient_subscribe(dev_a, "iotkit/v1/devA/#", 1), IOTKIT_OK);
  cr_assert_eq(tclient_subscribe(dev_a, "iotkit/v1/devB/#", 1), IOTKIT_ERR_AUTH, "%s", tclient_last_error(dev_a));
  cr_assert(strstr(tclient_last_error(dev_a), "refused the subscription to 'iotkit/v1/devB/#'"), "%s",
            tclient_last_error(dev_a));
  cr_assert(strstr(tclient_last_error(dev_a), protocol == 5 ? "0x87" : "0x80"), "%s", tclient_last_error(dev_a));
  cr_assert(test_hal_log_contains(dev_a->th, "refused the subscription to 'iotkit/v1/devB/#'"));
  cr_assert_eq(test_hal_log_count(dev_a->th, IOTKIT_LOG_ERROR), 1);
  assert_a_reads_nothing_of_b();
}

Test(acl_cert, subscription_to_other_device_is_refused_311) { subscription_is_refused(311); }

Test(acl_cert, subscription_to_other_device_is_refused_5) { subscription_is_refused(5); }
#endif /* IOTKIT_WITH_MQTT */
