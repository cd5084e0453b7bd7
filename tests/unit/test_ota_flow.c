/* The OTA client end to end on the memory HAL: download, pending, reboot, trial, confirm, rollback, resume. */
#include "test_ota_client_util.h"

TestSuite(ota_flow, .init = setup, .fini = teardown);

typedef struct seen {
  iotkit_ota_state_t states[64];
  unsigned nstates;
  unsigned last_percent;
  bool percent_went_down;
  bool defer;
  unsigned reboot_asks;
} seen_t;

static void on_status(iotkit_ota_t *ota, void *user, const iotkit_ota_status_t *st) {
  (void)ota;
  seen_t *s = user;
  if (s->nstates == 0 || s->states[s->nstates - 1] != st->state) {
    if (s->nstates < 64) s->states[s->nstates++] = st->state;
  }
  if (st->state == IOTKIT_OTA_DOWNLOADING) {
    if (st->percent < s->last_percent) s->percent_went_down = true;
    s->last_percent = st->percent;
  }
}

static bool on_reboot(iotkit_ota_t *ota, void *user) {
  (void)ota;
  seen_t *s = user;
  s->reboot_asks++;
  return !s->defer;
}

static iotkit_ota_t *make_watched(const char *running, seen_t *s) {
  iotkit_ota_config_t cfg;
  config(&cfg, running);
  cfg.on_status = on_status;
  cfg.on_reboot = on_reboot;
  cfg.user = s;
  iotkit_ota_t *ota = NULL;
  cr_assert_eq(iotkit_ota_new(&cfg, &ota), IOTKIT_OK);
  return ota;
}

static iotkit_slot_info_t info(void) {
  iotkit_slot_info_t i;
  cr_assert_eq(hal->slot_query(hal->ctx, &i), IOTKIT_OK);
  return i;
}

/* Take the update as far as PENDING. */
static void to_pending(void) {
  iotkit_ota_t *ota = make_ota("1.0.0");
  cr_assert_eq(iotkit_ota_start(ota, manifest, strlen(manifest)), IOTKIT_OK);
  cr_assert_eq(iotkit_ota_run(ota), IOTKIT_OK);
  cr_assert_eq(status_of(ota).state, IOTKIT_OTA_PENDING);
  iotkit_ota_free(ota);
}

Test(ota_flow, full_update_is_confirmed) {
  seen_t s = {0};
  iotkit_ota_t *ota = make_watched("1.0.0", &s);
  cr_assert_eq(status_of(ota).state, IOTKIT_OTA_IDLE);
  cr_assert_eq(iotkit_ota_start(ota, manifest, strlen(manifest)), IOTKIT_OK);
  cr_assert_eq(iotkit_ota_run(ota), IOTKIT_OK);
  iotkit_ota_status_t st = status_of(ota);
  cr_assert_eq(st.state, IOTKIT_OTA_PENDING);
  cr_assert_eq(st.bytes, NEW_LEN);
  cr_assert_eq(st.percent, 100);
  cr_assert_eq(s.reboot_asks, 1);
  cr_assert_eq(iotkit_hal_memory_reboot_count(hal), 1);
  iotkit_ota_state_t want[] = {IOTKIT_OTA_DOWNLOADING, IOTKIT_OTA_DOWNLOADED, IOTKIT_OTA_VERIFYING,
                               IOTKIT_OTA_PENDING};
  cr_assert_eq(s.nstates, 4);
  cr_assert_arr_eq(s.states, want, sizeof want);
  cr_assert_not(s.percent_went_down);
  cr_assert_eq(info().pending, 0);
  iotkit_ota_free(ota);

  iotkit_boot_outcome_t o;
  cr_assert_eq(iotkit_hal_boot(hal, 3, &o), IOTKIT_OK);
  cr_assert_eq(o, IOTKIT_BOOT_TRIAL_START);
  ota = make_ota("2.0.0");
  cr_assert_eq(status_of(ota).state, IOTKIT_OTA_TRIAL);
  cr_assert_eq(iotkit_ota_start(ota, manifest, strlen(manifest)), IOTKIT_ERR_STATE, "no update during a trial");
  cr_assert_eq(iotkit_ota_confirm(ota), IOTKIT_OK);
  cr_assert_eq(status_of(ota).state, IOTKIT_OTA_CONFIRMED);
  char *js = NULL;
  cr_assert_eq(iotkit_ota_status_json(ota, &js), IOTKIT_OK);
  cr_assert_str_eq(js, "{\"state\":\"confirmed\",\"bytes\":50000,\"total\":50000,\"percent\":100,\"error\":null,"
                       "\"reason\":null,\"running_version\":\"2.0.0\",\"target_version\":\"2.0.0\"}");
  iotkit_free(js);
  iotkit_ota_free(ota);
  cr_assert_eq(iotkit_hal_boot(hal, 3, &o), IOTKIT_OK);
  cr_assert_eq(o, IOTKIT_BOOT_CONFIRMED);
  cr_assert_eq(info().active, 0);
  uint8_t sha[32];
  ota_fx_slot_hash(hal, 0, NEW_LEN, sha);
  cr_assert_arr_eq(sha, new_sha, 32);
}

Test(ota_flow, reboot_can_be_deferred) {
  seen_t s = {.defer = true};
  iotkit_ota_t *ota = make_watched("1.0.0", &s);
  cr_assert_eq(iotkit_ota_start(ota, manifest, strlen(manifest)), IOTKIT_OK);
  cr_assert_eq(iotkit_ota_run(ota), IOTKIT_OK);
  cr_assert_eq(status_of(ota).state, IOTKIT_OTA_PENDING);
  cr_assert_eq(iotkit_hal_memory_reboot_count(hal), 0);
  cr_assert_eq(iotkit_ota_reboot(ota), IOTKIT_OK);
  cr_assert_eq(iotkit_hal_memory_reboot_count(hal), 1);
  cr_assert_eq(s.reboot_asks, 1, "the explicit reboot does not ask again");
  iotkit_ota_free(ota);
}

Test(ota_flow, trial_never_confirmed_is_rolled_back_and_reported) {
  to_pending();
  iotkit_boot_outcome_t o;
  cr_assert_eq(iotkit_hal_boot(hal, 2, &o), IOTKIT_OK);
  cr_assert_eq(o, IOTKIT_BOOT_TRIAL_START);
  iotkit_ota_t *ota = make_ota("2.0.0");
  cr_assert_eq(status_of(ota).state, IOTKIT_OTA_TRIAL);
  iotkit_ota_free(ota); /* the image never confirms */
  cr_assert_eq(iotkit_hal_boot(hal, 2, &o), IOTKIT_OK);
  cr_assert_eq(o, IOTKIT_BOOT_TRIAL);
  cr_assert_eq(iotkit_hal_boot(hal, 2, &o), IOTKIT_OK);
  cr_assert_eq(o, IOTKIT_BOOT_ROLLED_BACK);
  seen_t s = {0};
  ota = make_watched("1.0.0", &s);
  iotkit_ota_status_t st = status_of(ota);
  cr_assert_eq(st.state, IOTKIT_OTA_ROLLED_BACK);
  cr_assert_eq(st.error, IOTKIT_ERR_OTA_ROLLED_BACK);
  cr_assert_eq(s.nstates, 1, "the rollback is reported");
  cr_assert_eq(s.states[0], IOTKIT_OTA_ROLLED_BACK);
  char *js = NULL;
  cr_assert_eq(iotkit_ota_status_json(ota, &js), IOTKIT_OK);
  cr_assert(strstr(js, "\"state\":\"rolled_back\",") && strstr(js, "\"error\":\"IOTKIT_ERR_OTA_ROLLED_BACK\""), "%s", js);
  iotkit_free(js);
  assert_old_untouched();
  /* The same image may be offered again later. */
  cr_assert_eq(iotkit_ota_start(ota, manifest, strlen(manifest)), IOTKIT_OK);
  iotkit_ota_free(ota);
}

/* The image crashes at every boot: the application never even starts an OTA handle during the trial. */
Test(ota_flow, trial_that_never_runs_the_app_is_rolled_back) {
  to_pending();
  for (int i = 0; i < 3; i++) cr_assert_eq(iotkit_hal_boot(hal, 3, NULL), IOTKIT_OK);
  iotkit_boot_outcome_t o;
  cr_assert_eq(iotkit_hal_boot(hal, 3, &o), IOTKIT_OK);
  cr_assert_eq(o, IOTKIT_BOOT_ROLLED_BACK);
  iotkit_ota_t *ota = make_ota("1.0.0");
  cr_assert_eq(status_of(ota).state, IOTKIT_OTA_ROLLED_BACK);
  iotkit_ota_free(ota);
}

Test(ota_flow, connection_drop_is_retried_and_resumed) {
  server.drop_at = 10000;
  to_pending();
  cr_assert_eq(server.requests, 2);
  cr_assert_eq(server.first_offset[0], 0);
  cr_assert_eq(server.first_offset[1], 10000, "resumed where it stopped");
  cr_assert_eq(server.served, NEW_LEN, "no byte twice");
}

Test(ota_flow, power_cut_mid_download_resumes_from_last_checkpoint) {
  iotkit_ota_t *ota = make_ota("1.0.0");
  cr_assert_eq(iotkit_ota_start(ota, manifest, strlen(manifest)), IOTKIT_OK);
  /* Each chunk is a slot write and a finalize (the OTA record is written at the first one only): cut mid-download. */
  cr_assert_eq(iotkit_hal_memory_cut_power_at(hal, 3 * 20 + 1), IOTKIT_OK);
  cr_assert_eq(iotkit_ota_run(ota), IOTKIT_ERR_POWER_CUT);
  iotkit_ota_free(ota);
  cr_assert_eq(iotkit_hal_memory_power_restore(hal), IOTKIT_OK);
  cr_assert_eq(iotkit_hal_boot(hal, 3, NULL), IOTKIT_OK);
  assert_old_untouched();
  ota = make_ota("1.0.0");
  iotkit_ota_status_t st = status_of(ota);
  cr_assert_eq(st.state, IOTKIT_OTA_DOWNLOADING);
  cr_assert_gt(st.bytes, 0);
  uint64_t consumed = server.served;
  cr_assert_eq(iotkit_ota_run(ota), IOTKIT_OK);
  cr_assert_eq(server.requests, 2);
  cr_assert_eq(server.first_offset[1], st.bytes);
  cr_assert_leq(consumed - server.first_offset[1], CHUNK, "refetched at most one chunk");
  cr_assert_eq(status_of(ota).state, IOTKIT_OTA_PENDING);
  iotkit_ota_free(ota);
  uint8_t sha[32];
  ota_fx_slot_hash(hal, 0, NEW_LEN, sha);
  cr_assert_arr_eq(sha, new_sha, 32);
}

Test(ota_flow, same_manifest_again_is_a_no_op_another_is_busy) {
  iotkit_ota_t *ota = make_ota("1.0.0");
  cr_assert_eq(iotkit_ota_start(ota, manifest, strlen(manifest)), IOTKIT_OK);
  cr_assert_eq(iotkit_ota_start(ota, manifest, strlen(manifest)), IOTKIT_OK);
  char *other = ota_fx_manifest(key, OTA_FX_KEY_ID, OTA_FX_DEVICE_TYPE, "2.0.1", new_img, NEW_LEN, URL);
  cr_assert_eq(iotkit_ota_start(ota, other, strlen(other)), IOTKIT_ERR_BUSY);
  cr_assert_eq(iotkit_ota_cancel(ota), IOTKIT_OK);
  cr_assert_eq(status_of(ota).state, IOTKIT_OTA_IDLE);
  cr_assert_eq(iotkit_ota_start(ota, other, strlen(other)), IOTKIT_OK);
  iotkit_free(other);
  iotkit_ota_free(ota);
}

Test(ota_flow, confirm_outside_trial_is_state) {
  iotkit_ota_t *ota = make_ota("1.0.0");
  cr_assert_eq(iotkit_ota_confirm(ota), IOTKIT_ERR_STATE);
  cr_assert_eq(iotkit_ota_run(ota), IOTKIT_ERR_STATE);
  cr_assert_eq(iotkit_ota_reboot(ota), IOTKIT_ERR_STATE);
  iotkit_ota_free(ota);
}

Test(ota_flow, idle_status_json) {
  iotkit_ota_t *ota = make_ota("1.0.0");
  char *js = NULL;
  cr_assert_eq(iotkit_ota_status_json(ota, &js), IOTKIT_OK);
  cr_assert_str_eq(js, "{\"state\":\"idle\",\"bytes\":0,\"total\":0,\"percent\":0,\"error\":null,\"reason\":null,"
                       "\"running_version\":\"1.0.0\",\"target_version\":null}");
  iotkit_free(js);
  iotkit_ota_free(ota);
}

Test(ota_flow, new_refuses_bad_config) {
  iotkit_ota_config_t cfg;
  iotkit_ota_t *ota = (iotkit_ota_t *)0x1;
  config(&cfg, "1.0.0");
  cfg.running_version = "one";
  cr_assert_eq(iotkit_ota_new(&cfg, &ota), IOTKIT_ERR_INVALID_ARG);
  config(&cfg, "1.0.0");
  cfg.trust = NULL;
  cr_assert_eq(iotkit_ota_new(&cfg, &ota), IOTKIT_ERR_INVALID_ARG);
  config(&cfg, "1.0.0");
  cfg.chunk_size = 10;
  cr_assert_eq(iotkit_ota_new(&cfg, &ota), IOTKIT_ERR_INVALID_ARG);
  config(&cfg, "1.0.0");
  cfg.device_type = "a b";
  cr_assert_eq(iotkit_ota_new(&cfg, &ota), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_ota_new(NULL, &ota), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(ota, (iotkit_ota_t *)0x1);
}

Test(ota_flow, corrupt_state_record_is_corrupt) {
  cr_assert_eq(hal->kv_set(hal->ctx, "ota.state", "{\"state\":\"nope\"}", 16), IOTKIT_OK);
  iotkit_ota_config_t cfg;
  config(&cfg, "1.0.0");
  iotkit_ota_t *ota = NULL;
  cr_assert_eq(iotkit_ota_new(&cfg, &ota), IOTKIT_ERR_CORRUPT);
}

Test(ota_flow, null_arguments) {
  cr_assert_eq(iotkit_ota_start(NULL, "x", 1), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_ota_run(NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_ota_confirm(NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_ota_status_json(NULL, &(char *){0}), IOTKIT_ERR_INVALID_ARG);
  cr_assert_str_eq(iotkit_ota_state_name((iotkit_ota_state_t)42), "?");
  iotkit_ota_free(NULL);
  iotkit_ota_abort(NULL);
}
