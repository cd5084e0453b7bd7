/* A minimal hand-filled HAL for tests (see test_hal.h). */
#include "test_hal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net_util.h"

struct test_hal {
  iotkit_hal_t hal;
  pthread_mutex_t lock;
  char *lines[TEST_HAL_LOG_MAX];
  iotkit_log_level_t levels[TEST_HAL_LOG_MAX];
  unsigned count;
  unsigned dropped;
};

static uint64_t th_monotonic_ms(void *ctx) {
  (void)ctx;
  return test_now_ms();
}

static int64_t th_wall_ms(void *ctx) {
  (void)ctx;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static iotkit_err_t th_random(void *ctx, void *buf, size_t len) {
  (void)ctx;
  FILE *f = fopen("/dev/urandom", "rb");
  if (!f) return IOTKIT_ERR_IO;
  size_t got = fread(buf, 1, len, f);
  fclose(f);
  return got == len ? IOTKIT_OK : IOTKIT_ERR_IO;
}

static void th_sleep_ms(void *ctx, uint32_t ms) {
  (void)ctx;
  test_msleep((int)ms);
}

static void th_log(void *ctx, iotkit_log_level_t level, const char *line) {
  test_hal_t *th = ctx;
  if (getenv("IOTKIT_TEST_LOG")) fprintf(stderr, "[%s] %s\n", iotkit_log_level_name(level), line);
  pthread_mutex_lock(&th->lock);
  char *copy = th->count < TEST_HAL_LOG_MAX ? strdup(line) : NULL;
  if (copy) {
    th->lines[th->count] = copy;
    th->levels[th->count++] = level;
  } else {
    th->dropped++;
  }
  pthread_mutex_unlock(&th->lock);
}

static iotkit_err_t th_mutex_new(void *ctx, void **mutex) {
  (void)ctx;
  pthread_mutex_t *m = malloc(sizeof *m);
  if (!m) return IOTKIT_ERR_NOMEM;
  pthread_mutex_init(m, NULL);
  *mutex = m;
  return IOTKIT_OK;
}

static void th_mutex_lock(void *ctx, void *mutex) {
  (void)ctx;
  pthread_mutex_lock(mutex);
}

static void th_mutex_unlock(void *ctx, void *mutex) {
  (void)ctx;
  pthread_mutex_unlock(mutex);
}

static void th_mutex_free(void *ctx, void *mutex) {
  (void)ctx;
  if (!mutex) return;
  pthread_mutex_destroy(mutex);
  free(mutex);
}

test_hal_t *test_hal_new(void) {
  test_hal_t *th = calloc(1, sizeof *th);
  if (!th) return NULL;
  pthread_mutex_init(&th->lock, NULL);
  /* Zeroed by calloc, as iotkit_hal_init() would. */
  th->hal.ctx = th;
  th->hal.monotonic_ms = th_monotonic_ms;
  th->hal.wall_ms = th_wall_ms;
  th->hal.random = th_random;
  th->hal.sleep_ms = th_sleep_ms;
  th->hal.log = th_log;
  th->hal.mutex_new = th_mutex_new;
  th->hal.mutex_lock = th_mutex_lock;
  th->hal.mutex_unlock = th_mutex_unlock;
  th->hal.mutex_free = th_mutex_free;
  return th;
}

const iotkit_hal_t *test_hal_get(test_hal_t *th) { return th ? &th->hal : NULL; }

bool test_hal_log_contains(test_hal_t *th, const char *needle) {
  bool found = false;
  pthread_mutex_lock(&th->lock);
  for (unsigned i = 0; i < th->count && !found; i++) found = strstr(th->lines[i], needle) != NULL;
  pthread_mutex_unlock(&th->lock);
  return found;
}

bool test_hal_log_complete(test_hal_t *th) {
  pthread_mutex_lock(&th->lock);
  bool complete = th->dropped == 0;
  pthread_mutex_unlock(&th->lock);
  return complete;
}

unsigned test_hal_log_count(test_hal_t *th, iotkit_log_level_t level) {
  unsigned n = 0;
  pthread_mutex_lock(&th->lock);
  for (unsigned i = 0; i < th->count; i++) n += th->levels[i] == level;
  pthread_mutex_unlock(&th->lock);
  return n;
}

void test_hal_free(test_hal_t *th) {
  if (!th) return;
  for (unsigned i = 0; i < th->count; i++) free(th->lines[i]);
  pthread_mutex_destroy(&th->lock);
  free(th);
}
