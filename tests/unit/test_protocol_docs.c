/* iotkit/protocol.h documents: built byte for byte as docs/protocol.md shows
   them (and as the device sends them), parsed back, each bad input with its code. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "iotkit/iotkit.h"
#include "protocol_examples.h"

#define TS0 1767225600000LL

static void expect_example(const char *name, char *built) {
  example_t ex = protocol_example(name);
  cr_assert_not_null(built);
  cr_assert_str_eq(built, ex.json, "example %s:\n built    %s\n document %s", name, built, ex.json);
  free(ex.json);
  iotkit_free(built);
}

static iotkit_err_t parse_example(const char *name, iotkit_err_t (*fn)(const char *, void *), void *arg) {
  example_t ex = protocol_example(name);
  iotkit_err_t err = fn(ex.json, arg);
  free(ex.json);
  return err;
}

/* ------------------------------------------------------------- builders -- */

Test(protocol_docs, status_documents_match_the_examples) {
  char *out = NULL;
  cr_assert_eq(iotkit_protocol_status_build(true, NULL, TS0, &out), IOTKIT_OK);
  expect_example("status-online", out);
  cr_assert_eq(iotkit_protocol_status_build(false, "connection_lost", IOTKIT_PROTOCOL_NO_TS, &out), IOTKIT_OK);
  expect_example("status-will", out);
  cr_assert_eq(iotkit_protocol_status_build(false, "disconnect", TS0 + 60000, &out), IOTKIT_OK);
  expect_example("status-offline", out);
}

Test(protocol_docs, reported_desired_event_command_match_the_examples) {
  char *out = NULL;
  cr_assert_eq(iotkit_protocol_reported_build("{\"firmware\":\"1.4.2\",\"interval_ms\":1000,\"location\":{\"room\":\"lab\"}}",
                                              TS0, &out),
               IOTKIT_OK);
  expect_example("reported-first", out);
  cr_assert_eq(iotkit_protocol_desired_build(7, "{\"interval_ms\":5000,\"led\":\"on\"}", &out), IOTKIT_OK);
  expect_example("desired", out);
  cr_assert_eq(iotkit_protocol_event_build("overheat", TS0, "{\"temperature\":85.5}", &out), IOTKIT_OK);
  expect_example("event", out);
  cr_assert_eq(iotkit_protocol_command_build("42", "set_interval", "{\"interval_ms\":5000}", &out), IOTKIT_OK);
  expect_example("command-request", out);
}

Test(protocol_docs, merge_and_diff_match_the_examples) {
  char *out = NULL;
  cr_assert_eq(iotkit_json_merge_patch("{\"firmware\":\"1.4.2\",\"interval_ms\":1000,\"location\":{\"room\":\"lab\"}}",
                                       "{\"interval_ms\":5000,\"location\":null}", &out),
               IOTKIT_OK);
  char *doc = NULL;
  cr_assert_eq(iotkit_protocol_reported_build(out, TS0 + 1000, &doc), IOTKIT_OK);
  iotkit_free(out);
  expect_example("reported-merged", doc);
  cr_assert_eq(iotkit_json_diff("{\"interval_ms\":5000,\"led\":\"on\"}",
                                "{\"interval_ms\":5000,\"led\":\"off\",\"mode\":\"eco\"}", &out),
               IOTKIT_OK);
  expect_example("desired-delta", out);
}

Test(protocol_docs, big_integers_stay_exact) {
  char *out = NULL;
  cr_assert_eq(iotkit_protocol_desired_build(9007199254740992ull, "{}", &out), IOTKIT_OK);
  cr_assert_str_eq(out, "{\"version\":9007199254740992,\"state\":{}}");
  iotkit_free(out);
  cr_assert_eq(iotkit_protocol_reported_build("{}", 4102444800000LL, &out), IOTKIT_OK);
  cr_assert_str_eq(out, "{\"state\":{},\"ts\":4102444800000}");
  iotkit_free(out);
}

Test(protocol_docs, command_without_params_and_escaped_id) {
  char *out = NULL;
  cr_assert_eq(iotkit_protocol_command_build("a\"b", "ping", NULL, &out), IOTKIT_OK);
  cr_assert_str_eq(out, "{\"id\":\"a\\\"b\",\"name\":\"ping\"}");
  iotkit_free(out);
}

Test(protocol_docs, builders_refuse_bad_input) {
  char *out = (char *)"untouched";
  char longid[IOTKIT_MAX_REQUEST_ID + 2];
  memset(longid, '1', sizeof longid - 1);
  longid[sizeof longid - 1] = '\0';
  cr_assert_eq(iotkit_protocol_desired_build(0, "{}", &out), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_protocol_desired_build(9007199254740993ull, "{}", &out), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_protocol_desired_build(1, "[1]", &out), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_protocol_desired_build(1, "{", &out), IOTKIT_ERR_BAD_ENCODING);
  cr_assert_eq(iotkit_protocol_desired_build(1, NULL, &out), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_protocol_desired_build(1, "{}", NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_protocol_reported_build("1", 0, &out), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_protocol_reported_build("{} x", 0, &out), IOTKIT_ERR_BAD_ENCODING);
  cr_assert_eq(iotkit_protocol_status_build(true, NULL, 0, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_protocol_event_build("a/b", 0, NULL, &out), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_protocol_event_build("x", 0, "nope", &out), IOTKIT_ERR_BAD_ENCODING);
  cr_assert_eq(iotkit_protocol_command_build("", "ping", NULL, &out), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_protocol_command_build(longid, "ping", NULL, &out), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_protocol_command_build("1", "", NULL, &out), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_protocol_command_build("1", NULL, NULL, &out), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_protocol_command_build("1", "x", "[]", &out), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_protocol_command_build("1", "x", "{\"a\":", &out), IOTKIT_ERR_BAD_ENCODING);
  cr_assert_str_eq(out, "untouched");
}

Test(protocol_docs, event_without_data_is_an_empty_object) {
  char *out = NULL;
  cr_assert_eq(iotkit_protocol_event_build("x", TS0, NULL, &out), IOTKIT_OK);
  cr_assert_str_eq(out, "{\"type\":\"x\",\"ts\":1767225600000,\"data\":{}}");
  iotkit_free(out);
}

/* ------------------------------------------------------- merge and diff -- */

Test(protocol_docs, merge_patch_rfc7396_appendix_a) {
  /* A selection of RFC 7396 appendix A. */
  static const char *const cases[][3] = {
      {"{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
      {"{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}"},
      {"{\"a\":\"b\"}", "{\"a\":null}", "{}"},
      {"{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
      {"{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}"},
      {"{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}"},
      {"[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]"},
      {"{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]"},
      {"{\"a\":\"foo\"}", "null", "null"},
      {"{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}"},
      {"[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}"},
      {"{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *out = NULL;
    cr_assert_eq(iotkit_json_merge_patch(cases[i][0], cases[i][1], &out), IOTKIT_OK, "case %zu", i);
    cr_assert_str_eq(out, cases[i][2], "case %zu", i);
    iotkit_free(out);
  }
}

Test(protocol_docs, merge_patch_null_target_is_empty_object) {
  char *out = NULL;
  cr_assert_eq(iotkit_json_merge_patch(NULL, "{\"a\":1,\"b\":null}", &out), IOTKIT_OK);
  cr_assert_str_eq(out, "{\"a\":1}");
  iotkit_free(out);
}

Test(protocol_docs, merge_patch_bad_input) {
  char *out = (char *)"untouched";
  cr_assert_eq(iotkit_json_merge_patch("{}", "{", &out), IOTKIT_ERR_BAD_ENCODING);
  cr_assert_eq(iotkit_json_merge_patch("{", "{}", &out), IOTKIT_ERR_BAD_ENCODING);
  cr_assert_eq(iotkit_json_merge_patch("{}", NULL, &out), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_json_merge_patch("{}", "{}", NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_str_eq(out, "untouched");
}

Test(protocol_docs, diff_then_merge_gives_the_target) {
  const char *from = "{\"a\":1,\"b\":{\"c\":2,\"d\":3},\"e\":[1]}";
  const char *to = "{\"a\":1,\"b\":{\"c\":5},\"f\":true,\"e\":[1]}";
  char *patch = NULL, *merged = NULL;
  cr_assert_eq(iotkit_json_diff(from, to, &patch), IOTKIT_OK);
  cr_assert_str_eq(patch, "{\"b\":{\"c\":5,\"d\":null},\"f\":true}");
  cr_assert_eq(iotkit_json_merge_patch(from, patch, &merged), IOTKIT_OK);
  cr_assert_str_eq(merged, "{\"a\":1,\"b\":{\"c\":5},\"e\":[1],\"f\":true}");
  iotkit_free(patch);
  iotkit_free(merged);
  cr_assert_eq(iotkit_json_diff(from, from, &patch), IOTKIT_OK);
  cr_assert_str_eq(patch, "{}");
  iotkit_free(patch);
  cr_assert_eq(iotkit_json_diff("{\"a\":1}", "[2]", &patch), IOTKIT_OK);
  cr_assert_str_eq(patch, "[2]");
  iotkit_free(patch);
}

Test(protocol_docs, diff_bad_input) {
  char *out = (char *)"untouched";
  cr_assert_eq(iotkit_json_diff("{}", "{", &out), IOTKIT_ERR_BAD_ENCODING);
  cr_assert_eq(iotkit_json_diff("x", "{}", &out), IOTKIT_ERR_BAD_ENCODING);
  cr_assert_eq(iotkit_json_diff(NULL, "{}", &out), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_json_diff("{}", NULL, &out), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_json_diff("{}", "{}", NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_str_eq(out, "untouched");
}

/* -------------------------------------------------------------- parsers -- */

static iotkit_err_t desired_of(const char *text, void *arg) {
  uint64_t v = 0;
  char *state = NULL;
  iotkit_err_t err = iotkit_protocol_desired_parse(text, strlen(text), &v, &state);
  if (err == IOTKIT_OK) {
    cr_assert_eq(v, 7);
    cr_assert_str_eq(state, arg);
    iotkit_free(state);
  }
  return err;
}

Test(protocol_docs, desired_parse_reads_the_example) {
  cr_assert_eq(parse_example("desired", desired_of, "{\"interval_ms\":5000,\"led\":\"on\"}"), IOTKIT_OK);
}

Test(protocol_docs, desired_parse_bad_documents) {
  uint64_t v = 99;
  const char *proto[] = {"[]", "{\"state\":{}}", "{\"version\":0,\"state\":{}}", "{\"version\":1.5,\"state\":{}}",
                         "{\"version\":\"1\",\"state\":{}}", "{\"version\":-1,\"state\":{}}",
                         "{\"version\":1}", "{\"version\":1,\"state\":[]}", "{\"version\":9007199254740994,\"state\":{}}"};
  for (size_t i = 0; i < sizeof proto / sizeof proto[0]; i++)
    cr_assert_eq(iotkit_protocol_desired_parse(proto[i], strlen(proto[i]), &v, NULL), IOTKIT_ERR_PROTOCOL, "%s",
                 proto[i]);
  cr_assert_eq(iotkit_protocol_desired_parse("{\"version\":", 11, &v, NULL), IOTKIT_ERR_BAD_ENCODING);
  cr_assert_eq(iotkit_protocol_desired_parse("", 0, &v, NULL), IOTKIT_ERR_BAD_ENCODING);
  cr_assert_eq(iotkit_protocol_desired_parse("{}\0", 3, &v, NULL), IOTKIT_ERR_BAD_ENCODING);
  cr_assert_eq(iotkit_protocol_desired_parse("{}", 2, NULL, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_protocol_desired_parse(NULL, 3, &v, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(v, 99);
}

static iotkit_err_t reported_of(const char *text, void *arg) {
  char *state = NULL;
  int64_t ts = 0;
  iotkit_err_t err = iotkit_protocol_reported_parse(text, strlen(text), &state, &ts);
  if (err == IOTKIT_OK) {
    cr_assert_eq(ts, TS0 + 1000);
    cr_assert_str_eq(state, arg);
    iotkit_free(state);
  }
  return err;
}

Test(protocol_docs, reported_parse_reads_the_example) {
  cr_assert_eq(parse_example("reported-merged", reported_of, "{\"firmware\":\"1.4.2\",\"interval_ms\":5000}"), IOTKIT_OK);
}

Test(protocol_docs, reported_parse_bad_documents) {
  int64_t ts = 5;
  const char *proto[] = {"1", "{\"ts\":1}", "{\"state\":{}}", "{\"state\":1,\"ts\":1}", "{\"state\":{},\"ts\":-1}",
                         "{\"state\":{},\"ts\":\"1\"}"};
  for (size_t i = 0; i < sizeof proto / sizeof proto[0]; i++)
    cr_assert_eq(iotkit_protocol_reported_parse(proto[i], strlen(proto[i]), NULL, &ts), IOTKIT_ERR_PROTOCOL, "%s",
                 proto[i]);
  cr_assert_eq(iotkit_protocol_reported_parse("{]", 2, NULL, &ts), IOTKIT_ERR_BAD_ENCODING);
  cr_assert_eq(ts, 5);
}

Test(protocol_docs, status_parse_reads_the_three_examples) {
  const struct {
    const char *name;
    bool online;
    const char *reason;
    int64_t ts;
  } want[] = {{"status-online", true, NULL, TS0},
              {"status-will", false, "connection_lost", IOTKIT_PROTOCOL_NO_TS},
              {"status-offline", false, "disconnect", TS0 + 60000}};
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    example_t ex = protocol_example(want[i].name);
    bool online = !want[i].online;
    char *reason = (char *)"x";
    int64_t ts = 0;
    cr_assert_eq(iotkit_protocol_status_parse(ex.json, strlen(ex.json), &online, &reason, &ts), IOTKIT_OK);
    cr_assert_eq(online, want[i].online);
    cr_assert_eq(ts, want[i].ts);
    if (want[i].reason) cr_assert_str_eq(reason, want[i].reason);
    else cr_assert_null(reason);
    iotkit_free(reason);
    free(ex.json);
  }
}

Test(protocol_docs, status_parse_bad_documents) {
  bool online = true;
  const char *proto[] = {"[]", "{}", "{\"status\":\"away\"}", "{\"status\":1}", "{\"status\":\"online\",\"ts\":-5}",
                         "{\"status\":\"offline\",\"reason\":7}"};
  for (size_t i = 0; i < sizeof proto / sizeof proto[0]; i++)
    cr_assert_eq(iotkit_protocol_status_parse(proto[i], strlen(proto[i]), &online, NULL, NULL), IOTKIT_ERR_PROTOCOL,
                 "%s", proto[i]);
  cr_assert_eq(iotkit_protocol_status_parse("online", 6, &online, NULL, NULL), IOTKIT_ERR_BAD_ENCODING);
  cr_assert_eq(iotkit_protocol_status_parse("{}", 2, NULL, NULL, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert(online);
}

Test(protocol_docs, response_parse_reads_the_examples) {
  iotkit_command_response_t r;
  example_t ex = protocol_example("command-response");
  cr_assert_eq(iotkit_protocol_response_parse(ex.json, strlen(ex.json), &r), IOTKIT_OK);
  cr_assert_str_eq(r.id, "42");
  cr_assert(r.ok);
  cr_assert_str_eq(r.result_json, "{\"interval_ms\":5000}");
  cr_assert_null(r.error_code);
  iotkit_protocol_response_clear(&r);
  cr_assert_null(r.id);
  free(ex.json);
  ex = protocol_example("command-unknown");
  cr_assert_eq(iotkit_protocol_response_parse(ex.json, strlen(ex.json), &r), IOTKIT_OK);
  cr_assert_str_eq(r.id, "43");
  cr_assert_not(r.ok);
  cr_assert_null(r.result_json);
  cr_assert_str_eq(r.error_code, "unknown_command");
  cr_assert_str_eq(r.error_message, "no handler for command 'self_destruct'");
  iotkit_protocol_response_clear(&r);
  free(ex.json);
  iotkit_protocol_response_clear(NULL);
}

Test(protocol_docs, response_parse_bad_documents) {
  iotkit_command_response_t r;
  memset(&r, 0x5a, sizeof r);
  const char *proto[] = {"[]",
                         "{\"status\":\"ok\",\"result\":{}}",
                         "{\"id\":\"\",\"status\":\"ok\",\"result\":{}}",
                         "{\"id\":42,\"status\":\"ok\",\"result\":{}}",
                         "{\"id\":\"1\",\"result\":{}}",
                         "{\"id\":\"1\",\"status\":\"ok\"}",
                         "{\"id\":\"1\",\"status\":\"maybe\",\"result\":{}}",
                         "{\"id\":\"1\",\"status\":\"error\"}",
                         "{\"id\":\"1\",\"status\":\"error\",\"error\":{\"code\":\"x\"}}",
                         "{\"id\":\"1\",\"status\":\"error\",\"error\":{\"code\":1,\"message\":\"m\"}}"};
  for (size_t i = 0; i < sizeof proto / sizeof proto[0]; i++)
    cr_assert_eq(iotkit_protocol_response_parse(proto[i], strlen(proto[i]), &r), IOTKIT_ERR_PROTOCOL, "%s", proto[i]);
  cr_assert_eq(iotkit_protocol_response_parse("{\"id\"", 5, &r), IOTKIT_ERR_BAD_ENCODING);
  cr_assert_eq(iotkit_protocol_response_parse("{}", 2, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(((unsigned char *)&r)[0], 0x5a, "output touched on failure");
}

static const char ota_doc[] =
    "{\"state\":\"downloading\",\"bytes\":524288,\"total\":1048576,\"percent\":50,\"error\":null,\"reason\":null,"
    "\"running_version\":\"2.0.0\",\"target_version\":\"2.1.0-rc.1\"}";

Test(protocol_docs, ota_status_parse_reads_the_example) {
  iotkit_ota_report_t r;
  cr_assert_eq(iotkit_protocol_ota_status_parse(ota_doc, strlen(ota_doc), &r), IOTKIT_OK);
  cr_assert_str_eq(r.state, "downloading");
  cr_assert_eq(r.bytes, 524288);
  cr_assert_eq(r.total, 1048576);
  cr_assert_eq(r.percent, 50);
  cr_assert_null(r.error);
  cr_assert_null(r.reason);
  cr_assert_str_eq(r.running_version, "2.0.0");
  cr_assert_str_eq(r.target_version, "2.1.0-rc.1");
  iotkit_protocol_ota_status_clear(&r);
  const char *rb = "{\"state\":\"rolled_back\",\"bytes\":1,\"total\":1,\"percent\":100,\"error\":\"IOTKIT_ERR_OTA_TRIAL_TIMEOUT\","
                   "\"reason\":\"r\",\"running_version\":\"2.1.0\",\"target_version\":null}";
  cr_assert_eq(iotkit_protocol_ota_status_parse(rb, strlen(rb), &r), IOTKIT_OK);
  cr_assert_str_eq(r.error, "IOTKIT_ERR_OTA_TRIAL_TIMEOUT");
  cr_assert_null(r.target_version);
  iotkit_protocol_ota_status_clear(&r);
}

Test(protocol_docs, ota_status_from_the_library_parses) {
  /* What lib/ota sends is what the parser reads: a fresh client's document. */
  const char *idle = "{\"state\":\"idle\",\"bytes\":0,\"total\":0,\"percent\":0,\"error\":null,\"reason\":null,"
                     "\"running_version\":\"1.0.0\",\"target_version\":null}";
  iotkit_ota_report_t r;
  cr_assert_eq(iotkit_protocol_ota_status_parse(idle, strlen(idle), &r), IOTKIT_OK);
  cr_assert_str_eq(r.state, iotkit_ota_state_name(IOTKIT_OTA_IDLE));
  iotkit_protocol_ota_status_clear(&r);
}

Test(protocol_docs, ota_status_parse_bad_documents) {
  iotkit_ota_report_t r;
  memset(&r, 0x5a, sizeof r);
  const char *proto[] = {
      "[]",
      "{\"bytes\":0,\"total\":0,\"percent\":0,\"running_version\":\"1\"}",
      "{\"state\":\"idle\",\"total\":0,\"percent\":0,\"running_version\":\"1\"}",
      "{\"state\":\"idle\",\"bytes\":0,\"total\":0,\"percent\":101,\"running_version\":\"1\"}",
      "{\"state\":\"idle\",\"bytes\":-1,\"total\":0,\"percent\":0,\"running_version\":\"1\"}",
      "{\"state\":\"idle\",\"bytes\":0,\"total\":0,\"percent\":0}",
      "{\"state\":\"idle\",\"bytes\":0,\"total\":0,\"percent\":0,\"running_version\":\"1\",\"error\":5}",
      "{\"state\":\"idle\",\"bytes\":0,\"total\":0,\"percent\":0,\"running_version\":\"1\",\"target_version\":[]}"};
  for (size_t i = 0; i < sizeof proto / sizeof proto[0]; i++)
    cr_assert_eq(iotkit_protocol_ota_status_parse(proto[i], strlen(proto[i]), &r), IOTKIT_ERR_PROTOCOL, "%s",
                 proto[i]);
  cr_assert_eq(iotkit_protocol_ota_status_parse("{", 1, &r), IOTKIT_ERR_BAD_ENCODING);
  cr_assert_eq(iotkit_protocol_ota_status_parse(ota_doc, strlen(ota_doc), NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(((unsigned char *)&r)[0], 0x5a, "output touched on failure");
}

/* JSON text may end in JSON whitespace (a file read with its newline); other trailing bytes are refused. */
Test(protocol_docs, trailing_whitespace_is_json_other_trailing_bytes_are_not) {
  char *out = NULL;
  cr_assert_eq(iotkit_protocol_reported_build("{\"a\":1} \t\r\n", 5, &out), IOTKIT_OK);
  cr_assert(strstr(out, "\"a\":1"), "%s", out);
  iotkit_free(out);
  out = NULL;
  cr_assert_eq(iotkit_json_merge_patch("{\"a\":1}\n", "{\"b\":2}\n", &out), IOTKIT_OK);
  cr_assert_str_eq(out, "{\"a\":1,\"b\":2}");
  iotkit_free(out);
  out = (char *)"untouched";
  cr_assert_eq(iotkit_protocol_reported_build("{} \v", 0, &out), IOTKIT_ERR_BAD_ENCODING); /* \v is not JSON whitespace */
  cr_assert_eq(iotkit_protocol_reported_build("{}\n}", 0, &out), IOTKIT_ERR_BAD_ENCODING);
  cr_assert_str_eq(out, "untouched");
}

/* Found by tests/fuzz/fuzz_protocol: a number beyond the double range (1e999) was read as
   infinity and printed as null, so a merge patch or a desired document carrying one deleted
   the member instead. Such documents are refused. */
Test(protocol_docs, merge_patch_refuses_a_number_beyond_double) {
  char *out = NULL;
  cr_assert_eq(iotkit_json_merge_patch("{\"ts\":1}", "{\"ts\":17676001e308000}", &out), IOTKIT_ERR_BAD_ENCODING);
  cr_assert_eq(iotkit_json_merge_patch("{\"a\":[1,-1e999]}", "{}", &out), IOTKIT_ERR_BAD_ENCODING);
  cr_assert_null(out);
}

Test(protocol_docs, diff_refuses_a_number_beyond_double) {
  char *out = NULL;
  cr_assert_eq(iotkit_json_diff("3", "{\"data\":{\"t\":1e400}}", &out), IOTKIT_ERR_BAD_ENCODING);
  cr_assert_null(out);
}

Test(protocol_docs, desired_refuses_a_number_beyond_double) {
  static const char doc[] = "{\"version\":2,\"state\":{\"interval_ms\":1e999}}";
  uint64_t version = 0;
  char *state = NULL;
  cr_assert_eq(iotkit_protocol_desired_parse(doc, sizeof doc - 1, &version, &state), IOTKIT_ERR_BAD_ENCODING);
  cr_assert_null(state);
}

Test(protocol_docs, large_finite_number_is_kept) {
  char *out = NULL;
  cr_assert_eq(iotkit_json_merge_patch("{}", "{\"x\":-1e308}", &out), IOTKIT_OK);
  cr_assert_str_eq(out, "{\"x\":-1e+308}");
  iotkit_free(out);
}

/* Found by tests/fuzz/fuzz_protocol: with a member name twice, the diff read the first
   ("mode":"f") and a merge applied both (the last won), so the diff of two documents did not
   lead to the second one. Duplicate names are refused. */
Test(protocol_docs, merge_patch_refuses_a_name_twice) {
  char *out = NULL;
  cr_assert_eq(iotkit_json_merge_patch("{}", "{\"mode\":\"f\",\"mode\":\"eco\"}", &out), IOTKIT_ERR_BAD_ENCODING);
  cr_assert_eq(iotkit_json_merge_patch("{\"a\":{\"x\":1,\"x\":2}}", "{}", &out), IOTKIT_ERR_BAD_ENCODING);
  cr_assert_null(out);
}

Test(protocol_docs, diff_refuses_a_name_twice) {
  char *out = NULL;
  cr_assert_eq(iotkit_json_diff("{\"led\":\"off\",\"mode\":\"eco\"}", "{\"k\":null,\"led\":\"off\",\"mode\":\"f\",\"mode\":\"eco\"}",
                                &out),
               IOTKIT_ERR_BAD_ENCODING);
  cr_assert_null(out);
}

Test(protocol_docs, desired_refuses_a_name_twice) {
  static const char doc[] = "{\"version\":2,\"version\":3,\"state\":{}}";
  uint64_t version = 0;
  char *state = NULL;
  cr_assert_eq(iotkit_protocol_desired_parse(doc, sizeof doc - 1, &version, &state), IOTKIT_ERR_BAD_ENCODING);
  cr_assert_null(state);
}

Test(protocol_docs, same_name_in_different_objects_is_read) {
  char *out = NULL;
  cr_assert_eq(iotkit_json_merge_patch("{}", "{\"a\":{\"a\":1},\"b\":{\"a\":2}}", &out), IOTKIT_OK);
  cr_assert_str_eq(out, "{\"a\":{\"a\":1},\"b\":{\"a\":2}}");
  iotkit_free(out);
}
