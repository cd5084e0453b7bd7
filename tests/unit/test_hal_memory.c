/* The memory HAL: the shared contract, clocks, deterministic random, log capture, threads. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "hal_contract.h"
#include "iotkit/iotkit.h"

static iotkit_hal_t *g_hal;

static void setup(void) { g_hal = hal_contract_memory_new(); }

static void teardown(void) { iotkit_hal_free(g_hal); }

#define CONTRACT_TEST(name) \
  Test(hal_memory, name, .init = setup, .fini = teardown) { hal_contract_##name(g_hal); }
HAL_CONTRACT_LIST(CONTRACT_TEST)

static iotkit_hal_t *make(uint64_t seed, bool manual) {
  iotkit_hal_memory_config_t cfg;
  iotkit_hal_memory_config_init(&cfg);
  cfg.seed = seed;
  cfg.manual_clock = manual;
  iotkit_hal_t *hal = NULL;
  cr_assert_eq(iotkit_hal_memory_new(&cfg, &hal), IOTKIT_OK);
  return hal;
}

Test(hal_memory, config_defaults) {
  iotkit_hal_memory_config_t cfg;
  memset(&cfg, 0x5a, sizeof(cfg));
  iotkit_hal_memory_config_init(&cfg);
  cr_assert_eq(cfg.slot_capacity, 16u * 1024u * 1024u);
  cr_assert_eq(cfg.seed, 0);
  cr_assert_not(cfg.manual_clock);
  cr_assert_eq(cfg.log_level, IOTKIT_LOG_DEBUG);
  iotkit_hal_memory_config_init(NULL);
}

Test(hal_memory, new_null_out) { cr_assert_eq(iotkit_hal_memory_new(NULL, NULL), IOTKIT_ERR_INVALID_ARG); }

Test(hal_memory, new_zero_capacity) {
  iotkit_hal_memory_config_t cfg;
  iotkit_hal_memory_config_init(&cfg);
  cfg.slot_capacity = 0;
  iotkit_hal_t *hal = (iotkit_hal_t *)0x1;
  cr_assert_eq(iotkit_hal_memory_new(&cfg, &hal), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(hal, (iotkit_hal_t *)0x1, "out untouched on failure");
}

/* memcmp of the first @n random bytes of two memory HALs seeded @sa and @sb. */
static int compare_draws(uint64_t sa, uint64_t sb, size_t n) {
  iotkit_hal_t *a = make(sa, false), *b = make(sb, false);
  unsigned char x[128], y[128];
  cr_assert_eq(a->random(a->ctx, x, n), IOTKIT_OK);
  cr_assert_eq(b->random(b->ctx, y, n), IOTKIT_OK);
  iotkit_hal_free(a);
  iotkit_hal_free(b);
  return memcmp(x, y, n);
}

Test(hal_memory, random_same_seed_same_bytes) { cr_assert_eq(compare_draws(1234, 1234, 100), 0); }

Test(hal_memory, random_other_seed_other_bytes) { cr_assert_neq(compare_draws(1, 2, 32), 0); }

Test(hal_memory, random_seed_zero_is_fixed_default) { cr_assert_eq(compare_draws(0, 0, 13), 0); }

Test(hal_memory, manual_clock_moves_only_on_advance) {
  iotkit_hal_t *h = make(0, true);
  uint64_t t0 = h->monotonic_ms(h->ctx);
  int64_t w0 = h->wall_ms(h->ctx);
  h->sleep_ms(h->ctx, 20);
  cr_assert_eq(h->monotonic_ms(h->ctx), t0);
  cr_assert_eq(iotkit_hal_memory_advance(h, 1500), IOTKIT_OK);
  cr_assert_eq(h->monotonic_ms(h->ctx), t0 + 1500);
  cr_assert_eq(h->wall_ms(h->ctx), w0 + 1500);
  iotkit_hal_free(h);
}

Test(hal_memory, advance_without_manual_clock_is_state) {
  iotkit_hal_t *h = make(0, false);
  cr_assert_eq(iotkit_hal_memory_advance(h, 10), IOTKIT_ERR_STATE);
  iotkit_hal_free(h);
}

Test(hal_memory, log_is_captured_with_level) {
  iotkit_hal_t *h = make(0, false);
  cr_assert_str_eq(iotkit_hal_memory_log(h), "");
  iotkit_hal_logf(h, IOTKIT_LOG_INFO, "hello %d", 1);
  iotkit_hal_logf(h, IOTKIT_LOG_ERROR, "bad %s", "thing");
  cr_assert_str_eq(iotkit_hal_memory_log(h), "[info] hello 1\n[error] bad thing\n");
  iotkit_hal_free(h);
}

Test(hal_memory, log_level_filters) {
  iotkit_hal_memory_config_t cfg;
  iotkit_hal_memory_config_init(&cfg);
  cfg.log_level = IOTKIT_LOG_WARN;
  iotkit_hal_t *h = NULL;
  cr_assert_eq(iotkit_hal_memory_new(&cfg, &h), IOTKIT_OK);
  iotkit_hal_logf(h, IOTKIT_LOG_INFO, "quiet");
  iotkit_hal_logf(h, IOTKIT_LOG_WARN, "loud");
  cr_assert_str_eq(iotkit_hal_memory_log(h), "[warn] loud\n");
  iotkit_hal_free(h);
}

Test(hal_memory, log_keeps_newest_when_large) {
  iotkit_hal_t *h = make(0, false);
  for (int i = 0; i < 3000; i++) iotkit_hal_logf(h, IOTKIT_LOG_DEBUG, "line %04d %0600d", i, 0);
  const char *log = iotkit_hal_memory_log(h);
  cr_assert_leq(strlen(log), 1024u * 1024u);
  cr_assert_not_null(strstr(log, "line 2999 "));
  cr_assert_null(strstr(log, "line 0000 "));
  cr_assert_eq(strncmp(log, "[debug] line ", 13), 0, "starts at a line boundary");
  iotkit_hal_free(h);
}

Test(hal_memory, reboot_is_counted_and_logged) {
  iotkit_hal_t *h = make(0, false);
  cr_assert_eq(iotkit_hal_memory_reboot_count(h), 0);
  cr_assert_eq(h->reboot(h->ctx, "update"), IOTKIT_OK);
  cr_assert_eq(h->reboot(h->ctx, NULL), IOTKIT_OK);
  cr_assert_eq(iotkit_hal_memory_reboot_count(h), 2);
  cr_assert_not_null(strstr(iotkit_hal_memory_log(h), "reboot requested: update"));
  iotkit_hal_free(h);
}

/* The contract's thread test, plus the exact count of writes it made. */
Test(hal_memory, threads_write_count) {
  iotkit_hal_t *h = make(0, false);
  hal_contract_threads_share_one_hal(h);
  cr_assert_eq(iotkit_hal_memory_write_count(h), HAL_CONTRACT_THREADS * HAL_CONTRACT_THREAD_STEPS * 2);
  iotkit_hal_free(h);
}
