// requires: mqtt fleet http
/* Staged OTA rollouts end to end, every device a real process: 20
 * `iotkit device simulate` processes (POSIX HAL slots, each its own state
 * directory) on a real mosquitto, the image on a real nginx (rate-limited so
 * that a download takes a while), manifests signed by `iotkit ota sign`, and
 * the fleet (its own thread) driving the rollout. Two devices claim another
 * device type, so they refuse the manifest (failed, IOTKIT_ERR_OTA_DEVICE_TYPE).
 *  - thresholds that the two failures pass: the first group's error action
 *    pauses the rollout and no later group is ever sent the manifest;
 *  - cancel, then a second rollout whose thresholds tolerate them: it completes;
 *  - a fleet closed and reopened on its database mid-rollout carries on.
 * The figures (time, counts) are printed. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iotkit/iotkit.h>

#include "cli_run.h"
#include "fleet_live.h"
#include "mqtt_peer.h"
#include "net_util.h"
#include "nginx_server.h"

#define CLI IOTKIT_BINARY_DIR "/tools/iotkit/iotkit"
#define N 20
#define WAIT_MS 90000

static fleet_live_t fx;
static nginx_server_t *web;
static iotkit_ota_trust_t *trust;
static char key[400], pub[400], image_path[400], m2_path[400], m3_path[400];
static char *m2, *m3; /* manifests of 2.0.0 and 3.0.0 */
static pid_t pids[N];
static char ids[N][16];
static const char *id_ptrs[N];
static cli_result_t r;

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  cr_assert(f, "%s", path);
  char *buf = calloc(1, 1 << 16);
  cr_assert(buf);
  size_t n = fread(buf, 1, (1 << 16) - 1, f);
  fclose(f);
  while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) buf[--n] = '\0';
  return buf;
}

static void iotkit_ok(const char *const *args) {
  cli_run(CLI, fx.dir, args, &r);
  cr_assert_eq(r.status, 0, "iotkit %s %s: %s", args[0], args[1] ? args[1] : "", r.err);
}

static char *sign(const char *version, const char *out) {
  char url[300];
  snprintf(url, sizeof url, "%s%sfw.bin", nginx_server_url(web), NGINX_SERVER_FILES);
  const char *args[] = {"ota", "sign", "--key", key, "--version", version, "--url", url, image_path, NULL};
  iotkit_ok(args);
  FILE *f = fopen(out, "wb");
  cr_assert(f);
  fputs(r.out, f);
  fclose(f);
  return slurp(out);
}

/* Broker, nginx (@p rate per second and connection), keys, manifests, the fleet, the registry. */
static void start(const char *rate) {
  fleet_live_setup(&fx, false);
#define P(var, name) snprintf(var, sizeof var, "%s/" name, fx.dir)
  P(key, "k.pem"); P(pub, "k.pub"); P(image_path, "fw.bin"); P(m2_path, "m2.json"); P(m3_path, "m3.json");
#undef P
  const char *kg[] = {"keygen", "--type", "ed25519", "--out", key, "--pub", pub, NULL};
  iotkit_ok(kg);
  size_t len = 48 * 1024;
  uint8_t *image = malloc(len);
  cr_assert(image);
  for (size_t i = 0; i < len; i++) image[i] = (uint8_t)(i * 131u + 7u);
  FILE *f = fopen(image_path, "wb");
  cr_assert(f);
  cr_assert_eq(fwrite(image, 1, len, f), len);
  fclose(f);
  web = nginx_server_new();
  cr_assert(web);
  char conf[64];
  snprintf(conf, sizeof conf, "limit_rate %s;", rate);
  cr_assert(nginx_server_add_config(web, conf));
  cr_assert(nginx_server_put(web, "fw.bin", image, len));
  free(image);
  cr_assert(nginx_server_start(web));
  m2 = sign("2.0.0", m2_path);
  m3 = sign("3.0.0", m3_path);
  char *pem = slurp(pub);
  cr_assert_eq(iotkit_ota_trust_new(&trust), IOTKIT_OK);
  cr_assert_eq(iotkit_ota_trust_add_pem(trust, "iotkit", pem, strlen(pem)), IOTKIT_OK);
  free(pem);
  fleet_live_open(&fx);
  cr_assert_eq(iotkit_fleet_set_ota_trust(fx.fleet, trust), IOTKIT_OK);
  for (int i = 0; i < N; i++) {
    snprintf(ids[i], sizeof ids[i], "sim-%02d", i);
    id_ptrs[i] = ids[i];
    fleet_live_register(&fx, ids[i]);
  }
}

static void stop(void) {
  for (int i = 0; i < N; i++)
    if (pids[i] > 0) test_kill_wait(pids[i], SIGKILL);
  fleet_live_teardown(&fx);
  nginx_server_free(web);
  iotkit_ota_trust_free(trust);
  free(m2);
  free(m3);
}
TestSuite(fleet_rollout_e2e, .fini = stop, .timeout = 280);

/* The 20 simulators, running 1.0.0; those in @p bad claim another device type. */
static void devices(int bad_a, int bad_b) {
  for (int i = 0; i < N; i++) {
    char state[420], log[420];
    snprintf(state, sizeof state, "%s/state-%02d", fx.dir, i);
    snprintf(log, sizeof log, "%s/sim-%02d.log", fx.dir, i);
    bool bad = i == bad_a || i == bad_b;
    char *argv[] = {CLI, "device", "simulate", "--uri", (char *)mosq_server_uri(fx.srv), "--id", ids[i],
                    "--state-dir", state, "--trust-key", pub, "--fw-version", "1.0.0", "--interval-ms", "2000",
                    "--reconnect", "--quiet", "--device-type", bad ? "other-type" : "iotkit-sim", NULL};
    pids[i] = test_spawn(argv, log);
    cr_assert(pids[i] > 0);
  }
  for (int i = 0; i < N; i++) cr_assert(fleet_live_wait_online(&fx, ids[i], true), "%s not online", ids[i]);
}

static iotkit_fleet_group_spec_t groups[3];

static void group(int i, size_t count, unsigned pct, unsigned success, unsigned error) {
  iotkit_fleet_group_spec_init(&groups[i]);
  groups[i].count = count;
  groups[i].percent = pct;
  groups[i].success_pct = success;
  groups[i].error_pct = error;
}

static void create(const char *id, const char *manifest) {
  iotkit_fleet_rollout_spec_t s;
  iotkit_fleet_rollout_spec_init(&s);
  s.id = id;
  s.manifest = manifest;
  s.manifest_len = strlen(manifest);
  s.device_ids = id_ptrs;
  s.device_count = N;
  s.groups = groups;
  s.group_count = 3;
  char why[IOTKIT_ERROR_TEXT_SIZE];
  iotkit_err_t rc = iotkit_fleet_rollout_create(fx.fleet, &s);
  cr_assert_eq(rc, IOTKIT_OK, "%s: %s", iotkit_err_name(rc), iotkit_fleet_last_error(fx.fleet, why, sizeof why));
}

static iotkit_fleet_rollout_info_t *info(const char *id) {
  iotkit_fleet_rollout_info_t *in = NULL;
  cr_assert_eq(iotkit_fleet_rollout_get(fx.fleet, id, &in), IOTKIT_OK);
  return in;
}

/* Wait until @p pred holds of the rollout's info (checked every 50 ms). */
static iotkit_fleet_rollout_info_t *wait_for(const char *id, bool (*pred)(const iotkit_fleet_rollout_info_t *)) {
  uint64_t until = test_now_ms() + WAIT_MS;
  for (;;) {
    iotkit_fleet_rollout_info_t *in = info(id);
    if (pred(in)) return in;
    if (test_now_ms() > until) {
      cr_log_error("rollout %s: %s, groups started %zu, finished %zu, errors %zu, running %zu", id,
                   iotkit_fleet_rollout_state_name(in->state), in->started_groups, in->counts.finished,
                   in->counts.error, in->counts.running);
      iotkit_fleet_rollout_info_free(in);
      cr_assert_fail("rollout %s did not get there", id);
    }
    iotkit_fleet_rollout_info_free(in);
    test_msleep(50);
  }
}

static bool paused(const iotkit_fleet_rollout_info_t *in) { return in->state == IOTKIT_FLEET_ROLLOUT_PAUSED; }
static bool ended(const iotkit_fleet_rollout_info_t *in) { return in->state >= IOTKIT_FLEET_ROLLOUT_FINISHED; }
static bool two_started(const iotkit_fleet_rollout_info_t *in) { return in->started_groups >= 2; }
static bool first_group_done(const iotkit_fleet_rollout_info_t *in) {
  return in->groups[0].counts.finished + in->groups[0].counts.error == in->groups[0].counts.total;
}

/* Devices a retained manifest is now held for (a subscriber's view of the broker). */
static int holders(void) {
  mqtt_peer_t *p = mqtt_peer_new(&(mqtt_peer_opts_t){
      .port = mosq_server_port(fx.srv), .topic = "iotkit/v1/+/ota/manifest", .qos = 1});
  cr_assert(p);
  (void)mqtt_peer_wait(p, N + 1, 1500); /* every retained one arrives at the subscription */
  int n = 0;
  for (size_t i = 0; i < mqtt_peer_count(p); i++) n += mqtt_peer_get(p, i)->retain && mqtt_peer_get(p, i)->len > 0;
  mqtt_peer_free(p);
  return n;
}

static int n_events, n_device_events;
static void on_rollout(iotkit_fleet_t *f, void *user, const iotkit_fleet_rollout_event_t *ev) {
  (void)f, (void)user;
  __atomic_add_fetch(&n_events, 1, __ATOMIC_RELAXED);
  if (ev->device_id) __atomic_add_fetch(&n_device_events, 1, __ATOMIC_RELAXED);
}

Test(fleet_rollout_e2e, error_threshold_pauses_then_a_tolerant_rollout_completes) {
  start("48k");
  devices(1, 2); /* both in the first group */
  cr_assert_eq(iotkit_fleet_on_rollout(fx.fleet, on_rollout, NULL), IOTKIT_OK);

  /* Groups of 4, 8, 8; two errors of four pass an error threshold of 25 %. */
  group(0, 4, 0, 50, 25);
  group(1, 8, 0, 50, 25);
  group(2, 8, 0, 50, 25);
  create("fw-2", m2);
  uint64_t t0 = test_now_ms();
  cr_assert_eq(iotkit_fleet_rollout_start(fx.fleet, "fw-2"), IOTKIT_OK);
  iotkit_fleet_rollout_info_t *in = wait_for("fw-2", paused);
  uint64_t t_pause = test_now_ms() - t0;
  cr_assert_eq(in->error_group, 0);
  cr_assert_eq(in->groups[0].state, IOTKIT_FLEET_GROUP_ERROR);
  cr_assert_eq(in->started_groups, 1);
  cr_assert_eq(in->groups[1].counts.pending, 8);
  cr_assert_eq(in->groups[2].counts.pending, 8);
  cr_assert_geq(in->groups[0].counts.error, 2);
  iotkit_fleet_rollout_info_free(in);
  iotkit_fleet_rollout_device_t t;
  cr_assert_eq(iotkit_fleet_rollout_target(fx.fleet, "fw-2", "sim-01", &t), IOTKIT_OK);
  cr_assert_eq(t.state, IOTKIT_FLEET_TARGET_ERROR);
  cr_assert_str_eq(t.error, "IOTKIT_ERR_OTA_DEVICE_TYPE");
  /* Paused: the two good devices of the first group still finish, and nothing more starts. */
  in = wait_for("fw-2", first_group_done);
  cr_assert_eq(in->state, IOTKIT_FLEET_ROLLOUT_PAUSED);
  cr_assert_eq(in->groups[0].counts.finished, 2);
  cr_assert_eq(in->started_groups, 1);
  iotkit_fleet_rollout_info_free(in);
  cr_assert_eq(holders(), 4, "only the first group was ever sent the manifest");
  fprintf(stderr, "rollout fw-2 (20 devices, groups 4/8/8, error threshold 25 %%): paused after %llu ms by group 0 "
                  "(2 of 4 errors); 2 finished, 16 never sent\n", (unsigned long long)t_pause);

  /* Cancel: the failed devices' retained manifest is cleared; the finished ones keep theirs. */
  cr_assert_eq(iotkit_fleet_rollout_cancel(fx.fleet, "fw-2"), IOTKIT_OK);
  test_msleep(300); /* the fleet's thread publishes the clearing */
  cr_assert_eq(holders(), 2);

  /* The same devices, thresholds that tolerate two errors of four (50 % is not > 50 %). */
  group(0, 0, 20, 50, 50);
  group(1, 0, 40, 50, 50);
  group(2, 0, 40, 50, 50);
  create("fw-3", m3);
  n_device_events = 0;
  t0 = test_now_ms();
  cr_assert_eq(iotkit_fleet_rollout_start(fx.fleet, "fw-3"), IOTKIT_OK);
  in = wait_for("fw-3", ended);
  uint64_t t_done = test_now_ms() - t0;
  cr_assert_eq(in->state, IOTKIT_FLEET_ROLLOUT_FINISHED, "%s: %s", iotkit_fleet_rollout_state_name(in->state),
               in->reason);
  cr_assert_eq(in->counts.finished, 18);
  cr_assert_eq(in->counts.error, 2);
  cr_assert_eq(in->groups[0].counts.total, 4);
  cr_assert_eq(in->groups[1].counts.total, 8);
  cr_assert_eq(in->groups[2].counts.total, 8);
  for (int g = 0; g < 3; g++) cr_assert_eq(in->groups[g].state, IOTKIT_FLEET_GROUP_SUCCESS);
  iotkit_fleet_rollout_info_free(in);
  cr_assert_gt(__atomic_load_n(&n_device_events, __ATOMIC_RELAXED), 18, "progress callbacks");
  fprintf(stderr, "rollout fw-3 (20 devices, groups 20/40/40 %%, thresholds 50/50): finished in %llu ms: 18 "
                  "finished, 2 errors; %d device events\n", (unsigned long long)t_done, n_device_events);
}

Test(fleet_rollout_e2e, a_fleet_reopened_mid_rollout_carries_on) {
  start("24k"); /* a download takes about 2 s */
  devices(-1, -1);
  group(0, 4, 0, 100, 0);
  group(1, 8, 0, 100, 0);
  group(2, 8, 0, 100, 0);
  create("fw-2", m2);
  uint64_t t0 = test_now_ms();
  cr_assert_eq(iotkit_fleet_rollout_start(fx.fleet, "fw-2"), IOTKIT_OK);
  iotkit_fleet_rollout_info_free(wait_for("fw-2", two_started));
  /* Down while the second group downloads (about 2 s), installs, reboots and confirms: the
     reports of that are lost (ota/status is not retained), so the reopened fleet learns them by
     publishing the manifest again, which devices done with it answer with their status. */
  fleet_live_close(&fx);
  uint64_t t_down = test_now_ms();
  test_msleep(5000);
  fleet_live_open(&fx);
  uint64_t down_ms = test_now_ms() - t_down;
  iotkit_fleet_rollout_info_t *in = info("fw-2");
  cr_assert_eq(in->state, IOTKIT_FLEET_ROLLOUT_RUNNING);
  cr_assert_geq(in->started_groups, 2);
  cr_assert_eq(in->groups[0].counts.finished, 4, "the first group's results were persisted");
  size_t missed = in->groups[1].counts.running;
  iotkit_fleet_rollout_info_free(in);
  in = wait_for("fw-2", ended);
  uint64_t t_done = test_now_ms() - t0;
  cr_assert_eq(in->state, IOTKIT_FLEET_ROLLOUT_FINISHED);
  cr_assert_eq(in->counts.finished, N);
  iotkit_fleet_rollout_info_free(in);
  cr_assert_eq(holders(), N);
  fprintf(stderr, "rollout fw-2 (20 devices, 4/8/8, success 100 %%): fleet down %llu ms mid-rollout (%zu devices of "
                  "group 1 still running in its database), finished in %llu ms\n",
          (unsigned long long)down_ms, missed, (unsigned long long)t_done);
}

/* Has the broker a retained manifest for @p id? (@p p subscribed to every device's ota/manifest) */
static bool sent_to(mqtt_peer_t *p, const char *id) {
  char topic[64];
  snprintf(topic, sizeof topic, "iotkit/v1/%s/ota/manifest", id);
  for (size_t i = 0; i < mqtt_peer_count(p); i++)
    if (strcmp(mqtt_peer_get(p, i)->topic, topic) == 0 && mqtt_peer_get(p, i)->len > 0) return true;
  return false;
}

Test(fleet_rollout_e2e, a_fleet_process_killed_mid_rollout_is_resumed_by_the_next) {
  start("24k");
  devices(-1, -1);
  /* The rollout runs in another process (tests/helpers/fleet_peer.c) on the same database. */
  fleet_live_close(&fx);
  mqtt_peer_t *watch = mqtt_peer_new(&(mqtt_peer_opts_t){
      .port = mosq_server_port(fx.srv), .topic = "iotkit/v1/+/ota/manifest", .qos = 1});
  cr_assert(watch);
  char groups_arg[] = "4,8,8", log[420];
  snprintf(log, sizeof log, "%s/fleet_peer.log", fx.dir);
  char *argv[] = {IOTKIT_BINARY_DIR "/tests/fleet_peer", "rollout", fx.db, (char *)mosq_server_uri(fx.srv), pub,
                  m2_path, "fw-2", groups_arg, NULL};
  uint64_t t0 = test_now_ms();
  pid_t peer = test_spawn(argv, log);
  cr_assert(peer > 0);
  /* SIGKILL as soon as the second group is sent the manifest: its devices are downloading. */
  uint64_t until = t0 + WAIT_MS;
  while (!sent_to(watch, ids[4]) && test_now_ms() < until && !test_exited(peer)) test_msleep(5);
  if (!sent_to(watch, ids[4])) {
    char text[4096] = "";
    FILE *lf = fopen(log, "r");
    if (lf) text[fread(text, 1, sizeof text - 1, lf)] = '\0';
    if (lf) fclose(lf);
    cr_assert_fail("the second group never started; the peer said: %s", text);
  }
  test_kill_wait(peer, SIGKILL);
  mqtt_peer_free(watch);
  uint64_t t_kill = test_now_ms() - t0;
  fleet_live_open(&fx);
  iotkit_fleet_rollout_info_t *in = info("fw-2");
  size_t persisted_started = in->started_groups, persisted_finished = in->counts.finished;
  cr_assert_eq(in->group_count, 3);
  cr_assert_neq(in->state, IOTKIT_FLEET_ROLLOUT_READY, "the start was written");
  iotkit_fleet_rollout_info_free(in);
  in = wait_for("fw-2", ended);
  uint64_t t_done = test_now_ms() - t0;
  cr_assert_eq(in->state, IOTKIT_FLEET_ROLLOUT_FINISHED, "%s", in->reason);
  cr_assert_eq(in->counts.finished, N);
  iotkit_fleet_rollout_info_free(in);
  fprintf(stderr, "rollout fw-2 (20 devices, 4/8/8, success 100 %%): fleet process SIGKILLed at %llu ms (the "
                  "database then held %zu groups started, %zu finished), finished by the next one at %llu ms\n",
          (unsigned long long)t_kill, persisted_started, persisted_finished, (unsigned long long)t_done);
}
