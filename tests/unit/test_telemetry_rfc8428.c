/* RFC 8428's own examples (sections 5.1.1 to 5.1.7 and 6), decoded, resolved and round-tripped. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "iotkit/iotkit.h"
#include "telemetry_check.h"

#define SJ IOTKIT_TELEMETRY_FORMAT_SENML_JSON
#define DEV "urn:dev:ow:10e2073a01080063"

/* RFC 8428 section 5.1.1. */
static const char *const k_single = "[\n  {\"n\":\"urn:dev:ow:10e2073a01080063\",\"u\":\"Cel\",\"v\":23.1}\n]";

/* RFC 8428 section 5.1.2, first example. */
static const char *const k_multi =
    "[\n  {\"bn\":\"urn:dev:ow:10e2073a01080063:\",\"n\":\"voltage\",\"u\":\"V\",\"v\":120.1},\n"
    "  {\"n\":\"current\",\"u\":\"A\",\"v\":1.2}\n]";

/* RFC 8428 section 5.1.2, second example (also the CBOR example of section 6). */
static const char *const k_multi_time =
    "[\n{\"bn\":\"urn:dev:ow:10e2073a0108006:\",\"bt\":1.276020076001e+09,\n"
    " \"bu\":\"A\",\"bver\":5,\n \"n\":\"voltage\",\"u\":\"V\",\"v\":120.1},\n"
    "{\"n\":\"current\",\"t\":-5,\"v\":1.2},\n{\"n\":\"current\",\"t\":-4,\"v\":1.3},\n"
    "{\"n\":\"current\",\"t\":-3,\"v\":1.4},\n{\"n\":\"current\",\"t\":-2,\"v\":1.5},\n"
    "{\"n\":\"current\",\"t\":-1,\"v\":1.6},\n{\"n\":\"current\",\"v\":1.7}\n]";

/* RFC 8428 section 5.1.3. */
static const char *const k_measurements =
    "[{\"bn\":\"urn:dev:ow:10e2073a01080063\",\"bt\":1.320067464e+09,\"bu\":\"%RH\",\"v\":20},"
    "{\"u\":\"lon\",\"v\":24.30621},{\"u\":\"lat\",\"v\":60.07965},{\"t\":60,\"v\":20.3},"
    "{\"u\":\"lon\",\"t\":60,\"v\":24.30622},{\"u\":\"lat\",\"t\":60,\"v\":60.07965},{\"t\":120,\"v\":20.7},"
    "{\"u\":\"lon\",\"t\":120,\"v\":24.30623},{\"u\":\"lat\",\"t\":120,\"v\":60.07966},"
    "{\"u\":\"%EL\",\"t\":150,\"v\":98},{\"t\":180,\"v\":21.2},{\"u\":\"lon\",\"t\":180,\"v\":24.30628},"
    "{\"u\":\"lat\",\"t\":180,\"v\":60.07967}]";

/* RFC 8428 section 5.1.4: the same, resolved. */
static const char *const k_resolved =
    "[{\"n\":\"" DEV "\",\"u\":\"%RH\",\"t\":1.320067464e+09,\"v\":20},"
    "{\"n\":\"" DEV "\",\"u\":\"lon\",\"t\":1.320067464e+09,\"v\":24.30621},"
    "{\"n\":\"" DEV "\",\"u\":\"lat\",\"t\":1.320067464e+09,\"v\":60.07965},"
    "{\"n\":\"" DEV "\",\"u\":\"%RH\",\"t\":1.320067524e+09,\"v\":20.3},"
    "{\"n\":\"" DEV "\",\"u\":\"lon\",\"t\":1.320067524e+09,\"v\":24.30622},"
    "{\"n\":\"" DEV "\",\"u\":\"lat\",\"t\":1.320067524e+09,\"v\":60.07965},"
    "{\"n\":\"" DEV "\",\"u\":\"%RH\",\"t\":1.320067584e+09,\"v\":20.7},"
    "{\"n\":\"" DEV "\",\"u\":\"lon\",\"t\":1.320067584e+09,\"v\":24.30623},"
    "{\"n\":\"" DEV "\",\"u\":\"lat\",\"t\":1.320067584e+09,\"v\":60.07966},"
    "{\"n\":\"" DEV "\",\"u\":\"%EL\",\"t\":1.320067614e+09,\"v\":98},"
    "{\"n\":\"" DEV "\",\"u\":\"%RH\",\"t\":1.320067644e+09,\"v\":21.2},"
    "{\"n\":\"" DEV "\",\"u\":\"lon\",\"t\":1.320067644e+09,\"v\":24.30628},"
    "{\"n\":\"" DEV "\",\"u\":\"lat\",\"t\":1.320067644e+09,\"v\":60.07967}]";

/* RFC 8428 section 5.1.5. */
static const char *const k_types =
    "[{\"bn\":\"urn:dev:ow:10e2073a01080063:\",\"n\":\"temp\",\"u\":\"Cel\",\"v\":23.1},"
    "{\"n\":\"label\",\"vs\":\"Machine Room\"},{\"n\":\"open\",\"vb\":false},"
    "{\"n\":\"nfv-reader\",\"vd\":\"aGkgCg\"}]";

/* RFC 8428 section 5.1.6. */
static const char *const k_collection =
    "[{\"bn\":\"2001:db8::2/\",\"bt\":1.320078429e+09,\"n\":\"temperature\",\"u\":\"Cel\",\"v\":25.2},"
    "{\"n\":\"humidity\",\"u\":\"%RH\",\"v\":30},"
    "{\"bn\":\"2001:db8::1/\",\"n\":\"temperature\",\"u\":\"Cel\",\"v\":12.3},"
    "{\"n\":\"humidity\",\"u\":\"%RH\",\"v\":67}]";

/* RFC 8428 section 5.1.7, three examples. */
static const char *const k_actuator =
    "[{\"bn\":\"urn:dev:ow:10e2073a01080063:\"},{\"n\":\"temp\",\"u\":\"Cel\",\"v\":23.1},"
    "{\"n\":\"heat\",\"u\":\"/\",\"v\":1},{\"n\":\"fan\",\"u\":\"/\",\"v\":0}]";
static const char *const k_lights_on =
    "[{\"bt\":1.320078429e+09,\"bu\":\"/\",\"n\":\"2001:db8::3\",\"v\":1},{\"n\":\"2001:db8::4\",\"v\":1}]";
static const char *const k_lights_off =
    "[{\"bt\":1.320078429e+09,\"bu\":\"/\",\"n\":\"2001:db8::3\",\"v\":0.5},{\"n\":\"2001:db8::4\",\"v\":0.5},"
    "{\"n\":\"2001:db8::3\",\"t\":0.1,\"v\":0},{\"n\":\"2001:db8::4\",\"t\":0.1,\"v\":0}]";

/* RFC 8428 section 6: the CBOR dump of the second example of section 5.1.2. */
static const char *const k_cbor_hex =
    "87 a7 21 78 1b 75 72 6e 3a 64 65 76 3a 6f 77 3a 31 30 65 32 30 37 33 61 30 31 30 38 30 30 36 3a"
    "22 fb 41 d3 03 a1 5b 00 10 62 23 61 41 20 05 00 67 76 6f 6c 74 61 67 65 01 61 56 02 fb 40 5e 06"
    "66 66 66 66 66 a3 00 67 63 75 72 72 65 6e 74 06 24 02 fb 3f f3 33 33 33 33 33 33 a3 00 67 63 75"
    "72 72 65 6e 74 06 23 02 fb 3f f4 cc cc cc cc cc cd a3 00 67 63 75 72 72 65 6e 74 06 22 02 fb 3f"
    "f6 66 66 66 66 66 66 a3 00 67 63 75 72 72 65 6e 74 06 21 02 f9 3e 00 a3 00 67 63 75 72 72 65 6e"
    "74 06 20 02 fb 3f f9 99 99 99 99 99 9a a3 00 67 63 75 72 72 65 6e 74 06 00 02 fb 3f fb 33 33 33"
    "33 33 33";

static void expect_double(const iotkit_telemetry_batch_t *b, size_t i, const char *name, const char *unit,
                          int64_t ts_ms, double v) {
  const iotkit_telemetry_point_t *p = telemetry_point(b, i);
  cr_assert_str_eq(p->name, name, "point %zu name", i);
  if (unit) {
    cr_assert_not_null(p->unit, "point %zu unit", i);
    cr_assert_str_eq(p->unit, unit, "point %zu unit", i);
  } else {
    cr_assert_null(p->unit, "point %zu unit", i);
  }
  cr_assert_eq(p->ts_ms, ts_ms, "point %zu ts %lld", i, (long long)p->ts_ms);
  cr_assert_eq(p->type, IOTKIT_TELEMETRY_DOUBLE, "point %zu type", i);
  cr_assert(p->value.d == v, "point %zu value %.17g", i, p->value.d);
}

static void roundtrip_all(const iotkit_telemetry_batch_t *b) {
  telemetry_assert_roundtrip(b, IOTKIT_TELEMETRY_FORMAT_JSON);
  telemetry_assert_roundtrip(b, IOTKIT_TELEMETRY_FORMAT_SENML_JSON);
  telemetry_assert_roundtrip(b, IOTKIT_TELEMETRY_FORMAT_SENML_CBOR);
}

Test(rfc8428, single_data_point_5_1_1) {
  iotkit_telemetry_batch_t *b = telemetry_decode_text(SJ, k_single);
  cr_assert_eq(iotkit_telemetry_batch_count(b), 1);
  expect_double(b, 0, DEV, "Cel", 0, 23.1);
  roundtrip_all(b);
  iotkit_telemetry_batch_free(b);
}

Test(rfc8428, multiple_data_points_5_1_2) {
  iotkit_telemetry_batch_t *b = telemetry_decode_text(SJ, k_multi);
  cr_assert_eq(iotkit_telemetry_batch_count(b), 2);
  expect_double(b, 0, DEV ":voltage", "V", 0, 120.1);
  expect_double(b, 1, DEV ":current", "A", 0, 1.2);
  roundtrip_all(b);
  iotkit_telemetry_batch_free(b);
}

static void expect_multi_time(const iotkit_telemetry_batch_t *b) {
  cr_assert_eq(iotkit_telemetry_batch_count(b), 7);
  expect_double(b, 0, "urn:dev:ow:10e2073a0108006:voltage", "V", 1276020076001, 120.1);
  const double cur[] = {1.2, 1.3, 1.4, 1.5, 1.6, 1.7};
  for (int i = 0; i < 6; i++)
    expect_double(b, (size_t)i + 1, "urn:dev:ow:10e2073a0108006:current", "A", 1276020076001 - (5 - i) * 1000,
                  cur[i]);
}

Test(rfc8428, base_time_unit_and_relative_times_5_1_2) {
  iotkit_telemetry_batch_t *b = telemetry_decode_text(SJ, k_multi_time);
  expect_multi_time(b);
  roundtrip_all(b);
  iotkit_telemetry_batch_free(b);
}

Test(rfc8428, multiple_measurements_5_1_3_resolve_to_5_1_4) {
  iotkit_telemetry_batch_t *b = telemetry_decode_text(SJ, k_measurements);
  iotkit_telemetry_batch_t *r = telemetry_decode_text(SJ, k_resolved);
  cr_assert_eq(iotkit_telemetry_batch_count(b), 13);
  expect_double(b, 0, DEV, "%RH", 1320067464000, 20);
  expect_double(b, 9, DEV, "%EL", 1320067614000, 98);
  expect_double(b, 12, DEV, "lat", 1320067644000, 60.07967);
  telemetry_assert_equal(b, r, false);
  roundtrip_all(b);
  iotkit_telemetry_batch_free(b);
  iotkit_telemetry_batch_free(r);
}

Test(rfc8428, multiple_data_types_5_1_5_data_value_unsupported) {
  telemetry_expect_reject(SJ, k_types, strlen(k_types), IOTKIT_ERR_UNSUPPORTED);
}

Test(rfc8428, multiple_data_types_5_1_5_without_data_value) {
  /* The same example up to its "vd" record, which has no point type. */
  char text[512];
  const char *cut = strstr(k_types, ",{\"n\":\"nfv-reader\"");
  cr_assert_not_null(cut);
  snprintf(text, sizeof(text), "%.*s]", (int)(cut - k_types), k_types);
  iotkit_telemetry_batch_t *b = telemetry_decode_text(SJ, text);
  cr_assert_eq(iotkit_telemetry_batch_count(b), 3);
  expect_double(b, 0, DEV ":temp", "Cel", 0, 23.1);
  const iotkit_telemetry_point_t *label = telemetry_point(b, 1), *open = telemetry_point(b, 2);
  cr_assert_eq(label->type, IOTKIT_TELEMETRY_STRING);
  cr_assert_str_eq(label->value.s, "Machine Room");
  cr_assert_eq(open->type, IOTKIT_TELEMETRY_BOOL);
  cr_assert_eq(open->value.b, false);
  roundtrip_all(b);
  iotkit_telemetry_batch_free(b);
}

Test(rfc8428, collection_of_resources_5_1_6) {
  iotkit_telemetry_batch_t *b = telemetry_decode_text(SJ, k_collection);
  cr_assert_eq(iotkit_telemetry_batch_count(b), 4);
  expect_double(b, 0, "2001:db8::2/temperature", "Cel", 1320078429000, 25.2);
  expect_double(b, 1, "2001:db8::2/humidity", "%RH", 1320078429000, 30);
  expect_double(b, 2, "2001:db8::1/temperature", "Cel", 1320078429000, 12.3);
  /* "the last record would use the Base Name from the 3rd record but the Base Time from the first record" */
  expect_double(b, 3, "2001:db8::1/humidity", "%RH", 1320078429000, 67);
  roundtrip_all(b);
  iotkit_telemetry_batch_free(b);
}

Test(rfc8428, setting_an_actuator_5_1_7) {
  iotkit_telemetry_batch_t *b = telemetry_decode_text(SJ, k_actuator);
  cr_assert_eq(iotkit_telemetry_batch_count(b), 3, "the record of base fields only is not a point");
  expect_double(b, 0, DEV ":temp", "Cel", 0, 23.1);
  expect_double(b, 1, DEV ":heat", "/", 0, 1);
  expect_double(b, 2, DEV ":fan", "/", 0, 0);
  roundtrip_all(b);
  iotkit_telemetry_batch_free(b);
}

Test(rfc8428, lights_on_5_1_7) {
  iotkit_telemetry_batch_t *b = telemetry_decode_text(SJ, k_lights_on);
  cr_assert_eq(iotkit_telemetry_batch_count(b), 2);
  expect_double(b, 0, "2001:db8::3", "/", 1320078429000, 1);
  expect_double(b, 1, "2001:db8::4", "/", 1320078429000, 1);
  roundtrip_all(b);
  iotkit_telemetry_batch_free(b);
}

Test(rfc8428, lights_off_5_1_7) {
  iotkit_telemetry_batch_t *b = telemetry_decode_text(SJ, k_lights_off);
  cr_assert_eq(iotkit_telemetry_batch_count(b), 4);
  expect_double(b, 0, "2001:db8::3", "/", 1320078429000, 0.5);
  expect_double(b, 2, "2001:db8::3", "/", 1320078429100, 0);
  expect_double(b, 3, "2001:db8::4", "/", 1320078429100, 0);
  roundtrip_all(b);
  iotkit_telemetry_batch_free(b);
}

Test(rfc8428, cbor_example_section_6) {
  uint8_t buf[256];
  size_t n = telemetry_unhex(k_cbor_hex, buf, sizeof(buf));
  cr_assert_eq(n, 0xc3, "the dump is 0x00c3 bytes long");
  iotkit_telemetry_batch_t *b = NULL;
  cr_assert_eq(iotkit_telemetry_decode(IOTKIT_TELEMETRY_FORMAT_SENML_CBOR, buf, n, &b), IOTKIT_OK);
  expect_multi_time(b);
  iotkit_telemetry_batch_t *j = telemetry_decode_text(SJ, k_multi_time);
  telemetry_assert_equal(b, j, false);
  roundtrip_all(b);
  iotkit_telemetry_batch_free(b);
  iotkit_telemetry_batch_free(j);
}

Test(rfc8428, cbor_example_truncated) {
  uint8_t buf[256];
  size_t n = telemetry_unhex(k_cbor_hex, buf, sizeof(buf));
  for (size_t cut = 1; cut < n; cut += 17)
    telemetry_expect_reject(IOTKIT_TELEMETRY_FORMAT_SENML_CBOR, buf, n - cut, IOTKIT_ERR_BAD_ENCODING);
}

Test(rfc8428, cbor_example_trailing_byte) {
  uint8_t buf[256];
  size_t n = telemetry_unhex(k_cbor_hex, buf, sizeof(buf));
  buf[n] = 0x00;
  telemetry_expect_reject(IOTKIT_TELEMETRY_FORMAT_SENML_CBOR, buf, n + 1, IOTKIT_ERR_BAD_ENCODING);
}
