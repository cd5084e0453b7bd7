/* The memory HAL's firmware slots: a working copy and the synced copy that survives a power cut. */
#include <string.h>

#include "hal/memory_internal.h"

iotkit_err_t iotkit__hal_mem_slot_open(void *ctx, int slot) {
  iotkit__hal_memory_t *m = ctx;
  pthread_mutex_lock(&m->lock);
  iotkit__hal_boot_record_t next;
  iotkit_err_t rc = iotkit__hal_slot_plan_open(&m->rec, slot, &next);
  if (rc == IOTKIT_OK) rc = iotkit__hal_mem_begin_write(m);
  if (rc == IOTKIT_OK) {
    /* Erasing is durable at once, as on flash. */
    m->slot[slot].working.len = 0;
    m->slot[slot].synced.len = 0;
    m->slot[slot].open = true;
    m->rec = next;
  }
  pthread_mutex_unlock(&m->lock);
  return rc;
}

iotkit_err_t iotkit__hal_mem_slot_write(void *ctx, int slot, uint64_t offset, const void *data, size_t len) {
  iotkit__hal_memory_t *m = ctx;
  iotkit_err_t rc = iotkit__hal_slot_check_range(slot);
  if (rc == IOTKIT_OK) rc = iotkit__hal_slot_check_span(offset, data, len, m->cfg.slot_capacity);
  if (rc != IOTKIT_OK) return rc;
  pthread_mutex_lock(&m->lock);
  mem_slot_t *s = &m->slot[slot];
  rc = s->open || m->off ? iotkit__hal_mem_begin_write(m) : IOTKIT_ERR_STATE;
  size_t end = (size_t)offset + len;
  if (rc == IOTKIT_OK && end > s->working.len) {
    rc = iotkit__hal_mem_buf_reserve(&s->working, end);
    /* A gap left by writing past the end reads as zeros. */
    if (rc == IOTKIT_OK) memset(s->working.data + s->working.len, 0, end - s->working.len);
    if (rc == IOTKIT_OK) s->working.len = end;
  }
  if (rc == IOTKIT_OK && len) memcpy(s->working.data + offset, data, len);
  pthread_mutex_unlock(&m->lock);
  return rc;
}

iotkit_err_t iotkit__hal_mem_slot_read(void *ctx, int slot, uint64_t offset, void *buf, size_t len, size_t *got) {
  iotkit__hal_memory_t *m = ctx;
  if (iotkit__hal_slot_check_range(slot) != IOTKIT_OK || !got || (!buf && len > 0)) return IOTKIT_ERR_INVALID_ARG;
  pthread_mutex_lock(&m->lock);
  iotkit_err_t rc = m->off ? IOTKIT_ERR_POWER_CUT : IOTKIT_OK;
  if (rc == IOTKIT_OK) {
    const mem_buf_t *w = &m->slot[slot].working;
    size_t n = offset >= w->len ? 0 : w->len - (size_t)offset;
    if (n > len) n = len;
    if (n) memcpy(buf, w->data + offset, n);
    *got = n;
  }
  pthread_mutex_unlock(&m->lock);
  return rc;
}

iotkit_err_t iotkit__hal_mem_slot_finalize(void *ctx, int slot, uint64_t size) {
  iotkit__hal_memory_t *m = ctx;
  if (iotkit__hal_slot_check_range(slot) != IOTKIT_OK) return IOTKIT_ERR_INVALID_ARG;
  if (size > m->cfg.slot_capacity) return IOTKIT_ERR_TOO_LARGE;
  pthread_mutex_lock(&m->lock);
  mem_slot_t *s = &m->slot[slot];
  iotkit_err_t rc = IOTKIT_OK;
  if (!s->open && !m->off) rc = IOTKIT_ERR_STATE;
  else if (!m->off && size > s->working.len) rc = IOTKIT_ERR_INVALID_ARG;
  if (rc == IOTKIT_OK) rc = iotkit__hal_mem_begin_write(m);
  if (rc == IOTKIT_OK) {
    mem_buf_t keep = s->working;
    keep.len = (size_t)size;
    rc = iotkit__hal_mem_buf_copy(&s->synced, &keep);
  }
  if (rc == IOTKIT_OK) {
    s->working.len = (size_t)size;
    m->rec.size[slot] = size;
  }
  pthread_mutex_unlock(&m->lock);
  return rc;
}

iotkit_err_t iotkit__hal_mem_slot_mark_pending(void *ctx, int slot) {
  iotkit__hal_memory_t *m = ctx;
  pthread_mutex_lock(&m->lock);
  iotkit__hal_boot_record_t next;
  iotkit_err_t rc = iotkit__hal_slot_plan_pending(&m->rec, slot, &next);
  if (rc == IOTKIT_OK) rc = iotkit__hal_mem_begin_write(m);
  if (rc == IOTKIT_OK) {
    m->rec = next;
    /* The image to be tried must not change any more. */
    m->slot[slot].open = false;
  }
  pthread_mutex_unlock(&m->lock);
  return rc;
}

iotkit_err_t iotkit__hal_mem_slot_confirm(void *ctx) {
  iotkit__hal_memory_t *m = ctx;
  pthread_mutex_lock(&m->lock);
  iotkit_err_t rc = iotkit__hal_mem_begin_write(m);
  if (rc == IOTKIT_OK) {
    iotkit__hal_boot_record_t next;
    iotkit__hal_slot_plan_confirm(&m->rec, &next);
    m->rec = next;
  }
  pthread_mutex_unlock(&m->lock);
  return rc;
}

iotkit_err_t iotkit__hal_mem_slot_revert(void *ctx) {
  iotkit__hal_memory_t *m = ctx;
  pthread_mutex_lock(&m->lock);
  iotkit__hal_boot_record_t next;
  iotkit_err_t rc = iotkit__hal_slot_plan_revert(&m->rec, &next);
  /* One record update, as the boot step's rollback: a cut before it leaves the trial as it was. */
  if (rc == IOTKIT_OK) rc = iotkit__hal_mem_begin_write(m);
  if (rc == IOTKIT_OK) m->rec = next;
  pthread_mutex_unlock(&m->lock);
  return rc;
}

iotkit_err_t iotkit__hal_mem_slot_resume(void *ctx, int slot) {
  iotkit__hal_memory_t *m = ctx;
  pthread_mutex_lock(&m->lock);
  iotkit_err_t rc = iotkit__hal_slot_plan_resume(&m->rec, slot);
  if (rc == IOTKIT_OK && m->off) rc = IOTKIT_ERR_POWER_CUT;
  if (rc == IOTKIT_OK) {
    /* Only what was finalized is known to be there; anything after it is dropped. */
    mem_slot_t *s = &m->slot[slot];
    rc = iotkit__hal_mem_buf_copy(&s->working, &s->synced);
    if (rc == IOTKIT_OK && s->working.len > m->rec.size[slot]) s->working.len = (size_t)m->rec.size[slot];
    if (rc == IOTKIT_OK) s->open = true;
  }
  pthread_mutex_unlock(&m->lock);
  return rc;
}

iotkit_err_t iotkit__hal_mem_boot(iotkit__hal_box_t *box, uint32_t max_trial_boots, iotkit_boot_outcome_t *outcome) {
  iotkit__hal_memory_t *m = (iotkit__hal_memory_t *)box;
  pthread_mutex_lock(&m->lock);
  iotkit__hal_boot_record_t next;
  iotkit_boot_outcome_t got = iotkit__hal_slot_plan_boot(&m->rec, max_trial_boots, &next);
  /* A reset: what was not finalized is gone, whether the record changes or not. */
  iotkit_err_t rc = m->off ? IOTKIT_ERR_POWER_CUT : IOTKIT_OK;
  if (rc == IOTKIT_OK) iotkit__hal_mem_drop_unsynced(m);
  if (rc == IOTKIT_OK && got != IOTKIT_BOOT_CONFIRMED) rc = iotkit__hal_mem_begin_write(m);
  if (rc == IOTKIT_OK) {
    m->rec = next;
    *outcome = got;
  }
  pthread_mutex_unlock(&m->lock);
  return rc;
}

iotkit_err_t iotkit__hal_mem_slot_query(void *ctx, iotkit_slot_info_t *info) {
  iotkit__hal_memory_t *m = ctx;
  if (!info) return IOTKIT_ERR_INVALID_ARG;
  pthread_mutex_lock(&m->lock);
  iotkit_err_t rc = m->off ? IOTKIT_ERR_POWER_CUT : IOTKIT_OK;
  if (rc == IOTKIT_OK) iotkit__hal_slot_fill_info(&m->rec, m->cfg.slot_capacity, info);
  pthread_mutex_unlock(&m->lock);
  return rc;
}
