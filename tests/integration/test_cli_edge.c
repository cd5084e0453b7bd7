/* `iotkit edge check` and `iotkit edge run`: validation with the field at fault,
   a replayed stream with what would be sent, raised and triggered, and its summary. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_run.h"
#ifdef IOTKIT_WITH_MQTT
#include "mosquitto_server.h"
#endif

#define CLI IOTKIT_BINARY_DIR "/tools/iotkit/iotkit"

static char dir[] = "/tmp/iotkit-cli-edge-XXXXXX";
static cli_result_t r;

static void setup(void) { cr_assert_not_null(mkdtemp(dir)); }
static void teardown(void) {
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  cr_assert_eq(system(cmd), 0);
}
TestSuite(cli_edge, .init = setup, .fini = teardown, .timeout = 60);

static const char *file(const char *name, const char *text) {
  static char path[2][128];
  static int k;
  char *p = path[k++ % 2];
  snprintf(p, 128, "%s/%s", dir, name);
  FILE *f = fopen(p, "w");
  cr_assert_not_null(f);
  fputs(text, f);
  fclose(f);
  return p;
}

#define CONFIG                                                                                                   \
  "{\"streams\":[{\"metric\":\"temp\",\"processors\":[{\"type\":\"deadband\",\"absolute\":0.5},"                  \
  "{\"type\":\"window\",\"points\":3,\"aggregates\":[\"max\"]},{\"type\":\"threshold\",\"name\":\"hot\",\"above\":30}]}]," \
  "\"rules\":[{\"name\":\"overheat\",\"when\":{\"detector\":\"hot\"},\"actions\":[{\"command\":\"cool\"}]}]}"

Test(cli_edge, check_accepts_a_valid_configuration) {
  const char *cfg = file("cfg.json", CONFIG);
  cli_run(CLI, dir, (const char *const[]){"edge", "check", cfg, NULL}, &r);
  cr_assert_eq(r.status, 0, "%s", r.err);
  cr_assert_not_null(strstr(r.out, "valid:"));
}

Test(cli_edge, check_names_the_field_at_fault) {
  const char *cfg = file("bad.json", "{\"streams\":[{\"metric\":\"t\",\"processors\":[{\"type\":\"window\","
                                     "\"points\":3,\"aggregates\":[\"avg\"]}]}]}");
  cli_run(CLI, dir, (const char *const[]){"edge", "check", cfg, NULL}, &r);
  cr_assert_eq(r.status, 1);
  cr_assert_not_null(strstr(r.err, "'/streams/0/processors/0/aggregates/0': unknown aggregate (IOTKIT_ERR_INVALID_ARG)"),
                     "%s", r.err);
}

Test(cli_edge, check_without_a_file_is_a_usage_error) {
  cli_run(CLI, dir, (const char *const[]){"edge", "check", NULL}, &r);
  cr_assert_eq(r.status, 1);
  cli_run(CLI, dir, (const char *const[]){"edge", "check", "/nonexistent/x.json", NULL}, &r);
  cr_assert_eq(r.status, 1);
  cr_assert_not_null(strstr(r.err, "cannot open"));
}

Test(cli_edge, run_replays_and_summarises) {
  const char *cfg = file("cfg.json", CONFIG);
  const char *pts = file("points.jsonl", "{\"name\":\"temp\",\"ts\":1000,\"value\":20}\n"
                                         "{\"name\":\"temp\",\"ts\":2000,\"value\":20.25}\n"
                                         "garbage\n"
                                         "{\"name\":\"temp\",\"ts\":3000,\"value\":31}\n"
                                         "{\"name\":\"hum\",\"ts\":3000,\"value\":50}\n");
  cli_run(CLI, dir, (const char *const[]){"edge", "run", cfg, pts, NULL}, &r);
  cr_assert_eq(r.status, 0, "%s", r.err);
  cr_assert_not_null(strstr(r.out, "send temp 1000 20\n"), "%s", r.out);
  cr_assert_not_null(strstr(r.out, "hold temp 2000 20.25\n"), "%s", r.out);
  cr_assert_not_null(strstr(r.out, "emit temp.max 3000 31\n"), "%s", r.out);
  cr_assert_not_null(strstr(r.out, "detector hot raised temp 3000 31\n"), "%s", r.out);
  cr_assert_not_null(strstr(r.out, "rule overheat command cool {}\n"), "%s", r.out);
  cr_assert_not_null(strstr(r.out, "summary: in 4 sent 3 held 1 saved 25.0% emitted 1 actions 2"), "%s", r.out);
  cr_assert_not_null(strstr(r.out, "bad_lines 1"), "%s", r.out);
  cr_assert_not_null(strstr(r.err, "line 3 skipped: not JSON"), "%s", r.err);
}

Test(cli_edge, run_refuses_a_bad_configuration) {
  const char *cfg = file("bad.json", "{\"rules\":[{\"name\":\"a\",\"when\":{\"rule\":\"a\"},\"actions\":[{\"event\":\"e\"}]}]}");
  const char *pts = file("points.jsonl", "");
  cli_run(CLI, dir, (const char *const[]){"edge", "run", cfg, pts, NULL}, &r);
  cr_assert_eq(r.status, 1);
  cr_assert_not_null(strstr(r.err, "'/rules/0/when': rules form a cycle: a -> a"), "%s", r.err);
}

#ifdef IOTKIT_WITH_MQTT
/* The simulator with an edge configuration, against a real mosquitto: the first reading
   is queued, the next ones stay within the deadband and are held. */
Test(cli_edge, the_simulator_runs_with_an_edge_configuration) {
  mosq_server_t *srv = mosq_server_new();
  cr_assert_not_null(srv);
  cr_assert(mosq_server_start(srv));
  const char *cfg = file("cfg.json", "{\"streams\":[{\"metric\":\"temperature\",\"processors\":[{\"type\":\"deadband\","
                                     "\"absolute\":1000}]},{\"metric\":\"humidity\",\"processors\":[{\"type\":\"deadband\","
                                     "\"absolute\":1000}]}]}");
  char state[160];
  snprintf(state, sizeof(state), "%s/state", dir);
  cli_run(CLI, dir, (const char *const[]){"device", "simulate", "--uri", mosq_server_uri(srv), "--id", "sim-edge",
                                          "--state-dir", state, "--edge", cfg, "--count", "4", "--interval-ms", "10",
                                          NULL}, &r);
  mosq_server_free(srv);
  cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
  cr_assert_not_null(strstr(r.out, "queued seq=1\n"), "%s", r.out);
  int held = 0;
  for (const char *p = r.out; (p = strstr(p, "held by the edge pipeline")) != NULL; p++) held++;
  cr_assert_eq(held, 3, "%s", r.out);
}

Test(cli_edge, the_simulator_refuses_a_bad_edge_configuration) {
  const char *cfg = file("bad.json", "{\"streams\":[{\"metric\":\"temperature\",\"processors\":[{\"type\":\"zz\"}]}]}");
  char state[160];
  snprintf(state, sizeof(state), "%s/state", dir);
  cli_run(CLI, dir, (const char *const[]){"device", "simulate", "--uri", "mqtt://127.0.0.1:1", "--id", "sim-edge",
                                          "--state-dir", state, "--edge", cfg, NULL}, &r);
  cr_assert_eq(r.status, 1);
  cr_assert_not_null(strstr(r.err, "'/streams/0/processors/0/type'"), "%s", r.err);
}
#endif
