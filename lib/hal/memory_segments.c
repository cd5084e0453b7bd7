/* The memory HAL's segmented append-only logs: RAM, with a synced prefix per segment. */
#include <stdlib.h>
#include <string.h>

#include "hal/memory_internal.h"

/* With the lock held: the index of (store, id), or -1. */
static long seg_find(const iotkit__hal_memory_t *m, const char *store, uint32_t id) {
  for (size_t i = 0; i < m->seg_count; i++)
    if (m->segs[i].id == id && strcmp(m->segs[i].store, store) == 0) return (long)i;
  return -1;
}

void iotkit__hal_mem_segs_drop_unsynced(iotkit__hal_memory_t *m) {
  for (size_t i = 0; i < m->seg_count; i++) m->segs[i].data.len = m->segs[i].synced;
}

void iotkit__hal_mem_segs_free(iotkit__hal_memory_t *m) {
  for (size_t i = 0; i < m->seg_count; i++) iotkit__hal_mem_buf_free(&m->segs[i].data);
  free(m->segs);
  m->segs = NULL;
  m->seg_count = m->seg_cap = 0;
}

/* With the lock held: the segment (store, id), created empty if absent. */
static iotkit_err_t seg_get_or_add(iotkit__hal_memory_t *m, const char *store, uint32_t id, mem_seg_t **out) {
  long i = seg_find(m, store, id);
  if (i >= 0) {
    *out = &m->segs[i];
    return IOTKIT_OK;
  }
  if (m->seg_count == m->seg_cap) {
    size_t cap = m->seg_cap ? m->seg_cap * 2 : 8;
    mem_seg_t *s = realloc(m->segs, cap * sizeof(*s));
    if (!s) return IOTKIT_ERR_NOMEM;
    m->segs = s;
    m->seg_cap = cap;
  }
  mem_seg_t *s = &m->segs[m->seg_count++];
  memset(s, 0, sizeof(*s));
  memcpy(s->store, store, strlen(store) + 1);
  s->id = id;
  *out = s;
  return IOTKIT_OK;
}

static iotkit_err_t mem_seg_append(void *ctx, const char *store, uint32_t seg, const void *data, size_t len) {
  iotkit__hal_memory_t *m = ctx;
  if (iotkit__hal_kv_check_key(store) != IOTKIT_OK || (!data && len > 0)) return IOTKIT_ERR_INVALID_ARG;
  pthread_mutex_lock(&m->lock);
  mem_seg_t *s = NULL;
  iotkit_err_t rc = iotkit__hal_mem_begin_write(m);
  if (rc == IOTKIT_OK) rc = seg_get_or_add(m, store, seg, &s);
  if (rc == IOTKIT_OK && s->data.len > SIZE_MAX - len) rc = IOTKIT_ERR_TOO_LARGE;
  if (rc == IOTKIT_OK) rc = iotkit__hal_mem_buf_reserve(&s->data, s->data.len + len);
  if (rc == IOTKIT_OK && len) {
    memcpy(s->data.data + s->data.len, data, len);
    s->data.len += len;
  }
  pthread_mutex_unlock(&m->lock);
  return rc;
}

static iotkit_err_t mem_seg_read(void *ctx, const char *store, uint32_t seg, uint64_t offset, void *buf, size_t len,
                                 size_t *got) {
  iotkit__hal_memory_t *m = ctx;
  if (iotkit__hal_kv_check_key(store) != IOTKIT_OK || !got || (!buf && len > 0)) return IOTKIT_ERR_INVALID_ARG;
  pthread_mutex_lock(&m->lock);
  iotkit_err_t rc = IOTKIT_OK;
  long i = m->off ? -1 : seg_find(m, store, seg);
  if (m->off) {
    rc = IOTKIT_ERR_POWER_CUT;
  } else if (i < 0) {
    rc = IOTKIT_ERR_NOT_FOUND;
  } else {
    const mem_buf_t *d = &m->segs[i].data;
    size_t n = 0;
    if (offset < d->len) {
      n = d->len - (size_t)offset;
      if (n > len) n = len;
      memcpy(buf, d->data + offset, n);
    }
    *got = n;
  }
  pthread_mutex_unlock(&m->lock);
  return rc;
}

static iotkit_err_t mem_seg_size(void *ctx, const char *store, uint32_t seg, uint64_t *size) {
  iotkit__hal_memory_t *m = ctx;
  if (iotkit__hal_kv_check_key(store) != IOTKIT_OK || !size) return IOTKIT_ERR_INVALID_ARG;
  pthread_mutex_lock(&m->lock);
  long i = m->off ? -1 : seg_find(m, store, seg);
  iotkit_err_t rc = m->off ? IOTKIT_ERR_POWER_CUT : i < 0 ? IOTKIT_ERR_NOT_FOUND : IOTKIT_OK;
  if (rc == IOTKIT_OK) *size = m->segs[i].data.len;
  pthread_mutex_unlock(&m->lock);
  return rc;
}

static iotkit_err_t mem_seg_sync(void *ctx, const char *store, uint32_t seg) {
  iotkit__hal_memory_t *m = ctx;
  if (iotkit__hal_kv_check_key(store) != IOTKIT_OK) return IOTKIT_ERR_INVALID_ARG;
  pthread_mutex_lock(&m->lock);
  long i = seg_find(m, store, seg);
  iotkit_err_t rc = i < 0 && !m->off ? IOTKIT_ERR_NOT_FOUND : iotkit__hal_mem_begin_write(m);
  if (rc == IOTKIT_OK) m->segs[i].synced = m->segs[i].data.len;
  pthread_mutex_unlock(&m->lock);
  return rc;
}

static iotkit_err_t mem_seg_remove(void *ctx, const char *store, uint32_t seg) {
  iotkit__hal_memory_t *m = ctx;
  if (iotkit__hal_kv_check_key(store) != IOTKIT_OK) return IOTKIT_ERR_INVALID_ARG;
  pthread_mutex_lock(&m->lock);
  iotkit_err_t rc = iotkit__hal_mem_begin_write(m);
  long i = rc == IOTKIT_OK ? seg_find(m, store, seg) : -1;
  if (i >= 0) {
    iotkit__hal_mem_buf_free(&m->segs[i].data);
    m->segs[i] = m->segs[--m->seg_count];
  }
  pthread_mutex_unlock(&m->lock);
  return rc;
}

static iotkit_err_t mem_seg_list(void *ctx, const char *store, uint32_t *ids, size_t cap, size_t *count) {
  iotkit__hal_memory_t *m = ctx;
  if (iotkit__hal_kv_check_key(store) != IOTKIT_OK || !count || (!ids && cap > 0)) return IOTKIT_ERR_INVALID_ARG;
  pthread_mutex_lock(&m->lock);
  iotkit_err_t rc = m->off ? IOTKIT_ERR_POWER_CUT : IOTKIT_OK;
  size_t n = 0;
  for (size_t i = 0; rc == IOTKIT_OK && i < m->seg_count; i++) {
    if (strcmp(m->segs[i].store, store) != 0) continue;
    if (n < cap) ids[n] = m->segs[i].id;
    n++;
  }
  pthread_mutex_unlock(&m->lock);
  if (rc != IOTKIT_OK) return rc;
  *count = n;
  if (n > cap) return IOTKIT_ERR_BUFFER_TOO_SMALL;
  iotkit__hal_sort_ids(ids, n);
  return IOTKIT_OK;
}

void iotkit__hal_mem_segs_install(iotkit_hal_t *hal) {
  hal->seg_append = mem_seg_append;
  hal->seg_read = mem_seg_read;
  hal->seg_size = mem_seg_size;
  hal->seg_sync = mem_seg_sync;
  hal->seg_remove = mem_seg_remove;
  hal->seg_list = mem_seg_list;
}
