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

/* Two simulators already running 2.0.0: the rollout of 2.0.0 finds them done (no download). */
Test(cli_fleet_control_live, rollout_watch_to_the_end) {
  fleet_live_open(&fx);
  registered("s1", "sim");
  registered("s2", "sim");
  fleet_live_close(&fx);
  char key[400], pub[400], image[400], manifest[400];
  snprintf(key, sizeof key, "%s/k.pem", fx.dir);
  snprintf(pub, sizeof pub, "%s/k.pub", fx.dir);
  snprintf(image, sizeof image, "%s/fw.bin", fx.dir);
  snprintf(manifest, sizeof manifest, "%s/m.json", fx.dir);
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
