// requires: coap mqtt http
/* OTA through iotkit-hub: a device with an OTA client attached, on coap:// or http:// to the
 * hub, gets the manifest a peer publishes on MQTT (retained, or while it is connected), runs
 * it (the image comes from an in-memory fetcher) and its ota/status reports reach MQTT. All
 * of it real processes: mosquitto, the hub, the device's CoAP or HTTP backend. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_fixture.h"
#include "hub_fixture.h"
#include "net_util.h"
#include "ota_fixture.h"
#include "peer_wait.h"

#define HUB_BIN IOTKIT_BINARY_DIR "/tools/iotkit-hub/iotkit-hub"
#define IMAGE_LEN 20000u
#define URL "https://updates.example.com/fw.bin"
#define T1(suffix) "iotkit/v1/sensor-1/" suffix
#define T2(suffix) "iotkit/v1/sensor-2/" suffix
#define WAIT_MS 10000u

static hub_fixture_t fx;
static device_fixture_t dfx;
static iotkit_key_t *key;
static iotkit_ota_trust_t *trust;
static iotkit_ota_t *ota;
static uint8_t *image;
static ota_fx_server_t server;
static iotkit_device_t *dev;

static void setup(void) {
  hub_fixture_init(&fx, HUB_BIN);
  cr_assert(hub_srv_enable_http(fx.hub, false));
  cr_assert(hub_srv_add_config(fx.hub, "log_level = debug")); /* its "held" lines tell a long poll waits */
  hub_fixture_start(&fx);
  device_fixture_init(&dfx, NULL);
  dfx.cfg.device_id = "sensor-1";
  ota_fx_trust(dfx.hal, &key, &trust);
  image = ota_fx_image(IMAGE_LEN, 3);
  server = (ota_fx_server_t){.data = image, .len = IMAGE_LEN};
  iotkit_ota_config_t oc;
  ota_fx_config(&oc, dfx.hal, trust, OTA_FX_OLD_VERSION, &server);
  cr_assert_eq(iotkit_ota_new(&oc, &ota), IOTKIT_OK);
}

static void teardown(void) {
  iotkit_device_free(dev); /* the device first: the client must outlive it */
  dev = NULL;
  iotkit_ota_free(ota);
  iotkit_ota_trust_free(trust);
  iotkit_key_free(key);
  free(image);
  device_fixture_fini(&dfx);
  hub_fixture_fini(&fx);
}

TestSuite(hub_ota, .init = setup, .fini = teardown, .timeout = 120);

static char *manifest(const char *version) {
  return ota_fx_manifest(key, OTA_FX_KEY_ID, OTA_FX_DEVICE_TYPE, version, image, IMAGE_LEN, URL);
}

static void publish(const char *topic, const char *doc, bool retain) {
  cr_assert(mqtt_peer_publish(fx.peer, topic, doc, strlen(doc), 1, retain));
}

/* sensor-1 with the OTA client attached, connected to the hub over @p scheme ("coap" or "http"). */
static void connect_device(const char *scheme) {
  bool http = strcmp(scheme, "http") == 0;
  dfx.cfg.uri = http ? hub_srv_http_uri(fx.hub) : hub_srv_coap_uri(fx.hub);
  if (http) dfx.cfg.password = HUB_FX_KEY1_HEX; /* the hub's token of sensor-1 */
  cr_assert_eq(iotkit_device_new(&dfx.cfg, &dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_ota_attach(dev, ota), IOTKIT_OK);
  char why[IOTKIT_ERROR_TEXT_SIZE];
  iotkit_err_t rc = iotkit_device_connect(dev);
  cr_assert_eq(rc, IOTKIT_OK, "connect: %s: %s", iotkit_err_name(rc), iotkit_device_last_error(dev, why, sizeof why));
}

static const char *log_needle;
static bool hub_logged(void *arg) {
  (void)arg;
  return hub_srv_log_contains(fx.hub, log_needle);
}

/* Poll the device until the hub's log has @p needle. */
static void wait_hub_log(const char *needle) {
  log_needle = needle;
  cr_assert(device_fixture_wait(&dfx, dev, hub_logged, NULL, WAIT_MS), "no '%s' in %s", needle,
            hub_srv_log_path(fx.hub));
}

/* The hub has the device's observation / long poll of ota/manifest, with nothing to give yet. */
static void wait_manifest_registered(const char *scheme) {
  wait_hub_log(strcmp(scheme, "http") == 0 ? "): GET ota/manifest held until something comes"
                                           : "): ota/manifest -> device (0 bytes)");
}

/* The hub's log line of a manifest of @p len bytes handed to the device over @p scheme. */
static bool hub_served(const char *scheme, size_t len) {
  char needle[96];
  snprintf(needle, sizeof needle, "ota/manifest -> device%s (%zu bytes)", strcmp(scheme, "http") == 0 ? " over HTTP" : "",
           len);
  return hub_srv_log_contains(fx.hub, needle);
}

static struct {
  size_t from;
  const char *needle;
  const mqtt_peer_msg_t *found;
} status_wait;

static bool status_seen(void *arg) {
  (void)arg;
  status_wait.found = peer_wait_for(fx.peer, status_wait.from, T1("ota/status"), status_wait.needle, 0, NULL);
  return status_wait.found != NULL;
}

/* Poll the device (its reports go out in the poll) until an ota/status report from peer
   message @p from contains @p needle; that report, or NULL. */
static const mqtt_peer_msg_t *wait_status(size_t from, const char *needle) {
  status_wait.from = from;
  status_wait.needle = needle;
  status_wait.found = NULL;
  (void)device_fixture_wait(&dfx, dev, status_seen, NULL, WAIT_MS);
  return status_wait.found;
}

static const char *want_version;
static bool ota_targets(void *arg) {
  (void)arg;
  iotkit_ota_status_t st;
  return iotkit_ota_status(ota, &st) == IOTKIT_OK && st.state != IOTKIT_OTA_IDLE &&
         strcmp(st.target_version, want_version) == 0;
}

/* Poll until the client took the manifest of @p version (it is downloading it). */
static void wait_offered(const char *version) {
  want_version = version;
  cr_assert(device_fixture_wait(&dfx, dev, ota_targets, NULL, WAIT_MS), "no manifest %s reached the client (see %s)",
            version, hub_srv_log_path(fx.hub));
  iotkit_ota_status_t st;
  cr_assert_eq(iotkit_ota_status(ota, &st), IOTKIT_OK);
  cr_assert_eq(st.state, IOTKIT_OTA_DOWNLOADING, "%s", iotkit_ota_state_name(st.state));
}

/* Download and verify; the pending report for @p version reaches MQTT through the hub. */
static void run_to_pending(const char *version) {
  size_t from = mqtt_peer_count(fx.peer);
  cr_assert_eq(iotkit_device_ota_run(dev), IOTKIT_OK);
  iotkit_ota_status_t st;
  cr_assert_eq(iotkit_ota_status(ota, &st), IOTKIT_OK);
  cr_assert_eq(st.state, IOTKIT_OTA_PENDING, "%s", iotkit_ota_state_name(st.state));
  const mqtt_peer_msg_t *m = wait_status(from, "\"state\":\"pending\"");
  cr_assert_not_null(m, "no pending report on MQTT (see %s)", hub_srv_log_path(fx.hub));
  char want[64];
  snprintf(want, sizeof want, "\"target_version\":\"%s\"", version);
  cr_assert(strstr((const char *)m->payload, want), "%s", (const char *)m->payload);
  cr_assert_eq(m->retain, false);
}

static void retained_manifest_reaches_the_device(const char *scheme) {
  char *m = manifest("1.1.0");
  publish(T1("ota/manifest"), m, true);
  cr_assert_not_null(hub_fixture_wait_topic(&fx, T1("ota/manifest"), 0));
  connect_device(scheme);
  /* The idle report of the new session first, through the hub. */
  cr_assert_not_null(wait_status(0, "\"state\":\"idle\""), "see %s", hub_srv_log_path(fx.hub));
  wait_offered("1.1.0");
  run_to_pending("1.1.0");
  iotkit_free(m);
}

Test(hub_ota, coap_device_gets_the_retained_manifest_and_its_status_reaches_mqtt) {
  retained_manifest_reaches_the_device("coap");
}

Test(hub_ota, http_device_gets_the_retained_manifest_and_its_status_reaches_mqtt) {
  retained_manifest_reaches_the_device("http");
}

static void manifest_while_connected_arrives(const char *scheme) {
  connect_device(scheme);
  wait_manifest_registered(scheme);
  char *m = manifest("1.2.0");
  publish(T1("ota/manifest"), m, true);
  wait_offered("1.2.0");
  run_to_pending("1.2.0");
  iotkit_free(m);
}

Test(hub_ota, coap_device_gets_a_manifest_published_while_it_is_connected) {
  manifest_while_connected_arrives("coap");
}

Test(hub_ota, http_device_gets_a_manifest_published_while_it_is_connected) {
  manifest_while_connected_arrives("http");
}

/* sensor-2's manifest, retained before sensor-1 connects and published again while it is
   connected, never reaches sensor-1, whose own manifest then does. */
static void other_devices_manifest_is_not_delivered(const char *scheme) {
  char *other = manifest("9.9.9-other"); /* longer than the own one: the hub's log tells them apart */
  char *own = manifest("1.3.0");
  cr_assert_neq(strlen(other), strlen(own));
  publish(T2("ota/manifest"), other, true);
  cr_assert_not_null(hub_fixture_wait_topic(&fx, T2("ota/manifest"), 0));
  connect_device(scheme);
  wait_manifest_registered(scheme);
  publish(T2("ota/manifest"), other, true);
  cr_assert_not_null(hub_fixture_wait_topic(&fx, T2("ota/manifest"), 1));
  publish(T1("ota/manifest"), own, true);
  wait_offered("1.3.0");
  cr_assert(hub_served(scheme, strlen(own)), "see %s", hub_srv_log_path(fx.hub));
  cr_assert_not(hub_served(scheme, strlen(other)), "see %s", hub_srv_log_path(fx.hub));
  iotkit_free(own);
  iotkit_free(other);
}

Test(hub_ota, coap_device_does_not_get_another_devices_manifest) { other_devices_manifest_is_not_delivered("coap"); }

Test(hub_ota, http_device_does_not_get_another_devices_manifest) { other_devices_manifest_is_not_delivered("http"); }

/* An oversize manifest on MQTT (8 KiB + 1) is dropped by the hub and the valid one retained
   before it forgotten: the device connecting afterwards gets nothing, the next valid one it does. */
static void oversize_manifest_is_dropped(const char *scheme) {
  char *first = manifest("1.4.0");
  publish(T1("ota/manifest"), first, true);
  size_t big_len = 8193;
  char *big = malloc(big_len + 1);
  cr_assert_not_null(big);
  memset(big, ' ', big_len);
  memcpy(big, first, strlen(first)); /* a valid manifest padded with white space */
  big[big_len] = '\0';
  publish(T1("ota/manifest"), big, true);
  /* Before the device connects, so that it cannot see the first one in between. */
  log_needle = "device sensor-1: ota/manifest from MQTT of 8193 bytes is larger than 8192 bytes: dropped "
               "(and the one kept before forgotten)";
  cr_assert(device_fixture_wait(&dfx, NULL, hub_logged, NULL, WAIT_MS), "see %s", hub_srv_log_path(fx.hub));
  connect_device(scheme);
  wait_manifest_registered(scheme);
  iotkit_ota_status_t st;
  cr_assert_eq(iotkit_ota_status(ota, &st), IOTKIT_OK);
  cr_assert_eq(st.state, IOTKIT_OTA_IDLE, "%s", iotkit_ota_state_name(st.state));
  char *next = manifest("1.5.0");
  publish(T1("ota/manifest"), next, true);
  wait_offered("1.5.0");
  iotkit_free(next);
  free(big);
  iotkit_free(first);
}

Test(hub_ota, coap_oversize_manifest_is_dropped_by_the_hub) { oversize_manifest_is_dropped("coap"); }

Test(hub_ota, http_oversize_manifest_is_dropped_by_the_hub) { oversize_manifest_is_dropped("http"); }
