/**
 * @file fleet_monitor.h
 * @brief The fleet's broker session and its live view: presence, latest
 * reported state, latest telemetry values, events, locations, stale devices.
 * Included by fleet.h (include that one).
 *
 * **Session.** iotkit_fleet_connect() opens a session with the broker of
 * iotkit_fleet_config_t::uri through a transport context, like a device does,
 * and subscribes (QoS 1) to "<prefix>/+/status", "<prefix>/+/telemetry",
 * "<prefix>/+/state/reported", "<prefix>/+/events/+",
 * "<prefix>/+/location", "<prefix>/+/ota/status" (rollouts, fleet_rollout.h),
 * and to the broker's uptime topic. A lost session is
 * re-opened with exponential backoff and full jitter (reconnect_min_ms,
 * reconnect_max_ms), each attempt with a new transport context. Drive it like
 * a device: iotkit_fleet_poll() from your thread, iotkit_fleet_start() for a
 * thread of the fleet's own, or an external loop with iotkit_fleet_fd() and
 * iotkit_fleet_next_timeout_ms().
 *
 * **Presence.** A device is online when its latest status document (docs/protocol.md,
 * "Session lifecycle and online status": its own "online"/"offline", or the
 * last will the broker publishes for it) says so. At the start of every
 * session the broker re-delivers the retained status of every device (the
 * message's retain flag, iotkit_transport_msg_t::retain, tells them from live
 * ones); the fleet then publishes a marker to itself on
 * "<prefix>/~fleet/<client id>/sync" ('~' cannot start a device id) and,
 * when the marker comes back (all retained statuses are delivered before it),
 * it reconciles its view with the broker's in one step:
 *  - a device whose retained status is "online" is online, unless that
 *    session cannot be alive: its ts is older than the earliest time the
 *    broker can have started (from its uptime topic: whole seconds, refreshed
 *    every broker_uptime_interval_s), or the broker is known to have started
 *    after this process's previous session came up (so it restarted meanwhile)
 *    and the ts is older than the loss of that session. Such a device is
 *    offline (reason "broker_restart") until it publishes "online" again: a
 *    broker that restarts ends every session without their last wills
 *    (mosquitto does not send them at shutdown) and, with persistence, keeps
 *    the retained "online" of devices that never come back;
 *  - a device with an "offline" status is offline (its reason);
 *  - a registered device without any retained status is offline ("no_status");
 *  - a device that sent a live status during the window keeps that one.
 * So after a broker restart (with or without persistence), a fleet restart,
 * or a last will, the online set is the broker's, minus the sessions a broker
 * restart ended. One case is coarser: a fleet process started after a broker
 * restart it did not see has only the first bound, so a device whose last
 * session began less than about broker_uptime_interval_s + 1 s before that
 * restart still shows online until it is stale. Without an uptime topic
 * (another broker: set broker_uptime_topic to its own, or NULL) the retained
 * view is taken as it is. If the marker does not come back within connect_timeout_ms (a broker
 * ACL may refuse it), the reconciliation runs then. The comparison of a
 * device's ts with the broker's start assumes clocks within a second of each
 * other.
 *
 * last_seen_ms is the fleet's wall-clock time of the latest live message from
 * the device (any channel); a retained document moves it only forward, to the
 * document's own ts.
 *
 * **Registration.** Messages from a device that is not in the registry are
 * ignored and counted (unknown_device), unless auto_register is on and its
 * callback (if any) accepts the device: then it is registered at once (empty
 * name and type, "{}" attributes) and the message is processed.
 *
 * **Monitoring.** For each registered device the fleet keeps, in memory and in
 * the database: the online flag and last-seen time, the latest reported state,
 * the latest value of each telemetry metric (the point with the newest
 * timestamp wins, so a backlog re-sent after an outage does not overwrite
 * newer values), and its latest position with a bounded history. Telemetry is
 * decoded from the JSON form, SenML JSON or SenML CBOR (iotkit_telemetry_decode()),
 * chosen by the MQTT 5 content type when there is one, else by the first byte
 * ('{' JSON form, '[' SenML JSON, a CBOR array SenML CBOR); a JSON object that
 * is not the JSON form (no "points") is read as flat metrics: every number,
 * boolean or string member is a point, "ts" is the time and "seq" the
 * sequence number (the shape `iotkit device simulate` sends without a state
 * directory). SenML times relative to "now" are resolved against the time of
 * receipt; a point without time gets the time of receipt.
 *
 * A message the fleet cannot decode (malformed, sealed without a key, a
 * document of the wrong shape) is counted (undecodable) and logged without its
 * payload; it changes nothing and the next message is processed as usual.
 * A device's live message still counts as hearing from it.
 *
 * **Writes.** Message processing never waits for the disk: it changes the
 * in-memory view and hands the changes to the writer thread, which writes
 * them in batches: the first change after a write starts an interval of
 * IOTKIT_FLEET_FLUSH_INTERVAL_MS (options.h, default 100 ms), and at its end
 * one transaction writes every change pending at that moment (one row per
 * device and field, however many messages changed it, and every telemetry
 * history point). A queued registry call or iotkit_fleet_sync() ends the
 * interval at once. Registry reads (get, list, count) and the location and
 * history queries first wait for that write when changes are pending, so they
 * see everything received before the call.
 *
 * **Durability.** The database is in WAL mode with synchronous = FULL: a
 * committed write survives a crash of the process and a power cut. A fleet
 * process that dies (SIGKILL, a crash, a power cut) loses what it had not
 * committed: the changes received since the last commit began, that is at
 * most one interval (IOTKIT_FLEET_FLUSH_INTERVAL_MS) plus the time of the one
 * transaction being written when it died, never part of a transaction (the
 * file opens intact: tests/integration/test_fleet_crash.c). After a restart
 * the broker's retained messages bring presence, state and positions back;
 * the latest telemetry values and the history are those of the last commit.
 * iotkit_fleet_sync() returns once everything received before it is committed.
 *
 * **Callbacks** get (fleet, user, ...), run in the thread that polls (the
 * fleet's own after iotkit_fleet_start()), one at a time; pointers they get
 * are valid during the call only. A setter may be called from any thread; when
 * it returns, the old callback is not running and will not run again (except
 * when called from inside a callback of the same fleet, which is the running
 * one). From a callback, iotkit_fleet_poll(), _connect(), _disconnect(),
 * _start() and _stop() are refused with ::IOTKIT_ERR_STATE; every query may be
 * called. Never call iotkit_fleet_free() from a callback.
 */
#ifndef IOTKIT_FLEET_MONITOR_H
#define IOTKIT_FLEET_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "export.h"
#include "fleet.h"
#include "protocol.h"
#include "telemetry.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ session -- */

/**
 * @brief Open the session with the broker, subscribe, and wait (within
 * connect_timeout_ms) until the broker's retained statuses are reconciled, so
 * that the presence view is the broker's when it returns. Afterwards a lost
 * session is re-opened by iotkit_fleet_poll() or the fleet's thread.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG (NULL, no uri in the config);
 *         ::IOTKIT_ERR_BAD_URI; ::IOTKIT_ERR_UNKNOWN_SCHEME; ::IOTKIT_ERR_STATE
 *         (already connected, the fleet's thread runs, or from a callback);
 *         ::IOTKIT_ERR_CONNECT, ::IOTKIT_ERR_AUTH, ::IOTKIT_ERR_TLS,
 *         ::IOTKIT_ERR_TIMEOUT (detail in iotkit_fleet_last_error()).
 *         Not thread-safe with the other session calls.
 */
IOTKIT_API iotkit_err_t iotkit_fleet_connect(iotkit_fleet_t *fleet);

/**
 * @brief End the session cleanly; no reconnection follows.
 * @return ::IOTKIT_OK (also when the session was lost and the fleet was waiting
 *         to reconnect: it stops trying); ::IOTKIT_ERR_NOT_CONNECTED (never
 *         connected, or disconnected already); ::IOTKIT_ERR_STATE (the fleet's
 *         thread runs, or from a callback); ::IOTKIT_ERR_TIMEOUT (no answer from
 *         the broker: the session is dropped anyway).
 */
IOTKIT_API iotkit_err_t iotkit_fleet_disconnect(iotkit_fleet_t *fleet);

/**
 * @brief Do the session's work for at most @p timeout_ms: receive and process
 * messages (callbacks run here), reconnect when due, mark stale devices.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG (negative timeout);
 *         ::IOTKIT_ERR_NOT_CONNECTED (never connected, or disconnected on request);
 *         ::IOTKIT_ERR_STATE (the fleet's thread runs, or from a callback).
 */
IOTKIT_API iotkit_err_t iotkit_fleet_poll(iotkit_fleet_t *fleet, int timeout_ms);

/**
 * @brief Start a thread of the fleet's own (HAL thread_start) that polls until
 * iotkit_fleet_stop(); a fleet not connected is connected by it (with backoff).
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_STATE (already running); ::IOTKIT_ERR_UNSUPPORTED
 *         (a HAL without sleep_ms); a thread_start error.
 */
IOTKIT_API iotkit_err_t iotkit_fleet_start(iotkit_fleet_t *fleet);

/**
 * @brief Stop the fleet's thread and wait for it. The session stays open.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_STATE (not running, or from a callback).
 */
IOTKIT_API iotkit_err_t iotkit_fleet_stop(iotkit_fleet_t *fleet);

/**
 * @brief The descriptor an external loop watches for readability, or -1 (no
 * transport context: not connected, or waiting for the next attempt). It
 * changes from one attempt to the next: ask again after every poll.
 */
IOTKIT_API int iotkit_fleet_fd(const iotkit_fleet_t *fleet);

/**
 * @brief The longest an external loop may wait before the next
 * iotkit_fleet_poll(fleet, 0), in ms (0: now), or -1 when only the descriptor
 * matters. Includes the transport's timers, the next connection attempt, the
 * reconciliation deadline and the next stale check. -1 while the fleet's thread runs.
 */
IOTKIT_API int iotkit_fleet_next_timeout_ms(const iotkit_fleet_t *fleet);

/** @brief True while the session is up. Thread-safe. */
IOTKIT_API bool iotkit_fleet_is_connected(const iotkit_fleet_t *fleet);

/**
 * @brief Wait until every change the fleet has received so far is written to
 * the database. Thread-safe (not from the writer thread: ::IOTKIT_ERR_STATE).
 * @return ::IOTKIT_OK, or the database's error of the last write.
 */
IOTKIT_API iotkit_err_t iotkit_fleet_sync(iotkit_fleet_t *fleet);

/* ---------------------------------------------------------- callbacks -- */

/** The session came up (@p up, reason ::IOTKIT_OK) or went down (the reason; ::IOTKIT_OK when requested). */
typedef void (*iotkit_fleet_connection_cb)(iotkit_fleet_t *fleet, void *user, bool up, iotkit_err_t reason,
                                           const char *detail);
/**
 * A device went online or offline in the fleet's view. @p reason: NULL when
 * online, else the status's reason ("disconnect", "connection_lost"), or the
 * fleet's own conclusion ("broker_restart", "no_status"); a deleted device
 * leaves the view without a callback. @p ts_ms: the status document's ts, or
 * ::IOTKIT_PROTOCOL_NO_TS (a last will, or the fleet's own conclusion).
 */
typedef void (*iotkit_fleet_status_cb)(iotkit_fleet_t *fleet, void *user, const char *device_id, bool online,
                                       const char *reason, int64_t ts_ms);
/** A telemetry message was decoded: @p batch holds its points (times resolved), valid during the call. */
typedef void (*iotkit_fleet_telemetry_cb)(iotkit_fleet_t *fleet, void *user, const char *device_id,
                                          const iotkit_telemetry_batch_t *batch);
/** A device's reported state changed (a document that differs from the one held): the whole state object. */
typedef void (*iotkit_fleet_state_cb)(iotkit_fleet_t *fleet, void *user, const char *device_id,
                                      const char *state_json, int64_t ts_ms);
/** An event arrived: its type, ts and data (JSON text). */
typedef void (*iotkit_fleet_event_cb)(iotkit_fleet_t *fleet, void *user, const char *device_id, const char *type,
                                      int64_t ts_ms, const char *data_json);
/** A position arrived (a retained one seen before is not reported again). */
typedef void (*iotkit_fleet_location_cb)(iotkit_fleet_t *fleet, void *user, const char *device_id,
                                         const iotkit_location_t *location);
/** An online device became stale (silent longer than heartbeat_ms: @p stale true) or spoke again (false). */
typedef void (*iotkit_fleet_stale_cb)(iotkit_fleet_t *fleet, void *user, const char *device_id, bool stale,
                                      int64_t last_seen_ms);

/** @brief Set (or clear, with NULL) the connection callback. @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG for NULL @p fleet. */
IOTKIT_API iotkit_err_t iotkit_fleet_on_connection(iotkit_fleet_t *fleet, iotkit_fleet_connection_cb cb, void *user);
/** @brief Set (or clear) the status-transition callback. @return as iotkit_fleet_on_connection(). */
IOTKIT_API iotkit_err_t iotkit_fleet_on_status(iotkit_fleet_t *fleet, iotkit_fleet_status_cb cb, void *user);
/** @brief Set (or clear) the telemetry callback. @return as iotkit_fleet_on_connection(). */
IOTKIT_API iotkit_err_t iotkit_fleet_on_telemetry(iotkit_fleet_t *fleet, iotkit_fleet_telemetry_cb cb, void *user);
/** @brief Set (or clear) the reported-state callback. @return as iotkit_fleet_on_connection(). */
IOTKIT_API iotkit_err_t iotkit_fleet_on_state(iotkit_fleet_t *fleet, iotkit_fleet_state_cb cb, void *user);
/** @brief Set (or clear) the event callback. @return as iotkit_fleet_on_connection(). */
IOTKIT_API iotkit_err_t iotkit_fleet_on_event(iotkit_fleet_t *fleet, iotkit_fleet_event_cb cb, void *user);
/** @brief Set (or clear) the location callback. @return as iotkit_fleet_on_connection(). */
IOTKIT_API iotkit_err_t iotkit_fleet_on_location(iotkit_fleet_t *fleet, iotkit_fleet_location_cb cb, void *user);
/** @brief Set (or clear) the stale callback. @return as iotkit_fleet_on_connection(). */
IOTKIT_API iotkit_err_t iotkit_fleet_on_stale(iotkit_fleet_t *fleet, iotkit_fleet_stale_cb cb, void *user);

/* ----------------------------------------------------------- the view -- */

/** A device's presence as the fleet sees it now. Read with iotkit_fleet_presence(); fields are only appended. */
typedef struct iotkit_fleet_presence {
  bool online;          /**< online */
  bool stale;           /**< online but silent longer than heartbeat_ms */
  int64_t last_seen_ms; /**< last heard from (fleet's wall clock), 0 if never */
  int64_t status_ts_ms; /**< ts of the status that decided `online`, or ::IOTKIT_PROTOCOL_NO_TS */
} iotkit_fleet_presence_t;

/**
 * @brief A registered device's presence (from memory: no database access).
 * @param size sizeof(*out) as the caller was compiled; nothing beyond it is written.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_NOT_FOUND (not registered); ::IOTKIT_ERR_INVALID_ARG
 *         (NULL, a bad id, a size of 0). Thread-safe.
 */
IOTKIT_API iotkit_err_t iotkit_fleet_presence_sized(iotkit_fleet_t *fleet, const char *device_id,
                                                    iotkit_fleet_presence_t *out, size_t size);
/** @brief iotkit_fleet_presence_sized() with the caller's sizeof. */
#define iotkit_fleet_presence(fleet, id, out) iotkit_fleet_presence_sized((fleet), (id), (out), sizeof *(out))

/**
 * @brief The latest reported state of a registered device.
 * @param state_json receives the state object as JSON text (iotkit_free()), or
 *        NULL when the device has reported nothing yet.
 * @param ts_ms optional: receives its ts (0 when there is none).
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_NOT_FOUND (not registered);
 *         ::IOTKIT_ERR_INVALID_ARG; ::IOTKIT_ERR_NOMEM. Thread-safe.
 */
IOTKIT_API iotkit_err_t iotkit_fleet_state(iotkit_fleet_t *fleet, const char *device_id, char **state_json,
                                           int64_t *ts_ms);

/**
 * @brief The latest value of each telemetry metric of a registered device, as
 * a new batch of one point per metric in name order (units kept, tags not).
 * @param name NULL for every metric, else only that one.
 * @param out receives the batch (iotkit_telemetry_batch_free()); empty when
 *        the device has sent no telemetry.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_NOT_FOUND (not registered, or no metric
 *         @p name); ::IOTKIT_ERR_INVALID_ARG; ::IOTKIT_ERR_NOMEM. Thread-safe.
 */
IOTKIT_API iotkit_err_t iotkit_fleet_latest(iotkit_fleet_t *fleet, const char *device_id, const char *name,
                                            iotkit_telemetry_batch_t **out);

/** Counters of a fleet since it was created. Read with iotkit_fleet_stats(); fields are only appended. */
typedef struct iotkit_fleet_stats {
  uint64_t messages;        /**< messages received on the fleet's subscriptions */
  uint64_t telemetry;       /**< telemetry messages decoded */
  uint64_t states;          /**< reported-state documents read */
  uint64_t events;          /**< events read */
  uint64_t statuses;        /**< status documents read */
  uint64_t locations;       /**< positions read */
  uint64_t undecodable;     /**< messages that could not be decoded (logged without payload) */
  uint64_t unknown_device;  /**< messages from devices not in the registry, ignored */
  uint64_t auto_registered; /**< devices registered by auto_register */
  uint64_t refused;         /**< auto-registrations the callback refused */
  uint64_t dropped_metrics; /**< points dropped: a device past IOTKIT_FLEET_MAX_METRICS metric names,
                                 or with too many history points waiting for the writer */
  uint64_t write_failures;  /**< writes of the live view to the database that failed (logged) */
  uint64_t sessions;        /**< sessions with the broker that came up */
  uint64_t reconciliations; /**< presence reconciliations after a session came up */
} iotkit_fleet_stats_t;

/**
 * @brief Read the counters.
 * @param size sizeof(*stats) as the caller was compiled.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG. Thread-safe.
 */
IOTKIT_API iotkit_err_t iotkit_fleet_stats_sized(iotkit_fleet_t *fleet, iotkit_fleet_stats_t *stats, size_t size);
/** @brief iotkit_fleet_stats_sized() with the caller's sizeof. */
#define iotkit_fleet_stats(fleet, stats) iotkit_fleet_stats_sized((fleet), (stats), sizeof *(stats))

/* ---------------------------------------------------------- history -- */

/** One point of a metric's history, or one bucket of it. Frozen size. */
typedef struct iotkit_fleet_sample {
  int64_t ts_ms;  /**< a point's time, or a bucket's start (t1 + k * bucket_ms) */
  double min;     /**< the least value in the bucket (a point: its value) */
  double max;     /**< the greatest value (a point: its value) */
  double mean;    /**< the mean value (a point: its value) */
  uint64_t count; /**< points in the bucket (a point: 1) */
} iotkit_fleet_sample_t;

/**
 * @brief The telemetry history of one metric of a registered device over
 * [@p t1_ms, @p t2_ms], oldest first: the points themselves, or downsampled to
 * buckets of @p bucket_ms (min, max and mean per bucket; empty buckets are left
 * out). The history is kept only with history_max_points > 0: per device and
 * metric, the newest history_max_points numeric points (doubles, integers,
 * booleans as 0/1; strings are not kept), none older than history_max_age_ms
 * when that is set; a point with the time of one held is the same point.
 * @param out receives an array of @p count samples (iotkit_free()), NULL when @p count is 0.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_NOT_FOUND (not registered); ::IOTKIT_ERR_UNSUPPORTED
 *         (no history: history_max_points is 0); ::IOTKIT_ERR_INVALID_ARG (NULL, a
 *         bad id, a metric name that breaks the point-name rule, t1_ms > t2_ms, a
 *         negative bucket_ms); database errors. Thread-safe.
 */
IOTKIT_API iotkit_err_t iotkit_fleet_history(iotkit_fleet_t *fleet, const char *device_id, const char *metric,
                                             int64_t t1_ms, int64_t t2_ms, int64_t bucket_ms,
                                             iotkit_fleet_sample_t **out, size_t *count);

/* ----------------------------------------------------------- location -- */

/**
 * @brief Where a registered device is: its latest position (from memory).
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_NOT_FOUND (not registered, or no position
 *         yet); ::IOTKIT_ERR_INVALID_ARG. Thread-safe.
 */
IOTKIT_API iotkit_err_t iotkit_fleet_locate(iotkit_fleet_t *fleet, const char *device_id, iotkit_location_t *out);

/**
 * @brief The track of a registered device: its positions with @p t1_ms ≤ ts ≤
 * @p t2_ms from the history (the last location_history_max positions), oldest first.
 * @param out receives an array of @p count positions (iotkit_free()), NULL when @p count is 0.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_NOT_FOUND (not registered);
 *         ::IOTKIT_ERR_INVALID_ARG (NULL, a bad id, t1_ms > t2_ms); database
 *         errors. Thread-safe.
 */
IOTKIT_API iotkit_err_t iotkit_fleet_track(iotkit_fleet_t *fleet, const char *device_id, int64_t t1_ms,
                                           int64_t t2_ms, iotkit_location_t **out, size_t *count);

/** One device found by iotkit_fleet_within(). Frozen size. */
typedef struct iotkit_fleet_near {
  char device_id[IOTKIT_MAX_DEVICE_ID + 1]; /**< the device */
  double distance_m;                        /**< great-circle distance from the point (haversine, mean Earth radius) */
  iotkit_location_t location;               /**< its latest position */
} iotkit_fleet_near_t;

/** Mean Earth radius (IUGG), in metres, of the distances the fleet computes. */
#define IOTKIT_FLEET_EARTH_RADIUS_M 6371008.8

/**
 * @brief The devices whose latest position lies within @p radius_m metres of
 * (@p lat, @p lon) by the haversine formula, nearest first. The database is
 * asked only for the positions inside a bounding box of the circle, found on
 * an index of (latitude, longitude), never by reading every position.
 * @param out receives an array of @p count entries (iotkit_free()), NULL when @p count is 0.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG (NULL, latitude outside
 *         [-90, 90], longitude outside [-180, 180], a radius that is negative,
 *         NaN or infinite); database errors; ::IOTKIT_ERR_NOMEM. Thread-safe.
 */
IOTKIT_API iotkit_err_t iotkit_fleet_within(iotkit_fleet_t *fleet, double lat, double lon, double radius_m,
                                            iotkit_fleet_near_t **out, size_t *count);

/** @brief Great-circle distance in metres between two points (haversine, ::IOTKIT_FLEET_EARTH_RADIUS_M). Pure. */
IOTKIT_API double iotkit_fleet_distance_m(double lat1, double lon1, double lat2, double lon2);

#ifdef __cplusplus
}
#endif
#endif /* IOTKIT_FLEET_MONITOR_H */
