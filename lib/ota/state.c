/* The persisted OTA state record ("ota.state") and status reports. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "ota/internal.h"

static const char *const k_names[] = {"idle",    "downloading", "downloaded",  "verifying", "pending",
                                      "trial",   "confirmed",   "rolled_back", "failed"};

const char *iotkit_ota_state_name(iotkit_ota_state_t state) {
  return (unsigned)state < IOTKIT__ARRAY_LEN(k_names) ? k_names[state] : "?";
}

static int state_of(const char *name) {
  for (size_t i = 0; name && i < IOTKIT__ARRAY_LEN(k_names); i++)
    if (strcmp(name, k_names[i]) == 0) return (int)i;
  return -1;
}

/* The record: {"state":"downloading","error":0,"slot":1,"offset":65536}. */
iotkit_err_t iotkit__ota_persist(iotkit_ota_t *ota) {
  cJSON *o = cJSON_CreateObject();
  if (!o || !cJSON_AddStringToObject(o, "state", iotkit_ota_state_name(ota->state)) ||
      !cJSON_AddNumberToObject(o, "error", ota->error) || !cJSON_AddNumberToObject(o, "slot", ota->slot) ||
      !cJSON_AddNumberToObject(o, "offset", (double)ota->offset)) {
    cJSON_Delete(o);
    return IOTKIT_ERR_NOMEM;
  }
  char *text = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  if (!text) return IOTKIT_ERR_NOMEM;
  iotkit_err_t rc = ota->cfg.hal->kv_set(ota->cfg.hal->ctx, IOTKIT__OTA_KEY_STATE, text, strlen(text));
  cJSON_free(text);
  if (rc == IOTKIT_OK) ota->persisted_offset = ota->offset;
  return rc;
}

/* Read @key whole into a new NUL-terminated string (NULL with OK if absent). */
static iotkit_err_t kv_read(const iotkit_hal_t *hal, const char *key, char **out, size_t max) {
  size_t len = 0;
  iotkit_err_t rc = hal->kv_get(hal->ctx, key, NULL, 0, &len);
  *out = NULL;
  if (rc == IOTKIT_ERR_NOT_FOUND) return IOTKIT_OK;
  if (rc != IOTKIT_OK && rc != IOTKIT_ERR_BUFFER_TOO_SMALL) return rc;
  if (len > max) return IOTKIT_ERR_CORRUPT;
  char *buf = malloc(len + 1);
  if (!buf) return IOTKIT_ERR_NOMEM;
  rc = hal->kv_get(hal->ctx, key, buf, len, &len);
  if (rc != IOTKIT_OK) {
    free(buf);
    return rc;
  }
  buf[len] = '\0';
  *out = buf;
  return IOTKIT_OK;
}

static bool get_int(const cJSON *o, const char *name, double lo, double hi, double *out) {
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
  if (!cJSON_IsNumber(it) || it->valuedouble < lo || it->valuedouble > hi) return false;
  *out = it->valuedouble;
  return true;
}

iotkit_err_t iotkit__ota_state_load(iotkit_ota_t *ota) {
  const iotkit_hal_t *hal = ota->cfg.hal;
  char *text = NULL;
  iotkit_err_t rc = kv_read(hal, IOTKIT__OTA_KEY_STATE, &text, 1024);
  if (rc != IOTKIT_OK || !text) return rc; /* absent: idle */
  cJSON *o = cJSON_Parse(text);
  free(text);
  int st = state_of(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "state")));
  double err = 0, slot = 0, off = 0;
  bool ok = st >= 0 && get_int(o, "error", -1000, 0, &err) && get_int(o, "slot", -1, IOTKIT_HAL_SLOT_COUNT - 1, &slot) &&
            get_int(o, "offset", 0, 9007199254740992.0, &off);
  cJSON_Delete(o);
  if (!ok) return IOTKIT_ERR_CORRUPT;
  ota->state = (iotkit_ota_state_t)st;
  ota->error = (iotkit_err_t)err;
  ota->slot = (int)slot;
  ota->offset = ota->persisted_offset = (uint64_t)off;
  /* No slot: no update got past the checks (IDLE, or FAILED with a refusal). */
  if (ota->slot < 0) return ota->state == IOTKIT_OTA_IDLE || ota->state == IOTKIT_OTA_FAILED ? IOTKIT_OK : IOTKIT_ERR_CORRUPT;
  rc = kv_read(hal, IOTKIT__OTA_KEY_MANIFEST, &ota->manifest_text, IOTKIT__OTA_MANIFEST_MAX);
  if (rc == IOTKIT_OK && ota->manifest_text)
    rc = iotkit_ota_manifest_parse(ota->manifest_text, strlen(ota->manifest_text), &ota->manifest);
  if (rc == IOTKIT_ERR_OTA_MANIFEST) rc = IOTKIT_ERR_CORRUPT;
  if (rc == IOTKIT_OK && !ota->manifest) rc = IOTKIT_ERR_CORRUPT;
  /* A download's progress since its first checkpoint is the slot size the HAL recorded. */
  if (rc == IOTKIT_OK && ota->state == IOTKIT_OTA_DOWNLOADING && ota->offset > 0 && hal->slot_resume) {
    iotkit_slot_info_t info;
    rc = hal->slot_query(hal->ctx, &info);
    if (rc == IOTKIT_OK) ota->offset = info.size[ota->slot];
  }
  return rc;
}

iotkit_err_t iotkit__ota_set_state(iotkit_ota_t *ota, iotkit_ota_state_t state, iotkit_err_t error) {
  iotkit_ota_state_t old_state = ota->state;
  iotkit_err_t old_error = ota->error;
  ota->state = state;
  ota->error = error;
  iotkit_err_t rc = iotkit__ota_persist(ota);
  if (rc != IOTKIT_OK) {
    ota->state = old_state;
    ota->error = old_error;
    return rc;
  }
  iotkit_hal_logf(ota->cfg.hal, error ? IOTKIT_LOG_WARN : IOTKIT_LOG_INFO, "ota: %s%s%s", iotkit_ota_state_name(state),
                  error ? ": " : "", error ? iotkit_strerror(error) : "");
  iotkit__ota_report(ota);
  return IOTKIT_OK;
}

/* Fill a whole local status: the public call copies the prefix the caller knows. */
static void fill_status(const iotkit_ota_t *ota, iotkit_ota_status_t *st) {
  memset(st, 0, sizeof(*st));
  st->struct_size = sizeof(*st);
  st->state = ota->state;
  st->error = ota->error;
  st->running_version = ota->running_version;
  st->target_version = ota->manifest ? ota->manifest->version : "";
  st->total = ota->manifest ? ota->manifest->size : 0;
  bool done = ota->state >= IOTKIT_OTA_DOWNLOADED && ota->state <= IOTKIT_OTA_CONFIRMED;
  st->bytes = done ? st->total : ota->offset;
  st->percent = st->total ? (unsigned)(st->bytes * 100 / st->total) : 0;
}

iotkit_err_t iotkit_ota_status_sized(iotkit_ota_t *ota, iotkit_ota_status_t *st, size_t size) {
  if (!ota || !st || size == 0) return IOTKIT_ERR_INVALID_ARG;
  iotkit_ota_status_t full;
  fill_status(ota, &full);
  size_t n = size < sizeof(full) ? size : sizeof(full);
  full.struct_size = n;
  memcpy(st, &full, n);
  return IOTKIT_OK;
}

void iotkit__ota_report(iotkit_ota_t *ota) {
  if (!ota->cfg.on_status && !ota->observer) return;
  iotkit_ota_status_t st;
  fill_status(ota, &st);
  if (ota->cfg.on_status) ota->cfg.on_status(ota, ota->cfg.user, &st);
  if (ota->observer) ota->observer(ota, ota->observer_user, &st);
}

void iotkit__ota_set_observer(iotkit_ota_t *ota, iotkit_ota_status_cb cb, void *user) {
  ota->observer = cb;
  ota->observer_user = user;
}

iotkit_err_t iotkit_ota_status_json(iotkit_ota_t *ota, char **json) {
  iotkit_ota_status_t st;
  if (!json || iotkit_ota_status(ota, &st) != IOTKIT_OK) return IOTKIT_ERR_INVALID_ARG;
  cJSON *o = cJSON_CreateObject();
  bool ok = o && cJSON_AddStringToObject(o, "state", iotkit_ota_state_name(st.state)) &&
            cJSON_AddNumberToObject(o, "bytes", (double)st.bytes) &&
            cJSON_AddNumberToObject(o, "total", (double)st.total) &&
            cJSON_AddNumberToObject(o, "percent", st.percent) &&
            (st.error ? cJSON_AddStringToObject(o, "error", iotkit_err_name(st.error)) != NULL
                      : cJSON_AddNullToObject(o, "error") != NULL) &&
            (st.error ? cJSON_AddStringToObject(o, "reason", iotkit_strerror(st.error)) != NULL
                      : cJSON_AddNullToObject(o, "reason") != NULL) &&
            cJSON_AddStringToObject(o, "running_version", st.running_version) &&
            (*st.target_version ? cJSON_AddStringToObject(o, "target_version", st.target_version) != NULL
                                : cJSON_AddNullToObject(o, "target_version") != NULL);
  char *text = ok ? cJSON_PrintUnformatted(o) : NULL;
  cJSON_Delete(o);
  if (!text) return IOTKIT_ERR_NOMEM;
  char *out = iotkit__strdup(text);
  cJSON_free(text);
  if (!out) return IOTKIT_ERR_NOMEM;
  *json = out;
  return IOTKIT_OK;
}

iotkit_err_t iotkit__ota_floor_get(const iotkit_ota_t *ota, char *buf, size_t cap) {
  size_t len = 0;
  iotkit_err_t rc = ota->cfg.hal->kv_get(ota->cfg.hal->ctx, IOTKIT__OTA_KEY_FLOOR, buf, cap - 1, &len);
  if (rc == IOTKIT_ERR_NOT_FOUND) len = 0;
  else if (rc == IOTKIT_ERR_BUFFER_TOO_SMALL) return IOTKIT_ERR_CORRUPT;
  else if (rc != IOTKIT_OK) return rc;
  buf[len] = '\0';
  return IOTKIT_OK;
}
