/* fleet_rollout.h: staged OTA rollouts (create, start, pause, resume, cancel,
 * read back with per-device state, list) and the rollout callback. */
#define IOTKIT_FLEET_ROLLOUT_MAX_GROUPS ...
#define IOTKIT_FLEET_ROLLOUT_MAX_DEVICES ...
#define IOTKIT_FLEET_ROLLOUT_SUCCESS_DEFAULT ...
#define IOTKIT_FLEET_ROLLOUT_ERROR_DEFAULT ...

typedef enum iotkit_fleet_rollout_state {
  IOTKIT_FLEET_ROLLOUT_READY = ..., IOTKIT_FLEET_ROLLOUT_RUNNING = ..., IOTKIT_FLEET_ROLLOUT_PAUSED = ...,
  IOTKIT_FLEET_ROLLOUT_FINISHED = ..., IOTKIT_FLEET_ROLLOUT_CANCELED = ...
} iotkit_fleet_rollout_state_t;
typedef enum iotkit_fleet_group_state {
  IOTKIT_FLEET_GROUP_SCHEDULED = ..., IOTKIT_FLEET_GROUP_RUNNING = ..., IOTKIT_FLEET_GROUP_SUCCESS = ...,
  IOTKIT_FLEET_GROUP_ERROR = ...
} iotkit_fleet_group_state_t;
typedef enum iotkit_fleet_rollout_device_state {
  IOTKIT_FLEET_TARGET_PENDING = ..., IOTKIT_FLEET_TARGET_RUNNING = ..., IOTKIT_FLEET_TARGET_FINISHED = ...,
  IOTKIT_FLEET_TARGET_ERROR = ..., IOTKIT_FLEET_TARGET_CANCELED = ...
} iotkit_fleet_rollout_device_state_t;

const char *iotkit_fleet_rollout_state_name(iotkit_fleet_rollout_state_t state);
const char *iotkit_fleet_group_state_name(iotkit_fleet_group_state_t state);
const char *iotkit_fleet_rollout_device_state_name(iotkit_fleet_rollout_device_state_t state);

typedef struct iotkit_fleet_group_spec {
  size_t count;
  unsigned percent;
  unsigned success_pct;
  unsigned error_pct;
  ...;
} iotkit_fleet_group_spec_t;
void iotkit_fleet_group_spec_init(iotkit_fleet_group_spec_t *g);

typedef struct iotkit_fleet_rollout_spec {
  size_t struct_size;
  const char *id;
  const char *manifest;
  size_t manifest_len;
  const char *const *device_ids;
  size_t device_count;
  const iotkit_fleet_filter_t *filter;
  const iotkit_fleet_group_spec_t *groups;
  size_t group_count;
  ...;
} iotkit_fleet_rollout_spec_t;
void iotkit_fleet_rollout_spec_init(iotkit_fleet_rollout_spec_t *spec);

iotkit_err_t iotkit_fleet_set_ota_trust(iotkit_fleet_t *fleet, const iotkit_ota_trust_t *trust);
iotkit_err_t iotkit_fleet_rollout_create(iotkit_fleet_t *fleet, const iotkit_fleet_rollout_spec_t *spec);
iotkit_err_t iotkit_fleet_rollout_start(iotkit_fleet_t *fleet, const char *rollout_id);
iotkit_err_t iotkit_fleet_rollout_pause(iotkit_fleet_t *fleet, const char *rollout_id);
iotkit_err_t iotkit_fleet_rollout_resume(iotkit_fleet_t *fleet, const char *rollout_id);
iotkit_err_t iotkit_fleet_rollout_cancel(iotkit_fleet_t *fleet, const char *rollout_id);

typedef struct iotkit_fleet_rollout_counts {
  size_t total;
  size_t pending;
  size_t running;
  size_t finished;
  size_t error;
  size_t canceled;
  ...;
} iotkit_fleet_rollout_counts_t;

typedef struct iotkit_fleet_group_info {
  iotkit_fleet_group_state_t state;
  unsigned success_pct;
  unsigned error_pct;
  iotkit_fleet_rollout_counts_t counts;
  int64_t started_ms;
  ...;
} iotkit_fleet_group_info_t;

typedef struct iotkit_fleet_rollout_info {
  size_t struct_size;
  char *id;
  char *device_type;
  char *version;
  iotkit_fleet_rollout_state_t state;
  size_t group_count;
  iotkit_fleet_group_info_t *groups;
  size_t started_groups;
  int error_group;
  char *reason;
  iotkit_fleet_rollout_counts_t counts;
  int64_t created_ms;
  int64_t updated_ms;
  ...;
} iotkit_fleet_rollout_info_t;

iotkit_err_t iotkit_fleet_rollout_get(iotkit_fleet_t *fleet, const char *rollout_id,
                                      iotkit_fleet_rollout_info_t **out);
void iotkit_fleet_rollout_info_free(iotkit_fleet_rollout_info_t *info);

typedef struct iotkit_fleet_rollout_device {
  char device_id[...];
  unsigned group;
  iotkit_fleet_rollout_device_state_t state;
  unsigned percent;
  char error[...];
  int64_t updated_ms;
  ...;
} iotkit_fleet_rollout_device_t;

iotkit_err_t iotkit_fleet_rollout_targets(iotkit_fleet_t *fleet, const char *rollout_id, int group,
                                          iotkit_fleet_rollout_device_t **out, size_t *count);
iotkit_err_t iotkit_fleet_rollout_target(iotkit_fleet_t *fleet, const char *rollout_id,
                                         const char *device_id, iotkit_fleet_rollout_device_t *out);
iotkit_err_t iotkit_fleet_rollout_list(iotkit_fleet_t *fleet, char ***ids, size_t *count);
void iotkit_fleet_rollout_ids_free(char **ids, size_t count);

typedef struct iotkit_fleet_rollout_event {
  size_t struct_size;
  const char *rollout_id;
  iotkit_fleet_rollout_state_t state;
  int group;
  iotkit_fleet_group_state_t group_state;
  const char *device_id;
  iotkit_fleet_rollout_device_state_t device_state;
  unsigned percent;
  const char *error;
  ...;
} iotkit_fleet_rollout_event_t;

typedef void (*iotkit_fleet_rollout_cb)(iotkit_fleet_t *fleet, void *user, const iotkit_fleet_rollout_event_t *ev);
iotkit_err_t iotkit_fleet_on_rollout(iotkit_fleet_t *fleet, iotkit_fleet_rollout_cb cb, void *user);
extern "Python" void _iotkit_pyfleet_rollout(iotkit_fleet_t *, void *, const iotkit_fleet_rollout_event_t *);
