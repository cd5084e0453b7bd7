/* Version string, memory release and log-level names. */
#include <stdlib.h>

#include "iotkit/core.h"

#define IOTKIT__STR2(x) #x
#define IOTKIT__STR(x) IOTKIT__STR2(x)

const char *iotkit_version(void) {
  return IOTKIT__STR(IOTKIT_VERSION_MAJOR) "." IOTKIT__STR(IOTKIT_VERSION_MINOR) "." IOTKIT__STR(
      IOTKIT_VERSION_PATCH);
}

void iotkit_free(void *ptr) { free(ptr); }

const char *iotkit_log_level_name(iotkit_log_level_t level) {
  switch (level) {
    case IOTKIT_LOG_ERROR: return "error";
    case IOTKIT_LOG_WARN: return "warn";
    case IOTKIT_LOG_INFO: return "info";
    case IOTKIT_LOG_DEBUG: return "debug";
    case IOTKIT_LOG_TRACE: return "trace";
  }
  return "?";
}
