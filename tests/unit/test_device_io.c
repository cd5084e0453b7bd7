/* Connect, publish, subscribe and callbacks, against the loopback transport. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_fixture.h"

static device_fixture_t fx;
static void setup(void) { device_fixture_init(&fx, "loop://local"); }
static void teardown(void) { device_fixture_fini(&fx); }
TestSuite(device_io, .init = setup, .fini = teardown);

/* What the callbacks saw. */
typedef struct seen {
  int ups, downs;
  iotkit_err_t down_reason;
  char down_detail[128];
  int deliveries;
  uint32_t last_id;
  iotkit_err_t last_status;
  int messages;
  char channel[128];
  char payload[128];
  size_t len;
} seen_t;

static void on_conn(iotkit_device_t *dev, void *user, bool up, iotkit_err_t reason, const char *detail) {
  seen_t *s = user;
  cr_assert_not_null(dev);
  if (up) {
    s->ups++;
  } else {
    s->downs++;
    s->down_reason = reason;
    snprintf(s->down_detail, sizeof(s->down_detail), "%s", detail);
  }
}

static void on_deliv(iotkit_device_t *dev, void *user, uint32_t msg_id, iotkit_err_t status) {
  (void)dev;
  seen_t *s = user;
  s->deliveries++;
  s->last_id = msg_id;
  s->last_status = status;
}

static void on_msg(iotkit_device_t *dev, void *user, const char *channel, const void *payload, size_t len) {
  (void)dev;
  seen_t *s = user;
  s->messages++;
  snprintf(s->channel, sizeof(s->channel), "%s", channel);
  cr_assert_lt(len, sizeof(s->payload));
  memcpy(s->payload, payload, len);
  s->len = len;
}

static iotkit_device_t *connected_with(seen_t *s) {
  iotkit_device_t *dev = NULL;
  cr_assert_eq(iotkit_device_new(&fx.cfg, &dev), IOTKIT_OK);
  iotkit_device_on_connection(dev, on_conn, s);
  iotkit_device_on_delivery(dev, on_deliv, s);
  iotkit_device_on_message(dev, on_msg, s);
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_OK);
  return dev;
}

static bool one_delivery(void *arg) { return ((seen_t *)arg)->deliveries >= 1; }
static bool one_message(void *arg) { return ((seen_t *)arg)->messages >= 1; }
static bool one_down(void *arg) { return ((seen_t *)arg)->downs >= 1; }

Test(device_io, connect_runs_connection_callback_before_returning) {
  seen_t s = {0};
  iotkit_device_t *dev = connected_with(&s);
  cr_assert_eq(s.ups, 1);
  cr_assert(iotkit_device_is_connected(dev));
  iotkit_device_free(dev);
}

Test(device_io, connect_twice_is_state_error) {
  iotkit_device_t *dev = device_fixture_connect(&fx);
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_ERR_STATE);
  cr_assert(device_fixture_error_has(dev, "connect refused: already connected"));
  iotkit_device_free(dev);
}

Test(device_io, connect_refused) {
  fx.cfg.uri = "loop://local?refuse=1";
  seen_t s = {0};
  iotkit_device_t *dev = NULL;
  cr_assert_eq(iotkit_device_new(&fx.cfg, &dev), IOTKIT_OK);
  iotkit_device_on_connection(dev, on_conn, &s);
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_ERR_CONNECT);
  cr_assert(device_fixture_error_has(dev, "cannot connect to local:"));
  cr_assert(device_fixture_error_has(dev, "refused"));
  cr_assert_eq(s.ups + s.downs, 0, "a failed connect must not run the callback");
  cr_assert_not(iotkit_device_is_connected(dev));
  iotkit_device_free(dev);
}

Test(device_io, send_while_not_connected) {
  iotkit_device_t *dev = NULL;
  fx.cfg.telemetry_durable = false; /* with the durable queue it is stored instead */
  cr_assert_eq(iotkit_device_new(&fx.cfg, &dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_send_telemetry(dev, "x", 1, NULL), IOTKIT_ERR_NOT_CONNECTED);
  iotkit_device_free(dev);
}

/* A refusal replaces the last error: it never shows an older, unrelated failure. */
Test(device_io, refusals_replace_an_older_error) {
  fx.cfg.uri = "loop://local?refuse=1";
  fx.cfg.max_payload = 16;
  fx.cfg.telemetry_durable = false;
  iotkit_device_t *dev = NULL;
  cr_assert_eq(iotkit_device_new(&fx.cfg, &dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_ERR_CONNECT);
  cr_assert(device_fixture_error_has(dev, "cannot connect"));
  char buf[17] = {0};
  cr_assert_eq(iotkit_device_send_telemetry(dev, buf, 17, NULL), IOTKIT_ERR_TOO_LARGE);
  cr_assert(device_fixture_error_has(dev, "refused: a payload of 17 bytes exceeds max_payload (16)"));
  cr_assert_eq(iotkit_device_send_telemetry(dev, NULL, 3, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert(device_fixture_error_has(dev, "refused: a payload of 3 bytes without data"));
  iotkit_device_free(dev);
}

Test(device_io, send_oversize_payload) {
  fx.cfg.max_payload = 16;
  iotkit_device_t *dev = device_fixture_connect(&fx);
  char buf[17] = {0};
  cr_assert_eq(iotkit_device_send_telemetry(dev, buf, 17, NULL), IOTKIT_ERR_TOO_LARGE);
  cr_assert_eq(iotkit_device_send_telemetry(dev, buf, 16, NULL), IOTKIT_OK);
  iotkit_device_free(dev);
}

Test(device_io, send_null_payload_with_length) {
  iotkit_device_t *dev = device_fixture_connect(&fx);
  cr_assert_eq(iotkit_device_send_telemetry(dev, NULL, 3, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_device_send_telemetry(dev, NULL, 0, NULL), IOTKIT_OK);
  iotkit_device_free(dev);
}

Test(device_io, delivery_callback_names_the_message) {
  seen_t s = {0};
  iotkit_device_t *dev = connected_with(&s);
  uint32_t id = 0;
  cr_assert_eq(iotkit_device_send_telemetry(dev, "{}", 2, &id), IOTKIT_OK);
  cr_assert(device_fixture_wait(&fx, dev, one_delivery, &s, 5000));
  cr_assert_eq(s.last_id, id);
  cr_assert_eq(s.last_status, IOTKIT_OK);
  iotkit_device_free(dev);
}

Test(device_io, telemetry_goes_to_the_telemetry_channel) {
  seen_t s = {0};
  iotkit_device_t *dev = connected_with(&s);
  cr_assert_eq(iotkit_device_subscribe(dev, "telemetry", 1), IOTKIT_OK);
  cr_assert_eq(iotkit_device_send_telemetry(dev, "{\"t\":1}", 7, NULL), IOTKIT_OK);
  cr_assert(device_fixture_wait(&fx, dev, one_message, &s, 5000));
  cr_assert_str_eq(s.channel, "iotkit/v1/dev-1/telemetry");
  cr_assert_eq(s.len, 7);
  cr_assert_eq(memcmp(s.payload, "{\"t\":1}", 7), 0);
  iotkit_device_free(dev);
}

Test(device_io, topic_prefix_is_used) {
  fx.cfg.topic_prefix = "acme/v2";
  seen_t s = {0};
  iotkit_device_t *dev = connected_with(&s);
  cr_assert_eq(iotkit_device_subscribe(dev, "#", 0), IOTKIT_OK);
  cr_assert_eq(iotkit_device_send_telemetry(dev, "a", 1, NULL), IOTKIT_OK);
  cr_assert(device_fixture_wait(&fx, dev, one_message, &s, 5000));
  cr_assert_str_eq(s.channel, "acme/v2/dev-1/telemetry");
  iotkit_device_free(dev);
}

Test(device_io, publish_on_a_subchannel_reaches_a_wildcard_subscription) {
  seen_t s = {0};
  iotkit_device_t *dev = connected_with(&s);
  cr_assert_eq(iotkit_device_subscribe(dev, "events/+", 1), IOTKIT_OK);
  cr_assert_eq(iotkit_device_publish(dev, "events/alarm", "hot", 3, 1, false, NULL), IOTKIT_OK);
  cr_assert(device_fixture_wait(&fx, dev, one_message, &s, 5000));
  cr_assert_str_eq(s.channel, "iotkit/v1/dev-1/events/alarm");
  cr_assert_eq(s.len, 3);
  iotkit_device_free(dev);
}

/* Each bad publish suffix on a connected device. */
static void expect_bad_suffix(const char *suffix) {
  iotkit_device_t *dev = device_fixture_connect(&fx);
  cr_assert_eq(iotkit_device_publish(dev, suffix, "x", 1, 0, false, NULL), IOTKIT_ERR_INVALID_ARG, "suffix '%s'",
               suffix ? suffix : "(null)");
  iotkit_device_free(dev);
}

Test(device_io, publish_suffix_null) { expect_bad_suffix(NULL); }
Test(device_io, publish_suffix_empty) { expect_bad_suffix(""); }
Test(device_io, publish_suffix_leading_slash) { expect_bad_suffix("/events"); }
Test(device_io, publish_suffix_trailing_slash) { expect_bad_suffix("events/"); }
Test(device_io, publish_suffix_empty_segment) { expect_bad_suffix("events//alarm"); }
Test(device_io, publish_suffix_plus) { expect_bad_suffix("events/+"); }
Test(device_io, publish_suffix_hash) { expect_bad_suffix("events/#"); }
Test(device_io, publish_suffix_plus_inside_segment) { expect_bad_suffix("a+b"); }
Test(device_io, publish_suffix_dot_dot) { expect_bad_suffix("../other-dev/telemetry"); }
Test(device_io, publish_suffix_control_char) { expect_bad_suffix("events\n"); }

Test(device_io, publish_bad_qos) {
  iotkit_device_t *dev = device_fixture_connect(&fx);
  cr_assert_eq(iotkit_device_publish(dev, "events", "x", 1, 3, false, NULL), IOTKIT_ERR_INVALID_ARG);
  iotkit_device_free(dev);
}

Test(device_io, publish_oversize_payload) {
  fx.cfg.max_payload = 4;
  iotkit_device_t *dev = device_fixture_connect(&fx);
  cr_assert_eq(iotkit_device_publish(dev, "events", "12345", 5, 0, false, NULL), IOTKIT_ERR_TOO_LARGE);
  iotkit_device_free(dev);
}

Test(device_io, subscribe_hash_not_last) {
  iotkit_device_t *dev = device_fixture_connect(&fx);
  cr_assert_eq(iotkit_device_subscribe(dev, "#/x", 0), IOTKIT_ERR_INVALID_ARG);
  iotkit_device_free(dev);
}

Test(device_io, subscribe_while_not_connected) {
  iotkit_device_t *dev = NULL;
  cr_assert_eq(iotkit_device_new(&fx.cfg, &dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_subscribe(dev, "commands/#", 1), IOTKIT_ERR_NOT_CONNECTED);
  iotkit_device_free(dev);
}

Test(device_io, poll_before_connect) {
  iotkit_device_t *dev = NULL;
  cr_assert_eq(iotkit_device_new(&fx.cfg, &dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_poll(dev, 0), IOTKIT_ERR_NOT_CONNECTED);
  iotkit_device_free(dev);
}

Test(device_io, poll_negative_timeout) {
  iotkit_device_t *dev = device_fixture_connect(&fx);
  cr_assert_eq(iotkit_device_poll(dev, -1), IOTKIT_ERR_INVALID_ARG);
  iotkit_device_free(dev);
}

Test(device_io, disconnect_runs_callback_with_ok) {
  seen_t s = {0};
  fx.cfg.telemetry_durable = false; /* NOT_CONNECTED below is the direct path's answer */
  iotkit_device_t *dev = connected_with(&s);
  cr_assert_eq(iotkit_device_send_telemetry(dev, "x", 1, NULL), IOTKIT_OK);
  cr_assert_eq(iotkit_device_disconnect(dev), IOTKIT_OK);
  cr_assert_eq(s.deliveries, 1, "disconnect flushes what is queued");
  cr_assert_eq(s.downs, 1);
  cr_assert_eq(s.down_reason, IOTKIT_OK);
  cr_assert_not(iotkit_device_is_connected(dev));
  cr_assert_eq(iotkit_device_disconnect(dev), IOTKIT_ERR_NOT_CONNECTED);
  cr_assert_eq(iotkit_device_send_telemetry(dev, "x", 1, NULL), IOTKIT_ERR_NOT_CONNECTED);
  iotkit_device_free(dev);
}

Test(device_io, reconnect_after_disconnect) {
  seen_t s = {0};
  iotkit_device_t *dev = connected_with(&s);
  cr_assert_eq(iotkit_device_disconnect(dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_OK);
  cr_assert_eq(s.ups, 2);
  iotkit_device_free(dev);
}

Test(device_io, connection_lost_reaches_callback_and_last_error) {
  fx.cfg.uri = "loop://local?drop_after=2"; /* send 1 is the online status */
  fx.cfg.auto_reconnect = false;
  seen_t s = {0};
  iotkit_device_t *dev = connected_with(&s);
  cr_assert_eq(iotkit_device_send_telemetry(dev, "x", 1, NULL), IOTKIT_OK);
  cr_assert(device_fixture_wait(&fx, dev, one_down, &s, 5000));
  cr_assert_eq(s.down_reason, IOTKIT_ERR_CONNECTION_LOST);
  cr_assert_not(iotkit_device_is_connected(dev));
  cr_assert(device_fixture_error_has(dev, "connection to local:"));
  cr_assert(device_fixture_error_has(dev, "lost"));
  iotkit_device_free(dev);
}

Test(device_io, cleared_callback_is_not_called) {
  seen_t s = {0};
  iotkit_device_t *dev = connected_with(&s);
  cr_assert_eq(iotkit_device_on_delivery(dev, NULL, &s), IOTKIT_OK);
  cr_assert_eq(iotkit_device_send_telemetry(dev, "x", 1, NULL), IOTKIT_OK);
  cr_assert_eq(iotkit_device_disconnect(dev), IOTKIT_OK); /* polls until flushed */
  cr_assert_eq(s.deliveries, 0);
  iotkit_device_free(dev);
}
