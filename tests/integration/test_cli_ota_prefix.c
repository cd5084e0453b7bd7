// requires: mqtt
/* `iotkit ota push --prefix`: the manifest goes out on <prefix>/<id>/ota/manifest and
   the reports are followed on <prefix>/<id>/ota/status, against a real mosquitto; an
   MQTT peer plays the device. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iotkit/iotkit.h>

#include "cli_run.h"
#include "hal_tmpdir.h"
#include "mosquitto_server.h"
#include "mqtt_peer.h"
#include "net_util.h"
#include "peer_wait.h"

#define CLI IOTKIT_BINARY_DIR "/tools/iotkit/iotkit"
#define DEV_ID "dev-7"

static char dir[256], key[300], pub[300], image[300], manifest[300], push_log[300];
static cli_result_t r;
static mosq_server_t *broker;
static mqtt_peer_t *peer;

static void write_file(const char *path, const void *data, size_t len) {
  FILE *f = fopen(path, "wb");
  cr_assert(f);
  cr_assert_eq(fwrite(data, 1, len, f), len);
  cr_assert_eq(fclose(f), 0);
}

static void iotkit_ok(const char *const *args) {
  cli_run(CLI, dir, args, &r);
  cr_assert_eq(r.status, 0, "iotkit %s %s: %s", args[0], args[1], r.err);
}

static void setup(void) {
  hal_tmpdir_make(dir, sizeof dir);
  snprintf(key, sizeof key, "%s/k.pem", dir);
  snprintf(pub, sizeof pub, "%s/k.pub", dir);
  snprintf(image, sizeof image, "%s/fw.bin", dir);
  snprintf(manifest, sizeof manifest, "%s/manifest.json", dir);
  snprintf(push_log, sizeof push_log, "%s/push.log", dir);
  const char *kg[] = {"keygen", "--type", "ed25519", "--out", key, "--pub", pub, NULL};
  iotkit_ok(kg);
  write_file(image, "firmware", 8);
  const char *sign[] = {"ota", "sign", "--key", key, "--version", "2.0.0", "--url", "http://127.0.0.1:9/fw.bin",
                        image, NULL};
  iotkit_ok(sign);
  write_file(manifest, r.out, strlen(r.out));
  broker = mosq_server_new();
  cr_assert(broker);
  cr_assert(mosq_server_start(broker));
  peer = mqtt_peer_new(&(mqtt_peer_opts_t){.port = mosq_server_port(broker), .topic = "#", .qos = 1});
  cr_assert(peer);
}

static void teardown(void) {
  mqtt_peer_free(peer);
  mosq_server_free(broker);
  hal_tmpdir_remove(dir);
}

TestSuite(cli_ota_prefix, .init = setup, .fini = teardown, .timeout = 60);

static pid_t push_start(const char *prefix) {
  char *argv[] = {CLI, "ota", "push", "--uri", (char *)mosq_server_uri(broker), "--id", DEV_ID, "--timeout", "30",
                  "--prefix", (char *)prefix, manifest, NULL};
  pid_t pid = test_spawn(argv, push_log);
  cr_assert(pid > 0);
  return pid;
}

static char *read_log(void) {
  FILE *f = fopen(push_log, "rb");
  cr_assert(f);
  static char buf[8192];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  return buf;
}

Test(cli_ota_prefix, push_publishes_and_follows_on_the_prefix) {
  pid_t push = push_start("acme/v2");
  size_t at = 0;
  const mqtt_peer_msg_t *m = peer_wait_for(peer, 0, "acme/v2/" DEV_ID "/ota/manifest", "\"version\":\"2.0.0\"", 15000, &at);
  cr_assert_not_null(m, "no manifest on acme/v2/" DEV_ID "/ota/manifest");
  cr_assert_eq(m->qos, 1);
  char *text = NULL;
  size_t len = 0;
  FILE *f = fopen(manifest, "rb");
  cr_assert(f);
  text = malloc(4096);
  len = fread(text, 1, 4096, f);
  fclose(f);
  while (len && (text[len - 1] == '\n' || text[len - 1] == '\r')) len--; /* push sends the JSON without the line end */
  cr_assert_eq(m->len, len);
  cr_assert_eq(memcmp(m->payload, text, len), 0);
  free(text);
  /* The device's report on the same prefix ends the push. */
  const char *report = "{\"state\":\"confirmed\",\"bytes\":8,\"total\":8,\"percent\":100,\"error\":null,\"reason\":null,"
                       "\"running_version\":\"2.0.0\",\"target_version\":\"2.0.0\"}";
  cr_assert(mqtt_peer_publish(peer, "acme/v2/" DEV_ID "/ota/status", report, strlen(report), 1, false));
  cr_assert_eq(test_wait_exit(push, 20000), 0, "push: %s", read_log());
  cr_expect(strstr(read_log(), "update to 2.0.0 confirmed by the device"), "%s", read_log());
  cr_expect(strstr(read_log(), "acme/v2/" DEV_ID "/ota/manifest"), "%s", read_log());
  /* Nothing went to the default prefix. */
  for (size_t i = 0; i < mqtt_peer_count(peer); i++)
    cr_assert_neq(strncmp(mqtt_peer_get(peer, i)->topic, "iotkit/v1/", 10), 0, "%s", mqtt_peer_get(peer, i)->topic);
  /* The manifest is retained: a late subscriber gets it. */
  mqtt_peer_t *late = mqtt_peer_new(
      &(mqtt_peer_opts_t){.port = mosq_server_port(broker), .topic = "acme/v2/+/ota/manifest", .qos = 1});
  cr_assert(late);
  cr_assert(mqtt_peer_wait(late, 1, 5000));
  cr_assert(mqtt_peer_get(late, 0)->retain);
  mqtt_peer_free(late);
}

Test(cli_ota_prefix, a_report_on_the_default_prefix_is_not_followed) {
  pid_t push = push_start("acme/v2");
  cr_assert_not_null(peer_wait_for(peer, 0, "acme/v2/" DEV_ID "/ota/manifest", NULL, 15000, NULL));
  const char *report = "{\"state\":\"confirmed\",\"bytes\":8,\"total\":8,\"percent\":100,\"error\":null,\"reason\":null,"
                       "\"running_version\":\"2.0.0\",\"target_version\":\"2.0.0\"}";
  cr_assert(mqtt_peer_publish(peer, "iotkit/v1/" DEV_ID "/ota/status", report, strlen(report), 1, false));
  const char *failed = "{\"state\":\"failed\",\"bytes\":0,\"total\":8,\"percent\":0,\"error\":\"IOTKIT_ERR_OTA_HASH\","
                       "\"reason\":\"bad\",\"running_version\":\"1.0.0\",\"target_version\":\"2.0.0\"}";
  cr_assert(mqtt_peer_publish(peer, "acme/v2/" DEV_ID "/ota/status", failed, strlen(failed), 1, false));
  /* The first report it saw on its prefix is the failure: exit 5, not 0. */
  cr_assert_eq(test_wait_exit(push, 20000), 5, "push: %s", read_log());
  cr_expect(strstr(read_log(), "IOTKIT_ERR_OTA_HASH"), "%s", read_log());
}

Test(cli_ota_prefix, default_prefix_when_none_given) {
  char *argv[] = {CLI, "ota", "push", "--uri", (char *)mosq_server_uri(broker), "--id", DEV_ID, "--timeout", "1",
                  manifest, NULL};
  pid_t push = test_spawn(argv, push_log);
  cr_assert(push > 0);
  cr_assert_not_null(peer_wait_for(peer, 0, IOTKIT_TOPIC_PREFIX_DEFAULT "/" DEV_ID "/ota/manifest", NULL, 15000, NULL));
  cr_assert_eq(test_wait_exit(push, 20000), 3, "push: %s", read_log()); /* no report within 1 s */
}

Test(cli_ota_prefix, bad_prefix_is_a_usage_error) {
  const char *bad[] = {"", "/acme", "acme/", "acme//v2", "acme/+", "acme/#", "a/../b"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    const char *args[] = {"ota", "push", "--uri", mosq_server_uri(broker), "--id", DEV_ID, "--prefix", bad[i],
                          manifest, NULL};
    cli_run(CLI, dir, args, &r);
    cr_assert_eq(r.status, 1, "--prefix '%s': %d %s", bad[i], r.status, r.err);
    cr_assert(strstr(r.err, "--prefix"), "%s", r.err);
  }
  cr_assert_eq(mqtt_peer_count(peer), 0);
}
