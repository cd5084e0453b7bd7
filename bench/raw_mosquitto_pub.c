/* The peer of the MQTT publish benchmark: raw libmosquitto, as a user of it would write it
 * (network thread from mosquitto_loop_start, publish N messages, wait for every on_publish).
 * Usage: raw_mosquitto_pub HOST PORT QOS COUNT PAYLOAD_BYTES
 * Prints: "raw qos=Q count=N seconds=S rate=R" */
#define _POSIX_C_SOURCE 200809L
#include <mosquitto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long done_count, connected;

static void on_connect(struct mosquitto *m, void *u, int rc) {
  (void)m, (void)u;
  pthread_mutex_lock(&mu);
  connected = rc == 0 ? 1 : -1;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
}

static void on_publish(struct mosquitto *m, void *u, int mid) {
  (void)m, (void)u, (void)mid;
  pthread_mutex_lock(&mu);
  done_count++;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s HOST PORT QOS COUNT PAYLOAD_BYTES\n", argv[0]);
    return 1;
  }
  const char *host = argv[1];
  int port = atoi(argv[2]), qos = atoi(argv[3]);
  long count = atol(argv[4]);
  size_t size = (size_t)atol(argv[5]);
  char *payload = malloc(size ? size : 1);
  memset(payload, 'x', size);

  mosquitto_lib_init();
  struct mosquitto *m = mosquitto_new("bench-raw", true, NULL);
  mosquitto_connect_callback_set(m, on_connect);
  mosquitto_publish_callback_set(m, on_publish);
  if (mosquitto_connect(m, host, port, 60) != MOSQ_ERR_SUCCESS || mosquitto_loop_start(m) != MOSQ_ERR_SUCCESS) {
    fprintf(stderr, "raw: cannot connect to %s:%d\n", host, port);
    return 2;
  }
  pthread_mutex_lock(&mu);
  while (connected == 0) pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
  if (connected < 0) return 2;

  double t0 = now_s();
  for (long i = 0; i < count; i++) {
    if (mosquitto_publish(m, NULL, "bench/raw/telemetry", (int)size, payload, qos, false) != MOSQ_ERR_SUCCESS) {
      fprintf(stderr, "raw: publish %ld failed\n", i);
      return 3;
    }
  }
  pthread_mutex_lock(&mu);
  while (done_count < count) pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
  double secs = now_s() - t0;
  printf("raw qos=%d count=%ld seconds=%.3f rate=%.0f\n", qos, count, secs, count / secs);

  mosquitto_disconnect(m);
  mosquitto_loop_stop(m, false);
  mosquitto_destroy(m);
  mosquitto_lib_cleanup();
  free(payload);
  return 0;
}
