/**
 * @file telemetry.h
 * @brief Telemetry: typed points, batches, their encodings (a JSON form,
 * SenML JSON and SenML CBOR, RFC 8428) and a durable store-and-forward queue.
 *
 * A batch (::iotkit_telemetry_batch_t) holds points; each point has a name, an
 * optional unit, a timestamp in milliseconds since the Unix epoch, a typed value
 * (double, 64-bit integer, boolean or string) and optional tags. The encodings
 * are documented with examples in docs/protocol.md ("Telemetry encodings").
 *
 * The queue (::iotkit_telemetry_queue_t) keeps every message appended to it in
 * a segmented append-only log of the HAL (seg_* operations) until
 * iotkit_telemetry_queue_ack() confirms its delivery; after a restart the
 * backlog is handed out again, oldest first.
 *
 * Thread-safety: a batch is used by one thread at a time; every queue function
 * may be called from any thread.
 */
#ifndef IOTKIT_TELEMETRY_H
#define IOTKIT_TELEMETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "export.h"
#include "hal.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Longest point name, in bytes (a port may override it). */
#ifndef IOTKIT_TELEMETRY_MAX_NAME
#define IOTKIT_TELEMETRY_MAX_NAME 128u
#endif
/** Longest unit, tag key, tag value or string value, in bytes. */
#ifndef IOTKIT_TELEMETRY_MAX_TEXT
#define IOTKIT_TELEMETRY_MAX_TEXT 4096u
#endif
/** Most tags on one point. */
#ifndef IOTKIT_TELEMETRY_MAX_TAGS
#define IOTKIT_TELEMETRY_MAX_TAGS 16u
#endif
/** Most points in one batch (decoders refuse more with ::IOTKIT_ERR_TOO_LARGE). */
#ifndef IOTKIT_TELEMETRY_MAX_POINTS
#define IOTKIT_TELEMETRY_MAX_POINTS 65536u
#endif
/** Deepest nesting of arrays, maps and tags in a SenML CBOR batch (the decoder refuses
    deeper with ::IOTKIT_ERR_TOO_LARGE; a SenML batch needs 3: batch, record, tags). */
#ifndef IOTKIT_TELEMETRY_MAX_CBOR_DEPTH
#define IOTKIT_TELEMETRY_MAX_CBOR_DEPTH 16u
#endif

/** Timestamp meaning "now, from the HAL wall clock" (for the _add functions). */
#define IOTKIT_TELEMETRY_NOW INT64_MIN

/** Type of a point's value. */
typedef enum iotkit_telemetry_type {
  IOTKIT_TELEMETRY_DOUBLE = 0, /**< finite IEEE double */
  IOTKIT_TELEMETRY_INT = 1,    /**< signed 64-bit integer */
  IOTKIT_TELEMETRY_BOOL = 2,   /**< boolean */
  IOTKIT_TELEMETRY_STRING = 3  /**< UTF-8 string */
} iotkit_telemetry_type_t;

/** A tag: a key (1..64 bytes of [A-Za-z0-9._-]) and a UTF-8 value. */
typedef struct iotkit_telemetry_tag {
  const char *key;   /**< tag name */
  const char *value; /**< tag value */
} iotkit_telemetry_tag_t;

/**
 * One point. Given to iotkit_telemetry_batch_add() (everything is copied) or
 * read back with iotkit_telemetry_batch_get() (then owned by the batch).
 */
typedef struct iotkit_telemetry_point {
  /**
   * Name: 1..IOTKIT_TELEMETRY_MAX_NAME bytes of [A-Za-z0-9-:./_], starting with a
   * letter or digit (the SenML name rules of RFC 8428 section 4.5.1).
   */
  const char *name;
  /** Unit (SenML units such as "Cel", "%RH", "V"), or NULL for none. */
  const char *unit;
  /**
   * Milliseconds since the Unix epoch, or ::IOTKIT_TELEMETRY_NOW when adding.
   * 0 means "unknown / now" and is encoded without a time.
   */
  int64_t ts_ms;
  /** Which member of @c value is set. */
  iotkit_telemetry_type_t type;
  /** The value. */
  union {
    double d;      /**< ::IOTKIT_TELEMETRY_DOUBLE (must be finite) */
    int64_t i;     /**< ::IOTKIT_TELEMETRY_INT */
    bool b;        /**< ::IOTKIT_TELEMETRY_BOOL */
    const char *s; /**< ::IOTKIT_TELEMETRY_STRING (valid UTF-8, no NUL) */
  } value;
  /** Tags, or NULL when @c tag_count is 0. */
  const iotkit_telemetry_tag_t *tags;
  /** Number of tags (at most IOTKIT_TELEMETRY_MAX_TAGS; keys unique). */
  size_t tag_count;
} iotkit_telemetry_point_t;

/** An ordered list of points, with an optional message sequence number. Opaque. */
typedef struct iotkit_telemetry_batch iotkit_telemetry_batch_t;

/**
 * @brief Create an empty batch.
 * @param hal the HAL whose wall clock gives ::IOTKIT_TELEMETRY_NOW timestamps,
 *        or NULL (then ::IOTKIT_TELEMETRY_NOW is refused). Not copied: it must
 *        outlive the batch.
 * @param out receives the batch; release with iotkit_telemetry_batch_free().
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG (NULL @p out, or a HAL without wall_ms);
 *         ::IOTKIT_ERR_NOMEM.
 */
IOTKIT_API iotkit_err_t iotkit_telemetry_batch_new(const iotkit_hal_t *hal, iotkit_telemetry_batch_t **out);

/** @brief Free a batch and every string it holds. NULL is a no-op. */
IOTKIT_API void iotkit_telemetry_batch_free(iotkit_telemetry_batch_t *batch);

/**
 * @brief Append a copy of @p point (strings and tags copied).
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG (NULL, a bad name, unit, tag
 *         key or value, a non-finite double, invalid UTF-8, duplicate tag keys,
 *         an unknown type, ::IOTKIT_TELEMETRY_NOW without a HAL);
 *         ::IOTKIT_ERR_TOO_LARGE (a text beyond
 *         IOTKIT_TELEMETRY_MAX_TEXT, more than IOTKIT_TELEMETRY_MAX_TAGS tags or
 *         IOTKIT_TELEMETRY_MAX_POINTS points); ::IOTKIT_ERR_NOMEM. On failure the
 *         batch is unchanged.
 */
IOTKIT_API iotkit_err_t iotkit_telemetry_batch_add(iotkit_telemetry_batch_t *batch,
                                                   const iotkit_telemetry_point_t *point);

/** @brief Append a double point without tags; see iotkit_telemetry_batch_add() for the rules and codes. */
IOTKIT_API iotkit_err_t iotkit_telemetry_batch_add_double(iotkit_telemetry_batch_t *batch, const char *name,
                                                          const char *unit, int64_t ts_ms, double value);
/** @brief Append an integer point without tags; see iotkit_telemetry_batch_add(). */
IOTKIT_API iotkit_err_t iotkit_telemetry_batch_add_int(iotkit_telemetry_batch_t *batch, const char *name,
                                                       const char *unit, int64_t ts_ms, int64_t value);
/** @brief Append a boolean point without tags; see iotkit_telemetry_batch_add(). */
IOTKIT_API iotkit_err_t iotkit_telemetry_batch_add_bool(iotkit_telemetry_batch_t *batch, const char *name,
                                                        const char *unit, int64_t ts_ms, bool value);
/** @brief Append a string point without tags (@p value copied); see iotkit_telemetry_batch_add(). */
IOTKIT_API iotkit_err_t iotkit_telemetry_batch_add_string(iotkit_telemetry_batch_t *batch, const char *name,
                                                          const char *unit, int64_t ts_ms, const char *value);

/**
 * @brief Add a tag to the last point added.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG (NULL, bad key or value, the key
 *         already on that point); ::IOTKIT_ERR_STATE (the batch is empty);
 *         ::IOTKIT_ERR_TOO_LARGE (too many tags or a value too long); ::IOTKIT_ERR_NOMEM.
 */
IOTKIT_API iotkit_err_t iotkit_telemetry_batch_tag(iotkit_telemetry_batch_t *batch, const char *key,
                                                   const char *value);

/** @brief Number of points in @p batch (0 for NULL). */
IOTKIT_API size_t iotkit_telemetry_batch_count(const iotkit_telemetry_batch_t *batch);

/**
 * @brief The point at @p index (0 = first added).
 * @param point receives a pointer into the batch, valid until the batch is
 *        changed or freed.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG (NULL); ::IOTKIT_ERR_NOT_FOUND
 *         (@p index out of range).
 */
IOTKIT_API iotkit_err_t iotkit_telemetry_batch_get(const iotkit_telemetry_batch_t *batch, size_t index,
                                                   const iotkit_telemetry_point_t **point);

/**
 * @brief Set the message sequence number carried by the encodings (0: none).
 * iotkit_telemetry_queue_push() sets it for you.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG for NULL or a value above 2^53
 *         (JSON numbers carry integers exactly only up to 2^53).
 */
IOTKIT_API iotkit_err_t iotkit_telemetry_batch_set_seq(iotkit_telemetry_batch_t *batch, uint64_t seq);

/** @brief The batch's sequence number (0: none, or NULL). */
IOTKIT_API uint64_t iotkit_telemetry_batch_seq(const iotkit_telemetry_batch_t *batch);

/* ------------------------------------------------------------ encodings -- */

/** Wire encodings of a batch (docs/protocol.md, "Telemetry encodings"). */
typedef enum iotkit_telemetry_format {
  IOTKIT_TELEMETRY_FORMAT_JSON = 0,       /**< libiotkit's JSON form, application/json */
  IOTKIT_TELEMETRY_FORMAT_SENML_JSON = 1, /**< RFC 8428 section 5, application/senml+json */
  IOTKIT_TELEMETRY_FORMAT_SENML_CBOR = 2  /**< RFC 8428 section 6, application/senml+cbor */
} iotkit_telemetry_format_t;

/** @brief Short name of a format ("json", "senml-json", "senml-cbor"), or NULL if unknown. */
IOTKIT_API const char *iotkit_telemetry_format_name(iotkit_telemetry_format_t format);

/** @brief Media type of a format (e.g. "application/senml+cbor"), or NULL if unknown. */
IOTKIT_API const char *iotkit_telemetry_format_media_type(iotkit_telemetry_format_t format);

/**
 * @brief Find a format by its short name.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG (NULL); ::IOTKIT_ERR_NOT_FOUND.
 */
IOTKIT_API iotkit_err_t iotkit_telemetry_format_parse(const char *name, iotkit_telemetry_format_t *format);

/**
 * @brief Encode @p batch.
 * @param out receives the bytes (not NUL-terminated for CBOR; JSON forms are
 *        followed by a NUL not counted in @p len); release with iotkit_free().
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG (NULL, an empty batch, an
 *         unknown format); ::IOTKIT_ERR_NOMEM. Outputs untouched on failure.
 */
IOTKIT_API iotkit_err_t iotkit_telemetry_encode(const iotkit_telemetry_batch_t *batch,
                                                iotkit_telemetry_format_t format, uint8_t **out, size_t *len);

/**
 * @brief Decode @p len bytes of @p format into a new batch (without a HAL).
 *
 * SenML records are resolved (RFC 8428 section 4.6): base name + name, base
 * unit, base value, base time + time. SenML times below 2^28 s are relative to
 * "now" and are returned unchanged (as milliseconds, possibly negative); the
 * caller resolves them. SenML JSON numbers decode as doubles; SenML CBOR
 * integers decode as integers.
 *
 * @param out receives the batch; release with iotkit_telemetry_batch_free().
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG (NULL, unknown format);
 *         ::IOTKIT_ERR_BAD_ENCODING (malformed input: not JSON/CBOR, trailing
 *         bytes, a wrong type, a missing or repeated value, a bad name, invalid
 *         UTF-8); ::IOTKIT_ERR_UNSUPPORTED (well-formed but not representable:
 *         SenML data values "vd", sum-only records, a version above 10, a label
 *         ending in '_', CBOR decimal fractions); ::IOTKIT_ERR_TOO_LARGE (more
 *         than IOTKIT_TELEMETRY_MAX_POINTS records); ::IOTKIT_ERR_NOMEM.
 */
IOTKIT_API iotkit_err_t iotkit_telemetry_decode(iotkit_telemetry_format_t format, const void *buf, size_t len,
                                                iotkit_telemetry_batch_t **out);

/* ---------------------------------------------------------------- queue -- */

/** What iotkit_telemetry_queue_append() does when the store is full. */
typedef enum iotkit_telemetry_full_policy {
  /** Drop the oldest records (the whole oldest segment) to make room; counted in dropped_oldest. */
  IOTKIT_TELEMETRY_DROP_OLDEST = 0,
  /** Discard the new record: the append returns ::IOTKIT_OK but stores nothing; counted in dropped_newest. */
  IOTKIT_TELEMETRY_DROP_NEWEST = 1,
  /** Refuse the new record with ::IOTKIT_ERR_QUEUE_FULL (nothing stored); counted in refused. */
  IOTKIT_TELEMETRY_REFUSE = 2
} iotkit_telemetry_full_policy_t;

/**
 * When the queue asks the HAL to make appended records durable (seg_sync).
 * A process crash (even SIGKILL) loses nothing under any policy with the POSIX
 * HAL, as written bytes are in the kernel; the loss window below is for a power
 * cut or kernel crash. Acknowledgements are made durable with the next sync: a
 * lost acknowledgement only causes a duplicate, never a loss.
 */
typedef enum iotkit_telemetry_sync_policy {
  /** Sync after every appended record: an append that returned is never lost. */
  IOTKIT_TELEMETRY_SYNC_EVERY_RECORD = 0,
  /**
   * Sync when sync_interval_ms have passed since the last sync, checked on every
   * queue call (call iotkit_telemetry_queue_poll() regularly when idle): records
   * appended during the last sync_interval_ms (plus the time to the next queue
   * call) may be lost. The default, with 1000 ms.
   */
  IOTKIT_TELEMETRY_SYNC_INTERVAL = 1,
  /** Never sync (except in iotkit_telemetry_queue_sync()): the OS decides; any un-synced record may be lost. */
  IOTKIT_TELEMETRY_SYNC_NEVER = 2
} iotkit_telemetry_sync_policy_t;

/** Options of a queue. Fill with iotkit_telemetry_queue_config_init(). */
typedef struct iotkit_telemetry_queue_config {
  /** sizeof(iotkit_telemetry_queue_config_t) as the caller was compiled (set by the _init function);
      0 means the layout of 0.2.0. See "Structs that grow" in docs/architecture.md. */
  size_t struct_size;
  /** The HAL with seg_* operations and kv_get/kv_set. Required; not copied: must outlive the queue. */
  const iotkit_hal_t *hal;
  /**
   * Store name (copied): 1..48 bytes of [A-Za-z0-9._-], not "." or "..". One
   * queue per name per HAL at a time; the sequence counter lives under the HAL
   * key "<name>.seq". Default "telemetry".
   */
  const char *name;
  /** Most bytes the store may hold on the HAL, records and headers included (default 16 MiB). */
  uint64_t max_bytes;
  /** Size at which a segment is closed and a new one started (default 1 MiB; at most max_bytes / 4). */
  uint32_t segment_bytes;
  /** What to do when full (default ::IOTKIT_TELEMETRY_DROP_OLDEST). */
  iotkit_telemetry_full_policy_t full_policy;
  /** When to sync (default ::IOTKIT_TELEMETRY_SYNC_INTERVAL). */
  iotkit_telemetry_sync_policy_t sync_policy;
  /** Interval of ::IOTKIT_TELEMETRY_SYNC_INTERVAL, in milliseconds (default 1000). */
  uint32_t sync_interval_ms;
} iotkit_telemetry_queue_config_t;

/** Counters of a queue since it was opened (recovered records count as queued).
    Read with iotkit_telemetry_queue_stats(). Its size is frozen: it is embedded by
    value in ::iotkit_device_telemetry_stats_t. */
typedef struct iotkit_telemetry_queue_stats {
  uint64_t queued;         /**< records accepted (appended, or recovered at open) */
  uint64_t sent;           /**< records handed out by iotkit_telemetry_queue_next() */
  uint64_t acked;          /**< records removed by iotkit_telemetry_queue_ack() */
  uint64_t retried;        /**< hand-outs of a record that had been handed out before */
  uint64_t dropped_oldest; /**< records dropped to make room (::IOTKIT_TELEMETRY_DROP_OLDEST) */
  uint64_t dropped_newest; /**< records discarded when full (::IOTKIT_TELEMETRY_DROP_NEWEST) */
  uint64_t refused;        /**< appends refused when full (::IOTKIT_TELEMETRY_REFUSE) */
  uint64_t dropped_corrupt; /**< records found damaged when handed out (CRC mismatch) and dropped */
  uint64_t corrupt;        /**< damaged regions (torn tails, bad CRCs) found and skipped at open */
  uint64_t corrupt_bytes;  /**< bytes in those regions */
  uint64_t pending;        /**< records stored and not yet acknowledged (now) */
  uint64_t in_flight;      /**< of those, handed out and not yet acknowledged (now) */
  uint64_t bytes;          /**< bytes the store uses on the HAL (now) */
  uint64_t next_seq;       /**< sequence number the next record will get */
} iotkit_telemetry_queue_stats_t;

/** A durable store-and-forward queue. Opaque. */
typedef struct iotkit_telemetry_queue iotkit_telemetry_queue_t;

/** @brief Fill @p cfg with defaults. NULL is ignored. */
IOTKIT_API void iotkit_telemetry_queue_config_init(iotkit_telemetry_queue_config_t *cfg);

/**
 * @brief Open the queue @c cfg->name on @c cfg->hal, recovering what it holds:
 * every record not yet acknowledged becomes pending again, oldest first; a torn
 * or corrupt region is counted (stats corrupt, corrupt_bytes), logged and
 * skipped; the sequence counter resumes above every number handed out before.
 * New records always go to a new segment.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG (NULL, bad name, max_bytes below
 *         4 KiB, unknown policy, SYNC_INTERVAL with a 0 interval);
 *         ::IOTKIT_ERR_UNSUPPORTED (the HAL lacks seg_* operations);
 *         ::IOTKIT_ERR_CORRUPT (the stored sequence counter is damaged); a HAL
 *         error; ::IOTKIT_ERR_NOMEM.
 */
IOTKIT_API iotkit_err_t iotkit_telemetry_queue_open(const iotkit_telemetry_queue_config_t *cfg,
                                                    iotkit_telemetry_queue_t **out);

/** @brief Sync (unless SYNC_NEVER) and close the queue; the records stay stored. NULL is a no-op. */
IOTKIT_API void iotkit_telemetry_queue_close(iotkit_telemetry_queue_t *q);

/**
 * @brief Take the next sequence number (1, 2, ...). Numbers are never handed
 * out twice for the same store, across restarts and power cuts: the counter is
 * reserved in blocks of 1024 in the HAL key-value store, so a restart may skip
 * up to 1024 numbers.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG; a HAL error from kv_set.
 */
IOTKIT_API iotkit_err_t iotkit_telemetry_queue_next_seq(iotkit_telemetry_queue_t *q, uint64_t *seq);

/**
 * @brief Store a message durably (per the sync policy) before it is sent.
 * @param seq its sequence number from iotkit_telemetry_queue_next_seq(); must
 *        be above every number appended before.
 * @return ::IOTKIT_OK (also when ::IOTKIT_TELEMETRY_DROP_NEWEST discarded it);
 *         ::IOTKIT_ERR_INVALID_ARG (NULL, seq 0 or not increasing);
 *         ::IOTKIT_ERR_TOO_LARGE (the record could never fit: larger than
 *         segment_bytes or IOTKIT_MAX_PAYLOAD_DEFAULT); ::IOTKIT_ERR_QUEUE_FULL
 *         (::IOTKIT_TELEMETRY_REFUSE and no room); a HAL error (nothing stored).
 */
IOTKIT_API iotkit_err_t iotkit_telemetry_queue_append(iotkit_telemetry_queue_t *q, uint64_t seq, const void *payload,
                                                      size_t len);

/**
 * @brief Take a sequence number, set it in @p batch, encode it in @p format and append it.
 * @param seq receives the number, or NULL.
 * @return as iotkit_telemetry_queue_next_seq(), iotkit_telemetry_encode() and
 *         iotkit_telemetry_queue_append().
 */
IOTKIT_API iotkit_err_t iotkit_telemetry_queue_push(iotkit_telemetry_queue_t *q, iotkit_telemetry_batch_t *batch,
                                                    iotkit_telemetry_format_t format, uint64_t *seq);

/**
 * @brief Hand out the oldest pending record that is not in flight, and mark it in flight.
 * A record whose CRC no longer matches is dropped (dropped_corrupt) and the next one is taken.
 * @param seq receives its sequence number.
 * @param payload receives a copy of its bytes; release with iotkit_free().
 * @param len receives its length.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG; ::IOTKIT_ERR_NOT_FOUND (nothing
 *         to send); a HAL error; ::IOTKIT_ERR_NOMEM.
 */
IOTKIT_API iotkit_err_t iotkit_telemetry_queue_next(iotkit_telemetry_queue_t *q, uint64_t *seq, uint8_t **payload,
                                                    size_t *len);

/**
 * @brief Confirm delivery of @p seq: the record is removed (a segment is
 * deleted once all its records are acknowledged and older segments are gone).
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG; ::IOTKIT_ERR_NOT_FOUND (no such
 *         pending record, e.g. already acknowledged or dropped); a HAL error.
 */
IOTKIT_API iotkit_err_t iotkit_telemetry_queue_ack(iotkit_telemetry_queue_t *q, uint64_t seq);

/**
 * @brief Put every in-flight record back to pending (after a disconnect), so
 * that iotkit_telemetry_queue_next() hands them out again, oldest first.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG.
 */
IOTKIT_API iotkit_err_t iotkit_telemetry_queue_requeue(iotkit_telemetry_queue_t *q);

/** @brief Sync now if the interval policy says so (call it from the application's loop). */
IOTKIT_API iotkit_err_t iotkit_telemetry_queue_poll(iotkit_telemetry_queue_t *q);

/** @brief Make every record and acknowledgement so far durable, whatever the policy. */
IOTKIT_API iotkit_err_t iotkit_telemetry_queue_sync(iotkit_telemetry_queue_t *q);

/**
 * @brief Read the counters into the first @p size bytes of @p stats (the
 * caller's sizeof: a caller built against an older, smaller struct gets only
 * the fields it knows; nothing beyond @p size is written). For bindings; C code
 * calls iotkit_telemetry_queue_stats().
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG (NULL, or @p size 0). Thread-safe.
 */
IOTKIT_API iotkit_err_t iotkit_telemetry_queue_stats_sized(iotkit_telemetry_queue_t *q,
                                                           iotkit_telemetry_queue_stats_t *stats, size_t size);

/** @brief Read the counters: iotkit_telemetry_queue_stats_sized() with sizeof *(stats). */
#define iotkit_telemetry_queue_stats(q, stats) iotkit_telemetry_queue_stats_sized((q), (stats), sizeof *(stats))

#ifdef __cplusplus
}
#endif
#endif /* IOTKIT_TELEMETRY_H */
