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
