// requires: fleet
/* Fleet registry listing: keyset paging (no duplicates, no misses, exact last
   page), filters by type, tag, online status and last-seen bounds, counts, and
   the bad arguments of list and count. */
#include <criterion/criterion.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet/fleet_internal.h"
#include "fleet_fixture.h"

static fleet_fixture_t fx;

static void setup(void) { fleet_fixture_setup(&fx); }
static void teardown(void) { fleet_fixture_teardown(&fx); }

TestSuite(fleet_list, .init = setup, .fini = teardown, .timeout = 120);
TestSuite(fleet_filter, .init = setup, .fini = teardown, .timeout = 120);

/* Walk every page of @p filter with pages of @p limit; the ids, in order, into @p ids
   (capacity cap, each 32 bytes); returns how many, and the number of pages in *pages. */
static size_t walk(const iotkit_fleet_filter_t *filter, size_t limit, char (*ids)[32], size_t cap, size_t *pages) {
  char after[32] = "";
  size_t n = 0;
  *pages = 0;
  for (;;) {
    iotkit_fleet_page_t *page = NULL;
    iotkit_err_t rc = iotkit_fleet_list(fx.fleet, filter, after, limit, &page);
    cr_assert_eq(rc, IOTKIT_OK, "%s", iotkit_err_name(rc));
    cr_assert_eq(page->struct_size, sizeof(*page));
    (*pages)++;
    cr_assert_leq(page->count, limit);
    for (size_t i = 0; i < page->count; i++) {
      cr_assert_lt(n, cap);
      snprintf(ids[n++], 32, "%s", page->devices[i]->id);
    }
    if (!page->next_after) {
      iotkit_fleet_page_free(page);
      break;
    }
    cr_assert_eq(page->count, limit, "a page with a cursor is full");
    cr_assert_str_eq(page->next_after, page->devices[page->count - 1]->id);
    snprintf(after, sizeof(after), "%s", page->next_after);
    iotkit_fleet_page_free(page);
  }
  return n;
}

static void create_n(int n, const char *prefix, int width) {
  /* In a scrambled order, so that id order is not insertion order. */
  for (int k = 0; k < n; k++) {
    int i = (k * 37) % n;
    char id[32];
    snprintf(id, sizeof(id), "%s%0*d", prefix, width, i);
    cr_assert_eq(fleet_fixture_create(fx.fleet, id, NULL, NULL, 0), IOTKIT_OK, "%s", id);
  }
}

static uint64_t count_of(const iotkit_fleet_filter_t *f) {
  uint64_t n = 0;
  cr_assert_eq(iotkit_fleet_count(fx.fleet, f, &n), IOTKIT_OK);
  return n;
}

/* ------------------------------------------------------------ paging -- */

Test(fleet_list, empty_registry) {
  iotkit_fleet_page_t *page = NULL;
  cr_assert_eq(iotkit_fleet_list(fx.fleet, NULL, NULL, 10, &page), IOTKIT_OK);
  cr_assert_eq(page->count, 0);
  cr_assert_null(page->devices);
  cr_assert_null(page->next_after);
  iotkit_fleet_page_free(page);
  iotkit_fleet_page_free(NULL);
  cr_assert_eq(count_of(NULL), 0);
}

Test(fleet_list, pages_of_100_over_250) {
  create_n(250, "dev-", 3); /* 37 is prime to 250: every i once */
  static char ids[300][32];
  size_t pages = 0;
  size_t n = walk(NULL, 100, ids, 300, &pages);
  cr_assert_eq(n, 250);
  cr_assert_eq(pages, 3);
  for (size_t i = 0; i < n; i++) {
    char want[32];
    snprintf(want, sizeof(want), "dev-%03zu", i);
    cr_assert_str_eq(ids[i], want, "no duplicate, no miss, in id order");
  }
  cr_assert_eq(count_of(NULL), 250);
}

Test(fleet_list, exactly_full_last_page_has_no_cursor) {
  create_n(200, "d", 3);
  iotkit_fleet_page_t *page = NULL;
  cr_assert_eq(iotkit_fleet_list(fx.fleet, NULL, NULL, 100, &page), IOTKIT_OK);
  cr_assert_eq(page->count, 100);
  cr_assert_str_eq(page->next_after, "d099");
  iotkit_fleet_page_free(page);
  cr_assert_eq(iotkit_fleet_list(fx.fleet, NULL, "d099", 100, &page), IOTKIT_OK);
  cr_assert_eq(page->count, 100);
  cr_assert_null(page->next_after, "nothing follows: no empty third page");
  iotkit_fleet_page_free(page);
}

Test(fleet_list, cursor_need_not_exist) {
  create_n(10, "k", 1); /* k0..k9 */
  iotkit_fleet_page_t *page = NULL;
  cr_assert_eq(iotkit_fleet_list(fx.fleet, NULL, "k4a", 100, &page), IOTKIT_OK);
  cr_assert_eq(page->count, 5);
  cr_assert_str_eq(page->devices[0]->id, "k5");
  iotkit_fleet_page_free(page);
  cr_assert_eq(iotkit_fleet_list(fx.fleet, NULL, "zzz", 100, &page), IOTKIT_OK);
  cr_assert_eq(page->count, 0);
  cr_assert_null(page->next_after);
  iotkit_fleet_page_free(page);
  cr_assert_eq(iotkit_fleet_list(fx.fleet, NULL, "", 3, &page), IOTKIT_OK);
  cr_assert_str_eq(page->devices[0]->id, "k0", "\"\" starts from the first record");
  iotkit_fleet_page_free(page);
}

Test(fleet_list, byte_order_of_ids) {
  const char *ids[] = {"a", "_", "Z", "9", ".a", "-", "A", "0", "z"};
  for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
    cr_assert_eq(fleet_fixture_create(fx.fleet, ids[i], NULL, NULL, 0), IOTKIT_OK);
  const char *want[] = {"-", ".a", "0", "9", "A", "Z", "_", "a", "z"};
  iotkit_fleet_page_t *page = NULL;
  cr_assert_eq(iotkit_fleet_list(fx.fleet, NULL, NULL, 100, &page), IOTKIT_OK);
  cr_assert_eq(page->count, 9);
  for (size_t i = 0; i < 9; i++) cr_assert_str_eq(page->devices[i]->id, want[i]);
  iotkit_fleet_page_free(page);
}

Test(fleet_list, records_complete_in_pages) {
  const char *tags[] = {"b", "a"};
  iotkit_fleet_device_spec_t s;
  iotkit_fleet_device_spec_init(&s);
  s.id = "full";
  s.name = "N";
  s.type = "T";
  s.tags = tags;
  s.tag_count = 2;
  s.attributes = "{\"x\":true}";
  cr_assert_eq(iotkit_fleet_device_create(fx.fleet, &s), IOTKIT_OK);
  iotkit_fleet_page_t *page = NULL;
  cr_assert_eq(iotkit_fleet_list(fx.fleet, NULL, NULL, 1, &page), IOTKIT_OK);
  cr_assert_eq(page->count, 1);
  const iotkit_fleet_device_t *d = page->devices[0];
  cr_assert_str_eq(d->name, "N");
  cr_assert_str_eq(d->type, "T");
  cr_assert_eq(d->tag_count, 2);
  cr_assert_str_eq(d->tags[0], "b");
  cr_assert_str_eq(d->tags[1], "a");
  cr_assert_str_eq(d->attributes, "{\"x\":true}");
  cr_assert_eq(d->created_ms, FLEET_FIXTURE_T0_MS);
  iotkit_fleet_page_free(page);
}

/* Records that exist throughout a walk are each seen exactly once, while others
   are created and deleted before and after the cursor between pages. */
Test(fleet_list, stable_under_concurrent_changes) {
  create_n(300, "s", 3);
  char after[32] = "";
  bool seen[300] = {false};
  int round = 0;
  for (;;) {
    iotkit_fleet_page_t *page = NULL;
    cr_assert_eq(iotkit_fleet_list(fx.fleet, NULL, after, 40, &page), IOTKIT_OK);
    for (size_t i = 0; i < page->count; i++) {
      int k = -1;
      if (sscanf(page->devices[i]->id, "s%d", &k) == 1 && strlen(page->devices[i]->id) == 4) {
        cr_assert(!seen[k], "%s seen twice", page->devices[i]->id);
        seen[k] = true;
      }
    }
    if (!page->next_after) {
      iotkit_fleet_page_free(page);
      break;
    }
    snprintf(after, sizeof(after), "%s", page->next_after);
    iotkit_fleet_page_free(page);
    /* Churn: new ids behind and ahead of the cursor ("s000x", "s299x"), and delete one of them. */
    char id[32];
    snprintf(id, sizeof(id), "s000x%d", round);
    cr_assert_eq(fleet_fixture_create(fx.fleet, id, NULL, NULL, 0), IOTKIT_OK);
    snprintf(id, sizeof(id), "s299x%d", round);
    cr_assert_eq(fleet_fixture_create(fx.fleet, id, NULL, NULL, 0), IOTKIT_OK);
    if (round > 0) {
      snprintf(id, sizeof(id), "s000x%d", round - 1);
      cr_assert_eq(iotkit_fleet_device_delete(fx.fleet, id), IOTKIT_OK);
    }
    round++;
  }
  for (int k = 0; k < 300; k++) cr_assert(seen[k], "s%03d missed", k);
}

Test(fleet_list, bad_arguments) {
  create_n(3, "b", 1);
  iotkit_fleet_page_t *page = (iotkit_fleet_page_t *)0x1;
  cr_assert_eq(iotkit_fleet_list(NULL, NULL, NULL, 10, &page), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_list(fx.fleet, NULL, NULL, 10, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_list(fx.fleet, NULL, NULL, 0, &page), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_list(fx.fleet, NULL, NULL, IOTKIT_FLEET_MAX_PAGE + 1, &page), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_list(fx.fleet, NULL, "bad id", 10, &page), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_list(fx.fleet, NULL, "x'; --", 10, &page), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(page, (iotkit_fleet_page_t *)0x1, "out left alone");
  cr_assert_eq(iotkit_fleet_list(fx.fleet, NULL, NULL, IOTKIT_FLEET_MAX_PAGE, &page), IOTKIT_OK);
  cr_assert_eq(page->count, 3);
  iotkit_fleet_page_free(page);
  uint64_t n = 7;
  cr_assert_eq(iotkit_fleet_count(NULL, NULL, &n), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_count(fx.fleet, NULL, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(n, 7);
}

/* ----------------------------------------------------------- filters -- */

/* 60 devices: type "a" for i % 3 == 0, "b" for 1, none for 2; tag "even" for even i,
   "five" for i % 5 == 0 (both when both); online for i % 4 == 0, last seen
   T0 + i * 1000 for i % 2 == 0, never seen otherwise. */
static void populate(void) {
  for (int i = 0; i < 60; i++) {
    char id[16];
    snprintf(id, sizeof(id), "f%02d", i);
    const char *tags[2];
    size_t nt = 0;
    if (i % 2 == 0) tags[nt++] = "even";
    if (i % 5 == 0) tags[nt++] = "five";
    const char *type = i % 3 == 0 ? "a" : i % 3 == 1 ? "b" : NULL;
    cr_assert_eq(fleet_fixture_create(fx.fleet, id, type, tags, nt), IOTKIT_OK);
    if (i % 2 == 0)
      cr_assert_eq(iotkit__fleet_presence(fx.fleet, id, i % 4 == 0, FLEET_FIXTURE_T0_MS + i * 1000), IOTKIT_OK);
  }
  cr_assert_eq(iotkit__fleet_flush(fx.fleet), IOTKIT_OK);
}

typedef bool (*pred_fn)(int i);

/* The filter returns exactly the i of @p want, in order, with pages of 7; count agrees. */
static void expect(const iotkit_fleet_filter_t *f, pred_fn want) {
  static char ids[64][32];
  size_t pages = 0;
  size_t n = walk(f, 7, ids, 64, &pages);
  size_t k = 0;
  for (int i = 0; i < 60; i++) {
    if (!want(i)) continue;
    char id[16];
    snprintf(id, sizeof(id), "f%02d", i);
    cr_assert_lt(k, n, "%s missing", id);
    cr_assert_str_eq(ids[k], id);
    k++;
  }
  cr_assert_eq(n, k, "no extra records");
  cr_assert_eq(count_of(f), k);
}

static bool type_a(int i) { return i % 3 == 0; }
static bool type_none(int i) { return i % 3 == 2; }
static bool tag_even(int i) { return i % 2 == 0; }
static bool tag_five_type_b(int i) { return i % 5 == 0 && i % 3 == 1; }
static bool online(int i) { return i % 4 == 0; }
static bool offline(int i) { return i % 4 != 0; }
static bool seen_before_20(int i) { return i % 2 == 0 && i < 20; }
static bool seen_after_40(int i) { return i % 2 == 0 && i > 40; }
static bool seen_between(int i) { return i % 2 == 0 && i > 10 && i < 30; }
static bool all_conditions(int i) { return i % 3 == 0 && i % 4 == 0 && i > 0 && i < 50; }
static bool none(int i) { return (void)i, false; }

static iotkit_fleet_filter_t filter(void) {
  iotkit_fleet_filter_t f;
  iotkit_fleet_filter_init(&f);
  return f;
}

Test(fleet_filter, by_type) {
  populate();
  iotkit_fleet_filter_t f = filter();
  f.type = "a";
  expect(&f, type_a);
  f.type = "";
  expect(&f, type_none);
  f.type = "missing";
  expect(&f, none);
}

Test(fleet_filter, by_tag) {
  populate();
  iotkit_fleet_filter_t f = filter();
  f.tag = "even";
  expect(&f, tag_even);
  f.tag = "eve"; /* exact, not a prefix */
  expect(&f, none);
}

Test(fleet_filter, by_tag_and_type) {
  populate();
  iotkit_fleet_filter_t f = filter();
  f.tag = "five";
  f.type = "b";
  expect(&f, tag_five_type_b);
}

Test(fleet_filter, by_online_status) {
  populate();
  iotkit_fleet_filter_t f = filter();
  f.online = IOTKIT_FLEET_ONLINE_ONLY;
  expect(&f, online);
  f.online = IOTKIT_FLEET_OFFLINE_ONLY;
  expect(&f, offline);
}

Test(fleet_filter, by_last_seen_strict_bounds) {
  populate();
  iotkit_fleet_filter_t f = filter();
  f.last_seen_before_ms = FLEET_FIXTURE_T0_MS + 20 * 1000; /* f20 itself is not before */
  expect(&f, seen_before_20);
  f = filter();
  f.last_seen_after_ms = FLEET_FIXTURE_T0_MS + 40 * 1000;
  expect(&f, seen_after_40);
  f.last_seen_before_ms = FLEET_FIXTURE_T0_MS + 30 * 1000;
  f.last_seen_after_ms = FLEET_FIXTURE_T0_MS + 10 * 1000;
  expect(&f, seen_between);
}

Test(fleet_filter, every_condition_at_once) {
  populate();
  iotkit_fleet_filter_t f = filter();
  f.type = "a";
  f.tag = "even";
  f.online = IOTKIT_FLEET_ONLINE_ONLY;
  f.last_seen_after_ms = FLEET_FIXTURE_T0_MS;
  f.last_seen_before_ms = FLEET_FIXTURE_T0_MS + 50 * 1000;
  expect(&f, all_conditions); /* f00 was seen at T0 exactly: not after it */
}

Test(fleet_filter, never_seen_matches_no_bound) {
  cr_assert_eq(fleet_fixture_create(fx.fleet, "new", NULL, NULL, 0), IOTKIT_OK);
  iotkit_fleet_filter_t f = filter();
  f.last_seen_before_ms = INT64_MAX;
  cr_assert_eq(count_of(&f), 0);
  f = filter();
  f.last_seen_after_ms = 1;
  cr_assert_eq(count_of(&f), 0);
  f = filter();
  f.online = IOTKIT_FLEET_OFFLINE_ONLY;
  cr_assert_eq(count_of(&f), 1, "never seen counts as offline");
}

Test(fleet_filter, bad_filters) {
  iotkit_fleet_page_t *page = NULL;
  uint64_t n = 0;
  iotkit_fleet_filter_t f = filter();
  f.online = (iotkit_fleet_online_t)7;
  cr_assert_eq(iotkit_fleet_list(fx.fleet, &f, NULL, 10, &page), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_count(fx.fleet, &f, &n), IOTKIT_ERR_INVALID_ARG);
  f = filter();
  f.last_seen_before_ms = -1;
  cr_assert_eq(iotkit_fleet_list(fx.fleet, &f, NULL, 10, &page), IOTKIT_ERR_INVALID_ARG);
  f = filter();
  f.last_seen_after_ms = -5;
  cr_assert_eq(iotkit_fleet_count(fx.fleet, &f, &n), IOTKIT_ERR_INVALID_ARG);
  f = filter();
  f.struct_size = 3;
  cr_assert_eq(iotkit_fleet_list(fx.fleet, &f, NULL, 10, &page), IOTKIT_ERR_INVALID_ARG);
  cr_assert_null(page);
}

Test(fleet_filter, old_filter_size_ignores_later_fields) {
  populate();
  iotkit_fleet_filter_t f = filter();
  f.struct_size = offsetof(iotkit_fleet_filter_t, tag); /* knows only the type */
  f.type = "a";
  f.tag = "not read";
  f.online = (iotkit_fleet_online_t)99; /* beyond the size: not read either */
  expect(&f, type_a);
}
