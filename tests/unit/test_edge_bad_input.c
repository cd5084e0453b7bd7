/* Edge pipeline at run time: each kind of bad point has its documented outcome
   (dropped or sent unchanged) and its own counter. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "edge_check.h"

#define CFG "{\"streams\":[{\"metric\":\"t\",\"processors\":[{\"type\":\"deadband\",\"absolute\":1}," \
            "{\"type\":\"window\",\"points\":3,\"aggregates\":[\"count\"]}]}]}"

static iotkit_edge_stats_t stats(const edge_fixture *f) {
  iotkit_edge_stats_t st;
  cr_assert_eq(iotkit_edge_stats(f->edge, &st), IOTKIT_OK);
  return st;
}

Test(edge_bad_input, nan_and_infinity_are_dropped_and_counted) {
  edge_fixture *f = edge_fixture_new(CFG);
  cr_assert(edge_feed(f, "t", 1, 0));
  cr_assert_not(edge_feed(f, "t", 2, NAN));
  cr_assert_not(edge_feed(f, "t", 3, INFINITY));
  cr_assert_not(edge_feed(f, "t", 4, -INFINITY));
  cr_assert_eq(stats(f).non_finite, 3);
  edge_feed(f, "t", 5, 0.5);
  edge_feed(f, "t", 6, 0.5);
  cr_assert_eq(edge_last(f, "t.count"), 3); /* none of them entered the window */
  edge_fixture_free(f);
}

Test(edge_bad_input, out_of_order_points_are_sent_unchanged_and_counted) {
  edge_fixture *f = edge_fixture_new(CFG);
  cr_assert(edge_feed(f, "t", 100, 0));
  cr_assert(edge_feed(f, "t", 50, 0.1)); /* within the band, but late: sent as is */
  cr_assert_eq(stats(f).out_of_order, 1);
  cr_assert_not(edge_feed(f, "t", 101, 0.2));
  cr_assert_eq(f->n_out, 0); /* the window holds two points: the late one is not in it */
  edge_fixture_free(f);
}

Test(edge_bad_input, duplicate_timestamps_are_dropped_and_counted) {
  edge_fixture *f = edge_fixture_new(CFG);
  cr_assert(edge_feed(f, "t", 100, 0));
  cr_assert_not(edge_feed(f, "t", 100, 5));
  cr_assert_eq(stats(f).duplicates, 1);
  edge_fixture_free(f);
}

Test(edge_bad_input, a_metric_that_changes_type_is_sent_unchanged_and_counted) {
  edge_fixture *f = edge_fixture_new(CFG);
  cr_assert(edge_feed(f, "t", 1, 0));
  iotkit_telemetry_point_t p = {.name = "t", .ts_ms = 2, .type = IOTKIT_TELEMETRY_BOOL};
  p.value.b = true;
  bool send = false;
  cr_assert_eq(iotkit_edge_process(f->edge, &p, &send), IOTKIT_OK);
  cr_assert(send);
  cr_assert_eq(stats(f).type_changed, 1);
  p.type = IOTKIT_TELEMETRY_STRING;
  p.value.s = "hello";
  cr_assert_eq(iotkit_edge_process(f->edge, &p, &send), IOTKIT_OK);
  cr_assert(send);
  cr_assert_eq(stats(f).not_numeric, 1);
  /* integers and doubles are both numbers */
  p.type = IOTKIT_TELEMETRY_INT;
  p.value.i = 0;
  p.ts_ms = 3;
  cr_assert_eq(iotkit_edge_process(f->edge, &p, &send), IOTKIT_OK);
  cr_assert_not(send);
  cr_assert_eq(stats(f).type_changed, 1);
  edge_fixture_free(f);
}

Test(edge_bad_input, metrics_without_a_stream_pass_and_are_counted) {
  edge_fixture *f = edge_fixture_new(CFG);
  cr_assert(edge_feed(f, "other", 1, 0));
  cr_assert(edge_feed(f, "other", 1, 0));
  cr_assert_eq(stats(f).unconfigured, 2);
  edge_fixture_free(f);
}

Test(edge_bad_input, an_unknown_time_counts_as_the_last_one) {
  edge_fixture *f = edge_fixture_new("{\"streams\":[{\"metric\":\"t\",\"processors\":[{\"type\":\"min_interval\",\"ms\":10}]}]}");
  cr_assert(edge_feed(f, "t", 100, 0));
  cr_assert_not(edge_feed(f, "t", 0, 1)); /* at 100: within the interval, and no duplicate */
  cr_assert_eq(stats(f).duplicates, 0);
  cr_assert(edge_feed(f, "t", 110, 2));
  edge_fixture_free(f);
}
