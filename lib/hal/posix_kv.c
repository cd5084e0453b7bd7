/* The POSIX HAL's key-value store: one file per key under <state_dir>/kv. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hal/posix_internal.h"
#include "iotkit/options.h"

iotkit_err_t iotkit__hal_posix_kv_get(void *ctx, const char *key, void *buf, size_t cap, size_t *len) {
  iotkit__hal_posix_t *p = ctx;
  iotkit_err_t rc = iotkit__hal_kv_check_get(key, buf, cap, len);
  if (rc != IOTKIT_OK) return rc;
  int fd = -1;
  uint64_t size = 0;
  rc = iotkit__hal_file_open_read(p->kv_dir, key, &fd, &size);
  if (rc != IOTKIT_OK) return rc;
  /* Files are replaced whole by rename, never modified: the size read here is the value's. */
  if (size > IOTKIT_MAX_KV_VALUE) {
    rc = IOTKIT_ERR_CORRUPT;
  } else if (size > cap) {
    *len = (size_t)size;
    rc = IOTKIT_ERR_BUFFER_TOO_SMALL;
  } else if (size > 0) {
    /* Read aside first, so that a failed read leaves the caller's buffer untouched. */
    void *tmp = malloc((size_t)size);
    rc = tmp ? iotkit__hal_pread_all(fd, tmp, (size_t)size, 0) : IOTKIT_ERR_NOMEM;
    if (rc == IOTKIT_OK) memcpy(buf, tmp, (size_t)size);
    free(tmp);
  }
  if (rc == IOTKIT_OK) *len = (size_t)size;
  close(fd);
  return rc;
}

iotkit_err_t iotkit__hal_posix_kv_set(void *ctx, const char *key, const void *val, size_t len) {
  iotkit__hal_posix_t *p = ctx;
  iotkit_err_t rc = iotkit__hal_kv_check_set(key, val, len);
  if (rc != IOTKIT_OK) return rc;
  return iotkit__hal_file_replace(p, p->kv_dir, key, val, len);
}

iotkit_err_t iotkit__hal_posix_kv_erase(void *ctx, const char *key) {
  iotkit__hal_posix_t *p = ctx;
  if (iotkit__hal_kv_check_key(key) != IOTKIT_OK) return IOTKIT_ERR_INVALID_ARG;
  if (unlinkat(p->kv_dir, key, 0) != 0) {
    if (errno == ENOENT) return IOTKIT_OK;
    iotkit__hal_posix_log_errno(p, "cannot erase", key, errno);
    return IOTKIT_ERR_IO;
  }
  if (fsync(p->kv_dir) != 0) return IOTKIT_ERR_IO;
  return IOTKIT_OK;
}
