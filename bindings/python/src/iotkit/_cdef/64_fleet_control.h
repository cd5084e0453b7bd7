/* fleet_control.h: commands (one device or a group, blocking or with a result
 * callback for iotkit.aio), desired state (one device or a group), the
 * control counters. End-to-end protection (key_cb) is not bound. */
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

typedef struct iotkit_fleet_target {
  size_t struct_size;
  const char *const *ids;
  size_t id_count;
  const iotkit_fleet_filter_t *filter;
  ...;
} iotkit_fleet_target_t;
#define IOTKIT_FLEET_MAX_TARGETS ...

void iotkit_fleet_target_init(iotkit_fleet_target_t *target);
typedef void (*iotkit_fleet_result_cb)(iotkit_fleet_t *fleet, void *user, const iotkit_fleet_result_t *result);
iotkit_err_t iotkit_fleet_command_send(iotkit_fleet_t *fleet, const char *device_id, const char *name,
                                       const char *params_json, uint32_t timeout_ms, iotkit_fleet_result_cb cb,
                                       void *user, char *request_id, size_t cap);
iotkit_err_t iotkit_fleet_command_group(iotkit_fleet_t *fleet, const iotkit_fleet_target_t *target,
                                        const char *name, const char *params_json, uint32_t timeout_ms,
                                        iotkit_fleet_result_cb cb, void *user, size_t *count);
iotkit_err_t iotkit_fleet_command_group_call(iotkit_fleet_t *fleet, const iotkit_fleet_target_t *target,
                                             const char *name, const char *params_json, uint32_t timeout_ms,
                                             iotkit_fleet_results_t **out);
iotkit_err_t iotkit_fleet_desired_group(iotkit_fleet_t *fleet, const iotkit_fleet_target_t *target,
                                        const char *patch_json, iotkit_fleet_results_t **out);

typedef struct iotkit_fleet_control_stats {
  uint64_t commands_sent;
  uint64_t responses;
  uint64_t remote_errors;
  uint64_t timeouts;
  uint64_t late_responses;
  uint64_t unmatched_responses;
  uint64_t desired_published;
  uint64_t e2e_opened;
  uint64_t e2e_sealed;
  uint64_t e2e_rejected;
  iotkit_err_t e2e_last_error;
  ...;
} iotkit_fleet_control_stats_t;
iotkit_err_t iotkit_fleet_control_stats_sized(iotkit_fleet_t *fleet, iotkit_fleet_control_stats_t *stats,
                                              size_t size);

/* iotkit.aio: the result of an asynchronous command (user: the aio fleet's cffi handle). */
extern "Python" void _iotkit_pyfleet_result(iotkit_fleet_t *, void *, const iotkit_fleet_result_t *);
