/**
 * @file core.h
 * @brief Version, memory release and log levels shared by every area.
 */
#ifndef IOTKIT_CORE_H
#define IOTKIT_CORE_H

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Major version, bumped on an incompatible ABI change (it is the SONAME). */
#define IOTKIT_VERSION_MAJOR 0
/** Minor version, bumped when features are added. */
#define IOTKIT_VERSION_MINOR 1
/** Patch version, bumped for fixes. */
#define IOTKIT_VERSION_PATCH 0

/**
 * @brief The library's version string, "MAJOR.MINOR.PATCH".
 * @return a static string; never NULL. Thread-safe.
 */
IOTKIT_API const char *iotkit_version(void);

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
