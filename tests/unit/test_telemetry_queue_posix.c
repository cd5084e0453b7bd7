/* The durable queue on the POSIX HAL: damage to the segment files on disk is detected, counted, skipped. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hal_tmpdir.h"
#include "iotkit/iotkit.h"
#include "queue_check.h"

#define BIG (1024u * 1024u)
#define LEN 100u
#define REC (LEN + 24u)

static char g_dir[256];
static char g_state[300];
static iotkit_hal_t *g_hal;
static iotkit_telemetry_queue_t *g_q;

static void open_all(void) {
  iotkit_hal_posix_config_t cfg;
  iotkit_hal_posix_config_init(&cfg);
  cfg.state_dir = g_state;
  cfg.log_fd = -1;
  cr_assert_eq(iotkit_hal_posix_new(&cfg, &g_hal), IOTKIT_OK);
  g_q = queue_open(g_hal, BIG, IOTKIT_TELEMETRY_DROP_OLDEST, IOTKIT_TELEMETRY_SYNC_INTERVAL);
}

static void close_all(void) {
  iotkit_telemetry_queue_close(g_q);
  iotkit_hal_free(g_hal);
  g_q = NULL;
  g_hal = NULL;
}

static void setup(void) {
  hal_tmpdir_make(g_dir, sizeof(g_dir));
  snprintf(g_state, sizeof(g_state), "%s/state", g_dir);
  open_all();
}

static void teardown(void) {
  close_all();
  hal_tmpdir_remove(g_dir);
}

/* Restart the process: the HAL and the queue are made again on the same directory. */
static void restart(void) {
  close_all();
  open_all();
}

static void seg_path(uint32_t id, char *buf, size_t cap) {
  snprintf(buf, cap, "%s/queue/telemetry/%010u.seg", g_state, (unsigned)id);
}

static void flip_byte(uint32_t seg, off_t off) {
  char path[400];
  seg_path(seg, path, sizeof(path));
  int fd = open(path, O_RDWR);
  cr_assert_geq(fd, 0, "open %s", path);
  unsigned char c;
  cr_assert_eq(pread(fd, &c, 1, off), 1);
  c ^= 0x5a;
  cr_assert_eq(pwrite(fd, &c, 1, off), 1);
  close(fd);
}

static void truncate_seg(uint32_t seg, off_t size) {
  char path[400];
  seg_path(seg, path, sizeof(path));
  cr_assert_eq(truncate(path, size), 0);
}

TestSuite(telemetry_queue_posix, .init = setup, .fini = teardown);

Test(telemetry_queue_posix, corrupt_last_record) {
  for (int i = 0; i < 5; i++) queue_add(g_q, LEN);
  close_all();
  flip_byte(1, 4 * REC + 24 + 50); /* in the payload of the 5th record */
  open_all();
  iotkit_telemetry_queue_stats_t st = queue_stats(g_q);
  cr_assert_eq(st.pending, 4);
  cr_assert_eq(st.corrupt, 1);
  cr_assert_eq(st.corrupt_bytes, REC);
  for (uint64_t s = 1; s <= 4; s++) queue_expect_next(g_q, s, LEN);
  queue_expect_empty(g_q);
}

Test(telemetry_queue_posix, truncated_mid_record) {
  for (int i = 0; i < 5; i++) queue_add(g_q, LEN);
  close_all();
  truncate_seg(1, 4 * REC + 30); /* a torn write: the 5th record's header and 6 payload bytes */
  open_all();
  iotkit_telemetry_queue_stats_t st = queue_stats(g_q);
  cr_assert_eq(st.pending, 4);
  cr_assert_eq(st.corrupt, 1);
  cr_assert_eq(st.corrupt_bytes, 30);
  for (uint64_t s = 1; s <= 4; s++) queue_expect_next(g_q, s, LEN);
  queue_expect_empty(g_q);
}

Test(telemetry_queue_posix, truncated_inside_header) {
  for (int i = 0; i < 3; i++) queue_add(g_q, LEN);
  close_all();
  truncate_seg(1, 2 * REC + 10);
  open_all();
  iotkit_telemetry_queue_stats_t st = queue_stats(g_q);
  cr_assert_eq(st.pending, 2);
  cr_assert_eq(st.corrupt, 1);
  cr_assert_eq(st.corrupt_bytes, 10);
}

Test(telemetry_queue_posix, corrupt_middle_record_is_skipped) {
  for (int i = 0; i < 5; i++) queue_add(g_q, LEN);
  close_all();
  flip_byte(1, 2 * REC + 2); /* the magic of the 3rd record */
  open_all();
  iotkit_telemetry_queue_stats_t st = queue_stats(g_q);
  cr_assert_eq(st.pending, 4);
  cr_assert_eq(st.corrupt, 1);
  cr_assert_eq(st.corrupt_bytes, REC);
  queue_expect_next(g_q, 1, LEN);
  queue_expect_next(g_q, 2, LEN);
  queue_expect_next(g_q, 4, LEN);
  queue_expect_next(g_q, 5, LEN);
}

Test(telemetry_queue_posix, damage_after_open_is_dropped_when_read) {
  for (int i = 0; i < 2; i++) queue_add(g_q, LEN);
  cr_assert_eq(iotkit_telemetry_queue_sync(g_q), IOTKIT_OK);
  flip_byte(1, 24 + 7);
  queue_expect_next(g_q, 2, LEN);
  cr_assert_eq(queue_stats(g_q).dropped_corrupt, 1);
}

Test(telemetry_queue_posix, appends_after_a_torn_tail_survive_the_next_restart) {
  for (int i = 0; i < 3; i++) queue_add(g_q, LEN);
  close_all();
  truncate_seg(1, 2 * REC + 50);
  open_all();
  uint64_t fresh = queue_add(g_q, LEN);
  restart();
  iotkit_telemetry_queue_stats_t st = queue_stats(g_q);
  cr_assert_eq(st.pending, 3);
  cr_assert_eq(st.corrupt, 1, "the old damage is still counted once");
  queue_expect_next(g_q, 1, LEN);
  queue_expect_next(g_q, 2, LEN);
  queue_expect_next(g_q, fresh, LEN);
}

Test(telemetry_queue_posix, restart_recovers_backlog_and_sequence) {
  for (int i = 0; i < 10; i++) queue_add(g_q, LEN);
  for (uint64_t s = 1; s <= 6; s++) cr_assert_eq(iotkit_telemetry_queue_ack(g_q, s), IOTKIT_OK);
  restart();
  cr_assert_eq(queue_stats(g_q).pending, 4);
  for (uint64_t s = 7; s <= 10; s++) queue_expect_next(g_q, s, LEN);
  cr_assert_gt(queue_add(g_q, LEN), 10);
}

Test(telemetry_queue_posix, acknowledged_segments_are_removed) {
  for (int i = 0; i < 4; i++) queue_add(g_q, LEN);
  restart(); /* the next records go to segment 2 */
  for (int i = 0; i < 4; i++) queue_add(g_q, LEN);
  char dir[400];
  snprintf(dir, sizeof(dir), "%s/queue/telemetry", g_state);
  cr_assert_eq(hal_tmpdir_count(dir, ""), 2);
  for (uint64_t s = 1; s <= 4; s++) cr_assert_eq(iotkit_telemetry_queue_ack(g_q, s), IOTKIT_OK);
  cr_assert_eq(hal_tmpdir_count(dir, ""), 1, "segment 1 is gone once all its records are acknowledged");
  restart();
  cr_assert_eq(queue_stats(g_q).pending, 4);
}
