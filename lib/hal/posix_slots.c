/* The POSIX HAL's firmware slots: <state_dir>/slots/slot-N.bin and an atomically replaced boot.rec. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hal/posix_internal.h"

#define BOOT_RECORD_NAME "boot.rec"

static void slot_name(int slot, char *buf, size_t cap) { snprintf(buf, cap, "slot-%d.bin", slot); }

/*
 * boot.rec holds two numbered copies of the record (IOTKIT__HAL_BOOT_COPY_SIZE
 * each): an update overwrites the older copy in place and syncs it, one
 * fdatasync instead of a temporary file, a rename and two syncs, which matters
 * because a download records the slot's size at every checkpoint. A torn write
 * damages only the copy being written, so the newest whole copy is the record.
 * A file of one bare record (the first format) is read too and rewritten in
 * two-copy form by the next update.
 */
iotkit_err_t iotkit__hal_posix_slots_load(iotkit__hal_posix_t *p) {
  for (int i = 0; i < IOTKIT_HAL_SLOT_COUNT; i++) p->slot_fd[i] = -1;
  iotkit__hal_boot_record_init(&p->rec);
  p->rec_seq = 0;
  p->rec_fd = -1;
  int fd = -1;
  uint64_t size = 0;
  iotkit_err_t rc = iotkit__hal_file_open_read(p->slots_dir, BOOT_RECORD_NAME, &fd, &size);
  if (rc == IOTKIT_ERR_NOT_FOUND) return IOTKIT_OK; /* factory state */
  if (rc != IOTKIT_OK) return rc;
  uint8_t raw[2 * IOTKIT__HAL_BOOT_COPY_SIZE];
  if (size == IOTKIT__HAL_BOOT_RECORD_SIZE) {
    rc = iotkit__hal_pread_all(fd, raw, IOTKIT__HAL_BOOT_RECORD_SIZE, 0);
    if (rc == IOTKIT_OK) rc = iotkit__hal_boot_record_decode(raw, IOTKIT__HAL_BOOT_RECORD_SIZE, &p->rec);
  } else if (size == sizeof(raw)) {
    rc = iotkit__hal_pread_all(fd, raw, sizeof(raw), 0);
    iotkit__hal_boot_record_t r[2];
    uint32_t seq[2];
    bool ok[2] = {false, false};
    for (int i = 0; rc == IOTKIT_OK && i < 2; i++)
      ok[i] = iotkit__hal_boot_copy_decode(raw + i * IOTKIT__HAL_BOOT_COPY_SIZE, &r[i], &seq[i]) == IOTKIT_OK;
    /* The newer of two whole copies (sequence numbers compared modulo 2^32). */
    int pick = ok[0] && ok[1] ? ((int32_t)(seq[1] - seq[0]) > 0 ? 1 : 0) : ok[0] ? 0 : ok[1] ? 1 : -1;
    if (rc == IOTKIT_OK && pick < 0) rc = IOTKIT_ERR_CORRUPT;
    if (rc == IOTKIT_OK) {
      p->rec = r[pick];
      p->rec_seq = seq[pick];
      p->rec_fd = openat(p->slots_dir, BOOT_RECORD_NAME, O_WRONLY | O_CLOEXEC);
      if (p->rec_fd < 0) rc = IOTKIT_ERR_IO;
    }
  } else {
    rc = IOTKIT_ERR_CORRUPT;
  }
  close(fd);
  if (rc == IOTKIT_ERR_CORRUPT) iotkit_hal_logf(&p->box.hal, IOTKIT_LOG_ERROR, "hal: boot record is corrupt");
  return rc;
}

void iotkit__hal_posix_slots_close(iotkit__hal_posix_t *p) {
  for (int i = 0; i < IOTKIT_HAL_SLOT_COUNT; i++) {
    if (p->slot_fd[i] >= 0) close(p->slot_fd[i]);
    p->slot_fd[i] = -1;
  }
  if (p->rec_fd >= 0) close(p->rec_fd);
  p->rec_fd = -1;
}

/* With the lock held: persist @next (the older copy in place, or a new two-copy file), then make it the cached record. */
static iotkit_err_t store_record(iotkit__hal_posix_t *p, const iotkit__hal_boot_record_t *next) {
  uint32_t seq = p->rec_seq + 1;
  uint8_t raw[2 * IOTKIT__HAL_BOOT_COPY_SIZE];
  iotkit_err_t rc;
  if (p->rec_fd >= 0) {
    iotkit__hal_boot_copy_encode(next, seq, raw);
    rc = iotkit__hal_pwrite_all(p->rec_fd, raw, IOTKIT__HAL_BOOT_COPY_SIZE, (uint64_t)(seq % 2) * IOTKIT__HAL_BOOT_COPY_SIZE);
    if (rc == IOTKIT_OK && fdatasync(p->rec_fd) != 0) rc = IOTKIT_ERR_IO;
    if (rc != IOTKIT_OK) iotkit__hal_posix_log_errno(p, "cannot write", BOOT_RECORD_NAME, errno);
  } else {
    /* Both copies hold @next; the one at seq % 2 is the newer. */
    iotkit__hal_boot_copy_encode(next, seq - 1, raw + (seq + 1) % 2 * IOTKIT__HAL_BOOT_COPY_SIZE);
    iotkit__hal_boot_copy_encode(next, seq, raw + seq % 2 * IOTKIT__HAL_BOOT_COPY_SIZE);
    rc = iotkit__hal_file_replace(p, p->slots_dir, BOOT_RECORD_NAME, raw, sizeof(raw));
    if (rc == IOTKIT_OK) p->rec_fd = openat(p->slots_dir, BOOT_RECORD_NAME, O_WRONLY | O_CLOEXEC);
    /* Without the descriptor the next update writes a whole file again: slower, as safe. */
  }
  if (rc == IOTKIT_OK) {
    p->rec = *next;
    p->rec_seq = seq;
  }
  return rc;
}

/* With the lock held: open @slot's file for writing, emptied (@erase) or cut to its finalized size. */
static iotkit_err_t open_for_writing(iotkit__hal_posix_t *p, int slot, bool erase) {
  char name[32];
  slot_name(slot, name, sizeof(name));
  int fd = openat(p->slots_dir, name, O_RDWR | O_CREAT | O_CLOEXEC | (erase ? O_TRUNC : 0), 0600);
  /* On resume only the finalized bytes are known to be whole; whatever a crash left after them goes. */
  if (fd < 0 || (!erase && ftruncate(fd, (off_t)p->rec.size[slot]) != 0)) {
    iotkit__hal_posix_log_errno(p, "cannot open", name, errno);
    if (fd >= 0) close(fd);
    return IOTKIT_ERR_IO;
  }
  if (p->slot_fd[slot] >= 0) close(p->slot_fd[slot]);
  p->slot_fd[slot] = fd;
  p->slot_entry_synced[slot] = !erase; /* a resumed file's entry was synced by the finalize that sized it */
  return IOTKIT_OK;
}

iotkit_err_t iotkit__hal_posix_slot_open(void *ctx, int slot) {
  iotkit__hal_posix_t *p = ctx;
  pthread_mutex_lock(&p->lock);
  iotkit__hal_boot_record_t next;
  iotkit_err_t rc = iotkit__hal_slot_plan_open(&p->rec, slot, &next);
  /* The record forgets the old image before its bytes go: a crash between the two leaves size 0. */
  if (rc == IOTKIT_OK) rc = store_record(p, &next);
  if (rc == IOTKIT_OK) {
    rc = open_for_writing(p, slot, true);
  }
  pthread_mutex_unlock(&p->lock);
  return rc;
}

iotkit_err_t iotkit__hal_posix_slot_write(void *ctx, int slot, uint64_t offset, const void *data, size_t len) {
  iotkit__hal_posix_t *p = ctx;
  iotkit_err_t rc = iotkit__hal_slot_check_range(slot);
  if (rc == IOTKIT_OK) rc = iotkit__hal_slot_check_span(offset, data, len, p->capacity);
  if (rc != IOTKIT_OK) return rc;
  pthread_mutex_lock(&p->lock);
  int fd = p->slot_fd[slot];
  rc = fd < 0 ? IOTKIT_ERR_STATE : iotkit__hal_pwrite_all(fd, data, len, offset);
  pthread_mutex_unlock(&p->lock);
  return rc;
}

iotkit_err_t iotkit__hal_posix_slot_read(void *ctx, int slot, uint64_t offset, void *buf, size_t len, size_t *got) {
  iotkit__hal_posix_t *p = ctx;
  if (iotkit__hal_slot_check_range(slot) != IOTKIT_OK || !got || (!buf && len > 0)) return IOTKIT_ERR_INVALID_ARG;
  char name[32];
  slot_name(slot, name, sizeof(name));
  int fd = -1;
  uint64_t size = 0;
  pthread_mutex_lock(&p->lock);
  iotkit_err_t rc = iotkit__hal_file_open_read(p->slots_dir, name, &fd, &size);
  pthread_mutex_unlock(&p->lock);
  if (rc == IOTKIT_ERR_NOT_FOUND) size = 0; /* never written: empty */
  else if (rc != IOTKIT_OK) return rc;
  size_t n = offset >= size ? 0 : (size - offset < len ? (size_t)(size - offset) : len);
  rc = n ? iotkit__hal_pread_all(fd, buf, n, offset) : IOTKIT_OK;
  if (fd >= 0) close(fd);
  if (rc == IOTKIT_OK) *got = n;
  return rc;
}

iotkit_err_t iotkit__hal_posix_slot_finalize(void *ctx, int slot, uint64_t size) {
  iotkit__hal_posix_t *p = ctx;
  if (iotkit__hal_slot_check_range(slot) != IOTKIT_OK) return IOTKIT_ERR_INVALID_ARG;
  if (size > p->capacity) return IOTKIT_ERR_TOO_LARGE;
  pthread_mutex_lock(&p->lock);
  int fd = p->slot_fd[slot];
  struct stat st;
  iotkit_err_t rc = IOTKIT_OK;
  if (fd < 0) rc = IOTKIT_ERR_STATE;
  else if (fstat(fd, &st) != 0) rc = IOTKIT_ERR_IO;
  else if (size > (uint64_t)st.st_size) rc = IOTKIT_ERR_INVALID_ARG;
  /*
   * Bytes beyond @size are dropped; then data (fdatasync: the size is part of
   * it) and, once per file, its directory entry reach the disk before the
   * record names them. A download finalizes often, so nothing is done twice.
   */
  if (rc == IOTKIT_OK && ((size != (uint64_t)st.st_size && ftruncate(fd, (off_t)size) != 0) || fdatasync(fd) != 0 ||
                          (!p->slot_entry_synced[slot] && fsync(p->slots_dir) != 0))) {
    iotkit__hal_posix_log_errno(p, "cannot sync", "slot", errno);
    rc = IOTKIT_ERR_IO;
  }
  if (rc == IOTKIT_OK) p->slot_entry_synced[slot] = true;
  if (rc == IOTKIT_OK && p->rec.size[slot] != size) {
    iotkit__hal_boot_record_t next = p->rec;
    next.size[slot] = size;
    rc = store_record(p, &next);
  }
  pthread_mutex_unlock(&p->lock);
  return rc;
}

iotkit_err_t iotkit__hal_posix_slot_mark_pending(void *ctx, int slot) {
  iotkit__hal_posix_t *p = ctx;
  pthread_mutex_lock(&p->lock);
  iotkit__hal_boot_record_t next;
  iotkit_err_t rc = iotkit__hal_slot_plan_pending(&p->rec, slot, &next);
  if (rc == IOTKIT_OK) rc = store_record(p, &next);
  if (rc == IOTKIT_OK && p->slot_fd[slot] >= 0) {
    /* The image to be tried must not change any more. */
    close(p->slot_fd[slot]);
    p->slot_fd[slot] = -1;
  }
  pthread_mutex_unlock(&p->lock);
  return rc;
}

iotkit_err_t iotkit__hal_posix_slot_confirm(void *ctx) {
  iotkit__hal_posix_t *p = ctx;
  pthread_mutex_lock(&p->lock);
  iotkit__hal_boot_record_t next;
  iotkit__hal_slot_plan_confirm(&p->rec, &next);
  iotkit_err_t rc = store_record(p, &next);
  pthread_mutex_unlock(&p->lock);
  return rc;
}

iotkit_err_t iotkit__hal_posix_slot_revert(void *ctx) {
  iotkit__hal_posix_t *p = ctx;
  pthread_mutex_lock(&p->lock);
  iotkit__hal_boot_record_t next;
  iotkit_err_t rc = iotkit__hal_slot_plan_revert(&p->rec, &next);
  /* boot.rec is replaced whole by rename: after a crash the trial record or the reverted one. */
  if (rc == IOTKIT_OK) rc = store_record(p, &next);
  pthread_mutex_unlock(&p->lock);
  return rc;
}

iotkit_err_t iotkit__hal_posix_slot_resume(void *ctx, int slot) {
  iotkit__hal_posix_t *p = ctx;
  pthread_mutex_lock(&p->lock);
  iotkit_err_t rc = iotkit__hal_slot_plan_resume(&p->rec, slot);
  if (rc == IOTKIT_OK) {
    rc = open_for_writing(p, slot, false);
  }
  pthread_mutex_unlock(&p->lock);
  return rc;
}

iotkit_err_t iotkit__hal_posix_boot(iotkit__hal_box_t *box, uint32_t max_trial_boots, iotkit_boot_outcome_t *outcome) {
  iotkit__hal_posix_t *p = (iotkit__hal_posix_t *)box;
  pthread_mutex_lock(&p->lock);
  iotkit__hal_posix_slots_close(p);
  iotkit__hal_boot_record_t next;
  iotkit_boot_outcome_t got = iotkit__hal_slot_plan_boot(&p->rec, max_trial_boots, &next);
  iotkit_err_t rc = got == IOTKIT_BOOT_CONFIRMED ? IOTKIT_OK : store_record(p, &next);
  if (rc == IOTKIT_OK) *outcome = got;
  pthread_mutex_unlock(&p->lock);
  return rc;
}

iotkit_err_t iotkit__hal_posix_slot_query(void *ctx, iotkit_slot_info_t *info) {
  iotkit__hal_posix_t *p = ctx;
  if (!info) return IOTKIT_ERR_INVALID_ARG;
  pthread_mutex_lock(&p->lock);
  iotkit__hal_slot_fill_info(&p->rec, p->capacity, info);
  pthread_mutex_unlock(&p->lock);
  return IOTKIT_OK;
}
