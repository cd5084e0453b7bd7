/* Envelope nonces: a persisted counter reserved in blocks never repeats across restarts and crashes. */
#include "test_crypto_envelope_util.h"

static iotkit_envelope_t *make(const iotkit_hal_t *hal, uint32_t block) {
  iotkit_envelope_config_t c;
  env_config(&c, hal);
  c.nonce_block = block;
  return env_make(&c);
}

Test(envelope_nonce, nothing_is_stored_before_the_first_seal) {
  iotkit_hal_t *hal = env_hal();
  iotkit_envelope_t *env = make(hal, 4);
  cr_assert_eq(env_stored(hal), UINT64_MAX);
  iotkit_envelope_free(env);
  iotkit_hal_free(hal);
}

Test(envelope_nonce, counters_count_up_and_a_block_is_stored_before_use) {
  iotkit_hal_t *hal = env_hal();
  iotkit_envelope_t *env = make(hal, 4);
  uint8_t e[128];
  for (uint64_t i = 0; i < 9; i++) {
    env_seal(env, e, sizeof e);
    cr_assert_eq(env_counter(e), i);
    cr_assert_eq(env_stored(hal), (i / 4 + 1) * 4, "stored %llu after counter %llu",
                 (unsigned long long)env_stored(hal), (unsigned long long)i);
  }
  iotkit_envelope_free(env);
  iotkit_hal_free(hal);
}

Test(envelope_nonce, one_write_per_block) {
  iotkit_hal_t *hal = env_hal();
  iotkit_envelope_t *env = make(hal, 8);
  uint8_t e[128];
  uint64_t before = iotkit_hal_memory_write_count(hal);
  for (int i = 0; i < 16; i++) env_seal(env, e, sizeof e);
  cr_assert_eq(iotkit_hal_memory_write_count(hal) - before, 2);
  iotkit_envelope_free(env);
  iotkit_hal_free(hal);
}

Test(envelope_nonce, a_restart_resumes_after_the_reserved_block) {
  iotkit_hal_t *hal = env_hal();
  iotkit_envelope_t *env = make(hal, 16);
  uint8_t e[128];
  env_seal(env, e, sizeof e);
  env_seal(env, e, sizeof e);
  cr_assert_eq(env_counter(e), 1);
  iotkit_envelope_free(env); /* a reboot, or a crash: the handle's state is gone */
  env = make(hal, 16);
  env_seal(env, e, sizeof e);
  cr_assert_eq(env_counter(e), 16);
  iotkit_envelope_free(env);
  iotkit_hal_free(hal);
}

Test(envelope_nonce, power_cut_while_reserving_seals_nothing_and_never_goes_back) {
  iotkit_hal_t *hal = env_hal();
  iotkit_envelope_t *env = make(hal, 2);
  uint8_t e[128];
  env_seal(env, e, sizeof e);
  env_seal(env, e, sizeof e); /* counters 0 and 1: the block is used up */
  cr_assert_eq(iotkit_hal_memory_cut_power_at(hal, 1), IOTKIT_OK);
  uint8_t out[128];
  memset(out, 0x77, sizeof out);
  size_t n = 99;
  cr_assert_eq(iotkit_envelope_seal(env, "telemetry", ENV_PAYLOAD, strlen(ENV_PAYLOAD), out, sizeof out, &n),
               IOTKIT_ERR_POWER_CUT);
  cr_assert_eq(n, 99);
  cr_assert_eq(out[0], 0x77, "output written without a reserved nonce");
  iotkit_envelope_free(env);
  cr_assert_eq(iotkit_hal_memory_power_restore(hal), IOTKIT_OK);
  env = make(hal, 2);
  env_seal(env, e, sizeof e);
  cr_assert_eq(env_counter(e), 2);
  iotkit_envelope_free(env);
  iotkit_hal_free(hal);
}

Test(envelope_nonce, failed_counter_write_seals_nothing_then_recovers) {
  iotkit_hal_t *hal = env_hal();
  iotkit_envelope_t *env = make(hal, 2);
  cr_assert_eq(iotkit_hal_memory_fail_write(hal, 1), IOTKIT_OK);
  uint8_t e[128];
  size_t n = 0;
  cr_assert_eq(iotkit_envelope_seal(env, "telemetry", "x", 1, e, sizeof e, &n), IOTKIT_ERR_INJECTED);
  cr_assert_eq(env_stored(hal), UINT64_MAX);
  env_seal(env, e, sizeof e);
  cr_assert_eq(env_counter(e), 0);
  cr_assert_eq(env_stored(hal), 2);
  iotkit_envelope_free(env);
  iotkit_hal_free(hal);
}

Test(envelope_nonce, two_handles_on_one_store_never_share_a_counter) {
  iotkit_hal_t *hal = env_hal();
  iotkit_envelope_t *a = make(hal, 4), *b = make(hal, 4);
  uint8_t e[128];
  uint64_t seen[12];
  for (int i = 0; i < 12; i++) {
    env_seal(i % 2 ? b : a, e, sizeof e);
    seen[i] = env_counter(e);
    for (int j = 0; j < i; j++) cr_assert_neq(seen[j], seen[i], "counter %llu used twice", (unsigned long long)seen[i]);
  }
  iotkit_envelope_free(a);
  iotkit_envelope_free(b);
  iotkit_hal_free(hal);
}

/* Seal once over a stored counter of len bytes: the error. */
static iotkit_err_t seal_over_stored(const void *stored, size_t len) {
  iotkit_hal_t *hal = env_hal();
  cr_assert_eq(hal->kv_set(hal->ctx, "iotkit.envelope.k1", stored, len), IOTKIT_OK);
  iotkit_envelope_t *env = make(hal, 4);
  uint8_t e[128];
  size_t n = 0;
  iotkit_err_t rc = iotkit_envelope_seal(env, "telemetry", "x", 1, e, sizeof e, &n);
  iotkit_envelope_free(env);
  iotkit_hal_free(hal);
  return rc;
}

Test(envelope_nonce, stored_value_of_the_wrong_size_is_corrupt) {
  cr_assert_eq(seal_over_stored("abc", 3), IOTKIT_ERR_CORRUPT);
}

Test(envelope_nonce, stored_value_too_long_is_corrupt) {
  cr_assert_eq(seal_over_stored("0123456789", 10), IOTKIT_ERR_CORRUPT);
}

Test(envelope_nonce, exhausted_counter_is_refused) {
  iotkit_hal_t *hal = env_hal();
  env_store(hal, UINT64_MAX - 3);
  iotkit_envelope_t *env = make(hal, 4);
  uint8_t e[128];
  size_t n = 0;
  cr_assert_eq(iotkit_envelope_seal(env, "telemetry", "x", 1, e, sizeof e, &n), IOTKIT_ERR_STATE);
  cr_assert_eq(env_stored(hal), UINT64_MAX - 3);
  iotkit_envelope_free(env);
  iotkit_hal_free(hal);
}

Test(envelope_nonce, last_block_before_the_end_is_usable) {
  iotkit_hal_t *hal = env_hal();
  env_store(hal, UINT64_MAX - 4);
  iotkit_envelope_t *env = make(hal, 4);
  uint8_t e[128];
  env_seal(env, e, sizeof e);
  cr_assert_eq(env_counter(e), UINT64_MAX - 4);
  iotkit_envelope_free(env);
  iotkit_hal_free(hal);
}

Test(envelope_nonce, counter_survives_the_posix_store) {
  char dir[] = "/tmp/iotkit-env-XXXXXX";
  cr_assert_not_null(mkdtemp(dir));
  iotkit_hal_posix_config_t pc;
  iotkit_hal_posix_config_init(&pc);
  pc.state_dir = dir;
  pc.log_fd = -1;
  uint8_t e[128];
  for (uint64_t boot = 0; boot < 3; boot++) {
    iotkit_hal_t *hal = NULL;
    cr_assert_eq(iotkit_hal_posix_new(&pc, &hal), IOTKIT_OK);
    iotkit_envelope_t *env = make(hal, 8);
    env_seal(env, e, sizeof e);
    cr_assert_eq(env_counter(e), boot * 8);
    iotkit_envelope_free(env);
    iotkit_hal_free(hal);
  }
  char cmd[64];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  cr_assert_eq(system(cmd), 0);
}
