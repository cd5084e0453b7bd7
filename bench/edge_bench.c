/* Edge pipeline throughput on one core: deadband + sliding window (mean, std) +
   EWMA z-score detector + one rule, over a deterministic signal, with the number
   of allocations made while points are processed (counted by wrapping malloc,
   calloc and realloc). Writes the values to a file for bench/edge_pandas.py, which
   computes the same windows in pandas in the same run (bench/run_edge.sh).
   Usage: bench_edge POINTS OUT_FILE */
#define _GNU_SOURCE
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <iotkit/iotkit.h>

/* ------------------------------------------------------ allocation count -- */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
static uint64_t g_allocs;
void *malloc(size_t n) {
  g_allocs++;
  return __libc_malloc(n);
}
void *calloc(size_t a, size_t b) {
  g_allocs++;
  return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n) {
  g_allocs++;
  return __libc_realloc(p, n);
}

static const char *config =
    "{\"streams\":[{\"metric\":\"vib\",\"processors\":["
    "{\"type\":\"deadband\",\"absolute\":0.05},"
    "{\"type\":\"window\",\"mode\":\"sliding\",\"points\":60,\"aggregates\":[\"mean\",\"std\"],\"every\":60},"
    "{\"type\":\"ewma_z\",\"name\":\"z\",\"alpha\":0.05,\"z\":6,\"warmup\":50}]}],"
    "\"rules\":[{\"name\":\"alarm\",\"when\":{\"all\":[{\"detector\":\"z\"},{\"metric\":\"vib\",\"op\":\">\",\"value\":0}]},"
    "\"actions\":[{\"event\":\"vibration\"}]}]}";

static uint64_t g_emitted;
static void on_point(iotkit_edge_t *e, void *u, const iotkit_telemetry_point_t *p) {
  (void)e, (void)u, (void)p;
  g_emitted++;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000000u;
  const char *out = argc > 2 ? argv[2] : NULL;
  double *v = malloc(n * sizeof(double));
  if (!v) return 1;
  uint64_t s = 7;
  for (size_t i = 0; i < n; i++) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    double noise = ((double)(s >> 11) / 9007199254740992.0 - 0.5) * 0.2;
    v[i] = sin((double)i * 0.01) + noise + (i % 100003 == 0 ? 5.0 : 0.0);
  }
  if (out) {
    FILE *f = fopen(out, "wb");
    if (!f || fwrite(v, sizeof(double), n, f) != n) return 1;
    fclose(f);
  }
  iotkit_edge_config_t cfg;
  iotkit_edge_config_init(&cfg);
  cfg.on_point = on_point;
  iotkit_edge_t *edge = NULL;
  if (iotkit_edge_new(&cfg, &edge) != IOTKIT_OK || iotkit_edge_load(edge, config, strlen(config)) != IOTKIT_OK) {
    fprintf(stderr, "bench_edge: configuration refused: %s %s\n", iotkit_edge_error_pointer(edge),
            iotkit_edge_last_error(edge));
    return 1;
  }
  iotkit_telemetry_point_t p = {.name = "vib", .type = IOTKIT_TELEMETRY_DOUBLE};
  uint64_t sent = 0, actions = 0;
  iotkit_edge_action_t a;
  uint64_t allocs0 = g_allocs;
  double t0 = now_s();
  for (size_t i = 0; i < n; i++) {
    p.ts_ms = (int64_t)i + 1;
    p.value.d = v[i];
    bool send = false;
    (void)iotkit_edge_process(edge, &p, &send);
    sent += send;
    while (iotkit_edge_next_action(edge, &a) == IOTKIT_OK) actions++;
  }
  double dt = now_s() - t0;
  uint64_t allocs = g_allocs - allocs0;
  printf("edge: %zu points in %.3f s: %.2f million points/s; %llu allocations while processing (%.6f per point); "
         "sent %llu (%.1f %% saved), aggregates %llu, actions %llu\n",
         n, dt, n / dt / 1e6, (unsigned long long)allocs, (double)allocs / n, (unsigned long long)sent,
         100.0 * (1.0 - (double)sent / n), (unsigned long long)g_emitted, (unsigned long long)actions);
  printf("EDGE_PPS %.0f\nEDGE_ALLOCS %llu\n", n / dt, (unsigned long long)allocs);
  iotkit_edge_free(edge);
  free(v);
  return 0;
}
