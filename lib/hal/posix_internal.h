/* State of the POSIX HAL, shared by its files (not exported). */
#ifndef IOTKIT__HAL_POSIX_INTERNAL_H
#define IOTKIT__HAL_POSIX_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "hal/hal_internal.h"

/* An open segment file of the POSIX HAL (a small cache, so that appends do not reopen). */
#define IOTKIT__HAL_SEG_CACHE 4
typedef struct iotkit__hal_seg_fd {
  char store[IOTKIT_MAX_KV_KEY + 1];
  uint32_t id;
  int fd; /* -1: unused */
  uint64_t used; /* last use, for eviction */
} iotkit__hal_seg_fd_t;

typedef struct iotkit__hal_posix {
  iotkit__hal_box_t box; /* must stay first */
  iotkit_log_level_t log_level;
  int log_fd;
  iotkit_log_cb log_cb; /* optional sink of every line at or above log_level */
  void *log_user;
  uint64_t capacity;
  int kv_dir;              /* <state_dir>/kv */
  int slots_dir;           /* <state_dir>/slots */
  int queue_dir;           /* <state_dir>/queue */
  atomic_ulong temp_seq;   /* makes concurrent temporary file names unique */
  pthread_mutex_t lock;    /* guards the fields below */
  int slot_fd[IOTKIT_HAL_SLOT_COUNT]; /* the open slot's file, or -1 */
  bool slot_entry_synced[IOTKIT_HAL_SLOT_COUNT]; /* the open slot file's directory entry is on disk */
  iotkit__hal_boot_record_t rec;      /* cached copy of <state_dir>/slots/boot.rec */
  uint32_t rec_seq;                   /* sequence number of that copy in the file */
  int rec_fd;                         /* boot.rec open for in-place updates, or -1 (not yet in two-copy form) */
  iotkit__hal_seg_fd_t seg_fd[IOTKIT__HAL_SEG_CACHE];
  uint64_t seg_clock;
} iotkit__hal_posix_t;

/* ------------------------------------------------- files (posix_files.c) -- */

/* Names starting with this are temporary files; no valid key can ('~' is not allowed in keys). */
#define IOTKIT__HAL_TEMP_PREFIX "~tmp."

/* Log "@what: <errno text>" at error level. */
void iotkit__hal_posix_log_errno(iotkit__hal_posix_t *p, const char *what, const char *name, int err);

/* Create @name under @parent (mode 0700) if missing, and open it as a directory into @fd. */
iotkit_err_t iotkit__hal_dir_open(iotkit__hal_posix_t *p, int parent, const char *name, int *fd);
/* Remove the temporary files a crashed write left in @dirfd. */
iotkit_err_t iotkit__hal_dir_clean_temps(iotkit__hal_posix_t *p, int dirfd);

/* Replace @name in @dirfd with @data atomically: temp file, fsync, rename, fsync of the directory. */
iotkit_err_t iotkit__hal_file_replace(iotkit__hal_posix_t *p, int dirfd, const char *name, const void *data,
                                      size_t len);
/* Open @name for reading: NOT_FOUND if absent, IO otherwise; @size receives its length. */
iotkit_err_t iotkit__hal_file_open_read(int dirfd, const char *name, int *fd, uint64_t *size);
/* Read exactly @len bytes at @offset; IO on error or early end. */
iotkit_err_t iotkit__hal_pread_all(int fd, void *buf, size_t len, uint64_t offset);
iotkit_err_t iotkit__hal_pwrite_all(int fd, const void *buf, size_t len, uint64_t offset);

/* ---------------------------------------------------------- operations -- */
iotkit_err_t iotkit__hal_posix_kv_get(void *ctx, const char *key, void *buf, size_t cap, size_t *len);
iotkit_err_t iotkit__hal_posix_kv_set(void *ctx, const char *key, const void *val, size_t len);
iotkit_err_t iotkit__hal_posix_kv_erase(void *ctx, const char *key);

/* Load the boot record (factory state if none), or CORRUPT. */
iotkit_err_t iotkit__hal_posix_slots_load(iotkit__hal_posix_t *p);
void iotkit__hal_posix_slots_close(iotkit__hal_posix_t *p);
iotkit_err_t iotkit__hal_posix_slot_open(void *ctx, int slot);
iotkit_err_t iotkit__hal_posix_slot_write(void *ctx, int slot, uint64_t offset, const void *data, size_t len);
iotkit_err_t iotkit__hal_posix_slot_read(void *ctx, int slot, uint64_t offset, void *buf, size_t len, size_t *got);
iotkit_err_t iotkit__hal_posix_slot_finalize(void *ctx, int slot, uint64_t size);
iotkit_err_t iotkit__hal_posix_slot_mark_pending(void *ctx, int slot);
iotkit_err_t iotkit__hal_posix_slot_confirm(void *ctx);
iotkit_err_t iotkit__hal_posix_slot_resume(void *ctx, int slot);
iotkit_err_t iotkit__hal_posix_slot_revert(void *ctx);
iotkit_err_t iotkit__hal_posix_boot(iotkit__hal_box_t *box, uint32_t max_trial_boots, iotkit_boot_outcome_t *outcome);
iotkit_err_t iotkit__hal_posix_slot_query(void *ctx, iotkit_slot_info_t *info);

/* Segmented logs (posix_segments.c). */
void iotkit__hal_posix_segs_install(iotkit_hal_t *hal);
void iotkit__hal_posix_segs_close(iotkit__hal_posix_t *p);

#endif
