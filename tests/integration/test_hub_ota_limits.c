// requires: coap mqtt http
/* The hub's ota/manifest downlink at the transport level (the SDK's CoAP and HTTP backends,
 * no OTA client): a device may not read another device's manifest, and the 8 KiB manifest
 * limit holds exactly (8192 bytes go through, block-wise on CoAP; 8193 are dropped). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub_fixture.h"
#include "iotkit/transport.h"
#include "net_util.h"
#include "transport_client.h"

#define HUB_BIN IOTKIT_BINARY_DIR "/tools/iotkit-hub/iotkit-hub"
#define MANIFEST1 "iotkit/v1/sensor-1/ota/manifest"

static hub_fixture_t fx;
static tclient_t *client;

static void setup(void) {
  hub_fixture_init(&fx, HUB_BIN);
  cr_assert(hub_srv_enable_http(fx.hub, false));
  hub_fixture_start(&fx);
}

static void teardown(void) {
  tclient_free(client);
  client = NULL;
  hub_fixture_fini(&fx);
}

TestSuite(hub_ota_limits, .init = setup, .fini = teardown, .timeout = 120);

/* Device @p id with key @p key (raw text) on the SDK's backend for @p scheme: "coap",
   "coaps" (DTLS-PSK) or "http" (the key's hex as token), connected. */
static tclient_t *device(const char *scheme, const char *id, const char *key_hex) {
  bool http = strcmp(scheme, "http") == 0;
  tclient_opts_t o = {.uri = http                              ? hub_srv_http_uri(fx.hub)
                             : strcmp(scheme, "coaps") == 0 ? hub_srv_coaps_uri(fx.hub)
                                                            : hub_srv_coap_uri(fx.hub),
                      .ops = http ? iotkit_transport_http() : iotkit_transport_coap(),
                      .client_id = id};
  if (http) {
    o.password = key_hex;
  } else {
    o.tls.psk_identity = id;
    o.tls.psk_key_hex = key_hex;
  }
  tclient_t *c = tclient_new(&o);
  cr_assert_not_null(c);
  iotkit_err_t rc = tclient_connect(c);
  cr_assert_eq(rc, IOTKIT_OK, "connect %s: %s: %s", o.uri, iotkit_err_name(rc), tclient_last_error(c));
  return c;
}

static void publish(const char *topic, const void *doc, size_t len) {
  cr_assert(mqtt_peer_publish(fx.peer, topic, doc, len, 1, true));
}

/* Poll @p c until the hub's log has @p needle. */
static void wait_hub_log(tclient_t *c, const char *needle) {
  for (uint64_t end = test_now_ms() + 10000; !hub_srv_log_contains(fx.hub, needle);) {
    cr_assert(test_now_ms() < end, "no '%s' in %s", needle, hub_srv_log_path(fx.hub));
    c->ops->poll(c->ctx, 50);
  }
}

static const char manifest[] = "{\"device_type\":\"thermo-v2\",\"version\":\"1.1.0\"}";

Test(hub_ota_limits, coaps_device_reading_another_devices_manifest_gets_403_and_nothing) {
  publish(MANIFEST1, manifest, strlen(manifest));
  cr_assert_not_null(hub_fixture_wait_topic(&fx, MANIFEST1, 0));
  client = device("coaps", "sensor-2", HUB_FX_KEY2_HEX);
  cr_assert_eq(client->ops->subscribe(client->ctx, MANIFEST1, 1), IOTKIT_OK);
  wait_hub_log(client, "): GET ota/manifest of device sensor-1 refused: 4.03");
  for (uint64_t end = test_now_ms() + 10000; !strstr(tclient_last_error(client), "4.03");) {
    cr_assert(test_now_ms() < end, "%s", tclient_last_error(client));
    client->ops->poll(client->ctx, 50);
  }
  cr_assert(strstr(tclient_last_error(client), "coap: observe /" MANIFEST1 ": 4.03 Forbidden"), "%s",
            tclient_last_error(client));
  cr_assert_eq(client->messages, 0);
}

Test(hub_ota_limits, http_device_reading_another_devices_manifest_gets_403_and_nothing) {
  publish(MANIFEST1, manifest, strlen(manifest));
  cr_assert_not_null(hub_fixture_wait_topic(&fx, MANIFEST1, 0));
  client = device("http", "sensor-2", HUB_FX_KEY2_HEX);
  cr_assert_eq(client->ops->subscribe(client->ctx, MANIFEST1, 1), IOTKIT_OK);
  cr_assert(tclient_poll_until(client, &client->disconnected, 1), "%s", tclient_last_error(client));
  cr_assert_eq(client->disc_reason, IOTKIT_ERR_AUTH, "%s", iotkit_err_name(client->disc_reason));
  cr_assert(hub_srv_log_contains(fx.hub, "GET /" MANIFEST1 " refused: 403"), "see %s", hub_srv_log_path(fx.hub));
  cr_assert_eq(client->messages, 0);
}

/* 8192 bytes reach the device; 8193 are dropped by the hub (logged), which then has nothing
   for the device: the next message it gets is the small one published after. */
static void manifest_limit_is_exactly_8_kib(const char *scheme) {
  char *doc = malloc(8193);
  cr_assert_not_null(doc);
  memset(doc, 'a', 8193);
  client = device(scheme, "sensor-1", HUB_FX_KEY1_HEX);
  cr_assert_eq(client->ops->subscribe(client->ctx, MANIFEST1, 1), IOTKIT_OK);
  publish(MANIFEST1, doc, 8192);
  cr_assert(tclient_poll_until(client, &client->messages, 1), "see %s", hub_srv_log_path(fx.hub));
  cr_assert_str_eq(client->msgs[0].channel, MANIFEST1);
  cr_assert_eq(client->msgs[0].len, 8192);
  publish(MANIFEST1, doc, 8193);
  wait_hub_log(client, "device sensor-1: ota/manifest from MQTT of 8193 bytes is larger than 8192 bytes: dropped "
                       "(and the one kept before forgotten)");
  publish(MANIFEST1, manifest, strlen(manifest));
  cr_assert(tclient_poll_until(client, &client->messages, 2), "see %s", hub_srv_log_path(fx.hub));
  cr_assert_eq(client->msgs[1].len, strlen(manifest));
  cr_assert_str_eq(client->msgs[1].payload, manifest);
  cr_assert_not(hub_srv_log_contains(fx.hub, "(8193 bytes)"), "see %s", hub_srv_log_path(fx.hub));
  cr_assert_eq(client->messages, 2);
  free(doc);
}

Test(hub_ota_limits, coap_manifest_of_8_kib_is_delivered_and_one_byte_more_is_dropped) {
  manifest_limit_is_exactly_8_kib("coap");
}

Test(hub_ota_limits, http_manifest_of_8_kib_is_delivered_and_one_byte_more_is_dropped) {
  manifest_limit_is_exactly_8_kib("http");
}

/* The hub restarts (HTTP on the same port) while a new manifest is published: the device's
   long poll, still carrying the ETag of the manifest before, gets the new one. */
Test(hub_ota_limits, http_manifest_published_while_the_hub_restarts_is_delivered) {
  client = device("http", "sensor-1", HUB_FX_KEY1_HEX);
  cr_assert_eq(client->ops->subscribe(client->ctx, MANIFEST1, 1), IOTKIT_OK);
  publish(MANIFEST1, manifest, strlen(manifest));
  cr_assert(tclient_poll_until(client, &client->messages, 1), "see %s", hub_srv_log_path(fx.hub));
  cr_assert(hub_srv_stop(fx.hub));
  static const char next[] = "{\"device_type\":\"thermo-v2\",\"version\":\"1.2.0\"}"; /* same length */
  publish(MANIFEST1, next, strlen(next));
  cr_assert(hub_srv_start(fx.hub));
  cr_assert(tclient_poll_until(client, &client->messages, 2), "%s; see %s", tclient_last_error(client),
            hub_srv_log_path(fx.hub));
  cr_assert_str_eq(client->msgs[1].payload, next);
  cr_assert_eq(client->disconnected, 0);
}
