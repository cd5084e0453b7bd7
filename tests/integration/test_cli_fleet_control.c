// requires: fleet
/* `iotkit fleet cmd | desired | rollout` without a broker: every bad input
   with its exact exit code and message, and the rollout commands that only
   touch the registry database (create, start, pause, resume, cancel, show,
   list). The live ones are in test_cli_fleet_control_live.c. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli_run.h"

#define CLI IOTKIT_BINARY_DIR "/tools/iotkit/iotkit"

static char dir[] = "/tmp/iotkit-cli-fctl-XXXXXX";
static char db[128], key[128], pub[128], pub2[128], image[128], manifest[128];
static cli_result_t r;

#define RUN(...) run((const char *const[]){__VA_ARGS__, NULL})
#define FLEET(...) RUN("fleet", __VA_ARGS__)
static int run(const char *const *args) {
  cli_run(CLI, dir, args, &r);
  return r.status;
}

static void setup(void) {
  cr_assert_not_null(mkdtemp(dir));
  unsetenv("IOTKIT_FLEET_DB");
#define P(var, name) snprintf(var, sizeof var, "%s/" name, dir)
  P(db, "reg.db"); P(key, "k.pem"); P(pub, "k.pub"); P(pub2, "k2.pub"); P(image, "fw.bin"); P(manifest, "m.json");
#undef P
  cr_assert_eq(FLEET("create", "d1", "--db", db, "--type", "sensor"), 0, "%s", r.err);
  cr_assert_eq(FLEET("create", "d2", "--db", db, "--type", "sensor"), 0, "%s", r.err);
  cr_assert_eq(FLEET("create", "d3", "--db", db, "--type", "pump"), 0, "%s", r.err);
  cr_assert_eq(RUN("keygen", "--type", "ed25519", "--out", key, "--pub", pub), 0, "%s", r.err);
  char key2[140];
  snprintf(key2, sizeof key2, "%s/k2.pem", dir);
  cr_assert_eq(RUN("keygen", "--type", "ed25519", "--out", key2, "--pub", pub2), 0, "%s", r.err);
  FILE *f = fopen(image, "wb");
  cr_assert(f);
  for (int i = 0; i < 1000; i++) fputc(i * 7, f);
  fclose(f);
  cr_assert_eq(RUN("ota", "sign", "--key", key, "--version", "2.0.0", "--url", "http://127.0.0.1:1/fw.bin", image),
               0, "%s", r.err);
  f = fopen(manifest, "wb");
  cr_assert(f);
  fputs(r.out, f);
  fclose(f);
}
static void teardown(void) {
  char cmd[160];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  cr_assert_eq(system(cmd), 0);
}
TestSuite(cli_fleet_control, .init = setup, .fini = teardown, .timeout = 60);

#define HINT "Try 'iotkit help'.\n"
#define USAGE_CMD                                                                                                      \
  "iotkit: fleet cmd: usage: fleet cmd <id> <name> [json params] | fleet cmd --type T|--tag T|--all <name> [json "     \
  "params]\n" HINT

/* ---------------------------------------------------------------- cmd -- */

Test(cli_fleet_control, cmd_missing_arguments_are_1) {
  cr_assert_eq(FLEET("cmd"), 1);
  cr_assert_str_eq(r.err, USAGE_CMD);
  cr_assert_eq(FLEET("cmd", "d1"), 1);
  cr_assert_str_eq(r.err, USAGE_CMD);
  cr_assert_eq(FLEET("cmd", "d1", "reboot", "{}", "extra"), 1);
  cr_assert_str_eq(r.err, USAGE_CMD);
}

Test(cli_fleet_control, cmd_bad_json_params_are_1) {
  cr_assert_eq(FLEET("cmd", "d1", "reboot", "{bad", "--uri", "mqtt://127.0.0.1:1"), 1);
  cr_assert_str_eq(r.err, "iotkit: fleet cmd: the params must be a JSON object, not '{bad'\n" HINT);
  cr_assert_eq(FLEET("cmd", "d1", "reboot", "[1]", "--uri", "mqtt://127.0.0.1:1"), 1);
  cr_assert_str_eq(r.err, "iotkit: fleet cmd: the params must be a JSON object, not '[1]'\n" HINT);
}

Test(cli_fleet_control, cmd_bad_id_name_timeout_uri_are_1) {
  cr_assert_eq(FLEET("cmd", "bad id", "reboot"), 1);
  cr_assert_str_eq(r.err, "iotkit: fleet cmd: 'bad id' is not a device id (1..128 of [A-Za-z0-9._-])\n" HINT);
  cr_assert_eq(FLEET("cmd", "d1", "re/boot"), 1);
  cr_assert_str_eq(r.err, "iotkit: fleet cmd: 're/boot' is not a command name (1..64 of [A-Za-z0-9._-])\n" HINT);
  cr_assert_eq(FLEET("cmd", "d1", "reboot", "--timeout", "0"), 1);
  cr_assert_str_eq(r.err, "iotkit: option '--timeout' wants a number from 1 to 86400000, not '0'\n" HINT);
  cr_assert_eq(FLEET("cmd", "d1", "reboot", "--db", db), 1);
  cr_assert_str_eq(r.err, "iotkit: fleet cmd: --uri is required (the broker, e.g. mqtt://127.0.0.1:1883)\n" HINT);
  cr_assert_eq(FLEET("cmd", "d1", "reboot", "--db", db, "--uri", "mqtt://"), 1);
  cr_assert_str_eq(r.err, "iotkit: fleet cmd: bad --uri 'mqtt://'\n" HINT);
  cr_assert_eq(FLEET("cmd", "d1", "reboot", "--db", db, "--uri", "nope://x"), 1);
  cr_assert_str_eq(r.err, "iotkit: fleet cmd: cannot connect to nope://x: cannot use uri nope://x: no transport "
                          "registered for the URI scheme (IOTKIT_ERR_UNKNOWN_SCHEME)\n");
}

Test(cli_fleet_control, cmd_without_a_broker_is_2) {
  int port = 1; /* nothing listens on 127.0.0.1:1 */
  char uri[64];
  snprintf(uri, sizeof uri, "mqtt://127.0.0.1:%d", port);
  cr_assert_eq(FLEET("cmd", "d1", "reboot", "--db", db, "--uri", uri), 2);
  cr_assert(strstr(r.err, "iotkit: fleet cmd: cannot connect to mqtt://127.0.0.1:1: "), "%s", r.err);
  cr_assert(strstr(r.err, "(IOTKIT_ERR_CONNECT)\n"), "%s", r.err);
}

/* ------------------------------------------------------------ desired -- */

#define USAGE_DESIRED                                                                                                  \
  "iotkit: fleet desired: usage: fleet desired <id> [json merge patch] [--uri U] | fleet desired --type T|--tag "     \
  "T|--all <json merge patch> --uri U\n" HINT

Test(cli_fleet_control, desired_bad_inputs) {
  cr_assert_eq(FLEET("desired"), 1);
  cr_assert_str_eq(r.err, USAGE_DESIRED);
  cr_assert_eq(FLEET("desired", "d1", "{x", "--db", db), 1);
  cr_assert_str_eq(r.err, "iotkit: fleet desired: the merge patch must be a JSON object, not '{x'\n" HINT);
  cr_assert_eq(FLEET("desired", "d1", "{}", "--db", db), 1);
  cr_assert_str_eq(r.err, "iotkit: fleet desired: --uri is required (the broker, e.g. mqtt://127.0.0.1:1883)\n" HINT);
  cr_assert_eq(FLEET("desired", "d1", "--db", db), 6);
  cr_assert_str_eq(r.err, "iotkit: fleet desired: no desired state set for 'd1' (IOTKIT_ERR_NOT_FOUND)\n");
}

Test(cli_fleet_control, desired_group_bad_inputs) {
  cr_assert_eq(FLEET("desired", "--all", "--db", db), 1);
  cr_assert_str_eq(r.err, USAGE_DESIRED);
  cr_assert_eq(FLEET("desired", "d1", "{}", "--type", "sensor", "--db", db), 1);
  cr_assert_str_eq(r.err, "iotkit: fleet desired: give device ids or --type/--tag/--all, not both\n" HINT);
  cr_assert_eq(FLEET("desired", "--tag", "t", "{x", "--db", db), 1);
  cr_assert_str_eq(r.err, "iotkit: fleet desired: the merge patch must be a JSON object, not '{x'\n" HINT);
  cr_assert_eq(FLEET("desired", "--type", "sensor", "[1]", "--db", db), 1);
  cr_assert_str_eq(r.err, "iotkit: fleet desired: the merge patch must be a JSON object, not '[1]'\n" HINT);
  cr_assert_eq(FLEET("desired", "--type", "sensor", "{}", "--db", db), 1);
  cr_assert_str_eq(r.err, "iotkit: fleet desired: --uri is required (the broker, e.g. mqtt://127.0.0.1:1883)\n" HINT);
  cr_assert_eq(FLEET("desired", "--all", "{}", "--db", db, "--uri", "mqtt://127.0.0.1:1"), 2);
  cr_assert(strstr(r.err, "iotkit: fleet desired: cannot connect to mqtt://127.0.0.1:1: "), "%s", r.err);
  cr_assert(strstr(r.err, "(IOTKIT_ERR_CONNECT)\n"), "%s", r.err);
  /* Nothing was written by any of them. */
  cr_assert_eq(FLEET("desired", "d1", "--db", db), 6);
  cr_assert_eq(FLEET("desired", "d3", "--db", db), 6);
}

/* ------------------------------------------------------------ rollout -- */

#define CREATE(...) FLEET("rollout", "create", __VA_ARGS__, "--db", db)
#define GROUPS_MSG                                                                                                     \
  "iotkit: fleet rollout create: --groups wants increasing percentages such as 10%%,50%%,100%% or group sizes such as " \
  "5,10,20 (at most 64 groups), not '%s'\n" HINT

Test(cli_fleet_control, rollout_create_missing_arguments_are_1) {
  cr_assert_eq(FLEET("rollout", "create", "--db", db), 1);
  cr_assert_str_eq(r.err, "iotkit: fleet rollout create: the rollout ID is required\n" HINT);
  cr_assert_eq(CREATE("r1", "--trust", pub, "d1"), 1);
  cr_assert_str_eq(r.err,
                   "iotkit: fleet rollout create: --manifest FILE is required (a manifest signed by ota sign)\n" HINT);
  cr_assert_eq(CREATE("r1", "--manifest", manifest, "d1"), 1);
  cr_assert_str_eq(
      r.err, "iotkit: fleet rollout create: --trust PEM is required (the public key manifests are checked with)\n" HINT);
  cr_assert_eq(CREATE("r1", "--manifest", manifest, "--trust", pub), 1);
  cr_assert_str_eq(r.err, "iotkit: fleet rollout create: the devices are required (ids, or --type/--tag/--all)\n" HINT);
  cr_assert_eq(CREATE("r1", "--manifest", manifest, "--trust", pub, "--type", "sensor", "d1"), 1);
  cr_assert_str_eq(r.err, "iotkit: fleet rollout create: give device ids or --type/--tag/--all, not both\n" HINT);
  cr_assert_eq(CREATE("r 1", "--manifest", manifest, "--trust", pub, "d1"), 1);
  cr_assert_str_eq(r.err, "iotkit: fleet rollout create: 'r 1' is not a rollout id (1..128 of [A-Za-z0-9._-])\n" HINT);
}

Test(cli_fleet_control, rollout_bad_group_specs_are_1) {
  const char *bad[] = {"50%,40%", "5,x", "", "10%,", "0", "101%", "10%,20"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cr_assert_eq(CREATE("r1", "--manifest", manifest, "--trust", pub, "--groups", bad[i], "d1"), 1, "%s", bad[i]);
    char want[400];
    snprintf(want, sizeof want, GROUPS_MSG, bad[i]);
    cr_assert_str_eq(r.err, want, "%s", bad[i]);
  }
  cr_assert_eq(CREATE("r1", "--manifest", manifest, "--trust", pub, "--success", "101", "d1"), 1);
  cr_assert_str_eq(r.err, "iotkit: option '--success' wants a number from 0 to 100, not '101'\n" HINT);
}

Test(cli_fleet_control, rollout_unreadable_manifest_or_trust_is_1) {
  char missing[160];
  snprintf(missing, sizeof missing, "%s/none.json", dir);
  cr_assert_eq(CREATE("r1", "--manifest", missing, "--trust", pub, "d1"), 1);
  char want[300];
  snprintf(want, sizeof want, "iotkit: cannot open '%s': No such file or directory\n", missing);
  cr_assert_str_eq(r.err, want);
  cr_assert_eq(CREATE("r1", "--manifest", manifest, "--trust", missing, "d1"), 1);
  snprintf(want, sizeof want, "iotkit: fleet rollout create: cannot open --trust '%s': No such file or directory\n",
           missing);
  cr_assert_str_eq(r.err, want);
}

Test(cli_fleet_control, rollout_unverifiable_manifest_is_4) {
  cr_assert_eq(CREATE("r1", "--manifest", manifest, "--trust", pub2, "d1"), 4);
  cr_assert_str_eq(r.err, "iotkit: fleet rollout create: rollout r1: manifest signed with key id iotkit: OTA manifest "
                          "signature does not verify (IOTKIT_ERR_OTA_SIGNATURE)\n");
  cr_assert_eq(CREATE("r1", "--manifest", image, "--trust", pub, "d1"), 4);
  cr_assert_str_eq(r.err, "iotkit: fleet rollout create: the manifest: malformed OTA manifest (IOTKIT_ERR_OTA_MANIFEST)\n");
  cr_assert_eq(CREATE("r1", "--manifest", manifest, "--trust", pub2, "--key-id", "other", "d1"), 4);
  cr_assert(strstr(r.err, "(IOTKIT_ERR_OTA_UNKNOWN_KEY)\n"), "%s", r.err);
  cr_assert_eq(FLEET("rollout", "list", "--db", db), 0);
  cr_assert_str_eq(r.out, "ID  STATE  VERSION  DEVICES  FINISHED  ERRORS\n"); /* nothing was stored */
}

Test(cli_fleet_control, rollout_unknown_device_is_6_and_busy_is_13) {
  cr_assert_eq(CREATE("r1", "--manifest", manifest, "--trust", pub, "d1", "ghost"), 6);
  cr_assert_str_eq(r.err, "iotkit: fleet rollout create: rollout: device ghost is not registered (IOTKIT_ERR_NOT_FOUND)\n");
  cr_assert_eq(CREATE("r1", "--manifest", manifest, "--trust", pub, "d1"), 0, "%s", r.err);
  cr_assert_eq(CREATE("r1", "--manifest", manifest, "--trust", pub, "d2"), 7);
  cr_assert_str_eq(r.err, "iotkit: fleet rollout create: a rollout r1 exists (IOTKIT_ERR_EXISTS)\n");
  cr_assert_eq(CREATE("r2", "--manifest", manifest, "--trust", pub, "d1", "d2"), 13);
  cr_assert_str_eq(r.err,
                   "iotkit: fleet rollout create: a device is in another rollout that has not ended (IOTKIT_ERR_BUSY)\n");
}

Test(cli_fleet_control, rollout_life_in_the_database) {
  cr_assert_eq(CREATE("r1", "--manifest", manifest, "--trust", pub, "--type", "sensor", "--groups", "50%,100%",
                      "--success", "100", "--error", "0"),
               0, "%s", r.err);
  cr_assert_str_eq(r.out, "rollout r1 created: iotkit-sim 2.0.0 to 2 devices in 2 groups (start it with: fleet "
                          "rollout start r1)\n");
  cr_assert_eq(FLEET("rollout", "show", "r1", "--db", db), 0, "%s", r.err);
  cr_assert_str_eq(r.out,
                   "rollout r1: ready, iotkit-sim 2.0.0, 2 devices, 0 finished, 0 errors, 0 running\n"
                   "  group 1 scheduled [....................] 0/1 finished, 0 errors, 0 running (success 100%, error 0%)\n"
                   "  group 2 scheduled [....................] 0/1 finished, 0 errors, 0 running (success 100%, error 0%)\n");
  cr_assert_eq(FLEET("rollout", "pause", "r1", "--db", db), 13);
  cr_assert_str_eq(r.err, "iotkit: fleet rollout pause: rollout 'r1' is ready (IOTKIT_ERR_STATE)\n");
  cr_assert_eq(FLEET("rollout", "start", "r1", "--db", db), 0, "%s", r.err);
  cr_assert_str_eq(r.out, "rollout r1 started\n");
  cr_assert_eq(FLEET("rollout", "start", "r1", "--db", db), 13);
  cr_assert_str_eq(r.err, "iotkit: fleet rollout start: rollout 'r1' is running (IOTKIT_ERR_STATE)\n");
  cr_assert_eq(FLEET("rollout", "pause", "r1", "--db", db), 0, "%s", r.err);
  cr_assert_eq(FLEET("rollout", "resume", "r1", "--db", db), 0, "%s", r.err);
  cr_assert_eq(FLEET("rollout", "show", "r1", "--db", db, "--json"), 0, "%s", r.err);
  cJSON *o = cJSON_Parse(r.out);
  cr_assert(o, "%s", r.out);
  cr_assert_str_eq(cJSON_GetObjectItem(o, "state")->valuestring, "running");
  cJSON *g = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "groups"), 0);
  cr_assert_str_eq(cJSON_GetObjectItem(g, "state")->valuestring, "running");
  cr_assert_eq(cJSON_GetObjectItem(g, "running")->valuedouble, 1);
  cJSON_Delete(o);
  cr_assert_eq(FLEET("rollout", "cancel", "r1", "--db", db), 0, "%s", r.err);
  cr_assert_eq(FLEET("rollout", "cancel", "r1", "--db", db), 13);
  cr_assert_str_eq(r.err, "iotkit: fleet rollout cancel: rollout 'r1' is canceled (IOTKIT_ERR_STATE)\n");
  cr_assert_eq(FLEET("rollout", "list", "--db", db), 0, "%s", r.err);
  cr_assert_str_eq(r.out, "ID  STATE     VERSION  DEVICES  FINISHED  ERRORS\n"
                          "r1  canceled  2.0.0    2        0         0\n");
}

Test(cli_fleet_control, rollout_unknown_id_is_6) {
  const char *verbs[] = {"start", "pause", "resume", "cancel", "show", "watch"};
  for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
    cr_assert_eq(FLEET("rollout", verbs[i], "nope", "--db", db), 6, "%s", verbs[i]);
    char want[120];
    snprintf(want, sizeof want, "iotkit: fleet rollout %s: no rollout 'nope' (IOTKIT_ERR_NOT_FOUND)\n", verbs[i]);
    cr_assert_str_eq(r.err, want);
  }
  cr_assert_eq(FLEET("rollout", "frob"), 1);
  cr_assert_str_eq(r.err, "iotkit: unknown command 'fleet rollout frob'\n" HINT);
}
