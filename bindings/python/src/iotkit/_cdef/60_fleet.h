/* fleet.h: config, open/free, records, list, count. The session and live view
 * are in 62_fleet_monitor.h, remote control in 64_fleet_control.h. Config
 * fields the bindings do not set (TLS, auto-registration, key callback, history
 * limits...) are left to iotkit_fleet_config_init() and not declared here.
 * Structs end with `...;` so that cffi takes the compiler's layout (API mode:
 * the offsets of the fields declared are the C compiler's); the HAL is declared
 * in 10_hal.h / 30_hal.h, iotkit_tls_config_t in 20_device.h. */
#define IOTKIT_FLEET_MAX_NAME ...
#define IOTKIT_FLEET_MAX_TYPE ...
#define IOTKIT_FLEET_MAX_TAG ...
#define IOTKIT_FLEET_MAX_TAGS ...
#define IOTKIT_FLEET_MAX_ATTRIBUTES ...
#define IOTKIT_FLEET_MAX_PAGE ...
#define IOTKIT_FLEET_BUSY_TIMEOUT_DEFAULT_MS ...

typedef struct iotkit_fleet iotkit_fleet_t;

typedef struct iotkit_fleet_config {
  size_t struct_size;
  const char *db_path;
  const iotkit_hal_t *hal;
  uint32_t busy_timeout_ms;
  bool integrity_check;
  char *error_buf;
  size_t error_buf_size;
  const char *uri;
  const char *client_id;
  const char *username;
  const char *password;
  const char *topic_prefix;
  int mqtt_version;
  uint16_t keepalive_s;
  uint32_t connect_timeout_ms;
  uint32_t reconnect_min_ms;
  uint32_t reconnect_max_ms;
  uint32_t heartbeat_ms;
  uint32_t location_history_max;
  uint32_t history_max_points;
  uint64_t history_max_age_ms;
  bool auto_register;
  ...;
} iotkit_fleet_config_t;

void iotkit_fleet_config_init(iotkit_fleet_config_t *cfg);
iotkit_err_t iotkit_fleet_new(const iotkit_fleet_config_t *cfg, iotkit_fleet_t **out);
void iotkit_fleet_free(iotkit_fleet_t *fleet);
const char *iotkit_fleet_last_error(const iotkit_fleet_t *fleet, char *buf, size_t cap);

typedef struct iotkit_fleet_device {
  size_t struct_size;
  char *id;
  char *name;
  char *type;
  char **tags;
  size_t tag_count;
  char *attributes;
  int64_t created_ms;
  int64_t updated_ms;
  int64_t last_seen_ms;
  bool online;
  ...;
} iotkit_fleet_device_t;

typedef struct iotkit_fleet_device_spec {
  size_t struct_size;
  const char *id;
  const char *name;
  const char *type;
  const char *const *tags;
  size_t tag_count;
  const char *attributes;
  ...;
} iotkit_fleet_device_spec_t;

void iotkit_fleet_device_spec_init(iotkit_fleet_device_spec_t *spec);

typedef enum iotkit_fleet_field {
  IOTKIT_FLEET_FIELD_NAME = ..., IOTKIT_FLEET_FIELD_TYPE = ..., IOTKIT_FLEET_FIELD_TAGS = ...,
  IOTKIT_FLEET_FIELD_ATTRIBUTES = ..., IOTKIT_FLEET_FIELD_ALL = ...
} iotkit_fleet_field_t;

iotkit_err_t iotkit_fleet_device_create(iotkit_fleet_t *fleet, const iotkit_fleet_device_spec_t *spec);
iotkit_err_t iotkit_fleet_device_get(iotkit_fleet_t *fleet, const char *id, iotkit_fleet_device_t **out);
iotkit_err_t iotkit_fleet_device_update(iotkit_fleet_t *fleet, const iotkit_fleet_device_spec_t *spec,
                                        uint32_t fields);
iotkit_err_t iotkit_fleet_device_delete(iotkit_fleet_t *fleet, const char *id);
void iotkit_fleet_device_free(iotkit_fleet_device_t *device);

typedef enum iotkit_fleet_online {
  IOTKIT_FLEET_ONLINE_ANY = ..., IOTKIT_FLEET_ONLINE_ONLY = ..., IOTKIT_FLEET_OFFLINE_ONLY = ...
} iotkit_fleet_online_t;

typedef struct iotkit_fleet_filter {
  size_t struct_size;
  const char *type;
  const char *tag;
  iotkit_fleet_online_t online;
  int64_t last_seen_before_ms;
  int64_t last_seen_after_ms;
  ...;
} iotkit_fleet_filter_t;

void iotkit_fleet_filter_init(iotkit_fleet_filter_t *filter);

typedef struct iotkit_fleet_page {
  size_t struct_size;
  iotkit_fleet_device_t **devices;
  size_t count;
  char *next_after;
  ...;
} iotkit_fleet_page_t;

iotkit_err_t iotkit_fleet_list(iotkit_fleet_t *fleet, const iotkit_fleet_filter_t *filter, const char *after_id,
                               size_t limit, iotkit_fleet_page_t **out);
iotkit_err_t iotkit_fleet_count(iotkit_fleet_t *fleet, const iotkit_fleet_filter_t *filter, uint64_t *count);
void iotkit_fleet_page_free(iotkit_fleet_page_t *page);
