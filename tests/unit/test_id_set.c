/* The growable id set behind the telemetry counters without a durable queue
   (lib/device/id_set.c): adds, removals in any order, colliding ids, id 0, growth. */
#include <criterion/criterion.h>

#include "device/id_set.h"

Test(id_set, add_take_once) {
  iotkit__id_set_t s = {0};
  cr_assert_not(iotkit__id_set_take(&s, 7), "empty");
  cr_assert(iotkit__id_set_add(&s, 7));
  cr_assert(iotkit__id_set_add(&s, 7), "again: no change");
  cr_assert_eq(s.n, 1);
  cr_assert(iotkit__id_set_take(&s, 7));
  cr_assert_not(iotkit__id_set_take(&s, 7), "taken already");
  cr_assert_eq(s.n, 0);
  iotkit__id_set_clear(&s);
}

Test(id_set, id_zero_is_an_id) {
  iotkit__id_set_t s = {0};
  cr_assert(iotkit__id_set_add(&s, 0));
  cr_assert_eq(s.n, 1);
  cr_assert_not(iotkit__id_set_take(&s, 1));
  cr_assert(iotkit__id_set_take(&s, 0));
  cr_assert_not(iotkit__id_set_take(&s, 0));
  cr_assert_eq(s.n, 0);
  iotkit__id_set_clear(&s);
}

/* Many more ids than the first capacity, in a cluster-heavy pattern (multiples of the
   capacity collide), removed in an order unlike the adds: every one found once. */
Test(id_set, grows_and_removes_in_any_order) {
  iotkit__id_set_t s = {0};
  enum { N = 20000 };
  for (uint32_t i = 1; i <= N; i++) cr_assert(iotkit__id_set_add(&s, i * 64u));
  cr_assert_eq(s.n, N);
  cr_assert_geq(s.cap, 2u * N);
  for (uint32_t i = 1; i <= N; i += 2) cr_assert(iotkit__id_set_take(&s, i * 64u), "odd %u", i);
  for (uint32_t i = 1; i <= N; i++) {
    bool there = iotkit__id_set_take(&s, i * 64u);
    cr_assert_eq(there, i % 2 == 0, "id %u", i * 64u);
  }
  cr_assert_eq(s.n, 0);
  iotkit__id_set_clear(&s);
  cr_assert_eq(s.cap, 0);
  cr_assert(iotkit__id_set_add(&s, 5), "usable after clear");
  cr_assert(iotkit__id_set_take(&s, 5));
  iotkit__id_set_clear(&s);
}

/* 16-bit MQTT ids wrap: a long run of adds and in-order takes never loses one. */
Test(id_set, sliding_window_of_wrapping_ids) {
  iotkit__id_set_t s = {0};
  uint32_t next = 1, oldest = 1;
  for (int round = 0; round < 200000; round++) {
    cr_assert(iotkit__id_set_add(&s, next));
    next = next == 65535u ? 1u : next + 1u;
    if (s.n > 3000) {
      cr_assert(iotkit__id_set_take(&s, oldest), "id %u", oldest);
      oldest = oldest == 65535u ? 1u : oldest + 1u;
    }
  }
  cr_assert_eq(s.n, 3000);
  cr_assert_leq(s.cap, 8192u, "no growth from churn");
  iotkit__id_set_clear(&s);
}
