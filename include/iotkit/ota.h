/**
 * @file ota.h
 * @brief Over-the-air updates: signed manifests, a trust store, a resumable
 * streaming download into the inactive firmware slot, install, confirm and
 * rollback.
 *
 * The flow, for an application:
 *  1. Make a trust store (iotkit_ota_trust_new(), iotkit_ota_trust_add()) with
 *     the public keys that may sign manifests, each under a key id.
 *  2. Make an OTA handle (iotkit_ota_new()) at every start of the firmware. It
 *     reads the persisted OTA state and reconciles it with the boot record: an
 *     image that has just booted on trial is in ::IOTKIT_OTA_TRIAL, an image
 *     the bootloader gave up on is reported as ::IOTKIT_OTA_ROLLED_BACK.
 *  3. Hand a manifest (from the ota/manifest channel, see docs/protocol.md) to
 *     iotkit_ota_start(): every check runs before a single byte is downloaded.
 *  4. iotkit_ota_run() downloads (resuming where a reboot or power cut left
 *     it), verifies, marks the slot pending and asks for a reboot.
 *  5. After the reboot, the new image runs on trial: the application calls
 *     iotkit_ota_confirm() once its self-test passes. If it does not within
 *     trial_timeout_s seconds of a boot, iotkit_ota_poll() (called from the
 *     application's loop) rolls back through the HAL and asks for a reboot; if
 *     the image never gets that far, the bootloader (iotkit_hal_boot() for the
 *     shipped HALs) rolls back after the configured number of boots.
 *
 * The state is persisted through the HAL key-value store at every transition
 * (keys "ota.state", "ota.manifest", "ota.floor"). At every moment exactly one
 * confirmed bootable image exists.
 *
 * Ownership follows iotkit.h. Thread-safety: an ::iotkit_ota_t is used from
 * one thread at a time, except iotkit_ota_abort(), which any thread may call.
 * Callbacks run in the thread calling into the handle.
 */
#ifndef IOTKIT_OTA_H
#define IOTKIT_OTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "device.h"
#include "error.h"
#include "export.h"
#include "hal.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Longest device type and key id, in bytes (1..64 of [A-Za-z0-9._-]). */
#define IOTKIT_OTA_MAX_NAME 64
/** Longest version string (a semantic version, semver.org 2.0.0), in bytes. */
#define IOTKIT_OTA_MAX_VERSION 64
/** Longest download URL, in bytes. */
#define IOTKIT_OTA_MAX_URL 2048
/** Most keys one trust store holds. */
#define IOTKIT_OTA_MAX_KEYS 16

/* ------------------------------------------------------------ versions -- */

/**
 * @brief Compare two semantic versions by semver 2.0.0 precedence (build
 * metadata after '+' is ignored; a pre-release sorts before its release).
 * @param a first version. @param b second version.
 * @param cmp receives -1, 0 or 1 as @p a is lower than, equal to or higher than @p b.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG if either is NULL or not a valid semantic version.
 */
IOTKIT_API iotkit_err_t iotkit_ota_version_compare(const char *a, const char *b, int *cmp);

/* --------------------------------------------------------- trust store -- */

/** The public keys allowed to sign manifests, each under a key id (opaque). */
typedef struct iotkit_ota_trust iotkit_ota_trust_t;

/**
 * @brief Make an empty trust store.
 * @param out receives it; release with iotkit_ota_trust_free().
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG; ::IOTKIT_ERR_NOMEM.
 */
IOTKIT_API iotkit_err_t iotkit_ota_trust_new(iotkit_ota_trust_t **out);

/** @brief Release a trust store (NULL is a no-op). */
IOTKIT_API void iotkit_ota_trust_free(iotkit_ota_trust_t *trust);

/**
 * @brief Trust @p key's public half under @p key_id (the public half is copied;
 * a key pair's private half is never kept).
 * @param trust the store. @param key_id 1..::IOTKIT_OTA_MAX_NAME bytes of [A-Za-z0-9._-].
 * @param key an Ed25519 or P-256 key.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG; ::IOTKIT_ERR_BAD_KEY for another key type;
 *         ::IOTKIT_ERR_EXISTS if @p key_id is taken; ::IOTKIT_ERR_TOO_LARGE beyond
 *         ::IOTKIT_OTA_MAX_KEYS keys; ::IOTKIT_ERR_NOMEM.
 */
IOTKIT_API iotkit_err_t iotkit_ota_trust_add(iotkit_ota_trust_t *trust, const char *key_id, const iotkit_key_t *key);

/**
 * @brief Trust a public key given as PEM or DER (as iotkit_key_load()).
 * @return as iotkit_ota_trust_add(), and the codes of iotkit_key_load().
 */
IOTKIT_API iotkit_err_t iotkit_ota_trust_add_pem(iotkit_ota_trust_t *trust, const char *key_id, const void *pem,
                                                 size_t len);

/**
 * @brief Stop trusting @p key_id (key rotation).
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_NOT_FOUND; ::IOTKIT_ERR_INVALID_ARG.
 */
IOTKIT_API iotkit_err_t iotkit_ota_trust_remove(iotkit_ota_trust_t *trust, const char *key_id);

/** @brief Number of keys in @p trust (0 for NULL). */
IOTKIT_API size_t iotkit_ota_trust_count(const iotkit_ota_trust_t *trust);

/* ------------------------------------------------------------ manifest -- */

/** The signed description of an image: every manifest field but key id and signature. */
typedef struct iotkit_ota_image {
  const char *device_type;         /**< 1..64 bytes of [A-Za-z0-9._-] */
  const char *version;             /**< semantic version, at most 64 bytes */
  uint64_t size;                   /**< image size in bytes, 1..2^53 */
  uint8_t sha256[IOTKIT_SHA256_LEN]; /**< SHA-256 of the image */
  const char *url;                 /**< http, https, coap or coaps URL of RFC 3986 characters, at most 2048 bytes */
} iotkit_ota_image_t;

/** A parsed manifest (opaque, read-only). */
typedef struct iotkit_ota_manifest iotkit_ota_manifest_t;

/**
 * @brief Sign an image description into a manifest (JSON, documented in docs/protocol.md).
 * @param image the fields. @param key an Ed25519 or P-256 key pair.
 * @param key_id the id the devices know the key's public half by.
 * @param json receives the NUL-terminated manifest; release with iotkit_free().
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG (NULL, or a field outside its rules);
 *         ::IOTKIT_ERR_BAD_KEY; ::IOTKIT_ERR_NOMEM; ::IOTKIT_ERR_INTERNAL.
 */
IOTKIT_API iotkit_err_t iotkit_ota_manifest_sign(const iotkit_ota_image_t *image, const iotkit_key_t *key,
                                                 const char *key_id, char **json);

/**
 * @brief Parse a manifest strictly (exactly the documented members, each once,
 * each within its rules). The signature is NOT checked here.
 * @param json the text (need not be NUL-terminated). @param len its length (at most 8 KiB).
 * @param out receives the manifest; release with iotkit_ota_manifest_free().
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_OTA_MANIFEST; ::IOTKIT_ERR_INVALID_ARG; ::IOTKIT_ERR_NOMEM.
 */
IOTKIT_API iotkit_err_t iotkit_ota_manifest_parse(const char *json, size_t len, iotkit_ota_manifest_t **out);

/** @brief Release a manifest (NULL is a no-op). */
IOTKIT_API void iotkit_ota_manifest_free(iotkit_ota_manifest_t *m);

/**
 * @brief The fields of a manifest; the strings stay valid while @p m lives.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG.
 */
IOTKIT_API iotkit_err_t iotkit_ota_manifest_image(const iotkit_ota_manifest_t *m, iotkit_ota_image_t *image);

/** @brief The key id of a manifest ("" for NULL). */
IOTKIT_API const char *iotkit_ota_manifest_key_id(const iotkit_ota_manifest_t *m);

/**
 * @brief The canonical form the signature covers (see docs/protocol.md).
 * @param m the manifest. @param text receives it, NUL-terminated; release with iotkit_free().
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG; ::IOTKIT_ERR_NOMEM.
 */
IOTKIT_API iotkit_err_t iotkit_ota_manifest_canonical(const iotkit_ota_manifest_t *m, char **text);

/**
 * @brief Check the manifest's signature with the key its key id names.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_OTA_UNKNOWN_KEY if @p trust has no such key id;
 *         ::IOTKIT_ERR_OTA_SIGNATURE if the signature does not verify; ::IOTKIT_ERR_INVALID_ARG.
 */
IOTKIT_API iotkit_err_t iotkit_ota_manifest_verify(const iotkit_ota_manifest_t *m, const iotkit_ota_trust_t *trust);

/* ----------------------------------------------------------- the client -- */

/** States of an update, persisted at every transition. */
typedef enum iotkit_ota_state {
  IOTKIT_OTA_IDLE = 0,        /**< no update yet */
  IOTKIT_OTA_DOWNLOADING = 1, /**< streaming the image into the inactive slot */
  IOTKIT_OTA_DOWNLOADED = 2,  /**< every byte is in the slot */
  IOTKIT_OTA_VERIFYING = 3,   /**< checking hash and signature */
  IOTKIT_OTA_PENDING = 4,     /**< the slot boots on trial at the next reboot */
  IOTKIT_OTA_TRIAL = 5,       /**< the new image runs, not yet confirmed */
  IOTKIT_OTA_CONFIRMED = 6,   /**< the new image is confirmed */
  IOTKIT_OTA_ROLLED_BACK = 7, /**< the new image was not confirmed in time; the old one runs */
  IOTKIT_OTA_FAILED = 8       /**< refused or failed; the error says why */
} iotkit_ota_state_t;

/** @brief Name of a state ("idle", "downloading", ..., "rolled_back", "failed"); "?" if unknown. */
IOTKIT_API const char *iotkit_ota_state_name(iotkit_ota_state_t state);

/** A snapshot of an update. Strings are valid until the next call on the handle. */
typedef struct iotkit_ota_status {
  size_t struct_size;       /**< sizeof(iotkit_ota_status_t) as the library was compiled: read fields only within it */
  iotkit_ota_state_t state; /**< current state */
  uint64_t bytes;           /**< bytes of the image in the slot */
  uint64_t total;           /**< image size (0 without a manifest) */
  unsigned percent;         /**< bytes * 100 / total, 0..100 */
  iotkit_err_t error;       /**< why the state is FAILED or ROLLED_BACK, or the last retried error; else OK */
  const char *running_version; /**< the version the application runs (from the config) */
  const char *target_version;  /**< the manifest's version, or "" */
} iotkit_ota_status_t;

typedef struct iotkit_ota iotkit_ota_t;

/** Called at every transition and after every chunk written. */
typedef void (*iotkit_ota_status_cb)(iotkit_ota_t *ota, void *user, const iotkit_ota_status_t *status);

/**
 * Called when the verified image is pending: return true to let the library
 * reboot now through the HAL, false to defer (then call iotkit_ota_reboot()).
 */
typedef bool (*iotkit_ota_reboot_cb)(iotkit_ota_t *ota, void *user);

/** Receives downloaded bytes; a non-OK return stops the download with that code. */
typedef iotkit_err_t (*iotkit_ota_sink_fn)(void *sink_ctx, const void *data, size_t len);

/**
 * A download backend. fetch() delivers the bytes of @p url from @p offset on,
 * in order, in pieces of at most @p chunk_size bytes, and returns ::IOTKIT_OK
 * when the resource has ended (the client then compares the length with the
 * manifest). It returns the sink's error as is; ::IOTKIT_ERR_NOT_FOUND for a
 * missing resource; ::IOTKIT_ERR_OTA_SERVER for a server failure (5xx, retried);
 * ::IOTKIT_ERR_CONNECT, ::IOTKIT_ERR_TIMEOUT or ::IOTKIT_ERR_CONNECTION_LOST for
 * network failures (retried); other codes stop the update.
 */
typedef struct iotkit_ota_fetcher {
  iotkit_err_t (*fetch)(void *ctx, const char *url, uint64_t offset, size_t chunk_size, iotkit_ota_sink_fn sink,
                        void *sink_ctx);
  void *ctx; /**< first argument of fetch */
} iotkit_ota_fetcher_t;

/**
 * Default of iotkit_ota_config_t::trial_timeout_s: 5 minutes, ample for a
 * self-test, short enough that an image which runs but never confirms (and so
 * blocks every later update) does not stay on trial until a reboot by chance.
 */
#define IOTKIT_OTA_TRIAL_TIMEOUT_S 300u

/** How an OTA client is made. Fill with iotkit_ota_config_init(). */
typedef struct iotkit_ota_config {
  /** sizeof(iotkit_ota_config_t) as the caller was compiled (set by the _init function);
      0 means the layout of 0.2.0. See "Structs that grow" in docs/architecture.md. */
  size_t struct_size;
  /** (required) The HAL with slots and KV store. Not copied: must outlive the handle. */
  iotkit_hal_t *hal;
  /** (required) The trusted keys. Not copied: must outlive the handle. */
  const iotkit_ota_trust_t *trust;
  /** (required) This device's type; manifests for another are refused. Copied. */
  const char *device_type;
  /** (required) Version of the running firmware (semantic version). Copied. */
  const char *running_version;
  /** Download buffer and write size in bytes (default 16 KiB; 1 KiB..1 MiB). Memory use does not depend on the image size. */
  size_t chunk_size;
  /**
   * Make the slot's bytes durable and record the download offset every this
   * many chunks (default 1): an interruption costs at most
   * checkpoint_chunks * chunk_size bytes fetched again. Each checkpoint is a
   * storage sync (two with the POSIX HAL), so on a fast link a larger interval
   * is faster: bench/run_ota.sh measures both (see bench/README.md).
   */
  unsigned checkpoint_chunks;
  /** Retries of a failed download attempt without progress (default 5). */
  unsigned max_retries;
  /** First retry delay in ms, doubled each retry (default 500). */
  uint32_t retry_base_ms;
  /** Longest retry delay in ms (default 30000). */
  uint32_t retry_max_ms;
  /** Connect timeout, and longest stall of a transfer, in ms (default 30000). Built-in fetcher only. */
  uint32_t timeout_ms;
  /** CA bundle for https, and for coaps with certificates (default: the system's). Copied. Built-in fetcher only. */
  const char *ca_file;
  /** DTLS-PSK identity for coaps image URLs (default NULL: coaps uses certificates, checked against
      ca_file). Copied. Built-in fetcher only. */
  const char *psk_identity;
  /** DTLS-PSK key as hex for coaps, used with psk_identity (default NULL). Copied, zeroed when the
      handle is freed, never logged. Built-in fetcher only. */
  const char *psk_key_hex;
  /** Download backend; fetch NULL (default) uses the built-in one: libcurl for http and https, libcoap
      (Block2, RFC 7959) for coap and coaps, each when built in. */
  iotkit_ota_fetcher_t fetcher;
  /**
   * Seconds an image on trial may run in one boot without iotkit_ota_confirm()
   * before iotkit_ota_poll() rolls it back (default ::IOTKIT_OTA_TRIAL_TIMEOUT_S;
   * 0: no time limit, only the bootloader's budget of boots). Counted on the
   * HAL's monotonic clock from iotkit_ota_new(), so it starts again at every
   * boot. Needs the HAL's slot_revert operation.
   */
  uint32_t trial_timeout_s;
  /** Optional status callback. */
  iotkit_ota_status_cb on_status;
  /** Optional reboot callback (NULL: reboot at once). */
  iotkit_ota_reboot_cb on_reboot;
  /** Passed to the callbacks. */
  void *user;
} iotkit_ota_config_t;

/** @brief Fill @p cfg with defaults. NULL is ignored. */
IOTKIT_API void iotkit_ota_config_init(iotkit_ota_config_t *cfg);

/**
 * @brief Make an OTA client; reads the persisted state and reconciles it with
 * the slots (see the file comment). Call once per boot of the firmware.
 * @param cfg the configuration. @param out receives the handle; release with iotkit_ota_free().
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG (NULL, a missing required field,
 *         a HAL without slots, a bad version or chunk size); ::IOTKIT_ERR_UNSUPPORTED
 *         for a trial_timeout_s other than 0 with a HAL without slot_revert;
 *         ::IOTKIT_ERR_CORRUPT if the persisted state is damaged; the HAL's errors;
 *         ::IOTKIT_ERR_NOMEM.
 */
IOTKIT_API iotkit_err_t iotkit_ota_new(const iotkit_ota_config_t *cfg, iotkit_ota_t **out);

/** @brief Release the handle (the persisted state stays). NULL is a no-op. */
IOTKIT_API void iotkit_ota_free(iotkit_ota_t *ota);

/**
 * @brief Run every check of a manifest without changing any state: parse,
 * key id, signature, device type, size within the slot, version newer than
 * the running one and not below the security floor.
 * @return ::IOTKIT_OK or the refusal: ::IOTKIT_ERR_OTA_MANIFEST, ::IOTKIT_ERR_OTA_UNKNOWN_KEY,
 *         ::IOTKIT_ERR_OTA_SIGNATURE, ::IOTKIT_ERR_OTA_DEVICE_TYPE, ::IOTKIT_ERR_OTA_TOO_LARGE,
 *         ::IOTKIT_ERR_OTA_DOWNGRADE, ::IOTKIT_ERR_OTA_BELOW_FLOOR; ::IOTKIT_ERR_INVALID_ARG.
 */
IOTKIT_API iotkit_err_t iotkit_ota_check(iotkit_ota_t *ota, const char *manifest, size_t len);

/**
 * @brief Accept a manifest: the checks of iotkit_ota_check(), then the state
 * becomes ::IOTKIT_OTA_DOWNLOADING (nothing is downloaded until iotkit_ota_run()).
 * A refusal is persisted as ::IOTKIT_OTA_FAILED with its code, and reported;
 * the slots are untouched. The same manifest again during an update is a no-op.
 * @return ::IOTKIT_OK; a refusal code; ::IOTKIT_ERR_BUSY if another update is
 *         in progress; ::IOTKIT_ERR_STATE while an image is on trial (confirm first),
 *         or after iotkit_ota_poll() rolled it back, until the reboot (a new handle).
 */
IOTKIT_API iotkit_err_t iotkit_ota_start(iotkit_ota_t *ota, const char *manifest, size_t len);

/**
 * @brief Drive the update as far as it goes: download (resuming from the last
 * persisted offset, retrying network errors with bounded backoff), verify,
 * mark the slot pending, then ask for a reboot (see ::iotkit_ota_reboot_cb).
 * Blocks until then.
 * @return ::IOTKIT_OK once the image is pending; ::IOTKIT_ERR_STATE if nothing
 *         is to be done; ::IOTKIT_ERR_OTA_HASH, ::IOTKIT_ERR_OTA_SIZE,
 *         ::IOTKIT_ERR_NOT_FOUND, ::IOTKIT_ERR_OTA_SERVER... when the update failed
 *         (state FAILED); a network error after the last retry, or a storage
 *         error, with the state still DOWNLOADING (call again to resume);
 *         ::IOTKIT_ERR_BUSY after iotkit_ota_abort().
 */
IOTKIT_API iotkit_err_t iotkit_ota_run(iotkit_ota_t *ota);

/**
 * @brief Stop a running download soon (from any thread); iotkit_ota_run()
 * returns ::IOTKIT_ERR_BUSY and the state stays DOWNLOADING.
 */
IOTKIT_API void iotkit_ota_abort(iotkit_ota_t *ota);

/**
 * @brief Ask for the reboot after a deferral (::IOTKIT_OTA_PENDING only). The
 * reboot callback is not consulted again.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_STATE; the HAL's error.
 */
IOTKIT_API iotkit_err_t iotkit_ota_reboot(iotkit_ota_t *ota);

/**
 * @brief Confirm the image on trial after the application's self-test.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_STATE unless in ::IOTKIT_OTA_TRIAL; the HAL's error.
 */
IOTKIT_API iotkit_err_t iotkit_ota_confirm(iotkit_ota_t *ota);

/**
 * @brief Enforce the trial time limit (iotkit_ota_config_t::trial_timeout_s).
 * Call it from the application's loop; a device with the client attached does
 * it in iotkit_device_poll() and iotkit_device_ota_run().
 *
 * In ::IOTKIT_OTA_TRIAL, once trial_timeout_s seconds have passed on the HAL's
 * monotonic clock since iotkit_ota_new() without iotkit_ota_confirm(), the
 * trial is given up: the HAL's slot_revert makes the previous, confirmed slot
 * active again in one atomic boot-record update, the state becomes
 * ::IOTKIT_OTA_ROLLED_BACK with ::IOTKIT_ERR_OTA_TRIAL_TIMEOUT (persisted and
 * reported), and a reboot is requested through the HAL (the reboot callback is
 * not consulted: the boot record no longer names the running image).
 *
 * The clock is not persisted: it restarts at every boot (a wall clock, often
 * unset or corrected by NTP right after boot, would be needed to carry it
 * over), so each boot on trial gets the whole limit, and with a bootloader
 * budget of N boots an image stays on trial at most about N times the limit.
 * A power cut during the rollback leaves either the trial (given up again at
 * the next deadline, or by the bootloader) or the rollback, which the next
 * iotkit_ota_new() reports with the same code. Exactly one confirmed bootable
 * image exists throughout. A confirm is accepted until the poll that sees the
 * deadline.
 *
 * @param ota the handle.
 * @return ::IOTKIT_OK, also when there is nothing to do (another state, before
 *         the deadline, trial_timeout_s 0); ::IOTKIT_ERR_INVALID_ARG for NULL;
 *         the HAL's storage error (still on trial: call again); once rolled
 *         back, the HAL's reboot error (::IOTKIT_ERR_UNSUPPORTED without a
 *         reboot operation).
 */
IOTKIT_API iotkit_err_t iotkit_ota_poll(iotkit_ota_t *ota);

/**
 * @brief Abandon the update in progress (before PENDING): the state becomes IDLE.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_STATE from PENDING or TRIAL; the HAL's error.
 */
IOTKIT_API iotkit_err_t iotkit_ota_cancel(iotkit_ota_t *ota);

/**
 * @brief Raise the persisted security floor: manifests below @p version are
 * refused from now on. The floor never goes down.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG (not a version);
 *         ::IOTKIT_ERR_STATE if @p version is below the current floor; the HAL's error.
 */
IOTKIT_API iotkit_err_t iotkit_ota_set_security_floor(iotkit_ota_t *ota, const char *version);

/**
 * @brief A snapshot of the update, written into the first @p size bytes of
 * @p status (the caller's sizeof; fields beyond it are not written, and
 * status->struct_size receives how many bytes were). For bindings; C code
 * calls iotkit_ota_status().
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG (NULL, or @p size 0). Same thread rules as the handle.
 */
IOTKIT_API iotkit_err_t iotkit_ota_status_sized(iotkit_ota_t *ota, iotkit_ota_status_t *status, size_t size);

/** @brief A snapshot of the update: iotkit_ota_status_sized() with sizeof *(status). */
#define iotkit_ota_status(ota, status) iotkit_ota_status_sized((ota), (status), sizeof *(status))

/**
 * @brief The status document of the ota/status channel (docs/protocol.md).
 * @param ota the handle. @param json receives NUL-terminated compact JSON; release with iotkit_free().
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG; ::IOTKIT_ERR_NOMEM.
 */
IOTKIT_API iotkit_err_t iotkit_ota_status_json(iotkit_ota_t *ota, char **json);

/* ------------------------------------------------- device integration -- */

/** Default least interval in ms between two progress reports on ota/status while downloading. */
#define IOTKIT_DEVICE_OTA_PROGRESS_MS 500u

/**
 * @brief Let a device carry an OTA client: manifests arriving on the device's
 * `ota/manifest` channel (docs/protocol.md) are handed to iotkit_ota_start(),
 * and the status document (iotkit_ota_status_json()) is published on
 * `ota/status` (QoS 1, not retained) at every transition, at most every
 * ::IOTKIT_DEVICE_OTA_PROGRESS_MS while downloading, and on every new session.
 *
 * The device subscribes to `ota/manifest` (QoS 1) on every session from now on.
 * A manifest whose version the device already runs, or the very manifest of an
 * update that was confirmed or rolled back, is ignored, so that a retained
 * manifest delivered again on reconnection does not start it over (a failed
 * one is tried again). The
 * download itself runs in iotkit_device_ota_run(), which the application calls
 * from its loop; during the download the device's connection is serviced
 * (iotkit_device_poll() with a zero timeout) unless the device runs its own loop.
 * The client is only used in the application's thread: a polled device hands a
 * manifest over during iotkit_device_poll(); a device with its own loop
 * (iotkit_device_start()) keeps the latest one and hands it over at the next
 * iotkit_device_ota_run(), so call that periodically. The same calls enforce
 * the client's trial time limit (iotkit_ota_poll()): iotkit_device_poll() (even
 * while disconnected) for a polled device, iotkit_device_ota_run() for a device
 * with its own loop; the rollback is then reported on `ota/status`.
 *
 * @param dev the device. @param ota the client (not copied: it must outlive the
 *        device or be detached first by passing NULL). Its own status callback
 *        still runs.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG for a NULL @p dev; ::IOTKIT_ERR_NOMEM.
 * Thread-safety: call while the device's loop is stopped, as other setters.
 */
IOTKIT_API iotkit_err_t iotkit_device_ota_attach(iotkit_device_t *dev, iotkit_ota_t *ota);

/**
 * @brief Hand a manifest to the attached client as if it had arrived on
 * `ota/manifest` (for an application that receives manifests its own way).
 * @return ::IOTKIT_OK, also for a manifest that is ignored as described at
 *         iotkit_device_ota_attach(); the codes of iotkit_ota_start() (a refusal is
 *         also reported on ota/status); ::IOTKIT_ERR_STATE without an attached client;
 *         ::IOTKIT_ERR_INVALID_ARG.
 */
IOTKIT_API iotkit_err_t iotkit_device_ota_offer(iotkit_device_t *dev, const char *manifest, size_t len);

/**
 * @brief Enforce the trial time limit (iotkit_ota_poll()), then drive an
 * accepted update (iotkit_ota_run()) if there is one: download, verify, mark
 * pending, ask for the reboot. Blocks until then.
 * @return as iotkit_ota_run(): ::IOTKIT_OK once the image is pending;
 *         ::IOTKIT_ERR_STATE when there is nothing to do or no client is attached.
 */
IOTKIT_API iotkit_err_t iotkit_device_ota_run(iotkit_device_t *dev);

/**
 * @brief Publish the attached client's status on `ota/status` now.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_STATE without a client; ::IOTKIT_ERR_NOT_CONNECTED;
 *         ::IOTKIT_ERR_NOMEM; the transport's errors.
 */
IOTKIT_API iotkit_err_t iotkit_device_ota_report(iotkit_device_t *dev);

#ifdef __cplusplus
}
#endif
#endif /* IOTKIT_OTA_H */
