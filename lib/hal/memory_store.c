/* The memory HAL's storage accounting, fault injection and key-value store. */
#include <stdlib.h>
#include <string.h>

#include "hal/memory_internal.h"

iotkit_err_t iotkit__hal_mem_buf_reserve(mem_buf_t *b, size_t n) {
  if (n <= b->cap) return IOTKIT_OK;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < n) cap = cap > SIZE_MAX / 2 ? n : cap * 2;
  uint8_t *d = realloc(b->data, cap);
  if (!d) return IOTKIT_ERR_NOMEM;
  b->data = d;
  b->cap = cap;
  return IOTKIT_OK;
}

iotkit_err_t iotkit__hal_mem_buf_copy(mem_buf_t *dst, const mem_buf_t *src) {
  iotkit_err_t rc = iotkit__hal_mem_buf_reserve(dst, src->len);
  if (rc != IOTKIT_OK) return rc;
  if (src->len) memcpy(dst->data, src->data, src->len);
  dst->len = src->len;
  return IOTKIT_OK;
}

void iotkit__hal_mem_buf_free(mem_buf_t *b) {
  free(b->data);
  memset(b, 0, sizeof(*b));
}

void iotkit__hal_mem_drop_unsynced(iotkit__hal_memory_t *m) {
  for (int i = 0; i < IOTKIT_HAL_SLOT_COUNT; i++) {
    mem_slot_t *s = &m->slot[i];
    /* working always holds at least the synced bytes, so this copy never allocates. */
    (void)iotkit__hal_mem_buf_copy(&s->working, &s->synced);
    s->open = false;
  }
  iotkit__hal_mem_segs_drop_unsynced(m);
}

void iotkit__hal_mem_free_storage(iotkit__hal_memory_t *m) {
  for (size_t i = 0; i < m->kv_count; i++) iotkit__hal_mem_buf_free(&m->kv[i].val);
  free(m->kv);
  m->kv = NULL;
  m->kv_count = m->kv_cap = 0;
  for (int i = 0; i < IOTKIT_HAL_SLOT_COUNT; i++) {
    iotkit__hal_mem_buf_free(&m->slot[i].working);
    iotkit__hal_mem_buf_free(&m->slot[i].synced);
  }
  iotkit__hal_mem_segs_free(m);
}

iotkit_err_t iotkit__hal_mem_begin_write(iotkit__hal_memory_t *m) {
  m->writes++;
  if (m->off) return IOTKIT_ERR_POWER_CUT;
  bool cut = m->cut_in && --m->cut_in == 0;
  bool fail = m->fail_in && --m->fail_in == 0;
  if (cut) {
    iotkit__hal_mem_drop_unsynced(m);
    m->off = true;
    return IOTKIT_ERR_POWER_CUT;
  }
  return fail ? IOTKIT_ERR_INJECTED : IOTKIT_OK;
}

iotkit_err_t iotkit_hal_memory_fail_write(iotkit_hal_t *hal, unsigned n) {
  iotkit__hal_memory_t *m = iotkit__hal_memory_of(hal);
  if (!m) return IOTKIT_ERR_INVALID_ARG;
  pthread_mutex_lock(&m->lock);
  m->fail_in = n;
  pthread_mutex_unlock(&m->lock);
  return IOTKIT_OK;
}

iotkit_err_t iotkit_hal_memory_cut_power_at(iotkit_hal_t *hal, unsigned k) {
  iotkit__hal_memory_t *m = iotkit__hal_memory_of(hal);
  if (!m) return IOTKIT_ERR_INVALID_ARG;
  pthread_mutex_lock(&m->lock);
  m->cut_in = k;
  pthread_mutex_unlock(&m->lock);
  return IOTKIT_OK;
}

iotkit_err_t iotkit_hal_memory_power_cut(iotkit_hal_t *hal) {
  iotkit__hal_memory_t *m = iotkit__hal_memory_of(hal);
  if (!m) return IOTKIT_ERR_INVALID_ARG;
  pthread_mutex_lock(&m->lock);
  iotkit__hal_mem_drop_unsynced(m);
  m->off = true;
  m->cut_in = 0;
  pthread_mutex_unlock(&m->lock);
  return IOTKIT_OK;
}

iotkit_err_t iotkit_hal_memory_power_restore(iotkit_hal_t *hal) {
  iotkit__hal_memory_t *m = iotkit__hal_memory_of(hal);
  if (!m) return IOTKIT_ERR_INVALID_ARG;
  pthread_mutex_lock(&m->lock);
  m->off = false;
  pthread_mutex_unlock(&m->lock);
  return IOTKIT_OK;
}

/* ------------------------------------------------------------- KV store -- */

static mem_kv_entry_t *kv_find(iotkit__hal_memory_t *m, const char *key) {
  for (size_t i = 0; i < m->kv_count; i++)
    if (strcmp(m->kv[i].key, key) == 0) return &m->kv[i];
  return NULL;
}

iotkit_err_t iotkit__hal_mem_kv_get(void *ctx, const char *key, void *buf, size_t cap, size_t *len) {
  iotkit__hal_memory_t *m = ctx;
  iotkit_err_t rc = iotkit__hal_kv_check_get(key, buf, cap, len);
  if (rc != IOTKIT_OK) return rc;
  pthread_mutex_lock(&m->lock);
  mem_kv_entry_t *e = m->off ? NULL : kv_find(m, key);
  if (m->off) {
    rc = IOTKIT_ERR_POWER_CUT;
  } else if (!e) {
    rc = IOTKIT_ERR_NOT_FOUND;
  } else if (e->val.len > cap) {
    *len = e->val.len;
    rc = IOTKIT_ERR_BUFFER_TOO_SMALL;
  } else {
    if (e->val.len) memcpy(buf, e->val.data, e->val.len);
    *len = e->val.len;
  }
  pthread_mutex_unlock(&m->lock);
  return rc;
}

/* With the lock held: the entry for @key, created empty if absent. */
static iotkit_err_t kv_slot_for(iotkit__hal_memory_t *m, const char *key, mem_kv_entry_t **out) {
  mem_kv_entry_t *e = kv_find(m, key);
  if (!e) {
    if (m->kv_count == m->kv_cap) {
      size_t cap = m->kv_cap ? m->kv_cap * 2 : 8;
      mem_kv_entry_t *kv = realloc(m->kv, cap * sizeof(*kv));
      if (!kv) return IOTKIT_ERR_NOMEM;
      m->kv = kv;
      m->kv_cap = cap;
    }
    e = &m->kv[m->kv_count++];
    memset(e, 0, sizeof(*e));
    memcpy(e->key, key, strlen(key) + 1);
  }
  *out = e;
  return IOTKIT_OK;
}

iotkit_err_t iotkit__hal_mem_kv_set(void *ctx, const char *key, const void *val, size_t len) {
  iotkit__hal_memory_t *m = ctx;
  iotkit_err_t rc = iotkit__hal_kv_check_set(key, val, len);
  if (rc != IOTKIT_OK) return rc;
  /* Build the new value first, so that a failure leaves the old one in place. */
  mem_buf_t nv = {0};
  if (iotkit__hal_mem_buf_reserve(&nv, len ? len : 1) != IOTKIT_OK) return IOTKIT_ERR_NOMEM;
  if (len) memcpy(nv.data, val, len);
  nv.len = len;
  pthread_mutex_lock(&m->lock);
  mem_kv_entry_t *e = NULL;
  rc = iotkit__hal_mem_begin_write(m);
  if (rc == IOTKIT_OK) rc = kv_slot_for(m, key, &e);
  if (rc == IOTKIT_OK) {
    mem_buf_t old = e->val;
    e->val = nv;
    nv = old;
  }
  pthread_mutex_unlock(&m->lock);
  iotkit__hal_mem_buf_free(&nv);
  return rc;
}

iotkit_err_t iotkit__hal_mem_kv_erase(void *ctx, const char *key) {
  iotkit__hal_memory_t *m = ctx;
  if (iotkit__hal_kv_check_key(key) != IOTKIT_OK) return IOTKIT_ERR_INVALID_ARG;
  pthread_mutex_lock(&m->lock);
  iotkit_err_t rc = iotkit__hal_mem_begin_write(m);
  mem_kv_entry_t *e = rc == IOTKIT_OK ? kv_find(m, key) : NULL;
  if (e) {
    iotkit__hal_mem_buf_free(&e->val);
    *e = m->kv[--m->kv_count];
  }
  pthread_mutex_unlock(&m->lock);
  return rc;
}
