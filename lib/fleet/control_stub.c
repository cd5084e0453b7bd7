/* Remote control (fleet_control.h) in a build without the fleet: IOTKIT_ERR_UNSUPPORTED. */
#include <string.h>

#include "iotkit/fleet.h"

void iotkit_fleet_target_init(iotkit_fleet_target_t *target) {
  if (!target) return;
  memset(target, 0, sizeof *target);
  target->struct_size = sizeof *target;
}

void iotkit_fleet_results_free(iotkit_fleet_results_t *results) { (void)results; }

iotkit_err_t iotkit_fleet_command_send(iotkit_fleet_t *fleet, const char *device_id, const char *name,
                                       const char *params_json, uint32_t timeout_ms, iotkit_fleet_result_cb cb,
                                       void *user, char *request_id, size_t cap) {
  (void)fleet, (void)device_id, (void)name, (void)params_json, (void)timeout_ms, (void)cb, (void)user,
      (void)request_id, (void)cap;
  return IOTKIT_ERR_UNSUPPORTED;
}

iotkit_err_t iotkit_fleet_command_call(iotkit_fleet_t *fleet, const char *device_id, const char *name,
                                       const char *params_json, uint32_t timeout_ms, iotkit_fleet_results_t **out) {
  (void)fleet, (void)device_id, (void)name, (void)params_json, (void)timeout_ms, (void)out;
  return IOTKIT_ERR_UNSUPPORTED;
}

iotkit_err_t iotkit_fleet_command_group(iotkit_fleet_t *fleet, const iotkit_fleet_target_t *target, const char *name,
                                        const char *params_json, uint32_t timeout_ms, iotkit_fleet_result_cb cb,
                                        void *user, size_t *count) {
  (void)fleet, (void)target, (void)name, (void)params_json, (void)timeout_ms, (void)cb, (void)user, (void)count;
  return IOTKIT_ERR_UNSUPPORTED;
}

iotkit_err_t iotkit_fleet_command_group_call(iotkit_fleet_t *fleet, const iotkit_fleet_target_t *target,
                                             const char *name, const char *params_json, uint32_t timeout_ms,
                                             iotkit_fleet_results_t **out) {
  (void)fleet, (void)target, (void)name, (void)params_json, (void)timeout_ms, (void)out;
  return IOTKIT_ERR_UNSUPPORTED;
}

iotkit_err_t iotkit_fleet_desired_set(iotkit_fleet_t *fleet, const char *device_id, const char *patch_json,
                                      uint64_t *version) {
  (void)fleet, (void)device_id, (void)patch_json, (void)version;
  return IOTKIT_ERR_UNSUPPORTED;
}

iotkit_err_t iotkit_fleet_desired_group(iotkit_fleet_t *fleet, const iotkit_fleet_target_t *target,
                                        const char *patch_json, iotkit_fleet_results_t **out) {
  (void)fleet, (void)target, (void)patch_json, (void)out;
  return IOTKIT_ERR_UNSUPPORTED;
}

iotkit_err_t iotkit_fleet_desired_get(iotkit_fleet_t *fleet, const char *device_id, char **state_json,
                                      uint64_t *version) {
  (void)fleet, (void)device_id, (void)state_json, (void)version;
  return IOTKIT_ERR_UNSUPPORTED;
}

iotkit_err_t iotkit_fleet_control_stats_sized(iotkit_fleet_t *fleet, iotkit_fleet_control_stats_t *stats,
                                              size_t size) {
  (void)fleet, (void)stats, (void)size;
  return IOTKIT_ERR_UNSUPPORTED;
}
