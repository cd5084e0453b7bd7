/* OTA end to end, every piece a real process: `iotkit ota sign`, then `iotkit ota push`
   publishing through a real mosquitto to `iotkit device simulate` (its own process, POSIX
   HAL slots), which downloads the image from a real nginx, installs it, reboots (by
   executing itself again), confirms it, and reports; push follows the reports. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cjson/cJSON.h>
#include <iotkit/iotkit.h>

#include "cli_run.h"
#include "hal_tmpdir.h"
#include "mosquitto_server.h"
#include "mqtt_peer.h"
#include "net_util.h"
#include "nginx_server.h"
#include "peer_wait.h"

#define CLI IOTKIT_BINARY_DIR "/tools/iotkit/iotkit"
#define DEV_ID "sim-ota-1"
#define STATUS_TOPIC "iotkit/v1/" DEV_ID "/ota/status"

static char dir[256], key[300], pub[300], key2[300], pub2[300], image_path[300], manifest[300], state[300];
static char dev_log[300], push_log[300];
static mosq_server_t *broker;
static nginx_server_t *web;
static mqtt_peer_t *peer;
static uint8_t *image;
static size_t image_len;
static cli_result_t r;

static void write_file(const char *path, const void *data, size_t len) {
  FILE *f = fopen(path, "wb");
  cr_assert(f);
  cr_assert_eq(fwrite(data, 1, len, f), len);
  cr_assert_eq(fclose(f), 0);
}

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  cr_assert(buf);
  size_t got = fread(buf, 1, (size_t)n, f);
  fclose(f);
  buf[got] = '\0';
  if (len) *len = got;
  return buf;
}

static void iotkit_ok(const char *const *args) {
  cli_run(CLI, dir, args, &r);
  cr_assert_eq(r.status, 0, "iotkit %s %s: %s", args[0], args[1] ? args[1] : "", r.err);
}

/* Start both servers; nginx sends at most @p rate per second, so that a download takes a while. */
static void start(size_t len, const char *rate) {
  hal_tmpdir_make(dir, sizeof dir);
#define P(var, name) snprintf(var, sizeof var, "%s/" name, dir)
  P(key, "k.pem"); P(pub, "k.pub"); P(key2, "k2.pem"); P(pub2, "k2.pub");
  P(image_path, "fw.bin"); P(manifest, "manifest.json"); P(state, "state");
  P(dev_log, "device.log"); P(push_log, "push.log");
#undef P
  const char *k1[] = {"keygen", "--type", "ed25519", "--out", key, "--pub", pub, NULL};
  iotkit_ok(k1);
  const char *k2[] = {"keygen", "--type", "ed25519", "--out", key2, "--pub", pub2, NULL};
  iotkit_ok(k2);
  image_len = len;
  image = malloc(len);
  cr_assert(image);
  uint32_t x = 12345;
  for (size_t i = 0; i < len; i++) image[i] = (uint8_t)((x = x * 1103515245u + 12345u) >> 24);
  write_file(image_path, image, len);
  web = nginx_server_new();
  cr_assert(web);
  char conf[64];
  snprintf(conf, sizeof conf, "limit_rate %s;", rate);
  cr_assert(nginx_server_add_config(web, conf));
  cr_assert(nginx_server_put(web, "fw.bin", image, len));
  cr_assert(nginx_server_start(web));
  broker = mosq_server_new();
  cr_assert(broker);
  cr_assert(mosq_server_start(broker));
  peer = mqtt_peer_new(&(mqtt_peer_opts_t){.port = mosq_server_port(broker), .topic = "iotkit/v1/" DEV_ID "/#", .qos = 1});
  cr_assert(peer);
}

static void stop(void) {
  mqtt_peer_free(peer);
  mosq_server_free(broker);
  if (getenv("IOTKIT_TEST_KEEP")) fprintf(stderr, "kept %s\n", dir);
  nginx_server_free(web);
  free(image);
  if (!getenv("IOTKIT_TEST_KEEP")) hal_tmpdir_remove(dir);
}

TestSuite(ota_e2e, .fini = stop, .timeout = 180);

/* `iotkit ota sign` with @p signing_key into the manifest file. */
static void sign(const char *signing_key, const char *version, const char *key_id) {
  char url[300];
  snprintf(url, sizeof url, "%s%sfw.bin", nginx_server_url(web), NGINX_SERVER_FILES);
  const char *args[] = {"ota", "sign", "--key", signing_key, "--version", version, "--url", url, "--key-id", key_id,
                        image_path, NULL};
  iotkit_ok(args);
  write_file(manifest, r.out, strlen(r.out));
}

/* The simulated device, running firmware 1.0.0 and trusting `pub`; waits until it is online. */
static bool no_confirm;           /* start the device with --no-confirm */
static const char *trial_timeout; /* --trial-timeout, or NULL for the default */

static pid_t device_start(size_t from) {
  char *argv[20] = {CLI, "device", "simulate", "--uri", (char *)mosq_server_uri(broker), "--id", DEV_ID,
                    "--state-dir", state, "--trust-key", pub, "--fw-version", "1.0.0", "--interval-ms", "300",
                    "--reconnect"};
  int n = 16;
  if (no_confirm) argv[n++] = "--no-confirm";
  if (trial_timeout) argv[n++] = "--trial-timeout", argv[n++] = (char *)trial_timeout;
  pid_t pid = test_spawn(argv, dev_log);
  cr_assert(pid > 0);
  cr_assert(peer_wait_for(peer, from, "iotkit/v1/" DEV_ID "/status", "online", 15000, NULL), "device not online");
  return pid;
}

static pid_t push_start(void) {
  char *argv[] = {CLI, "ota", "push", "--uri", (char *)mosq_server_uri(broker), "--id", DEV_ID, "--timeout", "120",
                  manifest, NULL};
  pid_t pid = test_spawn(argv, push_log);
  cr_assert(pid > 0);
  return pid;
}

/* Wait for push to end with @p want, its output naming @p a and @p b (NULL: not checked). */
static void expect_push(pid_t push, int ms, int want, const char *a, const char *b) {
  int code = test_wait_exit(push, ms);
  char *out = read_file(push_log, NULL);
  cr_assert_eq(code, want, "push: %s", out);
  cr_expect(!a || strstr(out, a), "%s", out);
  cr_expect(!b || strstr(out, b), "%s", out);
  free(out);
}

/* The "state" and "bytes" of ota/status report @p i. */
static bool status_at(size_t i, char *state_out, size_t cap, double *bytes) {
  const mqtt_peer_msg_t *m = mqtt_peer_get(peer, i);
  if (!m || strcmp(m->topic, STATUS_TOPIC) != 0) return false;
  cJSON *o = cJSON_Parse(m->payload);
  const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "state"));
  const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, "bytes");
  bool ok = s && cJSON_IsNumber(b);
  if (ok) {
    snprintf(state_out, cap, "%s", s);
    *bytes = b->valuedouble;
  }
  cJSON_Delete(o);
  return ok;
}

/* The slot holding the new image (the active one after the update) has exactly its bytes. */
static void assert_slot_holds_image(void) {
  bool found = false;
  for (int slot = 0; slot < 2 && !found; slot++) {
    char path[400];
    snprintf(path, sizeof path, "%s/slots/slot-%d.bin", state, slot);
    size_t len = 0;
    char *data = read_file(path, &len);
    found = data && len >= image_len && memcmp(data, image, image_len) == 0;
    free(data);
  }
  cr_assert(found, "no slot holds the image");
}

Test(ota_e2e, sign_push_download_install_reboot_confirm) {
  start(512 * 1024, "256k");
  sign(key, "1.1.0", "iotkit");
  pid_t dev = device_start(0);
  pid_t push = push_start();
  expect_push(push, 90000, 0, "update to 1.1.0 confirmed by the device", "downloading");
  /* Progress with bytes between 0 and the size, then pending, then confirmed after the reboot. */
  bool partial = false, pending = false, confirmed = false;
  for (size_t i = 0; i < mqtt_peer_count(peer); i++) {
    char s[32];
    double bytes = 0;
    if (!status_at(i, s, sizeof s, &bytes)) continue;
    if (strcmp(s, "downloading") == 0 && bytes > 0 && bytes < (double)image_len) partial = true;
    if (strcmp(s, "pending") == 0) pending = true;
    if (strcmp(s, "confirmed") == 0) confirmed = pending;
  }
  cr_expect(partial, "no partial progress report");
  cr_expect(confirmed, "no pending then confirmed report");
  test_kill_wait(dev, SIGTERM);
  char *log = read_file(dev_log, NULL);
  cr_expect(strstr(log, "first boot of the new image on trial, firmware 1.1.0"), "%s", log);
  free(log);
  assert_slot_holds_image();
}

/* Push a manifest the device must refuse; push exits 5 with @p error, nothing is downloaded. */
static void push_refused(const char *error) {
  pid_t dev = device_start(0);
  pid_t push = push_start();
  expect_push(push, 60000, 5, "update to 1.1.0 failed", error);
  char needle[80];
  snprintf(needle, sizeof needle, "\"state\":\"failed\"");
  const mqtt_peer_msg_t *m = peer_wait_for(peer, 0, STATUS_TOPIC, needle, 1000, NULL);
  cr_assert(m);
  cr_expect(strstr(m->payload, error), "%s", (char *)m->payload);
  test_kill_wait(dev, SIGTERM);
  cr_expect_eq(nginx_server_requests(web, NULL, 0), 0u, "a refused update downloaded something");
}

Test(ota_e2e, a_manifest_signed_by_an_unknown_key_is_refused_with_its_reason) {
  start(64 * 1024, "10m");
  sign(key, "1.1.0", "rogue");
  push_refused("IOTKIT_ERR_OTA_UNKNOWN_KEY");
}

Test(ota_e2e, a_manifest_signed_by_another_key_under_the_trusted_id_is_refused) {
  start(64 * 1024, "10m");
  sign(key2, "1.1.0", "iotkit");
  push_refused("IOTKIT_ERR_OTA_SIGNATURE");
}

Test(ota_e2e, a_device_killed_mid_download_resumes_with_a_range_request_and_completes) {
  start(768 * 1024, "128k");
  sign(key, "1.2.0", "iotkit");
  pid_t dev = device_start(0);
  pid_t push = push_start();
  /* Wait for a report of some progress, then pull the plug. */
  double seen = 0;
  uint64_t end = test_now_ms() + 60000;
  size_t i = 0;
  while (seen < 128 * 1024 && test_now_ms() < end) {
    char s[32];
    double bytes = 0;
    if (i < mqtt_peer_count(peer)) {
      if (status_at(i, s, sizeof s, &bytes) && strcmp(s, "downloading") == 0) seen = bytes;
      i++;
    } else {
      test_msleep(20);
    }
  }
  cr_assert(seen >= 128 * 1024, "no progress before the kill");
  test_kill_wait(dev, SIGKILL);
  size_t from = mqtt_peer_count(peer);
  dev = device_start(from);
  expect_push(push, 120000, 0, "update to 1.2.0 confirmed by the device", NULL);
  test_kill_wait(dev, SIGTERM);
  nginx_request_t req[16];
  size_t n = nginx_server_requests(web, req, 16);
  bool resumed = false;
  for (size_t k = 0; k < n && k < 16; k++) {
    unsigned long long off = 0;
    if (strcmp(req[k].uri, NGINX_SERVER_FILES "fw.bin") == 0 && sscanf(req[k].range, "bytes=%llu-", &off) == 1 &&
        off > 0) {
      resumed = true;
      cr_expect(req[k].status == 206, "status %d", req[k].status);
      cr_expect(off <= (unsigned long long)seen + 256 * 1024, "resumed at %llu after %.0f bytes were reported", off,
                seen);
    }
  }
  cr_expect(resumed, "no Range request in nginx's log (%zu requests)", n);
  assert_slot_holds_image();
}

Test(ota_e2e, an_image_never_confirmed_is_rolled_back_and_push_reports_it) {
  start(64 * 1024, "10m");
  sign(key, "1.1.0", "iotkit");
  no_confirm = true;
  pid_t dev = device_start(0);
  pid_t push = push_start();
  size_t at = 0;
  cr_assert(peer_wait_for(peer, 0, STATUS_TOPIC, "\"state\":\"trial\"", 30000, &at), "no trial report");
  /* Two more boots without a confirmation spend the bootloader's budget (2 boots). */
  for (int boot = 0; boot < 2; boot++) {
    test_kill_wait(dev, SIGTERM);
    dev = device_start(mqtt_peer_count(peer));
  }
  expect_push(push, 30000, 5, "update to 1.1.0 rolled back", "IOTKIT_ERR_OTA_ROLLED_BACK");
  test_kill_wait(dev, SIGTERM);
  char *log = read_file(dev_log, NULL);
  cr_expect(strstr(log, "rolled back to the confirmed image, firmware 1.0.0"), "%s", log);
  free(log);
}

Test(ota_e2e, an_image_not_confirmed_within_the_trial_time_limit_is_rolled_back_and_the_device_reboots) {
  start(64 * 1024, "10m");
  sign(key, "1.1.0", "iotkit");
  no_confirm = true;
  trial_timeout = "1";
  pid_t dev = device_start(0);
  pid_t push = push_start();
  /* No kill, no restart by the test: the client's time limit rolls back and the simulator reboots itself. */
  expect_push(push, 60000, 5, "update to 1.1.0 rolled back", "IOTKIT_ERR_OTA_TRIAL_TIMEOUT");
  cr_assert(peer_wait_for(peer, 0, STATUS_TOPIC, "\"state\":\"rolled_back\"", 10000, NULL), "no rolled_back report");
  /* Back on the confirmed image after the reboot: online again, running 1.0.0. */
  size_t after = 0;
  cr_assert(peer_wait_for(peer, 0, "iotkit/v1/" DEV_ID "/status", "online", 15000, &after));
  char *log = NULL;
  bool rebooted = false;
  for (int i = 0; i < 100 && !rebooted; i++) {
    free(log);
    log = read_file(dev_log, NULL);
    rebooted = log && strstr(log, "not confirmed in time: rebooting into the confirmed image") &&
               strstr(log, "update to 1.1.0 was rolled back");
    if (!rebooted) test_msleep(100);
  }
  cr_assert(rebooted, "%s", log);
  const char *again = strstr(log, "not confirmed in time");
  cr_expect(strstr(again, "boot: slot 0, confirmed image, firmware 1.0.0"), "%s", log);
  free(log);
  test_kill_wait(dev, SIGTERM);
}
