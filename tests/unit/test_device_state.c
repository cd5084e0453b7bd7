/* Reported state (merge patches, re-sent after reconnects) and desired state
   (deltas, versions, persistence, bad input), on the capture transport. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_fixture.h"

static model_fixture_t fx;
static void setup(void) { model_fixture_init(&fx); }
static void teardown(void) { model_fixture_fini(&fx); }
TestSuite(device_state, .init = setup, .fini = teardown);

typedef struct seen {
  int calls;
  char delta[256];
  uint64_t version;
  int creates_at_call; /* transports created when the callback ran */
} seen_t;

static void on_desired(iotkit_device_t *dev, void *user, const char *delta, uint64_t version) {
  (void)dev;
  seen_t *s = user;
  s->calls++;
  snprintf(s->delta, sizeof(s->delta), "%s", delta);
  s->version = version;
  s->creates_at_call = capture_creates();
}

static seen_t seen;
static iotkit_device_t *with_desired(void) {
  memset(&seen, 0, sizeof(seen));
  cr_assert_eq(iotkit_device_new(&fx.cfg, &fx.dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_on_desired(fx.dev, on_desired, &seen), IOTKIT_OK);
  return model_fixture_connect(&fx);
}

/* ------------------------------------------------------------ reported -- */

Test(device_state, report_null) {
  model_fixture_connect(&fx);
  cr_assert_eq(iotkit_device_report(fx.dev, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_device_report(NULL, "{}"), IOTKIT_ERR_INVALID_ARG);
}

Test(device_state, report_malformed_json) {
  model_fixture_connect(&fx);
  cr_assert_eq(iotkit_device_report(fx.dev, "{\"a\":"), IOTKIT_ERR_BAD_ENCODING);
  cr_assert_eq(model_fixture_count("state/reported"), 0);
}

Test(device_state, report_trailing_garbage) {
  model_fixture_connect(&fx);
  cr_assert_eq(iotkit_device_report(fx.dev, "{} x"), IOTKIT_ERR_BAD_ENCODING);
}

Test(device_state, report_not_an_object) {
  model_fixture_connect(&fx);
  cr_assert_eq(iotkit_device_report(fx.dev, "[1,2]"), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(model_fixture_count("state/reported"), 0);
}

Test(device_state, report_too_large_leaves_the_document) {
  fx.cfg.max_payload = 64;
  model_fixture_connect(&fx);
  cr_assert_eq(iotkit_device_report(fx.dev, "{\"a\":1}"), IOTKIT_OK);
  cr_assert_eq(iotkit_device_report(fx.dev, "{\"b\":\"0123456789012345678901234567890123456789\"}"),
               IOTKIT_ERR_TOO_LARGE);
  char *doc = NULL;
  cr_assert_eq(iotkit_device_reported(fx.dev, &doc), IOTKIT_OK);
  cr_assert_str_eq(doc, "{\"a\":1}");
  iotkit_free(doc);
  cr_assert_eq(model_fixture_count("state/reported"), 1);
}

Test(device_state, merge_patch_semantics) {
  model_fixture_connect(&fx);
  cr_assert_eq(iotkit_device_report(fx.dev, "{\"a\":1,\"o\":{\"x\":1,\"y\":2},\"s\":\"t\"}"), IOTKIT_OK);
  cr_assert_eq(iotkit_device_report(fx.dev, "{\"o\":{\"y\":null,\"z\":3},\"s\":{\"k\":null,\"v\":1},\"a\":null}"),
               IOTKIT_OK);
  char *doc = NULL;
  cr_assert_eq(iotkit_device_reported(fx.dev, &doc), IOTKIT_OK);
  cr_assert_str_eq(doc, "{\"o\":{\"x\":1,\"z\":3},\"s\":{\"v\":1}}");
  iotkit_free(doc);
}

Test(device_state, report_while_offline_is_sent_on_connect) {
  cr_assert_eq(iotkit_device_new(&fx.cfg, &fx.dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_report(fx.dev, "{\"fw\":\"1\"}"), IOTKIT_OK);
  model_fixture_connect(&fx);
  cr_assert_str_eq(model_fixture_last("state/reported"), "{\"state\":{\"fw\":\"1\"},\"ts\":1767225600000}");
}

Test(device_state, nothing_reported_sends_no_document) {
  model_fixture_connect(&fx);
  cr_assert_eq(model_fixture_count("state/reported"), 0);
}

/* ------------------------------------------------------------- desired -- */

Test(device_state, desired_delta_and_version) {
  with_desired();
  model_fixture_inject(&fx, "state/desired", "{\"version\":3,\"state\":{\"a\":1,\"o\":{\"x\":1}}}");
  cr_assert_eq(seen.calls, 1);
  cr_assert_str_eq(seen.delta, "{\"a\":1,\"o\":{\"x\":1}}");
  cr_assert_eq(seen.version, 3);
  model_fixture_inject(&fx, "state/desired", "{\"version\":4,\"state\":{\"o\":{\"x\":2},\"b\":true}}");
  cr_assert_str_eq(seen.delta, "{\"o\":{\"x\":2},\"b\":true,\"a\":null}");
  char *state = NULL;
  uint64_t v = 0;
  cr_assert_eq(iotkit_device_desired(fx.dev, &state, &v), IOTKIT_OK);
  cr_assert_str_eq(state, "{\"o\":{\"x\":2},\"b\":true}");
  cr_assert_eq(v, 4);
  iotkit_free(state);
}

Test(device_state, desired_stale_version_is_ignored) {
  with_desired();
  model_fixture_inject(&fx, "state/desired", "{\"version\":5,\"state\":{\"a\":1}}");
  model_fixture_inject(&fx, "state/desired", "{\"version\":5,\"state\":{\"a\":2}}");
  model_fixture_inject(&fx, "state/desired", "{\"version\":4,\"state\":{\"a\":3}}");
  cr_assert_eq(seen.calls, 1);
  cr_assert(model_fixture_log_has(&fx, "ignored desired state version 4 (version 5 is applied)"));
}

static void expect_ignored_desired(const char *json, const char *why) {
  with_desired();
  model_fixture_inject(&fx, "state/desired", json);
  cr_assert_eq(seen.calls, 0);
  char line[160];
  snprintf(line, sizeof(line), "ignored a desired state: %s", why);
  cr_assert(model_fixture_log_has(&fx, line), "log: %s", iotkit_hal_memory_log(fx.hal));
  /* and it keeps working */
  model_fixture_inject(&fx, "state/desired", "{\"version\":1,\"state\":{\"ok\":1}}");
  cr_assert_eq(seen.calls, 1);
  cr_assert(iotkit_device_is_connected(fx.dev));
}

Test(device_state, desired_malformed_json) { expect_ignored_desired("{\"version\":1,\"state\":{", "not JSON"); }
Test(device_state, desired_not_an_object) { expect_ignored_desired("[1]", "not a JSON object"); }
Test(device_state, desired_without_version) {
  expect_ignored_desired("{\"state\":{}}", "no version (a whole number from 1)");
}
Test(device_state, desired_version_zero) {
  expect_ignored_desired("{\"version\":0,\"state\":{}}", "no version (a whole number from 1)");
}
Test(device_state, desired_fractional_version) {
  expect_ignored_desired("{\"version\":1.5,\"state\":{}}", "no version (a whole number from 1)");
}
Test(device_state, desired_state_not_an_object) {
  expect_ignored_desired("{\"version\":1,\"state\":7}", "no state object");
}

Test(device_state, desired_is_persisted_and_applied_before_the_next_connect) {
  with_desired();
  model_fixture_inject(&fx, "state/desired", "{\"version\":9,\"state\":{\"interval_ms\":250}}");
  iotkit_device_free(fx.dev);
  fx.dev = NULL;
  /* A restarted device on the same store: the callback runs inside connect, before any transport exists. */
  int creates = capture_creates();
  with_desired();
  cr_assert_eq(seen.calls, 1);
  cr_assert_str_eq(seen.delta, "{\"interval_ms\":250}");
  cr_assert_eq(seen.version, 9);
  cr_assert_eq(seen.creates_at_call, creates);
  /* The retained copy arriving again is stale. */
  model_fixture_inject(&fx, "state/desired", "{\"version\":9,\"state\":{\"interval_ms\":250}}");
  cr_assert_eq(seen.calls, 1);
}

Test(device_state, stored_desired_is_applied_even_if_the_connect_fails) {
  with_desired();
  model_fixture_inject(&fx, "state/desired", "{\"version\":2,\"state\":{\"a\":1}}");
  iotkit_device_free(fx.dev);
  fx.dev = NULL;
  capture_refuse(true);
  memset(&seen, 0, sizeof(seen));
  cr_assert_eq(iotkit_device_new(&fx.cfg, &fx.dev), IOTKIT_OK);
  iotkit_device_on_desired(fx.dev, on_desired, &seen);
  cr_assert_eq(iotkit_device_connect(fx.dev), IOTKIT_ERR_CONNECT);
  cr_assert_eq(seen.calls, 1);
  cr_assert_eq(seen.version, 2);
}

Test(device_state, damaged_stored_desired_is_ignored) {
  cr_assert_eq(fx.hal->kv_set(fx.hal->ctx, "iotkit.desired", "{garbage", 8), IOTKIT_OK);
  with_desired();
  cr_assert_eq(seen.calls, 0);
  cr_assert(model_fixture_log_has(&fx, "stored desired state unreadable"));
}

Test(device_state, desired_accessors_reject_null) {
  cr_assert_eq(iotkit_device_desired(NULL, NULL, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_device_reported(NULL, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_device_on_desired(NULL, NULL, NULL), IOTKIT_ERR_INVALID_ARG);
}
