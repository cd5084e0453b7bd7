/* Helpers for the telemetry tests: compare batches, decode strings and hex. */
#ifndef TELEMETRY_CHECK_H
#define TELEMETRY_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotkit/iotkit.h"

/* Assert that @a and @b hold the same points and seq. With @ints_as_doubles, an
   integer point of @a may come back from @b as the same double (SenML JSON). */
void telemetry_assert_equal(const iotkit_telemetry_batch_t *a, const iotkit_telemetry_batch_t *b,
                            bool ints_as_doubles);

/* Decode NUL-terminated @text in @format (asserts success). */
iotkit_telemetry_batch_t *telemetry_decode_text(iotkit_telemetry_format_t format, const char *text);

/* Decoding @len bytes of @format must fail with @want. */
void telemetry_expect_reject(iotkit_telemetry_format_t format, const void *buf, size_t len, iotkit_err_t want);

/* Decode hex digits (whitespace ignored) into @out; returns the byte count (asserts on bad hex or overflow). */
size_t telemetry_unhex(const char *hex, uint8_t *out, size_t cap);

/* Encode @b in @format, decode it back, and assert equality; returns the decoded copy's seq. */
void telemetry_assert_roundtrip(const iotkit_telemetry_batch_t *b, iotkit_telemetry_format_t format);

/* The point at @i (asserts it exists). */
const iotkit_telemetry_point_t *telemetry_point(const iotkit_telemetry_batch_t *b, size_t i);

#endif
