/* The fleet side of the fleet ingest benchmark (run_fleet_ingest.sh): a fleet
 * (its own thread, iotkit_fleet_start) on a database file, auto-registering the
 * devices of a warm-up (one message each), then counting COUNT telemetry
 * messages in its telemetry callback.
 *   MODE a: monitoring only (latest values; no telemetry history);
 *   MODE b: telemetry history on (history_max_points 1000), the library's own
 *           batching: one transaction per flush, covering whatever arrived while
 *           the previous one was written;
 *   MODE c: history on, no batching: the callback calls iotkit_fleet_sync() for
 *           every message, so each message's changes are committed in a
 *           transaction of their own before the next message is read.
 * Usage: fleet_ingest URI DB MODE DEVICES COUNT
 * Prints "subscribed" (then the warm-up may be published), "ready" (devices
 * registered and written: the flood may start), then
 * "fleet mode=M count=N seconds=S rate=R db_seconds=S2 db_rate=R2 rss_kib_per_1000=K ..."
 * where S is first to last arrival, S2 first arrival to everything committed, and cpu_us
 * the process's CPU time (user and system, every thread, start-up included) per message. */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <iotkit/iotkit.h>

static atomic_long got;
static long warm, want;
static double first, last;
static bool per_message;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static void on_telemetry(iotkit_fleet_t *f, void *user, const char *id, const iotkit_telemetry_batch_t *b) {
  (void)user, (void)id, (void)b;
  long n = atomic_fetch_add(&got, 1) + 1;
  if (n <= warm) return;
  if (per_message) (void)iotkit_fleet_sync(f);
  double t = now_s();
  if (n == warm + 1) first = t;
  last = t;
}

/* Wait until @p done() or @p secs pass without progress of got. */
static bool wait_for(long target, double secs) {
  long seen = atomic_load(&got);
  double since = now_s();
  while (atomic_load(&got) < target) {
    sleep_ms(5);
    long n = atomic_load(&got);
    if (n != seen) {
      seen = n;
      since = now_s();
    } else if (now_s() - since > secs) {
      return false;
    }
  }
  return true;
}

int main(int argc, char **argv) {
  if (argc != 6 || strlen(argv[3]) != 1 || argv[3][0] < 'a' || argv[3][0] > 'c') {
    fprintf(stderr, "usage: %s URI DB a|b|c DEVICES COUNT\n", argv[0]);
    return 1;
  }
  char mode = argv[3][0];
  warm = atol(argv[4]);
  want = atol(argv[5]);
  per_message = mode == 'c';
  iotkit_hal_t *hal = NULL;
  if (iotkit_hal_memory_new(NULL, &hal) != IOTKIT_OK) return 2;
  char err[IOTKIT_ERROR_TEXT_SIZE] = "";
  iotkit_fleet_config_t cfg;
  iotkit_fleet_config_init(&cfg);
  cfg.db_path = argv[2];
  cfg.hal = hal;
  cfg.uri = argv[1];
  cfg.auto_register = true;
  cfg.history_max_points = mode == 'a' ? 0 : 1000;
  cfg.error_buf = err;
  cfg.error_buf_size = sizeof err;
  iotkit_fleet_t *f = NULL;
  iotkit_err_t rc = iotkit_fleet_new(&cfg, &f);
  if (rc != IOTKIT_OK) {
    fprintf(stderr, "fleet: %s: %s\n", iotkit_err_name(rc), err);
    return 2;
  }
  iotkit_fleet_on_telemetry(f, on_telemetry, NULL);
  if ((rc = iotkit_fleet_connect(f)) != IOTKIT_OK || (rc = iotkit_fleet_start(f)) != IOTKIT_OK) {
    char detail[IOTKIT_ERROR_TEXT_SIZE];
    fprintf(stderr, "fleet: cannot connect: %s (%s)\n", iotkit_err_name(rc),
            iotkit_fleet_last_error(f, detail, sizeof detail));
    return 2;
  }
  iotkit_fleet_stats_t s;
  double end = now_s() + 10;
  do {
    sleep_ms(5);
    iotkit_fleet_stats(f, &s);
  } while (s.reconciliations == 0 && now_s() < end);
  if (s.reconciliations == 0) {
    fprintf(stderr, "fleet: no session\n");
    return 2;
  }
  printf("subscribed\n");
  fflush(stdout);
  if (!wait_for(warm, 30)) {
    iotkit_fleet_stats(f, &s);
    fprintf(stderr, "fleet: warm-up incomplete: %ld of %ld (sessions %llu, messages %llu, unknown %llu, undecodable %llu)\n",
            atomic_load(&got), warm, (unsigned long long)s.sessions, (unsigned long long)s.messages, (unsigned long long)s.unknown_device,
            (unsigned long long)s.undecodable);
    return 3;
  }
  iotkit_fleet_sync(f);
  printf("ready\n");
  fflush(stdout);
  bool all = wait_for(warm + want, 60);
  double t_last = last;
  rc = iotkit_fleet_sync(f);
  double t_db = now_s();
  iotkit_fleet_stats(f, &s);
  long n = atomic_load(&got) - warm;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpu = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  double secs = t_last - first, db_secs = t_db - first;
  printf("fleet mode=%c count=%ld seconds=%.3f rate=%.0f db_seconds=%.3f db_rate=%.0f rss_kib_per_1000=%.0f "
         "cpu_us=%.2f undecodable=%llu dropped=%llu write_failures=%llu sync=%s\n",
         mode, n, secs, secs > 0 ? n / secs : 0.0, db_secs, db_secs > 0 ? n / db_secs : 0.0,
         (double)ru.ru_maxrss * 1000.0 / (double)(warm ? warm : 1), n + warm > 0 ? cpu * 1e6 / (double)(n + warm) : 0.0,
         (unsigned long long)s.undecodable,
         (unsigned long long)s.dropped_metrics, (unsigned long long)s.write_failures, iotkit_err_name(rc));
  fflush(stdout);
  iotkit_fleet_free(f);
  iotkit_hal_free(hal);
  return all ? 0 : 3;
}
