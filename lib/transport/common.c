/* Helpers shared by the transport backends. */
#include "transport/common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static bool hal_has_mutex(const iotkit_hal_t *hal) {
  return hal && hal->mutex_new && hal->mutex_lock && hal->mutex_unlock && hal->mutex_free;
}

iotkit_err_t iotkit__transport_lock_init(iotkit__transport_lock_t *lock, const iotkit_hal_t *hal) {
  memset(lock, 0, sizeof *lock);
  if (hal_has_mutex(hal)) {
    iotkit_err_t rc = hal->mutex_new(hal->ctx, &lock->hal_mutex);
    if (rc != IOTKIT_OK) return rc;
    lock->hal = hal;
    return IOTKIT_OK;
  }
  return pthread_mutex_init(&lock->mutex, NULL) == 0 ? IOTKIT_OK : IOTKIT_ERR_NOMEM;
}

void iotkit__transport_lock_acquire(iotkit__transport_lock_t *lock) {
  if (lock->hal) {
    lock->hal->mutex_lock(lock->hal->ctx, lock->hal_mutex);
  } else {
    pthread_mutex_lock(&lock->mutex);
  }
}

void iotkit__transport_lock_release(iotkit__transport_lock_t *lock) {
  if (lock->hal) {
    lock->hal->mutex_unlock(lock->hal->ctx, lock->hal_mutex);
  } else {
    pthread_mutex_unlock(&lock->mutex);
  }
}

void iotkit__transport_lock_destroy(iotkit__transport_lock_t *lock) {
  if (lock->hal) {
    lock->hal->mutex_free(lock->hal->ctx, lock->hal_mutex);
  } else {
    pthread_mutex_destroy(&lock->mutex);
  }
  memset(lock, 0, sizeof *lock);
}

void iotkit__transport_logf(const iotkit_hal_t *hal, iotkit_log_level_t level, const char *fmt, ...) {
  if (!hal || !hal->log) return;
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  hal->log(hal->ctx, level, line);
}

uint64_t iotkit__transport_now_ms(const iotkit_hal_t *hal) {
  if (hal && hal->monotonic_ms) return hal->monotonic_ms(hal->ctx);
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int iotkit__transport_query_uint(const char *query, const char *key, unsigned long *out) {
  if (!query || !key) return 0;
  size_t klen = strlen(key);
  const char *p = query;
  while (*p) {
    size_t len = strcspn(p, "&");
    if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
      const char *v = p + klen + 1;
      size_t vlen = len - klen - 1;
      if (vlen == 0 || vlen > 9 || strspn(v, "0123456789") < vlen) return -1;
      *out = strtoul(v, NULL, 10);
      return 1;
    }
    p += len;
    if (*p == '&') p++;
  }
  return 0;
}
