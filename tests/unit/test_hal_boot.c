/* The simulated bootloader step (iotkit_hal_boot) and slot_resume, on both shipped HALs. */
#include <criterion/criterion.h>
#include <string.h>

#include "hal_tmpdir.h"
#include "iotkit/iotkit.h"

static char dir[256];

static iotkit_hal_t *make(bool posix) {
  iotkit_hal_t *hal = NULL;
  if (posix) {
    hal_tmpdir_make(dir, sizeof dir);
    iotkit_hal_posix_config_t cfg;
    iotkit_hal_posix_config_init(&cfg);
    cfg.state_dir = dir;
    cfg.slot_capacity = 4096;
    cfg.log_fd = -1;
    cr_assert_eq(iotkit_hal_posix_new(&cfg, &hal), IOTKIT_OK);
  } else {
    cr_assert_eq(iotkit_hal_memory_new(NULL, &hal), IOTKIT_OK);
  }
  return hal;
}

static void destroy(iotkit_hal_t *hal, bool posix) {
  iotkit_hal_free(hal);
  if (posix) hal_tmpdir_remove(dir);
}

/* Free a POSIX HAL and make a new one on the same directory. */
static iotkit_hal_t *reopen(iotkit_hal_t *hal) {
  iotkit_hal_free(hal);
  iotkit_hal_posix_config_t cfg;
  iotkit_hal_posix_config_init(&cfg);
  cfg.state_dir = dir;
  cfg.slot_capacity = 4096;
  cfg.log_fd = -1;
  cr_assert_eq(iotkit_hal_posix_new(&cfg, &hal), IOTKIT_OK);
  return hal;
}

static iotkit_slot_info_t query(iotkit_hal_t *hal) {
  iotkit_slot_info_t info;
  cr_assert_eq(hal->slot_query(hal->ctx, &info), IOTKIT_OK);
  return info;
}

static void write_pending(iotkit_hal_t *hal, int slot, const char *text) {
  cr_assert_eq(hal->slot_open(hal->ctx, slot), IOTKIT_OK);
  cr_assert_eq(hal->slot_write(hal->ctx, slot, 0, text, strlen(text)), IOTKIT_OK);
  cr_assert_eq(hal->slot_finalize(hal->ctx, slot, strlen(text)), IOTKIT_OK);
  cr_assert_eq(hal->slot_mark_pending(hal->ctx, slot), IOTKIT_OK);
}

static iotkit_boot_outcome_t boot(iotkit_hal_t *hal, uint32_t max) {
  iotkit_boot_outcome_t o = (iotkit_boot_outcome_t)99;
  cr_assert_eq(iotkit_hal_boot(hal, max, &o), IOTKIT_OK);
  return o;
}

static void pending_becomes_trial(bool posix) {
  iotkit_hal_t *hal = make(posix);
  cr_assert_eq(boot(hal, 3), IOTKIT_BOOT_CONFIRMED);
  write_pending(hal, 1, "new");
  cr_assert_eq(boot(hal, 3), IOTKIT_BOOT_TRIAL_START);
  iotkit_slot_info_t i = query(hal);
  cr_assert_eq(i.active, 1);
  cr_assert_eq(i.pending, -1);
  cr_assert_not(i.active_confirmed);
  cr_assert_eq(i.trial_boots, 1);
  cr_assert_eq(hal->slot_confirm(hal->ctx), IOTKIT_OK);
  cr_assert_eq(boot(hal, 3), IOTKIT_BOOT_CONFIRMED);
  cr_assert_eq(query(hal).active, 1);
  destroy(hal, posix);
}
Test(hal_boot, memory_pending_becomes_trial_then_confirmed) { pending_becomes_trial(false); }
Test(hal_boot, posix_pending_becomes_trial_then_confirmed) { pending_becomes_trial(true); }

static void unconfirmed_rolls_back(bool posix) {
  iotkit_hal_t *hal = make(posix);
  write_pending(hal, 1, "new");
  cr_assert_eq(boot(hal, 3), IOTKIT_BOOT_TRIAL_START);
  cr_assert_eq(boot(hal, 3), IOTKIT_BOOT_TRIAL);
  cr_assert_eq(boot(hal, 3), IOTKIT_BOOT_TRIAL);
  cr_assert_eq(query(hal).trial_boots, 3);
  cr_assert_not(query(hal).rolled_back);
  cr_assert_eq(boot(hal, 3), IOTKIT_BOOT_ROLLED_BACK);
  iotkit_slot_info_t i = query(hal);
  cr_assert_eq(i.active, 0);
  cr_assert(i.active_confirmed);
  cr_assert(i.rolled_back);
  cr_assert_eq(i.trial_boots, 0);
  cr_assert_eq(boot(hal, 3), IOTKIT_BOOT_CONFIRMED);
  /* A new image clears the flag. */
  cr_assert_eq(hal->slot_open(hal->ctx, 1), IOTKIT_OK);
  cr_assert_not(query(hal).rolled_back);
  destroy(hal, posix);
}
Test(hal_boot, memory_unconfirmed_image_rolls_back_after_budget) { unconfirmed_rolls_back(false); }
Test(hal_boot, posix_unconfirmed_image_rolls_back_after_budget) { unconfirmed_rolls_back(true); }

/* The confirmed fallback cannot be touched while the new image is on trial. */
static void fallback_protected(bool posix) {
  iotkit_hal_t *hal = make(posix);
  write_pending(hal, 1, "new");
  boot(hal, 3);
  cr_assert_eq(hal->slot_open(hal->ctx, 0), IOTKIT_ERR_STATE);
  cr_assert_eq(hal->slot_resume(hal->ctx, 0), IOTKIT_ERR_STATE);
  destroy(hal, posix);
}
Test(hal_boot, memory_fallback_slot_protected_during_trial) { fallback_protected(false); }
Test(hal_boot, posix_fallback_slot_protected_during_trial) { fallback_protected(true); }

static void resume_keeps_finalized(bool posix) {
  iotkit_hal_t *hal = make(posix);
  cr_assert_eq(hal->slot_open(hal->ctx, 1), IOTKIT_OK);
  cr_assert_eq(hal->slot_write(hal->ctx, 1, 0, "abcdef", 6), IOTKIT_OK);
  cr_assert_eq(hal->slot_finalize(hal->ctx, 1, 4), IOTKIT_OK);
  cr_assert_eq(hal->slot_write(hal->ctx, 1, 4, "XY", 2), IOTKIT_OK);
  boot(hal, 3); /* a reset: the slot is closed */
  cr_assert_eq(hal->slot_write(hal->ctx, 1, 4, "ef", 2), IOTKIT_ERR_STATE);
  cr_assert_eq(hal->slot_resume(hal->ctx, 1), IOTKIT_OK);
  char buf[8] = {0};
  size_t got = 0;
  cr_assert_eq(hal->slot_read(hal->ctx, 1, 0, buf, sizeof buf, &got), IOTKIT_OK);
  cr_assert_eq(got, 4);
  cr_assert_str_eq(buf, "abcd");
  cr_assert_eq(hal->slot_write(hal->ctx, 1, 4, "ef", 2), IOTKIT_OK);
  cr_assert_eq(hal->slot_finalize(hal->ctx, 1, 6), IOTKIT_OK);
  cr_assert_eq(query(hal).size[1], 6);
  destroy(hal, posix);
}
Test(hal_boot, memory_resume_keeps_finalized_bytes) { resume_keeps_finalized(false); }
Test(hal_boot, posix_resume_keeps_finalized_bytes) { resume_keeps_finalized(true); }

static void resume_refusals(bool posix) {
  iotkit_hal_t *hal = make(posix);
  cr_assert_eq(hal->slot_resume(hal->ctx, 0), IOTKIT_ERR_STATE, "active slot");
  cr_assert_eq(hal->slot_resume(hal->ctx, 2), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(hal->slot_resume(hal->ctx, -1), IOTKIT_ERR_INVALID_ARG);
  write_pending(hal, 1, "x");
  cr_assert_eq(hal->slot_resume(hal->ctx, 1), IOTKIT_ERR_STATE, "pending slot");
  destroy(hal, posix);
}
Test(hal_boot, memory_resume_refusals) { resume_refusals(false); }
Test(hal_boot, posix_resume_refusals) { resume_refusals(true); }

Test(hal_boot, zero_budget_is_invalid) {
  iotkit_hal_t *hal = make(false);
  cr_assert_eq(iotkit_hal_boot(hal, 0, NULL), IOTKIT_ERR_INVALID_ARG);
  iotkit_hal_free(hal);
}

Test(hal_boot, hand_filled_hal_is_invalid) {
  iotkit_hal_t h;
  iotkit_hal_init(&h);
  cr_assert_eq(iotkit_hal_boot(&h, 3, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_hal_boot(NULL, 3, NULL), IOTKIT_ERR_INVALID_ARG);
}

Test(hal_boot, memory_boot_fails_while_power_is_cut_and_changes_nothing) {
  iotkit_hal_t *hal = make(false);
  write_pending(hal, 1, "new");
  cr_assert_eq(iotkit_hal_memory_cut_power_at(hal, 1), IOTKIT_OK);
  cr_assert_eq(iotkit_hal_boot(hal, 3, NULL), IOTKIT_ERR_POWER_CUT);
  cr_assert_eq(iotkit_hal_memory_power_restore(hal), IOTKIT_OK);
  cr_assert_eq(query(hal).pending, 1);
  cr_assert_eq(query(hal).active, 0);
  cr_assert_eq(boot(hal, 3), IOTKIT_BOOT_TRIAL_START);
  iotkit_hal_free(hal);
}

Test(hal_boot, posix_boot_survives_reopen) {
  iotkit_hal_t *hal = make(true);
  write_pending(hal, 1, "new");
  boot(hal, 3);
  hal = reopen(hal);
  cr_assert_eq(query(hal).active, 1);
  cr_assert_eq(query(hal).trial_boots, 1);
  destroy(hal, true);
}

/* slot_revert: the trial given up at once, as the boot step does when the budget is spent. */
static void revert_gives_up_trial(bool posix) {
  iotkit_hal_t *hal = make(posix);
  write_pending(hal, 1, "new");
  cr_assert_eq(boot(hal, 3), IOTKIT_BOOT_TRIAL_START);
  cr_assert_eq(hal->slot_revert(hal->ctx), IOTKIT_OK);
  iotkit_slot_info_t i = query(hal);
  cr_assert_eq(i.active, 0);
  cr_assert(i.active_confirmed);
  cr_assert(i.rolled_back);
  cr_assert_eq(i.trial_boots, 0);
  cr_assert_eq(i.pending, -1);
  cr_assert_eq(boot(hal, 3), IOTKIT_BOOT_CONFIRMED);
  cr_assert_eq(query(hal).active, 0);
  /* The tried image may be replaced now. */
  cr_assert_eq(hal->slot_open(hal->ctx, 1), IOTKIT_OK);
  destroy(hal, posix);
}
Test(hal_boot, memory_revert_gives_up_the_trial) { revert_gives_up_trial(false); }
Test(hal_boot, posix_revert_gives_up_the_trial) { revert_gives_up_trial(true); }

static void revert_of_confirmed_refused(bool posix) {
  iotkit_hal_t *hal = make(posix);
  cr_assert_eq(hal->slot_revert(hal->ctx), IOTKIT_ERR_STATE, "factory image");
  write_pending(hal, 1, "new");
  cr_assert_eq(hal->slot_revert(hal->ctx), IOTKIT_ERR_STATE, "pending, not yet booted");
  boot(hal, 3);
  cr_assert_eq(hal->slot_confirm(hal->ctx), IOTKIT_OK);
  cr_assert_eq(hal->slot_revert(hal->ctx), IOTKIT_ERR_STATE, "confirmed");
  cr_assert_eq(query(hal).active, 1);
  cr_assert(query(hal).active_confirmed);
  destroy(hal, posix);
}
Test(hal_boot, memory_revert_of_a_confirmed_image_is_a_state_error) { revert_of_confirmed_refused(false); }
Test(hal_boot, posix_revert_of_a_confirmed_image_is_a_state_error) { revert_of_confirmed_refused(true); }

Test(hal_boot, memory_revert_cut_by_power_leaves_the_trial) {
  iotkit_hal_t *hal = make(false);
  write_pending(hal, 1, "new");
  boot(hal, 3);
  cr_assert_eq(iotkit_hal_memory_cut_power_at(hal, 1), IOTKIT_OK);
  cr_assert_eq(hal->slot_revert(hal->ctx), IOTKIT_ERR_POWER_CUT);
  cr_assert_eq(iotkit_hal_memory_power_restore(hal), IOTKIT_OK);
  iotkit_slot_info_t i = query(hal);
  cr_assert_eq(i.active, 1);
  cr_assert_not(i.active_confirmed, "the fallback in slot 0 is still the confirmed image");
  cr_assert_not(i.rolled_back);
  cr_assert_eq(hal->slot_revert(hal->ctx), IOTKIT_OK);
  cr_assert_eq(query(hal).active, 0);
  iotkit_hal_free(hal);
}

Test(hal_boot, posix_revert_survives_reopen) {
  iotkit_hal_t *hal = make(true);
  write_pending(hal, 1, "new");
  boot(hal, 3);
  cr_assert_eq(hal->slot_revert(hal->ctx), IOTKIT_OK);
  hal = reopen(hal);
  iotkit_slot_info_t i = query(hal);
  cr_assert_eq(i.active, 0);
  cr_assert(i.active_confirmed);
  cr_assert(i.rolled_back);
  destroy(hal, true);
}
