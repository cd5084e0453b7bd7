/* The rollout API in a build without the fleet: IOTKIT_ERR_UNSUPPORTED (see fleet_stub.c). */
#include "iotkit/fleet.h"

iotkit_err_t iotkit_fleet_set_ota_trust(iotkit_fleet_t *fleet, const iotkit_ota_trust_t *trust) {
  (void)fleet, (void)trust;
  return IOTKIT_ERR_UNSUPPORTED;
}

iotkit_err_t iotkit_fleet_rollout_create(iotkit_fleet_t *fleet, const iotkit_fleet_rollout_spec_t *spec) {
  (void)fleet, (void)spec;
  return IOTKIT_ERR_UNSUPPORTED;
}

#define STUB_OP(name)                                             \
  iotkit_err_t name(iotkit_fleet_t *fleet, const char *rollout_id) { \
    (void)fleet, (void)rollout_id;                                \
    return IOTKIT_ERR_UNSUPPORTED;                                \
  }
STUB_OP(iotkit_fleet_rollout_start)
STUB_OP(iotkit_fleet_rollout_pause)
STUB_OP(iotkit_fleet_rollout_resume)
STUB_OP(iotkit_fleet_rollout_cancel)

iotkit_err_t iotkit_fleet_rollout_get(iotkit_fleet_t *fleet, const char *rollout_id, iotkit_fleet_rollout_info_t **out) {
  (void)fleet, (void)rollout_id, (void)out;
  return IOTKIT_ERR_UNSUPPORTED;
}

void iotkit_fleet_rollout_info_free(iotkit_fleet_rollout_info_t *info) { (void)info; }

iotkit_err_t iotkit_fleet_rollout_targets(iotkit_fleet_t *fleet, const char *rollout_id, int group,
                                          iotkit_fleet_rollout_device_t **out, size_t *count) {
  (void)fleet, (void)rollout_id, (void)group, (void)out, (void)count;
  return IOTKIT_ERR_UNSUPPORTED;
}

iotkit_err_t iotkit_fleet_rollout_target(iotkit_fleet_t *fleet, const char *rollout_id, const char *device_id,
                                         iotkit_fleet_rollout_device_t *out) {
  (void)fleet, (void)rollout_id, (void)device_id, (void)out;
  return IOTKIT_ERR_UNSUPPORTED;
}

iotkit_err_t iotkit_fleet_rollout_list(iotkit_fleet_t *fleet, char ***ids, size_t *count) {
  (void)fleet, (void)ids, (void)count;
  return IOTKIT_ERR_UNSUPPORTED;
}

void iotkit_fleet_rollout_ids_free(char **ids, size_t count) { (void)ids, (void)count; }

iotkit_err_t iotkit_fleet_on_rollout(iotkit_fleet_t *fleet, iotkit_fleet_rollout_cb cb, void *user) {
  (void)fleet, (void)cb, (void)user;
  return IOTKIT_ERR_UNSUPPORTED;
}
