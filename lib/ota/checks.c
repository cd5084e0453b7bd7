/* Every check of a manifest, before a single byte is downloaded. */
#include <string.h>

#include "ota/internal.h"

/* The slot an update goes to: the one not running. */
static iotkit_err_t target_capacity(const iotkit_ota_t *ota, uint64_t *cap) {
  iotkit_slot_info_t info;
  iotkit_err_t rc = ota->cfg.hal->slot_query(ota->cfg.hal->ctx, &info);
  if (rc != IOTKIT_OK) return rc;
  *cap = info.capacity[(info.active + 1) % IOTKIT_HAL_SLOT_COUNT];
  return IOTKIT_OK;
}

iotkit_err_t iotkit__ota_check(iotkit_ota_t *ota, const char *text, size_t len, iotkit_ota_manifest_t **m_out) {
  iotkit_ota_manifest_t *m = NULL;
  iotkit_err_t rc = iotkit_ota_manifest_parse(text, len, &m);
  /* Order: who signed, what was signed, then whether it fits this device. */
  if (rc == IOTKIT_OK) rc = iotkit_ota_manifest_verify(m, ota->cfg.trust);
  if (rc == IOTKIT_OK && strcmp(m->device_type, ota->device_type) != 0) rc = IOTKIT_ERR_OTA_DEVICE_TYPE;
  uint64_t cap = 0;
  if (rc == IOTKIT_OK) rc = target_capacity(ota, &cap);
  if (rc == IOTKIT_OK && m->size > cap) rc = IOTKIT_ERR_OTA_TOO_LARGE;
  iotkit__semver_t want, running;
  if (rc == IOTKIT_OK) {
    iotkit__ota_semver_parse(m->version, &want);
    iotkit__ota_semver_parse(ota->running_version, &running);
    if (iotkit__ota_semver_cmp(&want, &running) <= 0) rc = IOTKIT_ERR_OTA_DOWNGRADE;
  }
  char floor_text[IOTKIT_OTA_MAX_VERSION + 1];
  if (rc == IOTKIT_OK) rc = iotkit__ota_floor_get(ota, floor_text, sizeof(floor_text));
  if (rc == IOTKIT_OK && *floor_text) {
    iotkit__semver_t floor;
    if (!iotkit__ota_semver_parse(floor_text, &floor)) rc = IOTKIT_ERR_CORRUPT;
    else if (iotkit__ota_semver_cmp(&want, &floor) < 0) rc = IOTKIT_ERR_OTA_BELOW_FLOOR;
  }
  *m_out = m;
  return rc;
}
