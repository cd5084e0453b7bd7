/* The OTA client handle: configuration, manifest intake, confirm, cancel, security floor. */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "ota/internal.h"

#define CHUNK_MIN 1024u
#define CHUNK_MAX (1024u * 1024u)

void iotkit_ota_config_init(iotkit_ota_config_t *cfg) {
  if (!cfg) return;
  memset(cfg, 0, sizeof(*cfg));
  cfg->struct_size = sizeof(*cfg);
  cfg->chunk_size = 16u * 1024u;
  cfg->checkpoint_chunks = 1;
  cfg->max_retries = 5;
  cfg->retry_base_ms = 500;
  cfg->retry_max_ms = 30000;
  cfg->timeout_ms = 30000;
  cfg->trial_timeout_s = IOTKIT_OTA_TRIAL_TIMEOUT_S;
}

static bool hal_ok(const iotkit_hal_t *h) {
  return h && iotkit_hal_validate(h) == IOTKIT_OK && h->slot_open && h->slot_write && h->slot_read &&
         h->slot_finalize && h->slot_mark_pending && h->slot_confirm && h->slot_query;
}

static bool config_ok(const iotkit_ota_config_t *c) {
  iotkit__semver_t v;
  return hal_ok(c->hal) && c->trust && iotkit__is_safe_name(c->device_type, IOTKIT_OTA_MAX_NAME) &&
         iotkit__ota_semver_parse(c->running_version, &v) && c->chunk_size >= CHUNK_MIN &&
         c->chunk_size <= CHUNK_MAX && c->checkpoint_chunks > 0;
}

void iotkit_ota_free(iotkit_ota_t *ota) {
  if (!ota) return;
  iotkit_ota_manifest_free(ota->manifest);
  free(ota->manifest_text);
  free(ota->ca_file);
  free(ota->psk_identity);
  iotkit__free_secret(ota->psk_key_hex);
  free(ota->buf);
  iotkit_sha256_free(ota->sha);
  free(ota);
}

iotkit_err_t iotkit_ota_new(const iotkit_ota_config_t *user_cfg, iotkit_ota_t **out) {
  if (!user_cfg || !out) return IOTKIT_ERR_INVALID_ARG;
  /* Only the prefix the caller knows is read, and only the HAL operations its struct_size covers. */
  iotkit_ota_config_t full;
  if (IOTKIT__STRUCT_IN(full, iotkit_ota_config_init, user_cfg, IOTKIT__OTA_CONFIG) != IOTKIT_OK || !config_ok(&full))
    return IOTKIT_ERR_INVALID_ARG;
  const iotkit_ota_config_t *cfg = &full;
  iotkit_hal_t view;
  const iotkit_hal_t *hal = iotkit__hal_view(cfg->hal, &view);
  if (cfg->trial_timeout_s && !IOTKIT__HAS_OP(hal, slot_revert)) return IOTKIT_ERR_UNSUPPORTED;
  iotkit_ota_t *ota = calloc(1, sizeof(*ota));
  if (!ota) return IOTKIT_ERR_NOMEM;
  ota->cfg = *cfg;
  if (hal == &view) {
    ota->hal_view = view;
    ota->cfg.hal = &ota->hal_view;
  }
  memcpy(ota->device_type, cfg->device_type, strlen(cfg->device_type) + 1);
  memcpy(ota->running_version, cfg->running_version, strlen(cfg->running_version) + 1);
  ota->cfg.device_type = ota->device_type;
  ota->cfg.running_version = ota->running_version;
  ota->ca_file = iotkit__strdup(cfg->ca_file);
  ota->cfg.ca_file = ota->ca_file;
  ota->psk_identity = iotkit__strdup(cfg->psk_identity);
  ota->cfg.psk_identity = ota->psk_identity;
  ota->psk_key_hex = iotkit__strdup(cfg->psk_key_hex);
  ota->cfg.psk_key_hex = ota->psk_key_hex;
  ota->slot = -1;
  atomic_init(&ota->abort, false);
  /* Made once per boot: the nearest the library sees to the boot's start. */
  ota->trial_since_ms = cfg->hal->monotonic_ms(cfg->hal->ctx);
  ota->buf = malloc(cfg->chunk_size);
  iotkit_err_t rc = ota->buf && (!cfg->ca_file || ota->ca_file) && (!cfg->psk_identity || ota->psk_identity) &&
                            (!cfg->psk_key_hex || ota->psk_key_hex)
                        ? IOTKIT_OK
                        : IOTKIT_ERR_NOMEM;
  if (rc == IOTKIT_OK) rc = iotkit_sha256_new(&ota->sha);
  if (rc == IOTKIT_OK) rc = iotkit__ota_state_load(ota);
  if (rc == IOTKIT_OK) rc = iotkit__ota_reconcile(ota);
  if (rc != IOTKIT_OK) {
    iotkit_ota_free(ota);
    return rc;
  }
  *out = ota;
  return IOTKIT_OK;
}

iotkit_err_t iotkit_ota_check(iotkit_ota_t *ota, const char *manifest, size_t len) {
  if (!ota || !manifest) return IOTKIT_ERR_INVALID_ARG;
  iotkit_ota_manifest_t *m = NULL;
  iotkit_err_t rc = iotkit__ota_check(ota, manifest, len, &m);
  iotkit_ota_manifest_free(m);
  return rc;
}

static bool in_progress(iotkit_ota_state_t s) { return s >= IOTKIT_OTA_DOWNLOADING && s <= IOTKIT_OTA_PENDING; }

/* Make @m (and @text, copied) the handle's manifest. */
static iotkit_err_t adopt(iotkit_ota_t *ota, iotkit_ota_manifest_t *m, const char *text, size_t len) {
  char *copy = text ? malloc(len + 1) : NULL;
  if (text && !copy) return IOTKIT_ERR_NOMEM;
  if (copy) {
    memcpy(copy, text, len);
    copy[len] = '\0';
  }
  iotkit_ota_manifest_free(ota->manifest);
  free(ota->manifest_text);
  ota->manifest = m;
  ota->manifest_text = copy;
  return IOTKIT_OK;
}

iotkit_err_t iotkit_ota_start(iotkit_ota_t *ota, const char *manifest, size_t len) {
  if (!ota || !manifest) return IOTKIT_ERR_INVALID_ARG;
  /* After a time-limit rollback the image still running sits in the slot a download would erase. */
  if (ota->state == IOTKIT_OTA_TRIAL || ota->reverted) return IOTKIT_ERR_STATE;
  if (in_progress(ota->state)) {
    bool same = ota->manifest_text && strlen(ota->manifest_text) == len && memcmp(ota->manifest_text, manifest, len) == 0;
    return same ? IOTKIT_OK : IOTKIT_ERR_BUSY;
  }
  iotkit_ota_manifest_t *m = NULL;
  iotkit_err_t refusal = iotkit__ota_check(ota, manifest, len, &m);
  if (refusal != IOTKIT_OK) {
    /* Reported with the refused manifest (when it parsed); no slot is touched. */
    iotkit_ota_manifest_t *old_m = ota->manifest;
    char *old_text = ota->manifest_text;
    int old_slot = ota->slot;
    uint64_t old_offset = ota->offset;
    ota->manifest = m;
    ota->manifest_text = NULL;
    ota->slot = -1;
    ota->offset = 0;
    iotkit_err_t rc = iotkit__ota_set_state(ota, IOTKIT_OTA_FAILED, refusal);
    if (rc != IOTKIT_OK) {
      ota->manifest = old_m;
      ota->manifest_text = old_text;
      ota->slot = old_slot;
      ota->offset = old_offset;
      old_m = m;
      old_text = NULL;
    }
    iotkit_ota_manifest_free(old_m);
    free(old_text);
    return rc != IOTKIT_OK ? rc : refusal;
  }
  iotkit_slot_info_t info;
  const iotkit_hal_t *hal = ota->cfg.hal;
  iotkit_err_t rc = hal->slot_query(hal->ctx, &info);
  if (rc == IOTKIT_OK && !info.active_confirmed) rc = IOTKIT_ERR_STATE;
  if (rc == IOTKIT_OK) rc = hal->kv_set(hal->ctx, IOTKIT__OTA_KEY_MANIFEST, manifest, len);
  if (rc == IOTKIT_OK) rc = adopt(ota, m, manifest, len);
  if (rc != IOTKIT_OK) {
    iotkit_ota_manifest_free(m);
    return rc;
  }
  ota->slot = (info.active + 1) % IOTKIT_HAL_SLOT_COUNT;
  ota->offset = 0;
  ota->sha_valid = false;
  return iotkit__ota_set_state(ota, IOTKIT_OTA_DOWNLOADING, IOTKIT_OK);
}

iotkit_err_t iotkit_ota_run(iotkit_ota_t *ota) {
  if (!ota) return IOTKIT_ERR_INVALID_ARG;
  atomic_store(&ota->abort, false);
  iotkit_err_t rc = IOTKIT_OK;
  if (ota->state == IOTKIT_OTA_DOWNLOADING) rc = iotkit__ota_download(ota);
  else if (ota->state < IOTKIT_OTA_DOWNLOADED || ota->state > IOTKIT_OTA_PENDING) return IOTKIT_ERR_STATE;
  if (rc == IOTKIT_OK && ota->state != IOTKIT_OTA_PENDING) rc = iotkit__ota_verify_and_mark(ota);
  if (rc == IOTKIT_OK) rc = iotkit__ota_request_reboot(ota, true);
  return rc;
}

void iotkit_ota_abort(iotkit_ota_t *ota) {
  if (ota) atomic_store(&ota->abort, true);
}

iotkit_err_t iotkit_ota_reboot(iotkit_ota_t *ota) {
  if (!ota) return IOTKIT_ERR_INVALID_ARG;
  if (ota->state != IOTKIT_OTA_PENDING) return IOTKIT_ERR_STATE;
  return iotkit__ota_request_reboot(ota, false);
}

iotkit_err_t iotkit_ota_confirm(iotkit_ota_t *ota) {
  if (!ota) return IOTKIT_ERR_INVALID_ARG;
  if (ota->state != IOTKIT_OTA_TRIAL) return IOTKIT_ERR_STATE;
  iotkit_err_t rc = ota->cfg.hal->slot_confirm(ota->cfg.hal->ctx);
  /* Were the power to go now, iotkit_ota_new() would find the slot confirmed and say so. */
  return rc == IOTKIT_OK ? iotkit__ota_set_state(ota, IOTKIT_OTA_CONFIRMED, IOTKIT_OK) : rc;
}

iotkit_err_t iotkit_ota_cancel(iotkit_ota_t *ota) {
  if (!ota) return IOTKIT_ERR_INVALID_ARG;
  if (ota->state == IOTKIT_OTA_PENDING || ota->state == IOTKIT_OTA_TRIAL) return IOTKIT_ERR_STATE;
  int slot = ota->slot;
  uint64_t offset = ota->offset;
  ota->slot = -1;
  ota->offset = 0;
  iotkit_err_t rc = iotkit__ota_set_state(ota, IOTKIT_OTA_IDLE, IOTKIT_OK);
  if (rc != IOTKIT_OK) {
    ota->slot = slot;
    ota->offset = offset;
  }
  return rc;
}

iotkit_err_t iotkit_ota_set_security_floor(iotkit_ota_t *ota, const char *version) {
  iotkit__semver_t want, cur;
  if (!ota || !iotkit__ota_semver_parse(version, &want)) return IOTKIT_ERR_INVALID_ARG;
  char floor_text[IOTKIT_OTA_MAX_VERSION + 1];
  iotkit_err_t rc = iotkit__ota_floor_get(ota, floor_text, sizeof(floor_text));
  if (rc != IOTKIT_OK) return rc;
  if (*floor_text && iotkit__ota_semver_parse(floor_text, &cur) && iotkit__ota_semver_cmp(&want, &cur) < 0)
    return IOTKIT_ERR_STATE;
  return ota->cfg.hal->kv_set(ota->cfg.hal->ctx, IOTKIT__OTA_KEY_FLOOR, version, strlen(version));
}
