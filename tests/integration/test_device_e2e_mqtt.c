/* End-to-end payload protection against a real mosquitto on 127.0.0.1: an
   independent libmosquitto client sees only envelopes, opens them with the
   fleet side's handle, seals desired state and commands to the device, and
   sends it tampered envelopes, which the device drops and counts. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_fixture.h"
#include "mosquitto_server.h"
#include "mqtt_peer.h"
#include "peer_wait.h"

#define BASE "iotkit/v1/edev/"
#define T(suffix) BASE suffix
#define WAIT_MS 10000

/* The GCM specification's test case 15 key, as in the envelope unit tests. */
static const uint8_t KEY[32] = {0xfe, 0xff, 0xe9, 0x92, 0x86, 0x65, 0x73, 0x1c, 0x6d, 0x6a, 0x8f,
                                0x94, 0x67, 0x30, 0x83, 0x08, 0xfe, 0xff, 0xe9, 0x92, 0x86, 0x65,
                                0x73, 0x1c, 0x6d, 0x6a, 0x8f, 0x94, 0x67, 0x30, 0x83, 0x08};
static const uint8_t OTHER_KEY[32] = {1, 2, 3};
static const char TELEMETRY[] = "{\"temperature\":21.53,\"secret_marker\":\"plain-telemetry\"}";

static device_fixture_t fx;
static mosq_server_t *srv;
static iotkit_device_t *dev;
static mqtt_peer_t *peer;
static iotkit_hal_t *fleet_hal;  /* the fleet side's own nonce store */
static iotkit_envelope_t *fleet; /* sender 1, key "k1", device "edev" */

static iotkit_envelope_t *fleet_handle(const uint8_t *key, const char *kid, const char *device_id) {
  iotkit_envelope_config_t ec;
  iotkit_envelope_config_init(&ec);
  ec.key = key;
  ec.key_id = kid;
  ec.device_id = device_id;
  ec.hal = fleet_hal;
  ec.sender = 1;
  iotkit_envelope_t *env = NULL;
  cr_assert_eq(iotkit_envelope_new(&ec, &env), IOTKIT_OK);
  return env;
}

static void setup(void) {
  srv = mosq_server_new();
  cr_assert_not_null(srv);
  cr_assert(mosq_server_start(srv));
  device_fixture_init(&fx, mosq_server_uri(srv));
  fx.cfg.device_id = "edev";
  fx.cfg.e2e_key = KEY;
  fx.cfg.e2e_key_id = "k1";
  cr_assert_eq(iotkit_hal_memory_new(NULL, &fleet_hal), IOTKIT_OK);
  fleet = fleet_handle(KEY, "k1", "edev");
}

static void teardown(void) {
  iotkit_device_free(dev);
  dev = NULL;
  mqtt_peer_free(peer);
  peer = NULL;
  iotkit_envelope_free(fleet);
  iotkit_hal_free(fleet_hal);
  device_fixture_fini(&fx);
  mosq_server_free(srv);
}
TestSuite(device_e2e_mqtt, .init = setup, .fini = teardown, .timeout = 60);

static struct {
  atomic_int calls;
  char delta[256];
} desired;

static void on_desired(iotkit_device_t *d, void *user, const char *delta, uint64_t version) {
  (void)user, (void)version;
  snprintf(desired.delta, sizeof(desired.delta), "%s", delta);
  iotkit_device_report(d, delta); /* the application acknowledges by reporting what it applied */
  atomic_fetch_add(&desired.calls, 1);
}

static void ping(iotkit_device_t *d, void *user, const char *id, const char *name, const char *params,
                 iotkit_command_t *cmd) {
  (void)d, (void)user, (void)id, (void)name, (void)params;
  iotkit_command_complete(cmd, "{\"pong\":true}");
}

static bool online(void *arg) { return iotkit_device_is_connected(arg); }
static bool desired_called(void *arg) { return atomic_load(&desired.calls) >= *(int *)arg; }
static bool rejected_at_least(void *arg) { return iotkit_device_e2e_rejected(dev) >= *(uint64_t *)arg; }

static void running_device(void) {
  memset(&desired, 0, sizeof(desired));
  cr_assert_eq(iotkit_device_new(&fx.cfg, &dev), IOTKIT_OK);
  iotkit_device_on_desired(dev, on_desired, NULL);
  iotkit_device_command_register(dev, "ping", ping, NULL);
  cr_assert_eq(iotkit_device_report(dev, "{\"fw\":\"plain-reported\"}"), IOTKIT_OK);
  peer = mqtt_peer_new(&(mqtt_peer_opts_t){.port = mosq_server_port(srv), .topic = "iotkit/v1/#", .qos = 1});
  cr_assert_not_null(peer);
  cr_assert_eq(iotkit_device_start(dev), IOTKIT_OK);
  cr_assert(device_fixture_wait(&fx, NULL, online, dev, WAIT_MS));
  cr_assert_not_null(peer_wait_for(peer, 0, T("status"), "online", WAIT_MS, NULL));
}

/* Open the envelope @p m with the fleet handle; returns the NUL-terminated payload (malloc'd). */
static char *fleet_open(const mqtt_peer_msg_t *m) {
  cr_assert(strncmp(m->topic, BASE, strlen(BASE)) == 0);
  char *pt = calloc(1, m->len + 1);
  size_t n = 0;
  iotkit_err_t err = iotkit_envelope_open(fleet, m->topic + strlen(BASE), m->payload, m->len, pt, m->len, &n);
  cr_assert_eq(err, IOTKIT_OK, "%s does not open: %s", m->topic, iotkit_err_name(err));
  pt[n] = '\0';
  return pt;
}

static void fleet_publish(iotkit_envelope_t *env, const char *seal_channel, const char *topic, const char *json,
                          bool flip) {
  uint8_t buf[512];
  size_t n = 0;
  cr_assert_eq(iotkit_envelope_seal(env, seal_channel, json, strlen(json), buf, sizeof(buf), &n), IOTKIT_OK);
  if (flip) buf[n - 20] ^= 0x01; /* a ciphertext bit */
  cr_assert(mqtt_peer_publish(peer, topic, buf, n, 1, false));
}

static bool contains(const mqtt_peer_msg_t *m, const char *needle) {
  size_t k = strlen(needle);
  for (size_t i = 0; i + k <= m->len; i++)
    if (memcmp((const char *)m->payload + i, needle, k) == 0) return true;
  return false;
}

/* The response to a command, opened. */
static char *response_after(size_t from) {
  const mqtt_peer_msg_t *m = peer_next_on(peer, from, T("commands/response"), WAIT_MS);
  cr_assert_not_null(m, "no response");
  return fleet_open(m);
}

Test(device_e2e_mqtt, the_broker_carries_only_envelopes_that_the_fleet_opens) {
  running_device();
  cr_assert_eq(iotkit_device_send_telemetry(dev, TELEMETRY, strlen(TELEMETRY), NULL), IOTKIT_OK);
  cr_assert_eq(iotkit_device_event(dev, "overheat", "{\"c\":\"plain-event\"}", NULL), IOTKIT_OK);
  cr_assert_not_null(peer_next_on(peer, 0, T("telemetry"), WAIT_MS));
  cr_assert_not_null(peer_next_on(peer, 0, T("events/overheat"), WAIT_MS));
  cr_assert_not_null(peer_next_on(peer, 0, T("state/reported"), WAIT_MS));

  int opened = 0;
  for (size_t i = 0; i < mqtt_peer_count(peer); i++) {
    const mqtt_peer_msg_t *m = mqtt_peer_get(peer, i);
    cr_assert_not(contains(m, "plain-"), "plaintext on %s", m->topic);
    cr_assert_not(contains(m, "temperature"), "plaintext on %s", m->topic);
    if (strcmp(m->topic, T("status")) == 0) continue; /* presence stays plain, by design */
    cr_assert_eq(((const uint8_t *)m->payload)[0], IOTKIT_ENVELOPE_V1, "not an envelope on %s", m->topic);
    char *pt = fleet_open(m);
    if (strcmp(m->topic, T("telemetry")) == 0) {
      cr_assert_eq(strlen(pt), strlen(TELEMETRY));
      cr_assert_str_eq(pt, TELEMETRY);
    } else if (strcmp(m->topic, T("events/overheat")) == 0) {
      cr_assert(strstr(pt, "\"plain-event\""), "%s", pt);
    } else if (strcmp(m->topic, T("state/reported")) == 0) {
      cr_assert(strstr(pt, "\"fw\":\"plain-reported\""), "%s", pt);
    }
    free(pt);
    opened++;
  }
  cr_assert_geq(opened, 3);
  cr_assert_eq(iotkit_device_e2e_rejected(dev), 0);
}

Test(device_e2e_mqtt, sealed_desired_state_is_applied_and_reported_sealed) {
  running_device();
  size_t from = mqtt_peer_count(peer);
  fleet_publish(fleet, "state/desired", T("state/desired"), "{\"version\":3,\"state\":{\"interval_ms\":250}}", false);
  int one = 1;
  cr_assert(device_fixture_wait(&fx, NULL, desired_called, &one, WAIT_MS));
  cr_assert(strstr(desired.delta, "\"interval_ms\":250"), "%s", desired.delta);
  /* The device acknowledges by reporting what it applied: sealed too. */
  for (bool acked = false; !acked; from++) {
    cr_assert_not_null(peer_wait_for(peer, from, T("state/reported"), NULL, WAIT_MS, &from), "no acknowledgement");
    char *pt = fleet_open(mqtt_peer_get(peer, from));
    acked = strstr(pt, "\"interval_ms\":250") != NULL;
    free(pt);
  }
}

Test(device_e2e_mqtt, sealed_command_gets_a_sealed_response) {
  running_device();
  size_t from = mqtt_peer_count(peer);
  fleet_publish(fleet, "commands/request", T("commands/request"), "{\"id\":\"7\",\"name\":\"ping\"}", false);
  char *pt = response_after(from);
  cr_assert_str_eq(pt, "{\"id\":\"7\",\"status\":\"ok\",\"result\":{\"pong\":true}}");
  free(pt);
}

/* Publish one bad message on commands/request, check it is counted and never answered. */
static void expect_dropped(void (*publish_bad)(void), uint64_t *rejected) {
  size_t from = mqtt_peer_count(peer);
  publish_bad();
  (*rejected)++;
  cr_assert(device_fixture_wait(&fx, NULL, rejected_at_least, rejected, WAIT_MS), "not counted");
  cr_assert_eq(iotkit_device_e2e_rejected(dev), *rejected);
  /* The device keeps running: a good command after it is answered, and it is the only answer. */
  char id[16];
  snprintf(id, sizeof(id), "ok%llu", (unsigned long long)*rejected);
  char req[64];
  snprintf(req, sizeof(req), "{\"id\":\"%s\",\"name\":\"ping\"}", id);
  fleet_publish(fleet, "commands/request", T("commands/request"), req, false);
  char *pt = response_after(from);
  cr_assert(strstr(pt, id), "answered something else first: %s", pt);
  free(pt);
  cr_assert(iotkit_device_is_connected(dev));
}

static const char BAD_REQ[] = "{\"id\":\"bad\",\"name\":\"ping\"}";

static void bit_flip(void) { fleet_publish(fleet, "commands/request", T("commands/request"), BAD_REQ, true); }

static void wrong_key_id(void) {
  iotkit_envelope_t *k2 = fleet_handle(KEY, "k2", "edev");
  fleet_publish(k2, "commands/request", T("commands/request"), BAD_REQ, false);
  iotkit_envelope_free(k2);
}

static void wrong_key(void) {
  iotkit_envelope_t *other = fleet_handle(OTHER_KEY, "k1", "edev");
  fleet_publish(other, "commands/request", T("commands/request"), BAD_REQ, false);
  iotkit_envelope_free(other);
}

static void other_device(void) {
  iotkit_envelope_t *other = fleet_handle(KEY, "k1", "edev2");
  fleet_publish(other, "commands/request", T("commands/request"), BAD_REQ, false);
  iotkit_envelope_free(other);
}

static void other_channel(void) { fleet_publish(fleet, "state/desired", T("commands/request"), BAD_REQ, false); }

static void plaintext(void) { cr_assert(mqtt_peer_publish(peer, T("commands/request"), BAD_REQ, strlen(BAD_REQ), 1, false)); }

static void truncated(void) {
  uint8_t buf[512];
  size_t n = 0;
  cr_assert_eq(iotkit_envelope_seal(fleet, "commands/request", BAD_REQ, strlen(BAD_REQ), buf, sizeof(buf), &n),
               IOTKIT_OK);
  cr_assert(mqtt_peer_publish(peer, T("commands/request"), buf, 20, 1, false));
}

Test(device_e2e_mqtt, tampered_envelopes_are_dropped_counted_and_never_delivered) {
  running_device();
  uint64_t rejected = 0;
  expect_dropped(bit_flip, &rejected);
  expect_dropped(wrong_key_id, &rejected);
  expect_dropped(wrong_key, &rejected);
  expect_dropped(other_device, &rejected);
  expect_dropped(other_channel, &rejected);
  expect_dropped(plaintext, &rejected);
  expect_dropped(truncated, &rejected);
  /* No answer to any "bad" request ever went out. */
  for (size_t i = 0; i < mqtt_peer_count(peer); i++) {
    const mqtt_peer_msg_t *m = mqtt_peer_get(peer, i);
    if (strcmp(m->topic, T("commands/response")) != 0) continue;
    char *pt = fleet_open(m);
    cr_assert_null(strstr(pt, "\"bad\""), "%s", pt);
    free(pt);
  }
}

Test(device_e2e_mqtt, tampered_desired_state_is_not_applied) {
  running_device();
  fleet_publish(fleet, "state/desired", T("state/desired"), "{\"version\":4,\"state\":{\"interval_ms\":9}}", true);
  uint64_t one = 1;
  cr_assert(device_fixture_wait(&fx, NULL, rejected_at_least, &one, WAIT_MS));
  /* A good one after it is applied, and it is the first the callback sees. */
  fleet_publish(fleet, "state/desired", T("state/desired"), "{\"version\":5,\"state\":{\"interval_ms\":50}}", false);
  int calls = 1;
  cr_assert(device_fixture_wait(&fx, NULL, desired_called, &calls, WAIT_MS));
  cr_assert(strstr(desired.delta, "\"interval_ms\":50"), "%s", desired.delta);
  cr_assert_eq(atomic_load(&desired.calls), 1);
}

Test(device_e2e_mqtt, without_a_key_the_payload_goes_out_as_it_is) {
  fx.cfg.e2e_key = NULL;
  fx.cfg.e2e_key_id = NULL;
  running_device();
  cr_assert_eq(iotkit_device_send_telemetry(dev, TELEMETRY, strlen(TELEMETRY), NULL), IOTKIT_OK);
  const mqtt_peer_msg_t *m = peer_next_on(peer, 0, T("telemetry"), WAIT_MS);
  cr_assert_not_null(m);
  cr_assert_eq(m->len, strlen(TELEMETRY));
  cr_assert_str_eq((const char *)m->payload, TELEMETRY);
  size_t from = mqtt_peer_count(peer);
  cr_assert(mqtt_peer_publish(peer, T("commands/request"), BAD_REQ, strlen(BAD_REQ), 1, false));
  m = peer_next_on(peer, from, T("commands/response"), WAIT_MS);
  cr_assert_not_null(m);
  cr_assert_str_eq((const char *)m->payload, "{\"id\":\"bad\",\"status\":\"ok\",\"result\":{\"pong\":true}}");
  cr_assert_eq(iotkit_device_e2e_rejected(dev), 0);
}
