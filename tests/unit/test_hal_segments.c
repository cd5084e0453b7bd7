/* Segmented logs: the memory HAL's power cuts and faults, the POSIX HAL's files and persistence. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "hal_contract.h"
#include "hal_tmpdir.h"
#include "iotkit/iotkit.h"

static iotkit_hal_t *g_hal;
static char g_dir[256];
static char g_state[300];

static void mem_setup(void) { g_hal = hal_contract_memory_new(); }
static void mem_teardown(void) { iotkit_hal_free(g_hal); }

static uint64_t seg_size(const char *store, uint32_t seg) {
  uint64_t size = 0;
  cr_assert_eq(g_hal->seg_size(g_hal->ctx, store, seg, &size), IOTKIT_OK);
  return size;
}

TestSuite(hal_segments_memory, .init = mem_setup, .fini = mem_teardown);

Test(hal_segments_memory, power_cut_drops_unsynced_appends) {
  cr_assert_eq(g_hal->seg_append(g_hal->ctx, "q", 1, "synced", 6), IOTKIT_OK);
  cr_assert_eq(g_hal->seg_sync(g_hal->ctx, "q", 1), IOTKIT_OK);
  cr_assert_eq(g_hal->seg_append(g_hal->ctx, "q", 1, "-lost", 5), IOTKIT_OK);
  cr_assert_eq(seg_size("q", 1), 11);
  cr_assert_eq(iotkit_hal_memory_power_cut(g_hal), IOTKIT_OK);
  uint64_t size = 0;
  cr_assert_eq(g_hal->seg_size(g_hal->ctx, "q", 1, &size), IOTKIT_ERR_POWER_CUT);
  cr_assert_eq(g_hal->seg_append(g_hal->ctx, "q", 1, "x", 1), IOTKIT_ERR_POWER_CUT);
  cr_assert_eq(iotkit_hal_memory_power_restore(g_hal), IOTKIT_OK);
  cr_assert_eq(seg_size("q", 1), 6);
}

Test(hal_segments_memory, power_cut_keeps_created_empty_segment) {
  cr_assert_eq(g_hal->seg_append(g_hal->ctx, "q", 4, "never synced", 12), IOTKIT_OK);
  cr_assert_eq(iotkit_hal_memory_power_cut(g_hal), IOTKIT_OK);
  cr_assert_eq(iotkit_hal_memory_power_restore(g_hal), IOTKIT_OK);
  cr_assert_eq(seg_size("q", 4), 0);
}

Test(hal_segments_memory, seg_writes_are_counted) {
  uint64_t before = iotkit_hal_memory_write_count(g_hal);
  cr_assert_eq(g_hal->seg_append(g_hal->ctx, "q", 1, "a", 1), IOTKIT_OK);
  cr_assert_eq(g_hal->seg_sync(g_hal->ctx, "q", 1), IOTKIT_OK);
  cr_assert_eq(g_hal->seg_remove(g_hal->ctx, "q", 1), IOTKIT_OK);
  cr_assert_eq(iotkit_hal_memory_write_count(g_hal), before + 3);
}

Test(hal_segments_memory, injected_append_failure_has_no_effect) {
  cr_assert_eq(g_hal->seg_append(g_hal->ctx, "q", 1, "keep", 4), IOTKIT_OK);
  cr_assert_eq(iotkit_hal_memory_fail_write(g_hal, 1), IOTKIT_OK);
  cr_assert_eq(g_hal->seg_append(g_hal->ctx, "q", 1, "fail", 4), IOTKIT_ERR_INJECTED);
  cr_assert_eq(seg_size("q", 1), 4);
}

Test(hal_segments_memory, cut_power_at_sync_loses_the_tail) {
  cr_assert_eq(g_hal->seg_append(g_hal->ctx, "q", 1, "abc", 3), IOTKIT_OK);
  cr_assert_eq(iotkit_hal_memory_cut_power_at(g_hal, 1), IOTKIT_OK);
  cr_assert_eq(g_hal->seg_sync(g_hal->ctx, "q", 1), IOTKIT_ERR_POWER_CUT);
  cr_assert_eq(iotkit_hal_memory_power_restore(g_hal), IOTKIT_OK);
  cr_assert_eq(seg_size("q", 1), 0);
}

static void px_open(void) {
  iotkit_hal_posix_config_t cfg;
  iotkit_hal_posix_config_init(&cfg);
  cfg.state_dir = g_state;
  cfg.log_fd = -1;
  cr_assert_eq(iotkit_hal_posix_new(&cfg, &g_hal), IOTKIT_OK);
}

static void px_setup(void) {
  hal_tmpdir_make(g_dir, sizeof(g_dir));
  snprintf(g_state, sizeof(g_state), "%s/state", g_dir);
  px_open();
}

static void px_teardown(void) {
  iotkit_hal_free(g_hal);
  hal_tmpdir_remove(g_dir);
}

TestSuite(hal_segments_posix, .init = px_setup, .fini = px_teardown);

Test(hal_segments_posix, files_under_queue_dir) {
  cr_assert_eq(g_hal->seg_append(g_hal->ctx, "telemetry", 42, "abc", 3), IOTKIT_OK);
  char path[400];
  snprintf(path, sizeof(path), "%s/queue/telemetry/0000000042.seg", g_state);
  struct stat st;
  cr_assert_eq(stat(path, &st), 0, "%s exists", path);
  cr_assert_eq(st.st_size, 3);
}

Test(hal_segments_posix, survive_reopen) {
  for (uint32_t id = 1; id <= 6; id++)
    cr_assert_eq(g_hal->seg_append(g_hal->ctx, "q", id, "data", 4), IOTKIT_OK); /* more than the fd cache */
  cr_assert_eq(g_hal->seg_append(g_hal->ctx, "q", 1, "more", 4), IOTKIT_OK);
  iotkit_hal_free(g_hal);
  g_hal = NULL;
  px_open();
  size_t count = 0;
  uint32_t ids[8];
  cr_assert_eq(g_hal->seg_list(g_hal->ctx, "q", ids, 8, &count), IOTKIT_OK);
  cr_assert_eq(count, 6);
  cr_assert_eq(seg_size("q", 1), 8);
  cr_assert_eq(seg_size("q", 6), 4);
}

Test(hal_segments_posix, list_ignores_foreign_files) {
  cr_assert_eq(g_hal->seg_append(g_hal->ctx, "q", 3, "x", 1), IOTKIT_OK);
  char path[400];
  snprintf(path, sizeof(path), "%s/queue/q/notes.txt", g_state);
  FILE *f = fopen(path, "w");
  cr_assert_not_null(f);
  fclose(f);
  size_t count = 0;
  uint32_t ids[4];
  cr_assert_eq(g_hal->seg_list(g_hal->ctx, "q", ids, 4, &count), IOTKIT_OK);
  cr_assert_eq(count, 1);
  cr_assert_eq(ids[0], 3);
}
