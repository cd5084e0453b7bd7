/* Edge configuration: every refusal with its code and the JSON pointer of the field
   at fault; a refused document leaves the active one in place. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "edge_check.h"

static void refused(const char *json, iotkit_err_t code, const char *pointer) {
  char got[IOTKIT_EDGE_POINTER_SIZE];
  iotkit_err_t err = edge_refused(json, got, sizeof(got));
  cr_assert_eq(err, code, "%s: got %s", json, iotkit_err_name(err));
  cr_assert_str_eq(got, pointer, "%s", json);
  char p2[IOTKIT_EDGE_POINTER_SIZE], msg[256];
  cr_assert_eq(iotkit_edge_check(json, strlen(json), 0, p2, sizeof(p2), msg, sizeof(msg)), code);
  cr_assert_str_eq(p2, pointer);
  cr_assert_neq(msg[0], '\0');
}

#define S(procs) "{\"streams\":[{\"metric\":\"t\",\"processors\":[" procs "]}]}"

Test(edge_config, not_json) { refused("{\"streams\":", IOTKIT_ERR_BAD_ENCODING, ""); }
Test(edge_config, not_an_object) { refused("[]", IOTKIT_ERR_INVALID_ARG, ""); }
Test(edge_config, unknown_top_level_field) { refused("{\"stream\":[]}", IOTKIT_ERR_INVALID_ARG, "/stream"); }
Test(edge_config, unknown_version) { refused("{\"version\":2}", IOTKIT_ERR_INVALID_ARG, "/version"); }
Test(edge_config, streams_not_an_array) { refused("{\"streams\":{}}", IOTKIT_ERR_INVALID_ARG, "/streams"); }
Test(edge_config, missing_metric) { refused("{\"streams\":[{}]}", IOTKIT_ERR_INVALID_ARG, "/streams/0/metric"); }
Test(edge_config, bad_metric_name) {
  refused("{\"streams\":[{\"metric\":\"a b\"}]}", IOTKIT_ERR_INVALID_ARG, "/streams/0/metric");
}
Test(edge_config, duplicate_metric) {
  refused("{\"streams\":[{\"metric\":\"t\"},{\"metric\":\"t\"}]}", IOTKIT_ERR_INVALID_ARG, "/streams/1/metric");
}
Test(edge_config, unknown_processor) {
  refused(S("{\"type\":\"deadband\",\"absolute\":1},{\"type\":\"kalman\"}"), IOTKIT_ERR_INVALID_ARG,
          "/streams/0/processors/1/type");
}
Test(edge_config, processor_without_type) { refused(S("{}"), IOTKIT_ERR_INVALID_ARG, "/streams/0/processors/0/type"); }
Test(edge_config, unknown_processor_field) {
  refused(S("{\"type\":\"deadband\",\"absolute\":1,\"abs\":2}"), IOTKIT_ERR_INVALID_ARG, "/streams/0/processors/0/abs");
}
Test(edge_config, deadband_both_forms) {
  refused(S("{\"type\":\"deadband\",\"absolute\":1,\"percent\":2}"), IOTKIT_ERR_INVALID_ARG, "/streams/0/processors/0");
}
Test(edge_config, negative_deadband) {
  refused(S("{\"type\":\"deadband\",\"absolute\":-1}"), IOTKIT_ERR_INVALID_ARG, "/streams/0/processors/0/absolute");
}
Test(edge_config, second_deadband) {
  refused(S("{\"type\":\"deadband\",\"absolute\":1},{\"type\":\"deadband\",\"percent\":1}"), IOTKIT_ERR_INVALID_ARG,
          "/streams/0/processors/1/type");
}
Test(edge_config, interval_not_whole) {
  refused(S("{\"type\":\"min_interval\",\"ms\":1.5}"), IOTKIT_ERR_INVALID_ARG, "/streams/0/processors/0/ms");
}
Test(edge_config, window_larger_than_the_memory_cap) {
  refused(S("{\"type\":\"window\",\"mode\":\"sliding\",\"points\":10000000,\"aggregates\":[\"mean\"]}"),
          IOTKIT_ERR_TOO_LARGE, "/streams/0/processors/0/points");
}
Test(edge_config, windows_together_larger_than_the_memory_cap) {
  refused(S("{\"type\":\"window\",\"mode\":\"sliding\",\"points\":100000,\"aggregates\":[\"mean\"]},"
            "{\"type\":\"window\",\"mode\":\"sliding\",\"points\":100000,\"aggregates\":[\"std\"]}"),
          IOTKIT_ERR_TOO_LARGE, "/streams/0/processors/1/points");
}
Test(edge_config, window_without_size) {
  refused(S("{\"type\":\"window\",\"aggregates\":[\"mean\"]}"), IOTKIT_ERR_INVALID_ARG, "/streams/0/processors/0");
}
Test(edge_config, sliding_window_by_time_is_not_implemented) {
  refused(S("{\"type\":\"window\",\"mode\":\"sliding\",\"ms\":1000,\"aggregates\":[\"mean\"]}"), IOTKIT_ERR_UNSUPPORTED,
          "/streams/0/processors/0/ms");
}
Test(edge_config, unknown_aggregate) {
  refused(S("{\"type\":\"window\",\"points\":3,\"aggregates\":[\"mean\",\"median\"]}"), IOTKIT_ERR_INVALID_ARG,
          "/streams/0/processors/0/aggregates/1");
}
Test(edge_config, percentile_out_of_range) {
  refused(S("{\"type\":\"window\",\"points\":3,\"aggregates\":[\"p100\"],\"range\":[0,1]}"), IOTKIT_ERR_INVALID_ARG,
          "/streams/0/processors/0/aggregates/0");
}
Test(edge_config, percentile_without_range) {
  refused(S("{\"type\":\"window\",\"points\":3,\"aggregates\":[\"p95\"]}"), IOTKIT_ERR_INVALID_ARG,
          "/streams/0/processors/0/range");
}
Test(edge_config, inverted_range) {
  refused(S("{\"type\":\"window\",\"points\":3,\"aggregates\":[\"p95\"],\"range\":[5,1]}"), IOTKIT_ERR_INVALID_ARG,
          "/streams/0/processors/0/range");
}
Test(edge_config, every_beyond_the_window) {
  refused(S("{\"type\":\"window\",\"mode\":\"sliding\",\"points\":3,\"every\":4,\"aggregates\":[\"mean\"]}"),
          IOTKIT_ERR_INVALID_ARG, "/streams/0/processors/0/every");
}
Test(edge_config, aggregate_name_taken) {
  refused("{\"streams\":[{\"metric\":\"t.mean\"},{\"metric\":\"t\",\"processors\":[{\"type\":\"window\",\"points\":2,"
          "\"aggregates\":[\"mean\"]}]}]}", IOTKIT_ERR_INVALID_ARG, "/streams/1/processors/0/aggregates/0");
}
Test(edge_config, detector_without_name) {
  refused(S("{\"type\":\"stuck\",\"points\":3}"), IOTKIT_ERR_INVALID_ARG, "/streams/0/processors/0/name");
}
Test(edge_config, duplicate_detector_name) {
  refused(S("{\"type\":\"stuck\",\"name\":\"d\",\"points\":3},{\"type\":\"rate\",\"name\":\"d\",\"max_per_s\":1}"),
          IOTKIT_ERR_INVALID_ARG, "/streams/0/processors/1/name");
}
Test(edge_config, ewma_alpha_out_of_range) {
  refused(S("{\"type\":\"ewma_z\",\"name\":\"z\",\"alpha\":1.5}"), IOTKIT_ERR_INVALID_ARG, "/streams/0/processors/0/alpha");
}
Test(edge_config, threshold_without_level) {
  refused(S("{\"type\":\"threshold\",\"name\":\"h\"}"), IOTKIT_ERR_INVALID_ARG, "/streams/0/processors/0");
}
Test(edge_config, dangling_detector) {
  refused("{\"rules\":[{\"name\":\"r\",\"when\":{\"detector\":\"ghost\"},\"actions\":[{\"event\":\"e\"}]}]}",
          IOTKIT_ERR_INVALID_ARG, "/rules/0/when/detector");
}
Test(edge_config, dangling_rule) {
  refused("{\"rules\":[{\"name\":\"r\",\"when\":{\"all\":[{\"metric\":\"x\",\"op\":\">\",\"value\":1},{\"rule\":\"ghost\"}]},"
          "\"actions\":[{\"event\":\"e\"}]}]}", IOTKIT_ERR_INVALID_ARG, "/rules/0/when/all/1/rule");
}
Test(edge_config, cycle_among_rules) {
  refused("{\"rules\":[{\"name\":\"a\",\"when\":{\"rule\":\"b\"},\"actions\":[{\"event\":\"e\"}]},"
          "{\"name\":\"b\",\"when\":{\"not\":{\"rule\":\"a\"}},\"actions\":[{\"event\":\"e\"}]}]}",
          IOTKIT_ERR_INVALID_ARG, "/rules/0/when");
}
Test(edge_config, rule_naming_itself) {
  refused("{\"rules\":[{\"name\":\"a\",\"when\":{\"rule\":\"a\"},\"actions\":[{\"event\":\"e\"}]}]}",
          IOTKIT_ERR_INVALID_ARG, "/rules/0/when");
}
Test(edge_config, duplicate_rule_name) {
  refused("{\"rules\":[{\"name\":\"a\",\"when\":{\"metric\":\"x\",\"op\":\">\",\"value\":1},\"actions\":[{\"event\":\"e\"}]},"
          "{\"name\":\"a\",\"when\":{\"metric\":\"x\",\"op\":\">\",\"value\":1},\"actions\":[{\"event\":\"e\"}]}]}",
          IOTKIT_ERR_INVALID_ARG, "/rules/1/name");
}
Test(edge_config, bad_operator) {
  refused("{\"rules\":[{\"name\":\"a\",\"when\":{\"metric\":\"x\",\"op\":\"=<\",\"value\":1},\"actions\":[{\"event\":\"e\"}]}]}",
          IOTKIT_ERR_INVALID_ARG, "/rules/0/when/op");
}
Test(edge_config, empty_condition) {
  refused("{\"rules\":[{\"name\":\"a\",\"when\":{},\"actions\":[{\"event\":\"e\"}]}]}", IOTKIT_ERR_INVALID_ARG,
          "/rules/0/when");
}
Test(edge_config, rule_without_actions) {
  refused("{\"rules\":[{\"name\":\"a\",\"when\":{\"metric\":\"x\",\"op\":\">\",\"value\":1}}]}", IOTKIT_ERR_INVALID_ARG,
          "/rules/0/actions");
}
Test(edge_config, for_ms_and_of_together) {
  refused("{\"rules\":[{\"name\":\"a\",\"when\":{\"metric\":\"x\",\"op\":\">\",\"value\":1},\"for_ms\":10,"
          "\"of\":{\"n\":1,\"m\":2},\"actions\":[{\"event\":\"e\"}]}]}", IOTKIT_ERR_INVALID_ARG, "/rules/0/of");
}
Test(edge_config, n_above_m) {
  refused("{\"rules\":[{\"name\":\"a\",\"when\":{\"metric\":\"x\",\"op\":\">\",\"value\":1},"
          "\"of\":{\"n\":3,\"m\":2},\"actions\":[{\"event\":\"e\"}]}]}", IOTKIT_ERR_INVALID_ARG, "/rules/0/of/n");
}
Test(edge_config, unknown_action) {
  refused("{\"rules\":[{\"name\":\"a\",\"when\":{\"metric\":\"x\",\"op\":\">\",\"value\":1},\"actions\":[{\"email\":\"x\"}]}]}",
          IOTKIT_ERR_INVALID_ARG, "/rules/0/actions/0");
}
Test(edge_config, report_not_an_object) {
  refused("{\"rules\":[{\"name\":\"a\",\"when\":{\"metric\":\"x\",\"op\":\">\",\"value\":1},\"actions\":[{\"report\":1}]}]}",
          IOTKIT_ERR_INVALID_ARG, "/rules/0/actions/0/report");
}
Test(edge_config, send_window_is_not_implemented) {
  refused("{\"rules\":[{\"name\":\"a\",\"when\":{\"metric\":\"x\",\"op\":\">\",\"value\":1},"
          "\"actions\":[{\"send_window\":\"x\"}]}]}", IOTKIT_ERR_UNSUPPORTED, "/rules/0/actions/0/send_window");
}

Test(edge_config, a_refused_document_leaves_the_active_one) {
  edge_fixture *f = edge_fixture_new(S("{\"type\":\"deadband\",\"absolute\":1}"));
  cr_assert(edge_feed(f, "t", 1, 0));
  cr_assert_not(edge_feed(f, "t", 2, 0.5));
  const char *bad = S("{\"type\":\"deadband\",\"absolute\":5},{\"type\":\"nope\"}");
  cr_assert_eq(iotkit_edge_load(f->edge, bad, strlen(bad)), IOTKIT_ERR_INVALID_ARG);
  cr_assert_str_eq(iotkit_edge_error_pointer(f->edge), "/streams/0/processors/1/type");
  cr_assert_str_eq(iotkit_edge_last_error(f->edge), "unknown processor type");
  /* the old band of 1, and its state (last sent 0), are still there */
  cr_assert_not(edge_feed(f, "t", 3, 0.9));
  cr_assert(edge_feed(f, "t", 4, 1.1));
  iotkit_edge_stats_t st;
  cr_assert_eq(iotkit_edge_stats(f->edge, &st), IOTKIT_OK);
  cr_assert_eq(st.loads, 1);
  cr_assert_eq(st.refusals, 1);
  /* an accepted one replaces it, with fresh state */
  const char *good = S("{\"type\":\"deadband\",\"absolute\":5}");
  cr_assert_eq(iotkit_edge_load(f->edge, good, strlen(good)), IOTKIT_OK);
  cr_assert_str_eq(iotkit_edge_error_pointer(f->edge), "");
  cr_assert(edge_feed(f, "t", 5, 1.2)); /* first point of the new configuration */
  cr_assert_not(edge_feed(f, "t", 6, 4));
  iotkit_edge_clear(f->edge);
  cr_assert_not(iotkit_edge_active(f->edge));
  cr_assert(edge_feed(f, "t", 7, 4));
  edge_fixture_free(f);
}

Test(edge_config, arguments) {
  iotkit_edge_t *e = NULL;
  cr_assert_eq(iotkit_edge_new(NULL, NULL), IOTKIT_ERR_INVALID_ARG);
  iotkit_edge_config_t cfg;
  iotkit_edge_config_init(&cfg);
  cfg.struct_size = 4; /* below the required prefix */
  cr_assert_eq(iotkit_edge_new(&cfg, &e), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_edge_new(NULL, &e), IOTKIT_OK);
  cr_assert_eq(iotkit_edge_load(e, NULL, 0), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_edge_load(NULL, "{}", 2), IOTKIT_ERR_INVALID_ARG);
  bool send = false;
  cr_assert_eq(iotkit_edge_process(e, NULL, &send), IOTKIT_ERR_INVALID_ARG);
  iotkit_edge_action_t a;
  cr_assert_eq(iotkit_edge_next_action(e, &a), IOTKIT_ERR_NOT_FOUND);
  cr_assert_eq(iotkit_edge_check(NULL, 0, 0, NULL, 0, NULL, 0), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_edge_check("{}", 2, 0, NULL, 0, NULL, 0), IOTKIT_OK);
  iotkit_edge_free(e);
  iotkit_edge_free(NULL);
}
