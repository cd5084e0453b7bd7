/* Broker, hub and subscriber for the hub's integration tests (see hub_fixture.h). */
#include "hub_fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "net_util.h"

void hub_fixture_init(hub_fixture_t *fx, const char *hub_bin) {
  memset(fx, 0, sizeof *fx);
  fx->mq = mosq_server_new();
  cr_assert_not_null(fx->mq);
  cr_assert(mosq_server_start(fx->mq));
  fx->hub = hub_srv_new(hub_bin, mosq_server_uri(fx->mq));
  cr_assert_not_null(fx->hub);
  cr_assert(hub_srv_add_device(fx->hub, "sensor-1", HUB_FX_KEY1_HEX));
  cr_assert(hub_srv_add_device(fx->hub, "sensor-2", HUB_FX_KEY2_HEX));
}

void hub_fixture_start(hub_fixture_t *fx) {
  cr_assert(hub_srv_start(fx->hub));
  fx->peer = mqtt_peer_new(&(mqtt_peer_opts_t){.port = mosq_server_port(fx->mq), .topic = "iotkit/v1/#", .qos = 1});
  cr_assert_not_null(fx->peer);
}

size_t hub_fixture_count_topic(hub_fixture_t *fx, const char *topic) {
  size_t n = 0, total = mqtt_peer_count(fx->peer);
  for (size_t i = 0; i < total; i++) n += strcmp(mqtt_peer_get(fx->peer, i)->topic, topic) == 0;
  return n;
}

const mqtt_peer_msg_t *hub_fixture_wait_topic(hub_fixture_t *fx, const char *topic, size_t nth) {
  for (uint64_t end = test_now_ms() + 10000; test_now_ms() < end; test_msleep(20)) {
    size_t seen = 0, total = mqtt_peer_count(fx->peer);
    for (size_t i = 0; i < total; i++) {
      const mqtt_peer_msg_t *m = mqtt_peer_get(fx->peer, i);
      if (strcmp(m->topic, topic) == 0 && seen++ == nth) return m;
    }
  }
  return NULL;
}

hub_srv_t *hub_fixture_for_device(const char *hub_bin, const char *mqtt_uri, const char *scheme,
                                  iotkit_device_config_t *cfg, char *uri, size_t cap) {
  const char *id = cfg->device_id;
  bool http = strncmp(scheme, "http", 4) == 0, tls = strcmp(scheme, "coaps") == 0 || strcmp(scheme, "https") == 0;
  hub_srv_t *hub = hub_srv_new(hub_bin, mqtt_uri);
  cr_assert_not_null(hub);
  cr_assert(hub_srv_add_device(hub, id, HUB_FX_KEY1_HEX));
  if (http) cr_assert(hub_srv_enable_http(hub, tls));
  cr_assert(hub_srv_start(hub));
  if (http) {
    snprintf(uri, cap, "%s", hub_srv_http_uri(hub));
    cfg->password = HUB_FX_KEY1_HEX; /* the token */
    if (tls) cfg->tls.ca_file = hub_srv_ca_file(hub);
  } else if (tls) {
    snprintf(uri, cap, "coaps://%s:%s@%s", id, HUB_FX_KEY1, hub_srv_coaps_uri(hub) + strlen("coaps://"));
  } else {
    snprintf(uri, cap, "%s", hub_srv_coap_uri(hub));
  }
  cfg->uri = uri;
  return hub;
}

void hub_fixture_fini(hub_fixture_t *fx) {
  mqtt_peer_free(fx->peer);
  hub_srv_free(fx->hub);
  mosq_server_free(fx->mq);
  memset(fx, 0, sizeof *fx);
}
