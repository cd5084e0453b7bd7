// requires: mqtt
/* The MQTT backend's message_ex() (retain flag, QoS, MQTT 5 properties), send()
 * with MQTT 5 properties, and unsubscribe(), against a real mosquitto on 127.0.0.1. */
#include <criterion/criterion.h>
#include <string.h>

#include "iotkit/transport.h"
#include "mosquitto_server.h"
#include "transport_client.h"

static mosq_server_t *srv;
static tclient_t *tx, *rx;

static void start(void) {
  srv = mosq_server_new();
  cr_assert(srv && mosq_server_start(srv));
}

static void stop(void) {
  tclient_free(tx);
  tclient_free(rx);
  tx = rx = NULL;
  mosq_server_free(srv);
  srv = NULL;
}

TestSuite(mqtt_ex, .init = start, .fini = stop, .timeout = 60);

/* A sender and a receiver (message_ex) with MQTT @p protocol, both connected. */
static void connect_pair(int protocol) {
  tx = tclient_new(&(tclient_opts_t){.uri = mosq_server_uri(srv), .client_id = "tx", .protocol = protocol});
  rx = tclient_new(
      &(tclient_opts_t){.uri = mosq_server_uri(srv), .client_id = "rx", .protocol = protocol, .message_ex = true});
  cr_assert(tx && rx);
  cr_assert_eq(tclient_connect(tx), IOTKIT_OK, "%s", tclient_last_error(tx));
  cr_assert_eq(tclient_connect(rx), IOTKIT_OK, "%s", tclient_last_error(rx));
}

static iotkit_err_t send_msg(tclient_t *c, const iotkit_message_t *m) {
  uint32_t id = 0;
  iotkit_err_t rc = c->ops->send(c->ctx, m, &id);
  if (rc != IOTKIT_OK) return rc;
  if (m->qos == 0) return c->ops->poll(c->ctx, 0); /* writes it: QoS 0 has no confirmation to wait for */
  return tclient_wait_delivery(c, id);
}

static const iotkit_user_property_t k_user[] = {{"fw", "1.2.3"}, {"zone", "north"}, {"fw", "again"}};

static const iotkit_message_props_t k_props = {
    .content_type = "application/json",
    .response_topic = "fleet/replies/42",
    .correlation_data = "req-42",
    .correlation_len = 6,
    .expiry_s = 3600,
    .user_props = k_user,
    .n_user_props = 3,
};

Test(mqtt_ex, v5_properties_arrive_exactly) {
  connect_pair(5);
  cr_assert_eq(tclient_subscribe(rx, "dev/#", 1), IOTKIT_OK);
  iotkit_message_t m = {.channel = "dev/a", .payload = "{}", .len = 2, .qos = 1, .props = &k_props};
  cr_assert_eq(send_msg(tx, &m), IOTKIT_OK, "%s", tclient_last_error(tx));
  cr_assert(tclient_poll_until(rx, &rx->messages, 1));
  const tclient_msg_t *got = &rx->msgs[0];
  cr_assert_str_eq(got->channel, "dev/a");
  cr_assert_str_eq(got->payload, "{}");
  cr_assert_eq(got->qos, 1);
  cr_assert_not(got->retain);
  cr_assert_str_eq(got->content_type, "application/json");
  cr_assert_str_eq(got->response_topic, "fleet/replies/42");
  cr_assert_eq(got->correlation_len, 6);
  cr_assert_str_eq(got->correlation, "req-42");
  /* the broker forwards the expiry interval less the time the message waited: at most what was sent */
  cr_assert(got->expiry_s > 0 && got->expiry_s <= 3600, "expiry %u", (unsigned)got->expiry_s);
  cr_assert_eq(got->n_user_props, 3);
  cr_assert_str_eq(got->user_props, "fw=1.2.3;zone=north;fw=again;");
}

Test(mqtt_ex, v5_message_without_properties_has_none) {
  connect_pair(5);
  cr_assert_eq(tclient_subscribe(rx, "dev/#", 0), IOTKIT_OK);
  iotkit_message_t m = {.channel = "dev/b", .payload = "x", .len = 1, .qos = 1};
  cr_assert_eq(send_msg(tx, &m), IOTKIT_OK);
  cr_assert(tclient_poll_until(rx, &rx->messages, 1));
  const tclient_msg_t *got = &rx->msgs[0];
  cr_assert_eq(got->qos, 0, "delivered with the subscription's QoS 0, not the publish's 1");
  cr_assert_str_eq(got->content_type, "");
  cr_assert_str_eq(got->response_topic, "");
  cr_assert_eq(got->correlation_len, 0);
  cr_assert_eq(got->expiry_s, 0);
  cr_assert_eq(got->n_user_props, 0);
}

/* The QoS delivered is the lower of the publish's and the subscription's. */
static void qos_is_the_minimum(int protocol) {
  connect_pair(protocol);
  cr_assert_eq(tclient_subscribe(rx, "q/#", 1), IOTKIT_OK);
  for (int qos = 0; qos <= 2; qos++) {
    iotkit_message_t m = {.channel = "q/x", .payload = "q", .len = 1, .qos = qos};
    cr_assert_eq(send_msg(tx, &m), IOTKIT_OK);
    cr_assert(tclient_poll_until(rx, &rx->messages, qos + 1));
    cr_assert_eq(rx->msgs[qos].qos, qos < 1 ? qos : 1, "publish QoS %d", qos);
  }
}

Test(mqtt_ex, qos_is_the_minimum_311) { qos_is_the_minimum(311); }
Test(mqtt_ex, qos_is_the_minimum_5) { qos_is_the_minimum(5); }

/* A retained message delivered at subscription time says so; a live one does not. */
static void retained_then_live(int protocol) {
  connect_pair(protocol);
  iotkit_message_t keep = {.channel = "p/dev-1", .payload = "online", .len = 6, .qos = 1, .retain = true};
  cr_assert_eq(send_msg(tx, &keep), IOTKIT_OK);
  cr_assert_eq(tclient_subscribe(rx, "p/+", 1), IOTKIT_OK);
  cr_assert(tclient_poll_until(rx, &rx->messages, 1));
  cr_assert_str_eq(rx->msgs[0].payload, "online");
  cr_assert(rx->msgs[0].retain, "the retained copy is marked retained");
  iotkit_message_t live = {.channel = "p/dev-1", .payload = "offline", .len = 7, .qos = 1, .retain = true};
  cr_assert_eq(send_msg(tx, &live), IOTKIT_OK);
  cr_assert(tclient_poll_until(rx, &rx->messages, 2));
  cr_assert_str_eq(rx->msgs[1].payload, "offline");
  cr_assert_not(rx->msgs[1].retain, "a live update to an existing subscription is not marked retained");
}

Test(mqtt_ex, retained_then_live_311) { retained_then_live(311); }
Test(mqtt_ex, retained_then_live_5) { retained_then_live(5); }

Test(mqtt_ex, v311_ignores_properties_on_send) {
  connect_pair(311);
  cr_assert_eq(tclient_subscribe(rx, "dev/#", 1), IOTKIT_OK);
  iotkit_message_t m = {.channel = "dev/c", .payload = "y", .len = 1, .qos = 1, .props = &k_props};
  cr_assert_eq(send_msg(tx, &m), IOTKIT_OK);
  cr_assert(tclient_poll_until(rx, &rx->messages, 1));
  cr_assert_str_eq(rx->msgs[0].payload, "y");
  cr_assert_str_eq(rx->msgs[0].content_type, "");
  cr_assert_eq(rx->msgs[0].n_user_props, 0);
}

/* Each bad property set is refused with INVALID_ARG before anything is sent:
   the next good message is the first to arrive. */
Test(mqtt_ex, bad_properties_are_invalid_arg) {
  connect_pair(5);
  cr_assert_eq(tclient_subscribe(rx, "dev/#", 1), IOTKIT_OK);
  static char big[70000];
  const iotkit_user_property_t no_name[] = {{NULL, "v"}};
  const iotkit_user_property_t bad_utf8[] = {{"k", "\xff\xfe"}};
  const iotkit_message_props_t bad[] = {
      {.correlation_data = big, .correlation_len = sizeof big}, /* over 65535 bytes */
      {.correlation_len = 4},                                   /* a length without data */
      {.response_topic = "replies/#"},                          /* a wildcard in a topic name */
      {.response_topic = ""},                                   /* an empty topic */
      {.user_props = no_name, .n_user_props = 1},
      {.user_props = bad_utf8, .n_user_props = 1},
      {.n_user_props = 2},                                      /* a count without an array */
      {.content_type = "\xc3\x28"},                             /* malformed UTF-8 */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    iotkit_message_t m = {.channel = "dev/bad", .payload = "b", .len = 1, .qos = 1, .props = &bad[i]};
    uint32_t id = 0;
    cr_assert_eq(tx->ops->send(tx->ctx, &m, &id), IOTKIT_ERR_INVALID_ARG, "case %zu", i);
  }
  iotkit_message_t good = {.channel = "dev/good", .payload = "g", .len = 1, .qos = 1};
  cr_assert_eq(send_msg(tx, &good), IOTKIT_OK);
  cr_assert(tclient_poll_until(rx, &rx->messages, 1));
  cr_assert_str_eq(rx->msgs[0].channel, "dev/good");
}

Test(mqtt_ex, unsubscribe_stops_delivery) {
  connect_pair(311);
  cr_assert_eq(tclient_subscribe(rx, "a/#", 1), IOTKIT_OK);
  cr_assert_eq(tclient_subscribe(rx, "b/#", 1), IOTKIT_OK);
  iotkit_message_t a = {.channel = "a/1", .payload = "a", .len = 1, .qos = 1};
  iotkit_message_t b = {.channel = "b/1", .payload = "b", .len = 1, .qos = 1};
  cr_assert_eq(send_msg(tx, &a), IOTKIT_OK);
  cr_assert(tclient_poll_until(rx, &rx->messages, 1));
  cr_assert_eq(rx->ops->unsubscribe(rx->ctx, "a/#"), IOTKIT_OK);
  /* the UNSUBSCRIBE goes out before the probe on b/# (one connection, in order) */
  uint32_t id;
  cr_assert_eq(rx->ops->send(rx->ctx, &b, &id), IOTKIT_OK);
  cr_assert_eq(tclient_wait_delivery(rx, id), IOTKIT_OK);
  cr_assert(tclient_poll_until(rx, &rx->messages, 2));
  cr_assert_str_eq(rx->msgs[1].channel, "b/1");
  /* now a publish on a/ then one on b/ from the sender: only b/ arrives */
  cr_assert_eq(send_msg(tx, &a), IOTKIT_OK);
  cr_assert_eq(send_msg(tx, &b), IOTKIT_OK);
  cr_assert(tclient_poll_until(rx, &rx->messages, 3));
  cr_assert_str_eq(rx->msgs[2].channel, "b/1", "a/1 arrived after its unsubscribe");
  cr_assert_eq(tclient_count_prefix(rx, "a/"), 1);
}

Test(mqtt_ex, unsubscribe_bad_arguments_and_state) {
  tx = tclient_new(&(tclient_opts_t){.uri = mosq_server_uri(srv), .client_id = "tx"});
  cr_assert(tx);
  cr_assert_eq(tx->ops->unsubscribe(tx->ctx, "a/#"), IOTKIT_ERR_NOT_CONNECTED);
  cr_assert(strstr(tclient_last_error(tx), "not connected"), "%s", tclient_last_error(tx));
  cr_assert_eq(tclient_connect(tx), IOTKIT_OK);
  cr_assert_eq(tx->ops->unsubscribe(tx->ctx, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(tx->ops->unsubscribe(tx->ctx, ""), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(tx->ops->unsubscribe(tx->ctx, "a/#/b"), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(tx->ops->unsubscribe(NULL, "a"), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(tx->ops->unsubscribe(tx->ctx, "never/subscribed"), IOTKIT_OK, "the broker ignores it");
}
