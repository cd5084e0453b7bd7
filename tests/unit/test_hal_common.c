/* iotkit_hal_init / validate / logf / free, on hand-filled and shipped HALs. */
#include <criterion/criterion.h>
#include <string.h>

#include "iotkit/iotkit.h"

typedef struct capture {
  int calls;
  iotkit_log_level_t level;
  char line[2048];
} capture_t;

static uint64_t fake_mono(void *ctx) { (void)ctx; return 1; }
static int64_t fake_wall(void *ctx) { (void)ctx; return 2; }
static iotkit_err_t fake_random(void *ctx, void *b, size_t n) { (void)ctx; memset(b, 0, n); return IOTKIT_OK; }
static iotkit_err_t fake_get(void *c, const char *k, void *b, size_t cap, size_t *l) {
  (void)c, (void)k, (void)b, (void)cap, (void)l;
  return IOTKIT_ERR_NOT_FOUND;
}
static iotkit_err_t fake_set(void *c, const char *k, const void *v, size_t l) { (void)c, (void)k, (void)v, (void)l; return IOTKIT_OK; }
static iotkit_err_t fake_erase(void *c, const char *k) { (void)c, (void)k; return IOTKIT_OK; }
static void fake_log(void *ctx, iotkit_log_level_t level, const char *line) {
  capture_t *cap = ctx;
  cap->calls++;
  cap->level = level;
  strncpy(cap->line, line, sizeof(cap->line) - 1);
}
static iotkit_err_t fake_mutex_new(void *c, void **m) { (void)c; *m = NULL; return IOTKIT_OK; }
static void fake_mutex_op(void *c, void *m) { (void)c, (void)m; }

static void fill_required(iotkit_hal_t *hal, capture_t *cap) {
  iotkit_hal_init(hal);
  hal->ctx = cap;
  hal->monotonic_ms = fake_mono;
  hal->wall_ms = fake_wall;
  hal->random = fake_random;
  hal->kv_get = fake_get;
  hal->kv_set = fake_set;
  hal->kv_erase = fake_erase;
  hal->log = fake_log;
  hal->mutex_new = fake_mutex_new;
  hal->mutex_lock = fake_mutex_op;
  hal->mutex_unlock = fake_mutex_op;
  hal->mutex_free = fake_mutex_op;
}

Test(hal_common, init_zeroes_every_field) {
  iotkit_hal_t hal;
  memset(&hal, 0xab, sizeof(hal));
  iotkit_hal_init(&hal);
  cr_assert_null(hal.ctx);
  cr_assert_null(hal.kv_get);
  cr_assert_null(hal.thread_join);
}

Test(hal_common, init_null_is_ignored) { iotkit_hal_init(NULL); }

Test(hal_common, validate_accepts_required_set) {
  capture_t cap = {0};
  iotkit_hal_t hal;
  fill_required(&hal, &cap);
  cr_assert_eq(iotkit_hal_validate(&hal), IOTKIT_OK);
}

Test(hal_common, validate_null_is_invalid_arg) { cr_assert_eq(iotkit_hal_validate(NULL), IOTKIT_ERR_INVALID_ARG); }

Test(hal_common, validate_empty_is_invalid_arg) {
  iotkit_hal_t hal;
  iotkit_hal_init(&hal);
  cr_assert_eq(iotkit_hal_validate(&hal), IOTKIT_ERR_INVALID_ARG);
}

/* Each required operation, removed alone, makes the HAL invalid. */
Test(hal_common, validate_each_missing_required_op) {
  capture_t cap = {0};
  iotkit_hal_t hal;
  size_t offsets[] = {
      offsetof(iotkit_hal_t, monotonic_ms), offsetof(iotkit_hal_t, wall_ms),   offsetof(iotkit_hal_t, random),
      offsetof(iotkit_hal_t, kv_get),       offsetof(iotkit_hal_t, kv_set),    offsetof(iotkit_hal_t, kv_erase),
      offsetof(iotkit_hal_t, log),          offsetof(iotkit_hal_t, mutex_new), offsetof(iotkit_hal_t, mutex_lock),
      offsetof(iotkit_hal_t, mutex_unlock), offsetof(iotkit_hal_t, mutex_free),
  };
  for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
    fill_required(&hal, &cap);
    memset((char *)&hal + offsets[i], 0, sizeof(void (*)(void)));
    cr_assert_eq(iotkit_hal_validate(&hal), IOTKIT_ERR_INVALID_ARG, "op at offset %zu", offsets[i]);
  }
}

Test(hal_common, validate_optional_ops_may_be_null) {
  capture_t cap = {0};
  iotkit_hal_t hal;
  fill_required(&hal, &cap);
  cr_assert_null(hal.sleep_ms);
  cr_assert_null(hal.slot_open);
  cr_assert_null(hal.reboot);
  cr_assert_null(hal.thread_start);
  cr_assert_eq(iotkit_hal_validate(&hal), IOTKIT_OK);
}

Test(hal_common, logf_formats_and_passes_level) {
  capture_t cap = {0};
  iotkit_hal_t hal;
  fill_required(&hal, &cap);
  iotkit_hal_logf(&hal, IOTKIT_LOG_WARN, "n=%d s=%s", 42, "x");
  cr_assert_eq(cap.calls, 1);
  cr_assert_eq(cap.level, IOTKIT_LOG_WARN);
  cr_assert_str_eq(cap.line, "n=42 s=x");
}

Test(hal_common, logf_truncates_to_1k) {
  capture_t cap = {0};
  iotkit_hal_t hal;
  fill_required(&hal, &cap);
  char big[3000];
  memset(big, 'z', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  iotkit_hal_logf(&hal, IOTKIT_LOG_INFO, "%s", big);
  cr_assert_eq(strlen(cap.line), 1023);
}

Test(hal_common, logf_without_log_op_is_noop) {
  capture_t cap = {0};
  iotkit_hal_t hal;
  fill_required(&hal, &cap);
  hal.log = NULL;
  iotkit_hal_logf(&hal, IOTKIT_LOG_ERROR, "x");
  iotkit_hal_logf(NULL, IOTKIT_LOG_ERROR, "x");
  cr_assert_eq(cap.calls, 0);
}

Test(hal_common, free_null_is_noop) { iotkit_hal_free(NULL); }

/* A hand-filled HAL is not the library's: free must leave it alone. */
Test(hal_common, free_ignores_hand_filled_hal) {
  capture_t cap = {0};
  iotkit_hal_t hal;
  fill_required(&hal, &cap);
  iotkit_hal_free(&hal);
  cr_assert_eq(hal.log, fake_log);
}

Test(hal_common, memory_hal_is_valid_and_freed) {
  iotkit_hal_t *hal = NULL;
  cr_assert_eq(iotkit_hal_memory_new(NULL, &hal), IOTKIT_OK);
  cr_assert_eq(iotkit_hal_validate(hal), IOTKIT_OK);
  cr_assert_not_null(hal->slot_open);
  cr_assert_not_null(hal->thread_start);
  iotkit_hal_free(hal);
}

Test(hal_common, memory_functions_refuse_hand_filled_hal) {
  capture_t cap = {0};
  iotkit_hal_t hal;
  fill_required(&hal, &cap);
  cr_assert_eq(iotkit_hal_memory_fail_write(&hal, 1), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_hal_memory_cut_power_at(&hal, 1), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_hal_memory_power_cut(&hal), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_hal_memory_power_restore(&hal), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_hal_memory_advance(&hal, 1), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_hal_memory_write_count(&hal), 0);
  cr_assert_str_eq(iotkit_hal_memory_log(&hal), "");
  cr_assert_eq(iotkit_hal_memory_reboot_count(&hal), 0);
}

Test(hal_common, memory_functions_refuse_null) {
  cr_assert_eq(iotkit_hal_memory_fail_write(NULL, 1), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_hal_memory_advance(NULL, 1), IOTKIT_ERR_INVALID_ARG);
  cr_assert_str_eq(iotkit_hal_memory_log(NULL), "");
}
