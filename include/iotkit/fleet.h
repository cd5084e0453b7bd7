/**
 * @file fleet.h
 * @brief The fleet side: a registry of devices kept in a database, their live
 * view (fleet_monitor.h), their remote control (fleet_control.h) and staged
 * OTA rollouts (fleet_rollout.h).
 *
 * A fleet handle is created from an ::iotkit_fleet_config_t with
 * iotkit_fleet_new(), which opens (or creates) the registry database: an
 * SQLite file in WAL mode, or ":memory:" for a throw-away registry. The
 * database carries a schema version; an older one is migrated forward at open,
 * a newer one is refused. Every problem with the file (locked by another
 * process, read-only, corrupt, of a newer schema) is reported by
 * iotkit_fleet_new() itself, not by a later call.
 *
 * Registry records (::iotkit_fleet_device_t) have an id (the device id of
 * docs/protocol.md), a name, a type, tags, free JSON attributes, creation,
 * update and last-seen times (ms since the Unix epoch, from the HAL's wall
 * clock) and an online flag. Names, tags and attributes are stored and
 * returned byte for byte, whatever they contain (quotes, semicolons, SQL):
 * every statement is prepared and parameterized.
 *
 * Threads. Writes go through one writer thread of the fleet (started from the
 * HAL's thread_start), which owns the write connection: a registry call that
 * changes something hands its work to that thread and waits for the result,
 * so that code running in the fleet's own threads later (message callbacks)
 * can queue writes without waiting for the disk. Reads use a separate
 * connection. Every function of this header may be called from any thread at
 * any time, except iotkit_fleet_free(). See "Fleet" in docs/architecture.md.
 *
 * Ownership follows iotkit.h: strings are copied; records and pages returned
 * by the library are released with iotkit_fleet_device_free() and
 * iotkit_fleet_page_free().
 */
#ifndef IOTKIT_FLEET_H
#define IOTKIT_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "export.h"
#include "hal.h"
#include "options.h"
#include "transport.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A fleet: the registry database and, later, the fleet's broker session. Opaque. */
typedef struct iotkit_fleet iotkit_fleet_t;

/**
 * Decides whether an unknown device that speaks is registered (auto-registration,
 * iotkit_fleet_config_t::auto_register). Runs in the fleet's message thread with
 * the device id and the channel it first spoke on ("status", "telemetry", ...),
 * both valid during the call only. Return true to register it (with an empty
 * name and type, no tags and "{}" attributes), false to ignore it.
 * Until it returns true the device is not in the registry: its messages are
 * counted (iotkit_fleet_stats_t::unknown_device) and ignored, and the callback
 * is asked again at its next message.
 */
typedef bool (*iotkit_fleet_register_cb)(iotkit_fleet_t *fleet, void *user, const char *device_id,
                                         const char *channel);

/**
 * Gives the key of a device that uses end-to-end protection (fleet_control.h,
 * docs/protocol.md "Payload envelope"). Called when needed, from the thread
 * driving the session (to open what a device sent) and from the thread of a
 * command or desired-state call (to seal what is sent to it), possibly at the
 * same time: it must be thread-safe and must not call the fleet.
 *  - To open: @p key_id is the envelope's key id (not yet authenticated);
 *    fill @p key with that key of @p device_id.
 *  - To seal: @p key_id is NULL; fill @p key with the device's current key
 *    and @p key_id_out with its id (1 to IOTKIT_ENVELOPE_MAX_KID bytes of
 *    [A-Za-z0-9._-], NUL-terminated).
 * Return ::IOTKIT_OK, or ::IOTKIT_ERR_NOT_FOUND when the device has no such
 * key: to seal, that means the device does not use protection (the fleet
 * sends plain JSON); to open, the message is dropped. Any other code refuses
 * the operation with that code. The fleet wipes @p key after use.
 */
typedef iotkit_err_t (*iotkit_fleet_key_cb)(iotkit_fleet_t *fleet, void *user, const char *device_id,
                                            const char *key_id, uint8_t key[32], char key_id_out[33]);

/**
 * Options of a fleet. Fill with iotkit_fleet_config_init(), then set what differs.
 * A struct that grows (docs/architecture.md, "Structs that grow"): struct_size
 * 0 stands for this first layout, of 0.3.0.
 */
typedef struct iotkit_fleet_config {
  /** sizeof(iotkit_fleet_config_t) as the caller was compiled (set by iotkit_fleet_config_init()). */
  size_t struct_size;
  /** Registry database: a file path (created if missing; its directory must exist) or ":memory:". Copied. Required. */
  const char *db_path;
  /**
   * The HAL: wall clock (record times), log, mutexes, and thread_start /
   * thread_join (the writer thread); its condition variables when it has them,
   * else sleep_ms. Required. Not copied: must outlive the fleet.
   */
  const iotkit_hal_t *hal;
  /**
   * How long the fleet waits for another process's lock on the database, at
   * open and for each write, in ms (default IOTKIT_FLEET_BUSY_TIMEOUT_DEFAULT_MS;
   * 0 means the default). When it runs out the call fails with ::IOTKIT_ERR_BUSY.
   */
  uint32_t busy_timeout_ms;
  /** Check the whole file at open (SQLite's quick_check: reads every page) and refuse
      a damaged one with ::IOTKIT_ERR_CORRUPT (default false: only what open reads is checked). */
  bool integrity_check;
  /**
   * Optional: a buffer that receives the detail of a failure of iotkit_fleet_new()
   * (naming the file and the cause), NUL-terminated; untouched on success. The
   * same text is logged at error level through the HAL. Not copied; used during
   * iotkit_fleet_new() only.
   */
  char *error_buf;
  /** Capacity of error_buf in bytes (IOTKIT_ERROR_TEXT_SIZE is enough). */
  size_t error_buf_size;

  /* The fleet's broker session (iotkit_fleet_connect() and the rest of fleet_monitor.h). */
  /** Broker, e.g. "mqtt://127.0.0.1:1883", or NULL. Copied. */
  const char *uri;
  /** Client id of the fleet's session, or NULL for one chosen at connect. Copied. */
  const char *client_id;
  /** User name (overrides the URI's), or NULL. Copied. */
  const char *username;
  /** Password or token (overrides the URI's), or NULL. Copied, wiped on free, never logged. */
  const char *password;
  /** TLS options for secure schemes (verify_peer true by default). Strings copied. */
  iotkit_tls_config_t tls;
  /** Topic prefix the devices use (default IOTKIT_TOPIC_PREFIX_DEFAULT; NULL means the default);
      rules of iotkit_protocol_prefix_valid(). Copied. */
  const char *topic_prefix;
  /** Register unknown devices when they first speak (default false; see ::iotkit_fleet_register_cb). */
  bool auto_register;
  /** Optional: asked before each auto-registration; NULL accepts every device. */
  iotkit_fleet_register_cb auto_register_cb;
  /** Passed to auto_register_cb. */
  void *auto_register_user;
  /** Transport backends to choose from by the URI's scheme, or NULL for the built-in ones. Not copied. */
  const iotkit_transport_registry_t *transports;
  /** MQTT protocol version: 311 (default) or 5. */
  int mqtt_version;
  /** MQTT keepalive in seconds (default IOTKIT_KEEPALIVE_DEFAULT_S; 0 means the default). */
  uint16_t keepalive_s;
  /** How long one connection attempt may take, in ms (default IOTKIT_CONNECT_TIMEOUT_DEFAULT_MS; 0: the default). */
  uint32_t connect_timeout_ms;
  /** Reconnection backoff after a lost session: first cap in ms (default IOTKIT_RECONNECT_MIN_DEFAULT_MS). */
  uint32_t reconnect_min_ms;
  /** Reconnection backoff: largest cap in ms (default IOTKIT_RECONNECT_MAX_DEFAULT_MS). */
  uint32_t reconnect_max_ms;
  /**
   * A device that is online and silent for longer than this (ms) is marked
   * stale (iotkit_fleet_on_stale()); 0 (the default) turns stale detection off.
   */
  uint32_t heartbeat_ms;
  /**
   * Topic on which the broker publishes its uptime as "<seconds> seconds"
   * (default "$SYS/broker/uptime", mosquitto's; NULL or "" for none). The
   * fleet uses it to know when the broker restarted: a retained "online"
   * status older than the broker's start is from a session the restart ended
   * (see "Presence" in fleet_monitor.h). Copied.
   */
  const char *broker_uptime_topic;
  /** How often the broker refreshes its uptime topic, in seconds (mosquitto's sys_interval;
      default 10; 0 means the default): a retained uptime may be that old. */
  uint32_t broker_uptime_interval_s;
  /** Positions kept per device in the location history (default
      IOTKIT_FLEET_LOCATION_HISTORY_DEFAULT; 0 means the default); older ones are deleted. */
  uint32_t location_history_max;
  /** Telemetry history: numeric points kept per device and metric (default 0: no history;
      see iotkit_fleet_history()). Older points beyond it are deleted. */
  uint32_t history_max_points;
  /** Telemetry history: points older than this (ms, by their own time) are deleted; 0 (default): no age limit. */
  uint64_t history_max_age_ms;
  /** End-to-end protection: the devices' keys (see ::iotkit_fleet_key_cb and fleet_control.h),
      or NULL (default) for none: sealed messages are then undecodable. */
  iotkit_fleet_key_cb key_cb;
  /** Passed to key_cb. */
  void *key_user;
} iotkit_fleet_config_t;

/** @brief Fill @p cfg with defaults. NULL is ignored. */
IOTKIT_API void iotkit_fleet_config_init(iotkit_fleet_config_t *cfg);

/**
 * @brief Create a fleet: open (or create) the registry database, migrate its
 * schema forward, and start the writer thread.
 *
 * At open the database is put in WAL mode and a write transaction is taken and
 * released, so that a file the fleet could read but not write is refused here.
 *
 * @param cfg the configuration (strings copied).
 * @param out receives the fleet; release with iotkit_fleet_free(). Left alone on failure.
 * @return ::IOTKIT_OK;
 *         ::IOTKIT_ERR_INVALID_ARG: NULL arguments, a struct_size below the
 *         required fields, no db_path, no HAL or one lacking required
 *         operations or thread_start/thread_join, a bad topic_prefix, or a
 *         db_path naming an SQLite database of another application;
 *         ::IOTKIT_ERR_UNSUPPORTED: the HAL has neither condition variables nor
 *         sleep_ms, or the database has a schema newer than this library's;
 *         ::IOTKIT_ERR_BUSY: another process holds a lock on the database
 *         for longer than busy_timeout_ms;
 *         ::IOTKIT_ERR_IO: the file or its directory cannot be created,
 *         opened or written (read-only file or directory, missing directory);
 *         ::IOTKIT_ERR_CORRUPT: the file is not an SQLite database or is
 *         damaged; ::IOTKIT_ERR_NOMEM.
 *         The detail goes to error_buf and to the HAL's log.
 */
IOTKIT_API iotkit_err_t iotkit_fleet_new(const iotkit_fleet_config_t *cfg, iotkit_fleet_t **out);

/**
 * @brief Finish the queued writes, stop the writer thread, close the database and free.
 * Must not run concurrently with any other call on @p fleet.
 * @param fleet the fleet, or NULL (no-op).
 */
IOTKIT_API void iotkit_fleet_free(iotkit_fleet_t *fleet);

/**
 * @brief Detail of the last failure on this fleet ("" if none), copied into
 * @p buf (capacity @p cap, always NUL-terminated). With several threads it is
 * the latest failure of any of them. Thread-safe.
 * @return @p buf, or "" if @p fleet or @p buf is NULL or @p cap is 0.
 */
IOTKIT_API const char *iotkit_fleet_last_error(const iotkit_fleet_t *fleet, char *buf, size_t cap);

/* ---------------------------------------------------------- registry -- */

/**
 * A registry record, as the library returns it (iotkit_fleet_device_get(),
 * iotkit_fleet_list()). Every string is NUL-terminated and owned by the
 * record; release the record with iotkit_fleet_device_free().
 */
typedef struct iotkit_fleet_device {
  /** sizeof(iotkit_fleet_device_t) of the library that made the record: read a field only if it lies within it. */
  size_t struct_size;
  /** Device id: 1..IOTKIT_MAX_DEVICE_ID bytes of [A-Za-z0-9._-]. */
  char *id;
  /** Name ("" if none). */
  char *name;
  /** Type ("" if none). */
  char *type;
  /** Tags, in the order they were given (tag_count entries; NULL when there are none). */
  char **tags;
  /** Number of tags. */
  size_t tag_count;
  /** Attributes: the JSON object text as it was given ("{}" if none). */
  char *attributes;
  /** When the record was created, ms since the Unix epoch (HAL wall clock). */
  int64_t created_ms;
  /** When the record was last changed by iotkit_fleet_device_create() or _update() (ms). */
  int64_t updated_ms;
  /** When the device was last heard from (ms); 0 if never. */
  int64_t last_seen_ms;
  /** Whether the device is online. */
  bool online;
} iotkit_fleet_device_t;

/**
 * What iotkit_fleet_device_create() and iotkit_fleet_device_update() are given.
 * Fill with iotkit_fleet_device_spec_init(). Every string is copied.
 *
 * Rules (each with its code):
 *  - id: 1..IOTKIT_MAX_DEVICE_ID bytes of [A-Za-z0-9._-] (the device id rule);
 *    anything else, too long included, is ::IOTKIT_ERR_INVALID_ARG.
 *  - name: NULL or UTF-8 text of at most IOTKIT_FLEET_MAX_NAME bytes.
 *  - type: NULL, "" or 1..IOTKIT_FLEET_MAX_TYPE bytes of [A-Za-z0-9._-]
 *    (the device_type rule of an OTA manifest).
 *  - tags: tag_count (at most IOTKIT_FLEET_MAX_TAGS) distinct non-empty UTF-8
 *    strings of at most IOTKIT_FLEET_MAX_TAG bytes each; tags may be NULL when
 *    tag_count is 0.
 *  - attributes: NULL or the text of one JSON object of at most
 *    IOTKIT_FLEET_MAX_ATTRIBUTES bytes.
 * A length over its limit (name, type, a tag, attributes) or more tags than
 * IOTKIT_FLEET_MAX_TAGS is ::IOTKIT_ERR_TOO_LARGE; text that is not UTF-8 and
 * attributes that are not one JSON object are ::IOTKIT_ERR_BAD_ENCODING;
 * characters outside a type's set, an empty or repeated tag, and a NULL tag
 * pointer are ::IOTKIT_ERR_INVALID_ARG. Limits are checked before encodings.
 */
typedef struct iotkit_fleet_device_spec {
  /** sizeof(iotkit_fleet_device_spec_t) as the caller was compiled (set by _init; 0: the 0.3.0 layout). */
  size_t struct_size;
  /** Device id. Required. */
  const char *id;
  /** Name, or NULL for none (""). */
  const char *name;
  /** Type, or NULL for none (""). */
  const char *type;
  /** tag_count tags, or NULL for none. */
  const char *const *tags;
  /** Number of tags. */
  size_t tag_count;
  /** Attributes as JSON object text, or NULL for "{}". Stored as given (not re-formatted). */
  const char *attributes;
} iotkit_fleet_device_spec_t;

/** @brief Fill @p spec with defaults (everything NULL or 0). NULL is ignored. */
IOTKIT_API void iotkit_fleet_device_spec_init(iotkit_fleet_device_spec_t *spec);

/** Fields of a record that iotkit_fleet_device_update() changes: a bit mask. */
typedef enum iotkit_fleet_field {
  IOTKIT_FLEET_FIELD_NAME = 1u << 0,       /**< the name */
  IOTKIT_FLEET_FIELD_TYPE = 1u << 1,       /**< the type */
  IOTKIT_FLEET_FIELD_TAGS = 1u << 2,       /**< the whole list of tags */
  IOTKIT_FLEET_FIELD_ATTRIBUTES = 1u << 3, /**< the whole attributes object */
  IOTKIT_FLEET_FIELD_ALL = 0xfu            /**< every field above */
} iotkit_fleet_field_t;

/**
 * @brief Add a record to the registry. created_ms and updated_ms become the
 * HAL's wall clock; last_seen_ms is 0 and online false.
 * @param fleet the fleet.
 * @param spec the record (rules at ::iotkit_fleet_device_spec_t).
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_EXISTS if the id is registered already;
 *         the codes of ::iotkit_fleet_device_spec_t for bad fields;
 *         ::IOTKIT_ERR_INVALID_ARG for NULL arguments or a struct_size below
 *         the id; ::IOTKIT_ERR_BUSY, ::IOTKIT_ERR_IO, ::IOTKIT_ERR_CORRUPT from
 *         the database (detail in iotkit_fleet_last_error()); ::IOTKIT_ERR_NOMEM.
 *         Thread-safe.
 */
IOTKIT_API iotkit_err_t iotkit_fleet_device_create(iotkit_fleet_t *fleet, const iotkit_fleet_device_spec_t *spec);

/**
 * @brief Read one record.
 * @param fleet the fleet.
 * @param id the device id.
 * @param out receives a new record; release with iotkit_fleet_device_free(). Left alone on failure.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_NOT_FOUND if no record has that id;
 *         ::IOTKIT_ERR_INVALID_ARG for NULL arguments or an id that breaks the
 *         id rule; database errors as iotkit_fleet_device_create(). Thread-safe.
 */
IOTKIT_API iotkit_err_t iotkit_fleet_device_get(iotkit_fleet_t *fleet, const char *id, iotkit_fleet_device_t **out);

/**
 * @brief Change some fields of a record: those named in @p fields take the
 * values of @p spec (a NULL name, type, tags or attributes there means none:
 * "", "", no tags, "{}"); the others keep theirs. updated_ms becomes the HAL's
 * wall clock. The id cannot change. Only the fields named are checked.
 * @param fleet the fleet.
 * @param spec spec->id names the record; the fields named in @p fields are read.
 * @param fields a mask of ::iotkit_fleet_field_t; 0 changes nothing (and still
 *        reports ::IOTKIT_ERR_NOT_FOUND for an unknown id).
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_NOT_FOUND for an unknown id;
 *         ::IOTKIT_ERR_INVALID_ARG for bits outside ::IOTKIT_FLEET_FIELD_ALL;
 *         otherwise as iotkit_fleet_device_create(). Thread-safe.
 */
IOTKIT_API iotkit_err_t iotkit_fleet_device_update(iotkit_fleet_t *fleet, const iotkit_fleet_device_spec_t *spec,
                                                   uint32_t fields);

/**
 * @brief Remove a record (and its tags).
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_NOT_FOUND for an unknown id;
 *         ::IOTKIT_ERR_INVALID_ARG for NULL arguments or a bad id; database
 *         errors as iotkit_fleet_device_create(). Thread-safe.
 */
IOTKIT_API iotkit_err_t iotkit_fleet_device_delete(iotkit_fleet_t *fleet, const char *id);

/** @brief Release a record returned by the library. NULL is a no-op. */
IOTKIT_API void iotkit_fleet_device_free(iotkit_fleet_device_t *device);

/** Online condition of a filter. */
typedef enum iotkit_fleet_online {
  IOTKIT_FLEET_ONLINE_ANY = 0,    /**< online or not (default) */
  IOTKIT_FLEET_ONLINE_ONLY = 1,   /**< only devices online */
  IOTKIT_FLEET_OFFLINE_ONLY = 2   /**< only devices offline (or never seen) */
} iotkit_fleet_online_t;

/**
 * Which records iotkit_fleet_list() and iotkit_fleet_count() return: all the
 * conditions set must hold. Fill with iotkit_fleet_filter_init() (which sets
 * none). Strings are compared exactly, byte for byte.
 */
typedef struct iotkit_fleet_filter {
  /** sizeof(iotkit_fleet_filter_t) as the caller was compiled (set by _init; 0: the 0.3.0 layout). */
  size_t struct_size;
  /** Only records of this type ("" for those without one), or NULL for any. */
  const char *type;
  /** Only records carrying this tag, or NULL for any. */
  const char *tag;
  /** Online condition (default ::IOTKIT_FLEET_ONLINE_ANY). */
  iotkit_fleet_online_t online;
  /** If > 0: only devices last seen strictly before this time (ms); a device never seen does not match. */
  int64_t last_seen_before_ms;
  /** If > 0: only devices last seen strictly after this time (ms); a device never seen does not match. */
  int64_t last_seen_after_ms;
} iotkit_fleet_filter_t;

/** @brief Fill @p filter so that it matches every record. NULL is ignored. */
IOTKIT_API void iotkit_fleet_filter_init(iotkit_fleet_filter_t *filter);

/** One page of iotkit_fleet_list(). Release with iotkit_fleet_page_free(). */
typedef struct iotkit_fleet_page {
  /** sizeof(iotkit_fleet_page_t) of the library that made the page. */
  size_t struct_size;
  /** count records in increasing id order (bytewise), owned by the page; NULL when count is 0. */
  iotkit_fleet_device_t **devices;
  /** Number of records. */
  size_t count;
  /**
   * The cursor of the next page (the id of the last record here), to pass as
   * after_id; NULL when there is no further record matching the filter at the
   * time of the call.
   */
  char *next_after;
} iotkit_fleet_page_t;

/**
 * @brief List records matching @p filter, in increasing id order, by keyset
 * paging: the records whose id sorts after @p after_id, at most @p limit of
 * them. Walking pages with next_after until it is NULL visits every record
 * that exists throughout the walk exactly once, even while others are created
 * or deleted (a record created behind the cursor is not seen).
 * @param fleet the fleet.
 * @param filter conditions, or NULL for every record.
 * @param after_id NULL or "" to start from the first record, else the
 *        next_after of the previous page (any id, registered or not).
 * @param limit most records in the page: 1..IOTKIT_FLEET_MAX_PAGE.
 * @param out receives a new page (possibly empty); release with
 *        iotkit_fleet_page_free(). Left alone on failure.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG for NULL @p fleet or @p out,
 *         a @p limit out of range, an @p after_id that breaks the id rule, a
 *         filter struct_size of 1..7, an unknown online value or a negative
 *         time bound; database errors as iotkit_fleet_device_create(). Thread-safe.
 */
IOTKIT_API iotkit_err_t iotkit_fleet_list(iotkit_fleet_t *fleet, const iotkit_fleet_filter_t *filter,
                                          const char *after_id, size_t limit, iotkit_fleet_page_t **out);

/**
 * @brief Count the records matching @p filter (NULL: all).
 * @param count receives the count; left alone on failure.
 * @return as iotkit_fleet_list() (without the paging arguments). Thread-safe.
 */
IOTKIT_API iotkit_err_t iotkit_fleet_count(iotkit_fleet_t *fleet, const iotkit_fleet_filter_t *filter,
                                           uint64_t *count);

/** @brief Release a page and every record in it. NULL is a no-op. */
IOTKIT_API void iotkit_fleet_page_free(iotkit_fleet_page_t *page);

#ifdef __cplusplus
}
#endif

#include "fleet_monitor.h"
#include "fleet_control.h"
#include "fleet_rollout.h"

#endif /* IOTKIT_FLEET_H */
