/* Mutexes and threads on pthreads, used by both shipped HALs. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hal/hal_internal.h"

iotkit_err_t iotkit__hal_pthread_mutex_new(void *ctx, void **mutex) {
  (void)ctx;
  if (!mutex) return IOTKIT_ERR_INVALID_ARG;
  pthread_mutex_t *m = malloc(sizeof(*m));
  if (!m) return IOTKIT_ERR_NOMEM;
  if (pthread_mutex_init(m, NULL) != 0) {
    free(m);
    return IOTKIT_ERR_NOMEM;
  }
  *mutex = m;
  return IOTKIT_OK;
}

void iotkit__hal_pthread_mutex_lock(void *ctx, void *mutex) {
  (void)ctx;
  if (mutex) pthread_mutex_lock(mutex);
}

void iotkit__hal_pthread_mutex_unlock(void *ctx, void *mutex) {
  (void)ctx;
  if (mutex) pthread_mutex_unlock(mutex);
}

void iotkit__hal_pthread_mutex_free(void *ctx, void *mutex) {
  (void)ctx;
  if (!mutex) return;
  pthread_mutex_destroy(mutex);
  free(mutex);
}

typedef struct hal_thread {
  pthread_t tid;
  iotkit_thread_fn fn;
  void *arg;
} hal_thread_t;

static void *thread_main(void *p) {
  hal_thread_t *t = p;
  t->fn(t->arg);
  return NULL;
}

iotkit_err_t iotkit__hal_pthread_thread_start(void *ctx, iotkit_thread_fn fn, void *arg, void **thread) {
  (void)ctx;
  if (!fn || !thread) return IOTKIT_ERR_INVALID_ARG;
  hal_thread_t *t = malloc(sizeof(*t));
  if (!t) return IOTKIT_ERR_NOMEM;
  t->fn = fn;
  t->arg = arg;
  if (pthread_create(&t->tid, NULL, thread_main, t) != 0) {
    free(t);
    return IOTKIT_ERR_NOMEM;
  }
  *thread = t;
  return IOTKIT_OK;
}

iotkit_err_t iotkit__hal_pthread_thread_join(void *ctx, void *thread) {
  (void)ctx;
  if (!thread) return IOTKIT_ERR_INVALID_ARG;
  hal_thread_t *t = thread;
  /* Joining oneself would deadlock; pthread_join reports it as EDEADLK. */
  if (pthread_equal(t->tid, pthread_self())) return IOTKIT_ERR_STATE;
  if (pthread_join(t->tid, NULL) != 0) return IOTKIT_ERR_INTERNAL;
  free(t);
  return IOTKIT_OK;
}

uint64_t iotkit__hal_pthread_thread_self(void *ctx) {
  (void)ctx;
  /* pthread_t is opaque: on the platforms we build for it is an integer or a pointer that
     is never 0 for a live thread and unique among live threads, which is what the device
     layer needs to recognise its dispatching thread. Its first 8 bytes are taken. */
  pthread_t self = pthread_self();
  uint64_t id = 0;
  memcpy(&id, &self, sizeof(self) < sizeof(id) ? sizeof(self) : sizeof(id));
  return id ? id : 1u;
}

/* Timed waits count on CLOCK_MONOTONIC, so that a wall-clock step does not stretch them. */
iotkit_err_t iotkit__hal_pthread_cond_new(void *ctx, void **cond) {
  (void)ctx;
  if (!cond) return IOTKIT_ERR_INVALID_ARG;
  pthread_cond_t *c = malloc(sizeof(*c));
  if (!c) return IOTKIT_ERR_NOMEM;
  pthread_condattr_t attr;
  if (pthread_condattr_init(&attr) != 0) {
    free(c);
    return IOTKIT_ERR_NOMEM;
  }
  int rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  if (rc == 0) rc = pthread_cond_init(c, &attr);
  pthread_condattr_destroy(&attr);
  if (rc != 0) {
    free(c);
    return IOTKIT_ERR_NOMEM;
  }
  *cond = c;
  return IOTKIT_OK;
}

iotkit_err_t iotkit__hal_pthread_cond_wait(void *ctx, void *cond, void *mutex, uint32_t timeout_ms) {
  (void)ctx;
  if (!cond || !mutex) return IOTKIT_ERR_INVALID_ARG;
  if (timeout_ms == IOTKIT_HAL_WAIT_FOREVER) {
    pthread_cond_wait(cond, mutex);
    return IOTKIT_OK;
  }
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  ts.tv_sec += (time_t)(timeout_ms / 1000u);
  ts.tv_nsec += (long)(timeout_ms % 1000u) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  return pthread_cond_timedwait(cond, mutex, &ts) == ETIMEDOUT ? IOTKIT_ERR_TIMEOUT : IOTKIT_OK;
}

void iotkit__hal_pthread_cond_broadcast(void *ctx, void *cond) {
  (void)ctx;
  if (cond) pthread_cond_broadcast(cond);
}

void iotkit__hal_pthread_cond_free(void *ctx, void *cond) {
  (void)ctx;
  if (!cond) return;
  pthread_cond_destroy(cond);
  free(cond);
}

void iotkit__hal_use_pthreads(iotkit_hal_t *hal) {
  hal->mutex_new = iotkit__hal_pthread_mutex_new;
  hal->mutex_lock = iotkit__hal_pthread_mutex_lock;
  hal->mutex_unlock = iotkit__hal_pthread_mutex_unlock;
  hal->mutex_free = iotkit__hal_pthread_mutex_free;
  hal->thread_start = iotkit__hal_pthread_thread_start;
  hal->thread_join = iotkit__hal_pthread_thread_join;
  hal->thread_self = iotkit__hal_pthread_thread_self;
  hal->cond_new = iotkit__hal_pthread_cond_new;
  hal->cond_wait = iotkit__hal_pthread_cond_wait;
  hal->cond_broadcast = iotkit__hal_pthread_cond_broadcast;
  hal->cond_free = iotkit__hal_pthread_cond_free;
}
