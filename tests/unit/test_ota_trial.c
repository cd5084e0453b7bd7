/* The trial time limit (trial_timeout_s, iotkit_ota_poll) on the memory HAL's manual clock:
   an image not confirmed in time is rolled back, reported and rebooted away from. */
#include "hal_tmpdir.h"
#include "test_ota_client_util.h"

TestSuite(ota_trial, .init = setup, .fini = teardown);

#define LIMIT_MS (IOTKIT_OTA_TRIAL_TIMEOUT_S * 1000ull)

typedef struct seen {
  iotkit_ota_state_t last;
  iotkit_err_t last_error;
  unsigned reports;
} seen_t;

static void on_status(iotkit_ota_t *ota, void *user, const iotkit_ota_status_t *st) {
  (void)ota;
  seen_t *s = user;
  s->last = st->state;
  s->last_error = st->error;
  s->reports++;
}

/* The client of the image the HAL boots now: 2.0.0 in slot 0, 1.0.0 in slot 1. */
static iotkit_ota_t *boot_client(uint32_t timeout_s, seen_t *s) {
  iotkit_slot_info_t info;
  cr_assert_eq(hal->slot_query(hal->ctx, &info), IOTKIT_OK);
  iotkit_ota_config_t cfg;
  config(&cfg, info.active == 0 ? "2.0.0" : "1.0.0");
  cfg.trial_timeout_s = timeout_s;
  cfg.on_status = s ? on_status : NULL;
  cfg.user = s;
  iotkit_ota_t *ota = NULL;
  cr_assert_eq(iotkit_ota_new(&cfg, &ota), IOTKIT_OK);
  return ota;
}

/* Install 2.0.0 and boot it through @bootloader (the library-made HAL behind `hal`): the client is on trial. */
static iotkit_ota_t *on_trial_of(iotkit_hal_t *bootloader, uint32_t timeout_s, seen_t *s) {
  iotkit_ota_t *ota = make_ota("1.0.0");
  cr_assert_eq(iotkit_ota_start(ota, manifest, strlen(manifest)), IOTKIT_OK);
  cr_assert_eq(iotkit_ota_run(ota), IOTKIT_OK);
  iotkit_ota_free(ota);
  iotkit_boot_outcome_t o;
  cr_assert_eq(iotkit_hal_boot(bootloader, 3, &o), IOTKIT_OK);
  cr_assert_eq(o, IOTKIT_BOOT_TRIAL_START);
  ota = boot_client(timeout_s, s);
  cr_assert_eq(status_of(ota).state, IOTKIT_OTA_TRIAL);
  return ota;
}

static iotkit_ota_t *on_trial(uint32_t timeout_s, seen_t *s) { return on_trial_of(hal, timeout_s, s); }

/* Rolled back by the time limit: 1.0.0 runs confirmed in slot 1, as the client says. */
static void assert_timed_out(iotkit_ota_t *ota) {
  iotkit_ota_status_t st = status_of(ota);
  cr_assert_eq(st.state, IOTKIT_OTA_ROLLED_BACK, "%s", iotkit_ota_state_name(st.state));
  cr_assert_eq(st.error, IOTKIT_ERR_OTA_TRIAL_TIMEOUT, "%s", iotkit_err_name(st.error));
  assert_old_untouched();
}

/* ----------------------------------------------------------- bad input -- */

Test(ota_trial, poll_null_is_invalid) { cr_expect_eq(iotkit_ota_poll(NULL), IOTKIT_ERR_INVALID_ARG); }

Test(ota_trial, poll_outside_trial_is_a_no_op) {
  iotkit_ota_t *ota = make_ota("1.0.0");
  cr_assert_eq(iotkit_hal_memory_advance(hal, 10 * LIMIT_MS), IOTKIT_OK);
  uint64_t writes = iotkit_hal_memory_write_count(hal);
  cr_expect_eq(iotkit_ota_poll(ota), IOTKIT_OK);
  cr_expect_eq(status_of(ota).state, IOTKIT_OTA_IDLE);
  cr_expect_eq(iotkit_hal_memory_write_count(hal), writes);
  cr_expect_eq(iotkit_hal_memory_reboot_count(hal), 0);
  iotkit_ota_free(ota);
}

Test(ota_trial, time_limit_without_slot_revert_is_unsupported) {
  iotkit_hal_t copy = *hal; /* a HAL an integrator filled without the optional operation */
  copy.slot_revert = NULL;
  iotkit_ota_config_t cfg;
  config(&cfg, "1.0.0");
  cfg.hal = &copy;
  iotkit_ota_t *ota = NULL;
  cr_expect_eq(iotkit_ota_new(&cfg, &ota), IOTKIT_ERR_UNSUPPORTED);
  cr_expect_null(ota);
  cfg.trial_timeout_s = 0;
  cr_expect_eq(iotkit_ota_new(&cfg, &ota), IOTKIT_OK, "no time limit, no need to revert");
  iotkit_ota_free(ota);
}

/* ----------------------------------------------------------- behaviour -- */

Test(ota_trial, default_limit_is_five_minutes) {
  iotkit_ota_config_t cfg;
  iotkit_ota_config_init(&cfg);
  cr_expect_eq(cfg.trial_timeout_s, 300u);
}

Test(ota_trial, unconfirmed_trial_is_rolled_back_at_the_deadline_and_reported) {
  seen_t s = {0};
  iotkit_ota_t *ota = on_trial(IOTKIT_OTA_TRIAL_TIMEOUT_S, &s);
  unsigned reboots = iotkit_hal_memory_reboot_count(hal);
  cr_assert_eq(iotkit_hal_memory_advance(hal, LIMIT_MS - 1), IOTKIT_OK);
  cr_assert_eq(iotkit_ota_poll(ota), IOTKIT_OK);
  cr_assert_eq(status_of(ota).state, IOTKIT_OTA_TRIAL, "1 ms before the deadline");
  cr_assert_eq(iotkit_hal_memory_advance(hal, 1), IOTKIT_OK);
  cr_assert_eq(iotkit_ota_poll(ota), IOTKIT_OK);
  assert_timed_out(ota);
  cr_assert_eq(s.last, IOTKIT_OTA_ROLLED_BACK, "reported");
  cr_assert_eq(s.last_error, IOTKIT_ERR_OTA_TRIAL_TIMEOUT);
  cr_assert_eq(iotkit_hal_memory_reboot_count(hal), reboots + 1);
  cr_assert(strstr(iotkit_hal_memory_log(hal), "2.0.0 not confirmed within 300 s"), "%s", iotkit_hal_memory_log(hal));
  char *js = NULL;
  cr_assert_eq(iotkit_ota_status_json(ota, &js), IOTKIT_OK);
  cr_assert(strstr(js, "\"state\":\"rolled_back\",") && strstr(js, "\"error\":\"IOTKIT_ERR_OTA_TRIAL_TIMEOUT\""), "%s",
            js);
  iotkit_free(js);
  cr_assert_eq(iotkit_ota_confirm(ota), IOTKIT_ERR_STATE, "too late");
  unsigned before = s.reports;
  cr_assert_eq(iotkit_ota_poll(ota), IOTKIT_OK);
  cr_assert_eq(s.reports, before, "a later poll does nothing");
  cr_assert_eq(iotkit_ota_start(ota, manifest, strlen(manifest)), IOTKIT_ERR_STATE, "no download before the reboot");
  iotkit_ota_free(ota);

  /* After the reboot the previous image runs, and the persisted state says why. */
  iotkit_boot_outcome_t o;
  cr_assert_eq(iotkit_hal_boot(hal, 3, &o), IOTKIT_OK);
  cr_assert_eq(o, IOTKIT_BOOT_CONFIRMED);
  ota = boot_client(IOTKIT_OTA_TRIAL_TIMEOUT_S, NULL);
  assert_timed_out(ota);
  /* The same image may be offered again. */
  cr_assert_eq(iotkit_ota_start(ota, manifest, strlen(manifest)), IOTKIT_OK);
  iotkit_ota_free(ota);
}

Test(ota_trial, confirmed_before_the_deadline_stays_confirmed) {
  iotkit_ota_t *ota = on_trial(60, NULL);
  cr_assert_eq(iotkit_hal_memory_advance(hal, 59999), IOTKIT_OK);
  cr_assert_eq(iotkit_ota_poll(ota), IOTKIT_OK);
  cr_assert_eq(iotkit_ota_confirm(ota), IOTKIT_OK);
  cr_assert_eq(iotkit_hal_memory_advance(hal, 10 * 60000), IOTKIT_OK);
  uint64_t writes = iotkit_hal_memory_write_count(hal);
  unsigned reboots = iotkit_hal_memory_reboot_count(hal);
  cr_assert_eq(iotkit_ota_poll(ota), IOTKIT_OK);
  cr_assert_eq(status_of(ota).state, IOTKIT_OTA_CONFIRMED);
  cr_assert_eq(iotkit_hal_memory_write_count(hal), writes, "the poll wrote nothing");
  cr_assert_eq(iotkit_hal_memory_reboot_count(hal), reboots);
  iotkit_slot_info_t info;
  cr_assert_eq(hal->slot_query(hal->ctx, &info), IOTKIT_OK);
  cr_assert_eq(info.active, 0);
  cr_assert(info.active_confirmed);
  iotkit_ota_free(ota);
}

Test(ota_trial, zero_limit_never_times_out) {
  iotkit_ota_t *ota = on_trial(0, NULL);
  cr_assert_eq(iotkit_hal_memory_advance(hal, 30ull * 24 * 3600 * 1000), IOTKIT_OK);
  uint64_t writes = iotkit_hal_memory_write_count(hal);
  cr_assert_eq(iotkit_ota_poll(ota), IOTKIT_OK);
  cr_assert_eq(status_of(ota).state, IOTKIT_OTA_TRIAL);
  cr_assert_eq(iotkit_hal_memory_write_count(hal), writes);
  cr_assert_eq(iotkit_ota_confirm(ota), IOTKIT_OK);
  iotkit_ota_free(ota);
}

/* The limit counts from this boot's client: a reboot on trial gets the whole limit again. */
Test(ota_trial, each_boot_on_trial_gets_the_whole_limit) {
  iotkit_ota_t *ota = on_trial(60, NULL);
  cr_assert_eq(iotkit_hal_memory_advance(hal, 50000), IOTKIT_OK);
  iotkit_ota_free(ota); /* the image crashes and reboots */
  iotkit_boot_outcome_t o;
  cr_assert_eq(iotkit_hal_boot(hal, 3, &o), IOTKIT_OK);
  cr_assert_eq(o, IOTKIT_BOOT_TRIAL);
  ota = boot_client(60, NULL);
  cr_assert_eq(iotkit_hal_memory_advance(hal, 59999), IOTKIT_OK);
  cr_assert_eq(iotkit_ota_poll(ota), IOTKIT_OK);
  cr_assert_eq(status_of(ota).state, IOTKIT_OTA_TRIAL);
  cr_assert_eq(iotkit_hal_memory_advance(hal, 1), IOTKIT_OK);
  cr_assert_eq(iotkit_ota_poll(ota), IOTKIT_OK);
  assert_timed_out(ota);
  iotkit_ota_free(ota);
}

/* Exactly one confirmed bootable image: the active one if confirmed, else the other; here always 1.0.0 in slot 1. */
static void assert_one_confirmed_image(void) {
  iotkit_slot_info_t info;
  cr_assert_eq(hal->slot_query(hal->ctx, &info), IOTKIT_OK);
  int confirmed = info.active_confirmed ? info.active : 1 - info.active;
  cr_assert_eq(confirmed, 1, "active %d, confirmed %d", info.active, info.active_confirmed);
  cr_assert_eq(info.pending, -1);
  uint8_t sha[32];
  ota_fx_slot_hash(hal, 1, OLD_LEN, sha);
  cr_assert_arr_eq(sha, old_sha, 32);
}

/* The rollback makes 3 writes (reason, boot record, state): a cut at each, then restore and boot. */
Test(ota_trial, power_cut_at_every_write_of_the_rollback_keeps_one_confirmed_image) {
  unsigned k = 1;
  for (;; k++) {
    iotkit_ota_t *ota = on_trial(60, NULL);
    cr_assert_eq(iotkit_hal_memory_advance(hal, 60000), IOTKIT_OK);
    cr_assert_eq(iotkit_hal_memory_cut_power_at(hal, k), IOTKIT_OK);
    iotkit_err_t rc = iotkit_ota_poll(ota);
    iotkit_ota_free(ota);
    if (rc == IOTKIT_OK) break; /* k is past the last write */
    cr_assert_eq(rc, IOTKIT_ERR_POWER_CUT, "k=%u: %s", k, iotkit_err_name(rc));
    cr_assert_eq(iotkit_hal_memory_power_restore(hal), IOTKIT_OK);
    assert_one_confirmed_image();
    cr_assert_eq(iotkit_hal_boot(hal, 3, NULL), IOTKIT_OK);
    assert_one_confirmed_image();
    ota = boot_client(60, NULL);
    if (status_of(ota).state == IOTKIT_OTA_TRIAL) {
      /* Cut before the revert: still on trial, given up again at this boot's deadline. */
      cr_assert_eq(iotkit_hal_memory_advance(hal, 60000), IOTKIT_OK);
      cr_assert_eq(iotkit_ota_poll(ota), IOTKIT_OK, "k=%u", k);
    }
    assert_timed_out(ota);
    iotkit_ota_free(ota);
    teardown();
    setup();
  }
  cr_assert_eq(k, 4, "the rollback made %u writes", k - 1);
}

/* A failed write (not a power cut) leaves the client on trial; the next poll finishes the rollback. */
Test(ota_trial, failed_write_of_the_rollback_is_finished_by_the_next_poll) {
  for (unsigned k = 1; k <= 3; k++) {
    iotkit_ota_t *ota = on_trial(60, NULL);
    unsigned reboots = iotkit_hal_memory_reboot_count(hal);
    cr_assert_eq(iotkit_hal_memory_advance(hal, 60000), IOTKIT_OK);
    cr_assert_eq(iotkit_hal_memory_fail_write(hal, k), IOTKIT_OK);
    cr_assert_eq(iotkit_ota_poll(ota), IOTKIT_ERR_INJECTED, "k=%u", k);
    cr_assert_eq(status_of(ota).state, IOTKIT_OTA_TRIAL, "k=%u", k);
    assert_one_confirmed_image();
    cr_assert_eq(iotkit_ota_poll(ota), IOTKIT_OK, "k=%u", k);
    assert_timed_out(ota);
    cr_assert_eq(iotkit_hal_memory_reboot_count(hal), reboots + 1, "one reboot, k=%u", k);
    iotkit_ota_free(ota);
    teardown();
    setup();
  }
}

/* ------------------------------------------------------------- POSIX -- */

static uint64_t fake_now;
static uint64_t fake_ms(void *ctx) {
  (void)ctx;
  return fake_now;
}

static iotkit_hal_t *posix_hal(const char *dir) {
  iotkit_hal_posix_config_t pc;
  iotkit_hal_posix_config_init(&pc);
  pc.state_dir = dir;
  pc.slot_capacity = 1u << 20;
  pc.log_fd = -1;
  iotkit_hal_t *p = NULL;
  cr_assert_eq(iotkit_hal_posix_new(&pc, &p), IOTKIT_OK);
  return p;
}

/* The POSIX HAL reverts its boot record on disk; a copy of it reads a clock the test moves. */
Test(ota_trial, posix_hal_rolls_back_at_the_deadline_and_the_record_survives_a_restart) {
  char dir[256];
  hal_tmpdir_make(dir, sizeof dir);
  iotkit_hal_t *posix = posix_hal(dir);
  ota_fx_install(posix, old_img, OLD_LEN);
  iotkit_hal_t clocked = *posix;
  clocked.monotonic_ms = fake_ms;
  iotkit_hal_t *mem = hal;
  hal = &clocked; /* what make_ota(), boot_client() and the assertions use */
  iotkit_ota_t *ota = on_trial_of(posix, 60, NULL);
  fake_now += 59999;
  cr_assert_eq(iotkit_ota_poll(ota), IOTKIT_OK);
  cr_assert_eq(status_of(ota).state, IOTKIT_OTA_TRIAL);
  fake_now += 1;
  cr_assert_eq(iotkit_ota_poll(ota), IOTKIT_OK, "the POSIX HAL only logs the reboot");
  assert_timed_out(ota);
  iotkit_ota_free(ota);

  iotkit_hal_free(posix); /* the process restarts */
  posix = posix_hal(dir);
  iotkit_boot_outcome_t o;
  cr_assert_eq(iotkit_hal_boot(posix, 3, &o), IOTKIT_OK);
  cr_assert_eq(o, IOTKIT_BOOT_CONFIRMED);
  clocked = *posix;
  clocked.monotonic_ms = fake_ms;
  ota = boot_client(60, NULL);
  assert_timed_out(ota);
  iotkit_ota_free(ota);
  hal = mem;
  iotkit_hal_free(posix);
  hal_tmpdir_remove(dir);
}
