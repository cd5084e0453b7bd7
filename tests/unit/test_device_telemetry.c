/* Durable telemetry of the device (memory HAL, capture transport): stored before
   sent, removed on confirmation, backlog re-sent after a restart, full-store
   policies, and the drain rate (counted against a manual clock, no timing). */
#include <criterion/criterion.h>
#include <string.h>

#include <iotkit/iotkit.h>

#include "capture_transport.h"

#define CHAN "iotkit/v1/tel-1/telemetry"

static iotkit_hal_t *hal;
static iotkit_device_config_t cfg;

static void make_hal(bool manual) {
  iotkit_hal_memory_config_t mc;
  iotkit_hal_memory_config_init(&mc);
  mc.manual_clock = manual;
  mc.log_level = IOTKIT_LOG_ERROR;
  cr_assert_eq(iotkit_hal_memory_new(&mc, &hal), IOTKIT_OK);
  iotkit_device_config_init(&cfg);
  cfg.device_id = "tel-1";
  cfg.uri = "cap://local";
  cfg.transports = capture_registry();
  cfg.hal = hal;
  cfg.telemetry_drain_rate = 0;
}

static void teardown(void) { iotkit_hal_free(hal); }
TestSuite(device_telemetry, .fini = teardown, .timeout = 30);

static iotkit_device_t *device(void) {
  iotkit_device_t *dev = NULL;
  cr_assert_eq(iotkit_device_new(&cfg, &dev), IOTKIT_OK);
  return dev;
}

static iotkit_device_telemetry_stats_t stats(iotkit_device_t *dev) {
  iotkit_device_telemetry_stats_t st;
  cr_assert_eq(iotkit_device_telemetry_stats(dev, &st), IOTKIT_OK);
  return st;
}

/* Send a one-point batch; its sequence number. */
static uint64_t send_point(iotkit_device_t *dev, int64_t v) {
  iotkit_telemetry_batch_t *b = NULL;
  cr_assert_eq(iotkit_telemetry_batch_new(NULL, &b), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_batch_add_int(b, "n", NULL, 1767225600000, v), IOTKIT_OK);
  uint64_t seq = 0;
  cr_assert_eq(iotkit_device_send_batch(dev, b, IOTKIT_TELEMETRY_FORMAT_JSON, &seq, NULL), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_batch_seq(b), seq);
  iotkit_telemetry_batch_free(b);
  return seq;
}

/* Sequence number of captured telemetry message @p i (in the order sent on the channel). */
static uint64_t sent_seq(size_t i) {
  size_t k = 0;
  for (size_t j = 0; j < capture_count(); j++) {
    const capture_msg_t *m = capture_get(j);
    if (strcmp(m->channel, CHAN) != 0 || k++ != i) continue;
    iotkit_telemetry_batch_t *b = NULL;
    cr_assert_eq(iotkit_telemetry_decode(IOTKIT_TELEMETRY_FORMAT_JSON, m->payload, m->len, &b), IOTKIT_OK);
    uint64_t seq = iotkit_telemetry_batch_seq(b);
    iotkit_telemetry_batch_free(b);
    return seq;
  }
  cr_assert_fail("no telemetry message %zu", i);
  return 0;
}

static void settle(iotkit_device_t *dev) {
  for (int i = 0; i < 5; i++) cr_assert_eq(iotkit_device_poll(dev, 0), IOTKIT_OK);
}

Test(device_telemetry, a_confirmed_message_leaves_the_queue) {
  make_hal(false);
  iotkit_device_t *dev = device();
  cr_assert(stats(dev).durable);
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_OK);
  capture_hold(true);
  cr_assert_eq(send_point(dev, 1), 1);
  settle(dev);
  cr_assert_eq(stats(dev).queue.pending, 1, "kept until confirmed");
  capture_hold(false);
  settle(dev);
  iotkit_device_telemetry_stats_t st = stats(dev);
  cr_assert_eq(st.queue.pending, 0);
  cr_assert_eq(st.confirmed, 1);
  cr_assert_eq(st.sent_live, 1);
  iotkit_device_free(dev);
}

Test(device_telemetry, offline_messages_are_stored_and_sent_after_connect) {
  make_hal(false);
  iotkit_device_t *dev = device();
  uint32_t id = 99;
  cr_assert_eq(iotkit_device_send_telemetry(dev, "{\"a\":1}", 7, &id), IOTKIT_OK);
  cr_assert_eq(id, 0, "not sent yet");
  cr_assert_eq(send_point(dev, 2), 2);
  cr_assert_eq(capture_count_on(CHAN), 0);
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_OK);
  settle(dev);
  cr_assert_eq(capture_count_on(CHAN), 2);
  cr_assert_eq(sent_seq(1), 2, "oldest first");
  iotkit_device_telemetry_stats_t st = stats(dev);
  cr_assert_eq(st.sent_backlog, 2);
  cr_assert_eq(st.queue.pending, 0);
  iotkit_device_free(dev);
}

Test(device_telemetry, restart_recovers_the_backlog) {
  make_hal(false);
  cfg.connect_timeout_ms = 200; /* free() waits this long for the withheld confirmations */
  iotkit_device_t *dev = device();
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_OK);
  capture_hold(true);
  for (int i = 1; i <= 5; i++) cr_assert_eq(send_point(dev, i), (uint64_t)i);
  settle(dev);
  cr_assert_eq(capture_count_on(CHAN), 5);
  iotkit_device_free(dev); /* "crash": nothing confirmed */
  capture_hold(false);

  dev = device();
  iotkit_device_telemetry_stats_t st = stats(dev);
  cr_assert_eq(st.queue.pending, 5, "recovered from the HAL");
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_OK);
  settle(dev);
  cr_assert_eq(capture_count_on(CHAN), 10);
  for (size_t i = 0; i < 5; i++) cr_assert_eq(sent_seq(5 + i), i + 1, "re-sent oldest first");
  st = stats(dev);
  cr_assert_eq(st.queue.pending, 0);
  cr_assert_eq(st.confirmed, 5);
  cr_assert_gt(send_point(dev, 6), 5, "numbers go on above the old ones");
  iotkit_device_free(dev);
}

Test(device_telemetry, lost_session_resends_unconfirmed) {
  make_hal(false);
  cfg.reconnect_min_ms = 1;
  iotkit_device_t *dev = device();
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_OK);
  capture_hold(true);
  send_point(dev, 1);
  send_point(dev, 2);
  capture_drop();
  settle(dev);
  capture_hold(false);
  for (int i = 0; i < 200 && stats(dev).queue.pending; i++) cr_assert_eq(iotkit_device_poll(dev, 5), IOTKIT_OK);
  iotkit_device_telemetry_stats_t st = stats(dev);
  cr_assert_eq(st.queue.pending, 0, "pending %llu live %llu backlog %llu conf %llu connects %d up %d",
               (unsigned long long)st.queue.pending, (unsigned long long)st.sent_live,
               (unsigned long long)st.sent_backlog, (unsigned long long)st.confirmed, capture_connects(),
               iotkit_device_is_connected(dev));
  cr_assert_eq(st.sent_backlog, 2);
  cr_assert_eq(st.queue.retried, 2);
  iotkit_device_free(dev);
}

/* Store 100 messages of 200 bytes offline in a 4 KiB queue. */
static iotkit_device_t *fill(iotkit_telemetry_full_policy_t policy, int *refused) {
  make_hal(false);
  cfg.telemetry_queue_max_bytes = 4096;
  cfg.telemetry_full_policy = policy;
  iotkit_device_t *dev = device();
  char payload[200];
  memset(payload, 'x', sizeof(payload));
  *refused = 0;
  for (int i = 0; i < 100; i++) {
    iotkit_err_t err = iotkit_device_send_telemetry(dev, payload, sizeof(payload), NULL);
    cr_assert(err == IOTKIT_OK || err == IOTKIT_ERR_QUEUE_FULL, "%s", iotkit_err_name(err));
    *refused += err == IOTKIT_ERR_QUEUE_FULL;
  }
  return dev;
}

Test(device_telemetry, full_store_refuse) {
  int refused = 0;
  iotkit_device_t *dev = fill(IOTKIT_TELEMETRY_REFUSE, &refused);
  iotkit_device_telemetry_stats_t st = stats(dev);
  cr_assert_gt(refused, 0);
  cr_assert_eq(st.queue.refused, (uint64_t)refused);
  cr_assert_eq(st.accepted, 100u - (uint64_t)refused);
  cr_assert_eq(st.queue.pending, st.accepted, "what was accepted is kept");
  iotkit_device_free(dev);
}

Test(device_telemetry, full_store_drop_newest) {
  int refused = 0;
  iotkit_device_t *dev = fill(IOTKIT_TELEMETRY_DROP_NEWEST, &refused);
  iotkit_device_telemetry_stats_t st = stats(dev);
  cr_assert_eq(refused, 0);
  cr_assert_gt(st.queue.dropped_newest, 0);
  cr_assert_eq(st.queue.pending + st.queue.dropped_newest, 100);
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_OK);
  settle(dev);
  cr_assert_eq(capture_count_on(CHAN), st.queue.pending, "the first ones are sent, the newest were dropped");
  iotkit_device_free(dev);
}

Test(device_telemetry, full_store_drop_oldest) {
  int refused = 0;
  iotkit_device_t *dev = fill(IOTKIT_TELEMETRY_DROP_OLDEST, &refused);
  iotkit_device_telemetry_stats_t st = stats(dev);
  cr_assert_eq(refused, 0);
  cr_assert_gt(st.queue.dropped_oldest, 0);
  cr_assert_eq(st.queue.pending + st.queue.dropped_oldest, 100);
  /* The newest survive: a batch sent now is among those delivered. */
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_OK);
  settle(dev);
  cr_assert_eq(capture_count_on(CHAN), st.queue.pending);
  cr_assert_eq(stats(dev).queue.pending, 0);
  iotkit_device_free(dev);
}

Test(device_telemetry, drain_rate_bounds_the_backlog_not_live_messages) {
  make_hal(true);
  cfg.telemetry_drain_rate = 10; /* one message per 100 ms */
  iotkit_device_t *dev = device();
  for (int i = 1; i <= 50; i++) send_point(dev, i);
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_OK);
  for (int step = 0; step < 10; step++) {
    cr_assert_eq(iotkit_device_poll(dev, 0), IOTKIT_OK);
    cr_assert_eq(iotkit_hal_memory_advance(hal, 100), IOTKIT_OK);
  }
  cr_assert_eq(iotkit_device_poll(dev, 0), IOTKIT_OK);
  size_t drained = capture_count_on(CHAN);
  cr_assert_geq(drained, 1);
  cr_assert_leq(drained, 11, "%zu backlog messages in 1 s at 10/s", drained);
  /* A live message goes out at once, ahead of the backlog. */
  uint64_t live = send_point(dev, 99);
  cr_assert_eq(capture_count_on(CHAN), drained + 1);
  cr_assert_eq(sent_seq(drained), live);
  for (int step = 0; step < 100; step++) {
    cr_assert_eq(iotkit_hal_memory_advance(hal, 100), IOTKIT_OK);
    cr_assert_eq(iotkit_device_poll(dev, 0), IOTKIT_OK);
  }
  cr_assert_eq(capture_count_on(CHAN), 51);
  cr_assert_eq(stats(dev).queue.pending, 0);
  iotkit_device_free(dev);
}

Test(device_telemetry, stats_bad_args) {
  iotkit_device_telemetry_stats_t st;
  cr_assert_eq(iotkit_device_telemetry_stats(NULL, &st), IOTKIT_ERR_INVALID_ARG);
  make_hal(false);
  iotkit_device_t *dev = device();
  cr_assert_eq(iotkit_device_telemetry_stats(dev, NULL), IOTKIT_ERR_INVALID_ARG);
  iotkit_device_free(dev);
}

Test(device_telemetry, send_batch_bad_args) {
  make_hal(false);
  iotkit_device_t *dev = device();
  iotkit_telemetry_batch_t *b = NULL;
  cr_assert_eq(iotkit_telemetry_batch_new(NULL, &b), IOTKIT_OK);
  cr_assert_eq(iotkit_device_send_batch(NULL, b, IOTKIT_TELEMETRY_FORMAT_JSON, NULL, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_device_send_batch(dev, NULL, IOTKIT_TELEMETRY_FORMAT_JSON, NULL, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_device_send_batch(dev, b, (iotkit_telemetry_format_t)9, NULL, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_device_send_batch(dev, b, IOTKIT_TELEMETRY_FORMAT_JSON, NULL, NULL), IOTKIT_ERR_INVALID_ARG,
               "an empty batch");
  cr_assert_eq(stats(dev).queue.pending, 0, "nothing stored");
  iotkit_telemetry_batch_free(b);
  iotkit_device_free(dev);
}

Test(device_telemetry, without_seg_operations_it_sends_directly) {
  make_hal(false);
  cfg.telemetry_durable = false;
  iotkit_device_t *dev = device();
  cr_assert_not(stats(dev).durable);
  cr_assert_eq(iotkit_device_send_telemetry(dev, "x", 1, NULL), IOTKIT_ERR_NOT_CONNECTED);
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_OK);
  cr_assert_eq(send_point(dev, 1), 1, "in-memory numbers from 1");
  cr_assert_eq(send_point(dev, 2), 2);
  iotkit_device_free(dev);
}

/* A connected device without a durable queue (reconnecting after 1 ms). */
static iotkit_device_t *direct_device(void) {
  make_hal(false);
  cfg.telemetry_durable = false;
  cfg.reconnect_min_ms = 1;
  iotkit_device_t *dev = device();
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_OK);
  settle(dev);
  return dev;
}

/* Without a durable queue the counters still count: what was accepted, sent, and confirmed. */
Test(device_telemetry, without_a_queue_confirmations_are_counted) {
  iotkit_device_t *dev = direct_device();
  capture_hold(true);
  uint32_t id = 0;
  for (int i = 0; i < 3; i++) {
    cr_assert_eq(iotkit_device_send_telemetry(dev, "{\"a\":1}", 7, &id), IOTKIT_OK);
    cr_assert_neq(id, 0, "sent at once: an id");
  }
  send_point(dev, 4);
  settle(dev);
  iotkit_device_telemetry_stats_t st = stats(dev);
  cr_assert_eq(st.accepted, 4);
  cr_assert_eq(st.sent_live, 4);
  cr_assert_eq(st.confirmed, 0, "held back");
  capture_hold(false);
  settle(dev);
  st = stats(dev);
  cr_assert_eq(st.confirmed, 4);
  cr_assert_eq(st.failed, 0);
  cr_assert_eq(st.sent_backlog, 0);
  iotkit_device_free(dev);
}

/* Only telemetry is counted: a confirmed publish on another channel is not. */
Test(device_telemetry, without_a_queue_other_publishes_are_not_counted) {
  iotkit_device_t *dev = direct_device();
  cr_assert_eq(iotkit_device_publish(dev, "events/x", "{}", 2, 1, false, NULL), IOTKIT_OK);
  cr_assert_eq(iotkit_device_send_telemetry(dev, "{}", 2, NULL), IOTKIT_OK);
  settle(dev);
  iotkit_device_telemetry_stats_t st = stats(dev);
  cr_assert_eq(st.accepted, 1);
  cr_assert_eq(st.confirmed, 1);
  iotkit_device_free(dev);
}

/* Confirmations never outlive their session: those of a lost one are not counted,
   the next session's are. */
Test(device_telemetry, without_a_queue_a_lost_session_confirms_nothing) {
  iotkit_device_t *dev = direct_device();
  capture_hold(true);
  cr_assert_eq(iotkit_device_send_telemetry(dev, "{}", 2, NULL), IOTKIT_OK);
  cr_assert_eq(iotkit_device_send_telemetry(dev, "{}", 2, NULL), IOTKIT_OK);
  capture_drop();
  settle(dev);
  capture_hold(false);
  for (int i = 0; i < 200 && !iotkit_device_is_connected(dev); i++)
    cr_assert_eq(iotkit_device_poll(dev, 5), IOTKIT_OK);
  cr_assert(iotkit_device_is_connected(dev), "reconnected");
  cr_assert_eq(iotkit_device_send_telemetry(dev, "{}", 2, NULL), IOTKIT_OK);
  settle(dev);
  iotkit_device_telemetry_stats_t st = stats(dev);
  cr_assert_eq(st.accepted, 3);
  cr_assert_eq(st.sent_live, 3);
  cr_assert_eq(st.confirmed, 1, "only the new session's message");
  cr_assert_eq(st.failed, 0);
  iotkit_device_free(dev);
}
