/* `iotkit telemetry decode` and `iotkit device simulate --state-dir` (durable queue). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <iotkit/iotkit.h>

#include "cli_run.h"

#define CLI IOTKIT_BINARY_DIR "/tools/iotkit/iotkit"

static char dir[] = "/tmp/iotkit-cli-tel-XXXXXX";
static cli_result_t r;

static void setup(void) { cr_assert_not_null(mkdtemp(dir)); }
static void teardown(void) {
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  cr_assert_eq(system(cmd), 0);
}
TestSuite(cli_telemetry, .init = setup, .fini = teardown, .timeout = 60);

/* Run `iotkit telemetry decode ARGS < file` holding @p len bytes of @p in; exit status, output in @p out. */
static int decode(const void *in, size_t len, const char *args, char *out, size_t cap) {
  char path[96], cmd[512];
  snprintf(path, sizeof(path), "%s/in", dir);
  FILE *f = fopen(path, "wb");
  cr_assert_not_null(f);
  cr_assert_eq(fwrite(in, 1, len, f), len);
  fclose(f);
  snprintf(cmd, sizeof(cmd), "'%s' telemetry decode %s < '%s' 2>&1", CLI, args, path);
  FILE *p = popen(cmd, "r");
  cr_assert_not_null(p);
  size_t n = fread(out, 1, cap - 1, p);
  out[n] = '\0';
  int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static iotkit_telemetry_batch_t *sample(void) {
  iotkit_telemetry_batch_t *b = NULL;
  cr_assert_eq(iotkit_telemetry_batch_new(NULL, &b), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_batch_add_double(b, "temperature", "Cel", 1767225600000, 21.5), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_batch_tag(b, "room", "lab"), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_batch_add_bool(b, "door", NULL, 1767225600500, true), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_batch_set_seq(b, 42), IOTKIT_OK);
  return b;
}

static void decodes_in(iotkit_telemetry_format_t f, const char *args) {
  iotkit_telemetry_batch_t *b = sample();
  uint8_t *buf = NULL;
  size_t len = 0;
  cr_assert_eq(iotkit_telemetry_encode(b, f, &buf, &len), IOTKIT_OK);
  char out[4096];
  cr_assert_eq(decode(buf, len, args, out, sizeof(out)), 0, "%s", out);
  cr_assert_not_null(strstr(out, "seq=42, 2 points"), "%s", out);
  cr_assert_not_null(strstr(out, "[0] temperature = 21.5 Cel"), "%s", out);
  cr_assert_not_null(strstr(out, "room=lab"), "%s", out);
  cr_assert_not_null(strstr(out, "[1] door = true"), "%s", out);
  iotkit_free(buf);
  iotkit_telemetry_batch_free(b);
}

Test(cli_telemetry, decode_json) { decodes_in(IOTKIT_TELEMETRY_FORMAT_JSON, ""); }
Test(cli_telemetry, decode_senml_json) { decodes_in(IOTKIT_TELEMETRY_FORMAT_SENML_JSON, "--format senml-json"); }
Test(cli_telemetry, decode_senml_cbor) { decodes_in(IOTKIT_TELEMETRY_FORMAT_SENML_CBOR, "--format senml-cbor"); }

Test(cli_telemetry, decode_rejects_malformed_input) {
  char out[1024];
  cr_assert_eq(decode("{\"ver\":1,", 9, "", out, sizeof(out)), 1);
  cr_assert_not_null(strstr(out, "IOTKIT_ERR_BAD_ENCODING"), "%s", out);
}

Test(cli_telemetry, decode_unknown_format_is_usage_error) {
  char out[1024];
  cr_assert_eq(decode("{}", 2, "--format xml", out, sizeof(out)), 1);
  cr_assert_not_null(strstr(out, "--format"), "%s", out);
}

Test(cli_telemetry, simulate_durable_options_need_state_dir) {
  const char *args[] = {"device", "simulate", "--uri", "loop://local", "--id", "s1", "--drain-rate", "5", NULL};
  cli_run(CLI, dir, args, &r);
  cr_assert_eq(r.status, 1);
  cr_assert_not_null(strstr(r.err, "need --state-dir"), "%s", r.err);
}

Test(cli_telemetry, simulate_durable_numbers_go_on_across_runs) {
  char state[96];
  snprintf(state, sizeof(state), "%s/state", dir);
  const char *args[] = {"device", "simulate", "--uri", "loop://local", "--id", "s1", "--count", "3",
                        "--interval-ms", "0", "--state-dir", state, "--format", "senml-json", NULL};
  cli_run(CLI, dir, args, &r);
  cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
  cr_assert_not_null(strstr(r.out, "queued seq=3\n"), "%s", r.out);
  cr_assert_not_null(strstr(r.out, "telemetry: accepted 3,"), "%s", r.out);
  cr_assert_not_null(strstr(r.out, "pending 0,"), "%s", r.out);
  cr_assert_not_null(strstr(r.out, "sent 3, confirmed 3, failed 0"), "%s", r.out);
  cli_run(CLI, dir, args, &r);
  cr_assert_eq(r.status, 0, "%s\n%s", r.out, r.err);
  unsigned long seq = 0;
  const char *q = strstr(r.out, "queued seq=");
  cr_assert_not_null(q, "%s", r.out);
  cr_assert_eq(sscanf(q, "queued seq=%lu", &seq), 1);
  cr_assert_gt(seq, 3, "a restarted device never reuses a number: %s", r.out);
}
