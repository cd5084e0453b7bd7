/* Edge detectors: hand-computed sequences, then precision and recall on
   deterministic synthetic signals with anomalies injected at known positions. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "edge_check.h"

static edge_fixture *detector(const char *d) {
  char json[1024];
  (void)snprintf(json, sizeof(json), "{\"streams\":[{\"metric\":\"v\",\"processors\":[%s]}]}", d);
  return edge_fixture_new(json);
}

static bool active(const edge_fixture *f, const char *name) {
  bool on = false;
  cr_assert_eq(iotkit_edge_detector(f->edge, name, &on, NULL), IOTKIT_OK);
  return on;
}

Test(edge_detectors, threshold_with_hysteresis) {
  edge_fixture *f = detector("{\"type\":\"threshold\",\"name\":\"hot\",\"above\":30,\"hysteresis\":2}");
  double v[] = {29, 30, 31, 29, 28.5, 27.9, 31};
  bool want[] = {false, false, true, true, true, false, true};
  for (int i = 0; i < 7; i++) {
    edge_feed(f, "v", i + 1, v[i]);
    cr_assert_eq(active(f, "hot"), want[i], "at %d", i);
  }
  iotkit_edge_action_t a;
  cr_assert_eq(iotkit_edge_next_action(f->edge, &a), IOTKIT_OK);
  cr_assert_eq(a.kind, IOTKIT_EDGE_ACTION_DETECTOR);
  cr_assert_str_eq(a.source, "hot");
  cr_assert(a.active);
  cr_assert_eq(a.value, 31);
  cr_assert_eq(a.ts_ms, 3);
  cr_assert_eq(iotkit_edge_next_action(f->edge, &a), IOTKIT_OK);
  cr_assert_not(a.active);
  cr_assert_eq(a.ts_ms, 6);
  cr_assert_eq(iotkit_edge_next_action(f->edge, &a), IOTKIT_OK);
  cr_assert_eq(iotkit_edge_next_action(f->edge, &a), IOTKIT_ERR_NOT_FOUND);
  edge_fixture_free(f);
}

Test(edge_detectors, threshold_below) {
  edge_fixture *f = detector("{\"type\":\"threshold\",\"name\":\"dry\",\"below\":20,\"hysteresis\":5}");
  edge_feed(f, "v", 1, 19);
  cr_assert(active(f, "dry"));
  edge_feed(f, "v", 2, 24);
  cr_assert(active(f, "dry"));
  edge_feed(f, "v", 3, 25.5);
  cr_assert_not(active(f, "dry"));
  edge_fixture_free(f);
}

Test(edge_detectors, rate_of_change_per_second) {
  edge_fixture *f = detector("{\"type\":\"rate\",\"name\":\"jump\",\"max_per_s\":2}");
  double score = 0;
  edge_feed(f, "v", 0, 10);
  cr_assert_not(active(f, "jump"));
  edge_feed(f, "v", 500, 11); /* 2 per s: not above */
  cr_assert_eq(iotkit_edge_detector(f->edge, "jump", NULL, &score), IOTKIT_OK);
  cr_assert_float_eq(score, 2.0, 1e-12);
  cr_assert_not(active(f, "jump"));
  edge_feed(f, "v", 1000, 9); /* 4 per s */
  cr_assert(active(f, "jump"));
  edge_feed(f, "v", 3000, 10); /* 0.5 per s */
  cr_assert_not(active(f, "jump"));
  edge_fixture_free(f);
}

Test(edge_detectors, ewma_z_score) {
  edge_fixture *f = detector("{\"type\":\"ewma_z\",\"name\":\"z\",\"alpha\":0.5,\"z\":2.5,\"warmup\":2}");
  double score = 0;
  edge_feed(f, "v", 1, 0); /* mean 0, var 0 */
  edge_feed(f, "v", 2, 2); /* not scored (warmup); mean 1, var 0.5 * (0 + 0.5 * 4) = 1 */
  cr_assert_not(active(f, "z"));
  edge_feed(f, "v", 3, 4); /* |4 - 1| / 1 = 3 */
  cr_assert_eq(iotkit_edge_detector(f->edge, "z", NULL, &score), IOTKIT_OK);
  cr_assert_float_eq(score, 3.0, 1e-12);
  cr_assert(active(f, "z"));
  /* mean 2.5, var 0.5 * (1 + 0.5 * 9) = 2.75: |3 - 2.5| / sqrt(2.75) is small */
  edge_feed(f, "v", 4, 3);
  cr_assert_not(active(f, "z"));
  edge_fixture_free(f);
}

Test(edge_detectors, stuck_at_constant) {
  edge_fixture *f = detector("{\"type\":\"stuck\",\"name\":\"s\",\"points\":3,\"epsilon\":0.01}");
  edge_feed(f, "v", 1, 1);
  edge_feed(f, "v", 2, 1.005);
  cr_assert_not(active(f, "s"));
  edge_feed(f, "v", 3, 0.995);
  cr_assert(active(f, "s"));
  edge_feed(f, "v", 4, 1.5);
  cr_assert_not(active(f, "s"));
  edge_fixture_free(f);
}

Test(edge_detectors, unknown_detector_is_not_found) {
  edge_fixture *f = detector("{\"type\":\"stuck\",\"name\":\"s\",\"points\":3}");
  cr_assert_eq(iotkit_edge_detector(f->edge, "nope", NULL, NULL), IOTKIT_ERR_NOT_FOUND);
  cr_assert_eq(iotkit_edge_detector(f->edge, NULL, NULL, NULL), IOTKIT_ERR_INVALID_ARG);
  edge_fixture_free(f);
}

/* ------------------------------------------------ precision and recall -- */

typedef struct rng {
  uint64_t s;
} rng;

static double uniform(rng *r) {
  r->s = r->s * 6364136223846793005ull + 1442695040888963407ull;
  return ((double)(r->s >> 11) + 0.5) / 9007199254740992.0;
}

static double gauss(rng *r) { return sqrt(-2.0 * log(uniform(r))) * cos(2.0 * M_PI * uniform(r)); }

typedef struct span {
  int from, to; /* the anomaly's points, inclusive */
} span;

#define N_POINTS 20000
#define N_ANOM 20

/* Run @p values through detector @p name; a raise inside a span (or up to @p late points
   after it) detects it, any other raise is a false alarm. */
static void score(const char *label, const char *config, const char *name, const double *values, const span *spans,
                  int n_spans, int late, double floor_p, double floor_r) {
  edge_fixture *f = edge_fixture_new(config);
  int raises = 0, good = 0, found[N_ANOM] = {0};
  for (int i = 0; i < N_POINTS; i++) {
    edge_feed(f, "v", (int64_t)i * 1000 + 1000, values[i]);
    iotkit_edge_action_t a;
    while (iotkit_edge_next_action(f->edge, &a) == IOTKIT_OK) {
      if (a.kind != IOTKIT_EDGE_ACTION_DETECTOR || !a.active || strcmp(a.source, name)) continue;
      raises++;
      bool hit = false;
      for (int k = 0; k < n_spans; k++)
        if (i >= spans[k].from && i <= spans[k].to + late) hit = true, found[k] = 1;
      good += hit;
    }
  }
  int detected = 0;
  for (int k = 0; k < n_spans; k++) detected += found[k];
  double precision = raises ? (double)good / raises : 0, recall = (double)detected / n_spans;
  printf("edge detector %-9s (%s): %d raises, %d true, %d of %d anomalies found: precision %.3f recall %.3f\n", name,
         label, raises, good, detected, n_spans, precision, recall);
  cr_assert_geq(precision, floor_p, "%s precision %.3f below %.2f", name, precision, floor_p);
  cr_assert_geq(recall, floor_r, "%s recall %.3f below %.2f", name, recall, floor_r);
  edge_fixture_free(f);
}

static void base(double *v, uint64_t seed) {
  rng r = {seed};
  for (int i = 0; i < N_POINTS; i++) v[i] = 20.0 + 3.0 * sin(2.0 * M_PI * i / 3600.0) + 0.1 * gauss(&r);
}

static double g_v[N_POINTS];

Test(edge_detectors, ewma_z_finds_spikes) {
  base(g_v, 1);
  span s[N_ANOM];
  for (int k = 0; k < N_ANOM; k++) {
    int at = 500 + k * 977;
    g_v[at] += (k % 2 ? -1.0 : 1.0) * (1.0 + 0.1 * k); /* 10 to 30 sigma */
    s[k] = (span){at, at};
  }
  score("spikes", "{\"streams\":[{\"metric\":\"v\",\"processors\":[{\"type\":\"ewma_z\",\"name\":\"z\",\"alpha\":0.05,"
        "\"z\":6,\"warmup\":50}]}]}", "z", g_v, s, N_ANOM, 0, 0.9, 0.9);
}

Test(edge_detectors, rate_finds_level_shifts) {
  base(g_v, 2);
  span s[N_ANOM];
  for (int k = 0; k < N_ANOM; k++) {
    int at = 400 + k * 983;
    for (int i = at; i < at + 50; i++) g_v[i] += 3.0;
    s[k] = (span){at, at + 50}; /* up at `at`, down at at + 50 */
  }
  score("level shifts", "{\"streams\":[{\"metric\":\"v\",\"processors\":[{\"type\":\"rate\",\"name\":\"jump\","
        "\"max_per_s\":1.5}]}]}", "jump", g_v, s, N_ANOM, 0, 0.9, 0.9);
}

Test(edge_detectors, stuck_finds_frozen_sensors) {
  base(g_v, 3);
  span s[N_ANOM];
  for (int k = 0; k < N_ANOM; k++) {
    int at = 300 + k * 991;
    for (int i = at + 1; i < at + 60; i++) g_v[i] = g_v[at];
    s[k] = (span){at, at + 59};
  }
  score("stuck values", "{\"streams\":[{\"metric\":\"v\",\"processors\":[{\"type\":\"stuck\",\"name\":\"stuck\","
        "\"points\":20,\"epsilon\":0}]}]}", "stuck", g_v, s, N_ANOM, 0, 0.9, 0.9);
}

Test(edge_detectors, threshold_finds_drifts) {
  base(g_v, 4);
  span s[N_ANOM / 2];
  for (int k = 0; k < N_ANOM / 2; k++) {
    int at = 600 + k * 1931;
    for (int i = 0; i < 400; i++) g_v[at + i] += 10.0 * (i < 200 ? i : 400 - i) / 200.0; /* up and back */
    s[k] = (span){at, at + 399};
  }
  score("drifts", "{\"streams\":[{\"metric\":\"v\",\"processors\":[{\"type\":\"threshold\",\"name\":\"high\","
        "\"above\":26,\"hysteresis\":1}]}]}", "high", g_v, s, N_ANOM / 2, 0, 0.9, 0.9);
}
