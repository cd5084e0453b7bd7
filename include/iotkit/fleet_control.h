/**
 * @file fleet_control.h
 * @brief Remote control of the devices of a fleet: commands with their
 * responses, desired state, and end-to-end protection of both (included by
 * fleet.h).
 *
 * Commands (docs/protocol.md, "Commands"). The fleet publishes a request
 * {"id":I,"name":N,"params":P} on "<prefix>/<device>/commands/request" (QoS
 * 1) with an id of its own making, and matches the device's answer on
 * "commands/response" by device and id. A result is one of:
 *  - ::IOTKIT_OK: the device answered "ok" (result_json holds its result);
 *  - ::IOTKIT_ERR_REMOTE: the device answered "error" (error_code, e.g.
 *    "unknown_command", "bad_request", "timeout", "busy", or a handler's own,
 *    and error_message hold what it said);
 *  - ::IOTKIT_ERR_TIMEOUT: no answer within the caller's timeout. An answer
 *    that arrives later is counted (iotkit_fleet_control_stats_t::late_responses)
 *    and dropped.
 *
 * Unknown and offline devices are refused at once, nothing is sent:
 *  - a device id that is not in the registry: ::IOTKIT_ERR_NOT_FOUND;
 *  - a registered device that the fleet's live view holds offline:
 *    ::IOTKIT_ERR_OFFLINE. Protocol version 1 queues no responses for an
 *    offline device and the device's session is clean, so a command sent to
 *    it could only time out; refusing says so at once.
 * A fleet whose broker session is not up refuses every command and desired
 * state with ::IOTKIT_ERR_NOT_CONNECTED.
 *
 * Groups. A ::iotkit_fleet_target_t names a list of ids or every record
 * matching a registry filter (::iotkit_fleet_filter_t, resolved when the call
 * is made). Each device of a group gets its own result (the codes above,
 * per device); the call itself fails only for bad arguments.
 *
 * Driving the session. Responses arrive through the fleet's broker session,
 * which something must drive: the fleet's own thread after
 * iotkit_fleet_start(), or iotkit_fleet_poll() (or an external loop calling
 * it). Asynchronous results (iotkit_fleet_command_send(),
 * iotkit_fleet_command_group()) are delivered by that driver, in its thread,
 * like every other callback of the fleet; a timeout is noticed by the driver
 * too (iotkit_fleet_next_timeout_ms() includes the earliest deadline). The
 * blocking calls (iotkit_fleet_command_call(), iotkit_fleet_command_group_call())
 * wait when the fleet's thread runs; without it they drive the session
 * themselves, taking turns with iotkit_fleet_poll() in other threads (one
 * poll at a time), so they work both from the thread of a poll loop and from
 * another thread beside it. From inside a fleet callback they are refused
 * (::IOTKIT_ERR_STATE), since the answer could only come through the thread
 * they would block.
 *
 * Desired state (docs/protocol.md, "Desired state"). The fleet keeps, per
 * device, the desired document and its version in its database. Setting
 * desired state applies a JSON merge patch (RFC 7396) to that document, gives
 * it the next version (1 for the first, then one more each time), writes both
 * (durably) and then publishes {"version":N,"state":S} retained on
 * "state/desired" (QoS 1). Versions therefore keep increasing across fleet
 * restarts, and a device (which applies only versions greater than the last
 * one it applied) never ignores a new document. The row outlives a deletion of
 * the registry record, so that a device id registered again continues its
 * versions. Desired state may be set for an offline device: the retained
 * document reaches it when it connects.
 *
 * End-to-end protection (docs/protocol.md, "Payload envelope"). With a
 * key callback in the configuration (iotkit_fleet_config_t::key_cb), the fleet
 * opens sealed messages of its devices (telemetry, reported state, events,
 * location, command responses) and seals what it sends to a device that has a
 * key (command requests, desired state) with sender 1. Keys are asked for when
 * needed and never stored by the fleet (not in the database, not in memory
 * after the message). The nonce counter of sender 1 is kept in the fleet's HAL
 * key-value store, "iotkit.envelope.<key id>" (see crypto.h): give the fleet a
 * HAL with a durable store, not shared with a device using the same key id.
 * A message that does not open (altered, wrong key, no key for a sealed
 * message, or a plain message from a device that has a key) is dropped,
 * counted (e2e_rejected, e2e_last_error) and logged without its payload.
 *
 * Ownership: strings are copied; results returned by the library are released
 * with iotkit_fleet_results_free(); a result handed to a callback is valid
 * during the call only. Every function here may be called from any thread.
 */
#ifndef IOTKIT_FLEET_CONTROL_H
#define IOTKIT_FLEET_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "export.h"
#include "fleet.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Limits (options.h): IOTKIT_FLEET_COMMAND_TIMEOUT_DEFAULT_MS, IOTKIT_FLEET_MAX_TARGETS,
   IOTKIT_FLEET_MAX_CONTROL_JSON. */
/** Longest command timeout (ms). */
#define IOTKIT_FLEET_COMMAND_TIMEOUT_MAX_MS (24u * 3600u * 1000u)
/** Largest desired version (docs/protocol.md: 1 to 2^53). */
#define IOTKIT_FLEET_DESIRED_VERSION_MAX 9007199254740992ull

/**
 * Which devices a group operation addresses: either a list of ids
 * (id_count > 0) or every registry record matching @c filter (non-NULL), not
 * both. Fill with iotkit_fleet_target_init().
 */
typedef struct iotkit_fleet_target {
  /** sizeof(iotkit_fleet_target_t) as the caller was compiled (set by _init; 0: this layout). */
  size_t struct_size;
  /** id_count device ids (distinct, each by the id rule), or NULL. */
  const char *const *ids;
  /** Number of ids, 0 to IOTKIT_FLEET_MAX_TARGETS. */
  size_t id_count;
  /** A registry filter (every record matching it, in id order), or NULL. */
  const iotkit_fleet_filter_t *filter;
} iotkit_fleet_target_t;

/** @brief Fill @p target with defaults (no ids, no filter). NULL is ignored. */
IOTKIT_API void iotkit_fleet_target_init(iotkit_fleet_target_t *target);

/**
 * The result for one device. Strings are NUL-terminated, owned by the
 * library (by the results array, or valid during the callback).
 */
typedef struct iotkit_fleet_result {
  /** sizeof(iotkit_fleet_result_t) of the library: read a field only if it lies within it. */
  size_t struct_size;
  /** The device. */
  char *device_id;
  /** ::IOTKIT_OK, ::IOTKIT_ERR_REMOTE, ::IOTKIT_ERR_TIMEOUT, ::IOTKIT_ERR_NOT_FOUND,
      ::IOTKIT_ERR_OFFLINE, ::IOTKIT_ERR_NOT_CONNECTED, or another code of a failed send or write. */
  iotkit_err_t err;
  /** Commands: the request id sent ("" if nothing was sent). Desired state: "". */
  char *request_id;
  /** Commands, ::IOTKIT_OK: the device's result as JSON text; otherwise NULL. */
  char *result_json;
  /** Commands, ::IOTKIT_ERR_REMOTE: the device's error code (e.g. "unknown_command"); otherwise NULL. */
  char *error_code;
  /** Commands, ::IOTKIT_ERR_REMOTE: the device's message; otherwise NULL. */
  char *error_message;
  /** Desired state, ::IOTKIT_OK: the version published; otherwise 0. */
  uint64_t version;
} iotkit_fleet_result_t;

/** Results of an operation, one per device. Release with iotkit_fleet_results_free(). */
typedef struct iotkit_fleet_results {
  /** sizeof(iotkit_fleet_results_t) of the library. */
  size_t struct_size;
  /** count results: in the order of the target's ids, or in id order for a filter; NULL when count is 0. */
  iotkit_fleet_result_t *items;
  /** Number of results. */
  size_t count;
} iotkit_fleet_results_t;

/** @brief Release results returned by the library. NULL is a no-op. */
IOTKIT_API void iotkit_fleet_results_free(iotkit_fleet_results_t *results);

/**
 * Receives the result of an asynchronous command, once per device, in the
 * thread driving the session (see the file comment). @p result is valid
 * during the call only.
 */
typedef void (*iotkit_fleet_result_cb)(iotkit_fleet_t *fleet, void *user, const iotkit_fleet_result_t *result);

/*
 * Input rules of the command functions, each with its code:
 *  - NULL fleet, device id or name: ::IOTKIT_ERR_INVALID_ARG;
 *  - a device id that breaks the id rule (characters, length): ::IOTKIT_ERR_INVALID_ARG;
 *  - name longer than IOTKIT_MAX_NAME bytes: ::IOTKIT_ERR_TOO_LARGE; empty,
 *    or characters outside [A-Za-z0-9._-]: ::IOTKIT_ERR_INVALID_ARG;
 *  - params_json (NULL for none) longer than IOTKIT_FLEET_MAX_CONTROL_JSON:
 *    ::IOTKIT_ERR_TOO_LARGE; not JSON: ::IOTKIT_ERR_BAD_ENCODING; JSON but
 *    not an object: ::IOTKIT_ERR_INVALID_ARG;
 *  - timeout_ms above IOTKIT_FLEET_COMMAND_TIMEOUT_MAX_MS: ::IOTKIT_ERR_INVALID_ARG
 *    (0 means IOTKIT_FLEET_COMMAND_TIMEOUT_DEFAULT_MS).
 * Limits are checked before encodings.
 */

/**
 * @brief Send command @p name to one device; its result goes to @p cb.
 * @param fleet the fleet. @param device_id the device. @param name the command.
 * @param params_json a JSON object, or NULL for none.
 * @param timeout_ms how long to wait for the answer (0: the default).
 * @param cb receives the result exactly once (::IOTKIT_OK, ::IOTKIT_ERR_REMOTE or
 *        ::IOTKIT_ERR_TIMEOUT, or the session's loss as ::IOTKIT_ERR_TIMEOUT at the deadline);
 *        required. Never called if this function fails. Pending commands are
 *        dropped without their callback by iotkit_fleet_free().
 * @param user passed to @p cb.
 * @param request_id optional: receives the request id sent (NUL-terminated), or NULL.
 * @param cap capacity of @p request_id (IOTKIT_MAX_REQUEST_ID + 1 is enough; a smaller one
 *        gives ::IOTKIT_ERR_BUFFER_TOO_SMALL and nothing is sent).
 * @return ::IOTKIT_OK (sent); the input codes above; ::IOTKIT_ERR_NOT_FOUND (not
 *         registered); ::IOTKIT_ERR_OFFLINE; ::IOTKIT_ERR_NOT_CONNECTED; a
 *         sealing error (key callback's code, see iotkit_envelope_seal()); ::IOTKIT_ERR_NOMEM.
 */
IOTKIT_API iotkit_err_t iotkit_fleet_command_send(iotkit_fleet_t *fleet, const char *device_id, const char *name,
                                                  const char *params_json, uint32_t timeout_ms,
                                                  iotkit_fleet_result_cb cb, void *user, char *request_id,
                                                  size_t cap);

/**
 * @brief Send command @p name to one device and wait for its result.
 * @param out receives one result (release with iotkit_fleet_results_free()) when
 *        the command was sent (the codes ::IOTKIT_OK, ::IOTKIT_ERR_REMOTE,
 *        ::IOTKIT_ERR_TIMEOUT); left alone otherwise. Required.
 * @return the result's code (::IOTKIT_OK: the device answered ok;
 *         ::IOTKIT_ERR_REMOTE: it answered with an error; ::IOTKIT_ERR_TIMEOUT),
 *         or, with nothing sent, the codes of iotkit_fleet_command_send() and
 *         ::IOTKIT_ERR_STATE (called from a fleet callback).
 */
IOTKIT_API iotkit_err_t iotkit_fleet_command_call(iotkit_fleet_t *fleet, const char *device_id, const char *name,
                                                  const char *params_json, uint32_t timeout_ms,
                                                  iotkit_fleet_results_t **out);

/**
 * @brief Send command @p name to every device of @p target; @p cb gets one result
 * per device (also the devices refused at once: unknown, offline), delivered by
 * the thread driving the session.
 * @param count optional: receives the number of devices addressed (results to expect).
 * @return ::IOTKIT_OK; the input codes above; for @p target: NULL, both or neither
 *         of ids and filter, a NULL or invalid id, a repeated id, a bad filter:
 *         ::IOTKIT_ERR_INVALID_ARG; more than IOTKIT_FLEET_MAX_TARGETS devices:
 *         ::IOTKIT_ERR_TOO_LARGE; ::IOTKIT_ERR_NOT_CONNECTED; database errors of
 *         iotkit_fleet_list(); ::IOTKIT_ERR_NOMEM. On failure no callback runs.
 */
IOTKIT_API iotkit_err_t iotkit_fleet_command_group(iotkit_fleet_t *fleet, const iotkit_fleet_target_t *target,
                                                   const char *name, const char *params_json, uint32_t timeout_ms,
                                                   iotkit_fleet_result_cb cb, void *user, size_t *count);

/**
 * @brief Send command @p name to every device of @p target and wait for all
 * results (at most @p timeout_ms).
 * @param out receives the results, one per device (release with iotkit_fleet_results_free()).
 * @return ::IOTKIT_OK (per-device codes in @p out); the codes of
 *         iotkit_fleet_command_group(); ::IOTKIT_ERR_STATE (from a fleet callback).
 */
IOTKIT_API iotkit_err_t iotkit_fleet_command_group_call(iotkit_fleet_t *fleet, const iotkit_fleet_target_t *target,
                                                        const char *name, const char *params_json,
                                                        uint32_t timeout_ms, iotkit_fleet_results_t **out);

/**
 * @brief Apply the merge patch @p patch_json to one device's desired state,
 * give it the next version, store both and publish the document (retained).
 * @param version optional: receives the version published.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG (NULL fleet, id or patch, bad id,
 *         a patch that is JSON but not an object); ::IOTKIT_ERR_TOO_LARGE (patch
 *         over IOTKIT_FLEET_MAX_CONTROL_JSON, or a document over the payload limit);
 *         ::IOTKIT_ERR_BAD_ENCODING (not JSON); ::IOTKIT_ERR_NOT_FOUND (not registered);
 *         ::IOTKIT_ERR_NOT_CONNECTED (checked before anything is written; a session
 *         lost between the write and the publish gives it too, and the stored
 *         version is then skipped: the next call publishes the merged document);
 *         ::IOTKIT_ERR_STATE (version 2^53 reached); database errors
 *         (::IOTKIT_ERR_BUSY, ::IOTKIT_ERR_IO); sealing errors; ::IOTKIT_ERR_NOMEM.
 */
IOTKIT_API iotkit_err_t iotkit_fleet_desired_set(iotkit_fleet_t *fleet, const char *device_id, const char *patch_json,
                                                 uint64_t *version);

/**
 * @brief iotkit_fleet_desired_set() for every device of @p target; one
 * transaction writes every device's new document.
 * @param out optional: receives one result per device (code, version).
 * @return ::IOTKIT_OK (per-device codes in @p out); the target codes of
 *         iotkit_fleet_command_group(); the patch codes and ::IOTKIT_ERR_NOT_CONNECTED
 *         of iotkit_fleet_desired_set(); database errors (then nothing was written).
 */
IOTKIT_API iotkit_err_t iotkit_fleet_desired_group(iotkit_fleet_t *fleet, const iotkit_fleet_target_t *target,
                                                   const char *patch_json, iotkit_fleet_results_t **out);

/**
 * @brief The desired state the fleet holds for a device, and its version.
 * @param state_json optional: receives the state object as JSON text (iotkit_free()).
 * @param version optional: receives its version.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_NOT_FOUND (no desired state set for that id);
 *         ::IOTKIT_ERR_INVALID_ARG; database errors; ::IOTKIT_ERR_NOMEM.
 */
IOTKIT_API iotkit_err_t iotkit_fleet_desired_get(iotkit_fleet_t *fleet, const char *device_id, char **state_json,
                                                 uint64_t *version);

/** Counters of remote control and protection since the fleet was created; fields are only appended. */
typedef struct iotkit_fleet_control_stats {
  uint64_t commands_sent;       /**< command requests published */
  uint64_t responses;           /**< responses matched to a waiting command (ok or error) */
  uint64_t remote_errors;       /**< ... of which the device answered "error" */
  uint64_t timeouts;            /**< commands that got no answer in time */
  uint64_t late_responses;      /**< answers to commands that had timed out (dropped) */
  uint64_t unmatched_responses; /**< responses matching no command of this fleet, or undecodable (dropped) */
  uint64_t desired_published;   /**< desired-state documents published */
  uint64_t e2e_opened;          /**< sealed messages opened */
  uint64_t e2e_sealed;          /**< messages sealed */
  uint64_t e2e_rejected;        /**< messages dropped because they did not open (or were plain from a device with a key) */
  iotkit_err_t e2e_last_error;  /**< why the last one was dropped (e.g. ::IOTKIT_ERR_CRYPTO_AUTH), ::IOTKIT_OK if none */
} iotkit_fleet_control_stats_t;

/**
 * @brief Read the counters.
 * @param size sizeof(*stats) as the caller was compiled; nothing beyond it is written.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG. Thread-safe.
 */
IOTKIT_API iotkit_err_t iotkit_fleet_control_stats_sized(iotkit_fleet_t *fleet, iotkit_fleet_control_stats_t *stats,
                                                         size_t size);
/** @brief iotkit_fleet_control_stats_sized() with the caller's sizeof. */
#define iotkit_fleet_control_stats(fleet, stats) iotkit_fleet_control_stats_sized((fleet), (stats), sizeof *(stats))

#ifdef __cplusplus
}
#endif

#endif /* IOTKIT_FLEET_CONTROL_H */
