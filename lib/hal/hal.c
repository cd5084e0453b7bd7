/* HAL helpers common to every implementation: init, validate, logf, free. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "hal/hal_internal.h"
#include "iotkit/options.h"

void iotkit_hal_init(iotkit_hal_t *hal) {
  if (!hal) return;
  memset(hal, 0, sizeof(*hal));
  hal->struct_size = sizeof(*hal);
}

iotkit_err_t iotkit_hal_validate(const iotkit_hal_t *hal) {
  if (iotkit__struct_check(hal, IOTKIT__HAL_SIZE_0_2, IOTKIT__HAL_REQUIRED) != IOTKIT_OK) return IOTKIT_ERR_INVALID_ARG;
  bool ok = hal->monotonic_ms && hal->wall_ms && hal->random && hal->kv_get && hal->kv_set && hal->kv_erase &&
            hal->log && hal->mutex_new && hal->mutex_lock && hal->mutex_unlock && hal->mutex_free;
  return ok ? IOTKIT_OK : IOTKIT_ERR_INVALID_ARG;
}

const iotkit_hal_t *iotkit__hal_view(const iotkit_hal_t *hal, iotkit_hal_t *view) {
  if (IOTKIT__STRUCT_SIZE(hal, IOTKIT__HAL_SIZE_0_2) >= sizeof(*hal)) return hal;
  iotkit_hal_init(view);
  (void)iotkit__struct_copy(view, sizeof(*view), hal, IOTKIT__HAL_SIZE_0_2, IOTKIT__HAL_REQUIRED);
  return view;
}

void iotkit_hal_log(const iotkit_hal_t *hal, iotkit_log_level_t level, const char *text) {
  if (!hal || !hal->log || !text) return;
  char line[1024];
  iotkit__fmt(line, sizeof(line), "%s", text);
  hal->log(hal->ctx, level, line);
}

void iotkit_hal_logf(const iotkit_hal_t *hal, iotkit_log_level_t level, const char *fmt, ...) {
  if (!hal || !hal->log || !fmt) return;
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  if (n < 0) return;
  hal->log(hal->ctx, level, line);
}

iotkit__hal_box_t *iotkit__hal_box_of(const iotkit_hal_t *hal, iotkit__hal_kind_t kind) {
  /* Only a public field is read until ctx proves the struct is a box. */
  if (!hal || hal->ctx != (const void *)hal) return NULL;
  iotkit__hal_box_t *box = (iotkit__hal_box_t *)hal->ctx;
  if (box->magic != IOTKIT__HAL_MAGIC) return NULL;
  if (kind != IOTKIT__HAL_ANY && box->kind != kind) return NULL;
  return box;
}

void iotkit_hal_free(iotkit_hal_t *hal) {
  iotkit__hal_box_t *box = iotkit__hal_box_of(hal, IOTKIT__HAL_ANY);
  if (!box) return;
  box->magic = 0;
  box->destroy(box);
}

iotkit_err_t iotkit_hal_boot(iotkit_hal_t *hal, uint32_t max_trial_boots, iotkit_boot_outcome_t *outcome) {
  iotkit__hal_box_t *box = iotkit__hal_box_of(hal, IOTKIT__HAL_ANY);
  if (!box || !box->boot || max_trial_boots == 0) return IOTKIT_ERR_INVALID_ARG;
  iotkit_boot_outcome_t got = IOTKIT_BOOT_CONFIRMED;
  iotkit_err_t rc = box->boot(box, max_trial_boots, &got);
  if (rc == IOTKIT_OK) {
    static const char *const names[] = {"confirmed image", "new image on trial", "image on trial again",
                                        "rolled back to the confirmed image"};
    iotkit_hal_logf(hal, got == IOTKIT_BOOT_ROLLED_BACK ? IOTKIT_LOG_WARN : IOTKIT_LOG_INFO, "boot: %s",
                    names[got]);
    if (outcome) *outcome = got;
  }
  return rc;
}

iotkit_err_t iotkit__hal_kv_check_key(const char *key) {
  return iotkit__is_safe_name(key, IOTKIT_MAX_KV_KEY) ? IOTKIT_OK : IOTKIT_ERR_INVALID_ARG;
}

iotkit_err_t iotkit__hal_kv_check_set(const char *key, const void *val, size_t len) {
  if (iotkit__hal_kv_check_key(key) != IOTKIT_OK || (!val && len > 0)) return IOTKIT_ERR_INVALID_ARG;
  return len > IOTKIT_MAX_KV_VALUE ? IOTKIT_ERR_TOO_LARGE : IOTKIT_OK;
}

iotkit_err_t iotkit__hal_kv_check_get(const char *key, const void *buf, size_t cap, const size_t *len) {
  if (iotkit__hal_kv_check_key(key) != IOTKIT_OK || !len || (!buf && cap > 0)) return IOTKIT_ERR_INVALID_ARG;
  return IOTKIT_OK;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

void iotkit__hal_sort_ids(uint32_t *ids, size_t n) {
  if (n > 1) qsort(ids, n, sizeof(*ids), cmp_u32);
}
