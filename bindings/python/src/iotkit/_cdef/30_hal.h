/* hal.h: the HAL struct (filled by hand for the system random source and wall
 * clock of iotkit.crypto; 10_hal.h may declare it opaque before: cffi accepts
 * the full definition after), the simulated boot step, the memory HAL's test
 * aids. The shipped HALs' constructors are in 31_hal_shipped.h. */
typedef struct iotkit_slot_info {
  int active;
  int pending;
  bool active_confirmed;
  uint32_t trial_boots;
  uint64_t size[2];
  uint64_t capacity[2];
  bool rolled_back;
} iotkit_slot_info_t;

typedef void (*iotkit_thread_fn)(void *arg);

typedef struct iotkit_hal {
  size_t struct_size;
  void *ctx;
  uint64_t (*monotonic_ms)(void *ctx);
  int64_t (*wall_ms)(void *ctx);
  iotkit_err_t (*random)(void *ctx, void *buf, size_t len);
  void (*sleep_ms)(void *ctx, uint32_t ms);
  iotkit_err_t (*kv_get)(void *ctx, const char *key, void *buf, size_t cap, size_t *len);
  iotkit_err_t (*kv_set)(void *ctx, const char *key, const void *val, size_t len);
  iotkit_err_t (*kv_erase)(void *ctx, const char *key);
  iotkit_err_t (*slot_open)(void *ctx, int slot);
  iotkit_err_t (*slot_write)(void *ctx, int slot, uint64_t offset, const void *data, size_t len);
  iotkit_err_t (*slot_read)(void *ctx, int slot, uint64_t offset, void *buf, size_t len, size_t *got);
  iotkit_err_t (*slot_finalize)(void *ctx, int slot, uint64_t size);
  iotkit_err_t (*slot_mark_pending)(void *ctx, int slot);
  iotkit_err_t (*slot_confirm)(void *ctx);
  iotkit_err_t (*slot_query)(void *ctx, iotkit_slot_info_t *info);
  iotkit_err_t (*reboot)(void *ctx, const char *reason);
  void (*log)(void *ctx, iotkit_log_level_t level, const char *line);
  iotkit_err_t (*mutex_new)(void *ctx, void **mutex);
  void (*mutex_lock)(void *ctx, void *mutex);
  void (*mutex_unlock)(void *ctx, void *mutex);
  void (*mutex_free)(void *ctx, void *mutex);
  iotkit_err_t (*thread_start)(void *ctx, iotkit_thread_fn fn, void *arg, void **thread);
  iotkit_err_t (*thread_join)(void *ctx, void *thread);
  iotkit_err_t (*seg_append)(void *ctx, const char *store, uint32_t seg, const void *data, size_t len);
  iotkit_err_t (*seg_read)(void *ctx, const char *store, uint32_t seg, uint64_t offset, void *buf, size_t len,
                           size_t *got);
  iotkit_err_t (*seg_size)(void *ctx, const char *store, uint32_t seg, uint64_t *size);
  iotkit_err_t (*seg_sync)(void *ctx, const char *store, uint32_t seg);
  iotkit_err_t (*seg_remove)(void *ctx, const char *store, uint32_t seg);
  iotkit_err_t (*seg_list)(void *ctx, const char *store, uint32_t *ids, size_t cap, size_t *count);
  iotkit_err_t (*slot_resume)(void *ctx, int slot);
  iotkit_err_t (*slot_revert)(void *ctx);
  uint64_t (*thread_self)(void *ctx);
  iotkit_err_t (*cond_new)(void *ctx, void **cond);
  iotkit_err_t (*cond_wait)(void *ctx, void *cond, void *mutex, uint32_t timeout_ms);
  void (*cond_broadcast)(void *ctx, void *cond);
  void (*cond_free)(void *ctx, void *cond);
  ...; /* fields appended by later versions: the compiler's layout is used */
} iotkit_hal_t;

void iotkit_hal_init(iotkit_hal_t *hal);
iotkit_err_t iotkit_hal_validate(const iotkit_hal_t *hal);

typedef enum iotkit_boot_outcome {
  IOTKIT_BOOT_CONFIRMED = 0, IOTKIT_BOOT_TRIAL_START = 1, IOTKIT_BOOT_TRIAL = 2, IOTKIT_BOOT_ROLLED_BACK = 3
} iotkit_boot_outcome_t;
iotkit_err_t iotkit_hal_boot(iotkit_hal_t *hal, uint32_t max_trial_boots, iotkit_boot_outcome_t *outcome);

iotkit_err_t iotkit_hal_memory_fail_write(iotkit_hal_t *hal, unsigned n);
iotkit_err_t iotkit_hal_memory_power_cut(iotkit_hal_t *hal);
iotkit_err_t iotkit_hal_memory_power_restore(iotkit_hal_t *hal);
iotkit_err_t iotkit_hal_memory_advance(iotkit_hal_t *hal, uint64_t ms);
unsigned iotkit_hal_memory_reboot_count(const iotkit_hal_t *hal);

/* iotkit._hals: the hand-filled system HAL (os.urandom, time.time, time.monotonic). */
extern "Python" iotkit_err_t _iotkit_pyhal_random(void *ctx, void *buf, size_t len);
extern "Python" int64_t _iotkit_pyhal_wall_ms(void *ctx);
extern "Python" uint64_t _iotkit_pyhal_monotonic_ms(void *ctx);
