/* MQTT side of the CoAP benchmark: subscribe to TOPIC and wait for COUNT
 * messages; the end-to-end rate is COUNT over the time from the first to the
 * last arrival. Usage: mqtt_count HOST PORT TOPIC COUNT
 * Prints "ready" once subscribed, then "mqtt count=N seconds=S rate=R cpu_us=C"
 * (C: this process's CPU time, user and system, per message, in microseconds). */
#define _POSIX_C_SOURCE 200809L
#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

static long want, got;
static double first, last;
static const char *topic;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_connect(struct mosquitto *m, void *u, int rc) {
  (void)u;
  if (rc == 0) mosquitto_subscribe(m, NULL, topic, 1);
}

static void on_subscribe(struct mosquitto *m, void *u, int mid, int n, const int *q) {
  (void)m, (void)u, (void)mid, (void)n, (void)q;
  printf("ready\n");
  fflush(stdout);
}

static void on_message(struct mosquitto *m, void *u, const struct mosquitto_message *msg) {
  (void)u, (void)msg;
  double t = now_s();
  if (got++ == 0) first = t;
  last = t;
  if (got >= want) mosquitto_disconnect(m);
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s HOST PORT TOPIC COUNT\n", argv[0]);
    return 1;
  }
  topic = argv[3];
  want = atol(argv[4]);
  mosquitto_lib_init();
  struct mosquitto *m = mosquitto_new(NULL, true, NULL);
  mosquitto_connect_callback_set(m, on_connect);
  mosquitto_subscribe_callback_set(m, on_subscribe);
  mosquitto_message_callback_set(m, on_message);
  if (mosquitto_connect(m, argv[1], atoi(argv[2]), 60) != MOSQ_ERR_SUCCESS) return 2;
  mosquitto_loop_forever(m, 1000, 1);
  double secs = last - first;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpu = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  printf("mqtt count=%ld seconds=%.3f rate=%.0f cpu_us=%.2f\n", got, secs, secs > 0 ? got / secs : 0.0,
         got ? cpu * 1e6 / (double)got : 0.0);
  mosquitto_destroy(m);
  mosquitto_lib_cleanup();
  return got >= want ? 0 : 3;
}
