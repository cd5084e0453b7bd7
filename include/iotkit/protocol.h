/**
 * @file protocol.h
 * @brief The wire contract of docs/protocol.md as code: MQTT topic rules, the
 * channels below a device, and the JSON documents that travel on them.
 *
 * One implementation shared by the device, iotkit-hub, the iotkit CLI and the
 * fleet (server) side, so that a topic or a document is spelt in one place.
 *
 * Channels are "<prefix>/<device id>/<suffix>":
 *  - the prefix (default ::IOTKIT_TOPIC_PREFIX_DEFAULT, "iotkit/v1") is one or
 *    more '/'-separated segments, none empty, none "." or "..", no control
 *    characters, no '+' or '#';
 *  - the device id is 1 to ::IOTKIT_MAX_DEVICE_ID bytes of [A-Za-z0-9._-],
 *    not "." or "..";
 *  - the suffix follows the prefix rules; in a subscription filter '+' and '#'
 *    may also stand for whole segments ('#' only last).
 *
 * Documents are JSON text: functions take NUL-terminated text (or bytes and a
 * length for a received payload) and return malloc'd, compact JSON text (keys
 * in the documented order, byte for byte what the device sends), released
 * with iotkit_free(). A payload that is not one JSON value is
 * ::IOTKIT_ERR_BAD_ENCODING; JSON that is not the documented document (no
 * version, no id, a member of the wrong type) is ::IOTKIT_ERR_PROTOCOL; NULL
 * pointers and out-of-range values given by the caller are
 * ::IOTKIT_ERR_INVALID_ARG. A call that fails leaves its outputs untouched.
 *
 * Thread-safety: every function here is pure (no state, no HAL, no locks) and
 * may be called from any thread.
 */
#ifndef IOTKIT_PROTOCOL_H
#define IOTKIT_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "export.h"
#include "options.h"

#ifdef __cplusplus
extern "C" {
#endif

/* -------------------------------------------------------------- topics -- */

/**
 * @brief True if @p topic is a valid MQTT topic name to publish on: non-empty,
 * no '+' or '#'. False for NULL.
 */
IOTKIT_API bool iotkit_topic_name_valid(const char *topic);

/**
 * @brief True if @p filter is a valid MQTT subscription filter: non-empty, '+'
 * fills a whole level, '#' fills a whole level and is the last one. False for NULL.
 */
IOTKIT_API bool iotkit_topic_filter_valid(const char *filter);

/**
 * @brief True if @p topic matches @p filter by MQTT rules (MQTT 3.1.1 section
 * 4.7): '+' one level, '#' the rest including the parent level ("a/#" matches
 * "a"); a topic starting with '$' is not matched by a leading wildcard.
 * @return false as well for NULL or invalid arguments.
 */
IOTKIT_API bool iotkit_topic_match(const char *filter, const char *topic);

/* ------------------------------------------------------------ channels -- */

/** The channels of docs/protocol.md. */
typedef enum iotkit_channel {
  IOTKIT_CHANNEL_OTHER = 0,             /**< none of the below: an application channel */
  IOTKIT_CHANNEL_TELEMETRY = 1,         /**< "telemetry", device → cloud */
  IOTKIT_CHANNEL_STATE_REPORTED = 2,    /**< "state/reported", device → cloud, retained */
  IOTKIT_CHANNEL_STATE_DESIRED = 3,     /**< "state/desired", cloud → device, retained */
  IOTKIT_CHANNEL_COMMANDS_REQUEST = 4,  /**< "commands/request", cloud → device */
  IOTKIT_CHANNEL_COMMANDS_RESPONSE = 5, /**< "commands/response", device → cloud */
  IOTKIT_CHANNEL_EVENTS = 6,            /**< "events/<type>", device → cloud */
  IOTKIT_CHANNEL_STATUS = 7,            /**< "status", device (and last will) → cloud, retained */
  IOTKIT_CHANNEL_OTA_MANIFEST = 8,      /**< "ota/manifest", cloud → device, retained */
  IOTKIT_CHANNEL_OTA_STATUS = 9,        /**< "ota/status", device → cloud */
  IOTKIT_CHANNEL_LOCATION = 10          /**< "location", device → cloud, retained (0.3.0) */
} iotkit_channel_t;

/**
 * @brief The suffix of a channel: "telemetry", "state/reported", ...; for
 * ::IOTKIT_CHANNEL_EVENTS the common part "events" (the channel is
 * "events/<type>"). NULL for ::IOTKIT_CHANNEL_OTHER and unknown values.
 * @return a static string.
 */
IOTKIT_API const char *iotkit_channel_name(iotkit_channel_t channel);

/**
 * @brief The channel a suffix names: "events/<type>" with a valid type (see
 * iotkit_protocol_name_valid()) is ::IOTKIT_CHANNEL_EVENTS; an exact channel
 * name gives its value; anything else (NULL included) ::IOTKIT_CHANNEL_OTHER.
 */
IOTKIT_API iotkit_channel_t iotkit_channel_from_suffix(const char *suffix);

/** @brief True if @p prefix is a valid channel prefix (rules in the file comment). */
IOTKIT_API bool iotkit_protocol_prefix_valid(const char *prefix);

/** @brief True if @p device_id is a valid device id: 1..IOTKIT_MAX_DEVICE_ID bytes of [A-Za-z0-9._-], not "." or "..". */
IOTKIT_API bool iotkit_protocol_device_id_valid(const char *device_id);

/**
 * @brief True if @p name is a valid event type or command id segment: 1 to
 * ::IOTKIT_MAX_NAME bytes of [A-Za-z0-9._-], not "." or "..".
 */
IOTKIT_API bool iotkit_protocol_name_valid(const char *name);

/**
 * @brief True if @p suffix is a valid channel suffix; with @p allow_wildcards
 * (subscriptions) '+' and '#' may stand for whole segments, '#' only last.
 */
IOTKIT_API bool iotkit_protocol_suffix_valid(const char *suffix, bool allow_wildcards);

/**
 * @brief Build the topic "<prefix>/<device_id>/<suffix>" into @p buf.
 * @param prefix the channel prefix; NULL for ::IOTKIT_TOPIC_PREFIX_DEFAULT.
 * @param device_id a valid device id.
 * @param suffix a valid suffix without wildcards, e.g. iotkit_channel_name(IOTKIT_CHANNEL_STATUS) or "events/alarm".
 * @param buf receives the NUL-terminated topic; @p cap bytes. strlen of the
 *        three parts plus 3 is always enough.
 * @return IOTKIT_OK; IOTKIT_ERR_INVALID_ARG for a bad prefix, device id or
 *         suffix, or a NULL @p buf; IOTKIT_ERR_BUFFER_TOO_SMALL if @p cap is
 *         too small (@p buf is then untouched).
 */
IOTKIT_API iotkit_err_t iotkit_protocol_topic(const char *prefix, const char *device_id, const char *suffix, char *buf,
                                              size_t cap);

/**
 * @brief Build a subscription filter "<prefix>/<device_id>/<suffix>", where
 * @p device_id NULL stands for every device ('+'), e.g. "iotkit/v1/+/telemetry"
 * for a whole fleet, and @p suffix may hold wildcards ("#", "events/+").
 * @return as iotkit_protocol_topic(); a suffix with misplaced wildcards is IOTKIT_ERR_INVALID_ARG.
 */
IOTKIT_API iotkit_err_t iotkit_protocol_filter(const char *prefix, const char *device_id, const char *suffix,
                                               char *buf, size_t cap);

/**
 * @brief Split a received topic "<prefix>/<device id>/<suffix>" back into its parts.
 * @param prefix the channel prefix; NULL for ::IOTKIT_TOPIC_PREFIX_DEFAULT.
 * @param topic the topic (e.g. from a "<prefix>/+/telemetry" subscription).
 * @param device_id receives the NUL-terminated device id (@p device_id_cap
 *        bytes; IOTKIT_MAX_DEVICE_ID + 1 always suffice); may be NULL with cap 0.
 * @param suffix optional: receives a pointer into @p topic, at the suffix.
 * @param channel optional: receives iotkit_channel_from_suffix() of the suffix.
 * @return IOTKIT_OK; IOTKIT_ERR_INVALID_ARG for a bad @p prefix or a NULL
 *         @p topic; IOTKIT_ERR_NOT_FOUND if @p topic is not a device channel
 *         below @p prefix (another prefix, a bad device id or suffix);
 *         IOTKIT_ERR_BUFFER_TOO_SMALL if the id does not fit (outputs untouched).
 */
IOTKIT_API iotkit_err_t iotkit_protocol_topic_parse(const char *prefix, const char *topic, char *device_id,
                                                    size_t device_id_cap, const char **suffix,
                                                    iotkit_channel_t *channel);

/* ------------------------------------------------------ merge patches -- */

/**
 * @brief Apply the JSON merge patch @p patch to @p target (RFC 7396): keys are
 * added or replaced, objects merge recursively, null deletes a key; a patch
 * that is not an object replaces the target. Key order is kept: a replaced
 * key stays where it was, new keys are appended.
 * @param target JSON text; NULL for an empty object.
 * @param patch JSON text.
 * @param out receives the patched document (iotkit_free()).
 * @return IOTKIT_OK; IOTKIT_ERR_INVALID_ARG (NULL @p patch or @p out);
 *         IOTKIT_ERR_BAD_ENCODING (malformed JSON); IOTKIT_ERR_NOMEM.
 */
IOTKIT_API iotkit_err_t iotkit_json_merge_patch(const char *target, const char *patch, char **out);

/**
 * @brief The merge patch that turns @p from into @p to: changed or new keys
 * with their new value, removed keys as null, objects recursively; "{}" when
 * they are equal. If either is not an object, the patch is @p to itself. (A
 * null value inside @p to cannot be told from a deletion: RFC 7396 has no way
 * to set a member to null.)
 * @param patch receives the patch (iotkit_free()).
 * @return IOTKIT_OK; IOTKIT_ERR_INVALID_ARG; IOTKIT_ERR_BAD_ENCODING; IOTKIT_ERR_NOMEM.
 */
IOTKIT_API iotkit_err_t iotkit_json_diff(const char *from, const char *to, char **patch);

/* ----------------------------------------------------------- documents -- */

/** ts value that stands for "no ts member" in the status document functions. */
#define IOTKIT_PROTOCOL_NO_TS INT64_MIN

/**
 * @brief The desired-state document {"version":N,"state":S} (the fleet side
 * publishes it retained on state/desired).
 * @param version 1 to 2^53.
 * @param state_json a JSON object.
 * @param out receives the document (iotkit_free()).
 * @return IOTKIT_OK; IOTKIT_ERR_INVALID_ARG (version out of range, NULL
 *         pointers, state not an object); IOTKIT_ERR_BAD_ENCODING; IOTKIT_ERR_NOMEM.
 */
IOTKIT_API iotkit_err_t iotkit_protocol_desired_build(uint64_t version, const char *state_json, char **out);

/**
 * @brief Read a desired-state document as the device does.
 * @param version receives N (1 to 2^53).
 * @param state_json optional: receives the state object as JSON text (iotkit_free()).
 * @return IOTKIT_OK; IOTKIT_ERR_INVALID_ARG; IOTKIT_ERR_BAD_ENCODING (not JSON);
 *         IOTKIT_ERR_PROTOCOL (not an object, no whole version ≥ 1, no state object).
 */
IOTKIT_API iotkit_err_t iotkit_protocol_desired_parse(const void *payload, size_t len, uint64_t *version,
                                                      char **state_json);

/**
 * @brief The reported-state document {"state":S,"ts":N} the device publishes.
 * @param state_json a JSON object; @p ts milliseconds since the Unix epoch.
 * @return as iotkit_protocol_desired_build() (state not an object: IOTKIT_ERR_INVALID_ARG).
 */
IOTKIT_API iotkit_err_t iotkit_protocol_reported_build(const char *state_json, int64_t ts, char **out);

/**
 * @brief Read a reported-state document.
 * @param state_json optional: receives the state object (iotkit_free()).
 * @param ts optional: receives ts.
 * @return IOTKIT_OK; IOTKIT_ERR_INVALID_ARG; IOTKIT_ERR_BAD_ENCODING;
 *         IOTKIT_ERR_PROTOCOL (no state object or no whole ts ≥ 0).
 */
IOTKIT_API iotkit_err_t iotkit_protocol_reported_parse(const void *payload, size_t len, char **state_json,
                                                       int64_t *ts);

/**
 * @brief The status document: {"status":"online","ts":N},
 * {"status":"offline","reason":R,"ts":N}, or the last will
 * {"status":"offline","reason":"connection_lost"} (no ts).
 * @param online online or offline.
 * @param reason NULL for none, else a string written as "reason".
 * @param ts milliseconds since the Unix epoch, or IOTKIT_PROTOCOL_NO_TS for no ts member.
 * @return IOTKIT_OK; IOTKIT_ERR_INVALID_ARG (NULL @p out); IOTKIT_ERR_NOMEM.
 */
IOTKIT_API iotkit_err_t iotkit_protocol_status_build(bool online, const char *reason, int64_t ts, char **out);

/**
 * @brief Read a status document (a retained one from "<prefix>/+/status" or a live one).
 * @param online receives true for "online", false for "offline".
 * @param reason optional: receives the reason (iotkit_free()), or NULL if there is none.
 * @param ts optional: receives ts, or IOTKIT_PROTOCOL_NO_TS if there is none (the last will).
 * @return IOTKIT_OK; IOTKIT_ERR_INVALID_ARG; IOTKIT_ERR_BAD_ENCODING;
 *         IOTKIT_ERR_PROTOCOL (status neither "online" nor "offline", reason
 *         not a string, ts not a whole number ≥ 0).
 */
IOTKIT_API iotkit_err_t iotkit_protocol_status_parse(const void *payload, size_t len, bool *online, char **reason,
                                                     int64_t *ts);

/**
 * @brief The event document {"type":T,"ts":N,"data":D} of "events/<type>".
 * @param type a valid name (iotkit_protocol_name_valid()).
 * @param data_json any JSON value; NULL for {}.
 * @return IOTKIT_OK; IOTKIT_ERR_INVALID_ARG; IOTKIT_ERR_BAD_ENCODING; IOTKIT_ERR_NOMEM.
 */
IOTKIT_API iotkit_err_t iotkit_protocol_event_build(const char *type, int64_t ts, const char *data_json, char **out);

/**
 * @brief A command request {"id":I,"name":N,"params":P} for commands/request.
 * @param id 1 to ::IOTKIT_MAX_REQUEST_ID bytes, chosen by the caller.
 * @param name the command, non-empty.
 * @param params_json a JSON object, or NULL to leave "params" out (the device reads {}).
 * @return IOTKIT_OK; IOTKIT_ERR_INVALID_ARG (bad id or name, params not an
 *         object); IOTKIT_ERR_BAD_ENCODING; IOTKIT_ERR_NOMEM.
 */
IOTKIT_API iotkit_err_t iotkit_protocol_command_build(const char *id, const char *name, const char *params_json,
                                                      char **out);

/**
 * @brief Read an event document {"type":T,"ts":N,"data":D}.
 * @param type optional: receives T (iotkit_free()).
 * @param ts optional: receives N.
 * @param data_json optional: receives D as compact JSON text (iotkit_free()).
 * @return IOTKIT_OK; IOTKIT_ERR_INVALID_ARG (NULL payload with a length);
 *         IOTKIT_ERR_BAD_ENCODING (not JSON); IOTKIT_ERR_PROTOCOL (not an
 *         object, type not a valid name, ts not a whole number ≥ 0, no data);
 *         IOTKIT_ERR_NOMEM.
 */
IOTKIT_API iotkit_err_t iotkit_protocol_event_parse(const void *payload, size_t len, char **type, int64_t *ts,
                                                    char **data_json);

/**
 * A position, as a device reports it on the "location" channel
 * (iotkit_device_report_location()) and the fleet returns it. WGS 84
 * coordinates in degrees. The size is frozen: later members take the
 * reserved slots (keep them zero).
 */
typedef struct iotkit_location {
  double latitude;     /**< degrees, -90 to 90 */
  double longitude;    /**< degrees, -180 to 180 */
  double altitude;     /**< metres above sea level; read only when has_altitude */
  double accuracy_m;   /**< horizontal accuracy radius in metres, ≥ 0; read only when has_accuracy */
  int64_t ts_ms;       /**< when the position was taken, ms since the Unix epoch (0: now, when reporting) */
  bool has_altitude;   /**< altitude is set */
  bool has_accuracy;   /**< accuracy_m is set */
  uint64_t reserved[2]; /**< zero */
} iotkit_location_t;

/**
 * @brief Check a position: latitude within [-90, 90], longitude within
 * [-180, 180], every value that is read finite (no NaN, no infinity), an
 * accuracy ≥ 0 and a ts_ms ≥ 0.
 * @return IOTKIT_OK, or IOTKIT_ERR_INVALID_ARG (also for NULL).
 */
IOTKIT_API iotkit_err_t iotkit_location_check(const iotkit_location_t *loc);

/**
 * @brief The location document {"lat":L,"lon":L,"alt":A,"acc":A,"ts":N}
 * ("alt" and "acc" only when set; numbers written with the fewest digits that
 * read back as the same double).
 * @param loc a position that passes iotkit_location_check(); ts_ms is written as it is.
 * @param out receives the document (iotkit_free()).
 * @return IOTKIT_OK; IOTKIT_ERR_INVALID_ARG (NULL, or a position that fails the
 *         check); IOTKIT_ERR_NOMEM.
 */
IOTKIT_API iotkit_err_t iotkit_protocol_location_build(const iotkit_location_t *loc, char **out);

/**
 * @brief Read a location document. Unknown members are ignored.
 * @param out receives the position (reserved slots zero).
 * @return IOTKIT_OK; IOTKIT_ERR_INVALID_ARG (NULL @p out, NULL payload with a
 *         length); IOTKIT_ERR_BAD_ENCODING (not JSON); IOTKIT_ERR_PROTOCOL (not
 *         an object, lat or lon missing or not a number, a position that fails
 *         iotkit_location_check(), ts missing or not a whole number ≥ 0).
 */
IOTKIT_API iotkit_err_t iotkit_protocol_location_parse(const void *payload, size_t len, iotkit_location_t *out);

/**
 * A command response read by iotkit_protocol_response_parse(). Strings are
 * malloc'd, released by iotkit_protocol_response_clear(). The size is frozen:
 * later members take the reserved slots.
 */
typedef struct iotkit_command_response {
  char *id;            /**< the request's id */
  bool ok;             /**< "status":"ok" (result set) or "error" (error_code and error_message set) */
  char *result_json;   /**< the result as JSON text, or NULL */
  char *error_code;    /**< e.g. "unknown_command", or NULL */
  char *error_message; /**< the human-readable message, or NULL */
  void *reserved[4];   /**< NULL */
} iotkit_command_response_t;

/**
 * @brief Read a command response: {"id":I,"status":"ok","result":R} or
 * {"id":I,"status":"error","error":{"code":C,"message":M}}.
 * @param out filled on success (release with iotkit_protocol_response_clear()).
 * @return IOTKIT_OK; IOTKIT_ERR_INVALID_ARG; IOTKIT_ERR_BAD_ENCODING;
 *         IOTKIT_ERR_PROTOCOL (no id string, status neither "ok" nor "error",
 *         no result for ok, no error object with string code and message);
 *         IOTKIT_ERR_NOMEM.
 */
IOTKIT_API iotkit_err_t iotkit_protocol_response_parse(const void *payload, size_t len,
                                                       iotkit_command_response_t *out);

/** @brief Release the strings of @p r and zero it; NULL is accepted. */
IOTKIT_API void iotkit_protocol_response_clear(iotkit_command_response_t *r);

/**
 * An OTA status document (ota/status) read by iotkit_protocol_ota_status_parse().
 * Strings are malloc'd, released by iotkit_protocol_ota_status_clear(). Frozen size.
 */
typedef struct iotkit_ota_report {
  char *state;           /**< "idle", "downloading", ..., "failed" (see iotkit_ota_state_name()) */
  uint64_t bytes;        /**< bytes in the slot */
  uint64_t total;        /**< image size */
  unsigned percent;      /**< 0..100 */
  char *error;           /**< symbolic error name, e.g. "IOTKIT_ERR_OTA_HASH", or NULL */
  char *reason;          /**< its message, or NULL */
  char *running_version; /**< the running version */
  char *target_version;  /**< the manifest's version, or NULL */
  void *reserved[4];     /**< NULL */
} iotkit_ota_report_t;

/**
 * @brief Read an ota/status document.
 * @return IOTKIT_OK; IOTKIT_ERR_INVALID_ARG; IOTKIT_ERR_BAD_ENCODING;
 *         IOTKIT_ERR_PROTOCOL (no state string, bytes/total/percent not whole
 *         numbers, error/reason/target_version neither string nor null, no
 *         running_version string); IOTKIT_ERR_NOMEM.
 */
IOTKIT_API iotkit_err_t iotkit_protocol_ota_status_parse(const void *payload, size_t len, iotkit_ota_report_t *out);

/** @brief Release the strings of @p r and zero it; NULL is accepted. */
IOTKIT_API void iotkit_protocol_ota_status_clear(iotkit_ota_report_t *r);

#ifdef __cplusplus
}
#endif

#endif /* IOTKIT_PROTOCOL_H */
