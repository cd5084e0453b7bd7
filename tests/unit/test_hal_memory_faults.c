/* The memory HAL's fault injection: failing writes and power cuts. */
#include <criterion/criterion.h>
#include <string.h>

#include "hal_contract.h"
#include "iotkit/iotkit.h"

static iotkit_hal_t *g_hal;

static void setup(void) { g_hal = hal_contract_memory_new(); }

static void teardown(void) { iotkit_hal_free(g_hal); }

static iotkit_err_t set(const char *key, const char *val) { return g_hal->kv_set(g_hal->ctx, key, val, strlen(val)); }

static iotkit_err_t get(const char *key, char *buf, size_t cap) {
  size_t len = 0;
  iotkit_err_t rc = g_hal->kv_get(g_hal->ctx, key, buf, cap - 1, &len);
  if (rc == IOTKIT_OK) buf[len] = '\0';
  return rc;
}

static void expect(const char *key, const char *val) {
  char buf[64];
  cr_assert_eq(get(key, buf, sizeof(buf)), IOTKIT_OK, "get %s", key);
  cr_assert_str_eq(buf, val);
}

TestSuite(hal_memory_faults, .init = setup, .fini = teardown);

Test(hal_memory_faults, write_count_counts_every_write) {
  cr_assert_eq(iotkit_hal_memory_write_count(g_hal), 0);
  cr_assert_eq(set("a", "1"), IOTKIT_OK);
  cr_assert_eq(g_hal->kv_erase(g_hal->ctx, "a"), IOTKIT_OK);
  cr_assert_eq(g_hal->slot_open(g_hal->ctx, 1), IOTKIT_OK);
  cr_assert_eq(g_hal->slot_write(g_hal->ctx, 1, 0, "x", 1), IOTKIT_OK);
  cr_assert_eq(g_hal->slot_finalize(g_hal->ctx, 1, 1), IOTKIT_OK);
  cr_assert_eq(g_hal->slot_mark_pending(g_hal->ctx, 1), IOTKIT_OK);
  cr_assert_eq(g_hal->slot_confirm(g_hal->ctx), IOTKIT_OK);
  cr_assert_eq(iotkit_hal_memory_write_count(g_hal), 7);
  /* Reads are not writes; rejected arguments never reach the storage. */
  char buf[8];
  cr_assert_eq(get("a", buf, sizeof(buf)), IOTKIT_ERR_NOT_FOUND);
  cr_assert_eq(set("a/b", "1"), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_hal_memory_write_count(g_hal), 7);
}

Test(hal_memory_faults, fail_write_next) {
  cr_assert_eq(set("k", "old"), IOTKIT_OK);
  cr_assert_eq(iotkit_hal_memory_fail_write(g_hal, 1), IOTKIT_OK);
  cr_assert_eq(set("k", "new"), IOTKIT_ERR_INJECTED);
  expect("k", "old");
  cr_assert_eq(set("k", "new"), IOTKIT_OK, "later writes succeed");
  expect("k", "new");
}

Test(hal_memory_faults, fail_write_third) {
  cr_assert_eq(iotkit_hal_memory_fail_write(g_hal, 3), IOTKIT_OK);
  cr_assert_eq(set("a", "1"), IOTKIT_OK);
  cr_assert_eq(set("b", "2"), IOTKIT_OK);
  cr_assert_eq(set("c", "3"), IOTKIT_ERR_INJECTED);
  cr_assert_eq(set("d", "4"), IOTKIT_OK);
  char buf[8];
  cr_assert_eq(get("c", buf, sizeof(buf)), IOTKIT_ERR_NOT_FOUND, "the failed write had no effect");
  cr_assert_eq(iotkit_hal_memory_write_count(g_hal), 4);
}

Test(hal_memory_faults, fail_write_erase_has_no_effect) {
  cr_assert_eq(set("k", "v"), IOTKIT_OK);
  cr_assert_eq(iotkit_hal_memory_fail_write(g_hal, 1), IOTKIT_OK);
  cr_assert_eq(g_hal->kv_erase(g_hal->ctx, "k"), IOTKIT_ERR_INJECTED);
  expect("k", "v");
}

Test(hal_memory_faults, fail_write_slot_write_has_no_effect) {
  cr_assert_eq(g_hal->slot_open(g_hal->ctx, 1), IOTKIT_OK);
  cr_assert_eq(g_hal->slot_write(g_hal->ctx, 1, 0, "abcd", 4), IOTKIT_OK);
  cr_assert_eq(iotkit_hal_memory_fail_write(g_hal, 1), IOTKIT_OK);
  cr_assert_eq(g_hal->slot_write(g_hal->ctx, 1, 2, "XYZW", 4), IOTKIT_ERR_INJECTED);
  char buf[8];
  size_t n = 0;
  cr_assert_eq(g_hal->slot_read(g_hal->ctx, 1, 0, buf, sizeof(buf), &n), IOTKIT_OK);
  cr_assert_eq(n, 4);
  cr_assert_eq(memcmp(buf, "abcd", 4), 0);
}

Test(hal_memory_faults, fail_write_zero_cancels) {
  cr_assert_eq(iotkit_hal_memory_fail_write(g_hal, 2), IOTKIT_OK);
  cr_assert_eq(iotkit_hal_memory_fail_write(g_hal, 0), IOTKIT_OK);
  for (int i = 0; i < 5; i++) cr_assert_eq(set("k", "v"), IOTKIT_OK);
}

Test(hal_memory_faults, cut_power_at_kth_write) {
  cr_assert_eq(iotkit_hal_memory_cut_power_at(g_hal, 2), IOTKIT_OK);
  cr_assert_eq(set("a", "1"), IOTKIT_OK);
  cr_assert_eq(set("b", "2"), IOTKIT_ERR_POWER_CUT);
  cr_assert_eq(set("c", "3"), IOTKIT_ERR_POWER_CUT, "every later write fails too");
  char buf[8];
  cr_assert_eq(get("a", buf, sizeof(buf)), IOTKIT_ERR_POWER_CUT, "no storage without power");
  cr_assert_eq(iotkit_hal_memory_power_restore(g_hal), IOTKIT_OK);
  expect("a", "1");
  cr_assert_eq(get("b", buf, sizeof(buf)), IOTKIT_ERR_NOT_FOUND);
  cr_assert_eq(get("c", buf, sizeof(buf)), IOTKIT_ERR_NOT_FOUND);
  cr_assert_eq(set("c", "3"), IOTKIT_OK, "writes work again after restore");
}

Test(hal_memory_faults, cut_power_at_zero_cancels) {
  cr_assert_eq(iotkit_hal_memory_cut_power_at(g_hal, 1), IOTKIT_OK);
  cr_assert_eq(iotkit_hal_memory_cut_power_at(g_hal, 0), IOTKIT_OK);
  cr_assert_eq(set("a", "1"), IOTKIT_OK);
}

/* Open slot 1 and write "ABCDEFGH", finalize 4 bytes, then write more. */
static void half_synced_slot(void) {
  cr_assert_eq(g_hal->slot_open(g_hal->ctx, 1), IOTKIT_OK);
  cr_assert_eq(g_hal->slot_write(g_hal->ctx, 1, 0, "ABCD", 4), IOTKIT_OK);
  cr_assert_eq(g_hal->slot_finalize(g_hal->ctx, 1, 4), IOTKIT_OK);
  cr_assert_eq(g_hal->slot_write(g_hal->ctx, 1, 4, "EFGH", 4), IOTKIT_OK);
  cr_assert_eq(g_hal->slot_write(g_hal->ctx, 1, 0, "abcd", 4), IOTKIT_OK);
}

static void expect_slot(const char *want) {
  char buf[32];
  size_t n = 0;
  cr_assert_eq(g_hal->slot_read(g_hal->ctx, 1, 0, buf, sizeof(buf), &n), IOTKIT_OK);
  cr_assert_eq(n, strlen(want));
  cr_assert_eq(memcmp(buf, want, n), 0);
}

Test(hal_memory_faults, power_cut_drops_unsynced_slot_bytes) {
  half_synced_slot();
  expect_slot("abcdEFGH");
  cr_assert_eq(set("kept", "yes"), IOTKIT_OK);
  cr_assert_eq(iotkit_hal_memory_power_cut(g_hal), IOTKIT_OK);
  cr_assert_eq(iotkit_hal_memory_power_restore(g_hal), IOTKIT_OK);
  expect_slot("ABCD");
  expect("kept", "yes");
  iotkit_slot_info_t info;
  cr_assert_eq(g_hal->slot_query(g_hal->ctx, &info), IOTKIT_OK);
  cr_assert_eq(info.size[1], 4);
  /* The slot is closed by the cut: writing needs a new slot_open. */
  cr_assert_eq(g_hal->slot_write(g_hal->ctx, 1, 0, "x", 1), IOTKIT_ERR_STATE);
}

Test(hal_memory_faults, power_cut_before_finalize_leaves_empty_slot) {
  cr_assert_eq(g_hal->slot_open(g_hal->ctx, 1), IOTKIT_OK);
  cr_assert_eq(g_hal->slot_write(g_hal->ctx, 1, 0, "ABCD", 4), IOTKIT_OK);
  cr_assert_eq(iotkit_hal_memory_power_cut(g_hal), IOTKIT_OK);
  cr_assert_eq(iotkit_hal_memory_power_restore(g_hal), IOTKIT_OK);
  expect_slot("");
}

Test(hal_memory_faults, cut_power_at_finalize_drops_the_image) {
  cr_assert_eq(g_hal->slot_open(g_hal->ctx, 1), IOTKIT_OK);
  cr_assert_eq(g_hal->slot_write(g_hal->ctx, 1, 0, "ABCD", 4), IOTKIT_OK);
  cr_assert_eq(iotkit_hal_memory_cut_power_at(g_hal, 1), IOTKIT_OK);
  cr_assert_eq(g_hal->slot_finalize(g_hal->ctx, 1, 4), IOTKIT_ERR_POWER_CUT);
  cr_assert_eq(iotkit_hal_memory_power_restore(g_hal), IOTKIT_OK);
  expect_slot("");
  iotkit_slot_info_t info;
  cr_assert_eq(g_hal->slot_query(g_hal->ctx, &info), IOTKIT_OK);
  cr_assert_eq(info.size[1], 0);
}

Test(hal_memory_faults, power_cut_keeps_boot_record) {
  half_synced_slot();
  cr_assert_eq(g_hal->slot_mark_pending(g_hal->ctx, 1), IOTKIT_OK);
  cr_assert_eq(iotkit_hal_memory_power_cut(g_hal), IOTKIT_OK);
  iotkit_slot_info_t info;
  cr_assert_eq(g_hal->slot_query(g_hal->ctx, &info), IOTKIT_ERR_POWER_CUT);
  cr_assert_eq(iotkit_hal_memory_power_restore(g_hal), IOTKIT_OK);
  cr_assert_eq(g_hal->slot_query(g_hal->ctx, &info), IOTKIT_OK);
  cr_assert_eq(info.pending, 1);
  cr_assert_eq(info.size[1], 4);
}

Test(hal_memory_faults, writes_while_power_is_cut_fail) {
  cr_assert_eq(iotkit_hal_memory_power_cut(g_hal), IOTKIT_OK);
  cr_assert_eq(set("a", "1"), IOTKIT_ERR_POWER_CUT);
  cr_assert_eq(g_hal->kv_erase(g_hal->ctx, "a"), IOTKIT_ERR_POWER_CUT);
  cr_assert_eq(g_hal->slot_open(g_hal->ctx, 1), IOTKIT_ERR_POWER_CUT);
  cr_assert_eq(g_hal->slot_write(g_hal->ctx, 1, 0, "x", 1), IOTKIT_ERR_POWER_CUT);
  cr_assert_eq(g_hal->slot_confirm(g_hal->ctx), IOTKIT_ERR_POWER_CUT);
  char buf[4];
  size_t n;
  cr_assert_eq(g_hal->slot_read(g_hal->ctx, 1, 0, buf, sizeof(buf), &n), IOTKIT_ERR_POWER_CUT);
}

Test(hal_memory_faults, fail_write_and_cut_on_same_write_cut_wins) {
  cr_assert_eq(iotkit_hal_memory_fail_write(g_hal, 1), IOTKIT_OK);
  cr_assert_eq(iotkit_hal_memory_cut_power_at(g_hal, 1), IOTKIT_OK);
  cr_assert_eq(set("a", "1"), IOTKIT_ERR_POWER_CUT);
}
