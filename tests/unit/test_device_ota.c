/* The device's OTA glue (iotkit_device_ota_*): manifests in on ota/manifest, status out on
   ota/status, on the capture transport with an in-memory download server. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "model_fixture.h"
#include "net_util.h"
#include "ota_fixture.h"

#define IMAGE_LEN 40000u
#define URL "https://updates.example.com/fw.bin"

static model_fixture_t fx;
static iotkit_ota_trust_t *trust;
static iotkit_key_t *key;
static iotkit_ota_t *ota;
static uint8_t *image;
static ota_fx_server_t server;

static void setup(void) {
  model_fixture_init(&fx);
  ota_fx_trust(fx.hal, &key, &trust);
  image = ota_fx_image(IMAGE_LEN, 7);
  server = (ota_fx_server_t){.data = image, .len = IMAGE_LEN};
  iotkit_ota_config_t oc;
  ota_fx_config(&oc, fx.hal, trust, OTA_FX_OLD_VERSION, &server);
  cr_assert_eq(iotkit_ota_new(&oc, &ota), IOTKIT_OK);
}

static void teardown(void) {
  model_fixture_fini(&fx); /* the device first: the client must outlive it */
  iotkit_ota_free(ota);
  iotkit_ota_trust_free(trust);
  iotkit_key_free(key);
  free(image);
}

TestSuite(device_ota, .init = setup, .fini = teardown);

static char *manifest(const char *version, const char *key_id) {
  return ota_fx_manifest(key, key_id, OTA_FX_DEVICE_TYPE, version, image, IMAGE_LEN, URL);
}

static iotkit_device_t *attached(void) {
  cr_assert_eq(iotkit_device_new(&fx.cfg, &fx.dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_ota_attach(fx.dev, ota), IOTKIT_OK);
  return model_fixture_connect(&fx);
}

/* ---------------------------------------------------------- bad input -- */

Test(device_ota, attach_null_device_is_invalid) { cr_expect_eq(iotkit_device_ota_attach(NULL, ota), IOTKIT_ERR_INVALID_ARG); }

Test(device_ota, offer_null_device_is_invalid) { cr_expect_eq(iotkit_device_ota_offer(NULL, "{}", 2), IOTKIT_ERR_INVALID_ARG); }

Test(device_ota, offer_null_manifest_is_invalid) {
  attached();
  cr_expect_eq(iotkit_device_ota_offer(fx.dev, NULL, 2), IOTKIT_ERR_INVALID_ARG);
}

Test(device_ota, offer_without_a_client_is_a_state_error) {
  model_fixture_connect(&fx);
  cr_expect_eq(iotkit_device_ota_offer(fx.dev, "{}", 2), IOTKIT_ERR_STATE);
}

Test(device_ota, run_null_device_is_invalid) { cr_expect_eq(iotkit_device_ota_run(NULL), IOTKIT_ERR_INVALID_ARG); }

Test(device_ota, run_without_a_client_is_a_state_error) {
  model_fixture_connect(&fx);
  cr_expect_eq(iotkit_device_ota_run(fx.dev), IOTKIT_ERR_STATE);
}

Test(device_ota, run_with_nothing_to_do_is_a_state_error) {
  attached();
  cr_expect_eq(iotkit_device_ota_run(fx.dev), IOTKIT_ERR_STATE);
}

Test(device_ota, report_null_device_is_invalid) { cr_expect_eq(iotkit_device_ota_report(NULL), IOTKIT_ERR_INVALID_ARG); }

Test(device_ota, report_without_a_client_is_a_state_error) {
  model_fixture_connect(&fx);
  cr_expect_eq(iotkit_device_ota_report(fx.dev), IOTKIT_ERR_STATE);
}

Test(device_ota, detach_stops_the_glue) {
  attached();
  cr_assert_eq(iotkit_device_ota_attach(fx.dev, NULL), IOTKIT_OK);
  cr_expect_eq(iotkit_device_ota_run(fx.dev), IOTKIT_ERR_STATE);
  cr_expect_eq(iotkit_device_ota_report(fx.dev), IOTKIT_ERR_STATE);
}

/* ---------------------------------------------------------- behaviour -- */

Test(device_ota, subscribes_to_the_manifest_channel_and_reports_on_connect) {
  attached();
  cr_expect(capture_subscribed("iotkit/v1/sensor-1/ota/manifest"));
  const char *st = model_fixture_last("ota/status");
  cr_assert(st);
  cr_expect(strstr(st, "\"state\":\"idle\""), "%s", st);
  cr_expect(strstr(st, "\"running_version\":\"" OTA_FX_OLD_VERSION "\""), "%s", st);
}

Test(device_ota, a_manifest_on_the_channel_is_run_to_pending_with_progress_reports) {
  attached();
  char *m = manifest("1.1.0", OTA_FX_KEY_ID);
  model_fixture_inject(&fx, "ota/manifest", m);
  iotkit_ota_status_t st;
  cr_assert_eq(iotkit_ota_status(ota, &st), IOTKIT_OK);
  cr_assert_eq(st.state, IOTKIT_OTA_DOWNLOADING);
  cr_assert_eq(iotkit_device_ota_run(fx.dev), IOTKIT_OK);
  cr_assert_eq(iotkit_ota_status(ota, &st), IOTKIT_OK);
  cr_expect_eq(st.state, IOTKIT_OTA_PENDING);
  const char *last = model_fixture_last("ota/status");
  cr_assert(last);
  cr_expect(strstr(last, "\"state\":\"pending\""), "%s", last);
  cr_expect(strstr(last, "\"target_version\":\"1.1.0\""), "%s", last);
  /* idle, downloading, at least the final progress, downloaded, verifying, pending. */
  cr_expect_geq(model_fixture_count("ota/status"), 5u);
  iotkit_free(m);
}

Test(device_ota, progress_reports_are_limited_by_the_interval) {
  attached();
  char *m = manifest("1.1.0", OTA_FX_KEY_ID);
  cr_assert_eq(iotkit_device_ota_offer(fx.dev, m, strlen(m)), IOTKIT_OK);
  size_t before = model_fixture_count("ota/status");
  cr_assert_eq(iotkit_device_ota_run(fx.dev), IOTKIT_OK);
  /* The manual clock does not move: of the 10 chunks only the last gets its own report. */
  size_t reports = model_fixture_count("ota/status") - before;
  cr_expect_leq(reports, 5u, "%zu reports", reports);
  iotkit_free(m);
}

Test(device_ota, a_refused_manifest_is_reported_failed_with_its_reason) {
  attached();
  char *m = manifest("1.1.0", "unknown-key");
  cr_expect_eq(iotkit_device_ota_offer(fx.dev, m, strlen(m)), IOTKIT_ERR_OTA_UNKNOWN_KEY);
  const char *last = model_fixture_last("ota/status");
  cr_assert(last);
  cr_expect(strstr(last, "\"state\":\"failed\""), "%s", last);
  cr_expect(strstr(last, "\"error\":\"IOTKIT_ERR_OTA_UNKNOWN_KEY\""), "%s", last);
  cr_expect_eq(server.requests, 0u);
  iotkit_free(m);
}

Test(device_ota, a_manifest_of_the_running_version_is_ignored_and_answered_with_the_status) {
  attached();
  char *m = manifest(OTA_FX_OLD_VERSION, OTA_FX_KEY_ID);
  size_t before = model_fixture_count("ota/status");
  cr_expect_eq(iotkit_device_ota_offer(fx.dev, m, strlen(m)), IOTKIT_OK);
  iotkit_ota_status_t st;
  cr_assert_eq(iotkit_ota_status(ota, &st), IOTKIT_OK);
  cr_expect_eq(st.state, IOTKIT_OTA_IDLE);
  cr_expect_eq(server.requests, 0u);
  /* One status document, unchanged: how a fleet that missed a report learns where the device is. */
  cr_expect_eq(model_fixture_count("ota/status"), before + 1);
  const char *last = model_fixture_last("ota/status");
  cr_assert(last);
  cr_expect(strstr(last, "\"state\":\"idle\""), "%s", last);
  iotkit_free(m);
}

Test(device_ota, an_empty_manifest_message_is_ignored) {
  attached();
  size_t before = model_fixture_count("ota/status");
  capture_inject("iotkit/v1/sensor-1/ota/manifest", "", 0);
  model_fixture_pump(&fx);
  iotkit_ota_status_t st;
  cr_assert_eq(iotkit_ota_status(ota, &st), IOTKIT_OK);
  cr_expect_eq(st.state, IOTKIT_OTA_IDLE);
  cr_expect_eq(model_fixture_count("ota/status"), before);
}

static int app_messages;
static void on_message(iotkit_device_t *dev, void *user, const char *channel, const void *payload, size_t len) {
  (void)dev, (void)user, (void)channel, (void)payload, (void)len;
  app_messages++;
}

Test(device_ota, the_manifest_is_not_handed_to_the_application_callback) {
  attached();
  cr_assert_eq(iotkit_device_on_message(fx.dev, on_message, NULL), IOTKIT_OK);
  char *m = manifest("1.1.0", OTA_FX_KEY_ID);
  model_fixture_inject(&fx, "ota/manifest", m);
  cr_expect_eq(app_messages, 0);
  iotkit_ota_status_t st;
  cr_assert_eq(iotkit_ota_status(ota, &st), IOTKIT_OK);
  cr_expect_eq(st.state, IOTKIT_OTA_DOWNLOADING);
  iotkit_free(m);
}

Test(device_ota, the_status_is_reported_again_on_a_new_session) {
  attached();
  size_t before = model_fixture_count("ota/status");
  capture_drop();
  model_fixture_pump(&fx);
  cr_assert_eq(iotkit_device_connect(fx.dev), IOTKIT_OK);
  model_fixture_pump(&fx);
  cr_expect_gt(model_fixture_count("ota/status"), before);
  cr_expect(capture_subscribed("iotkit/v1/sensor-1/ota/manifest"));
}

Test(device_ota, with_a_background_loop_the_manifest_is_handed_over_by_run) {
  attached();
  cr_assert_eq(iotkit_device_start(fx.dev), IOTKIT_OK);
  char *m = manifest("1.1.0", OTA_FX_KEY_ID);
  capture_inject("iotkit/v1/sensor-1/ota/manifest", m, strlen(m));
  /* Nothing to do until the loop thread has received it; then run takes it and installs. */
  iotkit_err_t rc = IOTKIT_ERR_STATE;
  for (int i = 0; i < 500 && rc == IOTKIT_ERR_STATE; i++) {
    rc = iotkit_device_ota_run(fx.dev);
    if (rc == IOTKIT_ERR_STATE) test_msleep(10);
  }
  cr_expect_eq(rc, IOTKIT_OK, "%s", iotkit_err_name(rc));
  cr_assert_eq(iotkit_device_stop(fx.dev), IOTKIT_OK);
  iotkit_ota_status_t st;
  cr_assert_eq(iotkit_ota_status(ota, &st), IOTKIT_OK);
  cr_expect_eq(st.state, IOTKIT_OTA_PENDING);
  const char *last = model_fixture_last("ota/status");
  cr_assert(last);
  cr_expect(strstr(last, "\"state\":\"pending\""), "%s", last);
  iotkit_free(m);
}
