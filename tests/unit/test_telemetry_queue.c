/* The durable queue on the memory HAL: order, acknowledgements, restarts, power cuts, full-store policies. */
#include <criterion/criterion.h>
#include <string.h>

#include "iotkit/iotkit.h"
#include "queue_check.h"
#include "telemetry_check.h"

#define BIG (1024u * 1024u)
#define LEN 100u
#define REC (LEN + 24u) /* bytes of one record on the HAL */

static iotkit_hal_t *g_hal;
static iotkit_telemetry_queue_t *g_q;

static void setup(void) {
  iotkit_hal_memory_config_t cfg;
  iotkit_hal_memory_config_init(&cfg);
  cfg.manual_clock = true;
  cr_assert_eq(iotkit_hal_memory_new(&cfg, &g_hal), IOTKIT_OK);
  g_q = queue_open(g_hal, BIG, IOTKIT_TELEMETRY_DROP_OLDEST, IOTKIT_TELEMETRY_SYNC_EVERY_RECORD);
}

static void teardown(void) {
  iotkit_telemetry_queue_close(g_q);
  iotkit_hal_free(g_hal);
}

/* Close and reopen on the same HAL, as after a restart. */
static void reopen(iotkit_telemetry_sync_policy_t sync) {
  iotkit_telemetry_queue_close(g_q);
  g_q = queue_open(g_hal, BIG, IOTKIT_TELEMETRY_DROP_OLDEST, sync);
}

/* A power cut, then the device boots again. */
static void power_cycle(iotkit_telemetry_sync_policy_t sync) {
  cr_assert_eq(iotkit_hal_memory_power_cut(g_hal), IOTKIT_OK);
  iotkit_telemetry_queue_close(g_q); /* its sync fails: the power is off */
  g_q = NULL;
  cr_assert_eq(iotkit_hal_memory_power_restore(g_hal), IOTKIT_OK);
  g_q = queue_open(g_hal, BIG, IOTKIT_TELEMETRY_DROP_OLDEST, sync);
}

TestSuite(telemetry_queue, .init = setup, .fini = teardown);

Test(telemetry_queue, oldest_first) {
  for (int i = 1; i <= 3; i++) cr_assert_eq(queue_add(g_q, LEN), (uint64_t)i);
  for (int i = 1; i <= 3; i++) queue_expect_next(g_q, (uint64_t)i, LEN);
  queue_expect_empty(g_q);
  iotkit_telemetry_queue_stats_t st = queue_stats(g_q);
  cr_assert_eq(st.queued, 3);
  cr_assert_eq(st.sent, 3);
  cr_assert_eq(st.pending, 3);
  cr_assert_eq(st.in_flight, 3);
}

Test(telemetry_queue, ack_removes_and_requeue_resends_the_rest) {
  for (int i = 0; i < 3; i++) queue_add(g_q, LEN);
  for (int i = 1; i <= 3; i++) queue_expect_next(g_q, (uint64_t)i, LEN);
  cr_assert_eq(iotkit_telemetry_queue_ack(g_q, 2), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_queue_requeue(g_q), IOTKIT_OK);
  queue_expect_next(g_q, 1, LEN);
  queue_expect_next(g_q, 3, LEN);
  queue_expect_empty(g_q);
  iotkit_telemetry_queue_stats_t st = queue_stats(g_q);
  cr_assert_eq(st.acked, 1);
  cr_assert_eq(st.retried, 2);
  cr_assert_eq(st.pending, 2);
}

Test(telemetry_queue, ack_twice) {
  queue_add(g_q, LEN);
  cr_assert_eq(iotkit_telemetry_queue_ack(g_q, 1), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_queue_ack(g_q, 1), IOTKIT_ERR_NOT_FOUND);
}

Test(telemetry_queue, ack_unknown) { cr_assert_eq(iotkit_telemetry_queue_ack(g_q, 77), IOTKIT_ERR_NOT_FOUND); }

Test(telemetry_queue, append_seq_not_increasing) {
  cr_assert_eq(iotkit_telemetry_queue_append(g_q, 5, "x", 1), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_queue_append(g_q, 5, "x", 1), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_telemetry_queue_append(g_q, 4, "x", 1), IOTKIT_ERR_INVALID_ARG);
}

Test(telemetry_queue, append_seq_zero) {
  cr_assert_eq(iotkit_telemetry_queue_append(g_q, 0, "x", 1), IOTKIT_ERR_INVALID_ARG);
}

Test(telemetry_queue, append_too_large) {
  static uint8_t big[IOTKIT_MAX_PAYLOAD_DEFAULT + 1];
  cr_assert_eq(iotkit_telemetry_queue_append(g_q, 1, big, sizeof(big)), IOTKIT_ERR_TOO_LARGE);
  cr_assert_eq(queue_stats(g_q).pending, 0);
}

Test(telemetry_queue, restart_recovers_backlog_and_sequence) {
  for (int i = 0; i < 10; i++) queue_add(g_q, LEN);
  for (int i = 1; i <= 6; i++) cr_assert_eq(iotkit_telemetry_queue_ack(g_q, (uint64_t)i), IOTKIT_OK);
  reopen(IOTKIT_TELEMETRY_SYNC_EVERY_RECORD);
  iotkit_telemetry_queue_stats_t st = queue_stats(g_q);
  cr_assert_eq(st.pending, 4);
  cr_assert_eq(st.corrupt, 0);
  for (int i = 7; i <= 10; i++) queue_expect_next(g_q, (uint64_t)i, LEN);
  queue_expect_empty(g_q);
  cr_assert_gt(queue_add(g_q, LEN), 10, "numbers are never reused");
}

Test(telemetry_queue, sequence_survives_restart_with_empty_queue) {
  uint64_t last = 0;
  for (int i = 0; i < 3; i++) last = queue_add(g_q, LEN);
  for (uint64_t s = 1; s <= last; s++) cr_assert_eq(iotkit_telemetry_queue_ack(g_q, s), IOTKIT_OK);
  reopen(IOTKIT_TELEMETRY_SYNC_EVERY_RECORD);
  cr_assert_eq(queue_stats(g_q).pending, 0);
  cr_assert_gt(queue_add(g_q, LEN), last);
}

Test(telemetry_queue, power_cut_keeps_every_synced_record) {
  for (int i = 0; i < 5; i++) queue_add(g_q, LEN);
  power_cycle(IOTKIT_TELEMETRY_SYNC_EVERY_RECORD);
  cr_assert_eq(queue_stats(g_q).pending, 5);
  for (int i = 1; i <= 5; i++) queue_expect_next(g_q, (uint64_t)i, LEN);
}

Test(telemetry_queue, power_cut_with_sync_never_loses_unsynced_but_not_numbers) {
  reopen(IOTKIT_TELEMETRY_SYNC_NEVER);
  uint64_t last = 0;
  for (int i = 0; i < 5; i++) last = queue_add(g_q, LEN);
  power_cycle(IOTKIT_TELEMETRY_SYNC_NEVER);
  cr_assert_eq(queue_stats(g_q).pending, 0, "the documented loss window of SYNC_NEVER");
  cr_assert_gt(queue_add(g_q, LEN), last, "the counter reservation is durable");
}

Test(telemetry_queue, power_cut_with_sync_interval_loses_only_the_last_interval) {
  reopen(IOTKIT_TELEMETRY_SYNC_INTERVAL);
  queue_add(g_q, LEN);
  queue_add(g_q, LEN);
  cr_assert_eq(iotkit_hal_memory_advance(g_hal, 1000), IOTKIT_OK);
  queue_add(g_q, LEN); /* the interval has passed: this append syncs all three */
  queue_add(g_q, LEN); /* inside the next interval: not yet durable */
  power_cycle(IOTKIT_TELEMETRY_SYNC_INTERVAL);
  cr_assert_eq(queue_stats(g_q).pending, 3);
}

Test(telemetry_queue, poll_syncs_when_idle) {
  reopen(IOTKIT_TELEMETRY_SYNC_INTERVAL);
  queue_add(g_q, LEN);
  cr_assert_eq(iotkit_hal_memory_advance(g_hal, 1000), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_queue_poll(g_q), IOTKIT_OK);
  power_cycle(IOTKIT_TELEMETRY_SYNC_INTERVAL);
  cr_assert_eq(queue_stats(g_q).pending, 1);
}

Test(telemetry_queue, lost_ack_only_duplicates) {
  reopen(IOTKIT_TELEMETRY_SYNC_INTERVAL);
  queue_add(g_q, LEN);
  cr_assert_eq(iotkit_telemetry_queue_sync(g_q), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_queue_ack(g_q, 1), IOTKIT_OK); /* its marker is not synced yet */
  power_cycle(IOTKIT_TELEMETRY_SYNC_INTERVAL);
  queue_expect_next(g_q, 1, LEN);
}

Test(telemetry_queue, failed_append_stores_nothing) {
  uint64_t seq = 0;
  cr_assert_eq(iotkit_telemetry_queue_next_seq(g_q, &seq), IOTKIT_OK);
  cr_assert_eq(iotkit_hal_memory_fail_write(g_hal, 1), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_queue_append(g_q, seq, "abc", 3), IOTKIT_ERR_INJECTED);
  cr_assert_eq(queue_stats(g_q).pending, 0);
  uint64_t next = queue_add(g_q, LEN);
  queue_expect_next(g_q, next, LEN);
}

Test(telemetry_queue, push_sets_the_sequence_in_the_message) {
  iotkit_telemetry_batch_t *b = NULL;
  cr_assert_eq(iotkit_telemetry_batch_new(g_hal, &b), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_batch_add_double(b, "t", "Cel", IOTKIT_TELEMETRY_NOW, 21.5), IOTKIT_OK);
  uint64_t seq = 0;
  cr_assert_eq(iotkit_telemetry_queue_push(g_q, b, IOTKIT_TELEMETRY_FORMAT_SENML_CBOR, &seq), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_batch_seq(b), seq);
  uint64_t got = 0;
  uint8_t *payload = NULL;
  size_t len = 0;
  cr_assert_eq(iotkit_telemetry_queue_next(g_q, &got, &payload, &len), IOTKIT_OK);
  cr_assert_eq(got, seq);
  iotkit_telemetry_batch_t *back = NULL;
  cr_assert_eq(iotkit_telemetry_decode(IOTKIT_TELEMETRY_FORMAT_SENML_CBOR, payload, len, &back), IOTKIT_OK);
  telemetry_assert_equal(b, back, false);
  iotkit_telemetry_batch_free(back);
  iotkit_telemetry_batch_free(b);
  iotkit_free(payload);
}

/* ------------------------------------------------- full-store policies -- */

/* 4096 bytes: segments of 1024, 8 records of 124 bytes each. */
static void small(iotkit_telemetry_full_policy_t full) {
  iotkit_telemetry_queue_close(g_q);
  g_q = queue_open(g_hal, 4096, full, IOTKIT_TELEMETRY_SYNC_EVERY_RECORD);
}

/* Append until the store is full: the count of records it took. */
static uint64_t fill(void) {
  uint64_t n = 0;
  while (queue_stats(g_q).bytes + REC <= 4096) {
    queue_add(g_q, LEN);
    n++;
  }
  return n;
}

Test(telemetry_queue, full_refuse) {
  small(IOTKIT_TELEMETRY_REFUSE);
  uint64_t n = fill();
  uint64_t seq = 0;
  cr_assert_eq(iotkit_telemetry_queue_next_seq(g_q, &seq), IOTKIT_OK);
  uint8_t buf[LEN];
  queue_payload(seq, LEN, buf);
  cr_assert_eq(iotkit_telemetry_queue_append(g_q, seq, buf, LEN), IOTKIT_ERR_QUEUE_FULL);
  iotkit_telemetry_queue_stats_t st = queue_stats(g_q);
  cr_assert_eq(st.refused, 1);
  cr_assert_eq(st.pending, n);
  cr_assert_leq(st.bytes, 4096);
  /* Acknowledging the oldest segment's records makes room again. */
  for (uint64_t s = 1; s <= n; s++) cr_assert_eq(iotkit_telemetry_queue_ack(g_q, s), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_queue_append(g_q, seq, buf, LEN), IOTKIT_OK);
}

Test(telemetry_queue, full_drop_newest) {
  small(IOTKIT_TELEMETRY_DROP_NEWEST);
  uint64_t n = fill();
  uint64_t extra = queue_add(g_q, LEN); /* accepted by the call, discarded by the policy */
  iotkit_telemetry_queue_stats_t st = queue_stats(g_q);
  cr_assert_eq(st.dropped_newest, 1);
  cr_assert_eq(st.pending, n);
  for (uint64_t s = 1; s <= n; s++) queue_expect_next(g_q, s, LEN);
  queue_expect_empty(g_q);
  cr_assert_eq(extra, n + 1);
}

Test(telemetry_queue, full_drop_oldest) {
  small(IOTKIT_TELEMETRY_DROP_OLDEST);
  uint64_t n = fill();
  uint64_t newest = 0;
  for (int i = 0; i < 3; i++) newest = queue_add(g_q, LEN);
  iotkit_telemetry_queue_stats_t st = queue_stats(g_q);
  cr_assert_gt(st.dropped_oldest, 0);
  cr_assert_leq(st.bytes, 4096);
  cr_assert_eq(st.pending, n + 3 - st.dropped_oldest);
  /* The survivors are the newest records, still oldest first. */
  for (uint64_t s = st.dropped_oldest + 1; s <= newest; s++) queue_expect_next(g_q, s, LEN);
  queue_expect_empty(g_q);
  cr_assert_eq(iotkit_telemetry_queue_ack(g_q, 1), IOTKIT_ERR_NOT_FOUND, "dropped");
}

/* ----------------------------------------------------------- arguments -- */

static iotkit_err_t open_with(void (*tweak)(iotkit_telemetry_queue_config_t *)) {
  iotkit_telemetry_queue_config_t cfg;
  iotkit_telemetry_queue_config_init(&cfg);
  cfg.hal = g_hal;
  cfg.name = "other";
  tweak(&cfg);
  iotkit_telemetry_queue_t *q = (iotkit_telemetry_queue_t *)0x1;
  iotkit_err_t rc = iotkit_telemetry_queue_open(&cfg, &q);
  if (rc == IOTKIT_OK) {
    iotkit_telemetry_queue_close(q);
  } else {
    cr_assert_eq(q, (iotkit_telemetry_queue_t *)0x1, "output untouched on failure");
  }
  return rc;
}

static void no_hal(iotkit_telemetry_queue_config_t *c) { c->hal = NULL; }
static void bad_name(iotkit_telemetry_queue_config_t *c) { c->name = "a/b"; }
static void dot_name(iotkit_telemetry_queue_config_t *c) { c->name = ".."; }
static void tiny(iotkit_telemetry_queue_config_t *c) { c->max_bytes = 4095; }
static void zero_interval(iotkit_telemetry_queue_config_t *c) { c->sync_interval_ms = 0; }
static void bad_policy(iotkit_telemetry_queue_config_t *c) { c->full_policy = (iotkit_telemetry_full_policy_t)7; }
static void bad_sync(iotkit_telemetry_queue_config_t *c) { c->sync_policy = (iotkit_telemetry_sync_policy_t)7; }

Test(telemetry_queue, open_without_hal) { cr_assert_eq(open_with(no_hal), IOTKIT_ERR_INVALID_ARG); }
Test(telemetry_queue, open_bad_name) { cr_assert_eq(open_with(bad_name), IOTKIT_ERR_INVALID_ARG); }
Test(telemetry_queue, open_dotdot_name) { cr_assert_eq(open_with(dot_name), IOTKIT_ERR_INVALID_ARG); }
Test(telemetry_queue, open_max_bytes_too_small) { cr_assert_eq(open_with(tiny), IOTKIT_ERR_INVALID_ARG); }
Test(telemetry_queue, open_zero_interval) { cr_assert_eq(open_with(zero_interval), IOTKIT_ERR_INVALID_ARG); }
Test(telemetry_queue, open_bad_full_policy) { cr_assert_eq(open_with(bad_policy), IOTKIT_ERR_INVALID_ARG); }
Test(telemetry_queue, open_bad_sync_policy) { cr_assert_eq(open_with(bad_sync), IOTKIT_ERR_INVALID_ARG); }

Test(telemetry_queue, open_hal_without_segments) {
  iotkit_hal_t hal = *g_hal; /* a hand-filled copy of the operations, minus the logs */
  hal.seg_list = NULL;
  iotkit_telemetry_queue_config_t cfg;
  iotkit_telemetry_queue_config_init(&cfg);
  cfg.hal = &hal;
  iotkit_telemetry_queue_t *q = NULL;
  cr_assert_eq(iotkit_telemetry_queue_open(&cfg, &q), IOTKIT_ERR_UNSUPPORTED);
}

Test(telemetry_queue, open_corrupt_counter) {
  cr_assert_eq(g_hal->kv_set(g_hal->ctx, "other.seq", "abc", 3), IOTKIT_OK);
  iotkit_telemetry_queue_config_t cfg;
  iotkit_telemetry_queue_config_init(&cfg);
  cfg.hal = g_hal;
  cfg.name = "other";
  iotkit_telemetry_queue_t *q = NULL;
  cr_assert_eq(iotkit_telemetry_queue_open(&cfg, &q), IOTKIT_ERR_CORRUPT);
}

Test(telemetry_queue, null_arguments) {
  uint64_t seq;
  uint8_t *p;
  size_t len;
  iotkit_telemetry_queue_stats_t st;
  cr_assert_eq(iotkit_telemetry_queue_open(NULL, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_telemetry_queue_next_seq(NULL, &seq), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_telemetry_queue_next_seq(g_q, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_telemetry_queue_append(NULL, 1, "x", 1), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_telemetry_queue_append(g_q, 1, NULL, 1), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_telemetry_queue_push(g_q, NULL, IOTKIT_TELEMETRY_FORMAT_JSON, &seq), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_telemetry_queue_next(NULL, &seq, &p, &len), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_telemetry_queue_next(g_q, &seq, NULL, &len), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_telemetry_queue_ack(NULL, 1), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_telemetry_queue_requeue(NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_telemetry_queue_poll(NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_telemetry_queue_sync(NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_telemetry_queue_stats(NULL, &st), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_telemetry_queue_stats(g_q, NULL), IOTKIT_ERR_INVALID_ARG);
  iotkit_telemetry_queue_close(NULL);
}

Test(telemetry_queue, config_defaults) {
  iotkit_telemetry_queue_config_t cfg;
  memset(&cfg, 0x5a, sizeof(cfg));
  iotkit_telemetry_queue_config_init(&cfg);
  cr_assert_null(cfg.hal);
  cr_assert_str_eq(cfg.name, "telemetry");
  cr_assert_eq(cfg.max_bytes, 16u * 1024u * 1024u);
  cr_assert_eq(cfg.full_policy, IOTKIT_TELEMETRY_DROP_OLDEST);
  cr_assert_eq(cfg.sync_policy, IOTKIT_TELEMETRY_SYNC_INTERVAL);
  cr_assert_eq(cfg.sync_interval_ms, 1000);
  iotkit_telemetry_queue_config_init(NULL);
}
