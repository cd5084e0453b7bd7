/* After the download: verify, mark pending, reboot; after a reboot: trial, confirmed or rolled back. */
#include <stdio.h>
#include <string.h>

#include "ota/internal.h"

static iotkit_err_t fail(iotkit_ota_t *ota, iotkit_err_t why) {
  iotkit_err_t rc = iotkit__ota_set_state(ota, IOTKIT_OTA_FAILED, why);
  return rc == IOTKIT_OK ? why : rc;
}

iotkit_err_t iotkit__ota_verify_and_mark(iotkit_ota_t *ota) {
  const iotkit_hal_t *hal = ota->cfg.hal;
  iotkit_err_t rc = IOTKIT_OK;
  if (ota->state == IOTKIT_OTA_DOWNLOADED) rc = iotkit__ota_set_state(ota, IOTKIT_OTA_VERIFYING, IOTKIT_OK);
  /* The hash streamed during this run covers the slot; after a restart, read the slot back. */
  bool streamed = ota->sha_valid && ota->offset == ota->manifest->size;
  if (rc == IOTKIT_OK && !streamed) {
    rc = iotkit__ota_rehash(ota, ota->manifest->size);
    if (rc == IOTKIT_ERR_CORRUPT) return fail(ota, IOTKIT_ERR_OTA_HASH);
  }
  if (rc != IOTKIT_OK) return rc;
  uint8_t digest[IOTKIT_SHA256_LEN];
  rc = iotkit_sha256_final(ota->sha, digest);
  ota->sha_valid = false;
  if (rc != IOTKIT_OK) return rc;
  if (!iotkit_crypto_equal(digest, ota->manifest->sha256, IOTKIT_SHA256_LEN)) return fail(ota, IOTKIT_ERR_OTA_HASH);
  /* The trust store may have changed since the manifest was accepted (a revoked key). */
  rc = iotkit_ota_manifest_verify(ota->manifest, ota->cfg.trust);
  if (rc == IOTKIT_ERR_OTA_SIGNATURE || rc == IOTKIT_ERR_OTA_UNKNOWN_KEY) return fail(ota, rc);
  if (rc == IOTKIT_OK) rc = hal->slot_mark_pending(hal->ctx, ota->slot);
  /* A power cut here leaves the slot pending and the state VERIFYING: iotkit_ota_new() sees it. */
  if (rc == IOTKIT_OK) rc = iotkit__ota_set_state(ota, IOTKIT_OTA_PENDING, IOTKIT_OK);
  return rc;
}

iotkit_err_t iotkit__ota_request_reboot(iotkit_ota_t *ota, bool ask) {
  const iotkit_hal_t *hal = ota->cfg.hal;
  if (ask && ota->cfg.on_reboot && !ota->cfg.on_reboot(ota, ota->cfg.user)) {
    iotkit_hal_logf(hal, IOTKIT_LOG_INFO, "ota: %s pending; the application defers the reboot",
                    ota->manifest->version);
    return IOTKIT_OK;
  }
  if (!hal->reboot) return IOTKIT_ERR_UNSUPPORTED;
  char reason[IOTKIT_OTA_MAX_VERSION + 32];
  snprintf(reason, sizeof(reason), "ota: boot %s on trial", ota->manifest->version);
  return hal->reboot(hal->ctx, reason);
}

/* What the slots say about an update that had reached DOWNLOADED or later. */
static iotkit_ota_state_t observed(const iotkit_ota_t *ota, const iotkit_slot_info_t *info) {
  if (info->active == ota->slot) return info->active_confirmed ? IOTKIT_OTA_CONFIRMED : IOTKIT_OTA_TRIAL;
  if (info->pending == ota->slot) return IOTKIT_OTA_PENDING;
  /* Marked pending once (the state says so, or the HAL saw its trial fail), and no longer running: rolled back. */
  if (ota->state == IOTKIT_OTA_PENDING || ota->state == IOTKIT_OTA_TRIAL || info->rolled_back)
    return IOTKIT_OTA_ROLLED_BACK;
  return ota->state;
}

iotkit_err_t iotkit__ota_reconcile(iotkit_ota_t *ota) {
  if (ota->state < IOTKIT_OTA_DOWNLOADED || ota->state > IOTKIT_OTA_TRIAL) return IOTKIT_OK;
  const iotkit_hal_t *hal = ota->cfg.hal;
  iotkit_slot_info_t info;
  iotkit_err_t rc = hal->slot_query(hal->ctx, &info);
  if (rc != IOTKIT_OK) return rc;
  iotkit_ota_state_t now = observed(ota, &info);
  if (now == IOTKIT_OTA_TRIAL && strcmp(ota->running_version, ota->manifest->version) != 0)
    iotkit_hal_logf(hal, IOTKIT_LOG_WARN, "ota: image %s on trial, but the application says it runs %s",
                    ota->manifest->version, ota->running_version);
  if (now == ota->state) return IOTKIT_OK;
  /* iotkit_ota_poll() persists its reason before reverting: a power cut after the revert keeps it. */
  iotkit_err_t why = ota->error == IOTKIT_ERR_OTA_TRIAL_TIMEOUT ? ota->error : IOTKIT_ERR_OTA_ROLLED_BACK;
  return iotkit__ota_set_state(ota, now, now == IOTKIT_OTA_ROLLED_BACK ? why : IOTKIT_OK);
}
