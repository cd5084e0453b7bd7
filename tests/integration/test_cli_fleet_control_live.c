// requires: mqtt fleet
/* `iotkit fleet cmd | desired | rollout watch` against a real mosquitto with
   real device handles answering: a result, a device's error (exit 10), a
   timeout (11), an offline device (12), an unknown one (6), a group by type;
   desired state set (versions 1, 2) and read back; a rollout driven by
   `rollout watch` to the end with simulated devices. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli_run.h"
#include "fleet_live.h"
#include "net_util.h"

#define CLI IOTKIT_BINARY_DIR "/tools/iotkit/iotkit"

static fleet_live_t fx;
static cli_result_t r;
static char uri[96];
static pid_t sims[2];

static void setup(void) {
  fleet_live_setup(&fx, false);
  snprintf(uri, sizeof uri, "%s", mosq_server_uri(fx.srv));
}
static void teardown(void) {
  for (int i = 0; i < 2; i++)
    if (sims[i] > 0) test_kill_wait(sims[i], SIGKILL);
  fleet_live_teardown(&fx);
}
TestSuite(cli_fleet_control_live, .init = setup, .fini = teardown, .timeout = 120);

#define RUN(...) run((const char *const[]){__VA_ARGS__, NULL})
#define FLEET(...) RUN("fleet", __VA_ARGS__, "--db", fx.db)
static int run(const char *const *args) {
  cli_run(CLI, fx.dir, args, &r);
  return r.status;
}

static void echo(iotkit_device_t *dev, void *user, const char *rid, const char *name, const char *params,
                 iotkit_command_t *cmd) {
  (void)dev, (void)user, (void)rid, (void)name;
  cr_assert_eq(iotkit_command_complete(cmd, params), IOTKIT_OK);
}
static void refuse(iotkit_device_t *dev, void *user, const char *rid, const char *name, const char *params,
                   iotkit_command_t *cmd) {
  (void)dev, (void)user, (void)rid, (void)name, (void)params;
  cr_assert_eq(iotkit_command_fail(cmd, "invalid_params", "interval_ms out of range"), IOTKIT_OK);
}
static void ignore(iotkit_device_t *dev, void *user, const char *rid, const char *name, const char *params,
                   iotkit_command_t *cmd) {
  (void)dev, (void)user, (void)rid, (void)name, (void)params, (void)cmd; /* never answered */
}

static void registered(const char *id, const char *type) {
  iotkit_fleet_device_spec_t spec;
  iotkit_fleet_device_spec_init(&spec);
  spec.id = id;
  spec.type = type;
  cr_assert_eq(iotkit_fleet_device_create(fx.fleet, &spec), IOTKIT_OK);
}

/* d1, d2 (type "sensor") online with the handlers; "ghost" registered, never connected. The test's fleet is
   closed after, so that the CLI is the only fleet on the database. */
static void devices(void) {
  fleet_live_open(&fx);
  const char *ids[] = {"d1", "d2"};
  for (int i = 0; i < 2; i++) {
    registered(ids[i], "sensor");
    iotkit_device_t *d = fleet_live_device(&fx, ids[i]);
    cr_assert_eq(iotkit_device_command_register(d, "set_interval", echo, NULL), IOTKIT_OK);
    cr_assert_eq(iotkit_device_command_register(d, "refuse", refuse, NULL), IOTKIT_OK);
    cr_assert_eq(iotkit_device_command_register(d, "ignore", ignore, NULL), IOTKIT_OK);
    cr_assert(fleet_live_wait_online(&fx, ids[i], true));
  }
  registered("ghost", "pump");
  fleet_live_close(&fx);
}

Test(cli_fleet_control_live, cmd_single_device) {
  devices();
  cr_assert_eq(FLEET("cmd", "d1", "set_interval", "{\"interval_ms\":500}", "--uri", uri), 0, "%s", r.err);
  cr_assert_str_eq(r.out, "{\"interval_ms\":500}\n");
  cr_assert_eq(FLEET("cmd", "d1", "set_interval", "{\"a\":1}", "--uri", uri, "--json"), 0, "%s", r.err);
  cJSON *o = cJSON_Parse(r.out);
  cr_assert(o, "%s", r.out);
  cr_assert_str_eq(cJSON_GetObjectItem(o, "status")->valuestring, "ok");
  cr_assert_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "result"), "a")->valuedouble, 1);
  cJSON_Delete(o);

  cr_assert_eq(FLEET("cmd", "d1", "refuse", "--uri", uri), 10);
  cr_assert_str_eq(r.err, "iotkit: fleet cmd: device 'd1' answered error invalid_params: interval_ms out of range\n");
  cr_assert_eq(FLEET("cmd", "d1", "no_such_command", "--uri", uri), 10);
  cr_assert(strstr(r.err, "iotkit: fleet cmd: device 'd1' answered error unknown_command: "), "%s", r.err);
  cr_assert_eq(FLEET("cmd", "d1", "ignore", "--uri", uri, "--timeout", "300"), 11);
  cr_assert_str_eq(r.err, "iotkit: fleet cmd: device 'd1' did not answer within 300 ms (IOTKIT_ERR_TIMEOUT)\n");
  cr_assert_eq(FLEET("cmd", "ghost", "set_interval", "--uri", uri), 12);
  cr_assert_str_eq(r.err, "iotkit: fleet cmd: device 'ghost' is offline; nothing was sent (IOTKIT_ERR_OFFLINE)\n");
  cr_assert_eq(FLEET("cmd", "nobody", "set_interval", "--uri", uri), 6);
  cr_assert_str_eq(r.err, "iotkit: fleet cmd: no device 'nobody' in the registry (IOTKIT_ERR_NOT_FOUND)\n");
}

Test(cli_fleet_control_live, cmd_group) {
  devices();
  cr_assert_eq(FLEET("cmd", "--type", "sensor", "set_interval", "{\"x\":2}", "--uri", uri), 0, "%s", r.err);
  cr_assert_str_eq(r.out, "d1 ok {\"x\":2}\nd2 ok {\"x\":2}\n");
  cr_assert_eq(FLEET("cmd", "--all", "refuse", "--uri", uri), 10);
  cr_assert_str_eq(r.out, "d1 error invalid_params: interval_ms out of range\n"
                          "d2 error invalid_params: interval_ms out of range\n"
                          "ghost offline (IOTKIT_ERR_OFFLINE)\n");
  cr_assert_eq(FLEET("cmd", "--type", "nothing", "set_interval", "--uri", uri), 0, "%s", r.err);
  cr_assert_str_eq(r.out, "no device matches\n");
}

Test(cli_fleet_control_live, desired_set_and_get) {
  devices();
  cr_assert_eq(FLEET("desired", "d1", "{\"mode\":\"eco\",\"level\":3}", "--uri", uri), 0, "%s", r.err);
  cr_assert_str_eq(r.out, "version 1\n");
  cr_assert_eq(FLEET("desired", "d1", "{\"level\":null}", "--uri", uri), 0, "%s", r.err);
  cr_assert_str_eq(r.out, "version 2\n");
  cr_assert_eq(FLEET("desired", "d1"), 0, "%s", r.err);
  cr_assert_str_eq(r.out, "version 2\nstate {\"mode\":\"eco\"}\n");
  cr_assert_eq(FLEET("desired", "nobody", "{}", "--uri", uri), 6);
  cr_assert_str_eq(r.err, "iotkit: fleet desired: no device 'nobody' in the registry (IOTKIT_ERR_NOT_FOUND)\n");
}

/* A filter's patch reaches exactly the devices it matches, each with its own version. */
Test(cli_fleet_control_live, desired_group) {
  devices();
  cr_assert_eq(FLEET("desired", "d2", "{\"mode\":\"eco\"}", "--uri", uri), 0, "%s", r.err);
  cr_assert_eq(FLEET("desired", "--type", "sensor", "{\"level\":3}", "--uri", uri), 0, "%s", r.err);
  cr_assert_str_eq(r.out, "d1 ok version 1\nd2 ok version 2\n");
  cr_assert_eq(FLEET("desired", "d2"), 0, "%s", r.err);
  cr_assert_str_eq(r.out, "version 2\nstate {\"mode\":\"eco\",\"level\":3}\n");
  cr_assert_eq(FLEET("desired", "ghost"), 6); /* a pump: not in the group */
  cr_assert_eq(FLEET("desired", "--all", "{\"level\":null}", "--uri", uri, "--json"), 0, "%s", r.err);
  cJSON *a = cJSON_Parse(r.out);
  cr_assert(cJSON_IsArray(a) && cJSON_GetArraySize(a) == 3, "%s", r.out);
  const char *ids[] = {"d1", "d2", "ghost"};
  const double versions[] = {2, 3, 1};
  for (int i = 0; i < 3; i++) {
    cJSON *o = cJSON_GetArrayItem(a, i);
    cr_assert_str_eq(cJSON_GetObjectItem(o, "id")->valuestring, ids[i]);
    cr_assert_str_eq(cJSON_GetObjectItem(o, "status")->valuestring, "ok");
    cr_assert_eq(cJSON_GetObjectItem(o, "version")->valuedouble, versions[i]);
  }
  cJSON_Delete(a);
  cr_assert_eq(FLEET("desired", "ghost"), 0, "%s", r.err);
  cr_assert_str_eq(r.out, "version 1\nstate {}\n");
  cr_assert_eq(FLEET("desired", "--tag", "no-such-tag", "{\"x\":1}", "--uri", uri), 0, "%s", r.err);
  cr_assert_str_eq(r.out, "no device matches\n");
}

/* A signed manifest of 2.0.0 in the test's directory; @p pub receives the trust key's path. */
static void sign_manifest(char *pub, char *manifest, size_t cap) {
  char key[400], image[400];
  snprintf(key, sizeof key, "%s/k.pem", fx.dir);
  snprintf(pub, cap, "%s/k.pub", fx.dir);
  snprintf(image, sizeof image, "%s/fw.bin", fx.dir);
  snprintf(manifest, cap, "%s/m.json", fx.dir);
  cr_assert_eq(RUN("keygen", "--type", "ed25519", "--out", key, "--pub", pub), 0, "%s", r.err);
  FILE *f = fopen(image, "wb");
  cr_assert(f);
  fputs("firmware", f);
  fclose(f);
  cr_assert_eq(RUN("ota", "sign", "--key", key, "--version", "2.0.0", "--url", "http://127.0.0.1:1/fw.bin", image), 0);
  f = fopen(manifest, "wb");
  cr_assert(f);
  fputs(r.out, f);
  fclose(f);
}

/* Two simulators already running 2.0.0: the rollout of 2.0.0 finds them done (no download). */
Test(cli_fleet_control_live, rollout_watch_to_the_end) {
  fleet_live_open(&fx);
  registered("s1", "sim");
  registered("s2", "sim");
  fleet_live_close(&fx);
  char pub[400], manifest[400];
  sign_manifest(pub, manifest, sizeof pub);
  const char *ids[] = {"s1", "s2"};
  for (int i = 0; i < 2; i++) {
    char state[420], log[420];
    snprintf(state, sizeof state, "%s/state-%d", fx.dir, i);
    snprintf(log, sizeof log, "%s/sim-%d.log", fx.dir, i);
    char *argv[] = {CLI, "device", "simulate", "--uri", uri, "--id", (char *)ids[i], "--state-dir", state,
                    "--trust-key", pub, "--fw-version", "2.0.0", "--interval-ms", "2000", "--reconnect", "--quiet",
                    NULL};
    sims[i] = test_spawn(argv, log);
    cr_assert(sims[i] > 0);
  }
  cr_assert_eq(FLEET("rollout", "create", "r1", "--manifest", manifest, "--trust", pub, "--groups", "1,1", "s1", "s2"),
               0, "%s", r.err);
  cr_assert_eq(FLEET("rollout", "start", "r1"), 0, "%s", r.err);
  cr_assert_eq(FLEET("rollout", "watch", "r1", "--uri", uri), 0, "%s\n%s", r.out, r.err);
  cr_assert(strstr(r.out, "rollout r1: running, iotkit-sim 2.0.0, 2 devices"), "%s", r.out);
  cr_assert(strstr(r.out, " device s1 finished"), "%s", r.out);
  cr_assert(strstr(r.out, " device s2 finished"), "%s", r.out);
  cr_assert(strstr(r.out, "rollout r1: finished, iotkit-sim 2.0.0, 2 devices, 2 finished, 0 errors, 0 running\n"
                          "  group 1 success   [####################] 1/1 finished"),
            "%s", r.out);
  cr_assert_eq(FLEET("rollout", "show", "r1"), 0);
  cr_assert(strstr(r.out, "rollout r1: finished"), "%s", r.out);
}

/* Wait (at most 30 s) until the file @p path holds @p text after @p after (NULL: anywhere); its
   text in @p buf either way. */
static bool wait_text_after(const char *path, const char *after, const char *text, char *buf, size_t cap) {
  for (int i = 0; i < 600; i++) {
    cli_slurp(path, buf, cap);
    const char *from = after ? strstr(buf, after) : buf;
    if (from && strstr(from, text)) return true;
    test_msleep(50);
  }
  return false;
}
#define wait_text(path, text, buf, cap) wait_text_after((path), NULL, (text), (buf), (cap))

/* A watch sees what a second process does to its rollout: a pause is shown and the watch goes
   on (a resume would be seen too); a cancel ends it with exit 5, the manifests cleared. */
Test(cli_fleet_control_live, rollout_watch_sees_another_process) {
  fleet_live_open(&fx);
  registered("q1", "sim");
  registered("q2", "sim");
  fleet_live_close(&fx);
  char pub[400], manifest[400], out[400], err[400];
  sign_manifest(pub, manifest, sizeof pub);
  snprintf(out, sizeof out, "%s/watch.out", fx.dir);
  snprintf(err, sizeof err, "%s/watch.err", fx.dir);
  /* q1 and q2 never connect: the rollout runs until someone stops it. */
  cr_assert_eq(FLEET("rollout", "create", "r2", "--manifest", manifest, "--trust", pub, "q1", "q2"), 0, "%s", r.err);
  cr_assert_eq(FLEET("rollout", "start", "r2"), 0, "%s", r.err);
  pid_t watch = cli_spawn(CLI, (const char *const[]){"fleet", "rollout", "watch", "r2", "--uri", uri, "--plain",
                                                      "--db", fx.db, NULL},
                          out, err);
  static char text[16384];
  cr_assert(wait_text(out, "rollout r2: running", text, sizeof text), "%s", text);

  cr_assert_eq(FLEET("rollout", "pause", "r2"), 0, "%s", r.err);
  cr_assert(wait_text(out, " rollout paused\n", text, sizeof text), "%s", text);
  cr_assert_not(test_exited(watch), "a pause by a call does not end the watch:\n%s", text);
  cr_assert_eq(FLEET("rollout", "resume", "r2"), 0, "%s", r.err);
  cr_assert(wait_text_after(out, " rollout paused\n", " rollout running\n", text, sizeof text), "%s", text);

  cr_assert_eq(FLEET("rollout", "cancel", "r2"), 0, "%s", r.err);
  cr_assert_eq(test_wait_exit(watch, 30000), 5);
  cli_slurp(out, text, sizeof text);
  cr_assert(strstr(text, "rollout r2: canceled, iotkit-sim 2.0.0, 2 devices, 0 finished, 0 errors, 0 running\n"),
            "%s", text);
  cr_assert_eq(FLEET("rollout", "show", "r2"), 0, "%s", r.err);
  cr_assert(strstr(r.out, "rollout r2: canceled"), "%s", r.out);
}
