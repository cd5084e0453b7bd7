/* What the transport backends share: a lock, a log line, a clock, error text. */
#ifndef IOTKIT__TRANSPORT_COMMON_H
#define IOTKIT__TRANSPORT_COMMON_H

#include <pthread.h>
#include <stdint.h>

#include "iotkit/transport.h"

/* Size of a backend's last-error text. */
#define IOTKIT__TRANSPORT_ERR_MAX 256

/* A mutex from the HAL when it provides the four mutex operations, else a
   pthread mutex (lib/transport may use the OS directly). */
typedef struct iotkit__transport_lock {
  const iotkit_hal_t *hal;
  void *hal_mutex;
  pthread_mutex_t mutex;
} iotkit__transport_lock_t;

iotkit_err_t iotkit__transport_lock_init(iotkit__transport_lock_t *lock, const iotkit_hal_t *hal);
void iotkit__transport_lock_acquire(iotkit__transport_lock_t *lock);
void iotkit__transport_lock_release(iotkit__transport_lock_t *lock);
void iotkit__transport_lock_destroy(iotkit__transport_lock_t *lock);

/* Log a formatted line through hal->log; a NULL HAL or log op drops it.
   Callers never pass secrets. */
void iotkit__transport_logf(const iotkit_hal_t *hal, iotkit_log_level_t level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Monotonic milliseconds: hal->monotonic_ms when set, else CLOCK_MONOTONIC. */
uint64_t iotkit__transport_now_ms(const iotkit_hal_t *hal);

/* Value of option @p key in a query "k1=v1&k2=v2" as an unsigned number.
   Returns 1 if present and numeric (stored in *out), 0 if absent, -1 if malformed. */
int iotkit__transport_query_uint(const char *query, const char *key, unsigned long *out);

#endif
