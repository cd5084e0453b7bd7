/* fleet_control.h: one device's commands (blocking call) and desired state.
 * Groups, asynchronous sends and the control counters are not bound. */
#define IOTKIT_FLEET_COMMAND_TIMEOUT_MAX_MS ...
#define IOTKIT_FLEET_COMMAND_TIMEOUT_DEFAULT_MS ...
#define IOTKIT_FLEET_MAX_CONTROL_JSON ...

typedef struct iotkit_fleet_result {
  size_t struct_size;
  char *device_id;
  iotkit_err_t err;
  char *request_id;
  char *result_json;
  char *error_code;
  char *error_message;
  uint64_t version;
  ...;
} iotkit_fleet_result_t;

typedef struct iotkit_fleet_results {
  size_t struct_size;
  iotkit_fleet_result_t *items;
  size_t count;
  ...;
} iotkit_fleet_results_t;

void iotkit_fleet_results_free(iotkit_fleet_results_t *results);
iotkit_err_t iotkit_fleet_command_call(iotkit_fleet_t *fleet, const char *device_id, const char *name,
                                       const char *params_json, uint32_t timeout_ms, iotkit_fleet_results_t **out);
iotkit_err_t iotkit_fleet_desired_set(iotkit_fleet_t *fleet, const char *device_id, const char *patch_json,
                                      uint64_t *version);
iotkit_err_t iotkit_fleet_desired_get(iotkit_fleet_t *fleet, const char *device_id, char **state_json,
                                      uint64_t *version);
