// requires: mqtt
/* The `iotkit` command-line tool, run as a user would run it. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <iotkit/iotkit.h>

#include "mosquitto_server.h"
#include "mqtt_peer.h"

#define CLI IOTKIT_BINARY_DIR "/tools/iotkit/iotkit"

static char dir[] = "/tmp/iotkit-cli-XXXXXX";
static char out_path[64], err_path[64];
static char out[16384], err[16384];

static void setup(void) {
  cr_assert_not_null(mkdtemp(dir));
  snprintf(out_path, sizeof(out_path), "%s/stdout", dir);
  snprintf(err_path, sizeof(err_path), "%s/stderr", dir);
}

static void teardown(void) {
  unlink(out_path);
  unlink(err_path);
  rmdir(dir);
}
TestSuite(cli, .init = setup, .fini = teardown, .timeout = 60);

static void slurp(const char *path, char *buf, size_t cap) {
  buf[0] = '\0';
  FILE *f = fopen(path, "r");
  if (!f) return;
  size_t n = fread(buf, 1, cap - 1, f);
  buf[n] = '\0';
  fclose(f);
}

/* Start the CLI with the NULL-terminated @p args, its output going to the out/err files. */
static pid_t spawn(const char *const *args) {
  pid_t pid = fork();
  cr_assert_neq(pid, -1);
  if (pid == 0) {
    int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0) _exit(127);
    char *argv[32] = {(char *)CLI};
    for (int i = 0; args[i] && i < 30; i++) argv[i + 1] = (char *)args[i];
    execv(CLI, argv);
    _exit(127);
  }
  return pid;
}

/* Wait for the CLI, read its output into out/err and return its exit code. */
static int finish(pid_t pid) {
  int status = 0;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  slurp(out_path, out, sizeof(out));
  slurp(err_path, err, sizeof(err));
  cr_assert(WIFEXITED(status), "the CLI did not exit normally (stderr: %s)", err);
  return WEXITSTATUS(status);
}

static int run(const char *const *args) { return finish(spawn(args)); }

Test(cli, version_prints_the_library_version) {
  const char *args[] = {"version", NULL};
  cr_assert_eq(run(args), 0, "stderr: %s", err);
  char want[64];
  snprintf(want, sizeof(want), "iotkit %s\n", iotkit_version());
  cr_assert_str_eq(out, want);
}

Test(cli, help_documents_exit_codes) {
  const char *args[] = {"help", NULL};
  cr_assert_eq(run(args), 0);
  cr_assert_not_null(strstr(out, "device simulate"));
  cr_assert_not_null(strstr(out, "Exit codes"));
  cr_assert_not_null(strstr(out, "--state-dir"));
}

Test(cli, no_command_is_usage_error) {
  const char *args[] = {NULL};
  cr_assert_eq(run(args), 1);
  cr_assert_not_null(strstr(err, "missing command"));
}

Test(cli, unknown_command_is_usage_error) {
  const char *args[] = {"frobnicate", NULL};
  cr_assert_eq(run(args), 1);
  cr_assert_not_null(strstr(err, "unknown command 'frobnicate'"));
}

Test(cli, simulate_without_uri_is_usage_error) {
  const char *args[] = {"device", "simulate", "--id", "d1", NULL};
  cr_assert_eq(run(args), 1);
  cr_assert_not_null(strstr(err, "--uri is required"));
}

Test(cli, simulate_unknown_option_is_usage_error) {
  const char *args[] = {"device", "simulate", "--uri", "mqtt://127.0.0.1:1", "--id", "d1", "--colour", "red", NULL};
  cr_assert_eq(run(args), 1);
  cr_assert_not_null(strstr(err, "unknown option '--colour'"));
}

Test(cli, simulate_bad_qos_is_usage_error) {
  const char *args[] = {"device", "simulate", "--uri", "mqtt://127.0.0.1:1", "--id", "d1", "--qos", "3", NULL};
  cr_assert_eq(run(args), 1);
  cr_assert_not_null(strstr(err, "--qos"));
}

Test(cli, simulate_bad_device_id_is_usage_error) {
  const char *args[] = {"device", "simulate", "--uri", "mqtt://127.0.0.1:1", "--id", "a/b", NULL};
  cr_assert_eq(run(args), 1);
  cr_assert_not_null(strstr(err, "IOTKIT_ERR_INVALID_ARG"));
}

Test(cli, simulate_broker_not_listening_exits_2) {
  mosq_server_t *srv = mosq_server_new(); /* a free port, nothing started on it */
  cr_assert_not_null(srv);
  char port[16];
  snprintf(port, sizeof(port), ":%u", (unsigned)mosq_server_port(srv));
  const char *args[] = {"device", "simulate", "--uri", mosq_server_uri(srv), "--id", "d1", "--count", "1", NULL};
  cr_assert_eq(run(args), 2, "stderr: %s", err);
  cr_assert_not_null(strstr(err, "cannot connect to 127.0.0.1"), "stderr: %s", err);
  cr_assert_not_null(strstr(err, port), "stderr: %s", err);
  cr_assert_not_null(strstr(err, "(IOTKIT_ERR_CONNECT)"), "stderr: %s", err);
  mosq_server_free(srv);
}

/* Count the valid readings among the messages received. */
static bool valid_reading(const char *payload, size_t len, int *seq) {
  cJSON *o = cJSON_ParseWithLength(payload, len);
  if (!o) return false;
  const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "seq");
  const cJSON *ts = cJSON_GetObjectItemCaseSensitive(o, "ts");
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "temperature");
  const cJSON *h = cJSON_GetObjectItemCaseSensitive(o, "humidity");
  bool ok = cJSON_IsNumber(s) && cJSON_IsNumber(ts) && ts->valuedouble > 1.6e12 && cJSON_IsNumber(t) &&
            t->valuedouble > -40 && t->valuedouble < 85 && cJSON_IsNumber(h) && h->valuedouble >= 0 &&
            h->valuedouble <= 100;
  if (ok) *seq = s->valueint;
  cJSON_Delete(o);
  return ok;
}

static mosq_server_t *started_broker(void) {
  mosq_server_t *srv = mosq_server_new();
  cr_assert_not_null(srv);
  cr_assert(mosq_server_start(srv));
  return srv;
}

/* An independent client subscribed to every device's channels. */
static mqtt_peer_t *telemetry_subscriber(const mosq_server_t *srv) {
  mqtt_peer_t *peer = mqtt_peer_new(&(mqtt_peer_opts_t){.port = mosq_server_port(srv), .topic = "iotkit/v1/+/telemetry", .qos = 1});
  cr_assert_not_null(peer);
  return peer;
}

Test(cli, simulate_publishes_five_json_readings) {
  mosq_server_t *srv = started_broker();
  mqtt_peer_t *peer = telemetry_subscriber(srv);

  const char *args[] = {"device", "simulate", "--uri", mosq_server_uri(srv), "--id", "cli-sensor-7",
                        "--count", "5", "--interval-ms", "20", NULL};
  cr_assert_eq(run(args), 0, "stdout: %s\nstderr: %s", out, err);
  cr_assert_not_null(strstr(out, "sent 5, confirmed 5, failed 0"), "stdout: %s", out);

  cr_assert(mqtt_peer_wait(peer, 5, 10000), "the subscriber saw %zu messages", mqtt_peer_count(peer));
  cr_assert_eq(mqtt_peer_count(peer), 5);
  for (size_t i = 0; i < 5; i++) {
    const mqtt_peer_msg_t *m = mqtt_peer_get(peer, i);
    cr_assert_str_eq(m->topic, "iotkit/v1/cli-sensor-7/telemetry");
    int seq = 0;
    cr_assert(valid_reading(m->payload, m->len, &seq), "not a reading: %s", (const char *)m->payload);
    cr_assert_eq(seq, (int)i + 1);
    /* What the CLI printed is what was published. */
    cr_assert_not_null(strstr(out, (const char *)m->payload), "payload %s not in stdout", (const char *)m->payload);
  }
  mqtt_peer_free(peer);
  mosq_server_free(srv);
}

Test(cli, simulate_quiet_prints_only_the_summary) {
  mosq_server_t *srv = started_broker();
  const char *args[] = {"device", "simulate", "--uri", mosq_server_uri(srv), "--id", "q1", "--count", "2",
                        "--interval-ms", "0", "--quiet", NULL};
  cr_assert_eq(run(args), 0, "stderr: %s", err);
  cr_assert_str_eq(out, "sent 2, confirmed 2, failed 0\n");
  mosq_server_free(srv);
}

Test(cli, simulate_with_state_dir) {
  char state[96];
  snprintf(state, sizeof(state), "%s/state", dir);
  const char *args[] = {"device", "simulate", "--uri", "loop://local", "--id", "s1", "--count", "3",
                        "--interval-ms", "0", "--state-dir", state, NULL};
  cr_assert_eq(run(args), 0, "stderr: %s", err);
  cr_assert_not_null(strstr(out, "sent 3, confirmed 3, failed 0"), "stdout: %s", out);
  cr_assert_eq(access(state, F_OK), 0, "the POSIX HAL did not use the state dir");
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state);
  cr_assert_eq(system(cmd), 0);
}

Test(cli, simulate_unusable_state_dir_is_usage_error) {
  const char *args[] = {"device", "simulate", "--uri", "loop://local", "--id", "s1", "--state-dir",
                        "/proc/self/no/such/dir", NULL};
  cr_assert_eq(run(args), 1);
  cr_assert_not_null(strstr(err, "IOTKIT_ERR_IO"), "stderr: %s", err);
}

Test(cli, simulate_stops_cleanly_on_sigterm) {
  mosq_server_t *srv = started_broker();
  mqtt_peer_t *peer = telemetry_subscriber(srv);
  const char *args[] = {"device", "simulate", "--uri", mosq_server_uri(srv), "--id", "forever", "--interval-ms", "50",
                        NULL};
  pid_t pid = spawn(args);
  /* It runs until told to stop: let it publish a few readings first. */
  bool some = mqtt_peer_wait(peer, 3, 10000);
  kill(pid, SIGTERM);
  cr_assert_eq(finish(pid), 0, "stderr: %s", err); /* exited, not killed by the signal */
  cr_assert(some, "no readings before SIGTERM (stderr: %s)", err);
  cr_assert_not_null(strstr(out, "sent "), "no summary: %s", out);
  mqtt_peer_free(peer);
  mosq_server_free(srv);
}

Test(cli, simulate_broker_crash_exits_3) {
  mosq_server_t *srv = started_broker();
  mqtt_peer_t *peer = telemetry_subscriber(srv);
  const char *args[] = {"device", "simulate", "--uri", mosq_server_uri(srv), "--id", "crash", "--count", "100000",
                        "--interval-ms", "20", NULL};
  pid_t pid = spawn(args);
  bool some = mqtt_peer_wait(peer, 3, 10000);
  mqtt_peer_free(peer);
  cr_assert(mosq_server_kill(srv));
  cr_assert_eq(finish(pid), 3, "stdout: %s\nstderr: %s", out, err);
  cr_assert(some);
  cr_assert_not_null(strstr(err, "connection lost"), "stderr: %s", err);
  mosq_server_free(srv);
}
