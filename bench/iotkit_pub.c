/* libiotkit side of the MQTT publish benchmark: a device with its background loop,
 * send_telemetry N times, wait for every delivery callback.
 * Usage: iotkit_pub URI QOS COUNT PAYLOAD_BYTES [STATE_DIR]
 * Without STATE_DIR: memory HAL, no durable queue (telemetry sent directly).
 * With STATE_DIR: POSIX HAL there and the durable queue at its defaults (fsync
 * every 1000 ms; drain rate unlimited, so that the backlog of messages beyond the
 * in-flight window is not throttled); it also waits until the queue is empty.
 * Prints: "iotkit qos=Q count=N seconds=S rate=R" */
#define _POSIX_C_SOURCE 200809L
#include <iotkit/iotkit.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long delivered, failed;

static void on_delivery(iotkit_device_t *dev, void *user, uint32_t id, iotkit_err_t status) {
  (void)dev, (void)user, (void)id;
  pthread_mutex_lock(&mu);
  if (status == IOTKIT_OK) delivered++; else failed++;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 5 && argc != 6) {
    fprintf(stderr, "usage: %s URI QOS COUNT PAYLOAD_BYTES [STATE_DIR]\n", argv[0]);
    return 1;
  }
  int qos = atoi(argv[2]);
  long count = atol(argv[3]);
  size_t size = (size_t)atol(argv[4]);
  char *payload = malloc(size ? size : 1);
  memset(payload, 'x', size);

  iotkit_hal_t *hal = NULL;
  iotkit_hal_memory_config_t hcfg;
  iotkit_hal_memory_config_init(&hcfg);
  const char *state_dir = argc == 6 ? argv[5] : NULL;
  if (state_dir) {
    iotkit_hal_posix_config_t pc;
    iotkit_hal_posix_config_init(&pc);
    pc.state_dir = state_dir;
    pc.log_level = IOTKIT_LOG_WARN;
    iotkit_hal_posix_new(&pc, &hal);
  } else {
    iotkit_hal_memory_new(&hcfg, &hal);
  }
  iotkit_device_config_t cfg;
  iotkit_device_config_init(&cfg);
  cfg.device_id = "bench-iotkit";
  cfg.uri = argv[1];
  cfg.hal = hal;
  cfg.telemetry_qos = qos;
  cfg.telemetry_durable = state_dir != NULL;
  cfg.telemetry_drain_rate = 0;
  iotkit_device_t *dev = NULL;
  iotkit_err_t rc = iotkit_device_new(&cfg, &dev);
  if (rc == IOTKIT_OK) rc = iotkit_device_on_delivery(dev, on_delivery, NULL);
  if (rc == IOTKIT_OK) rc = iotkit_device_connect(dev);
  if (rc == IOTKIT_OK) rc = iotkit_device_start(dev);
  if (rc != IOTKIT_OK) {
    char detail[256];
    fprintf(stderr, "iotkit: %s: %s\n", iotkit_err_name(rc), iotkit_device_last_error(dev, detail, sizeof detail));
    return 2;
  }

  double t0 = now_s();
  for (long i = 0; i < count; i++) {
    rc = iotkit_device_send_telemetry(dev, payload, size, NULL);
    if (rc != IOTKIT_OK) {
      fprintf(stderr, "iotkit: send %ld failed: %s\n", i, iotkit_err_name(rc));
      return 3;
    }
  }
  pthread_mutex_lock(&mu);
  while (delivered + failed < count) pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
  iotkit_device_telemetry_stats_t st;
  while (state_dir && iotkit_device_telemetry_stats(dev, &st) == IOTKIT_OK && st.queue.pending) {
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
  }
  double secs = now_s() - t0;
  printf("iotkit qos=%d count=%ld seconds=%.3f rate=%.0f failed=%ld\n", qos, count, secs, count / secs, failed);

  iotkit_device_stop(dev);
  iotkit_device_free(dev);
  iotkit_hal_free(hal);
  free(payload);
  return failed ? 3 : 0;
}
