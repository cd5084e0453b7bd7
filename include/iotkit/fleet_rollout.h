/**
 * @file fleet_rollout.h
 * @brief Staged OTA rollouts: a signed manifest published to a target set of
 * devices in groups, each group gated by a success and an error threshold (the
 * vocabulary and the rules of Eclipse hawkBit). Included by fleet.h (include
 * that one).
 *
 * **Life of a rollout.** iotkit_fleet_rollout_create() checks the manifest
 * the way a device does (iotkit_ota_manifest_parse(), then
 * iotkit_ota_manifest_verify() with the trust store of
 * iotkit_fleet_set_ota_trust()), resolves the target set (a list of
 * registered ids, or every record matching a registry filter, in id order),
 * cuts it into groups and stores it: the rollout is READY. Then:
 *  - iotkit_fleet_rollout_start() starts the first group (RUNNING).
 *  - Starting a group publishes the manifest (QoS 1, retained) on
 *    "<prefix>/<id>/ota/manifest" of each of its devices, from the fleet's
 *    polling thread, as soon as the fleet has a session (a group started
 *    while it has none is published when it connects).
 *  - Each device's "ota/status" documents (docs/protocol.md) move it:
 *    "downloading" .. "trial" of the rollout's version: running (with the
 *    percentage); "confirmed": finished; "failed" or "rolled_back": error (its
 *    error name kept). A device that reports running the rollout's version
 *    ("idle" or "confirmed") is finished too. Reports of other versions are
 *    not the rollout's and are ignored.
 *  - **Thresholds** (hawkBit's, exactly): a group succeeds when
 *    finished / total >= success_pct %, and fails when
 *    errors / total > error_pct % (strictly greater); an empty group succeeds
 *    at once. The arithmetic is on integers (finished * 100 >= success_pct *
 *    total), so equality is exact. When a group succeeds, the next one starts
 *    (a success threshold of 0 % starts it at once). When a group fails, the
 *    error action runs: the group is ERROR and the rollout PAUSED
 *    (iotkit_fleet_rollout_info_t::error_group names it). The error condition
 *    is checked first, and also for a group that already succeeded while its
 *    devices are still going.
 *  - One rule hawkBit lacks: a group whose devices have all ended (finished or
 *    error) without reaching its success threshold, and without passing its
 *    error threshold, could never go on; it fails the same way (ERROR, rollout
 *    PAUSED), rather than leaving the rollout RUNNING for ever.
 *  - iotkit_fleet_rollout_resume() after an error pause is the operator's
 *    decision to go on despite the errors: the ERROR group stays ERROR, is not
 *    checked again, and counts as done, so the next group starts at once.
 *  - The rollout is FINISHED when every group has started, the last one has
 *    succeeded (or was resumed past an error), and no device is still
 *    running.
 *
 * **Pause** stops groups from starting; the devices already sent the manifest
 * carry on and their reports are still recorded. **Cancel** ends the rollout
 * (CANCELED): devices of groups not started are never sent anything; the
 * devices not ended become CANCELED (those in error stay so); every
 * device that was sent the manifest and has not finished gets its retained
 * manifest cleared (an empty retained message on ota/manifest, which devices
 * ignore), so that a device that has not received it yet (offline) never
 * starts, and a device that failed does not try again at its next session.
 * docs/protocol.md has no way to abort an update a device has started: such a
 * device carries on, and its later reports are no longer recorded.
 *
 * **Persistence.** Rollouts, their groups and every device's status and
 * progress are in the fleet's database, written through the writer thread
 * (message processing never waits for the disk; at most the changes of the
 * last write cycle are lost when the process dies). A fleet opened on the
 * same database carries on: groups started and not yet published are
 * published at its first session, and at every new session the manifest is
 * published again to the devices that were sent it and have not ended. A
 * device that has not received it gets it, one working on it ignores it, and
 * one done with it answers with its status (docs/protocol.md): "ota/status"
 * is not retained, so this is how a fleet that was down (or killed before it
 * wrote a report) learns what it missed. A device offline at that moment
 * reports at the start of its next session.
 *
 * **Several processes.** A start, pause, resume or cancel made through
 * another fleet handle on the same database (another process, such as
 * `iotkit fleet rollout pause`) is adopted by a fleet that drives a session:
 * while one of its rollouts is active, its polling reads the stored states
 * (at most four times a second) and applies such a change as if the call had
 * been made on it, with its events. A rollout that has ended in this fleet
 * keeps its ending; a rollout created elsewhere is not seen until the fleet
 * is opened again.
 *
 * **Threads.** Every function here may be called from any thread. The
 * evaluation runs under the fleet's lock, in the thread of the change: the
 * fleet's polling thread for device reports, the caller's for start, pause,
 * resume and cancel; the rollout callback runs there too, after the lock is
 * released.
 *
 * A device belongs to at most one rollout that is READY, RUNNING or PAUSED.
 * Rollouts are kept (and listed) after they end.
 */
#ifndef IOTKIT_FLEET_ROLLOUT_H
#define IOTKIT_FLEET_ROLLOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "export.h"
#include "ota.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Most groups in one rollout. */
#define IOTKIT_FLEET_ROLLOUT_MAX_GROUPS 64
/** Most devices in one rollout. */
#define IOTKIT_FLEET_ROLLOUT_MAX_DEVICES 1000000
/** Default success threshold of a group, in % (hawkBit's). */
#define IOTKIT_FLEET_ROLLOUT_SUCCESS_DEFAULT 50
/** Default error threshold of a group, in % (hawkBit's). */
#define IOTKIT_FLEET_ROLLOUT_ERROR_DEFAULT 50

/** State of a rollout. */
typedef enum iotkit_fleet_rollout_state {
  IOTKIT_FLEET_ROLLOUT_READY = 0,    /**< created, not started */
  IOTKIT_FLEET_ROLLOUT_RUNNING = 1,  /**< groups start as the thresholds allow */
  IOTKIT_FLEET_ROLLOUT_PAUSED = 2,   /**< no group starts: paused by a call or by a group's error */
  IOTKIT_FLEET_ROLLOUT_FINISHED = 3, /**< every group done, no device running */
  IOTKIT_FLEET_ROLLOUT_CANCELED = 4  /**< canceled */
} iotkit_fleet_rollout_state_t;

/** State of a group. */
typedef enum iotkit_fleet_group_state {
  IOTKIT_FLEET_GROUP_SCHEDULED = 0, /**< not started */
  IOTKIT_FLEET_GROUP_RUNNING = 1,   /**< started, success threshold not reached yet */
  IOTKIT_FLEET_GROUP_SUCCESS = 2,   /**< success threshold reached (the next group started) */
  IOTKIT_FLEET_GROUP_ERROR = 3      /**< error threshold passed (or success out of reach): the error action ran */
} iotkit_fleet_group_state_t;

/** State of a device in a rollout. */
typedef enum iotkit_fleet_rollout_device_state {
  IOTKIT_FLEET_TARGET_PENDING = 0,  /**< its group has not started */
  IOTKIT_FLEET_TARGET_RUNNING = 1,  /**< sent the manifest (or about to be), not ended */
  IOTKIT_FLEET_TARGET_FINISHED = 2, /**< confirmed the rollout's version */
  IOTKIT_FLEET_TARGET_ERROR = 3,    /**< reported failed or rolled_back */
  IOTKIT_FLEET_TARGET_CANCELED = 4  /**< the rollout was canceled before it ended */
} iotkit_fleet_rollout_device_state_t;

/** @brief Name of a rollout state ("ready", "running", "paused", "finished", "canceled"; "?" if unknown). */
IOTKIT_API const char *iotkit_fleet_rollout_state_name(iotkit_fleet_rollout_state_t state);
/** @brief Name of a group state ("scheduled", "running", "success", "error"; "?" if unknown). */
IOTKIT_API const char *iotkit_fleet_group_state_name(iotkit_fleet_group_state_t state);
/** @brief Name of a device state ("pending", "running", "finished", "error", "canceled"; "?" if unknown). */
IOTKIT_API const char *iotkit_fleet_rollout_device_state_name(iotkit_fleet_rollout_device_state_t state);

/**
 * One group of a rollout as it is asked for. Frozen size (it comes in arrays):
 * new options will come in a new struct. Fill with iotkit_fleet_group_spec_init().
 */
typedef struct iotkit_fleet_group_spec {
  /** If > 0: the group holds this many devices (capped at those left). */
  size_t count;
  /** If count is 0: the group holds percent % of the whole target set (1..100), rounded up,
      capped at those left. The percentages of a rollout add up to at most 100. */
  unsigned percent;
  /** Success threshold, 0..100 % (default ::IOTKIT_FLEET_ROLLOUT_SUCCESS_DEFAULT). */
  unsigned success_pct;
  /** Error threshold, 0..100 % (default ::IOTKIT_FLEET_ROLLOUT_ERROR_DEFAULT). */
  unsigned error_pct;
} iotkit_fleet_group_spec_t;

/** @brief Fill @p g with the defaults (no size, thresholds 50 % and 50 %). NULL is ignored. */
IOTKIT_API void iotkit_fleet_group_spec_init(iotkit_fleet_group_spec_t *g);

/**
 * What iotkit_fleet_rollout_create() is given. Fill with
 * iotkit_fleet_rollout_spec_init(). Every string and array is copied.
 * Devices are taken in order (the list's, or id order for a filter) and dealt
 * to the groups in order; devices left after the last group join it.
 */
typedef struct iotkit_fleet_rollout_spec {
  /** sizeof(iotkit_fleet_rollout_spec_t) as the caller was compiled (set by _init). */
  size_t struct_size;
  /** Rollout id: 1..IOTKIT_MAX_DEVICE_ID bytes of [A-Za-z0-9._-] (the device id rule). Required. */
  const char *id;
  /** The signed manifest (JSON of docs/protocol.md). Required. */
  const char *manifest;
  /** Its length in bytes. */
  size_t manifest_len;
  /** Targets: device_count registered ids, each once; or NULL to use @ref filter. */
  const char *const *device_ids;
  /** Number of ids in device_ids. */
  size_t device_count;
  /** Targets when device_ids is NULL: the records matching this filter (NULL: none given). */
  const iotkit_fleet_filter_t *filter;
  /** group_count groups (1..::IOTKIT_FLEET_ROLLOUT_MAX_GROUPS). */
  const iotkit_fleet_group_spec_t *groups;
  /** Number of groups. */
  size_t group_count;
} iotkit_fleet_rollout_spec_t;

/** @brief Fill @p spec with defaults (everything NULL or 0). NULL is ignored. */
IOTKIT_API void iotkit_fleet_rollout_spec_init(iotkit_fleet_rollout_spec_t *spec);

/**
 * @brief The public keys rollouts' manifests are checked with (as a device's
 * trust store). Not copied: @p trust must stay valid, unchanged, until it is
 * replaced or the fleet is freed. NULL: none (every manifest is then refused
 * with ::IOTKIT_ERR_OTA_UNKNOWN_KEY, as by a device that trusts no key).
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG for a NULL @p fleet. Thread-safe.
 */
IOTKIT_API iotkit_err_t iotkit_fleet_set_ota_trust(iotkit_fleet_t *fleet, const iotkit_ota_trust_t *trust);

/**
 * @brief Create a rollout (READY) and store it. Nothing is published yet.
 * @param fleet the fleet. @param spec what to roll out, to whom, in which groups.
 * @return ::IOTKIT_OK;
 *         ::IOTKIT_ERR_OTA_MANIFEST: the manifest is malformed, unsigned included
 *         (no signature member);
 *         ::IOTKIT_ERR_OTA_UNKNOWN_KEY: its key id is not in the trust store (or there is none);
 *         ::IOTKIT_ERR_OTA_SIGNATURE: its signature does not verify;
 *         ::IOTKIT_ERR_INVALID_ARG: NULL fleet, spec, id or manifest; a
 *         struct_size below manifest_len; an id breaking the id rule; neither
 *         or both of device_ids and filter; a device id breaking the rule or
 *         given twice; no groups or more than the maximum; a group threshold
 *         (success_pct, error_pct) above 100; a group with neither count nor
 *         percent, or a percent above 100; percentages adding up to more than 100;
 *         more devices than ::IOTKIT_FLEET_ROLLOUT_MAX_DEVICES; a filter that
 *         iotkit_fleet_list() refuses;
 *         ::IOTKIT_ERR_NOT_FOUND: a listed device is not registered;
 *         ::IOTKIT_ERR_EXISTS: a rollout with that id exists;
 *         ::IOTKIT_ERR_BUSY: a target is in another rollout that is READY,
 *         RUNNING or PAUSED;
 *         database errors as iotkit_fleet_device_create(); ::IOTKIT_ERR_NOMEM.
 *         Detail in iotkit_fleet_last_error(). Thread-safe.
 */
IOTKIT_API iotkit_err_t iotkit_fleet_rollout_create(iotkit_fleet_t *fleet, const iotkit_fleet_rollout_spec_t *spec);

/**
 * @brief Start a READY rollout: its first group starts (and every following one
 * whose predecessor succeeds at once: empty groups, 0 % thresholds).
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_NOT_FOUND; ::IOTKIT_ERR_STATE if it is not READY;
 *         ::IOTKIT_ERR_INVALID_ARG for NULL arguments. Thread-safe.
 */
IOTKIT_API iotkit_err_t iotkit_fleet_rollout_start(iotkit_fleet_t *fleet, const char *rollout_id);

/**
 * @brief Pause a RUNNING rollout (no group starts until it is resumed).
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_NOT_FOUND; ::IOTKIT_ERR_STATE if it is not RUNNING;
 *         ::IOTKIT_ERR_INVALID_ARG. Thread-safe.
 */
IOTKIT_API iotkit_err_t iotkit_fleet_rollout_pause(iotkit_fleet_t *fleet, const char *rollout_id);

/**
 * @brief Resume a PAUSED rollout (paused by a call or by a group's error: see
 * the file's comment); it is evaluated at once.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_NOT_FOUND; ::IOTKIT_ERR_STATE if it is not PAUSED;
 *         ::IOTKIT_ERR_INVALID_ARG. Thread-safe.
 */
IOTKIT_API iotkit_err_t iotkit_fleet_rollout_resume(iotkit_fleet_t *fleet, const char *rollout_id);

/**
 * @brief Cancel a READY, RUNNING or PAUSED rollout (what happens to the
 * devices: see the file's comment).
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_NOT_FOUND; ::IOTKIT_ERR_STATE if it has ended
 *         (FINISHED or CANCELED); ::IOTKIT_ERR_INVALID_ARG. Thread-safe.
 */
IOTKIT_API iotkit_err_t iotkit_fleet_rollout_cancel(iotkit_fleet_t *fleet, const char *rollout_id);

/** Devices of a group or a rollout, by state. */
typedef struct iotkit_fleet_rollout_counts {
  size_t total;    /**< every device */
  size_t pending;  /**< ::IOTKIT_FLEET_TARGET_PENDING */
  size_t running;  /**< ::IOTKIT_FLEET_TARGET_RUNNING */
  size_t finished; /**< ::IOTKIT_FLEET_TARGET_FINISHED */
  size_t error;    /**< ::IOTKIT_FLEET_TARGET_ERROR */
  size_t canceled; /**< ::IOTKIT_FLEET_TARGET_CANCELED */
} iotkit_fleet_rollout_counts_t;

/** One group, as iotkit_fleet_rollout_get() returns it. */
typedef struct iotkit_fleet_group_info {
  iotkit_fleet_group_state_t state; /**< its state */
  unsigned success_pct;             /**< its success threshold (%) */
  unsigned error_pct;               /**< its error threshold (%) */
  iotkit_fleet_rollout_counts_t counts; /**< its devices by state */
  int64_t started_ms;               /**< when it started (wall clock, ms); 0 if not */
} iotkit_fleet_group_info_t;

/** A rollout, as iotkit_fleet_rollout_get() returns it; release with iotkit_fleet_rollout_info_free(). */
typedef struct iotkit_fleet_rollout_info {
  /** sizeof(iotkit_fleet_rollout_info_t) of the library that made it: read a field only if it lies within it. */
  size_t struct_size;
  char *id;                           /**< the rollout id */
  char *device_type;                  /**< the manifest's device type */
  char *version;                      /**< the manifest's version */
  iotkit_fleet_rollout_state_t state; /**< its state */
  size_t group_count;                 /**< number of groups */
  iotkit_fleet_group_info_t *groups;  /**< group_count groups, in order */
  size_t started_groups;              /**< groups started so far */
  int error_group;                    /**< the group whose error action paused it, or -1 */
  char *reason;                       /**< why it is paused ("" otherwise), e.g. "error threshold of group 1 passed" */
  iotkit_fleet_rollout_counts_t counts; /**< every device by state */
  int64_t created_ms;                 /**< creation time (ms) */
  int64_t updated_ms;                 /**< time of its latest change of state (ms) */
} iotkit_fleet_rollout_info_t;

/**
 * @brief A rollout's state and counts (in memory: no disk read).
 * @param out receives a new info; release with iotkit_fleet_rollout_info_free(). Left alone on failure.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_NOT_FOUND; ::IOTKIT_ERR_INVALID_ARG; ::IOTKIT_ERR_NOMEM. Thread-safe.
 */
IOTKIT_API iotkit_err_t iotkit_fleet_rollout_get(iotkit_fleet_t *fleet, const char *rollout_id,
                                                 iotkit_fleet_rollout_info_t **out);

/** @brief Release an info. NULL is a no-op. */
IOTKIT_API void iotkit_fleet_rollout_info_free(iotkit_fleet_rollout_info_t *info);

/** One device of a rollout. Frozen size (it comes in arrays). */
typedef struct iotkit_fleet_rollout_device {
  char device_id[65];                 /**< the device id (IOTKIT_MAX_DEVICE_ID is 64) */
  unsigned group;                     /**< its group (0-based) */
  iotkit_fleet_rollout_device_state_t state;  /**< its state */
  unsigned percent;                   /**< the download's progress it last reported, 0..100 */
  char error[48];                     /**< the error name it reported ("IOTKIT_ERR_OTA_DEVICE_TYPE"), or "" */
  int64_t updated_ms;                 /**< when it last changed (ms); 0 if never */
} iotkit_fleet_rollout_device_t;

/**
 * @brief The devices of a rollout (all, or one group's), in group order.
 * @param group a group index, or -1 for every group.
 * @param out receives a malloc'd array (NULL when @p count is 0); release with iotkit_free().
 * @param count receives its length.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_NOT_FOUND for an unknown rollout;
 *         ::IOTKIT_ERR_INVALID_ARG for NULL arguments or a group out of range; ::IOTKIT_ERR_NOMEM. Thread-safe.
 */
IOTKIT_API iotkit_err_t iotkit_fleet_rollout_targets(iotkit_fleet_t *fleet, const char *rollout_id, int group,
                                                     iotkit_fleet_rollout_device_t **out, size_t *count);

/**
 * @brief One device of a rollout.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_NOT_FOUND for an unknown rollout or a device not in it;
 *         ::IOTKIT_ERR_INVALID_ARG. Thread-safe.
 */
IOTKIT_API iotkit_err_t iotkit_fleet_rollout_target(iotkit_fleet_t *fleet, const char *rollout_id,
                                                    const char *device_id, iotkit_fleet_rollout_device_t *out);

/**
 * @brief The ids of every rollout, oldest first.
 * @param ids receives a malloc'd array of @p count malloc'd strings; release with
 *        iotkit_fleet_rollout_ids_free(). @param count receives the count.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG; ::IOTKIT_ERR_NOMEM. Thread-safe.
 */
IOTKIT_API iotkit_err_t iotkit_fleet_rollout_list(iotkit_fleet_t *fleet, char ***ids, size_t *count);

/** @brief Release what iotkit_fleet_rollout_list() returned. */
IOTKIT_API void iotkit_fleet_rollout_ids_free(char **ids, size_t count);

/** What changed in a rollout (valid during the callback only). */
typedef struct iotkit_fleet_rollout_event {
  /** sizeof(iotkit_fleet_rollout_event_t) of the library: read fields only within it. */
  size_t struct_size;
  const char *rollout_id;              /**< the rollout */
  iotkit_fleet_rollout_state_t state;  /**< its state after the change */
  int group;                           /**< the group concerned, or -1 */
  iotkit_fleet_group_state_t group_state; /**< that group's state after the change */
  const char *device_id;               /**< the device whose status changed, or NULL for a rollout or group change */
  iotkit_fleet_rollout_device_state_t device_state; /**< its state */
  unsigned percent;                    /**< its progress */
  const char *error;                   /**< its error name, or "" */
} iotkit_fleet_rollout_event_t;

/**
 * Progress of rollouts: called for every change of a device's state or
 * progress, of a group's state and of a rollout's state (see "Threads").
 */
typedef void (*iotkit_fleet_rollout_cb)(iotkit_fleet_t *fleet, void *user, const iotkit_fleet_rollout_event_t *ev);

/** @brief Set (or, with NULL, clear) the rollout callback. Thread-safe; as the other setters of fleet_monitor.h. */
IOTKIT_API iotkit_err_t iotkit_fleet_on_rollout(iotkit_fleet_t *fleet, iotkit_fleet_rollout_cb cb, void *user);

#ifdef __cplusplus
}
#endif

#endif /* IOTKIT_FLEET_ROLLOUT_H */
