/* The publisher of the fleet ingest benchmark: telemetry from DEVICES devices in
 * the JSON form a device sends (two points, each with its own time), built in
 * memory before the clock starts and published by THREADS raw libmosquitto
 * clients (one connection each, driven by its thread with mosquitto_loop), round
 * robin over the devices. QoS 0: the subscribers (the fleet, mqtt_count.c)
 * subscribe at QoS 1, so the broker delivers at QoS 0 and the rate is that of the
 * path, not of acknowledgements. Message k of a device carries ts = BASE + k (ms)
 * and seq k + 1, so every point is distinct in the telemetry history.
 * Usage: fleet_flood_pub HOST PORT DEVICES COUNT THREADS BASE_MS
 * (COUNT 0: one message per device at BASE_MS - 1, at QoS 1: a warm-up that registers them,
 * none of which may be lost.)
 * Prints "pub count=N seconds=S rate=R" (first publish to the last one written). */
#define _POSIX_C_SOURCE 200809L
#include <mosquitto.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
  long first; /* this thread publishes messages first, first + threads, ... */
  long acked; /* QoS 1: PUBACKs received */
  int rc;
  char id[48];
} part_t;

static const char *host;
static int port, threads, qos;
static long devices, total;
static char **topics, **payloads;
static int *lens;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_publish(struct mosquitto *m, void *user, int mid) {
  (void)m, (void)mid;
  ((part_t *)user)->acked++;
}

static void *publish_part(void *arg) {
  part_t *p = arg;
  struct mosquitto *m = mosquitto_new(p->id, true, p);
  if (m) mosquitto_publish_callback_set(m, on_publish);
  if (!m || mosquitto_connect(m, host, port, 60) != MOSQ_ERR_SUCCESS) {
    p->rc = 2;
    return NULL;
  }
  long n = 0;
  for (long k = p->first; k < total; k += threads) {
    int rc = mosquitto_publish(m, NULL, topics[k % devices], lens[k], payloads[k], qos, false);
    if (rc != MOSQ_ERR_SUCCESS) {
      p->rc = 3;
      break;
    }
    if (++n % 64 == 0) mosquitto_loop(m, 0, 1);
  }
  /* Everything written; at QoS 1 (the warm-up) every PUBACK back, within 60 s. */
  for (int i = 0; mosquitto_want_write(m) || (qos && p->acked < n && i < 6000); i++) mosquitto_loop(m, 10, 1);
  if (qos && p->acked < n) p->rc = 4;
  mosquitto_disconnect(m);
  mosquitto_loop(m, 10, 1);
  mosquitto_destroy(m);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: %s HOST PORT DEVICES COUNT THREADS BASE_MS\n", argv[0]);
    return 1;
  }
  host = argv[1];
  port = atoi(argv[2]);
  devices = atol(argv[3]);
  long count = atol(argv[4]);
  threads = atoi(argv[5]);
  long long base = atoll(argv[6]);
  if (devices < 1 || count < 0 || threads < 1 || threads > 64) return 1;
  bool warm = count == 0;
  total = warm ? devices : count;
  qos = warm ? 1 : 0;
  topics = calloc((size_t)devices, sizeof *topics);
  payloads = calloc((size_t)total, sizeof *payloads);
  lens = calloc((size_t)total, sizeof *lens);
  for (long d = 0; d < devices; d++) {
    topics[d] = malloc(64);
    snprintf(topics[d], 64, "iotkit/v1/bench-%05ld/telemetry", d);
  }
  for (long k = 0; k < total; k++) {
    long seq = k / devices; /* the k-th message of its device */
    long long ts = warm ? base - 1 : base + seq;
    char buf[256];
    lens[k] = snprintf(buf, sizeof buf,
                       "{\"ver\":1,\"seq\":%ld,\"points\":[{\"n\":\"temperature\",\"u\":\"Cel\",\"ts\":%lld,\"d\":%.2f},"
                       "{\"n\":\"humidity\",\"u\":\"%%RH\",\"ts\":%lld,\"d\":%.1f}]}",
                       seq + 1, ts, 15.0 + (double)(k % 1000) / 100.0, ts, 30.0 + (double)(k % 400) / 10.0);
    payloads[k] = malloc((size_t)lens[k] + 1);
    memcpy(payloads[k], buf, (size_t)lens[k] + 1);
  }
  mosquitto_lib_init();
  part_t parts[64];
  pthread_t tids[64];
  double t0 = now_s();
  for (int i = 0; i < threads; i++) {
    parts[i] = (part_t){.first = i};
    snprintf(parts[i].id, sizeof parts[i].id, "bench-flood-%d-%lld", i, (long long)(t0 * 1000));
    pthread_create(&tids[i], NULL, publish_part, &parts[i]);
  }
  int rc = 0;
  for (int i = 0; i < threads; i++) {
    pthread_join(tids[i], NULL);
    if (parts[i].rc) rc = parts[i].rc;
  }
  double secs = now_s() - t0;
  printf("pub count=%ld seconds=%.3f rate=%.0f\n", total, secs, secs > 0 ? total / secs : 0.0);
  mosquitto_lib_cleanup();
  return rc;
}
