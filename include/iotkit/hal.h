/**
 * @file hal.h
 * @brief Hardware abstraction layer: every OS and hardware touch of libiotkit.
 *
 * The integrator fills an ::iotkit_hal_t with function pointers and a context
 * pointer, or uses one of the two shipped implementations:
 *  - POSIX (iotkit_hal_posix_new()): state kept in a directory; key-value
 *    writes are atomic (temporary file, fsync, rename, fsync of the directory),
 *    so a crash in the middle of a write leaves the old value.
 *  - memory (iotkit_hal_memory_new()): a test aid, for tests and simulation,
 *    not for production, with fault injection (fail the Nth write) and
 *    power-cut simulation (un-synced writes are dropped). Its functions below
 *    are marked "Test aid".
 *
 * Library code above the HAL never calls the OS directly. Always call
 * iotkit_hal_init() before filling a HAL by hand, so that fields added in later
 * versions start as NULL. Optional operations may be left NULL; the library
 * then reports ::IOTKIT_ERR_UNSUPPORTED for the feature that needs them.
 *
 * Every operation receives the HAL's @c ctx as its first argument.
 *
 * Both shipped HALs are thread-safe: every operation may be called from any
 * thread. They share one contract, described on each field below: the same
 * argument checks and the same error codes.
 */
#ifndef IOTKIT_HAL_H
#define IOTKIT_HAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "core.h"
#include "error.h"
#include "options.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Number of firmware slots (A/B). */
#define IOTKIT_HAL_SLOT_COUNT 2

/** What the HAL knows about the firmware slots. */
typedef struct iotkit_slot_info {
  int active;             /**< slot the running image booted from (0 or 1) */
  int pending;            /**< slot marked to boot on trial next, or -1 */
  bool active_confirmed;  /**< the running image has been confirmed */
  uint32_t trial_boots;   /**< boots of the running image while unconfirmed */
  uint64_t size[IOTKIT_HAL_SLOT_COUNT];     /**< bytes written (finalized size) per slot */
  uint64_t capacity[IOTKIT_HAL_SLOT_COUNT]; /**< the most a slot can hold */
  /**
   * The last trial ended in a rollback by iotkit_hal_boot() or slot_revert():
   * the image in the inactive slot was tried and not confirmed. Cleared by slot_open() and
   * slot_mark_pending(). (Shipped HALs; a hand-filled HAL may leave it false.)
   */
  bool rolled_back;
} iotkit_slot_info_t;

/** Entry point of a thread started through the HAL. */
typedef void (*iotkit_thread_fn)(void *arg);

/**
 * The hardware abstraction layer. Fields marked (required) must be set for
 * iotkit_device_new() to accept the HAL.
 */
typedef struct iotkit_hal {
  /** sizeof(iotkit_hal_t) as the integrator was compiled (set by iotkit_hal_init());
      0 means the layout of 0.2.0. Operations beyond it are taken as absent. */
  size_t struct_size;
  /** Passed as first argument to every operation. */
  void *ctx;

  /** (required) Milliseconds from an arbitrary origin; never goes backwards. */
  uint64_t (*monotonic_ms)(void *ctx);
  /** (required) Wall-clock time in milliseconds since the Unix epoch. */
  int64_t (*wall_ms)(void *ctx);
  /** (required) Fill @p buf with @p len cryptographically strong random bytes. */
  iotkit_err_t (*random)(void *ctx, void *buf, size_t len);
  /** Sleep for up to @p ms milliseconds (may return early). */
  void (*sleep_ms)(void *ctx, uint32_t ms);

  /**
   * Read the value stored under @p key into @p buf (capacity @p cap) and its
   * length into @p *len. Returns ::IOTKIT_ERR_NOT_FOUND if absent,
   * ::IOTKIT_ERR_BUFFER_TOO_SMALL (with @p *len set to the needed size) if
   * @p cap is too small (@p buf may be NULL with @p cap 0 to learn the size).
   * Keys are 1..IOTKIT_MAX_KV_KEY bytes of [A-Za-z0-9._-], not "." nor "..";
   * any other key, or a NULL @p len, gives ::IOTKIT_ERR_INVALID_ARG.
   */
  iotkit_err_t (*kv_get)(void *ctx, const char *key, void *buf, size_t cap, size_t *len);
  /**
   * Store @p len bytes under @p key, atomically: after a crash the old or the
   * new value, never a mix. Durable when it returns. ::IOTKIT_ERR_TOO_LARGE if
   * @p len exceeds IOTKIT_MAX_KV_VALUE.
   */
  iotkit_err_t (*kv_set)(void *ctx, const char *key, const void *val, size_t len);
  /** Erase @p key. Erasing an absent key succeeds. */
  iotkit_err_t (*kv_erase)(void *ctx, const char *key);

  /**
   * Start writing @p slot from offset 0: erases it at once (its recorded size
   * becomes 0, and a pending trial of it is cancelled) and opens it for writing.
   * ::IOTKIT_ERR_INVALID_ARG if @p slot is not 0..IOTKIT_HAL_SLOT_COUNT-1,
   * ::IOTKIT_ERR_STATE if it is the active slot, or if the running image is on
   * trial (not confirmed): the other slot then holds the only confirmed image.
   */
  iotkit_err_t (*slot_open)(void *ctx, int slot);
  /**
   * Write @p len bytes at @p offset of @p slot, which must be open
   * (::IOTKIT_ERR_STATE otherwise). A gap left before @p offset reads as zeros.
   * ::IOTKIT_ERR_TOO_LARGE if the bytes would end beyond the slot's capacity.
   * The bytes are not durable until slot_finalize().
   */
  iotkit_err_t (*slot_write)(void *ctx, int slot, uint64_t offset, const void *data, size_t len);
  /**
   * Read up to @p len bytes at @p offset of @p slot (open or not) into @p buf;
   * @p *got receives the count, 0 at or past the end of what was written.
   */
  iotkit_err_t (*slot_read)(void *ctx, int slot, uint64_t offset, void *buf, size_t len, size_t *got);
  /**
   * Keep the first @p size bytes written to the open @p slot (drop the rest),
   * make them durable and record @p size. ::IOTKIT_ERR_STATE if the slot is not
   * open, ::IOTKIT_ERR_TOO_LARGE beyond capacity, ::IOTKIT_ERR_INVALID_ARG if
   * fewer than @p size bytes were written. The slot stays open.
   */
  iotkit_err_t (*slot_finalize)(void *ctx, int slot, uint64_t size);
  /**
   * Boot @p slot on trial at the next reboot, and close it for writing.
   * ::IOTKIT_ERR_STATE if it is the active slot or holds no finalized image.
   */
  iotkit_err_t (*slot_mark_pending)(void *ctx, int slot);
  /** Confirm the running image, so it is kept on later boots (trial_boots becomes 0). */
  iotkit_err_t (*slot_confirm)(void *ctx);
  /**
   * Fill @p info with the state of the slots. A fresh store reports slot 0
   * active and confirmed, nothing pending, sizes 0.
   */
  iotkit_err_t (*slot_query)(void *ctx, iotkit_slot_info_t *info);

  /**
   * Ask the platform to reboot; @p reason (may be NULL) is for the log. May
   * return (deferred): the POSIX HAL only logs the request and returns
   * ::IOTKIT_OK, as a process cannot reboot the machine.
   */
  iotkit_err_t (*reboot)(void *ctx, const char *reason);

  /** Write one log line (no trailing newline). */
  void (*log)(void *ctx, iotkit_log_level_t level, const char *line);

  /** Create a mutex into @p *mutex. */
  iotkit_err_t (*mutex_new)(void *ctx, void **mutex);
  /** Lock a mutex made by mutex_new. */
  void (*mutex_lock)(void *ctx, void *mutex);
  /** Unlock a mutex made by mutex_new. */
  void (*mutex_unlock)(void *ctx, void *mutex);
  /** Destroy a mutex made by mutex_new (NULL is a no-op). */
  void (*mutex_free)(void *ctx, void *mutex);

  /** Optional: start a thread running @p fn(@p arg); the handle goes into @p *thread. */
  iotkit_err_t (*thread_start)(void *ctx, iotkit_thread_fn fn, void *arg, void **thread);
  /** Optional: wait for a thread started by thread_start to finish and release it. */
  iotkit_err_t (*thread_join)(void *ctx, void *thread);

  /*
   * Optional: segmented append-only logs (added after 0.1.0; used by the
   * telemetry queue). A store is a named set of segments, each an append-only
   * byte sequence with a numeric id. Store names follow the key rules of
   * kv_get (any other name, or a NULL output, gives ::IOTKIT_ERR_INVALID_ARG).
   * Appended bytes are readable at once but durable only after seg_sync (a
   * power cut may drop or truncate what was appended since); creating and
   * removing a segment are durable when they return. The POSIX HAL keeps
   * <state_dir>/queue/<store>/<id as 10 digits>.seg; the memory HAL keeps RAM.
   */
  /** Append @p len bytes to segment @p seg of @p store, creating it (and the store) if absent. */
  iotkit_err_t (*seg_append)(void *ctx, const char *store, uint32_t seg, const void *data, size_t len);
  /**
   * Read up to @p len bytes at @p offset of a segment into @p buf; @p *got
   * receives the count, 0 at or past its end. ::IOTKIT_ERR_NOT_FOUND if absent.
   */
  iotkit_err_t (*seg_read)(void *ctx, const char *store, uint32_t seg, uint64_t offset, void *buf, size_t len,
                           size_t *got);
  /** Size in bytes of a segment into @p *size; ::IOTKIT_ERR_NOT_FOUND if absent. */
  iotkit_err_t (*seg_size)(void *ctx, const char *store, uint32_t seg, uint64_t *size);
  /** Make every byte appended to a segment durable; ::IOTKIT_ERR_NOT_FOUND if absent. */
  iotkit_err_t (*seg_sync)(void *ctx, const char *store, uint32_t seg);
  /** Delete a segment; deleting an absent one succeeds. */
  iotkit_err_t (*seg_remove)(void *ctx, const char *store, uint32_t seg);
  /**
   * List the segment ids of @p store in increasing order into @p ids (capacity
   * @p cap); @p *count receives how many there are (0 for an absent store).
   * ::IOTKIT_ERR_BUFFER_TOO_SMALL (with @p *count set) if @p cap is too small;
   * @p ids may be NULL with @p cap 0 to learn the count.
   */
  iotkit_err_t (*seg_list)(void *ctx, const char *store, uint32_t *ids, size_t cap, size_t *count);

  /**
   * Optional (needed to resume an OTA download after a reboot): open @p slot
   * for writing again WITHOUT erasing it. The finalized bytes (its recorded
   * size) are kept; bytes written after the last slot_finalize() may be lost.
   * ::IOTKIT_ERR_INVALID_ARG out of range; ::IOTKIT_ERR_STATE for the active
   * slot, a pending slot, or the other slot while the running image is on
   * trial (it then holds the only confirmed image).
   */
  iotkit_err_t (*slot_resume)(void *ctx, int slot);

  /**
   * Optional (needed for the OTA trial time limit, iotkit_ota_config_t::trial_timeout_s):
   * give up the trial of the running image, as the boot step does when the
   * budget of boots is spent, in one atomic update of the boot record: the
   * other slot, which holds the confirmed image, becomes active and confirmed,
   * nothing is pending, trial_boots becomes 0 and rolled_back is set. A power
   * cut leaves the record before or after, so exactly one confirmed bootable
   * image exists at every moment. The running image keeps running until the
   * next reboot. ::IOTKIT_ERR_STATE if the running image is confirmed.
   */
  iotkit_err_t (*slot_revert)(void *ctx);

  /**
   * Optional (needed for the callback guarantees of device.h): an id of the
   * calling thread, never 0, different for threads alive at the same time.
   */
  uint64_t (*thread_self)(void *ctx);

  /*
   * Optional condition variables (added in 0.3.0; used by the fleet's writer
   * thread to wait for work and for its results). Without them the fleet waits
   * by polling with sleep_ms. The shipped HALs implement them on pthreads.
   */
  /** Create a condition variable into @p *cond. */
  iotkit_err_t (*cond_new)(void *ctx, void **cond);
  /**
   * Atomically release @p mutex (made by mutex_new and held by the caller) and
   * wait until @p cond is broadcast or @p timeout_ms real milliseconds have
   * passed (::IOTKIT_HAL_WAIT_FOREVER: no limit), then take @p mutex again.
   * Wake-ups without a broadcast may happen: callers re-check their condition.
   * Returns ::IOTKIT_OK when woken, ::IOTKIT_ERR_TIMEOUT when the time ran out.
   */
  iotkit_err_t (*cond_wait)(void *ctx, void *cond, void *mutex, uint32_t timeout_ms);
  /** Wake every thread waiting on @p cond. */
  void (*cond_broadcast)(void *ctx, void *cond);
  /** Destroy a condition variable made by cond_new (NULL is a no-op). */
  void (*cond_free)(void *ctx, void *cond);
} iotkit_hal_t;

/** timeout_ms of iotkit_hal_t::cond_wait that never runs out. */
#define IOTKIT_HAL_WAIT_FOREVER UINT32_MAX

/**
 * @brief Zero a HAL struct so that every operation starts as NULL, and set its struct_size.
 * @param hal the struct to clear; NULL is ignored.
 */
IOTKIT_API void iotkit_hal_init(iotkit_hal_t *hal);

/**
 * @brief Check that every required operation of @p hal is set: monotonic_ms,
 * wall_ms, random, kv_get, kv_set, kv_erase, log, mutex_new, mutex_lock,
 * mutex_unlock and mutex_free.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG if @p hal is NULL or one of
 *         them is missing (the code does not say which).
 */
IOTKIT_API iotkit_err_t iotkit_hal_validate(const iotkit_hal_t *hal);

/* ----------------------------------------------------------- boot step -- */

/** What iotkit_hal_boot() did. */
typedef enum iotkit_boot_outcome {
  IOTKIT_BOOT_CONFIRMED = 0,   /**< booted the confirmed image of the active slot */
  IOTKIT_BOOT_TRIAL_START = 1, /**< switched to the pending slot: its first boot on trial */
  IOTKIT_BOOT_TRIAL = 2,       /**< booted the unconfirmed image again (trial_boots counted up) */
  IOTKIT_BOOT_ROLLED_BACK = 3  /**< the trial budget was spent: back to the other, confirmed slot */
} iotkit_boot_outcome_t;

/**
 * @brief (Test aid: for tests and simulation, not for production.) The simulated bootloader of the shipped HALs: what a device's boot
 * ROM does at power-on, for a test or a launcher to call before the
 * application starts (with the memory HAL after iotkit_hal_memory_power_restore()).
 *
 * In one atomic update of the boot record:
 *  - a pending slot becomes active on trial (not confirmed, trial_boots 1);
 *  - else an unconfirmed active image gets one more boot (trial_boots + 1),
 *    unless it already had @p max_trial_boots: then the other slot, which
 *    holds the confirmed image, becomes active again, confirmed;
 *  - else nothing changes.
 * So at every moment exactly one confirmed image exists: the active one, or,
 * while the active one is on trial, the other slot (which slot_open() and
 * slot_resume() then refuse to touch). Open slots are closed, as by a reset;
 * the memory HAL also drops un-finalized slot bytes.
 *
 * @param hal a HAL made by iotkit_hal_posix_new() or iotkit_hal_memory_new().
 * @param max_trial_boots boots an unconfirmed image gets (at least 1).
 * @param outcome optional: receives what happened.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG for another HAL or a zero
 *         budget; the storage error (the record is then unchanged), e.g.
 *         ::IOTKIT_ERR_POWER_CUT.
 */
IOTKIT_API iotkit_err_t iotkit_hal_boot(iotkit_hal_t *hal, uint32_t max_trial_boots, iotkit_boot_outcome_t *outcome);

/* ---------------------------------------------------------------- POSIX -- */
/*
 * Layout of the state directory:
 *   kv/<key>                one file per key, replaced whole by rename
 *   slots/slot-0.bin, slot-1.bin   firmware images
 *   slots/boot.rec          active/pending slot, confirmed flag, trial boots,
 *                           sizes: two numbered, checksummed copies, the older
 *                           one overwritten and synced at each update (a torn
 *                           write leaves the newer one)
 *   queue/<store>/<id>.seg  segments of the append-only logs (seg_* operations)
 * Files named "~tmp.*" are writes in progress; those a crash left behind are
 * ignored by reads and removed by iotkit_hal_posix_new(). Use one HAL per
 * state directory at a time: the boot record is cached in the HAL.
 */

/** Options of the POSIX HAL. Fill with iotkit_hal_posix_config_init(). */
typedef struct iotkit_hal_posix_config {
  /** sizeof(iotkit_hal_posix_config_t) as the caller was compiled (set by the _init function);
      0 means the layout of 0.2.0. See "Structs that grow" in docs/architecture.md. */
  size_t struct_size;
  /** Directory for state (created if missing, mode 0700; its parent must exist). Copied. Required. */
  const char *state_dir;
  /** Capacity of each firmware slot in bytes (default 64 MiB). */
  uint64_t slot_capacity;
  /** Lowest level written to the log sink (default ::IOTKIT_LOG_INFO). */
  iotkit_log_level_t log_level;
  /**
   * Where log lines go: 2 for stderr (default), -1 for nowhere. Not closed by
   * the HAL. Each line is written in one write(2) as
   * "2026-11-25T15:00:00.123Z iotkit[info] text" (UTC, milliseconds).
   */
  int log_fd;
  /** Optional: also (or, with log_fd -1, only) hand each line at or above
      log_level to this sink, without the time stamp (see ::iotkit_log_cb). */
  iotkit_log_cb log_cb;
  /** Passed to log_cb. */
  void *log_user;
} iotkit_hal_posix_config_t;

/** @brief Fill @p cfg with defaults. NULL is ignored. */
IOTKIT_API void iotkit_hal_posix_config_init(iotkit_hal_posix_config_t *cfg);

/**
 * @brief Create the POSIX HAL.
 * @param cfg options (copied).
 * @param out receives a new HAL; release with iotkit_hal_free().
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG for NULL arguments, no state_dir
 *         or a zero slot_capacity; ::IOTKIT_ERR_IO if the directory cannot be
 *         created or used (the reason, e.g. a missing parent, goes to log_fd);
 *         ::IOTKIT_ERR_CORRUPT if the boot record is damaged. @p *out is left
 *         alone on failure.
 */
IOTKIT_API iotkit_err_t iotkit_hal_posix_new(const iotkit_hal_posix_config_t *cfg, iotkit_hal_t **out);

/* --------------------------------------------------------------- memory -- */

/*
 * The memory HAL keeps everything in RAM. Key-value writes are durable when
 * kv_set returns, as are slot_open (erase), slot_finalize, slot_mark_pending,
 * slot_confirm and slot_revert; bytes from slot_write are not durable until finalized, and
 * bytes from seg_append not until seg_sync. A simulated power cut drops exactly
 * those un-finalized and un-synced bytes and closes the slots. While the power is cut, every storage operation (reads included)
 * fails with ::IOTKIT_ERR_POWER_CUT; clocks, random, log and locks still work.
 *
 * The functions below accept only a HAL made by iotkit_hal_memory_new() and
 * return ::IOTKIT_ERR_INVALID_ARG (or 0 / "") for any other.
 */

/** Options of the memory HAL. Fill with iotkit_hal_memory_config_init(). */
typedef struct iotkit_hal_memory_config {
  /** sizeof(iotkit_hal_memory_config_t) as the caller was compiled (set by the _init function);
      0 means the layout of 0.2.0. See "Structs that grow" in docs/architecture.md. */
  size_t struct_size;
  /** Capacity of each firmware slot in bytes (default 16 MiB). */
  uint64_t slot_capacity;
  /** Seed of the deterministic random generator (0: fixed default seed). */
  uint64_t seed;
  /**
   * Use a manual clock that only moves through iotkit_hal_memory_advance()
   * (default false: the real clocks). The manual monotonic clock starts at 0 and
   * the manual wall clock at 2026-01-01T00:00:00Z; both move together. With it,
   * sleep_ms does not move the clock (it waits at most 1 real ms, to yield).
   */
  bool manual_clock;
  /** Lowest level kept in the captured log (default ::IOTKIT_LOG_DEBUG). */
  iotkit_log_level_t log_level;
  /** Optional: also hand each kept line to this sink (see ::iotkit_log_cb). */
  iotkit_log_cb log_cb;
  /** Passed to log_cb. */
  void *log_user;
} iotkit_hal_memory_config_t;

/** @brief Fill @p cfg with defaults. NULL is ignored. */
IOTKIT_API void iotkit_hal_memory_config_init(iotkit_hal_memory_config_t *cfg);

/**
 * @brief (Test aid: for tests and simulation, not for production.) Create the memory HAL (state lives in RAM). Its random bytes are
 * deterministic and NOT cryptographically strong: for tests only.
 * @param cfg options (copied), or NULL for defaults.
 * @param out receives a new HAL; release with iotkit_hal_free().
 */
IOTKIT_API iotkit_err_t iotkit_hal_memory_new(const iotkit_hal_memory_config_t *cfg, iotkit_hal_t **out);

/**
 * @brief (Test aid: for tests and simulation, not for production.) Make the @p n th storage write from now fail with ::IOTKIT_ERR_INJECTED
 * (n = 1 is the next write); the failed write has no effect and later writes
 * succeed. Writes are kv_set, kv_erase, slot_open, slot_write, slot_finalize,
 * slot_mark_pending, slot_confirm, slot_revert, seg_append, seg_sync and seg_remove that
 * passed their argument checks. 0 cancels.
 */
IOTKIT_API iotkit_err_t iotkit_hal_memory_fail_write(iotkit_hal_t *hal, unsigned n);

/**
 * @brief (Test aid: for tests and simulation, not for production.) Cut the power at the @p k th storage write from now (counted as for
 * iotkit_hal_memory_fail_write()): that write has no effect, it and every later
 * storage operation fail with ::IOTKIT_ERR_POWER_CUT, and un-synced slot and
 * segment bytes are dropped, until iotkit_hal_memory_power_restore(). If a failure is also
 * due on that write, the power cut wins. 0 cancels.
 */
IOTKIT_API iotkit_err_t iotkit_hal_memory_cut_power_at(iotkit_hal_t *hal, unsigned k);

/**
 * @brief (Test aid: for tests and simulation, not for production.) Cut the power now: drop every un-synced write (slot bytes not yet
 * finalized, segment bytes not yet synced); kv values set before survive, as
 * kv_set is durable when it returns.
 */
IOTKIT_API iotkit_err_t iotkit_hal_memory_power_cut(iotkit_hal_t *hal);

/**
 * @brief (Test aid: for tests and simulation, not for production.) Restore power after a cut, as after a reboot; storage keeps its synced
 * state and every slot is closed (slot_open again to write).
 */
IOTKIT_API iotkit_err_t iotkit_hal_memory_power_restore(iotkit_hal_t *hal);

/** @brief Test aid (for tests; not for production): move the manual clock forward by @p ms; ::IOTKIT_ERR_STATE without manual_clock. */
IOTKIT_API iotkit_err_t iotkit_hal_memory_advance(iotkit_hal_t *hal, uint64_t ms);

/** @brief (Test aid: for tests and simulation, not for production.) Number of storage writes attempted so far (successful or not, see iotkit_hal_memory_fail_write()). */
IOTKIT_API uint64_t iotkit_hal_memory_write_count(const iotkit_hal_t *hal);

/**
 * @brief (Test aid: for tests and simulation, not for production.) The log lines captured so far, each as "[level] text\n", as a
 * NUL-terminated string valid until the next HAL call. The newest 1 MiB is
 * kept (older lines are dropped whole). Never NULL.
 */
IOTKIT_API const char *iotkit_hal_memory_log(const iotkit_hal_t *hal);

/** @brief (Test aid: for tests and simulation, not for production.) Number of reboots requested through this HAL. */
IOTKIT_API unsigned iotkit_hal_memory_reboot_count(const iotkit_hal_t *hal);

/* ------------------------------------------------------------- common -- */

/**
 * @brief Free a HAL made by iotkit_hal_posix_new() or iotkit_hal_memory_new().
 * @param hal the HAL, or NULL (no-op). Never pass a hand-filled HAL (nor a copy
 *        of a library-made one): the library recognises its own HALs and
 *        ignores others, but the owner of a hand-filled HAL releases it.
 */
IOTKIT_API void iotkit_hal_free(iotkit_hal_t *hal);

/**
 * @brief Log one line of text through @p hal's log operation (if set), as
 * given: the non-variadic entry point, for bindings. Lines longer than 1 KiB
 * are truncated. Never logs secrets: callers must not pass them.
 */
IOTKIT_API void iotkit_hal_log(const iotkit_hal_t *hal, iotkit_log_level_t level, const char *text);

/**
 * @brief Log a formatted line through @p hal's log operation (if set).
 * Lines longer than 1 KiB are truncated. Never logs secrets: callers must not
 * pass them.
 */
IOTKIT_API void iotkit_hal_logf(const iotkit_hal_t *hal, iotkit_log_level_t level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#ifdef __cplusplus
}
#endif
#endif /* IOTKIT_HAL_H */
