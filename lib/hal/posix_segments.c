/* The POSIX HAL's segmented append-only logs: <state_dir>/queue/<store>/<id>.seg. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hal/posix_internal.h"

#define SEG_SUFFIX ".seg"
#define SEG_DIGITS 10

static void seg_name(uint32_t id, char buf[32]) { snprintf(buf, 32, "%010u" SEG_SUFFIX, (unsigned)id); }

/* Parse "<10 digits>.seg"; false for any other name. */
static bool seg_parse(const char *name, uint32_t *id) {
  if (strlen(name) != SEG_DIGITS + strlen(SEG_SUFFIX) || strcmp(name + SEG_DIGITS, SEG_SUFFIX) != 0) return false;
  uint64_t v = 0;
  for (int i = 0; i < SEG_DIGITS; i++) {
    if (name[i] < '0' || name[i] > '9') return false;
    v = v * 10 + (uint64_t)(name[i] - '0');
  }
  if (v > UINT32_MAX) return false;
  *id = (uint32_t)v;
  return true;
}

/* Open the directory of @store; NOT_FOUND if absent and !create. A new directory is made durable. */
static iotkit_err_t store_dir_open(iotkit__hal_posix_t *p, const char *store, bool create, int *fd) {
  int d = openat(p->queue_dir, store, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d < 0 && errno == ENOENT && create) {
    if (mkdirat(p->queue_dir, store, 0700) != 0 && errno != EEXIST) {
      iotkit__hal_posix_log_errno(p, "cannot create store", store, errno);
      return IOTKIT_ERR_IO;
    }
    (void)fsync(p->queue_dir);
    d = openat(p->queue_dir, store, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  }
  if (d < 0) return errno == ENOENT ? IOTKIT_ERR_NOT_FOUND : IOTKIT_ERR_IO;
  *fd = d;
  return IOTKIT_OK;
}

static iotkit__hal_seg_fd_t *cache_find(iotkit__hal_posix_t *p, const char *store, uint32_t id) {
  for (int i = 0; i < IOTKIT__HAL_SEG_CACHE; i++) {
    iotkit__hal_seg_fd_t *e = &p->seg_fd[i];
    if (e->fd >= 0 && e->id == id && strcmp(e->store, store) == 0) return e;
  }
  return NULL;
}

static void cache_drop(iotkit__hal_seg_fd_t *e) {
  if (e && e->fd >= 0) close(e->fd);
  if (e) e->fd = -1;
}

void iotkit__hal_posix_segs_close(iotkit__hal_posix_t *p) {
  for (int i = 0; i < IOTKIT__HAL_SEG_CACHE; i++) cache_drop(&p->seg_fd[i]);
}

/* With the lock held: an open descriptor of the segment (cached); NOT_FOUND if absent and !create. */
static iotkit_err_t seg_fd(iotkit__hal_posix_t *p, const char *store, uint32_t id, bool create, int *out) {
  iotkit__hal_seg_fd_t *e = cache_find(p, store, id);
  if (!e) {
    int dir = -1;
    iotkit_err_t rc = store_dir_open(p, store, create, &dir);
    if (rc != IOTKIT_OK) return rc;
    char name[32];
    seg_name(id, name);
    int fd = openat(dir, name, O_RDWR | O_APPEND | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
      fd = openat(dir, name, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
      /* The new name must survive a crash as soon as the segment is said to exist. */
      if (fd >= 0 && fsync(dir) != 0) iotkit__hal_posix_log_errno(p, "cannot sync store of", name, errno);
    }
    int err = errno;
    close(dir);
    if (fd < 0) {
      if (err == ENOENT) return IOTKIT_ERR_NOT_FOUND;
      iotkit__hal_posix_log_errno(p, "cannot open segment", name, err);
      return IOTKIT_ERR_IO;
    }
    e = &p->seg_fd[0];
    for (int i = 1; i < IOTKIT__HAL_SEG_CACHE; i++)
      if (p->seg_fd[i].fd < 0 || (e->fd >= 0 && p->seg_fd[i].used < e->used)) e = &p->seg_fd[i];
    cache_drop(e);
    memcpy(e->store, store, strlen(store) + 1);
    e->id = id;
    e->fd = fd;
  }
  e->used = ++p->seg_clock;
  *out = e->fd;
  return IOTKIT_OK;
}

static iotkit_err_t px_seg_append(void *ctx, const char *store, uint32_t seg, const void *data, size_t len) {
  iotkit__hal_posix_t *p = ctx;
  if (iotkit__hal_kv_check_key(store) != IOTKIT_OK || (!data && len > 0)) return IOTKIT_ERR_INVALID_ARG;
  pthread_mutex_lock(&p->lock);
  int fd = -1;
  iotkit_err_t rc = seg_fd(p, store, seg, true, &fd);
  const unsigned char *b = data;
  while (rc == IOTKIT_OK && len > 0) {
    ssize_t n = write(fd, b, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      iotkit__hal_posix_log_errno(p, "cannot append to store", store, n < 0 ? errno : EIO);
      rc = IOTKIT_ERR_IO;
      break;
    }
    b += n;
    len -= (size_t)n;
  }
  pthread_mutex_unlock(&p->lock);
  return rc;
}

static iotkit_err_t px_seg_read(void *ctx, const char *store, uint32_t seg, uint64_t offset, void *buf, size_t len,
                                size_t *got) {
  iotkit__hal_posix_t *p = ctx;
  if (iotkit__hal_kv_check_key(store) != IOTKIT_OK || !got || (!buf && len > 0)) return IOTKIT_ERR_INVALID_ARG;
  pthread_mutex_lock(&p->lock);
  int fd = -1;
  iotkit_err_t rc = seg_fd(p, store, seg, false, &fd);
  size_t total = 0;
  unsigned char *b = buf;
  while (rc == IOTKIT_OK && total < len && offset + total <= (uint64_t)INT64_MAX) {
    ssize_t n = pread(fd, b + total, len - total, (off_t)(offset + total));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) rc = IOTKIT_ERR_IO;
    if (n <= 0) break;
    total += (size_t)n;
  }
  pthread_mutex_unlock(&p->lock);
  if (rc == IOTKIT_OK) *got = total;
  return rc;
}

static iotkit_err_t px_seg_size(void *ctx, const char *store, uint32_t seg, uint64_t *size) {
  iotkit__hal_posix_t *p = ctx;
  if (iotkit__hal_kv_check_key(store) != IOTKIT_OK || !size) return IOTKIT_ERR_INVALID_ARG;
  pthread_mutex_lock(&p->lock);
  int fd = -1;
  struct stat st;
  iotkit_err_t rc = seg_fd(p, store, seg, false, &fd);
  if (rc == IOTKIT_OK && fstat(fd, &st) != 0) rc = IOTKIT_ERR_IO;
  pthread_mutex_unlock(&p->lock);
  if (rc == IOTKIT_OK) *size = (uint64_t)st.st_size;
  return rc;
}

static iotkit_err_t px_seg_sync(void *ctx, const char *store, uint32_t seg) {
  iotkit__hal_posix_t *p = ctx;
  if (iotkit__hal_kv_check_key(store) != IOTKIT_OK) return IOTKIT_ERR_INVALID_ARG;
  pthread_mutex_lock(&p->lock);
  int fd = -1;
  iotkit_err_t rc = seg_fd(p, store, seg, false, &fd);
  if (rc == IOTKIT_OK && fdatasync(fd) != 0) {
    iotkit__hal_posix_log_errno(p, "cannot sync store", store, errno);
    rc = IOTKIT_ERR_IO;
  }
  pthread_mutex_unlock(&p->lock);
  return rc;
}

static iotkit_err_t px_seg_remove(void *ctx, const char *store, uint32_t seg) {
  iotkit__hal_posix_t *p = ctx;
  if (iotkit__hal_kv_check_key(store) != IOTKIT_OK) return IOTKIT_ERR_INVALID_ARG;
  pthread_mutex_lock(&p->lock);
  cache_drop(cache_find(p, store, seg));
  int dir = -1;
  iotkit_err_t rc = store_dir_open(p, store, false, &dir);
  if (rc == IOTKIT_OK) {
    char name[32];
    seg_name(seg, name);
    if (unlinkat(dir, name, 0) != 0 && errno != ENOENT) {
      iotkit__hal_posix_log_errno(p, "cannot remove segment", name, errno);
      rc = IOTKIT_ERR_IO;
    } else if (fsync(dir) != 0) {
      rc = IOTKIT_ERR_IO;
    }
    close(dir);
  } else if (rc == IOTKIT_ERR_NOT_FOUND) {
    rc = IOTKIT_OK;
  }
  pthread_mutex_unlock(&p->lock);
  return rc;
}

static iotkit_err_t px_seg_list(void *ctx, const char *store, uint32_t *ids, size_t cap, size_t *count) {
  iotkit__hal_posix_t *p = ctx;
  if (iotkit__hal_kv_check_key(store) != IOTKIT_OK || !count || (!ids && cap > 0)) return IOTKIT_ERR_INVALID_ARG;
  int dir = -1;
  iotkit_err_t rc = store_dir_open(p, store, false, &dir);
  if (rc == IOTKIT_ERR_NOT_FOUND) {
    *count = 0;
    return IOTKIT_OK;
  }
  if (rc != IOTKIT_OK) return rc;
  DIR *d = fdopendir(dir);
  if (!d) {
    close(dir);
    return IOTKIT_ERR_IO;
  }
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    uint32_t id;
    if (!seg_parse(e->d_name, &id)) continue;
    if (n < cap) ids[n] = id;
    n++;
  }
  closedir(d);
  *count = n;
  if (n > cap) return IOTKIT_ERR_BUFFER_TOO_SMALL;
  iotkit__hal_sort_ids(ids, n);
  return IOTKIT_OK;
}

void iotkit__hal_posix_segs_install(iotkit_hal_t *hal) {
  hal->seg_append = px_seg_append;
  hal->seg_read = px_seg_read;
  hal->seg_size = px_seg_size;
  hal->seg_sync = px_seg_sync;
  hal->seg_remove = px_seg_remove;
  hal->seg_list = px_seg_list;
}
