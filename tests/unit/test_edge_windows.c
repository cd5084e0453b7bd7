/* Edge windows against hand-computed expectations, including their edges. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "edge_check.h"

static edge_fixture *window(const char *w) {
  char json[1024];
  (void)snprintf(json, sizeof(json), "{\"streams\":[{\"metric\":\"v\",\"processors\":[{\"type\":\"window\",%s}]}]}", w);
  return edge_fixture_new(json);
}

Test(edge_windows, tumbling_by_points_emits_every_aggregate_once_full) {
  edge_fixture *f = window("\"points\":4,\"aggregates\":[\"count\",\"sum\",\"mean\",\"min\",\"max\",\"std\"]");
  double vals[] = {1, 4, 2, 3};
  for (int i = 0; i < 3; i++) edge_feed(f, "v", i + 1, vals[i]);
  cr_assert_eq(f->n_out, 0);
  edge_feed(f, "v", 4, vals[3]);
  cr_assert_eq(f->n_out, 6);
  cr_assert_eq(edge_last(f, "v.count"), 4);
  cr_assert_eq(edge_last(f, "v.sum"), 10);
  cr_assert_eq(edge_last(f, "v.mean"), 2.5);
  cr_assert_eq(edge_last(f, "v.min"), 1);
  cr_assert_eq(edge_last(f, "v.max"), 4);
  /* sample std: squares of deviations 2.25+2.25+0.25+0.25 = 5, / 3 */
  cr_assert_float_eq(edge_last(f, "v.std"), sqrt(5.0 / 3.0), 1e-12);
  cr_assert_eq(f->out[0].ts, 4);
  /* the next window starts empty */
  for (int i = 0; i < 4; i++) edge_feed(f, "v", 10 + i, 7);
  cr_assert_eq(edge_last(f, "v.mean"), 7);
  cr_assert_eq(edge_last(f, "v.std"), 0);
  cr_assert_eq(edge_count(f, "v.mean"), 2);
  edge_fixture_free(f);
}

Test(edge_windows, tumbling_by_time_closes_at_the_window_edge) {
  edge_fixture *f = window("\"ms\":1000,\"aggregates\":[\"count\",\"mean\"]");
  edge_feed(f, "v", 0, 1);
  edge_feed(f, "v", 999, 3); /* the last millisecond of [0, 1000) */
  cr_assert_eq(f->n_out, 0);
  edge_feed(f, "v", 1000, 10); /* opens [1000, 2000) and closes the first */
  cr_assert_eq(edge_count(f, "v.mean"), 1);
  cr_assert_eq(edge_last(f, "v.count"), 2);
  cr_assert_eq(edge_last(f, "v.mean"), 2);
  cr_assert_eq(f->out[0].ts, 0); /* labelled by the window's start */
  edge_feed(f, "v", 3500, 20); /* [2000, 3000) had nothing: not emitted */
  cr_assert_eq(edge_count(f, "v.mean"), 2);
  cr_assert_eq(edge_last(f, "v.mean"), 10);
  cr_assert_eq(f->out[f->n_out - 1].ts, 1000);
  cr_assert_eq(iotkit_edge_flush(f->edge), IOTKIT_OK);
  cr_assert_eq(edge_last(f, "v.mean"), 20);
  cr_assert_eq(f->out[f->n_out - 1].ts, 3000);
  cr_assert_eq(iotkit_edge_flush(f->edge), IOTKIT_OK); /* nothing open: nothing more */
  cr_assert_eq(edge_count(f, "v.mean"), 3);
  edge_fixture_free(f);
}

Test(edge_windows, sliding_min_max_follow_evictions) {
  edge_fixture *f = window("\"mode\":\"sliding\",\"points\":3,\"aggregates\":[\"min\",\"max\",\"mean\",\"sum\"]");
  double vals[] = {5, 1, 3, 4, 6, 2};
  double mins[] = {1, 1, 3, 2}, maxs[] = {5, 4, 6, 6}, sums[] = {9, 8, 13, 12};
  for (int i = 0; i < 6; i++) {
    edge_feed(f, "v", i + 1, vals[i]);
    if (i < 2) {
      cr_assert_eq(f->n_out, 0, "no output before the window is full");
      continue;
    }
    cr_assert_eq(edge_last(f, "v.min"), mins[i - 2], "min at %d", i);
    cr_assert_eq(edge_last(f, "v.max"), maxs[i - 2], "max at %d", i);
    cr_assert_float_eq(edge_last(f, "v.sum"), sums[i - 2], 1e-12, "sum at %d", i);
    cr_assert_float_eq(edge_last(f, "v.mean"), sums[i - 2] / 3.0, 1e-12);
  }
  edge_fixture_free(f);
}

Test(edge_windows, sliding_every_emits_once_per_hop) {
  edge_fixture *f = window("\"mode\":\"sliding\",\"points\":4,\"every\":2,\"aggregates\":[\"mean\",\"std\"]");
  for (int i = 1; i <= 9; i++) edge_feed(f, "v", i, i);
  /* full at 4 (mean 2.5), then at 6 (4.5) and 8 (6.5) */
  cr_assert_eq(edge_count(f, "v.mean"), 3);
  cr_assert_float_eq(edge_last(f, "v.mean"), 6.5, 1e-12);
  cr_assert_float_eq(edge_last(f, "v.std"), sqrt(5.0 / 3.0), 1e-12);
  edge_fixture_free(f);
}

Test(edge_windows, sliding_sums_stay_exact_over_a_long_run) {
  edge_fixture *f = window("\"mode\":\"sliding\",\"points\":10,\"aggregates\":[\"mean\",\"std\"]");
  for (int i = 0; i < 100000; i++) edge_feed(f, "v", i + 1, 1e6 + (i % 10));
  /* the last ten values are 1e6 + 0..9 in some order: mean 1e6 + 4.5, std sqrt(82.5/9) */
  cr_assert_float_eq(edge_last(f, "v.mean"), 1e6 + 4.5, 1e-6);
  cr_assert_float_eq(edge_last(f, "v.std"), sqrt(82.5 / 9.0), 1e-6);
  edge_fixture_free(f);
}

Test(edge_windows, percentile_is_within_half_a_bin) {
  /* bins of width 1 over [0, 10): the estimate is the middle of the bin of the nearest rank */
  edge_fixture *f = window("\"points\":10,\"aggregates\":[\"p50\",\"p90\",\"p10\"],\"range\":[0,10],\"bins\":10");
  double vals[] = {0.2, 9.7, 3.3, 5.1, 1.4, 7.9, 2.2, 6.6, 4.8, 8.1};
  for (int i = 0; i < 10; i++) edge_feed(f, "v", i + 1, vals[i]);
  /* sorted: 0.2 1.4 2.2 3.3 4.8 5.1 6.6 7.9 8.1 9.7; ranks ceil(.5*10)=5 -> 4.8, 9 -> 8.1, 1 -> 0.2 */
  cr_assert_eq(edge_last(f, "v.p50"), 4.5);
  cr_assert_eq(edge_last(f, "v.p90"), 8.5);
  cr_assert_eq(edge_last(f, "v.p10"), 0.5);
  cr_assert_leq(fabs(edge_last(f, "v.p50") - 4.8), 0.5);
  edge_fixture_free(f);
}

Test(edge_windows, sliding_percentile_forgets_evicted_values) {
  edge_fixture *f = window("\"mode\":\"sliding\",\"points\":3,\"aggregates\":[\"p99\"],\"range\":[0,100],\"bins\":100");
  edge_feed(f, "v", 1, 95);
  edge_feed(f, "v", 2, 10);
  edge_feed(f, "v", 3, 20);
  cr_assert_eq(edge_last(f, "v.p99"), 95.5);
  edge_feed(f, "v", 4, 30); /* 95 leaves */
  cr_assert_eq(edge_last(f, "v.p99"), 30.5);
  edge_fixture_free(f);
}

Test(edge_windows, outputs_take_the_configured_name) {
  edge_fixture *f = window("\"points\":2,\"aggregates\":[\"mean\"],\"name\":\"room\"");
  edge_feed(f, "v", 1, 1);
  edge_feed(f, "v", 2, 2);
  cr_assert_eq(edge_last(f, "room.mean"), 1.5);
  edge_fixture_free(f);
}
