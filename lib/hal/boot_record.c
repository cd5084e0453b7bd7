/* The A/B boot record: encoding and the rules of the slot operations. */
#include <string.h>

#include "hal/hal_internal.h"

static const uint8_t k_magic[4] = {'I', 'K', 'B', 'R'};
#define BOOT_RECORD_VERSION 1u

void iotkit__hal_boot_record_init(iotkit__hal_boot_record_t *rec) {
  memset(rec, 0, sizeof(*rec));
  rec->active = 0;
  rec->pending = -1;
  rec->confirmed = true;
}

static void put_le(uint8_t *p, uint64_t v, unsigned n) {
  for (unsigned i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, unsigned n) {
  uint64_t v = 0;
  for (unsigned i = 0; i < n; i++) v |= (uint64_t)p[i] << (8 * i);
  return v;
}

/* FNV-1a: detects a damaged file; the atomic write already prevents torn ones. */
static uint32_t checksum(const uint8_t *p, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
  return h;
}

/* Layout: magic[4] version[1] active[1] pending[1] confirmed[1] trial[4] size0[8] size1[8] rolled_back[1] pad[3] sum[4]. */
void iotkit__hal_boot_record_encode(const iotkit__hal_boot_record_t *rec, uint8_t out[IOTKIT__HAL_BOOT_RECORD_SIZE]) {
  memset(out, 0, IOTKIT__HAL_BOOT_RECORD_SIZE);
  memcpy(out, k_magic, 4);
  out[4] = BOOT_RECORD_VERSION;
  out[5] = (uint8_t)rec->active;
  out[6] = (uint8_t)(rec->pending < 0 ? 0xff : rec->pending);
  out[7] = rec->confirmed ? 1 : 0;
  put_le(out + 8, rec->trial_boots, 4);
  put_le(out + 12, rec->size[0], 8);
  put_le(out + 20, rec->size[1], 8);
  out[28] = rec->rolled_back ? 1 : 0;
  put_le(out + 32, checksum(out, 32), 4);
}

iotkit_err_t iotkit__hal_boot_record_decode(const uint8_t *in, size_t len, iotkit__hal_boot_record_t *rec) {
  if (len != IOTKIT__HAL_BOOT_RECORD_SIZE || memcmp(in, k_magic, 4) != 0 || in[4] != BOOT_RECORD_VERSION ||
      get_le(in + 32, 4) != checksum(in, 32))
    return IOTKIT_ERR_CORRUPT;
  iotkit__hal_boot_record_t r;
  r.active = in[5];
  r.pending = in[6] == 0xff ? -1 : in[6];
  r.confirmed = in[7] != 0;
  r.trial_boots = (uint32_t)get_le(in + 8, 4);
  r.size[0] = get_le(in + 12, 8);
  r.size[1] = get_le(in + 20, 8);
  r.rolled_back = in[28] != 0;
  if (r.active >= IOTKIT_HAL_SLOT_COUNT || r.pending >= IOTKIT_HAL_SLOT_COUNT || in[7] > 1 || in[28] > 1)
    return IOTKIT_ERR_CORRUPT;
  *rec = r;
  return IOTKIT_OK;
}

void iotkit__hal_boot_copy_encode(const iotkit__hal_boot_record_t *rec, uint32_t seq,
                                  uint8_t out[IOTKIT__HAL_BOOT_COPY_SIZE]) {
  iotkit__hal_boot_record_encode(rec, out);
  put_le(out + IOTKIT__HAL_BOOT_RECORD_SIZE, seq, 4);
  put_le(out + IOTKIT__HAL_BOOT_RECORD_SIZE + 4, checksum(out, IOTKIT__HAL_BOOT_RECORD_SIZE + 4), 4);
}

iotkit_err_t iotkit__hal_boot_copy_decode(const uint8_t in[IOTKIT__HAL_BOOT_COPY_SIZE], iotkit__hal_boot_record_t *rec,
                                          uint32_t *seq) {
  if (get_le(in + IOTKIT__HAL_BOOT_RECORD_SIZE + 4, 4) != checksum(in, IOTKIT__HAL_BOOT_RECORD_SIZE + 4))
    return IOTKIT_ERR_CORRUPT;
  iotkit_err_t rc = iotkit__hal_boot_record_decode(in, IOTKIT__HAL_BOOT_RECORD_SIZE, rec);
  if (rc == IOTKIT_OK) *seq = (uint32_t)get_le(in + IOTKIT__HAL_BOOT_RECORD_SIZE, 4);
  return rc;
}

iotkit_err_t iotkit__hal_slot_check_range(int slot) {
  return slot >= 0 && slot < IOTKIT_HAL_SLOT_COUNT ? IOTKIT_OK : IOTKIT_ERR_INVALID_ARG;
}

iotkit_err_t iotkit__hal_slot_plan_open(const iotkit__hal_boot_record_t *rec, int slot, iotkit__hal_boot_record_t *next) {
  if (iotkit__hal_slot_check_range(slot) != IOTKIT_OK) return IOTKIT_ERR_INVALID_ARG;
  /* While the active image is on trial, every other slot holds the confirmed fallback. */
  if (slot == rec->active || !rec->confirmed) return IOTKIT_ERR_STATE;
  *next = *rec;
  next->size[slot] = 0;
  next->rolled_back = false;
  /* Erasing the image that was to be tried cancels the trial. */
  if (next->pending == slot) next->pending = -1;
  return IOTKIT_OK;
}

iotkit_err_t iotkit__hal_slot_plan_pending(const iotkit__hal_boot_record_t *rec, int slot,
                                           iotkit__hal_boot_record_t *next) {
  if (iotkit__hal_slot_check_range(slot) != IOTKIT_OK) return IOTKIT_ERR_INVALID_ARG;
  if (slot == rec->active || rec->size[slot] == 0) return IOTKIT_ERR_STATE;
  *next = *rec;
  next->pending = slot;
  next->rolled_back = false;
  return IOTKIT_OK;
}

iotkit_err_t iotkit__hal_slot_plan_resume(const iotkit__hal_boot_record_t *rec, int slot) {
  if (iotkit__hal_slot_check_range(slot) != IOTKIT_OK) return IOTKIT_ERR_INVALID_ARG;
  if (slot == rec->active || slot == rec->pending || !rec->confirmed) return IOTKIT_ERR_STATE;
  return IOTKIT_OK;
}

iotkit_boot_outcome_t iotkit__hal_slot_plan_boot(const iotkit__hal_boot_record_t *rec, uint32_t max_trial_boots,
                                                 iotkit__hal_boot_record_t *next) {
  *next = *rec;
  if (rec->pending >= 0) {
    next->active = rec->pending;
    next->pending = -1;
    next->confirmed = false;
    next->trial_boots = 1;
    return IOTKIT_BOOT_TRIAL_START;
  }
  if (rec->confirmed) return IOTKIT_BOOT_CONFIRMED;
  if (rec->trial_boots < max_trial_boots) {
    next->trial_boots = rec->trial_boots + 1;
    return IOTKIT_BOOT_TRIAL;
  }
  (void)iotkit__hal_slot_plan_revert(rec, next);
  return IOTKIT_BOOT_ROLLED_BACK;
}

iotkit_err_t iotkit__hal_slot_plan_revert(const iotkit__hal_boot_record_t *rec, iotkit__hal_boot_record_t *next) {
  if (rec->confirmed) return IOTKIT_ERR_STATE;
  *next = *rec;
  /* With two slots the fallback is the other one; it was confirmed when the trial began. */
  next->active = (rec->active + 1) % IOTKIT_HAL_SLOT_COUNT;
  next->pending = -1;
  next->confirmed = true;
  next->trial_boots = 0;
  next->rolled_back = true;
  return IOTKIT_OK;
}

void iotkit__hal_slot_plan_confirm(const iotkit__hal_boot_record_t *rec, iotkit__hal_boot_record_t *next) {
  *next = *rec;
  next->confirmed = true;
  next->trial_boots = 0;
}

void iotkit__hal_slot_fill_info(const iotkit__hal_boot_record_t *rec, uint64_t capacity, iotkit_slot_info_t *info) {
  memset(info, 0, sizeof(*info));
  info->active = rec->active;
  info->pending = rec->pending;
  info->active_confirmed = rec->confirmed;
  info->trial_boots = rec->trial_boots;
  info->rolled_back = rec->rolled_back;
  for (int i = 0; i < IOTKIT_HAL_SLOT_COUNT; i++) {
    info->size[i] = rec->size[i];
    info->capacity[i] = capacity;
  }
}

iotkit_err_t iotkit__hal_slot_check_span(uint64_t offset, const void *data, size_t len, uint64_t capacity) {
  if (len > 0 && !data) return IOTKIT_ERR_INVALID_ARG;
  if (offset > capacity || (uint64_t)len > capacity - offset) return IOTKIT_ERR_TOO_LARGE;
  return IOTKIT_OK;
}
