/* Internal pieces shared by the shipped HALs (not exported). */
#ifndef IOTKIT__HAL_INTERNAL_H
#define IOTKIT__HAL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotkit/hal.h"

/*
 * A HAL made by the library lives in a "box": the public iotkit_hal_t comes
 * first, and its ctx points back at the box itself. A hand-filled HAL almost
 * never has ctx == &hal, so iotkit__hal_box_of() can refuse it by looking at
 * a public field only, before reading the tag that follows.
 */
#define IOTKIT__HAL_MAGIC 0x4c484b49u /* "IKHL" */

typedef enum iotkit__hal_kind { IOTKIT__HAL_ANY = 0, IOTKIT__HAL_POSIX = 1, IOTKIT__HAL_MEMORY = 2 } iotkit__hal_kind_t;

typedef struct iotkit__hal_box {
  iotkit_hal_t hal; /* must stay first */
  uint32_t magic;
  iotkit__hal_kind_t kind;
  void (*destroy)(struct iotkit__hal_box *box);
  /* The simulated bootloader step (iotkit_hal_boot()); max_trial_boots >= 1. */
  iotkit_err_t (*boot)(struct iotkit__hal_box *box, uint32_t max_trial_boots, iotkit_boot_outcome_t *outcome);
} iotkit__hal_box_t;

/* The box of a library-made HAL of @kind (ANY for either), or NULL. */
iotkit__hal_box_t *iotkit__hal_box_of(const iotkit_hal_t *hal, iotkit__hal_kind_t kind);

/* Argument checks shared by every KV store, so that error codes agree. */
iotkit_err_t iotkit__hal_kv_check_key(const char *key);
iotkit_err_t iotkit__hal_kv_check_set(const char *key, const void *val, size_t len);
iotkit_err_t iotkit__hal_kv_check_get(const char *key, const void *buf, size_t cap, const size_t *len);

/* Sort @n segment ids in increasing order (seg_list of both HALs). */
void iotkit__hal_sort_ids(uint32_t *ids, size_t n);

/* ---------------------------------------------------- OS services (POSIX) -- */
uint64_t iotkit__hal_os_monotonic_ms(void);
int64_t iotkit__hal_os_wall_ms(void);
void iotkit__hal_os_sleep_ms(uint32_t ms);
iotkit_err_t iotkit__hal_os_random(void *buf, size_t len);

/* pthread-backed mutex and thread operations (ctx unused). */
iotkit_err_t iotkit__hal_pthread_mutex_new(void *ctx, void **mutex);
void iotkit__hal_pthread_mutex_lock(void *ctx, void *mutex);
void iotkit__hal_pthread_mutex_unlock(void *ctx, void *mutex);
void iotkit__hal_pthread_mutex_free(void *ctx, void *mutex);
iotkit_err_t iotkit__hal_pthread_thread_start(void *ctx, iotkit_thread_fn fn, void *arg, void **thread);
iotkit_err_t iotkit__hal_pthread_thread_join(void *ctx, void *thread);
uint64_t iotkit__hal_pthread_thread_self(void *ctx);
iotkit_err_t iotkit__hal_pthread_cond_new(void *ctx, void **cond);
iotkit_err_t iotkit__hal_pthread_cond_wait(void *ctx, void *cond, void *mutex, uint32_t timeout_ms);
void iotkit__hal_pthread_cond_broadcast(void *ctx, void *cond);
void iotkit__hal_pthread_cond_free(void *ctx, void *cond);

/* Fill the locks, threads and condition variable fields of @hal with the pthread operations. */
void iotkit__hal_use_pthreads(iotkit_hal_t *hal);

/* ------------------------------------------------------ A/B boot record -- */
typedef struct iotkit__hal_boot_record {
  int active;
  int pending; /* -1: none */
  bool confirmed;
  uint32_t trial_boots;
  uint64_t size[IOTKIT_HAL_SLOT_COUNT];
  bool rolled_back; /* the last trial was rolled back (byte 28, formerly padding: old records read false) */
} iotkit__hal_boot_record_t;

/* Fixed little-endian encoding with a checksum. */
#define IOTKIT__HAL_BOOT_RECORD_SIZE 36u

/* Factory state: slot 0 active and confirmed, nothing pending, no sizes. */
void iotkit__hal_boot_record_init(iotkit__hal_boot_record_t *rec);
void iotkit__hal_boot_record_encode(const iotkit__hal_boot_record_t *rec, uint8_t out[IOTKIT__HAL_BOOT_RECORD_SIZE]);
/* IOTKIT_ERR_CORRUPT if @len, magic, checksum or a field is wrong. */
iotkit_err_t iotkit__hal_boot_record_decode(const uint8_t *in, size_t len, iotkit__hal_boot_record_t *rec);

/*
 * A numbered copy of the record, for stores that update it in place: two
 * copies alternate (copy seq % 2 is written), so a torn write damages only the
 * older one. Layout: record[36] seq[4] sum[4] (FNV-1a of the first 40 bytes).
 */
#define IOTKIT__HAL_BOOT_COPY_SIZE (IOTKIT__HAL_BOOT_RECORD_SIZE + 8u)
void iotkit__hal_boot_copy_encode(const iotkit__hal_boot_record_t *rec, uint32_t seq,
                                  uint8_t out[IOTKIT__HAL_BOOT_COPY_SIZE]);
/* IOTKIT_ERR_CORRUPT if the copy is damaged. */
iotkit_err_t iotkit__hal_boot_copy_decode(const uint8_t in[IOTKIT__HAL_BOOT_COPY_SIZE], iotkit__hal_boot_record_t *rec,
                                          uint32_t *seq);

/* The rules both slot stores follow (only the record decides). */
iotkit_err_t iotkit__hal_slot_check_range(int slot);
/* INVALID_ARG out of range, STATE for the active slot. On OK, @next is the record after the erase. */
iotkit_err_t iotkit__hal_slot_plan_open(const iotkit__hal_boot_record_t *rec, int slot, iotkit__hal_boot_record_t *next);
/* INVALID_ARG out of range, STATE for the active slot or one never finalized. */
iotkit_err_t iotkit__hal_slot_plan_pending(const iotkit__hal_boot_record_t *rec, int slot,
                                           iotkit__hal_boot_record_t *next);
/* As plan_open, without erasing: also STATE for a pending slot. */
iotkit_err_t iotkit__hal_slot_plan_resume(const iotkit__hal_boot_record_t *rec, int slot);
/* The boot step (see iotkit_hal_boot()): @next is the record after it. */
iotkit_boot_outcome_t iotkit__hal_slot_plan_boot(const iotkit__hal_boot_record_t *rec, uint32_t max_trial_boots,
                                                 iotkit__hal_boot_record_t *next);
/* Give up the trial (slot_revert, and the boot step once the budget is spent): the other slot becomes
   active and confirmed, rolled_back is set. STATE if the active image is confirmed. */
iotkit_err_t iotkit__hal_slot_plan_revert(const iotkit__hal_boot_record_t *rec, iotkit__hal_boot_record_t *next);
void iotkit__hal_slot_plan_confirm(const iotkit__hal_boot_record_t *rec, iotkit__hal_boot_record_t *next);
void iotkit__hal_slot_fill_info(const iotkit__hal_boot_record_t *rec, uint64_t capacity, iotkit_slot_info_t *info);
/* INVALID_ARG if @len > 0 with NULL data or offset+len overflows; TOO_LARGE beyond @capacity. */
iotkit_err_t iotkit__hal_slot_check_span(uint64_t offset, const void *data, size_t len, uint64_t capacity);

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" of @wall_ms into @buf (at least 25 bytes). */
void iotkit__hal_format_utc(int64_t wall_ms, char *buf, size_t cap);

#endif
