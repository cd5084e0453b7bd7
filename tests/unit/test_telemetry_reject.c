/* Every decoder rejects malformed input with a specific code, one test per case. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iotkit/iotkit.h"
#include "telemetry_check.h"

#define J IOTKIT_TELEMETRY_FORMAT_JSON
#define SJ IOTKIT_TELEMETRY_FORMAT_SENML_JSON
#define SC IOTKIT_TELEMETRY_FORMAT_SENML_CBOR
#define BAD IOTKIT_ERR_BAD_ENCODING
#define UNSUP IOTKIT_ERR_UNSUPPORTED

static void reject_text(iotkit_telemetry_format_t f, const char *text, iotkit_err_t want) {
  telemetry_expect_reject(f, text, strlen(text), want);
}

static void reject_hex(const char *hex, iotkit_err_t want) {
  uint8_t buf[256];
  size_t n = telemetry_unhex(hex, buf, sizeof(buf));
  telemetry_expect_reject(SC, buf, n, want);
}

#define POINT(body) "{\"ver\":1,\"points\":[" body "]}"

/* ------------------------------------------------------------ JSON form -- */
Test(reject_json, empty_input) { telemetry_expect_reject(J, "", 0, BAD); }
Test(reject_json, not_json) { reject_text(J, "{\"ver\":1,", BAD); }
Test(reject_json, trailing_garbage) { reject_text(J, POINT("{\"n\":\"a\",\"d\":1}") " x", BAD); }
Test(reject_json, trailing_second_document) { reject_text(J, POINT("") POINT(""), BAD); }
Test(reject_json, root_array) { reject_text(J, "[]", BAD); }
Test(reject_json, missing_version) { reject_text(J, "{\"points\":[]}", BAD); }
Test(reject_json, future_version) { reject_text(J, "{\"ver\":2,\"points\":[]}", UNSUP); }
Test(reject_json, points_not_array) { reject_text(J, "{\"ver\":1,\"points\":{}}", BAD); }
Test(reject_json, point_not_object) { reject_text(J, POINT("7"), BAD); }
Test(reject_json, missing_name) { reject_text(J, POINT("{\"d\":1}"), BAD); }
Test(reject_json, name_not_string) { reject_text(J, POINT("{\"n\":5,\"d\":1}"), BAD); }
Test(reject_json, name_bad_characters) { reject_text(J, POINT("{\"n\":\"a b\",\"d\":1}"), BAD); }
Test(reject_json, unit_not_string) { reject_text(J, POINT("{\"n\":\"a\",\"u\":1,\"d\":1}"), BAD); }
Test(reject_json, no_value) { reject_text(J, POINT("{\"n\":\"a\"}"), BAD); }
Test(reject_json, two_values) { reject_text(J, POINT("{\"n\":\"a\",\"d\":1,\"i\":1}"), BAD); }
Test(reject_json, double_as_string) { reject_text(J, POINT("{\"n\":\"a\",\"d\":\"1\"}"), BAD); }
Test(reject_json, int_fractional) { reject_text(J, POINT("{\"n\":\"a\",\"i\":1.5}"), BAD); }
Test(reject_json, int_beyond_exact_number) { reject_text(J, POINT("{\"n\":\"a\",\"i\":9007199254740994}"), BAD); }
Test(reject_json, int_string_not_decimal) { reject_text(J, POINT("{\"n\":\"a\",\"i\":\"12x\"}"), BAD); }
Test(reject_json, int_string_overflow) { reject_text(J, POINT("{\"n\":\"a\",\"i\":\"9223372036854775808\"}"), BAD); }
Test(reject_json, bool_as_number) { reject_text(J, POINT("{\"n\":\"a\",\"b\":1}"), BAD); }
Test(reject_json, string_as_number) { reject_text(J, POINT("{\"n\":\"a\",\"s\":1}"), BAD); }
Test(reject_json, string_invalid_utf8) { reject_text(J, POINT("{\"n\":\"a\",\"s\":\"\xff\"}"), BAD); }
Test(reject_json, timestamp_fractional) { reject_text(J, POINT("{\"n\":\"a\",\"ts\":1.5,\"d\":1}"), BAD); }
Test(reject_json, tags_not_object) { reject_text(J, POINT("{\"n\":\"a\",\"d\":1,\"tags\":[]}"), BAD); }
Test(reject_json, tag_value_not_string) { reject_text(J, POINT("{\"n\":\"a\",\"d\":1,\"tags\":{\"k\":1}}"), BAD); }
Test(reject_json, tag_key_bad) { reject_text(J, POINT("{\"n\":\"a\",\"d\":1,\"tags\":{\"a b\":\"v\"}}"), BAD); }
Test(reject_json, seq_negative) { reject_text(J, "{\"ver\":1,\"seq\":-1,\"points\":[]}", BAD); }
Test(reject_json, seq_fractional) { reject_text(J, "{\"ver\":1,\"seq\":1.5,\"points\":[]}", BAD); }

Test(reject_json, empty_points_decode_to_empty_batch) {
  iotkit_telemetry_batch_t *b = telemetry_decode_text(J, "{\"ver\":1,\"seq\":3,\"points\":[]}");
  cr_assert_eq(iotkit_telemetry_batch_count(b), 0);
  cr_assert_eq(iotkit_telemetry_batch_seq(b), 3);
  iotkit_telemetry_batch_free(b);
}

Test(reject_json, null_arguments) {
  iotkit_telemetry_batch_t *b = NULL;
  cr_assert_eq(iotkit_telemetry_decode(J, NULL, 3, &b), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_telemetry_decode(J, "{}", 2, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_telemetry_decode((iotkit_telemetry_format_t)9, "{}", 2, &b), IOTKIT_ERR_INVALID_ARG);
}

/* ------------------------------------------------------------ SenML JSON -- */
Test(reject_senml_json, root_object) { reject_text(SJ, "{\"n\":\"a\",\"v\":1}", BAD); }
Test(reject_senml_json, record_not_object) { reject_text(SJ, "[1]", BAD); }
Test(reject_senml_json, value_as_string) { reject_text(SJ, "[{\"n\":\"a\",\"v\":\"1\"}]", BAD); }
Test(reject_senml_json, boolean_as_number) { reject_text(SJ, "[{\"n\":\"a\",\"vb\":1}]", BAD); }
Test(reject_senml_json, name_as_number) { reject_text(SJ, "[{\"n\":1,\"v\":1}]", BAD); }
Test(reject_senml_json, base_name_as_number) { reject_text(SJ, "[{\"bn\":1,\"n\":\"a\",\"v\":1}]", BAD); }
Test(reject_senml_json, time_as_string) { reject_text(SJ, "[{\"n\":\"a\",\"t\":\"now\",\"v\":1}]", BAD); }
Test(reject_senml_json, two_values) { reject_text(SJ, "[{\"n\":\"a\",\"v\":1,\"vs\":\"x\"}]", BAD); }
Test(reject_senml_json, no_value) { reject_text(SJ, "[{\"n\":\"a\"}]", BAD); }
Test(reject_senml_json, no_name) { reject_text(SJ, "[{\"v\":1}]", BAD); }
Test(reject_senml_json, name_bad_first_character) { reject_text(SJ, "[{\"n\":\"-a\",\"v\":1}]", BAD); }
Test(reject_senml_json, name_bad_character) { reject_text(SJ, "[{\"n\":\"a b\",\"v\":1}]", BAD); }
Test(reject_senml_json, time_out_of_range) { reject_text(SJ, "[{\"n\":\"a\",\"t\":1e300,\"v\":1}]", BAD); }
Test(reject_senml_json, version_not_integer) { reject_text(SJ, "[{\"bver\":5.5,\"n\":\"a\",\"v\":1}]", BAD); }
Test(reject_senml_json, version_too_new) { reject_text(SJ, "[{\"bver\":11,\"n\":\"a\",\"v\":1}]", UNSUP); }
Test(reject_senml_json, must_understand_label) { reject_text(SJ, "[{\"n\":\"a\",\"v\":1,\"x_\":1}]", UNSUP); }
Test(reject_senml_json, data_value) { reject_text(SJ, "[{\"n\":\"a\",\"vd\":\"aGkgCg\"}]", UNSUP); }
Test(reject_senml_json, sum_only) { reject_text(SJ, "[{\"n\":\"a\",\"s\":12}]", UNSUP); }
Test(reject_senml_json, trailing_garbage) { reject_text(SJ, "[] []", BAD); }
Test(reject_senml_json, seq_negative) { reject_text(SJ, "[{\"seq\":-3,\"n\":\"a\",\"v\":1}]", BAD); }

Test(reject_senml_json, unknown_labels_are_ignored) {
  iotkit_telemetry_batch_t *b = telemetry_decode_text(SJ, "[{\"n\":\"a\",\"v\":1,\"foo\":{\"x\":[1]}}]");
  cr_assert_eq(iotkit_telemetry_batch_count(b), 1);
  iotkit_telemetry_batch_free(b);
}

Test(reject_senml_json, base_value_is_added) {
  iotkit_telemetry_batch_t *b = telemetry_decode_text(SJ, "[{\"bv\":100,\"n\":\"a\",\"v\":1.5},{\"n\":\"b\",\"v\":-1}]");
  cr_assert_eq(telemetry_point(b, 0)->value.d, 101.5);
  cr_assert_eq(telemetry_point(b, 1)->value.d, 99);
  iotkit_telemetry_batch_free(b);
}

/* ------------------------------------------------------------ SenML CBOR -- */
Test(reject_senml_cbor, empty_input) { telemetry_expect_reject(SC, "", 0, BAD); }
Test(reject_senml_cbor, root_map) { reject_hex("a2 00 61 61 02 01", BAD); }
Test(reject_senml_cbor, record_not_map) { reject_hex("81 01", BAD); }
Test(reject_senml_cbor, truncated_string) { reject_hex("81 a2 00 65 61 62 02 01", BAD); }
Test(reject_senml_cbor, reserved_additional_info) { reject_hex("81 a2 00 61 61 02 1c", BAD); }
Test(reject_senml_cbor, float_key) { reject_hex("81 a2 fa 00 00 00 00 61 61 02 01", BAD); }
Test(reject_senml_cbor, name_as_bytes) { reject_hex("81 a2 00 41 61 02 01", BAD); }
Test(reject_senml_cbor, name_invalid_utf8) { reject_hex("81 a2 00 61 ff 02 01", BAD); }
Test(reject_senml_cbor, name_with_nul) { reject_hex("81 a2 00 62 61 00 02 01", BAD); }
Test(reject_senml_cbor, name_indefinite_string) { reject_hex("81 a2 00 7f 61 61 ff 02 01", BAD); }
Test(reject_senml_cbor, value_as_text) { reject_hex("81 a2 00 61 61 02 61 31", BAD); }
Test(reject_senml_cbor, bool_value_as_int) { reject_hex("81 a2 00 61 61 04 01", BAD); }
Test(reject_senml_cbor, no_value) { reject_hex("81 a1 00 61 61", BAD); }
Test(reject_senml_cbor, decimal_fraction) { reject_hex("81 a2 00 61 61 02 c4 82 21 19 6a b3", UNSUP); }
Test(reject_senml_cbor, data_value) { reject_hex("81 a2 00 61 61 08 42 68 69", UNSUP); }
Test(reject_senml_cbor, version_too_new) { reject_hex("81 a3 20 0b 00 61 61 02 01", UNSUP); }
Test(reject_senml_cbor, nan_value) { reject_hex("81 a2 00 61 61 02 f9 7e 00", UNSUP); }
Test(reject_senml_cbor, tags_not_map) { reject_hex("81 a3 00 61 61 02 01 64 74 61 67 73 01", BAD); }

Test(reject_senml_cbor, integer_value_stays_integer) {
  uint8_t buf[16];
  size_t n = telemetry_unhex("81 a2 00 61 61 02 3b 7f ff ff ff ff ff ff ff", buf, sizeof(buf));
  iotkit_telemetry_batch_t *b = NULL;
  cr_assert_eq(iotkit_telemetry_decode(SC, buf, n, &b), IOTKIT_OK);
  cr_assert_eq(telemetry_point(b, 0)->type, IOTKIT_TELEMETRY_INT);
  cr_assert_eq(telemetry_point(b, 0)->value.i, INT64_MIN);
  iotkit_telemetry_batch_free(b);
}

Test(reject_senml_cbor, huge_unsigned_becomes_double) {
  uint8_t buf[16];
  size_t n = telemetry_unhex("81 a2 00 61 61 02 1b ff ff ff ff ff ff ff ff", buf, sizeof(buf));
  iotkit_telemetry_batch_t *b = NULL;
  cr_assert_eq(iotkit_telemetry_decode(SC, buf, n, &b), IOTKIT_OK);
  cr_assert_eq(telemetry_point(b, 0)->type, IOTKIT_TELEMETRY_DOUBLE);
  cr_assert_eq(telemetry_point(b, 0)->value.d, 18446744073709551615.0);
  iotkit_telemetry_batch_free(b);
}

/* Found by tests/fuzz/fuzz_telemetry_decode: libcbor allocates what an array or map
   head declares before reading the items, so a 5-byte input asked for 2^32 items.
   Declared sizes are now checked against the bytes left first, and nesting is bounded. */
Test(reject_senml_cbor, array_head_claims_2e32_items) { reject_hex("9a ff ff ff ff", BAD); }
Test(reject_senml_cbor, array_head_claims_more_items_than_bytes) { reject_hex("83 a0 a0", BAD); }
Test(reject_senml_cbor, map_head_claims_2e32_pairs) { reject_hex("81 ba ff ff ff ff 00 01", BAD); }
Test(reject_senml_cbor, string_head_claims_2e32_bytes) { reject_hex("81 a1 00 7a ff ff ff ff 61", BAD); }
Test(reject_senml_cbor, array_head_claims_2e64_items) { reject_hex("9b ff ff ff ff ff ff ff ff", BAD); }
Test(reject_senml_cbor, indefinite_array_without_break) { reject_hex("9f a0", BAD); }
Test(reject_senml_cbor, lone_break) { reject_hex("ff", BAD); }
Test(reject_senml_cbor, trailing_bytes) { reject_hex("80 00", BAD); }
/* @p head, then @p count times @p nest, then "01", decoded and refused with @p want. */
static void reject_nested(const char *head, const char *nest, unsigned count, iotkit_err_t want) {
  char hex[3 * (IOTKIT_TELEMETRY_MAX_CBOR_DEPTH + 4)];
  snprintf(hex, sizeof hex, "%s", head);
  for (unsigned i = 0; i < count; i++) strcat(hex, nest);
  strcat(hex, "01");
  reject_hex(hex, want);
}
Test(reject_senml_cbor, nesting_deeper_than_the_limit) {
  reject_nested("", "81 ", IOTKIT_TELEMETRY_MAX_CBOR_DEPTH + 1, IOTKIT_ERR_TOO_LARGE);
}
/* IOTKIT_TELEMETRY_MAX_CBOR_DEPTH arrays pass the check; the decoder then finds no record map. */
Test(reject_senml_cbor, nesting_at_the_limit_is_read) { reject_nested("", "81 ", IOTKIT_TELEMETRY_MAX_CBOR_DEPTH, BAD); }
Test(reject_senml_cbor, tags_deeper_than_the_limit) {
  reject_nested("81 ", "c1 ", IOTKIT_TELEMETRY_MAX_CBOR_DEPTH + 1, IOTKIT_ERR_TOO_LARGE);
}
Test(reject_senml_cbor, more_points_than_the_limit) {
  /* Each record present (an empty map): the size check passes, the points limit refuses. */
  size_t n = 5 + IOTKIT_TELEMETRY_MAX_POINTS + 1;
  uint8_t *buf = malloc(n);
  cr_assert_not_null(buf);
  uint32_t count = IOTKIT_TELEMETRY_MAX_POINTS + 1;
  buf[0] = 0x9a;
  for (int i = 0; i < 4; i++) buf[1 + i] = (uint8_t)(count >> (24 - 8 * i));
  memset(buf + 5, 0xa0, n - 5);
  telemetry_expect_reject(SC, buf, n, IOTKIT_ERR_TOO_LARGE);
  free(buf);
}
/* cJSON refuses nesting past CJSON_NESTING_LIMIT (1000): no recursion without bound. */
static char *nested_arrays(size_t depth, const char *before, const char *after) {
  char *text = malloc(strlen(before) + 2 * depth + strlen(after) + 1);
  cr_assert_not_null(text);
  size_t n = strlen(before);
  memcpy(text, before, n);
  for (size_t i = 0; i < depth; i++) text[n++] = '[';
  for (size_t i = 0; i < depth; i++) text[n++] = ']';
  strcpy(text + n, after);
  return text;
}
Test(reject_json, nesting_beyond_cjson_limit) {
  char *text = nested_arrays(1200, "{\"ver\":1,\"points\":[],\"x\":", "}");
  reject_text(J, text, BAD);
  free(text);
}
Test(reject_senml_json, nesting_beyond_cjson_limit) {
  char *text = nested_arrays(1200, "", "");
  reject_text(SJ, text, BAD);
  free(text);
}
