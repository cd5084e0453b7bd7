/**
 * @file edge.h
 * @brief Edge analytics: stream processors, detectors and local rules applied
 * to telemetry points before they are sent.
 *
 * A pipeline (::iotkit_edge_t) is described by one JSON document (schema and
 * examples in docs/edge.md): per metric a stream with filters (deadband,
 * minimum and maximum interval), window aggregates (tumbling and sliding:
 * count, sum, mean, min, max, sample standard deviation, approximate
 * percentiles) and detectors (threshold with hysteresis, rate of change, EWMA
 * z-score, stuck-at-constant), and rules that act when a condition over
 * metrics and detectors holds (an event, a local command, a reported-state
 * patch). iotkit_edge_process() takes one point and says whether to send it;
 * aggregates come out through the point callback; what rules and detectors
 * decide waits in a bounded queue read with iotkit_edge_next_action().
 *
 * Memory: everything a configuration needs is allocated when it is loaded
 * (at most iotkit_edge_config_t.max_bytes of state); processing a point
 * allocates nothing.
 *
 * A device runs a pipeline of its own on iotkit_device_send_batch(): see
 * iotkit_device_edge_load() in device.h.
 *
 * Thread-safety: a pipeline is used by one thread at a time.
 */
#ifndef IOTKIT_EDGE_H
#define IOTKIT_EDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "export.h"
#include "telemetry.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Default of iotkit_edge_config_t.max_bytes: the state a configuration may take. */
#ifndef IOTKIT_EDGE_MAX_BYTES_DEFAULT
#define IOTKIT_EDGE_MAX_BYTES_DEFAULT (1024u * 1024u)
#endif
/** Default of iotkit_edge_config_t.max_actions: actions waiting to be read. */
#ifndef IOTKIT_EDGE_MAX_ACTIONS_DEFAULT
#define IOTKIT_EDGE_MAX_ACTIONS_DEFAULT 64u
#endif
/** Longest JSON pointer kept for a refused configuration, with its NUL. */
#define IOTKIT_EDGE_POINTER_SIZE 256u

/** A pipeline. Opaque. */
typedef struct iotkit_edge iotkit_edge_t;

/** Receives a point the pipeline makes (a window aggregate, named "<metric>.<aggregate>").
    @p point and its strings are valid during the call only. Runs inside
    iotkit_edge_process() or iotkit_edge_flush(). */
typedef void (*iotkit_edge_point_cb)(iotkit_edge_t *edge, void *user, const iotkit_telemetry_point_t *point);

/** How a pipeline is created. Fill with iotkit_edge_config_init(). */
typedef struct iotkit_edge_config {
  /** sizeof(iotkit_edge_config_t) as the caller was compiled (set by the _init function);
      0 means the layout of 0.3.0. See "Structs that grow" in docs/architecture.md. */
  size_t struct_size;
  /** Most bytes of state a configuration may need (windows, queues); a larger one is refused
      with ::IOTKIT_ERR_TOO_LARGE. Default IOTKIT_EDGE_MAX_BYTES_DEFAULT; 0 means the default. */
  size_t max_bytes;
  /** Most actions waiting for iotkit_edge_next_action(); more are dropped and counted.
      Default IOTKIT_EDGE_MAX_ACTIONS_DEFAULT; 0 means the default. */
  size_t max_actions;
  /** Point callback, or NULL (aggregates are then counted but not seen). */
  iotkit_edge_point_cb on_point;
  /** Passed to @c on_point. */
  void *user;
} iotkit_edge_config_t;

/** @brief Fill @p cfg with defaults. NULL is ignored. */
IOTKIT_API void iotkit_edge_config_init(iotkit_edge_config_t *cfg);

/**
 * @brief Create a pipeline with no configuration (every point is sent unchanged).
 * @param cfg the options (copied); NULL for the defaults.
 * @param out receives the pipeline; release with iotkit_edge_free().
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG (NULL @p out, a struct_size too small);
 *         ::IOTKIT_ERR_NOMEM.
 */
IOTKIT_API iotkit_err_t iotkit_edge_new(const iotkit_edge_config_t *cfg, iotkit_edge_t **out);

/** @brief Free a pipeline. NULL is a no-op. */
IOTKIT_API void iotkit_edge_free(iotkit_edge_t *edge);

/**
 * @brief Replace the configuration with the JSON document @p json (docs/edge.md).
 *
 * The document is checked as a whole before anything changes: when it is refused,
 * the active configuration and all its state stay as they were, and
 * iotkit_edge_error_pointer() names the offending field as a JSON pointer
 * (RFC 6901, e.g. "/streams/0/processors/1/type") while iotkit_edge_last_error()
 * says why. An accepted document starts with fresh state (windows empty,
 * detectors cleared, no pending actions).
 * @param json the document (copied; need not be NUL-terminated).
 * @param len its length in bytes.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG (NULL, or a field that is missing,
 *         of the wrong type or out of range, an unknown processor, detector or
 *         action, a duplicate name, a dangling reference or a cycle among rules);
 *         ::IOTKIT_ERR_BAD_ENCODING (not JSON); ::IOTKIT_ERR_TOO_LARGE (the state
 *         would exceed max_bytes); ::IOTKIT_ERR_UNSUPPORTED (a documented form not
 *         implemented yet, e.g. the "send_window" action); ::IOTKIT_ERR_NOMEM.
 */
IOTKIT_API iotkit_err_t iotkit_edge_load(iotkit_edge_t *edge, const char *json, size_t len);

/** @brief Remove the configuration: every point is sent unchanged again. NULL is ignored. */
IOTKIT_API void iotkit_edge_clear(iotkit_edge_t *edge);

/**
 * @brief Check a configuration without a pipeline, as iotkit_edge_load() would.
 * @param max_bytes the state budget (0: IOTKIT_EDGE_MAX_BYTES_DEFAULT).
 * @param pointer receives the JSON pointer of the offending field ("" when the
 *        document as a whole is at fault), or NULL; @p pointer_cap its size.
 * @param message receives the reason, or NULL; @p message_cap its size.
 * @return the code iotkit_edge_load() would return.
 */
IOTKIT_API iotkit_err_t iotkit_edge_check(const char *json, size_t len, size_t max_bytes, char *pointer,
                                          size_t pointer_cap, char *message, size_t message_cap);

/** @brief JSON pointer of the field the last refused load named ("" if none). Valid until the next load. */
IOTKIT_API const char *iotkit_edge_error_pointer(const iotkit_edge_t *edge);

/** @brief Reason of the last refused load, or of the last skipped point ("" if none). */
IOTKIT_API const char *iotkit_edge_last_error(const iotkit_edge_t *edge);

/** @brief Whether a configuration is loaded. */
IOTKIT_API bool iotkit_edge_active(const iotkit_edge_t *edge);

/**
 * @brief Run one point through the pipeline.
 *
 * Points of metrics without a stream, strings, out-of-order points (older than
 * the stream's last) and points whose type differs from the stream's first are
 * sent unchanged and counted; NaN or infinite values and a second point with
 * the same timestamp are dropped and counted (see iotkit_edge_stats_t).
 * A ts_ms of 0 (unknown) counts as the stream's last time.
 * @param point the point (not kept).
 * @param send receives whether the point should be sent.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG (NULL). Allocates nothing.
 */
IOTKIT_API iotkit_err_t iotkit_edge_process(iotkit_edge_t *edge, const iotkit_telemetry_point_t *point, bool *send);

/**
 * @brief Close every open tumbling window (emitting its aggregates through the point
 * callback), for example at the end of a replayed stream.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG (NULL).
 */
IOTKIT_API iotkit_err_t iotkit_edge_flush(iotkit_edge_t *edge);

/** What an action asks for. */
typedef enum iotkit_edge_action_kind {
  IOTKIT_EDGE_ACTION_EVENT = 0,    /**< raise event @c name with data @c json */
  IOTKIT_EDGE_ACTION_COMMAND = 1,  /**< call the local handler of command @c name with params @c json */
  IOTKIT_EDGE_ACTION_REPORT = 2,   /**< merge @c json into the reported state */
  IOTKIT_EDGE_ACTION_DETECTOR = 3  /**< detector @c source was raised (@c active) or cleared */
} iotkit_edge_action_kind_t;

/** An action taken from the queue. Strings stay valid until the next load, clear or free. */
typedef struct iotkit_edge_action {
  iotkit_edge_action_kind_t kind; /**< what to do */
  const char *source;             /**< the rule's name, or the detector's */
  const char *name;               /**< event type or command name; NULL otherwise */
  const char *json;               /**< event data, command params or report patch (JSON text); NULL for a detector */
  const char *metric;             /**< the metric whose point triggered it */
  int64_t ts_ms;                  /**< that point's time */
  double value;                   /**< that point's value */
  bool active;                    /**< detector raised (true) or cleared (false); true for rules */
} iotkit_edge_action_t;

/**
 * @brief Take the oldest waiting action into the first @p size bytes of @p action.
 * For bindings; C code calls iotkit_edge_next_action().
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_NOT_FOUND (none waiting); ::IOTKIT_ERR_INVALID_ARG.
 */
IOTKIT_API iotkit_err_t iotkit_edge_next_action_sized(iotkit_edge_t *edge, iotkit_edge_action_t *action,
                                                      size_t size);
/** @brief iotkit_edge_next_action_sized() with sizeof *(action). */
#define iotkit_edge_next_action(edge, action) iotkit_edge_next_action_sized((edge), (action), sizeof *(action))

/** Counters since the pipeline was created; fields are only ever appended. */
typedef struct iotkit_edge_stats {
  uint64_t points_in;      /**< points given to iotkit_edge_process() */
  uint64_t points_sent;    /**< of those, to be sent */
  uint64_t points_held;    /**< held back by a filter */
  uint64_t points_emitted; /**< aggregates made by windows */
  uint64_t actions;        /**< actions queued */
  uint64_t actions_dropped; /**< actions dropped: the queue was full */
  uint64_t unconfigured;   /**< points of metrics without a stream (sent unchanged) */
  uint64_t not_numeric;    /**< string points on a stream (sent unchanged) */
  uint64_t type_changed;   /**< points whose type differs from the stream's first (sent unchanged) */
  uint64_t out_of_order;   /**< points older than their stream's last (sent unchanged) */
  uint64_t duplicates;     /**< points with their stream's last timestamp (dropped) */
  uint64_t non_finite;     /**< NaN or infinite values (dropped) */
  uint64_t loads;          /**< configurations accepted */
  uint64_t refusals;       /**< configurations refused */
} iotkit_edge_stats_t;

/** @brief Read the counters into the first @p size bytes of @p stats. @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG. */
IOTKIT_API iotkit_err_t iotkit_edge_stats_sized(const iotkit_edge_t *edge, iotkit_edge_stats_t *stats, size_t size);
/** @brief iotkit_edge_stats_sized() with sizeof *(stats). */
#define iotkit_edge_stats(edge, stats) iotkit_edge_stats_sized((edge), (stats), sizeof *(stats))

/**
 * @brief A detector's output.
 * @param name the detector's name in the configuration.
 * @param active receives whether it is raised, or NULL.
 * @param score receives its last score (z-score, rate per second, run length, value), or NULL.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_NOT_FOUND; ::IOTKIT_ERR_INVALID_ARG.
 */
IOTKIT_API iotkit_err_t iotkit_edge_detector(const iotkit_edge_t *edge, const char *name, bool *active,
                                             double *score);

#ifdef __cplusplus
}
#endif
#endif /* IOTKIT_EDGE_H */
