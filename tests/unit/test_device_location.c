/* iotkit_device_report_location(): the document of docs/protocol.md on the
   "location" channel (QoS 1, retained), and each bad input with its code. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model_fixture.h"
#include "protocol_examples.h"

static model_fixture_t fx;
static void setup(void) { model_fixture_init(&fx); }
static void teardown(void) { model_fixture_fini(&fx); }
TestSuite(device_location, .init = setup, .fini = teardown);

#define CH "iotkit/v1/sensor-1/location"

static iotkit_location_t berlin(void) {
  return (iotkit_location_t){.latitude = 52.520008,
                             .longitude = 13.404954,
                             .altitude = 34.5,
                             .has_altitude = true,
                             .accuracy_m = 5,
                             .has_accuracy = true};
}

Test(device_location, the_example_is_what_the_device_sends) {
  model_fixture_connect(&fx);
  iotkit_location_t loc = berlin();
  cr_assert_eq(iotkit_device_report_location(fx.dev, &loc), IOTKIT_OK);
  example_t ex = protocol_example("location");
  cr_assert_str_eq(ex.channel, CH);
  const capture_msg_t *m = capture_last_on(CH);
  cr_assert_not_null(m);
  cr_assert_str_eq(m->payload, ex.json);
  cr_assert_eq(m->qos, 1);
  cr_assert(m->retain);
  iotkit_location_t back;
  cr_assert_eq(iotkit_protocol_location_parse(ex.json, strlen(ex.json), &back), IOTKIT_OK);
  cr_assert_eq(back.latitude, loc.latitude);
  cr_assert_eq(back.longitude, loc.longitude);
  cr_assert_eq(back.altitude, 34.5);
  cr_assert_eq(back.accuracy_m, 5.0);
  cr_assert_eq(back.ts_ms, 1767225600000);
  free(ex.json);
}

Test(device_location, optional_fields_and_given_time) {
  model_fixture_connect(&fx);
  iotkit_location_t loc = {.latitude = -33.8688, .longitude = 151.2093, .ts_ms = 1767225600000};
  cr_assert_eq(iotkit_device_report_location(fx.dev, &loc), IOTKIT_OK);
  cr_assert_str_eq(model_fixture_last("location"), "{\"lat\":-33.8688,\"lon\":151.2093,\"ts\":1767225600000}");
  loc = (iotkit_location_t){.latitude = 90, .longitude = -180, .ts_ms = 5}; /* the limits are valid */
  cr_assert_eq(iotkit_device_report_location(fx.dev, &loc), IOTKIT_OK);
  cr_assert_str_eq(model_fixture_last("location"), "{\"lat\":90,\"lon\":-180,\"ts\":5}");
}

Test(device_location, not_connected_is_not_queued) {
  cr_assert_eq(iotkit_device_new(&fx.cfg, &fx.dev), IOTKIT_OK);
  iotkit_location_t loc = berlin();
  cr_assert_eq(iotkit_device_report_location(fx.dev, &loc), IOTKIT_ERR_NOT_CONNECTED);
}

static void expect_refused(iotkit_location_t loc) {
  model_fixture_connect(&fx);
  size_t before = model_fixture_count("location");
  cr_assert_eq(iotkit_device_report_location(fx.dev, &loc), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_location_check(&loc), IOTKIT_ERR_INVALID_ARG);
  char *doc = NULL;
  cr_assert_eq(iotkit_protocol_location_build(&loc, &doc), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(model_fixture_count("location"), before, "nothing sent");
}

Test(device_location, latitude_above_90) { expect_refused((iotkit_location_t){.latitude = 90.000001}); }
Test(device_location, latitude_below_minus_90) { expect_refused((iotkit_location_t){.latitude = -90.5}); }
Test(device_location, longitude_above_180) { expect_refused((iotkit_location_t){.longitude = 180.000001}); }
Test(device_location, longitude_below_minus_180) { expect_refused((iotkit_location_t){.longitude = -181}); }
Test(device_location, nan_latitude) { expect_refused((iotkit_location_t){.latitude = NAN}); }
Test(device_location, nan_longitude) { expect_refused((iotkit_location_t){.longitude = NAN}); }
Test(device_location, infinite_longitude) { expect_refused((iotkit_location_t){.longitude = INFINITY}); }
Test(device_location, nan_altitude) { expect_refused((iotkit_location_t){.altitude = NAN, .has_altitude = true}); }
Test(device_location, infinite_altitude) {
  expect_refused((iotkit_location_t){.altitude = -INFINITY, .has_altitude = true});
}
Test(device_location, negative_accuracy) { expect_refused((iotkit_location_t){.accuracy_m = -1, .has_accuracy = true}); }
Test(device_location, nan_accuracy) { expect_refused((iotkit_location_t){.accuracy_m = NAN, .has_accuracy = true}); }
Test(device_location, negative_ts) { expect_refused((iotkit_location_t){.ts_ms = -1}); }

Test(device_location, null_arguments) {
  model_fixture_connect(&fx);
  iotkit_location_t loc = berlin();
  cr_assert_eq(iotkit_device_report_location(NULL, &loc), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_device_report_location(fx.dev, NULL), IOTKIT_ERR_INVALID_ARG);
}

/* An unset altitude or accuracy is not read, whatever it holds. */
Test(device_location, unset_fields_are_not_checked) {
  model_fixture_connect(&fx);
  iotkit_location_t loc = {.latitude = 1, .longitude = 2, .altitude = NAN, .accuracy_m = -5, .ts_ms = 9};
  cr_assert_eq(iotkit_device_report_location(fx.dev, &loc), IOTKIT_OK);
  cr_assert_str_eq(model_fixture_last("location"), "{\"lat\":1,\"lon\":2,\"ts\":9}");
}

/* What a fleet refuses to read. */
Test(device_location, parse_refuses_bad_documents) {
  static const char *const bad[] = {
      "{\"lat\":91,\"lon\":0,\"ts\":1}",   "{\"lat\":0,\"lon\":-180.1,\"ts\":1}", "{\"lat\":\"1\",\"lon\":0,\"ts\":1}",
      "{\"lon\":0,\"ts\":1}",              "{\"lat\":0,\"lon\":0}",               "{\"lat\":0,\"lon\":0,\"ts\":-1}",
      "{\"lat\":0,\"lon\":0,\"acc\":-2,\"ts\":1}", "[1,2]"};
  iotkit_location_t loc;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_assert_eq(iotkit_protocol_location_parse(bad[i], strlen(bad[i]), &loc), IOTKIT_ERR_PROTOCOL, "%s", bad[i]);
  cr_assert_eq(iotkit_protocol_location_parse("{\"lat\":", 7, &loc), IOTKIT_ERR_BAD_ENCODING);
  cr_assert_eq(iotkit_protocol_location_parse("{}", 2, NULL), IOTKIT_ERR_INVALID_ARG);
}
