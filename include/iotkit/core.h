/**
 * @file core.h
 * @brief Version, memory release and log levels shared by every area.
 */
#ifndef IOTKIT_CORE_H
#define IOTKIT_CORE_H

#include <stdint.h>

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Major version, bumped on an incompatible ABI change (it is the SONAME). */
#define IOTKIT_VERSION_MAJOR 0
/** Minor version, bumped when features are added. */
#define IOTKIT_VERSION_MINOR 2
/** Patch version, bumped for fixes. */
#define IOTKIT_VERSION_PATCH 0

/**
 * @brief The library's version string, "MAJOR.MINOR.PATCH".
 * @return a static string; never NULL. Thread-safe.
 */
IOTKIT_API const char *iotkit_version(void);

/** The version the caller was compiled against as one number, 0xMMmmpp (major << 16 | minor << 8 | patch). */
#define IOTKIT_VERSION_NUMBER ((IOTKIT_VERSION_MAJOR << 16) | (IOTKIT_VERSION_MINOR << 8) | IOTKIT_VERSION_PATCH)

/**
 * @brief The version of the library actually loaded, as ::IOTKIT_VERSION_NUMBER
 * computes it (0x000200 for 0.2.0): compare it with the macro to detect a
 * header/library mismatch, or with a number to require a version.
 * @return major << 16 | minor << 8 | patch. Thread-safe.
 */
IOTKIT_API uint32_t iotkit_version_number(void);

/**
 * X-macro table of the build-time limits a binding must know at run time:
 * XX(NAME, number). Each is the macro IOTKIT_<NAME> of options.h or of an
 * area's header, as the library was built (a port may override options.h).
 * Append only; never renumber.
 */
#define IOTKIT_LIMIT_MAP(XX)          \
  XX(MAX_PAYLOAD_DEFAULT, 0)          \
  XX(MAX_DEVICE_ID, 1)                \
  XX(MAX_KV_KEY, 2)                   \
  XX(MAX_KV_VALUE, 3)                 \
  XX(ERROR_TEXT_SIZE, 4)              \
  XX(MAX_NAME, 5)                     \
  XX(MAX_REQUEST_ID, 6)               \
  XX(MAX_CREDENTIAL, 7)               \
  XX(MAX_PENDING_COMMANDS, 8)         \
  XX(ENVELOPE_MAX_OVERHEAD, 9)        \
  XX(ENVELOPE_MAX_KID, 10)            \
  XX(ENVELOPE_MAX_CHANNEL, 11)        \
  XX(URI_SCHEME_MAX, 12)              \
  XX(OTA_MAX_NAME, 13)                \
  XX(OTA_MAX_VERSION, 14)             \
  XX(OTA_MAX_URL, 15)                 \
  XX(OTA_MAX_KEYS, 16)                \
  XX(TELEMETRY_MAX_NAME, 17)          \
  XX(TELEMETRY_MAX_TEXT, 18)          \
  XX(TELEMETRY_MAX_TAGS, 19)          \
  XX(TELEMETRY_MAX_POINTS, 20)        \
  XX(SIG_MAX_LEN, 21)                 \
  XX(JWT_MAX_LEN, 22)                 \
  XX(HAL_SLOT_COUNT, 23)              \
  XX(KEEPALIVE_DEFAULT_S, 24)         \
  XX(CONNECT_TIMEOUT_DEFAULT_MS, 25)  \
  XX(RECONNECT_MIN_DEFAULT_MS, 26)    \
  XX(RECONNECT_MAX_DEFAULT_MS, 27)    \
  XX(COMMAND_TIMEOUT_DEFAULT_MS, 28)  \
  XX(TELEMETRY_DRAIN_RATE_DEFAULT, 29) \
  XX(FLEET_MAX_NAME, 30)              \
  XX(FLEET_MAX_TYPE, 31)              \
  XX(FLEET_MAX_TAG, 32)               \
  XX(FLEET_MAX_TAGS, 33)              \
  XX(FLEET_MAX_ATTRIBUTES, 34)        \
  XX(FLEET_MAX_PAGE, 35)              \
  XX(FLEET_BUSY_TIMEOUT_DEFAULT_MS, 36) \
  XX(FLEET_LOCATION_HISTORY_DEFAULT, 37) \
  XX(FLEET_MAX_METRICS, 38)           \
  XX(FLEET_COMMAND_TIMEOUT_DEFAULT_MS, 39) \
  XX(FLEET_MAX_TARGETS, 40)           \
  XX(FLEET_MAX_CONTROL_JSON, 41)      \
  XX(FLEET_FLUSH_INTERVAL_MS, 42)     \
  XX(FLEET_ROLLOUT_MAX_DEVICES, 43)   \
  XX(TELEMETRY_MAX_CBOR_DEPTH, 44)

/** Which limit iotkit_limit() reports: IOTKIT_LIMIT_<NAME> for each entry of ::IOTKIT_LIMIT_MAP. */
typedef enum iotkit_limit {
#define IOTKIT__LIMIT_ENUM(name, n) IOTKIT_LIMIT_##name = n,
  IOTKIT_LIMIT_MAP(IOTKIT__LIMIT_ENUM)
#undef IOTKIT__LIMIT_ENUM
} iotkit_limit_t;

/**
 * @brief A build-time limit of the loaded library, e.g.
 * iotkit_limit(IOTKIT_LIMIT_MAX_DEVICE_ID) is IOTKIT_MAX_DEVICE_ID as the
 * library was built. Lengths are in bytes without the NUL unless the macro's
 * comment says otherwise (ERROR_TEXT_SIZE and MAX_CREDENTIAL are buffer
 * capacities with the NUL).
 * @return the value; 0 for an unknown @p which (a limit newer than the library). Thread-safe.
 */
IOTKIT_API uint64_t iotkit_limit(iotkit_limit_t which);

/**
 * @brief The name of a limit without the prefix, e.g. "MAX_DEVICE_ID".
 * @return a static string; NULL for an unknown @p which, so a binding can list
 *         them all by counting up from 0 until NULL. Thread-safe.
 */
IOTKIT_API const char *iotkit_limit_name(iotkit_limit_t which);

/**
 * @brief Release memory the library returned to the caller (documented per call).
 * @param ptr memory from the library, or NULL (no-op).
 */
IOTKIT_API void iotkit_free(void *ptr);

/** Log severities, most severe first. A sink receives lines at or above its level. */
typedef enum iotkit_log_level {
  IOTKIT_LOG_ERROR = 0, /**< failures the application should know about */
  IOTKIT_LOG_WARN = 1,  /**< degraded operation, insecure options */
  IOTKIT_LOG_INFO = 2,  /**< connection changes and other notable events */
  IOTKIT_LOG_DEBUG = 3, /**< protocol detail, chatty */
  IOTKIT_LOG_TRACE = 4  /**< everything */
} iotkit_log_level_t;

/**
 * @brief Name of a log level ("error", "warn", "info", "debug", "trace").
 * @return a static string; "?" for an unknown level.
 */
IOTKIT_API const char *iotkit_log_level_name(iotkit_log_level_t level);

/**
 * A log sink: receives one line (no trailing newline, no time stamp) at a time,
 * from whichever thread logs, possibly several at once. @p line is valid during
 * the call only. Must not call back into the object that logs.
 */
typedef void (*iotkit_log_cb)(void *user, iotkit_log_level_t level, const char *line);

#ifdef __cplusplus
}
#endif
#endif /* IOTKIT_CORE_H */
