/* Telemetry batches: typed points, copies, tags, timestamps from the HAL, argument checks. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "iotkit/iotkit.h"
#include "telemetry_check.h"

static iotkit_telemetry_batch_t *g_b;

static void setup(void) { cr_assert_eq(iotkit_telemetry_batch_new(NULL, &g_b), IOTKIT_OK); }
static void teardown(void) { iotkit_telemetry_batch_free(g_b); }

TestSuite(telemetry_batch, .init = setup, .fini = teardown);

Test(telemetry_batch, typed_points_are_kept_in_order) {
  cr_assert_eq(iotkit_telemetry_batch_add_double(g_b, "temp", "Cel", 1000, 21.5), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_batch_add_int(g_b, "count", NULL, 2000, -7), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_batch_add_bool(g_b, "door", NULL, 3000, true), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_batch_add_string(g_b, "label", NULL, 4000, "Machine Room"), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_batch_count(g_b), 4);
  cr_assert_eq(telemetry_point(g_b, 0)->value.d, 21.5);
  cr_assert_str_eq(telemetry_point(g_b, 0)->unit, "Cel");
  cr_assert_eq(telemetry_point(g_b, 1)->value.i, -7);
  cr_assert_eq(telemetry_point(g_b, 2)->value.b, true);
  cr_assert_str_eq(telemetry_point(g_b, 3)->value.s, "Machine Room");
  cr_assert_eq(telemetry_point(g_b, 3)->ts_ms, 4000);
}

Test(telemetry_batch, strings_are_copied) {
  char name[] = "sensor", unit[] = "V", val[] = "text", key[] = "k", tv[] = "v";
  iotkit_telemetry_tag_t tag = {key, tv};
  iotkit_telemetry_point_t p = {.name = name, .unit = unit, .ts_ms = 5, .type = IOTKIT_TELEMETRY_STRING};
  p.value.s = val;
  p.tags = &tag;
  p.tag_count = 1;
  cr_assert_eq(iotkit_telemetry_batch_add(g_b, &p), IOTKIT_OK);
  memset(name, 'x', 5), memset(unit, 'x', 1), memset(val, 'x', 4), key[0] = 'z', tv[0] = 'z';
  const iotkit_telemetry_point_t *got = telemetry_point(g_b, 0);
  cr_assert_str_eq(got->name, "sensor");
  cr_assert_str_eq(got->unit, "V");
  cr_assert_str_eq(got->value.s, "text");
  cr_assert_str_eq(got->tags[0].key, "k");
  cr_assert_str_eq(got->tags[0].value, "v");
}

Test(telemetry_batch, now_uses_the_hal_wall_clock) {
  iotkit_hal_memory_config_t cfg;
  iotkit_hal_memory_config_init(&cfg);
  cfg.manual_clock = true;
  iotkit_hal_t *hal = NULL;
  cr_assert_eq(iotkit_hal_memory_new(&cfg, &hal), IOTKIT_OK);
  iotkit_telemetry_batch_t *b = NULL;
  cr_assert_eq(iotkit_telemetry_batch_new(hal, &b), IOTKIT_OK);
  cr_assert_eq(iotkit_hal_memory_advance(hal, 1234), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_batch_add_double(b, "t", NULL, IOTKIT_TELEMETRY_NOW, 1), IOTKIT_OK);
  cr_assert_eq(telemetry_point(b, 0)->ts_ms, 1767225600000 + 1234);
  iotkit_telemetry_batch_free(b);
  iotkit_hal_free(hal);
}

Test(telemetry_batch, now_without_hal) {
  cr_assert_eq(iotkit_telemetry_batch_add_double(g_b, "t", NULL, IOTKIT_TELEMETRY_NOW, 1), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_telemetry_batch_count(g_b), 0);
}

Test(telemetry_batch, tags_on_last_point) {
  cr_assert_eq(iotkit_telemetry_batch_tag(g_b, "room", "lab"), IOTKIT_ERR_STATE);
  cr_assert_eq(iotkit_telemetry_batch_add_double(g_b, "t", NULL, 1, 1), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_batch_tag(g_b, "room", "lab"), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_batch_tag(g_b, "floor", "2"), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_batch_tag(g_b, "room", "other"), IOTKIT_ERR_INVALID_ARG, "duplicate key");
  const iotkit_telemetry_point_t *p = telemetry_point(g_b, 0);
  cr_assert_eq(p->tag_count, 2);
  cr_assert_str_eq(p->tags[1].key, "floor");
}

Test(telemetry_batch, too_many_tags) {
  cr_assert_eq(iotkit_telemetry_batch_add_double(g_b, "t", NULL, 1, 1), IOTKIT_OK);
  char key[8];
  for (unsigned i = 0; i < IOTKIT_TELEMETRY_MAX_TAGS; i++) {
    snprintf(key, sizeof(key), "k%u", i);
    cr_assert_eq(iotkit_telemetry_batch_tag(g_b, key, "v"), IOTKIT_OK);
  }
  cr_assert_eq(iotkit_telemetry_batch_tag(g_b, "last", "v"), IOTKIT_ERR_TOO_LARGE);
}

Test(telemetry_batch, bad_tag_key) {
  cr_assert_eq(iotkit_telemetry_batch_add_double(g_b, "t", NULL, 1, 1), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_batch_tag(g_b, "a b", "v"), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_telemetry_batch_tag(g_b, "", "v"), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_telemetry_batch_tag(g_b, NULL, "v"), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_telemetry_batch_tag(g_b, "k", NULL), IOTKIT_ERR_INVALID_ARG);
}

static void bad_name(const char *name) {
  size_t before = iotkit_telemetry_batch_count(g_b);
  cr_assert_eq(iotkit_telemetry_batch_add_int(g_b, name, NULL, 1, 1), IOTKIT_ERR_INVALID_ARG, "name %s",
               name ? name : "(null)");
  cr_assert_eq(iotkit_telemetry_batch_count(g_b), before, "batch unchanged on failure");
}

Test(telemetry_batch, name_null) { bad_name(NULL); }
Test(telemetry_batch, name_empty) { bad_name(""); }
Test(telemetry_batch, name_with_space) { bad_name("room temp"); }
Test(telemetry_batch, name_starting_with_dash) { bad_name("-temp"); }
Test(telemetry_batch, name_starting_with_colon) { bad_name(":temp"); }
Test(telemetry_batch, name_with_quote) { bad_name("te\"mp"); }

Test(telemetry_batch, name_max_length) {
  char name[IOTKIT_TELEMETRY_MAX_NAME + 2];
  memset(name, 'a', sizeof(name));
  name[IOTKIT_TELEMETRY_MAX_NAME] = '\0';
  cr_assert_eq(iotkit_telemetry_batch_add_int(g_b, name, NULL, 1, 1), IOTKIT_OK);
  name[IOTKIT_TELEMETRY_MAX_NAME] = 'a';
  name[IOTKIT_TELEMETRY_MAX_NAME + 1] = '\0';
  bad_name(name);
}

Test(telemetry_batch, name_allowed_punctuation) {
  cr_assert_eq(iotkit_telemetry_batch_add_int(g_b, "urn:dev:ow:10e2/a-b.c_d", NULL, 1, 1), IOTKIT_OK);
}

Test(telemetry_batch, double_nan) {
  cr_assert_eq(iotkit_telemetry_batch_add_double(g_b, "t", NULL, 1, NAN), IOTKIT_ERR_INVALID_ARG);
}

Test(telemetry_batch, double_infinity) {
  cr_assert_eq(iotkit_telemetry_batch_add_double(g_b, "t", NULL, 1, -INFINITY), IOTKIT_ERR_INVALID_ARG);
}

Test(telemetry_batch, string_null) {
  cr_assert_eq(iotkit_telemetry_batch_add_string(g_b, "t", NULL, 1, NULL), IOTKIT_ERR_INVALID_ARG);
}

Test(telemetry_batch, string_invalid_utf8) {
  cr_assert_eq(iotkit_telemetry_batch_add_string(g_b, "t", NULL, 1, "bad \xff byte"), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_telemetry_batch_add_string(g_b, "t", NULL, 1, "overlong \xc0\xaf"), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_telemetry_batch_add_string(g_b, "t", NULL, 1, "surrogate \xed\xa0\x80"),
               IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_telemetry_batch_add_string(g_b, "t", NULL, 1, "cut \xe2\x82"), IOTKIT_ERR_INVALID_ARG);
}

Test(telemetry_batch, string_valid_utf8) {
  cr_assert_eq(iotkit_telemetry_batch_add_string(g_b, "t", NULL, 1, "\xc3\xbc \xe2\x82\xac \xf0\x9f\x98\x80"),
               IOTKIT_OK);
}

Test(telemetry_batch, string_too_long) {
  char *s = malloc(IOTKIT_TELEMETRY_MAX_TEXT + 2);
  memset(s, 'a', IOTKIT_TELEMETRY_MAX_TEXT + 1);
  s[IOTKIT_TELEMETRY_MAX_TEXT + 1] = '\0';
  cr_assert_eq(iotkit_telemetry_batch_add_string(g_b, "t", NULL, 1, s), IOTKIT_ERR_TOO_LARGE);
  s[IOTKIT_TELEMETRY_MAX_TEXT] = '\0';
  cr_assert_eq(iotkit_telemetry_batch_add_string(g_b, "t", NULL, 1, s), IOTKIT_OK);
  free(s);
}

Test(telemetry_batch, unit_invalid_utf8) {
  cr_assert_eq(iotkit_telemetry_batch_add_double(g_b, "t", "\xff", 1, 1), IOTKIT_ERR_INVALID_ARG);
}

Test(telemetry_batch, unknown_type) {
  iotkit_telemetry_point_t p = {.name = "t", .ts_ms = 1, .type = (iotkit_telemetry_type_t)9};
  cr_assert_eq(iotkit_telemetry_batch_add(g_b, &p), IOTKIT_ERR_INVALID_ARG);
}

Test(telemetry_batch, tags_null_with_count) {
  iotkit_telemetry_point_t p = {.name = "t", .ts_ms = 1, .type = IOTKIT_TELEMETRY_BOOL, .tag_count = 1};
  cr_assert_eq(iotkit_telemetry_batch_add(g_b, &p), IOTKIT_ERR_INVALID_ARG);
}

Test(telemetry_batch, duplicate_tag_keys_in_point) {
  iotkit_telemetry_tag_t tags[2] = {{"k", "1"}, {"k", "2"}};
  iotkit_telemetry_point_t p = {.name = "t", .ts_ms = 1, .type = IOTKIT_TELEMETRY_BOOL, .tags = tags,
                                .tag_count = 2};
  cr_assert_eq(iotkit_telemetry_batch_add(g_b, &p), IOTKIT_ERR_INVALID_ARG);
}

Test(telemetry_batch, null_arguments) {
  cr_assert_eq(iotkit_telemetry_batch_new(NULL, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_telemetry_batch_add(NULL, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_telemetry_batch_add(g_b, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_telemetry_batch_add_double(NULL, "t", NULL, 1, 1), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_telemetry_batch_tag(NULL, "k", "v"), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_telemetry_batch_count(NULL), 0);
  cr_assert_eq(iotkit_telemetry_batch_seq(NULL), 0);
  cr_assert_eq(iotkit_telemetry_batch_set_seq(NULL, 1), IOTKIT_ERR_INVALID_ARG);
  const iotkit_telemetry_point_t *p = NULL;
  cr_assert_eq(iotkit_telemetry_batch_get(NULL, 0, &p), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_telemetry_batch_get(g_b, 0, NULL), IOTKIT_ERR_INVALID_ARG);
  iotkit_telemetry_batch_free(NULL);
}

Test(telemetry_batch, get_out_of_range) {
  const iotkit_telemetry_point_t *p = (const iotkit_telemetry_point_t *)0x1;
  cr_assert_eq(iotkit_telemetry_batch_get(g_b, 0, &p), IOTKIT_ERR_NOT_FOUND);
  cr_assert_eq(p, (const iotkit_telemetry_point_t *)0x1);
}

Test(telemetry_batch, hal_without_wall_clock) {
  iotkit_hal_t hal;
  iotkit_hal_init(&hal);
  iotkit_telemetry_batch_t *b = NULL;
  cr_assert_eq(iotkit_telemetry_batch_new(&hal, &b), IOTKIT_ERR_INVALID_ARG);
  cr_assert_null(b);
}

Test(telemetry_batch, seq_range) {
  cr_assert_eq(iotkit_telemetry_batch_set_seq(g_b, 42), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_batch_seq(g_b), 42);
  cr_assert_eq(iotkit_telemetry_batch_set_seq(g_b, (UINT64_C(1) << 53) + 1), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_telemetry_batch_seq(g_b), 42);
}

Test(telemetry_batch, encode_empty_batch) {
  uint8_t *out = NULL;
  size_t len = 0;
  cr_assert_eq(iotkit_telemetry_encode(g_b, IOTKIT_TELEMETRY_FORMAT_JSON, &out, &len), IOTKIT_ERR_INVALID_ARG);
  cr_assert_null(out);
}

Test(telemetry_batch, encode_unknown_format) {
  cr_assert_eq(iotkit_telemetry_batch_add_int(g_b, "t", NULL, 1, 1), IOTKIT_OK);
  uint8_t *out = NULL;
  size_t len = 0;
  cr_assert_eq(iotkit_telemetry_encode(g_b, (iotkit_telemetry_format_t)7, &out, &len), IOTKIT_ERR_INVALID_ARG);
}

Test(telemetry_batch, format_names) {
  iotkit_telemetry_format_t f;
  cr_assert_eq(iotkit_telemetry_format_parse("senml-cbor", &f), IOTKIT_OK);
  cr_assert_eq(f, IOTKIT_TELEMETRY_FORMAT_SENML_CBOR);
  cr_assert_str_eq(iotkit_telemetry_format_name(IOTKIT_TELEMETRY_FORMAT_SENML_JSON), "senml-json");
  cr_assert_str_eq(iotkit_telemetry_format_media_type(IOTKIT_TELEMETRY_FORMAT_SENML_CBOR),
                   "application/senml+cbor");
  cr_assert_null(iotkit_telemetry_format_name((iotkit_telemetry_format_t)9));
  cr_assert_eq(iotkit_telemetry_format_parse("xml", &f), IOTKIT_ERR_NOT_FOUND);
  cr_assert_eq(iotkit_telemetry_format_parse(NULL, &f), IOTKIT_ERR_INVALID_ARG);
}
