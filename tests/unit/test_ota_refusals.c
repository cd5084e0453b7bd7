/* Every refusal of an update, each with its own code and status report; the confirmed slot stays untouched. */
#include "test_ota_client_util.h"

TestSuite(ota_refusal, .init = setup, .fini = teardown);

/* iotkit_ota_start() refuses @json with @code before any download. */
static void expect_start_refused(iotkit_ota_t *ota, const char *json, iotkit_err_t code) {
  cr_assert_eq(iotkit_ota_check(ota, json, strlen(json)), code);
  cr_assert_eq(iotkit_ota_start(ota, json, strlen(json)), code);
  iotkit_ota_status_t st = status_of(ota);
  cr_assert_eq(st.state, IOTKIT_OTA_FAILED);
  cr_assert_eq(st.error, code);
  char *js = NULL;
  cr_assert_eq(iotkit_ota_status_json(ota, &js), IOTKIT_OK);
  cr_assert(strstr(js, iotkit_err_name(code)) != NULL, "%s", js);
  cr_assert(strstr(js, "\"state\":\"failed\"") != NULL, "%s", js);
  iotkit_free(js);
  cr_assert_eq(server.requests, 0, "nothing downloaded");
  assert_old_untouched();
}

static void refused(const char *version, const char *device_type, const iotkit_key_t *k, const char *kid,
                    iotkit_err_t code) {
  char *j = ota_fx_manifest(k, kid, device_type, version, new_img, NEW_LEN, URL);
  iotkit_ota_t *ota = make_ota("1.0.0");
  expect_start_refused(ota, j, code);
  iotkit_ota_free(ota);
  /* The refusal was persisted: a restart reports it. */
  ota = make_ota("1.0.0");
  cr_assert_eq(status_of(ota).state, IOTKIT_OTA_FAILED);
  cr_assert_eq(status_of(ota).error, code);
  iotkit_ota_free(ota);
  iotkit_free(j);
}

Test(ota_refusal, unknown_key) {
  iotkit_key_t *other = ota_fx_key(hal, IOTKIT_KEY_ED25519);
  refused("2.0.0", OTA_FX_DEVICE_TYPE, other, "rogue", IOTKIT_ERR_OTA_UNKNOWN_KEY);
  iotkit_key_free(other);
}
Test(ota_refusal, field_modified_after_signing) {
  char *j = strdup(manifest);
  char *v = strstr(j, "\"2.0.0\"");
  v[1] = '3';
  iotkit_ota_t *ota = make_ota("1.0.0");
  expect_start_refused(ota, j, IOTKIT_ERR_OTA_SIGNATURE);
  iotkit_ota_free(ota);
  free(j);
}
Test(ota_refusal, malformed_manifest) {
  iotkit_ota_t *ota = make_ota("1.0.0");
  expect_start_refused(ota, "{\"x\":1}", IOTKIT_ERR_OTA_MANIFEST);
  iotkit_ota_free(ota);
}
Test(ota_refusal, downgrade) { refused("0.9.0", OTA_FX_DEVICE_TYPE, key, OTA_FX_KEY_ID, IOTKIT_ERR_OTA_DOWNGRADE); }
Test(ota_refusal, same_version) { refused("1.0.0", OTA_FX_DEVICE_TYPE, key, OTA_FX_KEY_ID, IOTKIT_ERR_OTA_DOWNGRADE); }
Test(ota_refusal, pre_release_of_running_version) {
  refused("1.0.0-rc.9", OTA_FX_DEVICE_TYPE, key, OTA_FX_KEY_ID, IOTKIT_ERR_OTA_DOWNGRADE);
}
Test(ota_refusal, wrong_device_type) { refused("2.0.0", "toaster", key, OTA_FX_KEY_ID, IOTKIT_ERR_OTA_DEVICE_TYPE); }
Test(ota_refusal, below_security_floor) {
  iotkit_ota_t *ota = make_ota("1.0.0");
  cr_assert_eq(iotkit_ota_set_security_floor(ota, "2.1.0"), IOTKIT_OK);
  iotkit_ota_free(ota);
  refused("2.0.0", OTA_FX_DEVICE_TYPE, key, OTA_FX_KEY_ID, IOTKIT_ERR_OTA_BELOW_FLOOR);
}
Test(ota_refusal, security_floor_never_goes_down) {
  iotkit_ota_t *ota = make_ota("1.0.0");
  cr_assert_eq(iotkit_ota_set_security_floor(ota, "2.1.0"), IOTKIT_OK);
  cr_assert_eq(iotkit_ota_set_security_floor(ota, "2.0.9"), IOTKIT_ERR_STATE);
  cr_assert_eq(iotkit_ota_set_security_floor(ota, "nope"), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_ota_check(ota, manifest, strlen(manifest)), IOTKIT_ERR_OTA_BELOW_FLOOR);
  iotkit_ota_free(ota);
}

/* A slot one byte too small for the image. */
static void setup_small(void) { setup_with_capacity(NEW_LEN - 1); }

Test(ota_refusal_small_slot, oversize_image, .init = setup_small, .fini = teardown) {
  iotkit_ota_t *ota = make_ota("1.0.0");
  expect_start_refused(ota, manifest, IOTKIT_ERR_OTA_TOO_LARGE);
  iotkit_ota_free(ota);
}

/* Refusals found while downloading: the update fails, the new slot is never pending. */
static void expect_run_fails(iotkit_err_t code) {
  iotkit_ota_t *ota = make_ota("1.0.0");
  cr_assert_eq(iotkit_ota_start(ota, manifest, strlen(manifest)), IOTKIT_OK);
  cr_assert_eq(iotkit_ota_run(ota), code);
  cr_assert_eq(status_of(ota).state, IOTKIT_OTA_FAILED);
  cr_assert_eq(status_of(ota).error, code);
  cr_assert_eq(iotkit_hal_memory_reboot_count(hal), 0);
  assert_old_untouched();
  cr_assert_eq(iotkit_ota_run(ota), IOTKIT_ERR_STATE, "a failed update stays failed");
  iotkit_ota_free(ota);
}

Test(ota_refusal, flipped_bit_in_image) {
  uint8_t *bad = ota_fx_image(NEW_LEN, 2);
  bad[NEW_LEN / 2] ^= 0x04;
  server.data = bad;
  expect_run_fails(IOTKIT_ERR_OTA_HASH);
  free(bad);
}
Test(ota_refusal, truncated_image) {
  server.len = NEW_LEN - 1;
  expect_run_fails(IOTKIT_ERR_OTA_SIZE);
}
Test(ota_refusal, longer_image) {
  uint8_t *big = calloc(1, NEW_LEN + 10);
  memcpy(big, new_img, NEW_LEN);
  server.data = big;
  server.len = NEW_LEN + 10;
  expect_run_fails(IOTKIT_ERR_OTA_SIZE);
  free(big);
}
Test(ota_refusal, not_found) {
  server.fail_with = IOTKIT_ERR_NOT_FOUND;
  expect_run_fails(IOTKIT_ERR_NOT_FOUND);
  cr_assert_eq(server.requests, 1, "a 404 is not retried");
}
Test(ota_refusal, server_error_retried_then_failed) {
  server.fail_with = IOTKIT_ERR_OTA_SERVER;
  expect_run_fails(IOTKIT_ERR_OTA_SERVER);
  cr_assert_eq(server.requests, 6, "first try and 5 retries");
}
Test(ota_refusal, key_revoked_before_verification) {
  iotkit_ota_t *ota = make_ota("1.0.0");
  cr_assert_eq(iotkit_ota_start(ota, manifest, strlen(manifest)), IOTKIT_OK);
  cr_assert_eq(iotkit_ota_trust_remove(trust, OTA_FX_KEY_ID), IOTKIT_OK);
  cr_assert_eq(iotkit_ota_run(ota), IOTKIT_ERR_OTA_UNKNOWN_KEY);
  cr_assert_eq(status_of(ota).state, IOTKIT_OTA_FAILED);
  assert_old_untouched();
  iotkit_ota_free(ota);
}
Test(ota_refusal, network_errors_exhausted_leave_it_resumable) {
  server.fail_with = IOTKIT_ERR_CONNECT;
  iotkit_ota_t *ota = make_ota("1.0.0");
  cr_assert_eq(iotkit_ota_start(ota, manifest, strlen(manifest)), IOTKIT_OK);
  cr_assert_eq(iotkit_ota_run(ota), IOTKIT_ERR_CONNECT);
  cr_assert_eq(status_of(ota).state, IOTKIT_OTA_DOWNLOADING);
  cr_assert_eq(status_of(ota).error, IOTKIT_ERR_CONNECT);
  server.fail_with = IOTKIT_OK;
  cr_assert_eq(iotkit_ota_run(ota), IOTKIT_OK);
  cr_assert_eq(status_of(ota).state, IOTKIT_OTA_PENDING);
  iotkit_ota_free(ota);
}
