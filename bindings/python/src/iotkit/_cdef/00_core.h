/* core.h, error.h: versions, limits, error names, memory the library returns. */
const char *iotkit_strerror(iotkit_err_t err);
const char *iotkit_err_name(iotkit_err_t err);
const char *iotkit_version(void);
uint32_t iotkit_version_number(void);
#define IOTKIT_VERSION_NUMBER ...
typedef int... iotkit_limit_t;
uint64_t iotkit_limit(iotkit_limit_t which);
const char *iotkit_limit_name(iotkit_limit_t which);
void iotkit_free(void *ptr);
typedef enum iotkit_log_level {
  IOTKIT_LOG_ERROR, IOTKIT_LOG_WARN, IOTKIT_LOG_INFO, IOTKIT_LOG_DEBUG, IOTKIT_LOG_TRACE
} iotkit_log_level_t;
const char *iotkit_log_level_name(iotkit_log_level_t level);
typedef void (*iotkit_log_cb)(void *user, iotkit_log_level_t level, const char *line);
