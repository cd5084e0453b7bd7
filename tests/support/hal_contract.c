/* Checks shared by the POSIX and memory HAL tests (see hal_contract.h). */
#include "hal_contract.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hal_contract_pattern(void *buf, size_t len, unsigned seed) {
  unsigned char *p = buf;
  for (size_t i = 0; i < len; i++) p[i] = (unsigned char)(seed * 31u + i * 7u + (i >> 8));
}

iotkit_hal_t *hal_contract_memory_new(void) {
  iotkit_hal_memory_config_t cfg;
  iotkit_hal_memory_config_init(&cfg);
  cfg.slot_capacity = HAL_CONTRACT_CAPACITY;
  iotkit_hal_t *hal = NULL;
  cr_assert_eq(iotkit_hal_memory_new(&cfg, &hal), IOTKIT_OK);
  return hal;
}

static void set_ok(iotkit_hal_t *hal, const char *key, const void *val, size_t len) {
  cr_assert_eq(hal->kv_set(hal->ctx, key, val, len), IOTKIT_OK, "kv_set(%s)", key);
}

static void expect_value(iotkit_hal_t *hal, const char *key, const void *val, size_t len) {
  unsigned char *buf = malloc(len + 1);
  size_t got = 12345;
  cr_assert_eq(hal->kv_get(hal->ctx, key, buf, len + 1, &got), IOTKIT_OK, "kv_get(%s)", key);
  cr_assert_eq(got, len);
  cr_assert(len == 0 || memcmp(buf, val, len) == 0, "value of %s differs", key);
  free(buf);
}

void hal_contract_kv_roundtrip(iotkit_hal_t *hal) {
  set_ok(hal, "cfg.interval", "30", 2);
  expect_value(hal, "cfg.interval", "30", 2);
}

void hal_contract_kv_overwrite(iotkit_hal_t *hal) {
  set_ok(hal, "k", "first-value", 11);
  set_ok(hal, "k", "2nd", 3);
  expect_value(hal, "k", "2nd", 3);
}

void hal_contract_kv_empty_value(iotkit_hal_t *hal) {
  set_ok(hal, "empty", "", 0);
  expect_value(hal, "empty", "", 0);
}

void hal_contract_kv_max_value(iotkit_hal_t *hal) {
  unsigned char *v = malloc(IOTKIT_MAX_KV_VALUE);
  hal_contract_pattern(v, IOTKIT_MAX_KV_VALUE, 3);
  set_ok(hal, "big", v, IOTKIT_MAX_KV_VALUE);
  expect_value(hal, "big", v, IOTKIT_MAX_KV_VALUE);
  free(v);
}

void hal_contract_kv_value_too_large(iotkit_hal_t *hal) {
  unsigned char *v = calloc(1, IOTKIT_MAX_KV_VALUE + 1);
  cr_assert_eq(hal->kv_set(hal->ctx, "big", v, IOTKIT_MAX_KV_VALUE + 1), IOTKIT_ERR_TOO_LARGE);
  size_t len = 0;
  cr_assert_eq(hal->kv_get(hal->ctx, "big", v, 1, &len), IOTKIT_ERR_NOT_FOUND);
  free(v);
}

static void bad_key(iotkit_hal_t *hal, const char *key) {
  char buf[8];
  size_t len = 99;
  cr_assert_eq(hal->kv_set(hal->ctx, key, "v", 1), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(hal->kv_get(hal->ctx, key, buf, sizeof(buf), &len), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(hal->kv_erase(hal->ctx, key), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(len, 99, "outputs untouched on failure");
}

void hal_contract_kv_key_empty(iotkit_hal_t *hal) { bad_key(hal, ""); }
void hal_contract_kv_key_dot(iotkit_hal_t *hal) { bad_key(hal, "."); }
void hal_contract_kv_key_dotdot(iotkit_hal_t *hal) { bad_key(hal, ".."); }
void hal_contract_kv_key_slash(iotkit_hal_t *hal) { bad_key(hal, "a/b"); }
void hal_contract_kv_key_space(iotkit_hal_t *hal) { bad_key(hal, "a b"); }
void hal_contract_kv_key_null(iotkit_hal_t *hal) { bad_key(hal, NULL); }

void hal_contract_kv_key_too_long(iotkit_hal_t *hal) {
  char key[IOTKIT_MAX_KV_KEY + 2];
  memset(key, 'k', IOTKIT_MAX_KV_KEY + 1);
  key[IOTKIT_MAX_KV_KEY + 1] = '\0';
  bad_key(hal, key);
}

void hal_contract_kv_key_max_length(iotkit_hal_t *hal) {
  char key[IOTKIT_MAX_KV_KEY + 1];
  memset(key, 'k', IOTKIT_MAX_KV_KEY);
  key[IOTKIT_MAX_KV_KEY] = '\0';
  set_ok(hal, key, "v", 1);
  expect_value(hal, key, "v", 1);
}

void hal_contract_kv_get_not_found(iotkit_hal_t *hal) {
  char buf[8];
  size_t len = 99;
  cr_assert_eq(hal->kv_get(hal->ctx, "absent", buf, sizeof(buf), &len), IOTKIT_ERR_NOT_FOUND);
  cr_assert_eq(len, 99);
}

void hal_contract_kv_get_buffer_too_small(iotkit_hal_t *hal) {
  set_ok(hal, "k", "0123456789", 10);
  char buf[4] = {'x', 'x', 'x', 'x'};
  size_t len = 0;
  cr_assert_eq(hal->kv_get(hal->ctx, "k", buf, sizeof(buf), &len), IOTKIT_ERR_BUFFER_TOO_SMALL);
  cr_assert_eq(len, 10);
  cr_assert_eq(memcmp(buf, "xxxx", 4), 0, "buffer untouched");
}

void hal_contract_kv_get_size_query(iotkit_hal_t *hal) {
  set_ok(hal, "k", "abc", 3);
  size_t len = 0;
  cr_assert_eq(hal->kv_get(hal->ctx, "k", NULL, 0, &len), IOTKIT_ERR_BUFFER_TOO_SMALL);
  cr_assert_eq(len, 3);
}

void hal_contract_kv_get_null_len(iotkit_hal_t *hal) {
  set_ok(hal, "k", "abc", 3);
  char buf[8];
  cr_assert_eq(hal->kv_get(hal->ctx, "k", buf, sizeof(buf), NULL), IOTKIT_ERR_INVALID_ARG);
}

void hal_contract_kv_get_null_buf(iotkit_hal_t *hal) {
  set_ok(hal, "k", "abc", 3);
  size_t len = 99;
  cr_assert_eq(hal->kv_get(hal->ctx, "k", NULL, 8, &len), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(len, 99);
}

void hal_contract_kv_set_null_value(iotkit_hal_t *hal) {
  cr_assert_eq(hal->kv_set(hal->ctx, "k", NULL, 3), IOTKIT_ERR_INVALID_ARG);
}

void hal_contract_kv_set_null_value_empty(iotkit_hal_t *hal) {
  cr_assert_eq(hal->kv_set(hal->ctx, "k", NULL, 0), IOTKIT_OK);
  expect_value(hal, "k", "", 0);
}

void hal_contract_kv_erase(iotkit_hal_t *hal) {
  set_ok(hal, "k", "abc", 3);
  cr_assert_eq(hal->kv_erase(hal->ctx, "k"), IOTKIT_OK);
  size_t len = 0;
  cr_assert_eq(hal->kv_get(hal->ctx, "k", NULL, 0, &len), IOTKIT_ERR_NOT_FOUND);
}

void hal_contract_kv_erase_absent(iotkit_hal_t *hal) { cr_assert_eq(hal->kv_erase(hal->ctx, "never-set"), IOTKIT_OK); }

void hal_contract_kv_erase_bad_key(iotkit_hal_t *hal) { cr_assert_eq(hal->kv_erase(hal->ctx, "../x"), IOTKIT_ERR_INVALID_ARG); }

void hal_contract_kv_many_keys(iotkit_hal_t *hal) {
  char key[16], val[16];
  for (int i = 0; i < 40; i++) {
    snprintf(key, sizeof(key), "key-%d", i);
    snprintf(val, sizeof(val), "value %d", i);
    set_ok(hal, key, val, strlen(val));
  }
  cr_assert_eq(hal->kv_erase(hal->ctx, "key-7"), IOTKIT_OK);
  for (int i = 0; i < 40; i++) {
    snprintf(key, sizeof(key), "key-%d", i);
    snprintf(val, sizeof(val), "value %d", i);
    if (i == 7) {
      size_t len;
      cr_assert_eq(hal->kv_get(hal->ctx, key, NULL, 0, &len), IOTKIT_ERR_NOT_FOUND);
    } else {
      expect_value(hal, key, val, strlen(val));
    }
  }
}

/* ------------------------------------------------------------- slots -- */

static iotkit_slot_info_t query(iotkit_hal_t *hal) {
  iotkit_slot_info_t info;
  cr_assert_eq(hal->slot_query(hal->ctx, &info), IOTKIT_OK);
  return info;
}

/* Open slot 1, write @len pattern bytes, finalize. */
static void write_image(iotkit_hal_t *hal, size_t len, unsigned seed) {
  unsigned char *img = malloc(len);
  hal_contract_pattern(img, len, seed);
  cr_assert_eq(hal->slot_open(hal->ctx, 1), IOTKIT_OK);
  cr_assert_eq(hal->slot_write(hal->ctx, 1, 0, img, len / 2), IOTKIT_OK);
  cr_assert_eq(hal->slot_write(hal->ctx, 1, len / 2, img + len / 2, len - len / 2), IOTKIT_OK);
  cr_assert_eq(hal->slot_finalize(hal->ctx, 1, len), IOTKIT_OK);
  free(img);
}

void hal_contract_slot_factory_state(iotkit_hal_t *hal) {
  iotkit_slot_info_t info = query(hal);
  cr_assert_eq(info.active, 0);
  cr_assert_eq(info.pending, -1);
  cr_assert(info.active_confirmed);
  cr_assert_eq(info.trial_boots, 0);
  cr_assert_eq(info.size[1], 0);
  cr_assert_eq(info.capacity[0], HAL_CONTRACT_CAPACITY);
  cr_assert_eq(info.capacity[1], HAL_CONTRACT_CAPACITY);
}

void hal_contract_slot_roundtrip(iotkit_hal_t *hal) {
  write_image(hal, 3000, 9);
  unsigned char want[3000], got[3000];
  hal_contract_pattern(want, sizeof(want), 9);
  size_t n = 0;
  cr_assert_eq(hal->slot_read(hal->ctx, 1, 0, got, sizeof(got), &n), IOTKIT_OK);
  cr_assert_eq(n, sizeof(got));
  cr_assert_eq(memcmp(want, got, n), 0);
  cr_assert_eq(hal->slot_read(hal->ctx, 1, 2990, got, 100, &n), IOTKIT_OK);
  cr_assert_eq(n, 10);
  cr_assert_eq(memcmp(want + 2990, got, 10), 0);
  cr_assert_eq(query(hal).size[1], 3000);
}

void hal_contract_slot_open_negative(iotkit_hal_t *hal) { cr_assert_eq(hal->slot_open(hal->ctx, -1), IOTKIT_ERR_INVALID_ARG); }

void hal_contract_slot_open_out_of_range(iotkit_hal_t *hal) {
  cr_assert_eq(hal->slot_open(hal->ctx, IOTKIT_HAL_SLOT_COUNT), IOTKIT_ERR_INVALID_ARG);
}

void hal_contract_slot_open_active(iotkit_hal_t *hal) {
  cr_assert_eq(hal->slot_open(hal->ctx, query(hal).active), IOTKIT_ERR_STATE);
}

void hal_contract_slot_write_beyond_capacity(iotkit_hal_t *hal) {
  unsigned char *big = calloc(1, HAL_CONTRACT_CAPACITY + 1);
  cr_assert_eq(hal->slot_open(hal->ctx, 1), IOTKIT_OK);
  cr_assert_eq(hal->slot_write(hal->ctx, 1, 0, big, HAL_CONTRACT_CAPACITY + 1), IOTKIT_ERR_TOO_LARGE);
  free(big);
}

void hal_contract_slot_write_offset_beyond_capacity(iotkit_hal_t *hal) {
  cr_assert_eq(hal->slot_open(hal->ctx, 1), IOTKIT_OK);
  cr_assert_eq(hal->slot_write(hal->ctx, 1, HAL_CONTRACT_CAPACITY - 1, "ab", 2), IOTKIT_ERR_TOO_LARGE);
  cr_assert_eq(hal->slot_write(hal->ctx, 1, UINT64_MAX, "a", 1), IOTKIT_ERR_TOO_LARGE);
}

void hal_contract_slot_write_up_to_capacity(iotkit_hal_t *hal) {
  cr_assert_eq(hal->slot_open(hal->ctx, 1), IOTKIT_OK);
  cr_assert_eq(hal->slot_write(hal->ctx, 1, HAL_CONTRACT_CAPACITY - 2, "ab", 2), IOTKIT_OK);
  cr_assert_eq(hal->slot_finalize(hal->ctx, 1, HAL_CONTRACT_CAPACITY), IOTKIT_OK);
  unsigned char buf[4];
  size_t n = 0;
  cr_assert_eq(hal->slot_read(hal->ctx, 1, 0, buf, sizeof(buf), &n), IOTKIT_OK);
  cr_assert_eq(n, 4);
  cr_assert_eq(memcmp(buf, "\0\0\0\0", 4), 0, "a gap reads as zeros");
}

void hal_contract_slot_write_not_open(iotkit_hal_t *hal) {
  cr_assert_eq(hal->slot_write(hal->ctx, 1, 0, "abc", 3), IOTKIT_ERR_STATE);
}

void hal_contract_slot_write_null_data(iotkit_hal_t *hal) {
  cr_assert_eq(hal->slot_open(hal->ctx, 1), IOTKIT_OK);
  cr_assert_eq(hal->slot_write(hal->ctx, 1, 0, NULL, 3), IOTKIT_ERR_INVALID_ARG);
}

void hal_contract_slot_write_out_of_range(iotkit_hal_t *hal) {
  cr_assert_eq(hal->slot_write(hal->ctx, 2, 0, "abc", 3), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(hal->slot_write(hal->ctx, -1, 0, "abc", 3), IOTKIT_ERR_INVALID_ARG);
}

void hal_contract_slot_read_null_got(iotkit_hal_t *hal) {
  char buf[4];
  cr_assert_eq(hal->slot_read(hal->ctx, 1, 0, buf, sizeof(buf), NULL), IOTKIT_ERR_INVALID_ARG);
}

void hal_contract_slot_read_out_of_range(iotkit_hal_t *hal) {
  char buf[4];
  size_t n = 99;
  cr_assert_eq(hal->slot_read(hal->ctx, 5, 0, buf, sizeof(buf), &n), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(n, 99);
}

void hal_contract_slot_read_past_end(iotkit_hal_t *hal) {
  write_image(hal, 100, 1);
  char buf[4];
  size_t n = 99;
  cr_assert_eq(hal->slot_read(hal->ctx, 1, 500, buf, sizeof(buf), &n), IOTKIT_OK);
  cr_assert_eq(n, 0);
}

void hal_contract_slot_finalize_beyond_written(iotkit_hal_t *hal) {
  cr_assert_eq(hal->slot_open(hal->ctx, 1), IOTKIT_OK);
  cr_assert_eq(hal->slot_write(hal->ctx, 1, 0, "abc", 3), IOTKIT_OK);
  cr_assert_eq(hal->slot_finalize(hal->ctx, 1, 4), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(query(hal).size[1], 0);
}

void hal_contract_slot_finalize_too_large(iotkit_hal_t *hal) {
  cr_assert_eq(hal->slot_open(hal->ctx, 1), IOTKIT_OK);
  cr_assert_eq(hal->slot_finalize(hal->ctx, 1, HAL_CONTRACT_CAPACITY + 1), IOTKIT_ERR_TOO_LARGE);
}

void hal_contract_slot_finalize_not_open(iotkit_hal_t *hal) {
  cr_assert_eq(hal->slot_finalize(hal->ctx, 1, 0), IOTKIT_ERR_STATE);
}

void hal_contract_slot_reopen_erases(iotkit_hal_t *hal) {
  write_image(hal, 200, 2);
  cr_assert_eq(hal->slot_open(hal->ctx, 1), IOTKIT_OK);
  cr_assert_eq(query(hal).size[1], 0);
  char buf[4];
  size_t n = 99;
  cr_assert_eq(hal->slot_read(hal->ctx, 1, 0, buf, sizeof(buf), &n), IOTKIT_OK);
  cr_assert_eq(n, 0);
}

void hal_contract_slot_mark_pending(iotkit_hal_t *hal) {
  write_image(hal, 64, 4);
  cr_assert_eq(hal->slot_mark_pending(hal->ctx, 1), IOTKIT_OK);
  iotkit_slot_info_t info = query(hal);
  cr_assert_eq(info.pending, 1);
  cr_assert_eq(info.active, 0);
  cr_assert_eq(info.size[1], 64);
  /* A pending image is closed: it can no longer change. */
  cr_assert_eq(hal->slot_write(hal->ctx, 1, 0, "x", 1), IOTKIT_ERR_STATE);
}

void hal_contract_slot_mark_pending_unfinalized(iotkit_hal_t *hal) {
  cr_assert_eq(hal->slot_open(hal->ctx, 1), IOTKIT_OK);
  cr_assert_eq(hal->slot_write(hal->ctx, 1, 0, "abc", 3), IOTKIT_OK);
  cr_assert_eq(hal->slot_mark_pending(hal->ctx, 1), IOTKIT_ERR_STATE);
  cr_assert_eq(query(hal).pending, -1);
}

void hal_contract_slot_mark_pending_active(iotkit_hal_t *hal) {
  cr_assert_eq(hal->slot_mark_pending(hal->ctx, 0), IOTKIT_ERR_STATE);
}

void hal_contract_slot_mark_pending_out_of_range(iotkit_hal_t *hal) {
  cr_assert_eq(hal->slot_mark_pending(hal->ctx, 2), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(hal->slot_mark_pending(hal->ctx, -1), IOTKIT_ERR_INVALID_ARG);
}

void hal_contract_slot_reopen_cancels_pending(iotkit_hal_t *hal) {
  write_image(hal, 64, 4);
  cr_assert_eq(hal->slot_mark_pending(hal->ctx, 1), IOTKIT_OK);
  cr_assert_eq(hal->slot_open(hal->ctx, 1), IOTKIT_OK);
  cr_assert_eq(query(hal).pending, -1);
}

void hal_contract_slot_confirm(iotkit_hal_t *hal) {
  cr_assert_eq(hal->slot_confirm(hal->ctx), IOTKIT_OK);
  iotkit_slot_info_t info = query(hal);
  cr_assert(info.active_confirmed);
  cr_assert_eq(info.trial_boots, 0);
}

void hal_contract_slot_query_null(iotkit_hal_t *hal) { cr_assert_eq(hal->slot_query(hal->ctx, NULL), IOTKIT_ERR_INVALID_ARG); }

/* --------------------------------------------------- system services -- */

void hal_contract_random_fills(iotkit_hal_t *hal) {
  unsigned char a[64] = {0}, b[64] = {0}, zero[64] = {0};
  cr_assert_eq(hal->random(hal->ctx, a, sizeof(a)), IOTKIT_OK);
  cr_assert_eq(hal->random(hal->ctx, b, sizeof(b)), IOTKIT_OK);
  cr_assert_neq(memcmp(a, zero, sizeof(a)), 0);
  cr_assert_neq(memcmp(a, b, sizeof(a)), 0, "two draws differ");
}

void hal_contract_random_null_buffer(iotkit_hal_t *hal) {
  cr_assert_eq(hal->random(hal->ctx, NULL, 4), IOTKIT_ERR_INVALID_ARG);
}

void hal_contract_random_zero_length(iotkit_hal_t *hal) { cr_assert_eq(hal->random(hal->ctx, NULL, 0), IOTKIT_OK); }

void hal_contract_clock_monotonic_never_backwards(iotkit_hal_t *hal) {
  uint64_t prev = hal->monotonic_ms(hal->ctx);
  for (int i = 0; i < 1000; i++) {
    uint64_t now = hal->monotonic_ms(hal->ctx);
    cr_assert_geq(now, prev);
    prev = now;
  }
  cr_assert_gt(hal->wall_ms(hal->ctx), 1600000000000ll, "wall clock is after 2020");
}

void hal_contract_mutex_lifecycle(iotkit_hal_t *hal) {
  void *m = NULL;
  cr_assert_eq(hal->mutex_new(hal->ctx, &m), IOTKIT_OK);
  cr_assert_not_null(m);
  hal->mutex_lock(hal->ctx, m);
  hal->mutex_unlock(hal->ctx, m);
  hal->mutex_free(hal->ctx, m);
  hal->mutex_free(hal->ctx, NULL);
}

void hal_contract_mutex_new_null(iotkit_hal_t *hal) { cr_assert_eq(hal->mutex_new(hal->ctx, NULL), IOTKIT_ERR_INVALID_ARG); }

static void bump(void *arg) { *(int *)arg += 1; }

void hal_contract_thread_start_join(iotkit_hal_t *hal) {
  int ran = 0;
  void *t = NULL;
  cr_assert_eq(hal->thread_start(hal->ctx, bump, &ran, &t), IOTKIT_OK);
  cr_assert_eq(hal->thread_join(hal->ctx, t), IOTKIT_OK);
  cr_assert_eq(ran, 1);
}

void hal_contract_thread_start_null_fn(iotkit_hal_t *hal) {
  void *t = NULL;
  cr_assert_eq(hal->thread_start(hal->ctx, NULL, NULL, &t), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(hal->thread_start(hal->ctx, bump, NULL, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(hal->thread_join(hal->ctx, NULL), IOTKIT_ERR_INVALID_ARG);
}

void hal_contract_reboot_returns(iotkit_hal_t *hal) { cr_assert_eq(hal->reboot(hal->ctx, "test"), IOTKIT_OK); }

/* Several threads hammer the store, the random source and the log at once. */
typedef struct worker {
  iotkit_hal_t *hal;
  int id;
  int failures;
} worker_t;

static void *work(void *arg) {
  worker_t *w = arg;
  iotkit_hal_t *h = w->hal;
  char key[16], val[32], back[32];
  snprintf(key, sizeof(key), "w%d", w->id);
  for (int i = 0; i < HAL_CONTRACT_THREAD_STEPS; i++) {
    int n = snprintf(val, sizeof(val), "%d:%d", w->id, i);
    size_t len = 0;
    unsigned char rnd[16];
    if (h->kv_set(h->ctx, key, val, (size_t)n) != IOTKIT_OK) w->failures++;
    if (h->kv_get(h->ctx, key, back, sizeof(back), &len) != IOTKIT_OK || len != (size_t)n ||
        memcmp(back, val, len) != 0)
      w->failures++;
    if (h->kv_set(h->ctx, "shared", val, (size_t)n) != IOTKIT_OK) w->failures++;
    if (h->random(h->ctx, rnd, sizeof(rnd)) != IOTKIT_OK) w->failures++;
    iotkit_hal_logf(h, IOTKIT_LOG_DEBUG, "worker %d step %d", w->id, i);
  }
  return NULL;
}

void hal_contract_threads_share_one_hal(iotkit_hal_t *hal) {
  pthread_t tid[HAL_CONTRACT_THREADS];
  worker_t w[HAL_CONTRACT_THREADS];
  for (int i = 0; i < HAL_CONTRACT_THREADS; i++) {
    w[i] = (worker_t){.hal = hal, .id = i};
    cr_assert_eq(pthread_create(&tid[i], NULL, work, &w[i]), 0);
  }
  for (int i = 0; i < HAL_CONTRACT_THREADS; i++) pthread_join(tid[i], NULL);
  for (int i = 0; i < HAL_CONTRACT_THREADS; i++) cr_assert_eq(w[i].failures, 0, "worker %d", i);
  /* "shared" holds one whole value some worker wrote last. */
  char back[32];
  size_t len = 0;
  cr_assert_eq(hal->kv_get(hal->ctx, "shared", back, sizeof(back) - 1, &len), IOTKIT_OK);
  back[len] = '\0';
  int id = -1, step = -1;
  cr_assert_eq(sscanf(back, "%d:%d", &id, &step), 2, "shared = %s", back);
  cr_assert_eq(step, HAL_CONTRACT_THREAD_STEPS - 1);
}
