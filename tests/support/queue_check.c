/* Helpers for the durable queue tests (see queue_check.h). */
#include "queue_check.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void queue_payload(uint64_t seq, size_t len, uint8_t *out) {
  memset(out, '.', len);
  char head[32];
  int n = snprintf(head, sizeof(head), "record-%llu", (unsigned long long)seq);
  memcpy(out, head, (size_t)n < len ? (size_t)n : len);
}

iotkit_telemetry_queue_t *queue_open(const iotkit_hal_t *hal, uint64_t max_bytes, iotkit_telemetry_full_policy_t full,
                                     iotkit_telemetry_sync_policy_t sync) {
  iotkit_telemetry_queue_config_t cfg;
  iotkit_telemetry_queue_config_init(&cfg);
  cfg.hal = hal;
  cfg.max_bytes = max_bytes;
  cfg.full_policy = full;
  cfg.sync_policy = sync;
  iotkit_telemetry_queue_t *q = NULL;
  iotkit_err_t rc = iotkit_telemetry_queue_open(&cfg, &q);
  cr_assert_eq(rc, IOTKIT_OK, "queue_open: %s", iotkit_err_name(rc));
  return q;
}

uint64_t queue_add(iotkit_telemetry_queue_t *q, size_t len) {
  uint64_t seq = 0;
  cr_assert_eq(iotkit_telemetry_queue_next_seq(q, &seq), IOTKIT_OK);
  uint8_t *buf = malloc(len);
  queue_payload(seq, len, buf);
  iotkit_err_t rc = iotkit_telemetry_queue_append(q, seq, buf, len);
  free(buf);
  cr_assert_eq(rc, IOTKIT_OK, "append %llu: %s", (unsigned long long)seq, iotkit_err_name(rc));
  return seq;
}

void queue_expect_next(iotkit_telemetry_queue_t *q, uint64_t want, size_t len) {
  uint64_t seq = 0;
  uint8_t *payload = NULL;
  size_t got = 0;
  iotkit_err_t rc = iotkit_telemetry_queue_next(q, &seq, &payload, &got);
  cr_assert_eq(rc, IOTKIT_OK, "next (want %llu): %s", (unsigned long long)want, iotkit_err_name(rc));
  cr_assert_eq(seq, want, "next gave %llu, want %llu", (unsigned long long)seq, (unsigned long long)want);
  cr_assert_eq(got, len);
  uint8_t *exp = malloc(len);
  queue_payload(want, len, exp);
  cr_assert(memcmp(payload, exp, len) == 0, "payload of %llu", (unsigned long long)want);
  free(exp);
  iotkit_free(payload);
}

void queue_expect_empty(iotkit_telemetry_queue_t *q) {
  uint64_t seq = 0;
  uint8_t *payload = NULL;
  size_t len = 0;
  cr_assert_eq(iotkit_telemetry_queue_next(q, &seq, &payload, &len), IOTKIT_ERR_NOT_FOUND, "got %llu",
               (unsigned long long)seq);
  cr_assert_null(payload);
}

iotkit_telemetry_queue_stats_t queue_stats(iotkit_telemetry_queue_t *q) {
  iotkit_telemetry_queue_stats_t st;
  cr_assert_eq(iotkit_telemetry_queue_stats(q, &st), IOTKIT_OK);
  return st;
}
