/* Contract checks of the segmented append-only logs (seg_* operations). */
#include <criterion/criterion.h>
#include <string.h>

#include "hal_contract.h"

static void append_ok(iotkit_hal_t *hal, const char *store, uint32_t seg, const void *data, size_t len) {
  cr_assert_eq(hal->seg_append(hal->ctx, store, seg, data, len), IOTKIT_OK, "seg_append(%s, %u)", store, seg);
}

static void expect_content(iotkit_hal_t *hal, const char *store, uint32_t seg, const void *want, size_t len) {
  unsigned char buf[512];
  size_t got = 999;
  uint64_t size = 999;
  cr_assert_eq(hal->seg_size(hal->ctx, store, seg, &size), IOTKIT_OK);
  cr_assert_eq(size, len);
  cr_assert_eq(hal->seg_read(hal->ctx, store, seg, 0, buf, sizeof(buf), &got), IOTKIT_OK);
  cr_assert_eq(got, len);
  cr_assert(memcmp(buf, want, len) == 0, "content of %s/%u differs", store, seg);
}

void hal_contract_seg_append_read(iotkit_hal_t *hal) {
  unsigned char pat[300];
  hal_contract_pattern(pat, sizeof(pat), 9);
  append_ok(hal, "q", 1, pat, 100);
  append_ok(hal, "q", 1, pat + 100, 0);
  append_ok(hal, "q", 1, pat + 100, 200);
  expect_content(hal, "q", 1, pat, 300);
  unsigned char mid[50];
  size_t got = 0;
  cr_assert_eq(hal->seg_read(hal->ctx, "q", 1, 120, mid, sizeof(mid), &got), IOTKIT_OK);
  cr_assert_eq(got, 50);
  cr_assert(memcmp(mid, pat + 120, 50) == 0);
}

void hal_contract_seg_read_past_end(iotkit_hal_t *hal) {
  append_ok(hal, "q", 3, "abcdef", 6);
  char buf[16];
  size_t got = 99;
  cr_assert_eq(hal->seg_read(hal->ctx, "q", 3, 4, buf, sizeof(buf), &got), IOTKIT_OK);
  cr_assert_eq(got, 2);
  cr_assert_eq(hal->seg_read(hal->ctx, "q", 3, 6, buf, sizeof(buf), &got), IOTKIT_OK);
  cr_assert_eq(got, 0);
  cr_assert_eq(hal->seg_read(hal->ctx, "q", 3, 1000, buf, sizeof(buf), &got), IOTKIT_OK);
  cr_assert_eq(got, 0);
}

void hal_contract_seg_absent(iotkit_hal_t *hal) {
  char buf[4];
  size_t got = 77, count = 77;
  uint64_t size = 77;
  cr_assert_eq(hal->seg_read(hal->ctx, "none", 1, 0, buf, sizeof(buf), &got), IOTKIT_ERR_NOT_FOUND);
  cr_assert_eq(hal->seg_size(hal->ctx, "none", 1, &size), IOTKIT_ERR_NOT_FOUND);
  cr_assert_eq(hal->seg_sync(hal->ctx, "none", 1), IOTKIT_ERR_NOT_FOUND);
  cr_assert_eq(hal->seg_remove(hal->ctx, "none", 1), IOTKIT_OK);
  cr_assert_eq(hal->seg_list(hal->ctx, "none", NULL, 0, &count), IOTKIT_OK);
  cr_assert_eq(count, 0);
  cr_assert_eq(got, 77, "outputs untouched on failure");
  cr_assert_eq(size, 77, "outputs untouched on failure");
}

void hal_contract_seg_list_sorted(iotkit_hal_t *hal) {
  const uint32_t made[] = {7, 2, 4000000000u, 100};
  for (size_t i = 0; i < 4; i++) append_ok(hal, "q", made[i], "x", 1);
  uint32_t ids[8] = {0};
  size_t count = 0;
  cr_assert_eq(hal->seg_list(hal->ctx, "q", ids, 8, &count), IOTKIT_OK);
  cr_assert_eq(count, 4);
  cr_assert_eq(ids[0], 2);
  cr_assert_eq(ids[1], 7);
  cr_assert_eq(ids[2], 100);
  cr_assert_eq(ids[3], 4000000000u);
}

void hal_contract_seg_list_too_small(iotkit_hal_t *hal) {
  for (uint32_t i = 1; i <= 3; i++) append_ok(hal, "q", i, "x", 1);
  uint32_t ids[2];
  size_t count = 0;
  cr_assert_eq(hal->seg_list(hal->ctx, "q", ids, 2, &count), IOTKIT_ERR_BUFFER_TOO_SMALL);
  cr_assert_eq(count, 3);
  count = 0;
  cr_assert_eq(hal->seg_list(hal->ctx, "q", NULL, 0, &count), IOTKIT_ERR_BUFFER_TOO_SMALL);
  cr_assert_eq(count, 3);
}

void hal_contract_seg_remove(iotkit_hal_t *hal) {
  append_ok(hal, "q", 1, "one", 3);
  append_ok(hal, "q", 2, "two", 3);
  cr_assert_eq(hal->seg_remove(hal->ctx, "q", 1), IOTKIT_OK);
  uint32_t ids[4];
  size_t count = 0;
  cr_assert_eq(hal->seg_list(hal->ctx, "q", ids, 4, &count), IOTKIT_OK);
  cr_assert_eq(count, 1);
  cr_assert_eq(ids[0], 2);
  uint64_t size;
  cr_assert_eq(hal->seg_size(hal->ctx, "q", 1, &size), IOTKIT_ERR_NOT_FOUND);
  /* A removed id starts empty when appended to again. */
  append_ok(hal, "q", 1, "new", 3);
  expect_content(hal, "q", 1, "new", 3);
}

void hal_contract_seg_stores_separate(iotkit_hal_t *hal) {
  append_ok(hal, "a", 1, "alpha", 5);
  append_ok(hal, "b", 1, "beta", 4);
  expect_content(hal, "a", 1, "alpha", 5);
  expect_content(hal, "b", 1, "beta", 4);
  cr_assert_eq(hal->seg_remove(hal->ctx, "a", 1), IOTKIT_OK);
  expect_content(hal, "b", 1, "beta", 4);
}

static void bad_store(iotkit_hal_t *hal, const char *store) {
  char buf[4];
  size_t got = 5, count = 5;
  uint64_t size = 5;
  uint32_t ids[2];
  cr_assert_eq(hal->seg_append(hal->ctx, store, 1, "x", 1), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(hal->seg_read(hal->ctx, store, 1, 0, buf, sizeof(buf), &got), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(hal->seg_size(hal->ctx, store, 1, &size), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(hal->seg_sync(hal->ctx, store, 1), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(hal->seg_remove(hal->ctx, store, 1), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(hal->seg_list(hal->ctx, store, ids, 2, &count), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(got + count + size, 15, "outputs untouched on failure");
}

void hal_contract_seg_bad_store(iotkit_hal_t *hal) {
  bad_store(hal, NULL);
  bad_store(hal, "");
  bad_store(hal, "..");
  bad_store(hal, "a/b");
}

void hal_contract_seg_null_outputs(iotkit_hal_t *hal) {
  append_ok(hal, "q", 1, "x", 1);
  char buf[4];
  uint32_t ids[2];
  cr_assert_eq(hal->seg_read(hal->ctx, "q", 1, 0, buf, sizeof(buf), NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(hal->seg_size(hal->ctx, "q", 1, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(hal->seg_list(hal->ctx, "q", ids, 2, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(hal->seg_append(hal->ctx, "q", 1, NULL, 3), IOTKIT_ERR_INVALID_ARG);
  expect_content(hal, "q", 1, "x", 1);
}

void hal_contract_seg_sync(iotkit_hal_t *hal) {
  append_ok(hal, "q", 9, "durable", 7);
  cr_assert_eq(hal->seg_sync(hal->ctx, "q", 9), IOTKIT_OK);
  expect_content(hal, "q", 9, "durable", 7);
}
