/* State of the memory HAL, shared by its files (not exported). */
#ifndef IOTKIT__HAL_MEMORY_INTERNAL_H
#define IOTKIT__HAL_MEMORY_INTERNAL_H

#include <pthread.h>

#include "hal/hal_internal.h"
#include "iotkit/options.h"

typedef struct mem_buf {
  uint8_t *data;
  size_t len;
  size_t cap;
} mem_buf_t;

typedef struct mem_kv_entry {
  char key[IOTKIT_MAX_KV_KEY + 1];
  mem_buf_t val;
} mem_kv_entry_t;

typedef struct mem_slot {
  mem_buf_t working; /* what slot_write wrote, synced or not */
  mem_buf_t synced;  /* what survives a power cut */
  bool open;
} mem_slot_t;

typedef struct mem_seg {
  char store[IOTKIT_MAX_KV_KEY + 1];
  uint32_t id;
  mem_buf_t data; /* everything appended */
  size_t synced;  /* the prefix of data that survives a power cut */
} mem_seg_t;

typedef struct iotkit__hal_memory {
  iotkit__hal_box_t box; /* must stay first */
  pthread_mutex_t lock;  /* guards everything below */
  iotkit_hal_memory_config_t cfg;
  uint64_t rng;
  uint64_t manual_now;
  int64_t manual_wall_base;

  mem_kv_entry_t *kv;
  size_t kv_count, kv_cap;
  mem_slot_t slot[IOTKIT_HAL_SLOT_COUNT];
  iotkit__hal_boot_record_t rec;
  mem_seg_t *segs;
  size_t seg_count, seg_cap;

  uint64_t writes;
  unsigned fail_in; /* countdown to an injected failure, 0: none */
  unsigned cut_in;  /* countdown to a power cut, 0: none */
  bool off;         /* the power is cut */
  unsigned reboots;

  mem_buf_t log; /* NUL-terminated when len > 0 */
} iotkit__hal_memory_t;

/* The memory HAL behind @hal, or NULL if @hal is not one. */
iotkit__hal_memory_t *iotkit__hal_memory_of(const iotkit_hal_t *hal);

/* Grow @b to hold @n bytes (content kept). NOMEM on failure. */
iotkit_err_t iotkit__hal_mem_buf_reserve(mem_buf_t *b, size_t n);
/* Make @dst a copy of @src. */
iotkit_err_t iotkit__hal_mem_buf_copy(mem_buf_t *dst, const mem_buf_t *src);
void iotkit__hal_mem_buf_free(mem_buf_t *b);

/* With the lock held: account one storage write; POWER_CUT / INJECTED when a fault fires. */
iotkit_err_t iotkit__hal_mem_begin_write(iotkit__hal_memory_t *m);
/* With the lock held: drop every un-synced slot byte and close the slots. */
void iotkit__hal_mem_drop_unsynced(iotkit__hal_memory_t *m);
void iotkit__hal_mem_free_storage(iotkit__hal_memory_t *m);

/* Storage operations, installed by iotkit_hal_memory_new(). */
iotkit_err_t iotkit__hal_mem_kv_get(void *ctx, const char *key, void *buf, size_t cap, size_t *len);
iotkit_err_t iotkit__hal_mem_kv_set(void *ctx, const char *key, const void *val, size_t len);
iotkit_err_t iotkit__hal_mem_kv_erase(void *ctx, const char *key);
iotkit_err_t iotkit__hal_mem_slot_open(void *ctx, int slot);
iotkit_err_t iotkit__hal_mem_slot_write(void *ctx, int slot, uint64_t offset, const void *data, size_t len);
iotkit_err_t iotkit__hal_mem_slot_read(void *ctx, int slot, uint64_t offset, void *buf, size_t len, size_t *got);
iotkit_err_t iotkit__hal_mem_slot_finalize(void *ctx, int slot, uint64_t size);
iotkit_err_t iotkit__hal_mem_slot_mark_pending(void *ctx, int slot);
iotkit_err_t iotkit__hal_mem_slot_confirm(void *ctx);
iotkit_err_t iotkit__hal_mem_slot_resume(void *ctx, int slot);
iotkit_err_t iotkit__hal_mem_slot_revert(void *ctx);
iotkit_err_t iotkit__hal_mem_boot(iotkit__hal_box_t *box, uint32_t max_trial_boots, iotkit_boot_outcome_t *outcome);
iotkit_err_t iotkit__hal_mem_slot_query(void *ctx, iotkit_slot_info_t *info);

/* Segmented logs (memory_segments.c). */
void iotkit__hal_mem_segs_install(iotkit_hal_t *hal);
/* With the lock held: cut every segment back to its synced prefix. */
void iotkit__hal_mem_segs_drop_unsynced(iotkit__hal_memory_t *m);
void iotkit__hal_mem_segs_free(iotkit__hal_memory_t *m);

#endif
