/* The POSIX HAL: the shared contract, state directory, persistence, log sink. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hal_contract.h"
#include "hal_tmpdir.h"
#include "iotkit/iotkit.h"

static char g_dir[256];
static char g_state[300];
static iotkit_hal_t *g_hal;

static iotkit_err_t open_hal(int log_fd, iotkit_log_level_t level, iotkit_hal_t **out) {
  iotkit_hal_posix_config_t cfg;
  iotkit_hal_posix_config_init(&cfg);
  cfg.state_dir = g_state;
  cfg.slot_capacity = HAL_CONTRACT_CAPACITY;
  cfg.log_fd = log_fd;
  cfg.log_level = level;
  return iotkit_hal_posix_new(&cfg, out);
}

static void setup(void) {
  hal_tmpdir_make(g_dir, sizeof(g_dir));
  snprintf(g_state, sizeof(g_state), "%s/state", g_dir);
  cr_assert_eq(open_hal(-1, IOTKIT_LOG_INFO, &g_hal), IOTKIT_OK);
}

static void teardown(void) {
  iotkit_hal_free(g_hal);
  hal_tmpdir_remove(g_dir);
}

/* Close and reopen the HAL on the same directory, as after a restart. */
static void reopen(void) {
  iotkit_hal_free(g_hal);
  g_hal = NULL;
  cr_assert_eq(open_hal(-1, IOTKIT_LOG_INFO, &g_hal), IOTKIT_OK);
}

#define CONTRACT_TEST(name) \
  Test(hal_posix, name, .init = setup, .fini = teardown) { hal_contract_##name(g_hal); }
HAL_CONTRACT_LIST(CONTRACT_TEST)

TestSuite(hal_posix_state, .init = setup, .fini = teardown);

Test(hal_posix_state, config_defaults) {
  iotkit_hal_posix_config_t cfg;
  memset(&cfg, 0x5a, sizeof(cfg));
  iotkit_hal_posix_config_init(&cfg);
  cr_assert_null(cfg.state_dir);
  cr_assert_eq(cfg.slot_capacity, 64u * 1024u * 1024u);
  cr_assert_eq(cfg.log_level, IOTKIT_LOG_INFO);
  cr_assert_eq(cfg.log_fd, 2);
  iotkit_hal_posix_config_init(NULL);
}

Test(hal_posix_state, new_null_config) {
  iotkit_hal_t *h = NULL;
  cr_assert_eq(iotkit_hal_posix_new(NULL, &h), IOTKIT_ERR_INVALID_ARG);
}

Test(hal_posix_state, new_null_out) {
  iotkit_hal_posix_config_t cfg;
  iotkit_hal_posix_config_init(&cfg);
  cfg.state_dir = g_state;
  cr_assert_eq(iotkit_hal_posix_new(&cfg, NULL), IOTKIT_ERR_INVALID_ARG);
}

Test(hal_posix_state, new_without_state_dir) {
  iotkit_hal_posix_config_t cfg;
  iotkit_hal_posix_config_init(&cfg);
  iotkit_hal_t *h = (iotkit_hal_t *)0x1;
  cr_assert_eq(iotkit_hal_posix_new(&cfg, &h), IOTKIT_ERR_INVALID_ARG);
  cfg.state_dir = "";
  cr_assert_eq(iotkit_hal_posix_new(&cfg, &h), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(h, (iotkit_hal_t *)0x1, "out untouched on failure");
}

Test(hal_posix_state, new_zero_capacity) {
  iotkit_hal_posix_config_t cfg;
  iotkit_hal_posix_config_init(&cfg);
  cfg.state_dir = g_state;
  cfg.slot_capacity = 0;
  iotkit_hal_t *h = NULL;
  cr_assert_eq(iotkit_hal_posix_new(&cfg, &h), IOTKIT_ERR_INVALID_ARG);
}

Test(hal_posix_state, state_dir_is_created_private) {
  struct stat st;
  cr_assert_eq(stat(g_state, &st), 0);
  cr_assert(S_ISDIR(st.st_mode));
  cr_assert_eq(st.st_mode & 077, 0, "no access for group or others");
  char sub[400];
  snprintf(sub, sizeof(sub), "%s/kv", g_state);
  cr_assert_eq(stat(sub, &st), 0);
  snprintf(sub, sizeof(sub), "%s/slots", g_state);
  cr_assert_eq(stat(sub, &st), 0);
}

Test(hal_posix_state, missing_parent_is_io_error_and_logged) {
  char path[400];
  snprintf(path, sizeof(path), "%s/no/such/parent", g_dir);
  int fds[2];
  cr_assert_eq(pipe(fds), 0);
  iotkit_hal_posix_config_t cfg;
  iotkit_hal_posix_config_init(&cfg);
  cfg.state_dir = path;
  cfg.log_fd = fds[1];
  iotkit_hal_t *h = NULL;
  cr_assert_eq(iotkit_hal_posix_new(&cfg, &h), IOTKIT_ERR_IO);
  cr_assert_null(h);
  close(fds[1]);
  char buf[512] = {0};
  cr_assert_gt(read(fds[0], buf, sizeof(buf) - 1), 0);
  close(fds[0]);
  cr_assert_not_null(strstr(buf, "parent directory missing"), "log: %s", buf);
}

Test(hal_posix_state, state_dir_that_is_a_file_is_io_error) {
  char path[400];
  snprintf(path, sizeof(path), "%s/plain-file", g_dir);
  int fd = open(path, O_WRONLY | O_CREAT, 0600);
  cr_assert_geq(fd, 0);
  close(fd);
  iotkit_hal_posix_config_t cfg;
  iotkit_hal_posix_config_init(&cfg);
  cfg.state_dir = path;
  cfg.log_fd = -1;
  iotkit_hal_t *h = NULL;
  cr_assert_eq(iotkit_hal_posix_new(&cfg, &h), IOTKIT_ERR_IO);
}

Test(hal_posix_state, existing_state_dir_is_reused) {
  cr_assert_eq(g_hal->kv_set(g_hal->ctx, "k", "v1", 2), IOTKIT_OK);
  reopen();
  char buf[8];
  size_t len = 0;
  cr_assert_eq(g_hal->kv_get(g_hal->ctx, "k", buf, sizeof(buf), &len), IOTKIT_OK);
  cr_assert_eq(len, 2);
  cr_assert_eq(memcmp(buf, "v1", 2), 0);
}

Test(hal_posix_state, one_file_per_key) {
  cr_assert_eq(g_hal->kv_set(g_hal->ctx, "alpha", "1", 1), IOTKIT_OK);
  cr_assert_eq(g_hal->kv_set(g_hal->ctx, "beta", "2", 1), IOTKIT_OK);
  char kv[400];
  snprintf(kv, sizeof(kv), "%s/kv", g_state);
  cr_assert_eq(hal_tmpdir_count(kv, ""), 2, "no temporary file left behind");
  cr_assert_eq(hal_tmpdir_count(kv, "alpha"), 1);
}

Test(hal_posix_state, stale_temp_file_is_ignored_and_cleaned) {
  cr_assert_eq(g_hal->kv_set(g_hal->ctx, "k", "good", 4), IOTKIT_OK);
  char tmp[400];
  snprintf(tmp, sizeof(tmp), "%s/kv/~tmp.k.99999.7", g_state);
  int fd = open(tmp, O_WRONLY | O_CREAT, 0600);
  cr_assert_geq(fd, 0);
  cr_assert_eq(write(fd, "torn-garbage", 12), 12);
  close(fd);
  char buf[32];
  size_t len = 0;
  cr_assert_eq(g_hal->kv_get(g_hal->ctx, "k", buf, sizeof(buf), &len), IOTKIT_OK);
  cr_assert_eq(len, 4);
  cr_assert_eq(memcmp(buf, "good", 4), 0);
  reopen();
  cr_assert_eq(access(tmp, F_OK), -1, "cleaned at open");
  cr_assert_eq(g_hal->kv_get(g_hal->ctx, "k", buf, sizeof(buf), &len), IOTKIT_OK);
  cr_assert_eq(memcmp(buf, "good", 4), 0);
}

Test(hal_posix_state, oversized_value_file_is_corrupt) {
  char path[400];
  snprintf(path, sizeof(path), "%s/kv/huge", g_state);
  int fd = open(path, O_WRONLY | O_CREAT, 0600);
  cr_assert_geq(fd, 0);
  cr_assert_eq(ftruncate(fd, IOTKIT_MAX_KV_VALUE + 1), 0);
  close(fd);
  size_t len = 99;
  cr_assert_eq(g_hal->kv_get(g_hal->ctx, "huge", NULL, 0, &len), IOTKIT_ERR_CORRUPT);
  cr_assert_eq(len, 99);
}

Test(hal_posix_state, slot_record_survives_reopen) {
  unsigned char img[1000];
  hal_contract_pattern(img, sizeof(img), 5);
  cr_assert_eq(g_hal->slot_open(g_hal->ctx, 1), IOTKIT_OK);
  cr_assert_eq(g_hal->slot_write(g_hal->ctx, 1, 0, img, sizeof(img)), IOTKIT_OK);
  cr_assert_eq(g_hal->slot_finalize(g_hal->ctx, 1, sizeof(img)), IOTKIT_OK);
  cr_assert_eq(g_hal->slot_mark_pending(g_hal->ctx, 1), IOTKIT_OK);
  reopen();
  iotkit_slot_info_t info;
  cr_assert_eq(g_hal->slot_query(g_hal->ctx, &info), IOTKIT_OK);
  cr_assert_eq(info.pending, 1);
  cr_assert_eq(info.size[1], sizeof(img));
  unsigned char back[1000];
  size_t got = 0;
  cr_assert_eq(g_hal->slot_read(g_hal->ctx, 1, 0, back, sizeof(back), &got), IOTKIT_OK);
  cr_assert_eq(got, sizeof(back));
  cr_assert_eq(memcmp(img, back, got), 0);
}

Test(hal_posix_state, slot_is_closed_after_reopen) {
  cr_assert_eq(g_hal->slot_open(g_hal->ctx, 1), IOTKIT_OK);
  reopen();
  cr_assert_eq(g_hal->slot_write(g_hal->ctx, 1, 0, "x", 1), IOTKIT_ERR_STATE);
}

/* boot.rec holds two numbered copies (44 bytes each: record[36] seq[4] sum[4]); each update overwrites the older. */
#define COPY 44
static void boot_rec_path(char *path, size_t cap) { snprintf(path, cap, "%s/slots/boot.rec", g_state); }

static void poke(const char *path, off_t at) {
  int fd = open(path, O_WRONLY);
  cr_assert_geq(fd, 0);
  cr_assert_eq(pwrite(fd, "X", 1, at), 1);
  close(fd);
}

/* Index (0 or 1) of the copy with the higher sequence number. */
static int newest_copy(const char *path) {
  uint8_t raw[2 * COPY];
  int fd = open(path, O_RDONLY);
  cr_assert_geq(fd, 0);
  cr_assert_eq(pread(fd, raw, sizeof(raw), 0), (ssize_t)sizeof(raw));
  close(fd);
  uint32_t seq[2];
  for (int i = 0; i < 2; i++)
    seq[i] = (uint32_t)raw[i * COPY + 36] | (uint32_t)raw[i * COPY + 37] << 8 | (uint32_t)raw[i * COPY + 38] << 16 |
             (uint32_t)raw[i * COPY + 39] << 24;
  return (int32_t)(seq[1] - seq[0]) > 0 ? 1 : 0;
}

static uint64_t slot_size(int slot) {
  iotkit_slot_info_t info;
  cr_assert_eq(g_hal->slot_query(g_hal->ctx, &info), IOTKIT_OK);
  return info.size[slot];
}

/* Write @len bytes to slot 1 (opened before) and record them. */
static void grow_slot1(uint64_t from, uint64_t to) {
  uint8_t buf[64] = {0};
  cr_assert_eq(g_hal->slot_write(g_hal->ctx, 1, from, buf, (size_t)(to - from)), IOTKIT_OK);
  cr_assert_eq(g_hal->slot_finalize(g_hal->ctx, 1, to), IOTKIT_OK);
}

static void assert_reopen_corrupt(void) {
  iotkit_hal_free(g_hal);
  g_hal = NULL;
  cr_assert_eq(open_hal(-1, IOTKIT_LOG_INFO, &g_hal), IOTKIT_ERR_CORRUPT);
}

Test(hal_posix_state, corrupt_boot_record_is_reported) {
  char path[400];
  boot_rec_path(path, sizeof(path));
  cr_assert_eq(g_hal->slot_confirm(g_hal->ctx), IOTKIT_OK);
  poke(path, 9);
  poke(path, COPY + 9);
  assert_reopen_corrupt();
}

Test(hal_posix_state, boot_record_of_another_size_is_corrupt) {
  char path[400];
  boot_rec_path(path, sizeof(path));
  cr_assert_eq(g_hal->slot_confirm(g_hal->ctx), IOTKIT_OK);
  cr_assert_eq(truncate(path, 2 * COPY - 1), 0);
  assert_reopen_corrupt();
}

Test(hal_posix_state, torn_newest_boot_record_copy_leaves_the_one_before) {
  char path[400];
  boot_rec_path(path, sizeof(path));
  cr_assert_eq(g_hal->slot_open(g_hal->ctx, 1), IOTKIT_OK);
  grow_slot1(0, 10);
  grow_slot1(10, 30);
  cr_assert_eq(slot_size(1), 30);
  /* A power cut tearing the last update damages only the copy it was writing. */
  poke(path, newest_copy(path) * COPY + 20);
  reopen();
  cr_assert_eq(slot_size(1), 10, "the record as it was before the torn update");
  /* The next update goes to the damaged copy's place, and both are whole again. */
  cr_assert_eq(g_hal->slot_resume(g_hal->ctx, 1), IOTKIT_OK);
  grow_slot1(10, 40);
  reopen();
  cr_assert_eq(slot_size(1), 40);
}

Test(hal_posix_state, boot_record_survives_many_updates_and_reopens) {
  cr_assert_eq(g_hal->slot_open(g_hal->ctx, 1), IOTKIT_OK);
  for (uint64_t n = 1; n <= 9; n++) {
    grow_slot1(n - 1, n);
    if (n % 3 == 0) {
      reopen();
      cr_assert_eq(g_hal->slot_resume(g_hal->ctx, 1), IOTKIT_OK);
    }
    cr_assert_eq(slot_size(1), n);
  }
}

Test(hal_posix_state, single_record_boot_file_of_the_first_format_is_read_and_upgraded) {
  char path[400];
  boot_rec_path(path, sizeof(path));
  cr_assert_eq(g_hal->slot_open(g_hal->ctx, 1), IOTKIT_OK);
  grow_slot1(0, 12);
  /* The first format was the bare 36-byte record: the newest copy without its sequence number and sum. */
  int at = newest_copy(path);
  uint8_t rec[36];
  int fd = open(path, O_RDONLY);
  cr_assert_eq(pread(fd, rec, sizeof(rec), at * COPY), (ssize_t)sizeof(rec));
  close(fd);
  iotkit_hal_free(g_hal);
  g_hal = NULL;
  fd = open(path, O_WRONLY | O_TRUNC);
  cr_assert_eq(write(fd, rec, sizeof(rec)), (ssize_t)sizeof(rec));
  close(fd);
  cr_assert_eq(open_hal(-1, IOTKIT_LOG_INFO, &g_hal), IOTKIT_OK);
  cr_assert_eq(slot_size(1), 12);
  cr_assert_eq(g_hal->slot_confirm(g_hal->ctx), IOTKIT_OK);
  struct stat st;
  cr_assert_eq(stat(path, &st), 0);
  cr_assert_eq(st.st_size, 2 * COPY, "rewritten in two-copy form");
  reopen();
  cr_assert_eq(slot_size(1), 12);
}

static void say_hello(iotkit_hal_t *h) { iotkit_hal_logf(h, IOTKIT_LOG_INFO, "hello %s", "world"); }

static void say_three(iotkit_hal_t *h) {
  iotkit_hal_logf(h, IOTKIT_LOG_DEBUG, "dropped");
  iotkit_hal_logf(h, IOTKIT_LOG_INFO, "dropped");
  iotkit_hal_logf(h, IOTKIT_LOG_ERROR, "kept");
}

static void ask_reboot(iotkit_hal_t *h) { cr_assert_eq(h->reboot(h->ctx, "firmware update"), IOTKIT_OK); }

/* Run @emit on a HAL logging at @level into a pipe; @buf receives what reached the pipe. */
static void capture_log(iotkit_log_level_t level, void (*emit)(iotkit_hal_t *), char *buf, size_t cap) {
  int fds[2];
  cr_assert_eq(pipe(fds), 0);
  iotkit_hal_t *h = NULL;
  cr_assert_eq(open_hal(fds[1], level, &h), IOTKIT_OK);
  emit(h);
  iotkit_hal_free(h);
  close(fds[1]);
  ssize_t n = read(fds[0], buf, cap - 1);
  buf[n > 0 ? n : 0] = '\0';
  close(fds[0]);
}

Test(hal_posix_state, log_line_has_timestamp_and_level) {
  char buf[256];
  capture_log(IOTKIT_LOG_INFO, say_hello, buf, sizeof(buf));
  /* 2026-11-25T15:00:00.123Z iotkit[info] hello world */
  cr_assert_eq(strlen(buf), 24 + strlen(" iotkit[info] hello world\n"), "line: %s", buf);
  cr_assert_eq(buf[4], '-');
  cr_assert_eq(buf[10], 'T');
  cr_assert_eq(buf[19], '.');
  cr_assert_str_eq(buf + 23, "Z iotkit[info] hello world\n");
}

Test(hal_posix_state, log_level_filters) {
  char buf[256];
  capture_log(IOTKIT_LOG_WARN, say_three, buf, sizeof(buf));
  cr_assert_null(strstr(buf, "dropped"));
  cr_assert_not_null(strstr(buf, "iotkit[error] kept\n"));
}

Test(hal_posix_state, reboot_is_logged) {
  char buf[256];
  capture_log(IOTKIT_LOG_INFO, ask_reboot, buf, sizeof(buf));
  cr_assert_not_null(strstr(buf, "iotkit[warn] reboot requested (firmware update)"), "log: %s", buf);
}

Test(hal_posix_state, sleep_waits) {
  uint64_t t0 = g_hal->monotonic_ms(g_hal->ctx);
  g_hal->sleep_ms(g_hal->ctx, 30);
  cr_assert_geq(g_hal->monotonic_ms(g_hal->ctx) - t0, 30);
}

Test(hal_posix_state, memory_functions_refuse_posix_hal) {
  cr_assert_eq(iotkit_hal_memory_power_cut(g_hal), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_hal_memory_write_count(g_hal), 0);
}
