/* Helpers for the telemetry tests (see telemetry_check.h). */
#include "telemetry_check.h"

#include <criterion/criterion.h>
#include <ctype.h>
#include <string.h>

const iotkit_telemetry_point_t *telemetry_point(const iotkit_telemetry_batch_t *b, size_t i) {
  const iotkit_telemetry_point_t *p = NULL;
  cr_assert_eq(iotkit_telemetry_batch_get(b, i, &p), IOTKIT_OK, "point %zu exists", i);
  return p;
}

static void assert_same_str(const char *a, const char *b, const char *what, size_t i) {
  if (!a || !b) {
    cr_assert(a == b, "point %zu: %s %s vs %s", i, what, a ? a : "(null)", b ? b : "(null)");
    return;
  }
  cr_assert_str_eq(a, b, "point %zu: %s", i, what);
}

static void assert_same_value(const iotkit_telemetry_point_t *a, const iotkit_telemetry_point_t *b, size_t i,
                              bool ints_as_doubles) {
  if (ints_as_doubles && a->type == IOTKIT_TELEMETRY_INT && b->type == IOTKIT_TELEMETRY_DOUBLE) {
    cr_assert(b->value.d == (double)a->value.i, "point %zu: int %lld as double", i, (long long)a->value.i);
    return;
  }
  cr_assert_eq(a->type, b->type, "point %zu: type", i);
  switch (a->type) {
    case IOTKIT_TELEMETRY_DOUBLE:
      cr_assert(memcmp(&a->value.d, &b->value.d, sizeof(double)) == 0, "point %zu: %.17g vs %.17g", i,
                a->value.d, b->value.d);
      break;
    case IOTKIT_TELEMETRY_INT:
      cr_assert_eq(a->value.i, b->value.i, "point %zu: int", i);
      break;
    case IOTKIT_TELEMETRY_BOOL:
      cr_assert_eq(a->value.b, b->value.b, "point %zu: bool", i);
      break;
    default:
      assert_same_str(a->value.s, b->value.s, "string", i);
  }
}

void telemetry_assert_equal(const iotkit_telemetry_batch_t *a, const iotkit_telemetry_batch_t *b,
                            bool ints_as_doubles) {
  cr_assert_eq(iotkit_telemetry_batch_count(a), iotkit_telemetry_batch_count(b), "point count");
  cr_assert_eq(iotkit_telemetry_batch_seq(a), iotkit_telemetry_batch_seq(b), "seq");
  for (size_t i = 0; i < iotkit_telemetry_batch_count(a); i++) {
    const iotkit_telemetry_point_t *x = telemetry_point(a, i), *y = telemetry_point(b, i);
    assert_same_str(x->name, y->name, "name", i);
    assert_same_str(x->unit, y->unit, "unit", i);
    cr_assert_eq(x->ts_ms, y->ts_ms, "point %zu: ts %lld vs %lld", i, (long long)x->ts_ms, (long long)y->ts_ms);
    assert_same_value(x, y, i, ints_as_doubles);
    cr_assert_eq(x->tag_count, y->tag_count, "point %zu: tag count", i);
    for (size_t k = 0; k < x->tag_count; k++) {
      assert_same_str(x->tags[k].key, y->tags[k].key, "tag key", i);
      assert_same_str(x->tags[k].value, y->tags[k].value, "tag value", i);
    }
  }
}

iotkit_telemetry_batch_t *telemetry_decode_text(iotkit_telemetry_format_t format, const char *text) {
  iotkit_telemetry_batch_t *b = NULL;
  iotkit_err_t rc = iotkit_telemetry_decode(format, text, strlen(text), &b);
  cr_assert_eq(rc, IOTKIT_OK, "decode: %s", iotkit_err_name(rc));
  return b;
}

void telemetry_expect_reject(iotkit_telemetry_format_t format, const void *buf, size_t len, iotkit_err_t want) {
  iotkit_telemetry_batch_t *b = (iotkit_telemetry_batch_t *)0x1;
  iotkit_err_t rc = iotkit_telemetry_decode(format, buf, len, &b);
  cr_assert_eq(rc, want, "decode gave %s, want %s", iotkit_err_name(rc), iotkit_err_name(want));
  cr_assert_eq(b, (iotkit_telemetry_batch_t *)0x1, "output untouched on failure");
}

size_t telemetry_unhex(const char *hex, uint8_t *out, size_t cap) {
  size_t n = 0;
  int hi = -1;
  for (; *hex; hex++) {
    if (isspace((unsigned char)*hex)) continue;
    cr_assert(isxdigit((unsigned char)*hex), "bad hex digit %c", *hex);
    int d = isdigit((unsigned char)*hex) ? *hex - '0' : tolower((unsigned char)*hex) - 'a' + 10;
    if (hi < 0) {
      hi = d;
      continue;
    }
    cr_assert_lt(n, cap);
    out[n++] = (uint8_t)(hi << 4 | d);
    hi = -1;
  }
  cr_assert_eq(hi, -1, "odd hex digit count");
  return n;
}

void telemetry_assert_roundtrip(const iotkit_telemetry_batch_t *b, iotkit_telemetry_format_t format) {
  uint8_t *buf = NULL;
  size_t len = 0;
  cr_assert_eq(iotkit_telemetry_encode(b, format, &buf, &len), IOTKIT_OK);
  iotkit_telemetry_batch_t *back = NULL;
  iotkit_err_t rc = iotkit_telemetry_decode(format, buf, len, &back);
  cr_assert_eq(rc, IOTKIT_OK, "decode of own %s output: %s", iotkit_telemetry_format_name(format),
               iotkit_err_name(rc));
  telemetry_assert_equal(b, back, format == IOTKIT_TELEMETRY_FORMAT_SENML_JSON);
  iotkit_telemetry_batch_free(back);
  iotkit_free(buf);
}
