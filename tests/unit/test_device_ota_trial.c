/* The device glue enforces the OTA trial time limit: a device with an attached client rolls an
   unconfirmed image back and reports it on ota/status, without application code (capture transport,
   memory HAL with a manual clock). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "model_fixture.h"
#include "ota_fixture.h"

#define IMAGE_LEN 20000u
#define NEW_VERSION "1.1.0"
#define LIMIT_S 60u

static model_fixture_t fx;
static iotkit_ota_trust_t *trust;
static iotkit_key_t *key;
static iotkit_ota_t *ota;
static uint8_t *image;
static ota_fx_server_t server;

static void make_client(const char *running) {
  iotkit_ota_config_t oc;
  ota_fx_config(&oc, fx.hal, trust, running, &server);
  oc.trial_timeout_s = LIMIT_S;
  cr_assert_eq(iotkit_ota_new(&oc, &ota), IOTKIT_OK);
}

static void attach_and_connect(void) {
  cr_assert_eq(iotkit_device_new(&fx.cfg, &fx.dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_ota_attach(fx.dev, ota), IOTKIT_OK);
  model_fixture_connect(&fx);
}

/* Install 1.1.0 through the device, reboot (device and client made again), and boot it on trial. */
static void setup(void) {
  model_fixture_init(&fx);
  ota_fx_trust(fx.hal, &key, &trust);
  image = ota_fx_image(IMAGE_LEN, 9);
  server = (ota_fx_server_t){.data = image, .len = IMAGE_LEN};
  make_client(OTA_FX_OLD_VERSION);
  attach_and_connect();
  char *m = ota_fx_manifest(key, OTA_FX_KEY_ID, OTA_FX_DEVICE_TYPE, NEW_VERSION, image, IMAGE_LEN,
                            "https://updates.example.com/fw.bin");
  cr_assert_eq(iotkit_device_ota_offer(fx.dev, m, strlen(m)), IOTKIT_OK);
  iotkit_free(m);
  cr_assert_eq(iotkit_device_ota_run(fx.dev), IOTKIT_OK);
  iotkit_device_free(fx.dev);
  fx.dev = NULL;
  iotkit_ota_free(ota);
  iotkit_boot_outcome_t o;
  cr_assert_eq(iotkit_hal_boot(fx.hal, 3, &o), IOTKIT_OK);
  cr_assert_eq(o, IOTKIT_BOOT_TRIAL_START);
  make_client(NEW_VERSION);
}

static void teardown(void) {
  model_fixture_fini(&fx); /* the device first: the client must outlive it */
  iotkit_ota_free(ota);
  iotkit_ota_trust_free(trust);
  iotkit_key_free(key);
  free(image);
}

TestSuite(device_ota_trial, .init = setup, .fini = teardown);

static iotkit_ota_state_t state_now(void) {
  iotkit_ota_status_t st;
  cr_assert_eq(iotkit_ota_status(ota, &st), IOTKIT_OK);
  return st.state;
}

/* The factory image (slot 0) is active and confirmed again; the tried one (slot 1) is not. */
static void assert_reverted(void) {
  iotkit_slot_info_t info;
  cr_assert_eq(fx.hal->slot_query(fx.hal->ctx, &info), IOTKIT_OK);
  cr_assert_eq(info.active, 0);
  cr_assert(info.active_confirmed);
  cr_assert(info.rolled_back);
}

Test(device_ota_trial, polled_device_rolls_back_an_unconfirmed_image_and_reports_it) {
  attach_and_connect();
  const char *st = model_fixture_last("ota/status");
  cr_assert(st && strstr(st, "\"state\":\"trial\""), "%s", st ? st : "(none)");
  unsigned reboots = iotkit_hal_memory_reboot_count(fx.hal);
  model_fixture_advance(&fx, LIMIT_S * 1000u - 1);
  model_fixture_pump(&fx);
  cr_assert_eq(state_now(), IOTKIT_OTA_TRIAL, "1 ms before the deadline");
  model_fixture_advance(&fx, 1);
  cr_assert_eq(iotkit_device_poll(fx.dev, 0), IOTKIT_OK);
  model_fixture_pump(&fx);
  cr_assert_eq(state_now(), IOTKIT_OTA_ROLLED_BACK);
  st = model_fixture_last("ota/status");
  cr_assert(st);
  /* As in docs/protocol.md (Install, trial, rollback); the image that timed out still runs until the reboot. */
  cr_expect_str_eq(st, "{\"state\":\"rolled_back\",\"bytes\":20000,\"total\":20000,\"percent\":100,"
                       "\"error\":\"IOTKIT_ERR_OTA_TRIAL_TIMEOUT\",\"reason\":\"OTA image not confirmed within "
                       "the trial time: rolled back\",\"running_version\":\"1.1.0\",\"target_version\":\"1.1.0\"}");
  cr_expect_eq(iotkit_hal_memory_reboot_count(fx.hal), reboots + 1);
  assert_reverted();
}

Test(device_ota_trial, confirmed_image_is_kept_by_a_polled_device) {
  attach_and_connect();
  model_fixture_advance(&fx, 1000);
  cr_assert_eq(iotkit_ota_confirm(ota), IOTKIT_OK);
  model_fixture_advance(&fx, 10 * LIMIT_S * 1000u);
  model_fixture_pump(&fx);
  cr_assert_eq(state_now(), IOTKIT_OTA_CONFIRMED);
  const char *st = model_fixture_last("ota/status");
  cr_assert(st && strstr(st, "\"state\":\"confirmed\""), "%s", st ? st : "(none)");
}

/* An image that cannot reach its broker is rolled back too: the poll enforces the limit while disconnected. */
Test(device_ota_trial, disconnected_polled_device_rolls_back) {
  cr_assert_eq(iotkit_device_new(&fx.cfg, &fx.dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_ota_attach(fx.dev, ota), IOTKIT_OK);
  model_fixture_advance(&fx, LIMIT_S * 1000u);
  cr_assert_eq(iotkit_device_poll(fx.dev, 0), IOTKIT_ERR_NOT_CONNECTED);
  cr_assert_eq(state_now(), IOTKIT_OTA_ROLLED_BACK);
  assert_reverted();
  /* Reported at the start of the next session. */
  model_fixture_connect(&fx);
  const char *st = model_fixture_last("ota/status");
  cr_assert(st && strstr(st, "\"error\":\"IOTKIT_ERR_OTA_TRIAL_TIMEOUT\""), "%s", st ? st : "(none)");
}

Test(device_ota_trial, device_with_a_background_loop_rolls_back_in_ota_run) {
  attach_and_connect();
  cr_assert_eq(iotkit_device_start(fx.dev), IOTKIT_OK);
  model_fixture_advance(&fx, LIMIT_S * 1000u);
  cr_expect_eq(iotkit_device_ota_run(fx.dev), IOTKIT_ERR_STATE, "nothing to download");
  cr_assert_eq(iotkit_device_stop(fx.dev), IOTKIT_OK);
  cr_assert_eq(state_now(), IOTKIT_OTA_ROLLED_BACK);
  assert_reverted();
  const char *st = model_fixture_last("ota/status");
  cr_assert(st && strstr(st, "\"state\":\"rolled_back\""), "%s", st ? st : "(none)");
}
