/* Version string, memory release and log-level names. */
#include <stdlib.h>

#include "iotkit/core.h"
#include "iotkit/crypto.h"
#include "iotkit/device.h"
#include "iotkit/fleet.h"
#include "iotkit/hal.h"
#include "iotkit/options.h"
#include "iotkit/ota.h"
#include "iotkit/telemetry.h"
#include "iotkit/transport.h"

#define IOTKIT__STR2(x) #x
#define IOTKIT__STR(x) IOTKIT__STR2(x)

const char *iotkit_version(void) {
  return IOTKIT__STR(IOTKIT_VERSION_MAJOR) "." IOTKIT__STR(IOTKIT_VERSION_MINOR) "." IOTKIT__STR(
      IOTKIT_VERSION_PATCH);
}

uint32_t iotkit_version_number(void) { return (uint32_t)IOTKIT_VERSION_NUMBER; }

static const struct {
  iotkit_limit_t which;
  const char *name;
  uint64_t value;
} k_limits[] = {
#define IOTKIT__LIMIT_ROW(name, n) {IOTKIT_LIMIT_##name, #name, (uint64_t)(IOTKIT_##name)},
    IOTKIT_LIMIT_MAP(IOTKIT__LIMIT_ROW)
#undef IOTKIT__LIMIT_ROW
};

uint64_t iotkit_limit(iotkit_limit_t which) {
  for (size_t i = 0; i < sizeof(k_limits) / sizeof(k_limits[0]); i++) {
    if (k_limits[i].which == which) return k_limits[i].value;
  }
  return 0;
}

const char *iotkit_limit_name(iotkit_limit_t which) {
  for (size_t i = 0; i < sizeof(k_limits) / sizeof(k_limits[0]); i++) {
    if (k_limits[i].which == which) return k_limits[i].name;
  }
  return NULL;
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
