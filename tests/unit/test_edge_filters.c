/* Edge filters against hand-computed expectations: deadband (absolute, percent),
   minimum and maximum interval, and the bandwidth a deadband saves on a realistic
   signal with the reconstruction error it promises. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>

#include "edge_check.h"

static edge_fixture *stream(const char *procs) {
  char json[1024];
  (void)snprintf(json, sizeof(json), "{\"streams\":[{\"metric\":\"t\",\"processors\":[%s]}]}", procs);
  return edge_fixture_new(json);
}

Test(edge_filters, absolute_deadband_compares_with_the_last_value_sent) {
  edge_fixture *f = stream("{\"type\":\"deadband\",\"absolute\":0.5}");
  /* sent 10; 10.4 within; 10.5 within (the band is inclusive); 10.6 out; 10.2 within of 10.6? no: 0.4 */
  cr_assert(edge_feed(f, "t", 1, 10.0));
  cr_assert_not(edge_feed(f, "t", 2, 10.4));
  cr_assert_not(edge_feed(f, "t", 3, 10.5));
  cr_assert(edge_feed(f, "t", 4, 10.6));
  cr_assert_not(edge_feed(f, "t", 5, 10.2));
  cr_assert(edge_feed(f, "t", 6, 10.0)); /* 0.6 below 10.6 */
  iotkit_edge_stats_t st;
  cr_assert_eq(iotkit_edge_stats(f->edge, &st), IOTKIT_OK);
  cr_assert_eq(st.points_in, 6);
  cr_assert_eq(st.points_sent, 3);
  cr_assert_eq(st.points_held, 3);
  edge_fixture_free(f);
}

Test(edge_filters, percent_deadband_is_relative_to_the_last_value_sent) {
  edge_fixture *f = stream("{\"type\":\"deadband\",\"percent\":10}");
  cr_assert(edge_feed(f, "t", 1, 200.0)); /* band 20 */
  cr_assert_not(edge_feed(f, "t", 2, 219.0));
  cr_assert(edge_feed(f, "t", 3, 221.0)); /* band now 22.1 */
  cr_assert_not(edge_feed(f, "t", 4, 199.0));
  cr_assert(edge_feed(f, "t", 5, 198.8));
  edge_fixture_free(f);
}

Test(edge_filters, minimum_interval_throttles) {
  edge_fixture *f = stream("{\"type\":\"min_interval\",\"ms\":1000}");
  cr_assert(edge_feed(f, "t", 0, 1));
  cr_assert_not(edge_feed(f, "t", 500, 2));
  cr_assert_not(edge_feed(f, "t", 999, 3));
  cr_assert(edge_feed(f, "t", 1000, 4));
  cr_assert_not(edge_feed(f, "t", 1999, 5));
  cr_assert(edge_feed(f, "t", 2500, 6));
  edge_fixture_free(f);
}

Test(edge_filters, maximum_interval_sends_a_heartbeat_without_change) {
  edge_fixture *f = stream("{\"type\":\"deadband\",\"absolute\":1},{\"type\":\"max_interval\",\"ms\":3000}");
  cr_assert(edge_feed(f, "t", 0, 5));
  cr_assert_not(edge_feed(f, "t", 1000, 5));
  cr_assert_not(edge_feed(f, "t", 2999, 5));
  cr_assert(edge_feed(f, "t", 3000, 5)); /* heartbeat */
  cr_assert_not(edge_feed(f, "t", 4000, 5));
  cr_assert(edge_feed(f, "t", 4500, 7)); /* change */
  cr_assert_not(edge_feed(f, "t", 7000, 7));
  cr_assert(edge_feed(f, "t", 7500, 7)); /* 3000 after the change */
  edge_fixture_free(f);
}

Test(edge_filters, minimum_interval_wins_over_the_deadband) {
  edge_fixture *f = stream("{\"type\":\"deadband\",\"absolute\":1},{\"type\":\"min_interval\",\"ms\":100}");
  cr_assert(edge_feed(f, "t", 0, 0));
  cr_assert_not(edge_feed(f, "t", 50, 10)); /* out of the band, too soon */
  cr_assert(edge_feed(f, "t", 100, 10));
  cr_assert_not(edge_feed(f, "t", 300, 10.5));
  edge_fixture_free(f);
}

/* A slow temperature-like signal: daily sine, a slower drift, deterministic noise. */
static double signal_at(uint64_t i, uint32_t *seed) {
  *seed = *seed * 1664525u + 1013904223u;
  double noise = ((double)(*seed >> 8) / 16777216.0 - 0.5) * 0.1;
  return 20.0 + 5.0 * sin((double)i * 2.0 * M_PI / 8640.0) + 0.0001 * (double)i + noise;
}

Test(edge_filters, deadband_saves_bandwidth_within_its_error_bound) {
  const double band = 0.25;
  edge_fixture *f = stream("{\"type\":\"deadband\",\"absolute\":0.25}");
  uint32_t seed = 42;
  double held = 0, worst = 0;
  uint64_t n = 86400, sent = 0;
  for (uint64_t i = 0; i < n; i++) {
    double v = signal_at(i, &seed);
    if (edge_feed(f, "t", (int64_t)(i * 1000), v)) {
      held = v; /* what the receiver shows until the next message */
      sent++;
    }
    double e = fabs(v - held);
    if (e > worst) worst = e;
  }
  double saved = 1.0 - (double)sent / (double)n;
  printf("edge deadband %.2f: %llu of %llu points sent, %.1f %% saved, largest reconstruction error %.4f\n", band,
         (unsigned long long)sent, (unsigned long long)n, saved * 100.0, worst);
  cr_assert_leq(worst, band, "the deadband promises an error of at most %g, saw %g", band, worst);
  cr_assert_gt(saved, 0.9, "saved %.3f", saved);
  edge_fixture_free(f);
}
