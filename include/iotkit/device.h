/**
 * @file device.h
 * @brief The device handle: connection, telemetry, and the device model
 * (reported and desired state, commands, events, online status).
 *
 * A device is created from an ::iotkit_device_config_t, connected, and then
 * driven either by calling iotkit_device_poll() from the application's own
 * loop (callbacks then run in that thread), or by iotkit_device_start(), which
 * runs the loop in a background thread of the HAL (callbacks then run in that
 * thread). An external event loop (asyncio, libuv, a Lua loop, one thread
 * driving many devices) watches iotkit_device_fd() for iotkit_device_fd_events()
 * and calls iotkit_device_poll(dev, 0) when the descriptor is ready or when
 * iotkit_device_next_timeout_ms() has passed, whichever comes first; the fd
 * callback (iotkit_device_on_fd()) says when the descriptor changes. See
 * "Driving a device from an external loop" in docs/architecture.md.
 * The wire format is specified in docs/protocol.md.
 *
 * Connection supervision: after a successful iotkit_device_connect(), or from
 * iotkit_device_start() on (which connects by itself if needed), a lost
 * connection is re-established by the polling thread with exponential backoff
 * and full jitter (reconnect_min_ms, reconnect_max_ms; attempt n waits a random
 * time in [0, min(max, min * 2^n)]), unless auto_reconnect is off. Every attempt
 * calls the credentials callback first and uses a new transport context, so a
 * refreshed password, and the last will, are those of that attempt. After each
 * (re)connection the device subscribes to its channels again (the model's and
 * the application's), publishes its online status and re-sends its reported
 * state. The connection callback sees each session going up and down; failed
 * attempts in between are not reported (they are logged and in
 * iotkit_device_last_error()). A half-open connection is detected by the
 * transport's keepalive (keepalive_s). iotkit_device_disconnect() ends
 * supervision.
 *
 * Thread-safety. These may be called from any thread at any time, also while
 * the background loop runs and from inside callbacks:
 * iotkit_device_send_telemetry(), iotkit_device_publish(), iotkit_device_report(),
 * iotkit_device_reported(), iotkit_device_desired(), iotkit_device_event(),
 * iotkit_command_complete(), iotkit_command_fail(), iotkit_device_is_connected(),
 * iotkit_device_last_error(), iotkit_device_id(), iotkit_device_hal(),
 * iotkit_device_command_register() and every callback setter
 * (iotkit_device_on_*). iotkit_device_subscribe() may be called from any thread
 * while the background loop runs (the loop then makes the subscription).
 * iotkit_device_fd() is thread-safe too. All other calls (connect, disconnect,
 * poll, start, stop, fd_events, next_timeout_ms, free) are made from one thread
 * at a time, the controlling thread; while the background loop runs,
 * iotkit_device_connect(), iotkit_device_disconnect() and iotkit_device_poll()
 * refuse with ::IOTKIT_ERR_STATE: stop the loop first.
 *
 * Callbacks. Every callback of a device runs in the thread that polls it (the
 * controlling thread inside iotkit_device_poll(), iotkit_device_connect() or
 * iotkit_device_disconnect(), or the background loop), one at a time, with no
 * device lock held, so a callback may call every thread-safe function above on
 * its own device, including the setters. From a callback of its own device,
 * iotkit_device_free(), iotkit_device_stop(), iotkit_device_connect(),
 * iotkit_device_disconnect() and iotkit_device_poll() refuse with
 * ::IOTKIT_ERR_STATE and change nothing. Callbacks never run after
 * iotkit_device_free() has returned, nor during it.
 *
 * Replacing a callback. When a setter (iotkit_device_on_connection(),
 * iotkit_device_on_delivery(), iotkit_device_on_message(),
 * iotkit_device_on_desired(), iotkit_device_on_credentials(),
 * iotkit_device_on_fd()) or iotkit_device_command_register() returns, having
 * replaced or removed a callback, the old callback is not running and will
 * never run again with the old user pointer, which the caller may free at
 * once: a setter called from another thread while a callback of the device
 * runs waits until that callback has returned. Called from inside a callback of
 * the same device it returns at once (the callback still running is the
 * caller's own). So a setter must not be called while holding a lock (such as
 * Python's GIL) that the device's callbacks take, nor from a callback of
 * another device whose own callbacks replace this device's in turn. The
 * guarantee needs the HAL's thread_self operation (both shipped HALs have it);
 * with a HAL without it the setters do not wait, and the refusals above work
 * only without the background loop.
 */
#ifndef IOTKIT_DEVICE_H
#define IOTKIT_DEVICE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "core.h"
#include "edge.h"
#include "error.h"
#include "hal.h"
#include "options.h"
#include "protocol.h"
#include "telemetry.h"
#include "transport.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A device. Opaque. */
typedef struct iotkit_device iotkit_device_t;

/** How a device is created. Fill with iotkit_device_config_init(); every string is copied. */
typedef struct iotkit_device_config {
  /** sizeof(iotkit_device_config_t) as the caller was compiled (set by the _init function);
      0 means the layout of 0.2.0. See "Structs that grow" in docs/architecture.md. */
  size_t struct_size;
  /** Device id: 1..IOTKIT_MAX_DEVICE_ID bytes of [A-Za-z0-9._-]. Required. */
  const char *device_id;
  /** Endpoint, e.g. "mqtt://127.0.0.1:1883". Required. */
  const char *uri;
  /** User name (overrides the URI's), or NULL. */
  const char *username;
  /** Password or token (overrides the URI's), or NULL. Never logged. */
  const char *password;
  /** Keepalive in seconds (default IOTKIT_KEEPALIVE_DEFAULT_S; 0 turns it off). */
  uint16_t keepalive_s;
  /** Start a clean session (default true). */
  bool clean_session;
  /** MQTT protocol: 311 (default) or 5; 0 means 311. */
  int mqtt_version;
  /** Connect timeout in ms (default IOTKIT_CONNECT_TIMEOUT_DEFAULT_MS; 0 means the default).
      Also bounds each wait of iotkit_device_disconnect(). */
  uint32_t connect_timeout_ms;
  /** Largest payload accepted (default IOTKIT_MAX_PAYLOAD_DEFAULT; 0 means the default). */
  size_t max_payload;
  /** Topic prefix (default IOTKIT_TOPIC_PREFIX_DEFAULT; NULL means the default): one or more
      '/'-separated segments, no wildcards, no empty segment, no "." or "..". */
  const char *topic_prefix;
  /** QoS used for telemetry: 0, 1 or 2 (default 1). */
  int telemetry_qos;
  /** The HAL; NULL makes a POSIX HAL on state_dir (which is then required). Not copied: must outlive the device. */
  const iotkit_hal_t *hal;
  /** State directory for the default POSIX HAL, or NULL. */
  const char *state_dir;
  /** Registry of transports, or NULL for the built-in ones. Not copied: must outlive the device. */
  const iotkit_transport_registry_t *transports;
  /** TLS options for secure schemes. */
  iotkit_tls_config_t tls;
  /** Reconnect by itself after a lost connection (default true): see "Connection supervision". */
  bool auto_reconnect;
  /** Upper bound of the first reconnect delay, in ms (default IOTKIT_RECONNECT_MIN_DEFAULT_MS; 0 means the default). */
  uint32_t reconnect_min_ms;
  /** Largest reconnect delay, in ms (default IOTKIT_RECONNECT_MAX_DEFAULT_MS; 0 means the default;
      raised to reconnect_min_ms if smaller). */
  uint32_t reconnect_max_ms;
  /** Time a command handler has to complete, in ms (default IOTKIT_COMMAND_TIMEOUT_DEFAULT_MS; 0 means the default). */
  uint32_t command_timeout_ms;
  /**
   * End-to-end payload protection (optional; NULL, the default, turns it off):
   * the device's 32-byte AES-256 envelope key. Copied; the copy is wiped on free.
   * With a key, every payload the device sends on its channels (telemetry,
   * reported state, events, command responses, iotkit_device_publish()) is
   * sealed with iotkit_envelope_seal() (sender 0, the nonce counter in the HAL
   * key-value store), and every message that arrives on them (desired state,
   * command requests, the application's subscriptions) must be an envelope
   * that iotkit_envelope_open() accepts: one that does not open is dropped,
   * logged without its payload, counted (iotkit_device_e2e_rejected()) and
   * never delivered. The channel bound into the envelope is the part of the
   * topic after "<prefix>/<device id>/", e.g. "telemetry" or
   * "commands/request". The online status and the last will ("status") stay
   * plain: they are the broker's and the hub's presence information.
   * max_payload applies to the plaintext. See docs/protocol.md, "Payload envelope".
   */
  const uint8_t *e2e_key;
  /** Key id of e2e_key (1 to 32 bytes of [A-Za-z0-9._-]); required with e2e_key. Copied. */
  const char *e2e_key_id;
  /**
   * Keep telemetry in a durable store-and-forward queue (default true; used only
   * when the HAL has seg_* operations, else telemetry is sent directly). See
   * "Durable telemetry" at iotkit_device_send_telemetry().
   */
  bool telemetry_durable;
  /** Most bytes the queue may hold on the HAL (0: the queue's default, 16 MiB). */
  uint64_t telemetry_queue_max_bytes;
  /** What an accepted message does when the queue is full (default ::IOTKIT_TELEMETRY_DROP_OLDEST). */
  iotkit_telemetry_full_policy_t telemetry_full_policy;
  /** When the queue syncs (default ::IOTKIT_TELEMETRY_SYNC_INTERVAL; see its loss window). */
  iotkit_telemetry_sync_policy_t telemetry_sync_policy;
  /** Interval of ::IOTKIT_TELEMETRY_SYNC_INTERVAL in ms (0: the default, 1000). */
  uint32_t telemetry_sync_interval_ms;
  /**
   * Most backlog messages re-sent per second after a (re)connection or restart
   * (default IOTKIT_TELEMETRY_DRAIN_RATE_DEFAULT; 0: no limit). Live messages are
   * not counted: they go out at once, interleaved with the backlog.
   */
  uint32_t telemetry_drain_rate;
} iotkit_device_config_t;

/** Default of iotkit_device_config_t.telemetry_drain_rate, in messages per second. */
#ifndef IOTKIT_TELEMETRY_DRAIN_RATE_DEFAULT
#define IOTKIT_TELEMETRY_DRAIN_RATE_DEFAULT 100u
#endif

/** @brief Fill @p cfg with defaults. NULL is ignored. */
IOTKIT_API void iotkit_device_config_init(iotkit_device_config_t *cfg);

/**
 * @brief Create a device. Nothing touches the network until iotkit_device_connect().
 * @param cfg the configuration (strings copied).
 * @param out receives the device; release with iotkit_device_free().
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG (NULL, no or bad device id, no
 *         uri, no HAL nor state_dir, a HAL lacking required operations, bad qos,
 *         mqtt_version or topic_prefix, an e2e_key without a valid e2e_key_id or an
 *         e2e_key_id without a key); ::IOTKIT_ERR_BAD_URI; ::IOTKIT_ERR_UNKNOWN_SCHEME
 *         (no backend in @c transports, or the built-in ones, serves the scheme);
 *         ::IOTKIT_ERR_IO (state directory unusable); ::IOTKIT_ERR_NOMEM.
 *         @p *out is left alone on failure.
 */
IOTKIT_API iotkit_err_t iotkit_device_new(const iotkit_device_config_t *cfg, iotkit_device_t **out);

/**
 * @brief Stop the background loop (waiting for it), end the session and free.
 * A live session is closed cleanly (so the server publishes no last will),
 * waiting at most about a second; messages not yet confirmed are dropped (use
 * iotkit_device_disconnect() first to flush them). No callback runs during or
 * after this call (the fd callback is not told that the descriptor goes away).
 * The password is overwritten before its memory is released. A HAL the device
 * made from state_dir is freed too.
 * @return ::IOTKIT_OK (also for NULL, a no-op): @p dev is gone;
 *         ::IOTKIT_ERR_STATE when called from a callback of @p dev (in the
 *         background loop or in the polling thread): nothing is changed, and the
 *         device stays usable. Controlling thread.
 */
IOTKIT_API iotkit_err_t iotkit_device_free(iotkit_device_t *dev);

/** Called when the connection goes up (@p connected true) or down (with @p reason, ::IOTKIT_OK
    after iotkit_device_disconnect(), and @p detail, "" if none). A failed
    iotkit_device_connect() reports through its return value, not through this callback. */
typedef void (*iotkit_connection_cb)(iotkit_device_t *dev, void *user, bool connected, iotkit_err_t reason,
                                     const char *detail);
/** Called when message @p msg_id is confirmed (::IOTKIT_OK) or has failed: only the
    application's messages (telemetry, iotkit_device_publish(), events); the library's
    own (status, reported state, command responses) are not reported. With the
    background loop, it may run before the iotkit_device_send_telemetry() that sent the
    message (in another thread) has returned the id: guard id bookkeeping with a lock. */
typedef void (*iotkit_delivery_cb)(iotkit_device_t *dev, void *user, uint32_t msg_id, iotkit_err_t status);
/** Called for every message that arrives on a subscribed channel. */
typedef void (*iotkit_message_cb)(iotkit_device_t *dev, void *user, const char *channel, const void *payload,
                                  size_t len);

/** @brief Set (or clear with NULL) the connection callback. Thread-safe; when it returns
    the old callback is not running (see "Replacing a callback" above).
    @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG for a NULL @p dev. */
IOTKIT_API iotkit_err_t iotkit_device_on_connection(iotkit_device_t *dev, iotkit_connection_cb cb, void *user);
/** @brief Set (or clear with NULL) the delivery callback. As iotkit_device_on_connection(). */
IOTKIT_API iotkit_err_t iotkit_device_on_delivery(iotkit_device_t *dev, iotkit_delivery_cb cb, void *user);
/** @brief Set (or clear with NULL) the callback for incoming messages. As iotkit_device_on_connection(). */
IOTKIT_API iotkit_err_t iotkit_device_on_message(iotkit_device_t *dev, iotkit_message_cb cb, void *user);

/**
 * @brief Connect and wait until the session is up or connect_timeout_ms has passed.
 * Runs the connection callback before returning ::IOTKIT_OK. A desired state
 * stored by an earlier run is delivered to the desired callback first, even if
 * the connection then fails. Success starts connection supervision.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_CONNECT (nothing listening, name not resolved),
 *         ::IOTKIT_ERR_AUTH (refused by the server), ::IOTKIT_ERR_TLS,
 *         ::IOTKIT_ERR_TIMEOUT, ::IOTKIT_ERR_STATE (already connected, the
 *         background loop runs, or called from a callback of @p dev); ::IOTKIT_ERR_NOMEM. Detail, naming host:port and what
 *         the transport or server said, in iotkit_device_last_error().
 *         Each attempt creates a new transport context; after a failure the
 *         half-open attempt is dropped, so no late event reaches the callbacks.
 */
IOTKIT_API iotkit_err_t iotkit_device_connect(iotkit_device_t *dev);

/**
 * @brief Disconnect cleanly and stop supervision: publish the retained offline
 * status, poll until every message sent has been confirmed or
 * failed (at most connect_timeout_ms), then close the session and wait for it
 * to end. The connection callback runs with ::IOTKIT_OK.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_NOT_CONNECTED; ::IOTKIT_ERR_STATE if the
 *         background loop runs or when called from a callback of @p dev; a
 *         transport error or ::IOTKIT_ERR_TIMEOUT, after which the device is
 *         disconnected anyway.
 */
IOTKIT_API iotkit_err_t iotkit_device_disconnect(iotkit_device_t *dev);

/**
 * @brief Publish a telemetry payload on the device's telemetry channel
 * ("<prefix>/<device id>/telemetry").
 * @param dev the device.
 * @param payload bytes (copied), NULL only if @p len is 0.
 * @param len payload length; more than max_payload gives ::IOTKIT_ERR_TOO_LARGE.
 * @param msg_id receives the id the delivery callback will name, or NULL.
 * @return ::IOTKIT_OK once queued; ::IOTKIT_ERR_INVALID_ARG; ::IOTKIT_ERR_TOO_LARGE;
 *         ::IOTKIT_ERR_NOT_CONNECTED; a transport error. Thread-safe.
 *
 * Durable telemetry: when the device has a durable queue (telemetry_durable and
 * a HAL with seg_* operations), every accepted message is first appended to the
 * queue "telemetry" of the HAL with the next per-device sequence number (which
 * survives restarts), then sent if the session is up; it is removed only when
 * the transport confirms its delivery (the delivery event: QoS 1/2
 * acknowledgement, CoAP ACK, HTTP 2xx). Messages not confirmed (offline, a lost
 * session, a restart) are re-sent oldest first after the next connection, at
 * most telemetry_drain_rate per second, while new messages still go out at
 * once. Delivery is at least once: a receiver drops duplicates by sequence
 * number, which iotkit_device_send_batch() puts in the payload (this function
 * sends the application's bytes unchanged, so put an id of your own in them).
 * Then ::IOTKIT_OK means "stored" (also while offline: @p msg_id then receives
 * 0). A message re-sent from the queue reaches the delivery callback under its
 * new id, which the application has not seen; follow the queue with
 * iotkit_device_telemetry_stats() (pending 0: everything confirmed). The errors are those of
 * iotkit_telemetry_queue_append() (e.g. ::IOTKIT_ERR_QUEUE_FULL with
 * ::IOTKIT_TELEMETRY_REFUSE), never ::IOTKIT_ERR_NOT_CONNECTED.
 */
IOTKIT_API iotkit_err_t iotkit_device_send_telemetry(iotkit_device_t *dev, const void *payload, size_t len,
                                                     uint32_t *msg_id);

/**
 * @brief Encode @p batch in @p format with the next telemetry sequence number
 * (set in the batch, carried by every encoding) and send it as
 * iotkit_device_send_telemetry() does. Without a durable queue the number comes
 * from a counter in memory, starting at 1.
 * @param seq receives the sequence number, or NULL.
 * @param msg_id as for iotkit_device_send_telemetry(), or NULL.
 * With an edge pipeline (iotkit_device_edge_load()) the batch is filtered first;
 * when nothing is left, nothing is stored or sent, *seq and *msg_id receive 0, and
 * ::IOTKIT_OK is returned.
 * @return as iotkit_device_send_telemetry() and iotkit_telemetry_encode(). Thread-safe.
 */
IOTKIT_API iotkit_err_t iotkit_device_send_batch(iotkit_device_t *dev, iotkit_telemetry_batch_t *batch,
                                                 iotkit_telemetry_format_t format, uint64_t *seq, uint32_t *msg_id);

/**
 * @brief Configure the device's edge pipeline (edge.h, docs/edge.md) from the JSON
 * document @p json, or turn it off with NULL.
 *
 * Every batch given to iotkit_device_send_batch() then runs through the pipeline
 * before it is encoded and queued: the points it holds back are never stored nor
 * sent, and the aggregates of its windows are added to the batch. (Payloads given
 * to iotkit_device_send_telemetry() are the application's bytes and are not
 * looked at.) The actions of its rules run from the polling thread: an event
 * (iotkit_device_event(), dropped while offline), a local call of the command
 * handler registered under that name (the one a cloud request would reach; its
 * result is logged, not sent), or a reported-state patch.
 *
 * The same document arrives from the fleet as the desired state's "edge" key (a
 * null value turns the pipeline off); the outcome of each is reported under the
 * reported state's "edge" key: {"active":bool,"version":V} where V is the desired
 * version of the active configuration (0 for one loaded with this function), and,
 * after a refusal, "refused": {"version","code","pointer","message"}. A refused
 * document changes nothing else: the active configuration and its state stay.
 * The active configuration is stored through the HAL (key "iotkit.edge") and
 * loaded again by iotkit_device_new().
 * @return as iotkit_edge_load() (the pointer and reason are also in
 *         iotkit_device_last_error()); ::IOTKIT_ERR_INVALID_ARG for a NULL @p dev.
 *         Thread-safe.
 */
IOTKIT_API iotkit_err_t iotkit_device_edge_load(iotkit_device_t *dev, const char *json);

/** @brief The device pipeline's counters (iotkit_edge_stats_sized()). Thread-safe. */
IOTKIT_API iotkit_err_t iotkit_device_edge_stats_sized(iotkit_device_t *dev, iotkit_edge_stats_t *stats, size_t size);
/** @brief iotkit_device_edge_stats_sized() with sizeof *(stats). */
#define iotkit_device_edge_stats(dev, stats) iotkit_device_edge_stats_sized((dev), (stats), sizeof *(stats))

/** @brief A detector of the device's pipeline (iotkit_edge_detector()). Thread-safe. */
IOTKIT_API iotkit_err_t iotkit_device_edge_detector(iotkit_device_t *dev, const char *name, bool *active,
                                                    double *score);

/** Telemetry counters of a device since it was created. Read with
    iotkit_device_telemetry_stats(); fields are only ever appended. They count
    with and without a durable queue; without one, a message whose session ended
    before its confirmation came is in neither confirmed nor failed (it is lost,
    as the application learns from the connection callback). */
typedef struct iotkit_device_telemetry_stats {
  bool durable;         /**< whether the device has a durable queue */
  uint64_t accepted;    /**< messages accepted by send_telemetry / send_batch */
  uint64_t sent_live;   /**< sent at once when accepted */
  uint64_t sent_backlog; /**< re-sent from the queue (after a loss, a restart, or a full in-flight window) */
  uint64_t confirmed;   /**< delivery confirmed by the transport */
  uint64_t failed;      /**< delivery failures reported by the transport (with a queue: kept for a re-send) */
  /** The queue's own counters (zero without a durable queue): pending, dropped..., corrupt. */
  iotkit_telemetry_queue_stats_t queue;
} iotkit_device_telemetry_stats_t;

/**
 * @brief Read the telemetry counters into the first @p size bytes of @p stats
 * (the caller's sizeof: a caller built against an older, smaller struct gets
 * only the fields it knows; nothing beyond @p size is written). For bindings;
 * C code calls iotkit_device_telemetry_stats().
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG (NULL, or @p size 0). Thread-safe.
 */
IOTKIT_API iotkit_err_t iotkit_device_telemetry_stats_sized(iotkit_device_t *dev,
                                                            iotkit_device_telemetry_stats_t *stats, size_t size);

/** @brief Read the telemetry counters: iotkit_device_telemetry_stats_sized() with sizeof *(stats). */
#define iotkit_device_telemetry_stats(dev, stats) iotkit_device_telemetry_stats_sized((dev), (stats), sizeof *(stats))

/**
 * @brief Publish @p len bytes on the device's channel "<prefix>/<device id>/<suffix>".
 * @param suffix channel below the device, e.g. "events/alarm": '/'-separated segments,
 *        none empty (so no leading or trailing '/'), none "." or "..", no '+' or '#',
 *        no control characters.
 * @param qos 0, 1 or 2. @param retain ask the server to retain.
 * @return as iotkit_device_send_telemetry(); ::IOTKIT_ERR_INVALID_ARG for a bad suffix
 *         or qos. Thread-safe.
 */
IOTKIT_API iotkit_err_t iotkit_device_publish(iotkit_device_t *dev, const char *suffix, const void *payload,
                                              size_t len, int qos, bool retain, uint32_t *msg_id);

/**
 * @brief Subscribe to "<prefix>/<device id>/<suffix>" (MQTT wildcards allowed in suffix:
 * '+' as a whole segment, '#' as the last one). Incoming messages reach the message
 * callback, except those on "state/desired" and "commands/request", which the device
 * model consumes. The subscription is remembered and made again after every reconnect.
 * While the background loop runs, the loop makes it (this call only records it).
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG (bad suffix or qos);
 *         ::IOTKIT_ERR_NOT_CONNECTED (not connected and no background loop); ::IOTKIT_ERR_NOMEM.
 */
IOTKIT_API iotkit_err_t iotkit_device_subscribe(iotkit_device_t *dev, const char *suffix, int qos);

/**
 * @brief Do network work for at most @p timeout_ms and run due callbacks in this thread:
 * events, reconnect attempts when due (sleeping until then, within @p timeout_ms,
 * if the HAL has sleep_ms), and timeout responses of commands past their deadline.
 * With an OTA client attached (iotkit_device_ota_attach()), it first enforces the
 * client's trial time limit (iotkit_ota_poll()), connected or not.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG (negative timeout);
 *         ::IOTKIT_ERR_STATE if the background loop runs or when called from a
 *         callback of @p dev; ::IOTKIT_ERR_NOT_CONNECTED
 *         before the first iotkit_device_connect() (and after a failed one that did
 *         not start supervision). Transport failures arrive as connection events.
 */
IOTKIT_API iotkit_err_t iotkit_device_poll(iotkit_device_t *dev, int timeout_ms);

/**
 * @brief Run the loop in a background thread (through the HAL's thread_start):
 * it polls the transport in slices of about 100 ms until iotkit_device_stop(),
 * and supervises the connection: a device that is not connected is connected by
 * the loop (with backoff between failed attempts). The connection stays as it is
 * after iotkit_device_stop().
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_STATE if already started;
 *         ::IOTKIT_ERR_UNSUPPORTED if the HAL lacks thread_start, thread_join or sleep_ms.
 */
IOTKIT_API iotkit_err_t iotkit_device_start(iotkit_device_t *dev);

/**
 * @brief Stop the background loop and wait for it (a callback it is running
 * finishes first).
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG for NULL; ::IOTKIT_ERR_STATE if
 *         not started, or when called from a callback of @p dev (the loop goes
 *         on; nothing is changed). Controlling thread.
 */
IOTKIT_API iotkit_err_t iotkit_device_stop(iotkit_device_t *dev);

/**
 * @brief The descriptor an external event loop watches, or -1.
 *
 * It is the transport context's descriptor (for MQTT one that is also valid
 * while connecting), so it stays the same for the life of one connection
 * attempt and its session, and changes only when the device makes a new
 * transport context (each attempt) or drops one (a lost session, while waiting
 * for the next attempt; a failed attempt): iotkit_device_on_fd() announces each
 * change. -1 while there is no transport (before the first connect, while
 * waiting for the next attempt) and for backends without a descriptor (the
 * loopback may have none: then iotkit_device_next_timeout_ms() asks for a poll
 * at least every 100 ms). After iotkit_device_disconnect() the descriptor of
 * the ended session may remain until the next connect or free, with nothing to
 * do (iotkit_device_next_timeout_ms() is then -1). A send from another thread
 * makes the descriptor readable (the backends wake their own loop, e.g. an
 * eventfd), so queued telemetry goes out at the next poll, not at the next
 * timeout.
 * @return the descriptor, or -1 (also for NULL). Thread-safe (the value the
 *         polling thread last saw and announced).
 */
IOTKIT_API int iotkit_device_fd(const iotkit_device_t *dev);

/**
 * @brief The events to watch iotkit_device_fd() for now: ::IOTKIT_FD_READ and/or
 * ::IOTKIT_FD_WRITE (from the transport's fd_events(); ::IOTKIT_FD_READ for a
 * backend without it). Ask again after each iotkit_device_poll(): a backend
 * wants writability only while it has bytes it could not write yet.
 * @return the bits; 0 when iotkit_device_fd() is -1, for NULL, and while the
 *         background loop runs (the loop then owns the transport). Controlling thread.
 */
IOTKIT_API int iotkit_device_fd_events(const iotkit_device_t *dev);

/**
 * @brief How long an external loop may sleep (besides waiting for the
 * descriptor) before it must call iotkit_device_poll(dev, 0), in ms.
 *
 * The minimum, over what is due, of:
 * - waiting for the next connection attempt: the backoff time left;
 * - an attempt under way: the time left until the supervisor gives it up
 *   (connect_timeout_ms and one second of grace after it started);
 * - a transport in use (attempt under way or session up): the transport's
 *   timeout_ms() (keepalive, retransmissions, a connect in progress), or
 *   100 ms if the backend has no timeout_ms() or no descriptor to wake the loop;
 * - the earliest deadline of a command handed to a handler and not yet answered;
 * - the durable telemetry queue: while a backlog waits and the session is up,
 *   the next drain credit (telemetry_drain_rate), or 100 ms after the last poll
 *   if the drain could not go on; unsynced records: the next interval sync
 *   (telemetry_sync_interval_ms); 0 right after a session began or ended;
 * - an attached OTA client on trial: the time left of its trial time limit
 *   (enforced by iotkit_device_poll() even while disconnected; a rollback that
 *   failed is tried again after a second).
 * 0 means "poll now". Poll also whenever the descriptor is ready, and ask again
 * after every poll and after calls from other threads that add work (a command
 * handed out, a telemetry backlog): the value is a snapshot.
 * @return the time in ms (capped at INT_MAX); -1 when nothing at all is due
 *         (idle: never connected, or disconnected on request, with no OTA
 *         trial running), also for NULL and while the background loop runs.
 *         Controlling thread.
 */
IOTKIT_API int iotkit_device_next_timeout_ms(const iotkit_device_t *dev);

/** Called when the device's descriptor changes from @p old_fd to @p new_fd (either may
    be -1): a new transport context (-1 to its descriptor), a dropped one (its
    descriptor to -1), or a backend whose descriptor appears late. Runs in the polling
    thread (inside iotkit_device_poll(), iotkit_device_connect(),
    iotkit_device_disconnect(), or the background loop), so an event loop can move its
    watcher; never during iotkit_device_free(). Two contexts one after the other may
    have the same number: it is still announced as a change through -1. */
typedef void (*iotkit_fd_cb)(iotkit_device_t *dev, void *user, int old_fd, int new_fd);

/** @brief Set (or clear with NULL) the fd callback. As iotkit_device_on_connection(). */
IOTKIT_API iotkit_err_t iotkit_device_on_fd(iotkit_device_t *dev, iotkit_fd_cb cb, void *user);

/** @brief Whether the session is up. Thread-safe. */
IOTKIT_API bool iotkit_device_is_connected(const iotkit_device_t *dev);

/**
 * @brief Number of incoming messages dropped because they were not envelopes
 * that open under the device's e2e_key (altered, another key id, sealed for
 * another device or channel, or plain). 0 without e2e_key or for NULL. Thread-safe.
 */
IOTKIT_API uint64_t iotkit_device_e2e_rejected(const iotkit_device_t *dev);

/** @brief The device id (owned by the device). */
IOTKIT_API const char *iotkit_device_id(const iotkit_device_t *dev);

/**
 * @brief Detail of the last failure on this device ("" if none). The text is
 * copied into @p buf (capacity @p cap, always NUL-terminated). Thread-safe.
 * @return @p buf, or "" if @p dev or @p buf is NULL.
 */
IOTKIT_API const char *iotkit_device_last_error(const iotkit_device_t *dev, char *buf, size_t cap);

/** @brief The HAL the device uses (its own POSIX HAL if none was given). */
IOTKIT_API const iotkit_hal_t *iotkit_device_hal(const iotkit_device_t *dev);

/* ------------------------------------------------------ device model -- */

/** Called before every connection attempt (the first and each reconnect) so that a
    short-lived password or token can be refreshed. The buffers hold the values the
    last attempt used (from the config or the URI at first; "" if none) and may be
    rewritten in place, NUL-terminated, within their capacities (IOTKIT_MAX_CREDENTIAL).
    An empty string means "none". Return ::IOTKIT_OK to go on; any other code
    fails the attempt (it then counts as a failed connect: backoff, or the result of
    iotkit_device_connect()). Runs in the thread that connects. The library overwrites
    both buffers after use. */
typedef iotkit_err_t (*iotkit_credentials_cb)(iotkit_device_t *dev, void *user, char *username, size_t username_cap,
                                              char *password, size_t password_cap);

/** @brief Set (or clear with NULL) the credentials callback. As iotkit_device_on_connection(). */
IOTKIT_API iotkit_err_t iotkit_device_on_credentials(iotkit_device_t *dev, iotkit_credentials_cb cb, void *user);

/**
 * @brief Merge @p json into the reported state and publish the whole document.
 *
 * The reported state is one JSON object kept by the device. @p json is a JSON
 * merge patch (RFC 7396) applied to it: keys are added or replaced, objects
 * merge recursively, a null value deletes the key. The result is published,
 * retained, on "state/reported" as {"state":{...},"ts":N} (see docs/protocol.md),
 * now if connected, and again after every (re)connection.
 * @param json a JSON object (copied); "{}" re-sends the document as it is.
 * @return ::IOTKIT_OK once merged (and sent if connected); ::IOTKIT_ERR_INVALID_ARG
 *         (NULL, or not an object); ::IOTKIT_ERR_BAD_ENCODING (not JSON);
 *         ::IOTKIT_ERR_TOO_LARGE (the message would exceed max_payload; the document
 *         is then left as it was); ::IOTKIT_ERR_NOMEM; a transport error if the send
 *         failed (the document is merged anyway and re-sent on the next connection).
 *         Thread-safe.
 */
IOTKIT_API iotkit_err_t iotkit_device_report(iotkit_device_t *dev, const char *json);

/**
 * @brief The whole reported document as JSON text (for example for a status page).
 * @param out receives a NUL-terminated copy; release it with iotkit_free().
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG; ::IOTKIT_ERR_NOMEM. Thread-safe.
 */
IOTKIT_API iotkit_err_t iotkit_device_reported(const iotkit_device_t *dev, char **out);

/** Called when a newer desired state has been applied: @p delta_json is a JSON object
    with only the keys that changed against the last applied desired document (new or
    changed values; a removed key appears as null; nested objects recursively, i.e. an
    RFC 7396 merge patch), and @p version the new document's version. Runs in the polling
    thread, or, for a desired state persisted by an earlier run, inside the first
    iotkit_device_connect() (or the first loop iteration after iotkit_device_start())
    before the connection is attempted. */
typedef void (*iotkit_desired_cb)(iotkit_device_t *dev, void *user, const char *delta_json, uint64_t version);

/**
 * @brief Set (or clear with NULL) the desired-state callback. Set it before connecting:
 * a desired state restored from the HAL key-value store is delivered once, at the
 * first connect or start. Thread-safe.
 *
 * The device applies a desired document ({"version":N,"state":{...}} on
 * "state/desired") only if N is greater than the version last applied, and then
 * stores it through the HAL (key "iotkit.desired"; one device per HAL store), so a
 * restarted device knows it. Malformed documents are logged and ignored.
 * When it returns, the old callback is not running (see "Replacing a callback").
 */
IOTKIT_API iotkit_err_t iotkit_device_on_desired(iotkit_device_t *dev, iotkit_desired_cb cb, void *user);

/**
 * @brief The last applied desired document's state and version.
 * @param state_json receives the state object as JSON text ("{}" if none), release with
 *        iotkit_free(); may be NULL. @param version receives the version (0 if none); may be NULL.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG; ::IOTKIT_ERR_NOMEM. Thread-safe.
 */
IOTKIT_API iotkit_err_t iotkit_device_desired(const iotkit_device_t *dev, char **state_json, uint64_t *version);

/** A command awaiting its result. Opaque; released by iotkit_command_complete() or iotkit_command_fail(). */
typedef struct iotkit_command iotkit_command_t;

/** Handles command @p name with request id @p request_id and parameters @p params_json (a
    JSON object, "{}" if the request had none). Answer with iotkit_command_complete() or
    iotkit_command_fail() on @p cmd, from inside the handler or later from any thread,
    within command_timeout_ms; after that the device sends a "timeout" error response.
    Runs in the polling thread. */
typedef void (*iotkit_command_cb)(iotkit_device_t *dev, void *user, const char *request_id, const char *name,
                                  const char *params_json, iotkit_command_t *cmd);

/**
 * @brief Register (or replace, or with NULL @p cb remove) the handler of command @p name.
 * A request naming no registered command gets an "unknown_command" error response.
 * @param name 1..IOTKIT_MAX_NAME bytes of [A-Za-z0-9._-] (copied).
 * When it returns having replaced or removed a handler, the old handler is not
 * running (see "Replacing a callback").
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG; ::IOTKIT_ERR_NOT_FOUND (removing an
 *         unknown name); ::IOTKIT_ERR_NOMEM. Thread-safe.
 */
IOTKIT_API iotkit_err_t iotkit_device_command_register(iotkit_device_t *dev, const char *name, iotkit_command_cb cb,
                                                      void *user);

/**
 * @brief Answer a command with success and release @p cmd.
 * @param result_json any JSON value (re-serialized compactly), or NULL for {}.
 * @return ::IOTKIT_OK when the response was queued; ::IOTKIT_ERR_BAD_ENCODING
 *         (@p result_json is not JSON: @p cmd stays open, answer it again);
 *         ::IOTKIT_ERR_TOO_LARGE (the response would exceed max_payload: @p cmd stays open);
 *         ::IOTKIT_ERR_TIMEOUT (the deadline had passed and the timeout response was
 *         sent: nothing is sent, @p cmd is released); ::IOTKIT_ERR_NOT_CONNECTED or
 *         another transport error (the response is lost, @p cmd is released);
 *         ::IOTKIT_ERR_INVALID_ARG for a NULL @p cmd. Thread-safe. Every @p cmd must be
 *         released exactly once; those still open are released by iotkit_device_free().
 */
IOTKIT_API iotkit_err_t iotkit_command_complete(iotkit_command_t *cmd, const char *result_json);

/**
 * @brief Answer a command with an error {"code":@p code,"message":@p message} and release @p cmd.
 * @param code a short machine-readable code such as "invalid_params" (required, non-empty).
 * @param message human-readable text, or NULL for "".
 * @return as iotkit_command_complete() (::IOTKIT_ERR_INVALID_ARG for a NULL or empty
 *         @p code leaves @p cmd open). Thread-safe.
 */
IOTKIT_API iotkit_err_t iotkit_command_fail(iotkit_command_t *cmd, const char *code, const char *message);

/**
 * @brief Publish an event {"type":@p type,"ts":N,"data":...} on "events/<type>" (QoS 1, not retained).
 * @param type 1..IOTKIT_MAX_NAME bytes of [A-Za-z0-9._-].
 * @param data_json any JSON value (re-serialized compactly), or NULL for {}.
 * @param msg_id receives the id the delivery callback will name, or NULL.
 * @return ::IOTKIT_OK once queued; ::IOTKIT_ERR_INVALID_ARG; ::IOTKIT_ERR_BAD_ENCODING;
 *         ::IOTKIT_ERR_TOO_LARGE; ::IOTKIT_ERR_NOT_CONNECTED (events are not queued
 *         while offline); a transport error. Thread-safe.
 */
IOTKIT_API iotkit_err_t iotkit_device_event(iotkit_device_t *dev, const char *type, const char *data_json,
                                            uint32_t *msg_id);

/**
 * @brief Report the device's position on its "location" channel (QoS 1,
 * retained, so that a fleet that subscribes later gets the latest position):
 * the document of iotkit_protocol_location_build() (docs/protocol.md,
 * "Location"). With e2e_key the document is sealed like telemetry.
 * @param loc the position (copied); ts_ms 0 means now (the HAL's wall clock).
 *        Latitude outside [-90, 90], longitude outside [-180, 180], a NaN or
 *        infinite value, a negative accuracy or ts_ms: ::IOTKIT_ERR_INVALID_ARG.
 * @return ::IOTKIT_OK once queued (its confirmation is the library's own and does
 *         not reach the delivery callback); ::IOTKIT_ERR_INVALID_ARG (NULL or a
 *         bad position); ::IOTKIT_ERR_NOT_CONNECTED (positions are not queued
 *         while offline); ::IOTKIT_ERR_NOMEM; a transport error. Thread-safe.
 */
IOTKIT_API iotkit_err_t iotkit_device_report_location(iotkit_device_t *dev, const iotkit_location_t *loc);

#ifdef __cplusplus
}
#endif
#endif /* IOTKIT_DEVICE_H */
