/* Clocks, sleeping and random bytes from the operating system. */
#include <errno.h>
#include <stdio.h>
#include <sys/random.h>
#include <time.h>

#include "hal/hal_internal.h"

static int64_t clock_ms(clockid_t id) {
  struct timespec ts;
  if (clock_gettime(id, &ts) != 0) return 0;
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t iotkit__hal_os_monotonic_ms(void) { return (uint64_t)clock_ms(CLOCK_MONOTONIC); }

int64_t iotkit__hal_os_wall_ms(void) { return clock_ms(CLOCK_REALTIME); }

void iotkit__hal_os_sleep_ms(uint32_t ms) {
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
  /* "May return early" is allowed, but finishing the wait after a signal is kinder. */
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

iotkit_err_t iotkit__hal_os_random(void *buf, size_t len) {
  if (!buf && len > 0) return IOTKIT_ERR_INVALID_ARG;
  unsigned char *p = buf;
  while (len > 0) {
    ssize_t n = getrandom(p, len, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return IOTKIT_ERR_IO;
    }
    p += n;
    len -= (size_t)n;
  }
  return IOTKIT_OK;
}

void iotkit__hal_format_utc(int64_t wall_ms, char *buf, size_t cap) {
  time_t secs = (time_t)(wall_ms / 1000);
  int millis = (int)(wall_ms % 1000);
  if (millis < 0) {
    millis += 1000;
    secs -= 1;
  }
  struct tm tm;
  if (!gmtime_r(&secs, &tm)) {
    snprintf(buf, cap, "?");
    return;
  }
  snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
           tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
}
