/* Crash-safe file primitives of the POSIX HAL. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hal/posix_internal.h"

void iotkit__hal_posix_log_errno(iotkit__hal_posix_t *p, const char *what, const char *name, int err) {
  char text[128];
  if (strerror_r(err, text, sizeof(text)) != 0) snprintf(text, sizeof(text), "errno %d", err);
  iotkit_hal_logf(&p->box.hal, IOTKIT_LOG_ERROR, "hal: %s %s: %s", what, name, text);
}

iotkit_err_t iotkit__hal_dir_open(iotkit__hal_posix_t *p, int parent, const char *name, int *fd) {
  if (mkdirat(parent, name, 0700) != 0 && errno != EEXIST) {
    int err = errno;
    iotkit__hal_posix_log_errno(p, err == ENOENT ? "cannot create (parent directory missing)" : "cannot create",
                                name, err);
    return IOTKIT_ERR_IO;
  }
  int d = openat(parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d < 0) {
    iotkit__hal_posix_log_errno(p, "cannot open directory", name, errno);
    return IOTKIT_ERR_IO;
  }
  *fd = d;
  return IOTKIT_OK;
}

iotkit_err_t iotkit__hal_dir_clean_temps(iotkit__hal_posix_t *p, int dirfd) {
  int d = dup(dirfd);
  DIR *dir = d >= 0 ? fdopendir(d) : NULL;
  if (!dir) {
    if (d >= 0) close(d);
    iotkit__hal_posix_log_errno(p, "cannot list", "state directory", errno);
    return IOTKIT_ERR_IO;
  }
  const size_t plen = strlen(IOTKIT__HAL_TEMP_PREFIX);
  struct dirent *e;
  while ((e = readdir(dir)) != NULL) {
    if (strncmp(e->d_name, IOTKIT__HAL_TEMP_PREFIX, plen) != 0) continue;
    if (unlinkat(dirfd, e->d_name, 0) != 0 && errno != ENOENT)
      iotkit__hal_posix_log_errno(p, "cannot remove stale", e->d_name, errno);
  }
  closedir(dir);
  return IOTKIT_OK;
}

/* pread/pwrite until @len bytes moved; an early end of file is an error. */
static iotkit_err_t io_all(int fd, unsigned char *b, size_t len, uint64_t offset, bool writing) {
  while (len > 0) {
    ssize_t n = writing ? pwrite(fd, b, len, (off_t)offset) : pread(fd, b, len, (off_t)offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return IOTKIT_ERR_IO;
    b += n;
    len -= (size_t)n;
    offset += (uint64_t)n;
  }
  return IOTKIT_OK;
}

iotkit_err_t iotkit__hal_pwrite_all(int fd, const void *buf, size_t len, uint64_t offset) {
  /* io_all only reads from the buffer when writing. */
  return io_all(fd, (unsigned char *)(uintptr_t)buf, len, offset, true);
}

iotkit_err_t iotkit__hal_pread_all(int fd, void *buf, size_t len, uint64_t offset) {
  return io_all(fd, buf, len, offset, false);
}

iotkit_err_t iotkit__hal_file_replace(iotkit__hal_posix_t *p, int dirfd, const char *name, const void *data,
                                      size_t len) {
  char tmp[160];
  unsigned long seq = atomic_fetch_add(&p->temp_seq, 1);
  snprintf(tmp, sizeof(tmp), IOTKIT__HAL_TEMP_PREFIX "%s.%ld.%lu", name, (long)getpid(), seq);
  int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    iotkit__hal_posix_log_errno(p, "cannot create", tmp, errno);
    return IOTKIT_ERR_IO;
  }
  int err = 0;
  if (iotkit__hal_pwrite_all(fd, data, len, 0) != IOTKIT_OK) err = errno ? errno : EIO;
  /* The data must be on disk before the rename makes it visible. */
  if (!err && fsync(fd) != 0) err = errno;
  if (close(fd) != 0 && !err) err = errno;
  if (!err && renameat(dirfd, tmp, dirfd, name) != 0) err = errno;
  if (err) {
    iotkit__hal_posix_log_errno(p, "cannot write", name, err);
    unlinkat(dirfd, tmp, 0);
    return IOTKIT_ERR_IO;
  }
  /* ... and the rename itself must be on disk before we report success. */
  if (fsync(dirfd) != 0) {
    iotkit__hal_posix_log_errno(p, "cannot sync directory for", name, errno);
    return IOTKIT_ERR_IO;
  }
  return IOTKIT_OK;
}

iotkit_err_t iotkit__hal_file_open_read(int dirfd, const char *name, int *fd, uint64_t *size) {
  int f = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
  if (f < 0) return errno == ENOENT ? IOTKIT_ERR_NOT_FOUND : IOTKIT_ERR_IO;
  struct stat st;
  if (fstat(f, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(f);
    return IOTKIT_ERR_IO;
  }
  *fd = f;
  *size = (uint64_t)st.st_size;
  return IOTKIT_OK;
}
