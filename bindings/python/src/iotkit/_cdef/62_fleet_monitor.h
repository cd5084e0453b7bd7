/* fleet_monitor.h: the fleet's broker session and the parts of its live view the
 * bindings read (presence, reported state, latest telemetry, counters), and the
 * callbacks iotkit/fleet.py registers (user: the fleet's cffi handle). History
 * and locations are in 63_fleet_history.h. */
#define IOTKIT_PROTOCOL_NO_TS ...

iotkit_err_t iotkit_fleet_connect(iotkit_fleet_t *fleet);
iotkit_err_t iotkit_fleet_disconnect(iotkit_fleet_t *fleet);
iotkit_err_t iotkit_fleet_poll(iotkit_fleet_t *fleet, int timeout_ms);
iotkit_err_t iotkit_fleet_start(iotkit_fleet_t *fleet);
iotkit_err_t iotkit_fleet_stop(iotkit_fleet_t *fleet);
int iotkit_fleet_fd(const iotkit_fleet_t *fleet);
int iotkit_fleet_next_timeout_ms(const iotkit_fleet_t *fleet);
bool iotkit_fleet_is_connected(const iotkit_fleet_t *fleet);
iotkit_err_t iotkit_fleet_sync(iotkit_fleet_t *fleet);

typedef void (*iotkit_fleet_connection_cb)(iotkit_fleet_t *fleet, void *user, bool up, iotkit_err_t reason,
                                           const char *detail);
typedef void (*iotkit_fleet_status_cb)(iotkit_fleet_t *fleet, void *user, const char *device_id, bool online,
                                       const char *reason, int64_t ts_ms);
typedef void (*iotkit_fleet_telemetry_cb)(iotkit_fleet_t *fleet, void *user, const char *device_id,
                                          const iotkit_telemetry_batch_t *batch);
typedef void (*iotkit_fleet_state_cb)(iotkit_fleet_t *fleet, void *user, const char *device_id,
                                      const char *state_json, int64_t ts_ms);
typedef void (*iotkit_fleet_event_cb)(iotkit_fleet_t *fleet, void *user, const char *device_id, const char *type,
                                      int64_t ts_ms, const char *data_json);
typedef void (*iotkit_fleet_stale_cb)(iotkit_fleet_t *fleet, void *user, const char *device_id, bool stale,
                                      int64_t last_seen_ms);

iotkit_err_t iotkit_fleet_on_connection(iotkit_fleet_t *fleet, iotkit_fleet_connection_cb cb, void *user);
iotkit_err_t iotkit_fleet_on_status(iotkit_fleet_t *fleet, iotkit_fleet_status_cb cb, void *user);
iotkit_err_t iotkit_fleet_on_telemetry(iotkit_fleet_t *fleet, iotkit_fleet_telemetry_cb cb, void *user);
iotkit_err_t iotkit_fleet_on_state(iotkit_fleet_t *fleet, iotkit_fleet_state_cb cb, void *user);
iotkit_err_t iotkit_fleet_on_event(iotkit_fleet_t *fleet, iotkit_fleet_event_cb cb, void *user);
iotkit_err_t iotkit_fleet_on_stale(iotkit_fleet_t *fleet, iotkit_fleet_stale_cb cb, void *user);

typedef struct iotkit_fleet_presence {
  bool online;
  bool stale;
  int64_t last_seen_ms;
  int64_t status_ts_ms;
  ...;
} iotkit_fleet_presence_t;
iotkit_err_t iotkit_fleet_presence_sized(iotkit_fleet_t *fleet, const char *device_id,
                                         iotkit_fleet_presence_t *out, size_t size);
iotkit_err_t iotkit_fleet_state(iotkit_fleet_t *fleet, const char *device_id, char **state_json, int64_t *ts_ms);
iotkit_err_t iotkit_fleet_latest(iotkit_fleet_t *fleet, const char *device_id, const char *name,
                                 iotkit_telemetry_batch_t **out);

typedef struct iotkit_fleet_stats {
  uint64_t messages;
  uint64_t telemetry;
  uint64_t states;
  uint64_t events;
  uint64_t statuses;
  uint64_t locations;
  uint64_t undecodable;
  uint64_t unknown_device;
  uint64_t auto_registered;
  uint64_t refused;
  uint64_t dropped_metrics;
  uint64_t write_failures;
  uint64_t sessions;
  uint64_t reconciliations;
  ...;
} iotkit_fleet_stats_t;
iotkit_err_t iotkit_fleet_stats_sized(iotkit_fleet_t *fleet, iotkit_fleet_stats_t *stats, size_t size);

extern "Python" void _iotkit_pyfleet_connection(iotkit_fleet_t *, void *, bool, iotkit_err_t, const char *);
extern "Python" void _iotkit_pyfleet_status(iotkit_fleet_t *, void *, const char *, bool, const char *, int64_t);
extern "Python" void _iotkit_pyfleet_telemetry(iotkit_fleet_t *, void *, const char *,
                                               const iotkit_telemetry_batch_t *);
extern "Python" void _iotkit_pyfleet_state(iotkit_fleet_t *, void *, const char *, const char *, int64_t);
extern "Python" void _iotkit_pyfleet_event(iotkit_fleet_t *, void *, const char *, const char *, int64_t,
                                           const char *);
extern "Python" void _iotkit_pyfleet_stale(iotkit_fleet_t *, void *, const char *, bool, int64_t);
