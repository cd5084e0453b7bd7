/* Edge rules: conditions over metrics, detectors and other rules; "for at least"
   and "N of the last M"; the actions they queue. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "edge_check.h"

static int take(edge_fixture *f, iotkit_edge_action_kind_t kind, iotkit_edge_action_t *last) {
  int n = 0;
  iotkit_edge_action_t a;
  while (iotkit_edge_next_action(f->edge, &a) == IOTKIT_OK)
    if (a.kind == kind) n++, *last = a;
  return n;
}

Test(edge_rules, a_comparison_fires_its_actions_once_when_it_becomes_true) {
  edge_fixture *f = edge_fixture_new(
      "{\"rules\":[{\"name\":\"dry\",\"when\":{\"metric\":\"soil\",\"op\":\"<\",\"value\":20},"
      "\"actions\":[{\"command\":\"open_valve\",\"params\":{\"s\":30}},{\"event\":\"dry_soil\"},"
      "{\"report\":{\"irrigating\":true}}]}]}");
  iotkit_edge_action_t a;
  cr_assert(edge_feed(f, "soil", 1, 25)); /* a metric named by a rule is still sent */
  cr_assert_eq(take(f, IOTKIT_EDGE_ACTION_COMMAND, &a), 0);
  edge_feed(f, "soil", 2, 19);
  iotkit_edge_action_t all[3];
  for (int i = 0; i < 3; i++) cr_assert_eq(iotkit_edge_next_action(f->edge, &all[i]), IOTKIT_OK);
  cr_assert_eq(all[0].kind, IOTKIT_EDGE_ACTION_COMMAND);
  cr_assert_str_eq(all[0].name, "open_valve");
  cr_assert_str_eq(all[0].json, "{\"s\":30}");
  cr_assert_str_eq(all[0].source, "dry");
  cr_assert_str_eq(all[0].metric, "soil");
  cr_assert_eq(all[0].value, 19);
  cr_assert_eq(all[1].kind, IOTKIT_EDGE_ACTION_EVENT);
  cr_assert_str_eq(all[1].name, "dry_soil");
  cr_assert_str_eq(all[1].json, "{}");
  cr_assert_eq(all[2].kind, IOTKIT_EDGE_ACTION_REPORT);
  cr_assert_null(all[2].name);
  cr_assert_str_eq(all[2].json, "{\"irrigating\":true}");
  edge_feed(f, "soil", 3, 18); /* still true: nothing new */
  cr_assert_eq(iotkit_edge_next_action(f->edge, &a), IOTKIT_ERR_NOT_FOUND);
  edge_feed(f, "soil", 4, 21);
  edge_feed(f, "soil", 5, 10); /* true again */
  cr_assert_eq(take(f, IOTKIT_EDGE_ACTION_COMMAND, &a), 1);
  edge_fixture_free(f);
}

Test(edge_rules, all_any_not_over_two_metrics_and_a_detector) {
  edge_fixture *f = edge_fixture_new(
      "{\"streams\":[{\"metric\":\"temp\",\"processors\":[{\"type\":\"threshold\",\"name\":\"hot\",\"above\":30}]}],"
      "\"rules\":[{\"name\":\"r\",\"when\":{\"all\":[{\"detector\":\"hot\"},{\"not\":{\"any\":["
      "{\"metric\":\"fan\",\"op\":\"==\",\"value\":1},{\"metric\":\"door\",\"op\":\">=\",\"value\":1}]}}]},"
      "\"actions\":[{\"event\":\"overheat\"}]}]}");
  iotkit_edge_action_t a;
  edge_feed(f, "temp", 1, 35); /* hot, fan and door unknown: "any" is false, so not-any holds */
  cr_assert_eq(take(f, IOTKIT_EDGE_ACTION_EVENT, &a), 1);
  edge_feed(f, "fan", 2, 1); /* the rule depends on fan too: now false */
  edge_feed(f, "fan", 3, 0); /* true again: fires */
  cr_assert_eq(take(f, IOTKIT_EDGE_ACTION_EVENT, &a), 1);
  cr_assert_str_eq(a.metric, "fan");
  edge_feed(f, "door", 4, 1);
  edge_feed(f, "temp", 5, 36);
  cr_assert_eq(take(f, IOTKIT_EDGE_ACTION_EVENT, &a), 0);
  edge_fixture_free(f);
}

Test(edge_rules, for_at_least_counts_from_the_first_true_point) {
  edge_fixture *f = edge_fixture_new("{\"rules\":[{\"name\":\"r\",\"when\":{\"metric\":\"p\",\"op\":\">\",\"value\":5},"
                                     "\"for_ms\":3000,\"actions\":[{\"event\":\"e\"}]}]}");
  iotkit_edge_action_t a;
  edge_feed(f, "p", 0, 6);
  edge_feed(f, "p", 2000, 7);
  edge_feed(f, "p", 2500, 4); /* broken: starts again */
  edge_feed(f, "p", 3000, 6);
  edge_feed(f, "p", 5999, 6);
  cr_assert_eq(take(f, IOTKIT_EDGE_ACTION_EVENT, &a), 0);
  edge_feed(f, "p", 6000, 6);
  cr_assert_eq(take(f, IOTKIT_EDGE_ACTION_EVENT, &a), 1);
  cr_assert_eq(a.ts_ms, 6000);
  edge_fixture_free(f);
}

Test(edge_rules, n_of_the_last_m) {
  edge_fixture *f = edge_fixture_new("{\"rules\":[{\"name\":\"r\",\"when\":{\"metric\":\"p\",\"op\":\">\",\"value\":5},"
                                     "\"of\":{\"n\":3,\"m\":5},\"actions\":[{\"event\":\"e\"}]}]}");
  double v[] = {6, 0, 6, 0, 0, 6, 6, 0};
  int want[] = {0, 0, 0, 0, 0, 0, 1, 0}; /* at index 6 the last five are 6 0 0 6 6: three true */
  iotkit_edge_action_t a;
  for (int i = 0; i < 8; i++) {
    edge_feed(f, "p", i + 1, v[i]);
    cr_assert_eq(take(f, IOTKIT_EDGE_ACTION_EVENT, &a), want[i], "at %d", i);
  }
  edge_fixture_free(f);
}

Test(edge_rules, a_rule_sees_the_new_state_of_a_rule_it_names_even_if_defined_later) {
  edge_fixture *f = edge_fixture_new("{\"rules\":[{\"name\":\"outer\",\"when\":{\"rule\":\"inner\"},\"actions\":[{\"event\":\"o\"}]},"
                                     "{\"name\":\"inner\",\"when\":{\"metric\":\"x\",\"op\":\">\",\"value\":0},"
                                     "\"actions\":[{\"event\":\"i\"}]}]}");
  iotkit_edge_action_t a[2];
  edge_feed(f, "x", 1, 1);
  cr_assert_eq(iotkit_edge_next_action(f->edge, &a[0]), IOTKIT_OK);
  cr_assert_eq(iotkit_edge_next_action(f->edge, &a[1]), IOTKIT_OK);
  cr_assert_str_eq(a[0].name, "i"); /* the dependency first */
  cr_assert_str_eq(a[1].name, "o");
  edge_fixture_free(f);
}

Test(edge_rules, a_rule_on_a_window_output) {
  edge_fixture *f = edge_fixture_new(
      "{\"streams\":[{\"metric\":\"t\",\"processors\":[{\"type\":\"window\",\"points\":2,\"aggregates\":[\"mean\"]}]}],"
      "\"rules\":[{\"name\":\"r\",\"when\":{\"metric\":\"t.mean\",\"op\":\">\",\"value\":10},\"actions\":[{\"event\":\"e\"}]}]}");
  iotkit_edge_action_t a;
  edge_feed(f, "t", 1, 5);
  edge_feed(f, "t", 2, 14); /* mean 9.5 */
  cr_assert_eq(take(f, IOTKIT_EDGE_ACTION_EVENT, &a), 0);
  edge_feed(f, "t", 3, 12);
  edge_feed(f, "t", 4, 12); /* mean 12 */
  cr_assert_eq(take(f, IOTKIT_EDGE_ACTION_EVENT, &a), 1);
  edge_fixture_free(f);
}

Test(edge_rules, a_full_queue_drops_and_counts) {
  iotkit_edge_config_t cfg;
  iotkit_edge_config_init(&cfg);
  cfg.max_actions = 2;
  iotkit_edge_t *e = NULL;
  cr_assert_eq(iotkit_edge_new(&cfg, &e), IOTKIT_OK);
  const char *json = "{\"rules\":[{\"name\":\"r\",\"when\":{\"metric\":\"x\",\"op\":\">\",\"value\":0},"
                     "\"actions\":[{\"event\":\"a\"},{\"event\":\"b\"},{\"event\":\"c\"}]}]}";
  cr_assert_eq(iotkit_edge_load(e, json, strlen(json)), IOTKIT_OK);
  iotkit_telemetry_point_t p = {.name = "x", .ts_ms = 1, .type = IOTKIT_TELEMETRY_INT};
  p.value.i = 1;
  bool send = false;
  cr_assert_eq(iotkit_edge_process(e, &p, &send), IOTKIT_OK);
  iotkit_edge_stats_t st;
  cr_assert_eq(iotkit_edge_stats(e, &st), IOTKIT_OK);
  cr_assert_eq(st.actions, 2);
  cr_assert_eq(st.actions_dropped, 1);
  iotkit_edge_free(e);
}
