/* hal.h: the shipped HALs' constructors and iotkit_hal_free(), as iotkit._hals
 * uses them. The Device binding's 10_hal.h (branch py-dev) declares exactly
 * these too, and cffi refuses a second declaration: when both branches are
 * merged, delete this file (10_hal.h has the same fields, and more). */
typedef struct iotkit_hal_posix_config {
  size_t struct_size;
  const char *state_dir;
  uint64_t slot_capacity;
  iotkit_log_level_t log_level;
  int log_fd;
  iotkit_log_cb log_cb;
  void *log_user;
} iotkit_hal_posix_config_t;
void iotkit_hal_posix_config_init(iotkit_hal_posix_config_t *cfg);
iotkit_err_t iotkit_hal_posix_new(const iotkit_hal_posix_config_t *cfg, iotkit_hal_t **out);

typedef struct iotkit_hal_memory_config {
  size_t struct_size;
  uint64_t slot_capacity;
  uint64_t seed;
  bool manual_clock;
  iotkit_log_level_t log_level;
  iotkit_log_cb log_cb;
  void *log_user;
} iotkit_hal_memory_config_t;
void iotkit_hal_memory_config_init(iotkit_hal_memory_config_t *cfg);
iotkit_err_t iotkit_hal_memory_new(const iotkit_hal_memory_config_t *cfg, iotkit_hal_t **out);
const char *iotkit_hal_memory_log(const iotkit_hal_t *hal);
void iotkit_hal_free(iotkit_hal_t *hal);
