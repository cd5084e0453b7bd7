/* device.h (and the TLS options of transport.h): the device handle, its loop,
   the device model, and the callbacks the bindings register (iotkit/device.py).
   Telemetry types of telemetry.h that a device needs are declared only as far as
   the device uses them, so that the telemetry declarations (30_..59_) stay whole:
   the batch is opaque here and formats are passed as int. */
#define IOTKIT_FD_READ 1
#define IOTKIT_FD_WRITE 2

typedef struct iotkit_tls_config {
  const char *ca_file;
  const char *ca_dir;
  const char *cert_file;
  const char *key_file;
  const char *psk_identity;
  const char *psk_key_hex;
  bool verify_peer;
  ...;
} iotkit_tls_config_t;

typedef struct iotkit_device iotkit_device_t;
typedef struct iotkit_telemetry_batch iotkit_telemetry_batch_t;

typedef struct iotkit_device_config {
  size_t struct_size;
  const char *device_id;
  const char *uri;
  const char *username;
  const char *password;
  uint16_t keepalive_s;
  bool clean_session;
  int mqtt_version;
  uint32_t connect_timeout_ms;
  size_t max_payload;
  const char *topic_prefix;
  int telemetry_qos;
  const iotkit_hal_t *hal;
  const char *state_dir;
  iotkit_tls_config_t tls;
  bool auto_reconnect;
  uint32_t reconnect_min_ms;
  uint32_t reconnect_max_ms;
  uint32_t command_timeout_ms;
  const uint8_t *e2e_key;
  const char *e2e_key_id;
  bool telemetry_durable;
  uint64_t telemetry_queue_max_bytes;
  uint32_t telemetry_sync_interval_ms;
  uint32_t telemetry_drain_rate;
  ...;
} iotkit_device_config_t;

void iotkit_device_config_init(iotkit_device_config_t *cfg);
iotkit_err_t iotkit_device_new(const iotkit_device_config_t *cfg, iotkit_device_t **out);
iotkit_err_t iotkit_device_free(iotkit_device_t *dev);

typedef void (*iotkit_connection_cb)(iotkit_device_t *dev, void *user, bool connected, iotkit_err_t reason,
                                     const char *detail);
typedef void (*iotkit_delivery_cb)(iotkit_device_t *dev, void *user, uint32_t msg_id, iotkit_err_t status);
typedef void (*iotkit_message_cb)(iotkit_device_t *dev, void *user, const char *channel, const void *payload,
                                  size_t len);
typedef void (*iotkit_fd_cb)(iotkit_device_t *dev, void *user, int old_fd, int new_fd);
typedef iotkit_err_t (*iotkit_credentials_cb)(iotkit_device_t *dev, void *user, char *username, size_t username_cap,
                                              char *password, size_t password_cap);
typedef void (*iotkit_desired_cb)(iotkit_device_t *dev, void *user, const char *delta_json, uint64_t version);
typedef struct iotkit_command iotkit_command_t;
typedef void (*iotkit_command_cb)(iotkit_device_t *dev, void *user, const char *request_id, const char *name,
                                  const char *params_json, iotkit_command_t *cmd);

iotkit_err_t iotkit_device_on_connection(iotkit_device_t *dev, iotkit_connection_cb cb, void *user);
iotkit_err_t iotkit_device_on_delivery(iotkit_device_t *dev, iotkit_delivery_cb cb, void *user);
iotkit_err_t iotkit_device_on_message(iotkit_device_t *dev, iotkit_message_cb cb, void *user);
iotkit_err_t iotkit_device_on_fd(iotkit_device_t *dev, iotkit_fd_cb cb, void *user);
iotkit_err_t iotkit_device_on_credentials(iotkit_device_t *dev, iotkit_credentials_cb cb, void *user);
iotkit_err_t iotkit_device_on_desired(iotkit_device_t *dev, iotkit_desired_cb cb, void *user);
iotkit_err_t iotkit_device_command_register(iotkit_device_t *dev, const char *name, iotkit_command_cb cb,
                                           void *user);

iotkit_err_t iotkit_device_connect(iotkit_device_t *dev);
iotkit_err_t iotkit_device_disconnect(iotkit_device_t *dev);
iotkit_err_t iotkit_device_send_telemetry(iotkit_device_t *dev, const void *payload, size_t len, uint32_t *msg_id);
iotkit_err_t iotkit_device_send_batch(iotkit_device_t *dev, iotkit_telemetry_batch_t *batch,
                                      int format, uint64_t *seq, uint32_t *msg_id);

/* Only the device's own counters; the queue's (iotkit_telemetry_queue_stats_t, all
   uint64_t, size frozen) follow "failed" and are read as an array (device.py). */
typedef struct iotkit_device_telemetry_stats {
  bool durable;
  uint64_t accepted;
  uint64_t sent_live;
  uint64_t sent_backlog;
  uint64_t confirmed;
  uint64_t failed;
  ...;
} iotkit_device_telemetry_stats_t;
iotkit_err_t iotkit_device_telemetry_stats_sized(iotkit_device_t *dev, iotkit_device_telemetry_stats_t *stats,
                                                 size_t size);

iotkit_err_t iotkit_device_publish(iotkit_device_t *dev, const char *suffix, const void *payload, size_t len, int qos,
                                   bool retain, uint32_t *msg_id);
iotkit_err_t iotkit_device_subscribe(iotkit_device_t *dev, const char *suffix, int qos);
iotkit_err_t iotkit_device_poll(iotkit_device_t *dev, int timeout_ms);
iotkit_err_t iotkit_device_start(iotkit_device_t *dev);
iotkit_err_t iotkit_device_stop(iotkit_device_t *dev);
int iotkit_device_fd(const iotkit_device_t *dev);
int iotkit_device_fd_events(const iotkit_device_t *dev);
int iotkit_device_next_timeout_ms(const iotkit_device_t *dev);
bool iotkit_device_is_connected(const iotkit_device_t *dev);
uint64_t iotkit_device_e2e_rejected(const iotkit_device_t *dev);
const char *iotkit_device_id(const iotkit_device_t *dev);
const char *iotkit_device_last_error(const iotkit_device_t *dev, char *buf, size_t cap);
const iotkit_hal_t *iotkit_device_hal(const iotkit_device_t *dev);

iotkit_err_t iotkit_device_report(iotkit_device_t *dev, const char *json);
iotkit_err_t iotkit_device_reported(const iotkit_device_t *dev, char **out);
iotkit_err_t iotkit_device_desired(const iotkit_device_t *dev, char **state_json, uint64_t *version);
iotkit_err_t iotkit_command_complete(iotkit_command_t *cmd, const char *result_json);
iotkit_err_t iotkit_command_fail(iotkit_command_t *cmd, const char *code, const char *message);
iotkit_err_t iotkit_device_event(iotkit_device_t *dev, const char *type, const char *data_json, uint32_t *msg_id);

/* The callbacks of every device the bindings make; user is the device's handle. */
extern "Python" void _iotkit_py_connection(iotkit_device_t *, void *, bool, iotkit_err_t, const char *);
extern "Python" void _iotkit_py_delivery(iotkit_device_t *, void *, uint32_t, iotkit_err_t);
extern "Python" void _iotkit_py_message(iotkit_device_t *, void *, const char *, const void *, size_t);
extern "Python" void _iotkit_py_fd(iotkit_device_t *, void *, int, int);
extern "Python" iotkit_err_t _iotkit_py_credentials(iotkit_device_t *, void *, char *, size_t, char *, size_t);
extern "Python" void _iotkit_py_desired(iotkit_device_t *, void *, const char *, uint64_t);
extern "Python" void _iotkit_py_command(iotkit_device_t *, void *, const char *, const char *, const char *,
                                        iotkit_command_t *);
