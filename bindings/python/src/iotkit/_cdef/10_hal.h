/* hal.h: the two shipped HALs (POSIX on a state directory, memory) as the device
   bindings use them, with their log sink routed to Python's logging. The HAL itself
   stays opaque: Python never fills one by hand. */
typedef struct iotkit_hal iotkit_hal_t;

typedef struct iotkit_hal_posix_config {
  size_t struct_size;
  const char *state_dir;
  uint64_t slot_capacity;
  iotkit_log_level_t log_level;
  int log_fd;
  iotkit_log_cb log_cb;
  void *log_user;
  ...;
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
  ...;
} iotkit_hal_memory_config_t;
void iotkit_hal_memory_config_init(iotkit_hal_memory_config_t *cfg);
iotkit_err_t iotkit_hal_memory_new(const iotkit_hal_memory_config_t *cfg, iotkit_hal_t **out);
const char *iotkit_hal_memory_log(const iotkit_hal_t *hal);

void iotkit_hal_free(iotkit_hal_t *hal);
void iotkit_hal_log(const iotkit_hal_t *hal, iotkit_log_level_t level, const char *text);

/* The log sink of the HALs the bindings make (iotkit/_log.py). */
extern "Python" void _iotkit_py_log(void *user, iotkit_log_level_t level, const char *line);
