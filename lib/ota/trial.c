/* The trial time limit: an image on trial that is not confirmed in time is rolled back (iotkit_ota_poll). */
#include <stdio.h>

#include "ota/internal.h"

static bool reverted(const iotkit_ota_t *ota) {
  iotkit_slot_info_t info;
  const iotkit_hal_t *hal = ota->cfg.hal;
  return hal->slot_query(hal->ctx, &info) == IOTKIT_OK && info.active != ota->slot && info.active_confirmed;
}

/* Give up the trial: persist the reason, revert the boot record, persist and report ROLLED_BACK, reboot.
   Each step is one atomic write, so a power cut between two leaves a state iotkit_ota_new() reconciles. */
static iotkit_err_t give_up(iotkit_ota_t *ota) {
  const iotkit_hal_t *hal = ota->cfg.hal;
  iotkit_err_t rc = IOTKIT_OK;
  if (ota->error != IOTKIT_ERR_OTA_TRIAL_TIMEOUT) {
    /* Still TRIAL, now with its reason: so the reason survives a cut right after the revert. */
    iotkit_err_t old = ota->error;
    ota->error = IOTKIT_ERR_OTA_TRIAL_TIMEOUT;
    rc = iotkit__ota_persist(ota);
    if (rc != IOTKIT_OK) ota->error = old;
  }
  if (rc == IOTKIT_OK) rc = hal->slot_revert(hal->ctx);
  /* A call that reverted and then failed to persist ROLLED_BACK: the record is already right. */
  if (rc == IOTKIT_ERR_STATE && reverted(ota)) rc = IOTKIT_OK;
  if (rc == IOTKIT_OK) rc = iotkit__ota_set_state(ota, IOTKIT_OTA_ROLLED_BACK, IOTKIT_ERR_OTA_TRIAL_TIMEOUT);
  if (rc != IOTKIT_OK) return rc;
  ota->reverted = true;
  if (!hal->reboot) return IOTKIT_ERR_UNSUPPORTED;
  char reason[IOTKIT_OTA_MAX_VERSION + 64];
  snprintf(reason, sizeof(reason), "ota: %s not confirmed within %u s: back to the previous image",
           ota->manifest->version, (unsigned)ota->cfg.trial_timeout_s);
  return hal->reboot(hal->ctx, reason);
}

iotkit_err_t iotkit_ota_poll(iotkit_ota_t *ota) {
  if (!ota) return IOTKIT_ERR_INVALID_ARG;
  if (ota->state != IOTKIT_OTA_TRIAL || ota->cfg.trial_timeout_s == 0) return IOTKIT_OK;
  const iotkit_hal_t *hal = ota->cfg.hal;
  uint64_t elapsed = hal->monotonic_ms(hal->ctx) - ota->trial_since_ms;
  if (elapsed < (uint64_t)ota->cfg.trial_timeout_s * 1000u) return IOTKIT_OK;
  return give_up(ota);
}
