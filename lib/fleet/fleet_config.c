/* The fleet's _init functions and the rollouts' state names: built with or without the fleet (IOTKIT_WITH_FLEET). */
#include <string.h>

#include "core/util.h"
#include "iotkit/fleet.h"

void iotkit_fleet_config_init(iotkit_fleet_config_t *cfg) {
  if (!cfg) return;
  memset(cfg, 0, sizeof(*cfg));
  cfg->struct_size = sizeof(*cfg);
  cfg->busy_timeout_ms = IOTKIT_FLEET_BUSY_TIMEOUT_DEFAULT_MS;
  cfg->topic_prefix = IOTKIT_TOPIC_PREFIX_DEFAULT;
  cfg->tls.verify_peer = true;
  cfg->mqtt_version = 311;
  cfg->keepalive_s = IOTKIT_KEEPALIVE_DEFAULT_S;
  cfg->connect_timeout_ms = IOTKIT_CONNECT_TIMEOUT_DEFAULT_MS;
  cfg->reconnect_min_ms = IOTKIT_RECONNECT_MIN_DEFAULT_MS;
  cfg->reconnect_max_ms = IOTKIT_RECONNECT_MAX_DEFAULT_MS;
  cfg->broker_uptime_topic = "$SYS/broker/uptime";
  cfg->broker_uptime_interval_s = 10;
  cfg->location_history_max = IOTKIT_FLEET_LOCATION_HISTORY_DEFAULT;
}

void iotkit_fleet_device_spec_init(iotkit_fleet_device_spec_t *spec) {
  if (!spec) return;
  memset(spec, 0, sizeof(*spec));
  spec->struct_size = sizeof(*spec);
}

void iotkit_fleet_filter_init(iotkit_fleet_filter_t *filter) {
  if (!filter) return;
  memset(filter, 0, sizeof(*filter));
  filter->struct_size = sizeof(*filter);
  filter->online = IOTKIT_FLEET_ONLINE_ANY;
}

void iotkit_fleet_group_spec_init(iotkit_fleet_group_spec_t *g) {
  if (!g) return;
  memset(g, 0, sizeof(*g));
  g->success_pct = IOTKIT_FLEET_ROLLOUT_SUCCESS_DEFAULT;
  g->error_pct = IOTKIT_FLEET_ROLLOUT_ERROR_DEFAULT;
}

void iotkit_fleet_rollout_spec_init(iotkit_fleet_rollout_spec_t *spec) {
  if (!spec) return;
  memset(spec, 0, sizeof(*spec));
  spec->struct_size = sizeof(*spec);
}

const char *iotkit_fleet_rollout_state_name(iotkit_fleet_rollout_state_t s) {
  static const char *const n[] = {"ready", "running", "paused", "finished", "canceled"};
  return (unsigned)s < IOTKIT__ARRAY_LEN(n) ? n[s] : "?";
}

const char *iotkit_fleet_group_state_name(iotkit_fleet_group_state_t s) {
  static const char *const n[] = {"scheduled", "running", "success", "error"};
  return (unsigned)s < IOTKIT__ARRAY_LEN(n) ? n[s] : "?";
}

const char *iotkit_fleet_rollout_device_state_name(iotkit_fleet_rollout_device_state_t s) {
  static const char *const n[] = {"pending", "running", "finished", "error", "canceled"};
  return (unsigned)s < IOTKIT__ARRAY_LEN(n) ? n[s] : "?";
}
