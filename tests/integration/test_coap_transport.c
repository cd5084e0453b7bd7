/* The CoAP backend against libcoap's own coap-server-openssl on 127.0.0.1. */
#include <criterion/criterion.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coap_server.h"
#include "net_util.h"
#include "iotkit/transport.h"
#include "test_hal.h"

#define MAX_IDS 256
#define PSK "secretPSK"
#define PSK_HEX "73656372657450534b" /* "secretPSK" */

typedef struct rec {
  int connected;
  int disconnected;
  iotkit_err_t disc_reason;
  char disc_detail[256];
  int messages;
  char channel[128];
  unsigned char payload[8192];
  size_t len;
  int qos;     /* of the last message, with message_ex */
  bool retain; /* the same */
  int deliveries;
  int delivered_ok;
  uint32_t ids[MAX_IDS];
  iotkit_err_t statuses[MAX_IDS];
} rec_t;

/* One backend context and what its events recorded. */
typedef struct client {
  void *ctx;
  iotkit_uri_t uri;
  rec_t rec;
} client_t;

static coap_srv_t *srv;
static test_hal_t *th;
static const iotkit_transport_ops_t *ops;
static client_t dev, peer;

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
static void on_message_ex(void *u, const iotkit_transport_msg_t *m) {
  rec_t *r = u;
  on_message(u, m->channel, m->payload, m->len);
  r->qos = m->qos;
  r->retain = m->retain;
}
static bool use_message_ex; /* open clients with message_ex() set */
static void on_delivery(void *u, uint32_t id, iotkit_err_t status) {
  rec_t *r = u;
  if (r->deliveries < MAX_IDS) {
    r->ids[r->deliveries] = id;
    r->statuses[r->deliveries] = status;
  }
  r->deliveries++;
  r->delivered_ok += status == IOTKIT_OK;
}

static void setup(void) {
  th = test_hal_new();
  cr_assert_not_null(th);
  ops = iotkit_transport_coap();
  cr_assert_not_null(ops, "built without CoAP");
  srv = coap_srv_new();
  cr_assert_not_null(srv);
}

static void free_client(client_t *c) {
  if (ops && c->ctx) ops->destroy(c->ctx);
  iotkit_uri_clear(&c->uri);
  memset(c, 0, sizeof *c);
}

static void teardown(void) {
  free_client(&dev);
  free_client(&peer);
  coap_srv_free(srv);
  test_hal_free(th);
}

static iotkit_err_t open_client_cfg(client_t *c, const char *uri_text, const iotkit_tls_config_t *tls,
                                    uint32_t connect_timeout_ms) {
  cr_assert_eq(iotkit_uri_parse(uri_text, &c->uri), IOTKIT_OK, "%s", uri_text);
  iotkit_transport_config_t cfg;
  iotkit_transport_config_init(&cfg);
  cfg.uri = &c->uri;
  cfg.hal = test_hal_get(th);
  cfg.client_id = "dev-1";
  cfg.connect_timeout_ms = connect_timeout_ms;
  cfg.max_payload = 0; /* as before: no limit */
  if (tls) cfg.tls = *tls;
  iotkit_transport_events_t ev = {.user = &c->rec, .connected = on_connected, .disconnected = on_disconnected,
                                  .message = on_message, .delivery = on_delivery,
                                  .message_ex = use_message_ex ? on_message_ex : NULL};
  return ops->create(&cfg, &ev, &c->ctx);
}

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Poll both clients until *counter reaches want or limit_ms passes (a bound, not an assertion). */
static void pump_until(const int *counter, int want, int limit_ms) {
  uint64_t end = now_ms() + (uint64_t)limit_ms;
  while (*counter < want && now_ms() < end) {
    if (dev.ctx) ops->poll(dev.ctx, 20);
    if (peer.ctx) ops->poll(peer.ctx, 20);
  }
}

/* Open @p c on @p uri_text (with query @p query) and wait for connected(). */
static void connect_client(client_t *c, const char *uri_text, const char *query) {
  char uri[160];
  snprintf(uri, sizeof uri, "%s%s%s", uri_text, query && *query ? "?" : "", query ? query : "");
  cr_assert_eq(open_client_cfg(c, uri, NULL, 5000), IOTKIT_OK);
  cr_assert_eq(ops->connect(c->ctx), IOTKIT_OK, "%s", ops->last_error(c->ctx));
  pump_until(&c->rec.connected, 1, 5000);
  cr_assert_eq(c->rec.connected, 1);
}

static uint32_t send_msg(client_t *c, const char *channel, const void *payload, size_t len, int qos) {
  iotkit_message_t m = {.channel = channel, .payload = payload, .len = len, .qos = qos};
  uint32_t id = 0;
  cr_assert_eq(ops->send(c->ctx, &m, &id), IOTKIT_OK, "%s", ops->last_error(c->ctx));
  return id;
}

/* Send one confirmable message and wait for its delivery status. */
static iotkit_err_t send_confirmed(client_t *c, const char *channel, const char *text) {
  int before = c->rec.deliveries;
  uint32_t id = send_msg(c, channel, text, strlen(text), 1);
  pump_until(&c->rec.deliveries, before + 1, 10000);
  cr_assert_eq(c->rec.deliveries, before + 1, "no delivery for %s", channel);
  cr_assert_eq(c->rec.ids[before], id);
  return c->rec.statuses[before];
}

/* GET a resource of the server with coap-client into @p out. */
static int client_get(const char *path, char *out, size_t cap) {
  char uri[160];
  snprintf(uri, sizeof uri, "%s%s", coap_srv_uri(srv), path);
  const char *args[] = {"-B", "5", uri, NULL};
  int rc = coap_client_run(args, out, cap);
  size_t n = strlen(out);
  if (n > 0 && out[n - 1] == '\n') out[n - 1] = '\0'; /* coap-client ends its output with a newline */
  return rc;
}

static int client_put(const char *path, const char *text) {
  char uri[160], out[256];
  snprintf(uri, sizeof uri, "%s%s", coap_srv_uri(srv), path);
  const char *args[] = {"-B", "5", "-m", "put", "-e", text, uri, NULL};
  return coap_client_run(args, out, sizeof out);
}

/* Start the server with "/<channel>" holding @p first, connect the device
   with @p query, observe @p channel and wait for its first message. */
static void observe_existing(const char *channel, const char *first, const char *query) {
  char path[128];
  snprintf(path, sizeof path, "/%s", channel);
  cr_assert(coap_srv_start(srv));
  cr_assert_eq(client_put(path, first), 0);
  connect_client(&dev, coap_srv_uri(srv), query);
  cr_assert_eq(ops->subscribe(dev.ctx, channel, 1), IOTKIT_OK);
  pump_until(&dev.rec.messages, 1, 5000);
  cr_assert_eq(dev.rec.messages, 1);
  cr_assert_eq(dev.rec.len, strlen(first));
  cr_assert_eq(memcmp(dev.rec.payload, first, dev.rec.len), 0);
}

TestSuite(coap_transport, .init = setup, .fini = teardown, .timeout = 120);

Test(coap_transport, put_reported_state_and_read_it_back) {
  cr_assert(coap_srv_start(srv));
  connect_client(&dev, coap_srv_uri(srv), NULL);
  cr_assert_eq(send_confirmed(&dev, "iotkit/v1/dev-1/state/reported", "{\"on\":true}"), IOTKIT_OK);
  char out[256];
  cr_assert_eq(client_get("/iotkit/v1/dev-1/state/reported", out, sizeof out), 0);
  cr_assert_str_eq(out, "{\"on\":true}");
}

Test(coap_transport, post_telemetry_under_base_path_and_read_it_back) {
  cr_assert(coap_srv_start(srv));
  char uri[128];
  snprintf(uri, sizeof uri, "%s/base", coap_srv_uri(srv));
  connect_client(&dev, uri, NULL);
  cr_assert_eq(send_confirmed(&dev, "dev-1/telemetry", "t=21.5"), IOTKIT_OK);
  char out[256];
  cr_assert_eq(client_get("/base/dev-1/telemetry", out, sizeof out), 0);
  cr_assert_str_eq(out, "t=21.5");
}

Test(coap_transport, non_confirmable_send_is_reported_sent) {
  cr_assert(coap_srv_start(srv));
  connect_client(&dev, coap_srv_uri(srv), NULL);
  uint32_t id = send_msg(&dev, "dev-1/state/reported", "nc", 2, 0);
  pump_until(&dev.rec.deliveries, 1, 5000);
  cr_assert_eq(dev.rec.deliveries, 1);
  cr_assert_eq(dev.rec.ids[0], id);
  cr_assert_eq(dev.rec.statuses[0], IOTKIT_OK);
}

Test(coap_transport, observe_receives_changes_made_by_coap_client) {
  observe_existing("dev-1/state/desired", "v1", NULL);
  cr_assert_str_eq(dev.rec.channel, "dev-1/state/desired");
  cr_assert_eq(client_put("/dev-1/state/desired", "v2"), 0);
  pump_until(&dev.rec.messages, 2, 5000);
  cr_assert_eq(dev.rec.messages, 2);
  cr_assert_eq(dev.rec.len, 2);
  cr_assert_eq(memcmp(dev.rec.payload, "v2", 2), 0);
}

Test(coap_transport, observe_registers_again_after_server_forgets) {
  observe_existing("dev-1/cmd", "a", "observe_retry_ms=200&observe_refresh_ms=500");
  /* a restarted server has no resources and no observers */
  cr_assert(coap_srv_restart(srv));
  cr_assert_eq(client_put("/dev-1/cmd", "b"), 0);
  pump_until(&dev.rec.messages, 2, 10000);
  cr_assert_eq(dev.rec.messages, 2);
  cr_assert_eq(dev.rec.len, 1);
  cr_assert_eq(dev.rec.payload[0], 'b');
}

Test(coap_transport, observe_of_missing_resource_waits_for_it) {
  cr_assert(coap_srv_start(srv));
  connect_client(&dev, coap_srv_uri(srv), "observe_retry_ms=200");
  cr_assert_eq(ops->subscribe(dev.ctx, "dev-1/cmd", 1), IOTKIT_OK);
  pump_until(&dev.rec.messages, 1, 600); /* refused with 4.04 meanwhile */
  cr_assert_eq(dev.rec.messages, 0);
  cr_assert(strstr(ops->last_error(dev.ctx), "4.04 Not Found") != NULL, "%s", ops->last_error(dev.ctx));
  cr_assert_eq(client_put("/dev-1/cmd", "now"), 0);
  pump_until(&dev.rec.messages, 1, 10000);
  cr_assert_eq(dev.rec.messages, 1);
  cr_assert_eq(dev.rec.len, 3);
  cr_assert_eq(memcmp(dev.rec.payload, "now", 3), 0);
}

Test(coap_transport, blockwise_put_of_5000_bytes_reads_back_identical) {
  cr_assert(coap_srv_start(srv));
  connect_client(&dev, coap_srv_uri(srv), NULL);
  static char big[5001];
  for (size_t i = 0; i < 5000; i++) big[i] = (char)('a' + (i * 7 + i / 13) % 26);
  cr_assert_eq(send_confirmed(&dev, "dev-1/state/reported", big), IOTKIT_OK);
  /* read back block-wise by a second context, observing */
  connect_client(&peer, coap_srv_uri(srv), NULL);
  cr_assert_eq(ops->subscribe(peer.ctx, "dev-1/state/reported", 1), IOTKIT_OK);
  pump_until(&peer.rec.messages, 1, 10000);
  cr_assert_eq(peer.rec.messages, 1);
  cr_assert_eq(peer.rec.len, 5000);
  cr_assert_eq(memcmp(peer.rec.payload, big, 5000), 0);
}

Test(coap_transport, missing_resource_is_not_found) {
  cr_assert(coap_srv_set_dynamic(srv, false));
  cr_assert(coap_srv_start(srv));
  connect_client(&dev, coap_srv_uri(srv), NULL);
  cr_assert_eq(send_confirmed(&dev, "dev-1/telemetry", "x"), IOTKIT_ERR_NOT_FOUND);
  cr_assert(strstr(ops->last_error(dev.ctx), "POST /dev-1/telemetry: 4.04 Not Found") != NULL, "%s",
            ops->last_error(dev.ctx));
}

Test(coap_transport, method_not_allowed_is_protocol_error) {
  cr_assert(coap_srv_set_dynamic(srv, false));
  cr_assert(coap_srv_start(srv));
  connect_client(&dev, coap_srv_uri(srv), NULL);
  cr_assert_eq(send_confirmed(&dev, "time", "x"), IOTKIT_ERR_PROTOCOL); /* coap-server's /time takes no POST */
  cr_assert(strstr(ops->last_error(dev.ctx), "4.05 Method Not Allowed") != NULL, "%s", ops->last_error(dev.ctx));
}

Test(coap_transport, server_not_listening_fails_delivery_with_reason) {
  char uri[128];
  snprintf(uri, sizeof uri, "coap://127.0.0.1:%u", test_free_udp_port());
  connect_client(&dev, uri, "ack_timeout_ms=1000&max_retransmit=1");
  iotkit_err_t st = send_confirmed(&dev, "dev-1/telemetry", "x");
  cr_assert(st == IOTKIT_ERR_CONNECT || st == IOTKIT_ERR_TIMEOUT, "%s", iotkit_err_name(st));
  cr_assert(strstr(ops->last_error(dev.ctx), "POST /dev-1/telemetry to 127.0.0.1") != NULL, "%s",
            ops->last_error(dev.ctx));
}

Test(coap_transport, all_200_confirmable_messages_arrive_despite_20_percent_loss) {
  cr_assert(coap_srv_set_loss(srv, "20%"));
  cr_assert(coap_srv_start(srv));
  connect_client(&dev, coap_srv_uri(srv), "ack_timeout_ms=1000&max_retransmit=8&nstart=16");
  char text[32];
  for (int i = 0; i < 200; i++) {
    snprintf(text, sizeof text, "n=%d", i);
    send_msg(&dev, "dev-1/telemetry", text, strlen(text), 1);
  }
  pump_until(&dev.rec.deliveries, 200, 100000);
  cr_assert_eq(dev.rec.deliveries, 200, "%d delivered; %s", dev.rec.deliveries, ops->last_error(dev.ctx));
  cr_assert_eq(dev.rec.delivered_ok, 200, "%s", ops->last_error(dev.ctx));
}

static iotkit_tls_config_t psk_tls(const char *key_hex) {
  iotkit_tls_config_t tls = {.psk_identity = "dev-1", .psk_key_hex = key_hex, .verify_peer = true};
  return tls;
}

Test(coap_transport, dtls_psk_handshake_then_put) {
  cr_assert(coap_srv_set_psk(srv, PSK, "CoAP"));
  cr_assert(coap_srv_start(srv));
  iotkit_tls_config_t tls = psk_tls(PSK_HEX);
  cr_assert_eq(open_client_cfg(&dev, coap_srv_uri_dtls(srv), &tls, 5000), IOTKIT_OK);
  cr_assert_eq(ops->connect(dev.ctx), IOTKIT_OK, "%s", ops->last_error(dev.ctx));
  pump_until(&dev.rec.connected, 1, 5000);
  cr_assert_eq(dev.rec.connected, 1, "%s", ops->last_error(dev.ctx));
  cr_assert_eq(send_confirmed(&dev, "dev-1/state/reported", "secure"), IOTKIT_OK);
  char out[64];
  cr_assert_eq(client_get("/dev-1/state/reported", out, sizeof out), 0);
  cr_assert_str_eq(out, "secure");
  cr_assert_eq(ops->disconnect(dev.ctx), IOTKIT_OK);
  cr_assert_eq(dev.rec.disconnected, 1);
  cr_assert_eq(dev.rec.disc_reason, IOTKIT_OK);
}

Test(coap_transport, dtls_psk_with_uri_credentials) {
  cr_assert(coap_srv_set_psk(srv, PSK, "CoAP"));
  cr_assert(coap_srv_start(srv));
  char uri[128];
  snprintf(uri, sizeof uri, "coaps://dev-1:%s@127.0.0.1:%u", PSK, coap_srv_port(srv) + 1u);
  connect_client(&dev, uri, NULL);
  cr_assert_eq(send_confirmed(&dev, "dev-1/telemetry", "u"), IOTKIT_OK);
}

Test(coap_transport, dtls_wrong_psk_fails_handshake_with_auth) {
  cr_assert(coap_srv_set_psk(srv, PSK, "CoAP"));
  cr_assert(coap_srv_start(srv));
  iotkit_tls_config_t tls = psk_tls("00112233445566778899");
  cr_assert_eq(open_client_cfg(&dev, coap_srv_uri_dtls(srv), &tls, 1500), IOTKIT_OK);
  cr_assert_eq(ops->connect(dev.ctx), IOTKIT_OK);
  pump_until(&dev.rec.disconnected, 1, 10000);
  cr_assert_eq(dev.rec.connected, 0);
  cr_assert_eq(dev.rec.disconnected, 1);
  cr_assert_eq(dev.rec.disc_reason, IOTKIT_ERR_AUTH, "%s: %s", iotkit_err_name(dev.rec.disc_reason),
               dev.rec.disc_detail);
  cr_assert(strstr(dev.rec.disc_detail, "PSK") != NULL, "%s", dev.rec.disc_detail);
  cr_assert_str_eq(ops->last_error(dev.ctx), dev.rec.disc_detail);
  iotkit_message_t m = {.channel = "dev-1/telemetry", .payload = "x", .len = 1, .qos = 1};
  uint32_t id;
  cr_assert_eq(ops->send(dev.ctx, &m, &id), IOTKIT_ERR_NOT_CONNECTED);
}

Test(coap_transport, dtls_without_server_times_out) {
  char uri[128];
  snprintf(uri, sizeof uri, "coaps://127.0.0.1:%u", test_free_udp_port());
  iotkit_tls_config_t tls = psk_tls(PSK_HEX);
  cr_assert_eq(open_client_cfg(&dev, uri, &tls, 800), IOTKIT_OK);
  cr_assert_eq(ops->connect(dev.ctx), IOTKIT_OK);
  pump_until(&dev.rec.disconnected, 1, 10000);
  cr_assert_eq(dev.rec.disconnected, 1);
  cr_assert(dev.rec.disc_reason == IOTKIT_ERR_TIMEOUT || dev.rec.disc_reason == IOTKIT_ERR_TLS ||
                dev.rec.disc_reason == IOTKIT_ERR_CONNECT,
            "%s: %s", iotkit_err_name(dev.rec.disc_reason), dev.rec.disc_detail);
  cr_assert(strstr(dev.rec.disc_detail, "127.0.0.1") != NULL, "%s", dev.rec.disc_detail);
}

/* coaps with certificates: @p ca verifies the server; the client shows client.crt. */
static void open_pki_client(const char *ca) {
  char ca_path[128], cert[128], key[128];
  snprintf(ca_path, sizeof ca_path, "%s/%s", coap_srv_dir(srv), ca);
  snprintf(cert, sizeof cert, "%s/client.crt", coap_srv_dir(srv));
  snprintf(key, sizeof key, "%s/client.key", coap_srv_dir(srv));
  iotkit_tls_config_t tls = {.ca_file = ca_path, .cert_file = cert, .key_file = key, .verify_peer = true};
  cr_assert_eq(open_client_cfg(&dev, coap_srv_uri_dtls(srv), &tls, 3000), IOTKIT_OK);
  cr_assert_eq(ops->connect(dev.ctx), IOTKIT_OK, "%s", ops->last_error(dev.ctx));
}

Test(coap_transport, dtls_certificates_handshake_then_put) {
  cr_assert(coap_srv_use_test_pki(srv));
  cr_assert(coap_srv_start(srv));
  open_pki_client("ca.crt");
  pump_until(&dev.rec.connected, 1, 5000);
  cr_assert_eq(dev.rec.connected, 1, "%s", ops->last_error(dev.ctx));
  cr_assert_eq(send_confirmed(&dev, "dev-1/state/reported", "pki"), IOTKIT_OK);
}

Test(coap_transport, dtls_untrusted_server_certificate_fails_with_tls) {
  cr_assert(coap_srv_use_test_pki(srv));
  cr_assert(coap_srv_start(srv));
  open_pki_client("other-ca.crt");
  pump_until(&dev.rec.disconnected, 1, 10000);
  cr_assert_eq(dev.rec.connected, 0);
  cr_assert_eq(dev.rec.disconnected, 1);
  cr_assert(dev.rec.disc_reason == IOTKIT_ERR_TLS || dev.rec.disc_reason == IOTKIT_ERR_TIMEOUT, "%s: %s",
            iotkit_err_name(dev.rec.disc_reason), dev.rec.disc_detail);
  cr_assert(strstr(dev.rec.disc_detail, "127.0.0.1") != NULL, "%s", dev.rec.disc_detail);
}

Test(coap_transport, observe_survives_resource_deletion) {
  observe_existing("dev-1/cmd", "one", "observe_retry_ms=200");
  char uri[160], out[64];
  snprintf(uri, sizeof uri, "%s/dev-1/cmd", coap_srv_uri(srv));
  const char *del[] = {"-B", "5", "-m", "delete", uri, NULL};
  cr_assert_eq(coap_client_run(del, out, sizeof out), 0);
  cr_assert_eq(client_put("/dev-1/cmd", "two"), 0); /* a new resource: only a new registration sees it */
  pump_until(&dev.rec.messages, 2, 10000);
  cr_assert_eq(dev.rec.messages, 2);
  cr_assert_eq(dev.rec.len, 3);
  cr_assert_eq(memcmp(dev.rec.payload, "two", 3), 0);
}

typedef struct sender_arg {
  void *ctx;
  int sent;
} sender_arg_t;

static void *sender(void *p) {
  sender_arg_t *a = p;
  for (int i = 0; i < 50; i++) {
    iotkit_message_t m = {.channel = "dev-1/telemetry", .payload = "c", .len = 1, .qos = 1};
    uint32_t id;
    a->sent += ops->send(a->ctx, &m, &id) == IOTKIT_OK;
  }
  return NULL;
}

Test(coap_transport, send_from_another_thread_while_polling) {
  cr_assert(coap_srv_start(srv));
  connect_client(&dev, coap_srv_uri(srv), "nstart=4");
  sender_arg_t arg = {dev.ctx, 0};
  pthread_t t;
  cr_assert_eq(pthread_create(&t, NULL, sender, &arg), 0);
  for (int i = 0; i < 20; i++) ops->poll(dev.ctx, 5);
  pthread_join(t, NULL);
  cr_assert_eq(arg.sent, 50);
  pump_until(&dev.rec.deliveries, 50, 20000);
  cr_assert_eq(dev.rec.deliveries, 50);
  cr_assert_eq(dev.rec.delivered_ok, 50);
}

/* ------------------------------------------- unsubscribe, message_ex, timeout_ms -- */

Test(coap_transport, ops_table_carries_its_size_and_the_new_ops) {
  cr_assert_eq(ops->struct_size, sizeof(iotkit_transport_ops_t));
  cr_assert_not_null(ops->unsubscribe);
  cr_assert_not_null(ops->timeout_ms);
  cr_assert_null(ops->fd_events); /* UDP: only readability */
}

Test(coap_transport, unsubscribe_cancels_the_observation) {
  observe_existing("dev-1/a", "a1", NULL);
  cr_assert_eq(client_put("/dev-1/b", "b1"), 0);
  cr_assert_eq(ops->subscribe(dev.ctx, "dev-1/b", 1), IOTKIT_OK);
  pump_until(&dev.rec.messages, 2, 5000);
  cr_assert_eq(dev.rec.messages, 2);
  cr_assert_eq(ops->unsubscribe(dev.ctx, "dev-1/a"), IOTKIT_OK);
  /* A change of a, then one of b: only b's notification arrives. */
  cr_assert_eq(client_put("/dev-1/a", "a2"), 0);
  cr_assert_eq(client_put("/dev-1/b", "b2"), 0);
  pump_until(&dev.rec.messages, 3, 5000);
  cr_assert_eq(dev.rec.messages, 3);
  cr_assert_str_eq(dev.rec.channel, "dev-1/b");
  cr_assert_eq(memcmp(dev.rec.payload, "b2", 2), 0);
  cr_assert_eq(client_put("/dev-1/b", "b3"), 0);
  pump_until(&dev.rec.messages, 4, 5000);
  cr_assert_eq(dev.rec.messages, 4);
  cr_assert_str_eq(dev.rec.channel, "dev-1/b", "a notification of the cancelled a arrived");
}

Test(coap_transport, unsubscribe_unknown_channel_is_not_found) {
  observe_existing("dev-1/a", "a1", NULL);
  cr_assert_eq(ops->unsubscribe(dev.ctx, "dev-1/other"), IOTKIT_ERR_NOT_FOUND);
  cr_assert(strstr(ops->last_error(dev.ctx), "dev-1/other"), "%s", ops->last_error(dev.ctx));
  cr_assert_eq(ops->unsubscribe(dev.ctx, "dev-1/a"), IOTKIT_OK);
  cr_assert_eq(ops->unsubscribe(dev.ctx, "dev-1/a"), IOTKIT_ERR_NOT_FOUND);
}

Test(coap_transport, unsubscribe_bad_filter_or_no_session) {
  cr_assert(coap_srv_start(srv));
  cr_assert_eq(open_client_cfg(&dev, coap_srv_uri(srv), NULL, 5000), IOTKIT_OK);
  cr_assert_eq(ops->unsubscribe(dev.ctx, "a/#/b"), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(ops->unsubscribe(dev.ctx, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(ops->unsubscribe(dev.ctx, "dev-1/a"), IOTKIT_ERR_NOT_CONNECTED);
}

Test(coap_transport, message_ex_has_qos_and_no_retain) {
  use_message_ex = true;
  observe_existing("dev-1/state/desired", "v1", NULL);
  cr_assert_eq(dev.rec.qos, 1, "the registration's response comes piggybacked on the ACK of a CON");
  cr_assert_not(dev.rec.retain);
  cr_assert_eq(client_put("/dev-1/state/desired", "v2"), 0);
  pump_until(&dev.rec.messages, 2, 5000);
  cr_assert_eq(dev.rec.messages, 2);
  cr_assert(dev.rec.qos == 0 || dev.rec.qos == 1);
  cr_assert_not(dev.rec.retain, "CoAP retains nothing");
}

Test(coap_transport, timeout_ms_follows_events_and_observations) {
  cr_assert(coap_srv_start(srv));
  cr_assert_eq(open_client_cfg(&dev, coap_srv_uri(srv), NULL, 5000), IOTKIT_OK);
  cr_assert_eq(ops->timeout_ms(dev.ctx), -1, "nothing to do before connect");
  cr_assert_eq(ops->connect(dev.ctx), IOTKIT_OK);
  cr_assert_eq(ops->timeout_ms(dev.ctx), 0, "connected() waits for poll");
  pump_until(&dev.rec.connected, 1, 5000);
  cr_assert_eq(client_put("/dev-1/a", "x"), 0);
  cr_assert_eq(ops->subscribe(dev.ctx, "dev-1/a", 1), IOTKIT_OK);
  pump_until(&dev.rec.messages, 1, 5000);
  cr_assert_eq(dev.rec.messages, 1);
  /* An active observation is registered again after Max-Age (60 s) + 2 s without news. */
  int ms = ops->timeout_ms(dev.ctx);
  cr_assert(ms > 0 && ms <= 62000, "%d", ms);
  cr_assert_eq(ops->timeout_ms(NULL), -1);
}

Test(coap_transport, an_external_loop_on_fd_and_timeout_ms_gets_the_confirmation) {
  cr_assert(coap_srv_start(srv));
  connect_client(&dev, coap_srv_uri(srv), NULL);
  int fd = ops->fd(dev.ctx);
  cr_assert_geq(fd, 0);
  send_msg(&dev, "dev-1/telemetry", "t", 1, 1);
  uint64_t end = now_ms() + 10000;
  while (dev.rec.deliveries == 0 && now_ms() < end) {
    int ms = ops->timeout_ms(dev.ctx);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    poll(&p, 1, ms < 0 || ms > 1000 ? 1000 : ms);
    cr_assert_eq(ops->poll(dev.ctx, 0), IOTKIT_OK);
  }
  cr_assert_eq(dev.rec.deliveries, 1);
  cr_assert_eq(dev.rec.statuses[0], IOTKIT_OK);
}
