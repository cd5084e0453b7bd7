/* Helpers for the durable queue tests. */
#ifndef QUEUE_CHECK_H
#define QUEUE_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "iotkit/iotkit.h"

/* Payload of record @seq: "record-<seq>" padded with '.' to @len bytes (at least 16). */
void queue_payload(uint64_t seq, size_t len, uint8_t *out);

/* Open a queue on @hal (asserts success). */
iotkit_telemetry_queue_t *queue_open(const iotkit_hal_t *hal, uint64_t max_bytes, iotkit_telemetry_full_policy_t full,
                                     iotkit_telemetry_sync_policy_t sync);

/* Take a number and append its payload of @len bytes (asserts success); returns the number. */
uint64_t queue_add(iotkit_telemetry_queue_t *q, size_t len);

/* Hand out the next record and check that it is @want with its payload of @len bytes. */
void queue_expect_next(iotkit_telemetry_queue_t *q, uint64_t want, size_t len);

/* Nothing left to hand out. */
void queue_expect_empty(iotkit_telemetry_queue_t *q);

iotkit_telemetry_queue_stats_t queue_stats(iotkit_telemetry_queue_t *q);

#endif
