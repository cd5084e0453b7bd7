/* Every encoding round-trips every point type; exact bytes of the documented examples. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "iotkit/iotkit.h"
#include "telemetry_check.h"

#define TS 1767225600123

static iotkit_telemetry_batch_t *rich_batch(void) {
  iotkit_telemetry_batch_t *b = NULL;
  cr_assert_eq(iotkit_telemetry_batch_new(NULL, &b), IOTKIT_OK);
  const double doubles[] = {0.0, -0.0, 0.1, 21.53, -1e300, 5e-324, 1.5, 3.4028234663852886e38, 16777217.0};
  for (size_t i = 0; i < sizeof(doubles) / sizeof(doubles[0]); i++)
    cr_assert_eq(iotkit_telemetry_batch_add_double(b, "d", "Cel", TS + (int64_t)i, doubles[i]), IOTKIT_OK);
  const int64_t ints[] = {0, 1, -1, 23, -24, 255, 65536, INT64_MAX, INT64_MIN, (INT64_C(1) << 53) + 1};
  for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
    cr_assert_eq(iotkit_telemetry_batch_add_int(b, "i", NULL, TS - 60000, ints[i]), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_batch_add_bool(b, "door/open", NULL, TS, true), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_batch_add_bool(b, "door/locked", NULL, 0, false), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_batch_add_string(b, "label", NULL, TS, "quote\" back\\ nl\n \xc3\xbc \xf0\x9f\x98\x80"),
               IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_batch_add_string(b, "empty", "", TS, ""), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_batch_tag(b, "room", "lab \xe2\x82\xac"), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_batch_tag(b, "floor", "2"), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_batch_set_seq(b, 123456789), IOTKIT_OK);
  return b;
}

Test(telemetry_codec, json_roundtrip) {
  iotkit_telemetry_batch_t *b = rich_batch();
  telemetry_assert_roundtrip(b, IOTKIT_TELEMETRY_FORMAT_JSON);
  iotkit_telemetry_batch_free(b);
}

Test(telemetry_codec, senml_json_roundtrip) {
  iotkit_telemetry_batch_t *b = rich_batch();
  telemetry_assert_roundtrip(b, IOTKIT_TELEMETRY_FORMAT_SENML_JSON);
  iotkit_telemetry_batch_free(b);
}

Test(telemetry_codec, senml_cbor_roundtrip) {
  iotkit_telemetry_batch_t *b = rich_batch();
  telemetry_assert_roundtrip(b, IOTKIT_TELEMETRY_FORMAT_SENML_CBOR);
  iotkit_telemetry_batch_free(b);
}

Test(telemetry_codec, roundtrip_without_seq_and_times) {
  iotkit_telemetry_batch_t *b = NULL;
  cr_assert_eq(iotkit_telemetry_batch_new(NULL, &b), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_batch_add_double(b, "x", NULL, 0, 2.5), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_batch_add_double(b, "y", NULL, TS, 3.5), IOTKIT_OK);
  for (int f = 0; f < 3; f++) telemetry_assert_roundtrip(b, (iotkit_telemetry_format_t)f);
  iotkit_telemetry_batch_free(b);
}

Test(telemetry_codec, many_points_roundtrip) {
  iotkit_telemetry_batch_t *b = NULL;
  cr_assert_eq(iotkit_telemetry_batch_new(NULL, &b), IOTKIT_OK);
  for (int i = 0; i < 2000; i++)
    cr_assert_eq(iotkit_telemetry_batch_add_double(b, "series", "V", TS + i * 250, i * 0.01), IOTKIT_OK);
  for (int f = 0; f < 3; f++) telemetry_assert_roundtrip(b, (iotkit_telemetry_format_t)f);
  iotkit_telemetry_batch_free(b);
}

static void expect_encoding(iotkit_telemetry_batch_t *b, iotkit_telemetry_format_t f, const char *want) {
  uint8_t *out = NULL;
  size_t len = 0;
  cr_assert_eq(iotkit_telemetry_encode(b, f, &out, &len), IOTKIT_OK);
  cr_assert_eq(len, strlen(want), "%s: got %.*s", iotkit_telemetry_format_name(f), (int)len, (const char *)out);
  cr_assert_str_eq((const char *)out, want);
  iotkit_free(out);
}

/* The examples of docs/protocol.md, "Telemetry encodings" (exact). */
static iotkit_telemetry_batch_t *doc_batch(void) {
  iotkit_telemetry_batch_t *b = NULL;
  cr_assert_eq(iotkit_telemetry_batch_new(NULL, &b), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_batch_set_seq(b, 42), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_batch_add_double(b, "temperature", "Cel", 1767225600000, 21.5), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_batch_tag(b, "room", "lab"), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_batch_add_int(b, "count", NULL, 1767225600500, 17), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_batch_add_bool(b, "door", NULL, 1767225600500, true), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_batch_add_string(b, "mode", NULL, 1767225601000, "eco"), IOTKIT_OK);
  return b;
}

Test(telemetry_codec, json_documented_example) {
  iotkit_telemetry_batch_t *b = doc_batch();
  expect_encoding(b, IOTKIT_TELEMETRY_FORMAT_JSON,
                  "{\"ver\":1,\"seq\":42,\"points\":["
                  "{\"n\":\"temperature\",\"u\":\"Cel\",\"ts\":1767225600000,\"d\":21.5,\"tags\":{\"room\":\"lab\"}},"
                  "{\"n\":\"count\",\"ts\":1767225600500,\"i\":17},"
                  "{\"n\":\"door\",\"ts\":1767225600500,\"b\":true},"
                  "{\"n\":\"mode\",\"ts\":1767225601000,\"s\":\"eco\"}]}");
  iotkit_telemetry_batch_free(b);
}

Test(telemetry_codec, senml_json_documented_example) {
  iotkit_telemetry_batch_t *b = doc_batch();
  expect_encoding(b, IOTKIT_TELEMETRY_FORMAT_SENML_JSON,
                  "[{\"bt\":1767225600,\"seq\":42,\"n\":\"temperature\",\"u\":\"Cel\",\"v\":21.5,"
                  "\"tags\":{\"room\":\"lab\"}},"
                  "{\"n\":\"count\",\"t\":0.5,\"v\":17},"
                  "{\"n\":\"door\",\"t\":0.5,\"vb\":true},"
                  "{\"n\":\"mode\",\"t\":1,\"vs\":\"eco\"}]");
  iotkit_telemetry_batch_free(b);
}

Test(telemetry_codec, senml_cbor_documented_example) {
  iotkit_telemetry_batch_t *b = doc_batch();
  uint8_t *out = NULL;
  size_t len = 0;
  cr_assert_eq(iotkit_telemetry_encode(b, IOTKIT_TELEMETRY_FORMAT_SENML_CBOR, &out, &len), IOTKIT_OK);
  uint8_t want[256];
  size_t n = telemetry_unhex("84 a6 22 fb 41 da 55 6e 40 00 00 00 63 73 65 71 18 2a 00 6b 74 65 6d 70 65 72 61 74"
                             "75 72 65 01 63 43 65 6c 02 fa 41 ac 00 00 64 74 61 67 73 a1 64 72 6f 6f 6d 63 6c 61"
                             "62 a3 00 65 63 6f 75 6e 74 06 fa 3f 00 00 00 02 11 a3 00 64 64 6f 6f 72 06 fa 3f 00"
                             "00 00 04 f5 a3 00 64 6d 6f 64 65 06 fa 3f 80 00 00 03 63 65 63 6f",
                             want, sizeof(want));
  cr_assert_eq(len, n, "length %zu, want %zu", len, n);
  cr_assert(memcmp(out, want, n) == 0, "bytes differ");
  iotkit_free(out);
  iotkit_telemetry_batch_free(b);
}
