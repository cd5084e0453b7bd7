/* The edge pipeline of a device: batches filtered before the queue, rules calling
   the same command handlers the cloud calls, events and reports, configuration
   from desired state (refused as a whole and reported), persistence across a
   restart. On the capture transport with a memory HAL. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_fixture.h"

static model_fixture_t fx;
static void setup(void) { model_fixture_init(&fx); }
static void teardown(void) { model_fixture_fini(&fx); }
TestSuite(device_edge, .init = setup, .fini = teardown);

#define DEADBAND "{\"streams\":[{\"metric\":\"t\",\"processors\":[{\"type\":\"deadband\",\"absolute\":1}]}]}"

static int g_calls;
static char g_params[256];

static void valve(iotkit_device_t *dev, void *user, const char *id, const char *name, const char *params,
                  iotkit_command_t *cmd) {
  (void)dev, (void)user, (void)id, (void)name;
  g_calls++;
  snprintf(g_params, sizeof(g_params), "%s", params);
  cr_assert_eq(iotkit_command_complete(cmd, "{\"open\":true}"), IOTKIT_OK);
}

/* Send one point of @p name; returns the sequence number (0: nothing sent). */
static uint64_t send_point(const char *name, int64_t ts, double v) {
  iotkit_telemetry_batch_t *b = NULL;
  cr_assert_eq(iotkit_telemetry_batch_new(NULL, &b), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_batch_add_double(b, name, NULL, ts, v), IOTKIT_OK);
  uint64_t seq = 99;
  cr_assert_eq(iotkit_device_send_batch(fx.dev, b, IOTKIT_TELEMETRY_FORMAT_JSON, &seq, NULL), IOTKIT_OK);
  iotkit_telemetry_batch_free(b);
  model_fixture_pump(&fx);
  return seq;
}

static char *reported(void) {
  char *doc = NULL;
  cr_assert_eq(iotkit_device_reported(fx.dev, &doc), IOTKIT_OK);
  return doc;
}

Test(device_edge, held_points_never_enter_the_queue) {
  model_fixture_connect(&fx);
  cr_assert_eq(iotkit_device_edge_load(fx.dev, DEADBAND), IOTKIT_OK);
  size_t before = model_fixture_count("telemetry");
  cr_assert_gt(send_point("t", 1000, 20.0), 0);
  cr_assert_eq(send_point("t", 2000, 20.5), 0);
  cr_assert_gt(send_point("t", 3000, 21.5), 0);
  cr_assert_gt(send_point("other", 3000, 0), 0); /* no stream: sent */
  cr_assert_eq(model_fixture_count("telemetry"), before + 3);
  iotkit_device_telemetry_stats_t ts;
  cr_assert_eq(iotkit_device_telemetry_stats(fx.dev, &ts), IOTKIT_OK);
  cr_assert_eq(ts.accepted, 3);
  iotkit_edge_stats_t st;
  cr_assert_eq(iotkit_device_edge_stats(fx.dev, &st), IOTKIT_OK);
  cr_assert_eq(st.points_held, 1);
  cr_assert_eq(st.unconfigured, 1);
}

Test(device_edge, window_aggregates_join_the_batch) {
  model_fixture_connect(&fx);
  cr_assert_eq(iotkit_device_edge_load(fx.dev, "{\"streams\":[{\"metric\":\"t\",\"processors\":[{\"type\":\"deadband\","
                                               "\"absolute\":100},{\"type\":\"window\",\"points\":2,\"aggregates\":[\"max\"]}]}]}"),
               IOTKIT_OK);
  send_point("t", 1000, 1);
  send_point("t", 2000, 3); /* held by the deadband, but closes the window */
  const char *last = model_fixture_last("telemetry");
  cr_assert_not_null(last);
  cr_assert_not_null(strstr(last, "\"t.max\""), "%s", last);
  cr_assert_null(strstr(last, "\"t\""), "%s", last);
}

Test(device_edge, a_rule_calls_the_handler_the_cloud_calls) {
  cr_assert_eq(iotkit_device_new(&fx.cfg, &fx.dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_command_register(fx.dev, "open_valve", valve, NULL), IOTKIT_OK);
  model_fixture_connect(&fx);
  cr_assert_eq(iotkit_device_edge_load(fx.dev, "{\"rules\":[{\"name\":\"dry\",\"when\":{\"metric\":\"soil\",\"op\":\"<\","
                                               "\"value\":20},\"actions\":[{\"command\":\"open_valve\",\"params\":{\"s\":30}}]}]}"),
               IOTKIT_OK);
  send_point("soil", 1000, 25);
  cr_assert_eq(g_calls, 0);
  send_point("soil", 2000, 12);
  cr_assert_eq(g_calls, 1);
  cr_assert_str_eq(g_params, "{\"s\":30}");
  cr_assert_eq(model_fixture_count("commands/response"), 0, "a local call's result is not sent");
  /* the cloud reaches the same handler */
  model_fixture_inject(&fx, "commands/request", "{\"id\":\"c1\",\"name\":\"open_valve\",\"params\":{\"s\":5}}");
  cr_assert_eq(g_calls, 2);
  cr_assert_str_eq(model_fixture_last("commands/response"), "{\"id\":\"c1\",\"status\":\"ok\",\"result\":{\"open\":true}}");
}

Test(device_edge, a_rule_without_a_handler_is_logged) {
  model_fixture_connect(&fx);
  cr_assert_eq(iotkit_device_edge_load(fx.dev, "{\"rules\":[{\"name\":\"dry\",\"when\":{\"metric\":\"soil\",\"op\":\"<\","
                                               "\"value\":20},\"actions\":[{\"command\":\"nobody\"}]}]}"),
               IOTKIT_OK);
  send_point("soil", 1000, 1);
  cr_assert(model_fixture_log_has(&fx, "unknown_command"));
  cr_assert_eq(model_fixture_count("commands/response"), 0);
}

Test(device_edge, events_and_reports_from_rules) {
  model_fixture_connect(&fx);
  cr_assert_eq(iotkit_device_edge_load(fx.dev, "{\"rules\":[{\"name\":\"hot\",\"when\":{\"metric\":\"t\",\"op\":\">\","
                                               "\"value\":30},\"actions\":[{\"event\":\"overheat\"},{\"report\":{\"alarm\":true}}]}]}"),
               IOTKIT_OK);
  send_point("t", 5000, 31.5);
  const char *ev = model_fixture_last("events/overheat");
  cr_assert_not_null(ev);
  cr_assert_not_null(strstr(ev, "\"data\":{\"rule\":\"hot\",\"metric\":\"t\",\"value\":31.5,\"ts\":5000}"), "%s", ev);
  char *doc = reported();
  cr_assert_not_null(strstr(doc, "\"alarm\":true"), "%s", doc);
  iotkit_free(doc);
}

#define DESIRED(v, edge) "{\"version\":" #v ",\"state\":{\"edge\":" edge "}}"

Test(device_edge, desired_state_configures_and_a_bad_one_is_refused_and_reported) {
  model_fixture_connect(&fx);
  model_fixture_inject(&fx, "state/desired", DESIRED(1, DEADBAND));
  char *doc = reported();
  cr_assert_not_null(strstr(doc, "\"edge\":{\"active\":true,\"version\":1}"), "%s", doc);
  iotkit_free(doc);
  cr_assert_gt(send_point("t", 1000, 5), 0);
  cr_assert_eq(send_point("t", 2000, 5.5), 0);
  model_fixture_inject(&fx, "state/desired",
                       DESIRED(2, "{\"streams\":[{\"metric\":\"t\",\"processors\":[{\"type\":\"deadband\",\"absolut\":9}]}]}"));
  doc = reported();
  cr_assert_not_null(strstr(doc, "\"edge\":{\"active\":true,\"version\":1,\"refused\":{\"version\":2,"
                                 "\"code\":\"IOTKIT_ERR_INVALID_ARG\",\"pointer\":\"/streams/0/processors/0/absolut\""),
                     "%s", doc);
  iotkit_free(doc);
  /* the old one is still active, with its state */
  cr_assert_eq(send_point("t", 3000, 5.9), 0);
  cr_assert_gt(send_point("t", 4000, 6.1), 0);
  /* a good one clears the refusal */
  model_fixture_inject(&fx, "state/desired",
                       DESIRED(3, "{\"streams\":[{\"metric\":\"t\",\"processors\":[{\"type\":\"deadband\",\"absolute\":9}]}]}"));
  doc = reported();
  cr_assert_not_null(strstr(doc, "\"edge\":{\"active\":true,\"version\":3}"), "%s", doc);
  iotkit_free(doc);
  /* null turns it off */
  model_fixture_inject(&fx, "state/desired", "{\"version\":4,\"state\":{\"edge\":null}}");
  doc = reported();
  cr_assert_not_null(strstr(doc, "\"edge\":{\"active\":false,\"version\":4}"), "%s", doc);
  iotkit_free(doc);
  cr_assert_gt(send_point("t", 5000, 6.1), 0);
}

Test(device_edge, the_configuration_survives_a_restart) {
  model_fixture_connect(&fx);
  model_fixture_inject(&fx, "state/desired", DESIRED(7, DEADBAND));
  cr_assert_eq(iotkit_device_free(fx.dev), IOTKIT_OK);
  fx.dev = NULL;
  model_fixture_connect(&fx); /* same HAL: a restart */
  char *doc = reported();
  cr_assert_not_null(strstr(doc, "\"edge\":{\"active\":true,\"version\":7}"), "%s", doc);
  iotkit_free(doc);
  cr_assert_gt(send_point("t", 1000, 5), 0);
  cr_assert_eq(send_point("t", 2000, 5.5), 0);
  /* turned off locally: gone after the next restart too */
  cr_assert_eq(iotkit_device_edge_load(fx.dev, NULL), IOTKIT_OK);
  cr_assert_eq(iotkit_device_free(fx.dev), IOTKIT_OK);
  fx.dev = NULL;
  model_fixture_connect(&fx);
  cr_assert_gt(send_point("t", 1000, 5), 0);
  cr_assert_gt(send_point("t", 2000, 5.5), 0);
}

Test(device_edge, a_refused_local_document_says_where) {
  model_fixture_connect(&fx);
  cr_assert_eq(iotkit_device_edge_load(fx.dev, "{\"streams\":[{\"metric\":\"t\",\"processors\":[{\"type\":\"fft\"}]}]}"),
               IOTKIT_ERR_INVALID_ARG);
  char buf[256];
  cr_assert_not_null(strstr(iotkit_device_last_error(fx.dev, buf, sizeof(buf)), "/streams/0/processors/0/type"), "%s", buf);
  cr_assert_eq(iotkit_device_edge_load(fx.dev, "{"), IOTKIT_ERR_BAD_ENCODING);
  cr_assert_eq(iotkit_device_edge_load(NULL, "{}"), IOTKIT_ERR_INVALID_ARG);
  iotkit_edge_stats_t st;
  cr_assert_eq(iotkit_device_edge_stats(NULL, &st), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_device_edge_detector(fx.dev, "none", NULL, NULL), IOTKIT_ERR_NOT_FOUND);
}
