/* The loopback's operations added with the size-versioned ops table:
   unsubscribe, message_ex (QoS granted, retain false), timeout_ms. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "iotkit/transport.h"

typedef struct seen {
  int plain, ex;
  char channel[64];
  int qos;
  bool retain;
  size_t struct_size;
  bool has_props;
  bool unsubscribe_in_callback;
} seen_t;

static const iotkit_transport_ops_t *ops;
static void *ctx;
static seen_t seen;
static iotkit_uri_t uri;

static void on_message(void *u, const char *channel, const void *payload, size_t len) {
  (void)payload, (void)len;
  seen_t *s = u;
  s->plain++;
  snprintf(s->channel, sizeof s->channel, "%s", channel);
}

static void on_message_ex(void *u, const iotkit_transport_msg_t *m) {
  seen_t *s = u;
  s->ex++;
  snprintf(s->channel, sizeof s->channel, "%s", m->channel);
  s->qos = m->qos;
  s->retain = m->retain;
  s->struct_size = m->struct_size;
  s->has_props = m->props.content_type || m->props.user_props || m->props.n_user_props;
  if (s->unsubscribe_in_callback) cr_assert_eq(ops->unsubscribe(ctx, "t/#"), IOTKIT_OK);
}

static void open_with(bool ex) {
  ops = iotkit_transport_loopback();
  memset(&seen, 0, sizeof seen);
  cr_assert_eq(iotkit_uri_parse("loop://x", &uri), IOTKIT_OK);
  iotkit_transport_config_t cfg;
  iotkit_transport_config_init(&cfg);
  cfg.uri = &uri;
  cfg.client_id = "d";
  cfg.clean_session = true;
  iotkit_transport_events_t ev = {.struct_size = sizeof ev, .user = &seen, .message = on_message,
                                  .message_ex = ex ? on_message_ex : NULL};
  cr_assert_eq(ops->create(&cfg, &ev, &ctx), IOTKIT_OK);
  cr_assert_eq(ops->connect(ctx), IOTKIT_OK);
  cr_assert_eq(ops->poll(ctx, 0), IOTKIT_OK);
}

static void open_ex(void) { open_with(true); }

static void close_loop(void) {
  ops->destroy(ctx);
  ctx = NULL;
  iotkit_uri_clear(&uri);
}

static void send_on(const char *channel, int qos) {
  uint32_t id;
  iotkit_message_t m = {.channel = channel, .payload = "x", .len = 1, .qos = qos, .retain = true};
  cr_assert_eq(ops->send(ctx, &m, &id), IOTKIT_OK);
}

TestSuite(loopback_ops, .init = open_ex, .fini = close_loop);

Test(loopback_ops, table_carries_its_size_and_the_new_ops) {
  cr_assert_eq(ops->struct_size, sizeof(iotkit_transport_ops_t));
  cr_assert_not_null(ops->unsubscribe);
  cr_assert_not_null(ops->timeout_ms);
  cr_assert_null(ops->fd_events); /* no descriptor: nothing to watch */
}

Test(loopback_ops, unsubscribe_stops_delivery) {
  cr_assert_eq(ops->subscribe(ctx, "t/+", 1), IOTKIT_OK);
  send_on("t/a", 1);
  ops->poll(ctx, 0);
  cr_assert_eq(seen.ex, 1);
  cr_assert_eq(ops->unsubscribe(ctx, "t/+"), IOTKIT_OK);
  send_on("t/a", 1);
  ops->poll(ctx, 0);
  cr_assert_eq(seen.ex, 1);
}

Test(loopback_ops, unsubscribe_drops_echoes_not_yet_delivered) {
  cr_assert_eq(ops->subscribe(ctx, "t/#", 1), IOTKIT_OK);
  cr_assert_eq(ops->subscribe(ctx, "u", 1), IOTKIT_OK);
  send_on("t/a", 1);
  send_on("u", 1);
  cr_assert_eq(ops->unsubscribe(ctx, "t/#"), IOTKIT_OK);
  ops->poll(ctx, 0);
  cr_assert_eq(seen.ex, 1);
  cr_assert_str_eq(seen.channel, "u");
}

Test(loopback_ops, unsubscribe_keeps_what_another_filter_matches) {
  cr_assert_eq(ops->subscribe(ctx, "t/#", 1), IOTKIT_OK);
  cr_assert_eq(ops->subscribe(ctx, "t/a", 1), IOTKIT_OK);
  send_on("t/a", 1);
  cr_assert_eq(ops->unsubscribe(ctx, "t/#"), IOTKIT_OK);
  ops->poll(ctx, 0);
  cr_assert_eq(seen.ex, 1);
  send_on("t/b", 1);
  ops->poll(ctx, 0);
  cr_assert_eq(seen.ex, 1);
}

Test(loopback_ops, unsubscribe_from_the_message_callback) {
  cr_assert_eq(ops->subscribe(ctx, "t/#", 1), IOTKIT_OK);
  send_on("t/a", 1);
  send_on("t/b", 1);
  seen.unsubscribe_in_callback = true;
  ops->poll(ctx, 0);
  cr_assert_eq(seen.ex, 1, "the second echo was dropped by the unsubscribe");
  cr_assert_eq(ops->timeout_ms(ctx), -1);
}

Test(loopback_ops, unsubscribe_unknown_channel_is_not_found) {
  cr_assert_eq(ops->subscribe(ctx, "t/+", 1), IOTKIT_OK);
  cr_assert_eq(ops->unsubscribe(ctx, "t/#"), IOTKIT_ERR_NOT_FOUND);
  cr_assert(strstr(ops->last_error(ctx), "t/#"));
  cr_assert_eq(ops->unsubscribe(ctx, "t/+"), IOTKIT_OK);
  cr_assert_eq(ops->unsubscribe(ctx, "t/+"), IOTKIT_ERR_NOT_FOUND);
}

Test(loopback_ops, unsubscribe_bad_filter_is_invalid_arg) {
  cr_assert_eq(ops->unsubscribe(ctx, "a/#/b"), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(ops->unsubscribe(ctx, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(ops->unsubscribe(NULL, "a"), IOTKIT_ERR_INVALID_ARG);
}

Test(loopback_ops, unsubscribe_without_session_is_not_connected) {
  cr_assert_eq(ops->subscribe(ctx, "t", 1), IOTKIT_OK);
  cr_assert_eq(ops->disconnect(ctx), IOTKIT_OK);
  ops->poll(ctx, 0);
  cr_assert_eq(ops->unsubscribe(ctx, "t"), IOTKIT_ERR_NOT_CONNECTED);
}

Test(loopback_ops, message_ex_fields) {
  cr_assert_eq(ops->subscribe(ctx, "t/a", 1), IOTKIT_OK);
  send_on("t/a", 2);
  ops->poll(ctx, 0);
  cr_assert_eq(seen.ex, 1);
  cr_assert_eq(seen.plain, 0, "message() is not called when message_ex() is set");
  cr_assert_str_eq(seen.channel, "t/a");
  cr_assert_eq(seen.qos, 1, "QoS 2 on a QoS 1 subscription arrives at 1");
  cr_assert_not(seen.retain, "the loopback retains nothing, even when asked");
  cr_assert_eq(seen.struct_size, sizeof(iotkit_transport_msg_t));
  cr_assert_not(seen.has_props);
}

Test(loopback_ops, message_ex_qos_is_the_best_granted) {
  cr_assert_eq(ops->subscribe(ctx, "t/#", 0), IOTKIT_OK);
  cr_assert_eq(ops->subscribe(ctx, "t/a", 2), IOTKIT_OK);
  send_on("t/a", 1);
  ops->poll(ctx, 0);
  cr_assert_eq(seen.qos, 1);
  send_on("t/b", 2);
  ops->poll(ctx, 0);
  cr_assert_eq(seen.qos, 0);
  cr_assert_eq(ops->subscribe(ctx, "t/#", 2), IOTKIT_OK); /* resubscribing changes the QoS */
  send_on("t/b", 2);
  ops->poll(ctx, 0);
  cr_assert_eq(seen.qos, 2);
}

Test(loopback_ops, timeout_is_zero_while_events_wait) {
  cr_assert_eq(ops->timeout_ms(ctx), -1);
  send_on("t", 0); /* its confirmation waits */
  cr_assert_eq(ops->timeout_ms(ctx), 0);
  ops->poll(ctx, 0);
  cr_assert_eq(ops->timeout_ms(ctx), -1);
  cr_assert_eq(ops->timeout_ms(NULL), -1);
}

Test(loopback_ops, without_message_ex_message_is_called) {
  close_loop(); /* the suite's context has message_ex: open one without */
  open_with(false);
  cr_assert_eq(ops->subscribe(ctx, "t", 1), IOTKIT_OK);
  send_on("t", 1);
  ops->poll(ctx, 0);
  cr_assert_eq(seen.plain, 1);
  cr_assert_eq(seen.ex, 0);
}
