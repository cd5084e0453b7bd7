/* The common ground of the hub's integration tests: a mosquitto broker, an
 * iotkit-hub (not started) knowing devices sensor-1 and sensor-2, and once
 * started an independent MQTT subscriber to everything under iotkit/v1/.
 *
 *   static hub_fixture_t fx;
 *   setup: hub_fixture_init(&fx);  test: hub_srv_add_config(fx.hub, ...); hub_fixture_start(&fx);
 *   teardown: hub_fixture_fini(&fx);
 *
 * Failures are Criterion assertions. */
#ifndef IOTKIT_TEST_HUB_FIXTURE_H
#define IOTKIT_TEST_HUB_FIXTURE_H

#include <stddef.h>

#include "hub_server.h"
#include "iotkit/iotkit.h"
#include "mosquitto_server.h"
#include "mqtt_peer.h"

/* The devices of the key file: id, key as raw text and in hex (the HTTP token). */
#define HUB_FX_KEY1 "secret1"
#define HUB_FX_KEY1_HEX "73656372657431"
#define HUB_FX_KEY2 "secret2"
#define HUB_FX_KEY2_HEX "73656372657432"

typedef struct hub_fixture {
  mosq_server_t *mq;
  hub_srv_t *hub;
  mqtt_peer_t *peer; /* after hub_fixture_start() */
} hub_fixture_t;

/* Start the broker and make the hub (@p hub_bin) with sensor-1 and sensor-2. */
void hub_fixture_init(hub_fixture_t *fx, const char *hub_bin);

/* Start the hub and the subscriber. */
void hub_fixture_start(hub_fixture_t *fx);

/* Messages the subscriber received on @p topic so far. */
size_t hub_fixture_count_topic(hub_fixture_t *fx, const char *topic);

/* The @p nth (from 0) message on @p topic, waiting up to 10 s; NULL if it never came. */
const mqtt_peer_msg_t *hub_fixture_wait_topic(hub_fixture_t *fx, const char *topic, size_t nth);

/* For a device suite run through the hub (the device on CoAP or HTTP, the
   checks on MQTT): start a hub (@p hub_bin) bridged to @p mqtt_uri that knows
   device cfg->device_id, and point @p cfg at it for @p scheme: "coaps"
   (DTLS-PSK, the credentials in the URI), "coap", "https" (its token as
   password, the test CA as tls.ca_file) or "http". The URI is written into
   @p uri, which must outlive the device. Asserts; free with hub_srv_free(). */
hub_srv_t *hub_fixture_for_device(const char *hub_bin, const char *mqtt_uri, const char *scheme,
                                  iotkit_device_config_t *cfg, char *uri, size_t cap);

/* Stop and free everything. */
void hub_fixture_fini(hub_fixture_t *fx);

#endif
