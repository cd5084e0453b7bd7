/*
 * The fleet API in a build without it (IOTKIT_WITH_FLEET=OFF, or no SQLite):
 * the symbols exist, so that a program links against every build, and
 * iotkit_fleet_new() says IOTKIT_ERR_UNSUPPORTED at run time.
 */
#include "core/util.h"
#include "iotkit/fleet.h"

iotkit_err_t iotkit_fleet_new(const iotkit_fleet_config_t *cfg, iotkit_fleet_t **out) {
  if (!cfg || !out) return IOTKIT_ERR_INVALID_ARG;
  if (IOTKIT__HAS_FIELD(cfg, iotkit_fleet_config_t, error_buf_size, IOTKIT__FLEET_CONFIG_SIZE_0_3) && cfg->error_buf &&
      cfg->error_buf_size)
    iotkit__fmt(cfg->error_buf, cfg->error_buf_size, "libiotkit was built without the fleet (IOTKIT_WITH_FLEET=OFF)");
  return IOTKIT_ERR_UNSUPPORTED;
}

void iotkit_fleet_free(iotkit_fleet_t *fleet) { (void)fleet; }

const char *iotkit_fleet_last_error(const iotkit_fleet_t *fleet, char *buf, size_t cap) {
  (void)fleet;
  if (!buf || cap == 0) return "";
  buf[0] = '\0';
  return buf;
}

iotkit_err_t iotkit_fleet_device_create(iotkit_fleet_t *fleet, const iotkit_fleet_device_spec_t *spec) {
  (void)fleet, (void)spec;
  return IOTKIT_ERR_UNSUPPORTED;
}

iotkit_err_t iotkit_fleet_device_get(iotkit_fleet_t *fleet, const char *id, iotkit_fleet_device_t **out) {
  (void)fleet, (void)id, (void)out;
  return IOTKIT_ERR_UNSUPPORTED;
}

iotkit_err_t iotkit_fleet_device_update(iotkit_fleet_t *fleet, const iotkit_fleet_device_spec_t *spec,
                                        uint32_t fields) {
  (void)fleet, (void)spec, (void)fields;
  return IOTKIT_ERR_UNSUPPORTED;
}

iotkit_err_t iotkit_fleet_device_delete(iotkit_fleet_t *fleet, const char *id) {
  (void)fleet, (void)id;
  return IOTKIT_ERR_UNSUPPORTED;
}

/* Nothing can have made a record or a page in this build. */
void iotkit_fleet_device_free(iotkit_fleet_device_t *device) { (void)device; }

void iotkit_fleet_page_free(iotkit_fleet_page_t *page) { (void)page; }

iotkit_err_t iotkit_fleet_list(iotkit_fleet_t *fleet, const iotkit_fleet_filter_t *filter, const char *after_id,
                               size_t limit, iotkit_fleet_page_t **out) {
  (void)fleet, (void)filter, (void)after_id, (void)limit, (void)out;
  return IOTKIT_ERR_UNSUPPORTED;
}

iotkit_err_t iotkit_fleet_count(iotkit_fleet_t *fleet, const iotkit_fleet_filter_t *filter, uint64_t *count) {
  (void)fleet, (void)filter, (void)count;
  return IOTKIT_ERR_UNSUPPORTED;
}

/* The broker session and the live view (fleet_monitor.h). */
iotkit_err_t iotkit_fleet_connect(iotkit_fleet_t *fleet) {
  (void)fleet;
  return IOTKIT_ERR_UNSUPPORTED;
}

iotkit_err_t iotkit_fleet_disconnect(iotkit_fleet_t *fleet) {
  (void)fleet;
  return IOTKIT_ERR_UNSUPPORTED;
}

iotkit_err_t iotkit_fleet_poll(iotkit_fleet_t *fleet, int timeout_ms) {
  (void)fleet, (void)timeout_ms;
  return IOTKIT_ERR_UNSUPPORTED;
}

iotkit_err_t iotkit_fleet_start(iotkit_fleet_t *fleet) {
  (void)fleet;
  return IOTKIT_ERR_UNSUPPORTED;
}

iotkit_err_t iotkit_fleet_stop(iotkit_fleet_t *fleet) {
  (void)fleet;
  return IOTKIT_ERR_UNSUPPORTED;
}

int iotkit_fleet_fd(const iotkit_fleet_t *fleet) {
  (void)fleet;
  return -1;
}

int iotkit_fleet_next_timeout_ms(const iotkit_fleet_t *fleet) {
  (void)fleet;
  return -1;
}

bool iotkit_fleet_is_connected(const iotkit_fleet_t *fleet) {
  (void)fleet;
  return false;
}

iotkit_err_t iotkit_fleet_sync(iotkit_fleet_t *fleet) {
  (void)fleet;
  return IOTKIT_ERR_UNSUPPORTED;
}

#define IOTKIT__FLEET_STUB_SETTER(fn, type)                     \
  iotkit_err_t fn(iotkit_fleet_t *fleet, type cb, void *user) { \
    (void)fleet, (void)cb, (void)user;                          \
    return IOTKIT_ERR_UNSUPPORTED;                              \
  }
IOTKIT__FLEET_STUB_SETTER(iotkit_fleet_on_connection, iotkit_fleet_connection_cb)
IOTKIT__FLEET_STUB_SETTER(iotkit_fleet_on_status, iotkit_fleet_status_cb)
IOTKIT__FLEET_STUB_SETTER(iotkit_fleet_on_telemetry, iotkit_fleet_telemetry_cb)
IOTKIT__FLEET_STUB_SETTER(iotkit_fleet_on_state, iotkit_fleet_state_cb)
IOTKIT__FLEET_STUB_SETTER(iotkit_fleet_on_event, iotkit_fleet_event_cb)
IOTKIT__FLEET_STUB_SETTER(iotkit_fleet_on_location, iotkit_fleet_location_cb)
IOTKIT__FLEET_STUB_SETTER(iotkit_fleet_on_stale, iotkit_fleet_stale_cb)

iotkit_err_t iotkit_fleet_presence_sized(iotkit_fleet_t *fleet, const char *device_id, iotkit_fleet_presence_t *out,
                                         size_t size) {
  (void)fleet, (void)device_id, (void)out, (void)size;
  return IOTKIT_ERR_UNSUPPORTED;
}

iotkit_err_t iotkit_fleet_state(iotkit_fleet_t *fleet, const char *device_id, char **state_json, int64_t *ts_ms) {
  (void)fleet, (void)device_id, (void)state_json, (void)ts_ms;
  return IOTKIT_ERR_UNSUPPORTED;
}

iotkit_err_t iotkit_fleet_latest(iotkit_fleet_t *fleet, const char *device_id, const char *name,
                                 iotkit_telemetry_batch_t **out) {
  (void)fleet, (void)device_id, (void)name, (void)out;
  return IOTKIT_ERR_UNSUPPORTED;
}

iotkit_err_t iotkit_fleet_stats_sized(iotkit_fleet_t *fleet, iotkit_fleet_stats_t *stats, size_t size) {
  (void)fleet, (void)stats, (void)size;
  return IOTKIT_ERR_UNSUPPORTED;
}

iotkit_err_t iotkit_fleet_locate(iotkit_fleet_t *fleet, const char *device_id, iotkit_location_t *out) {
  (void)fleet, (void)device_id, (void)out;
  return IOTKIT_ERR_UNSUPPORTED;
}

iotkit_err_t iotkit_fleet_track(iotkit_fleet_t *fleet, const char *device_id, int64_t t1_ms, int64_t t2_ms,
                                iotkit_location_t **out, size_t *count) {
  (void)fleet, (void)device_id, (void)t1_ms, (void)t2_ms, (void)out, (void)count;
  return IOTKIT_ERR_UNSUPPORTED;
}

iotkit_err_t iotkit_fleet_within(iotkit_fleet_t *fleet, double lat, double lon, double radius_m,
                                 iotkit_fleet_near_t **out, size_t *count) {
  (void)fleet, (void)lat, (void)lon, (void)radius_m, (void)out, (void)count;
  return IOTKIT_ERR_UNSUPPORTED;
}

iotkit_err_t iotkit_fleet_history(iotkit_fleet_t *fleet, const char *device_id, const char *metric, int64_t t1_ms,
                                  int64_t t2_ms, int64_t bucket_ms, iotkit_fleet_sample_t **out, size_t *count) {
  (void)fleet, (void)device_id, (void)metric, (void)t1_ms, (void)t2_ms, (void)bucket_ms, (void)out, (void)count;
  return IOTKIT_ERR_UNSUPPORTED;
}
