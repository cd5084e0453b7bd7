/* Counting confirmations of telemetry sent without a durable queue
   (lib/device/telemetry_direct.c): filed ids, confirmations that come before the
   sender filed its id, and ones that belong to nobody. */
#include <criterion/criterion.h>

#include "device/telemetry_direct.h"

Test(telemetry_direct, filed_then_confirmed) {
  iotkit__tel_direct_t d = {0};
  iotkit_err_t st = IOTKIT_ERR_INTERNAL;
  uint64_t g = iotkit__tel_direct_begin(&d);
  cr_assert_not(iotkit__tel_direct_end(&d, true, 7, g, &st), "not confirmed yet: filed");
  cr_assert_eq(iotkit__tel_direct_in_flight(&d), 1);
  cr_assert(iotkit__tel_direct_delivered(&d, 7, IOTKIT_OK));
  cr_assert_not(iotkit__tel_direct_delivered(&d, 7, IOTKIT_OK), "once");
  cr_assert_eq(iotkit__tel_direct_in_flight(&d), 0);
  iotkit__tel_direct_forget(&d);
}

Test(telemetry_direct, confirmed_before_the_sender_filed_it) {
  iotkit__tel_direct_t d = {0};
  uint64_t g = iotkit__tel_direct_begin(&d);
  cr_assert_not(iotkit__tel_direct_delivered(&d, 9, IOTKIT_ERR_AUTH), "kept for the send in progress");
  iotkit_err_t st = IOTKIT_OK;
  cr_assert(iotkit__tel_direct_end(&d, true, 9, g, &st), "claimed by its sender");
  cr_assert_eq(st, IOTKIT_ERR_AUTH);
  cr_assert_eq(iotkit__tel_direct_in_flight(&d), 0, "nothing left to wait for");
  iotkit__tel_direct_forget(&d);
}

Test(telemetry_direct, a_confirmation_from_before_a_send_is_not_its_own) {
  iotkit__tel_direct_t d = {0};
  uint64_t a = iotkit__tel_direct_begin(&d);
  cr_assert_not(iotkit__tel_direct_delivered(&d, 5, IOTKIT_OK), "another message's, during send a");
  uint64_t b = iotkit__tel_direct_begin(&d); /* overlapping send: a has not ended */
  iotkit_err_t st = IOTKIT_OK;
  cr_assert_not(iotkit__tel_direct_end(&d, true, 5, b, &st), "came before b began: not b's");
  cr_assert_not(iotkit__tel_direct_end(&d, true, 6, a, &st));
  cr_assert_eq(iotkit__tel_direct_in_flight(&d), 2);
  iotkit__tel_direct_forget(&d);
}

Test(telemetry_direct, without_a_send_in_progress_unknown_ids_are_dropped) {
  iotkit__tel_direct_t d = {0};
  cr_assert_not(iotkit__tel_direct_delivered(&d, 3, IOTKIT_OK));
  cr_assert_eq(d.n_early, 0);
  uint64_t g = iotkit__tel_direct_begin(&d);
  iotkit_err_t st = IOTKIT_OK;
  cr_assert_not(iotkit__tel_direct_end(&d, false, 0, g, &st), "a failed send files nothing");
  cr_assert_eq(iotkit__tel_direct_in_flight(&d), 0);
  cr_assert_eq(d.sending, 0);
  iotkit__tel_direct_forget(&d);
}

Test(telemetry_direct, early_confirmations_are_bounded) {
  iotkit__tel_direct_t d = {0};
  uint64_t g = iotkit__tel_direct_begin(&d);
  for (uint32_t id = 100; id < 100 + 3 * IOTKIT__TEL_EARLY_MAX; id++) iotkit__tel_direct_delivered(&d, id, IOTKIT_OK);
  cr_assert_eq(d.n_early, IOTKIT__TEL_EARLY_MAX);
  iotkit_err_t st = IOTKIT_ERR_INTERNAL;
  cr_assert(iotkit__tel_direct_end(&d, true, 100 + 3 * IOTKIT__TEL_EARLY_MAX - 1, g, &st), "the newest is kept");
  cr_assert_eq(st, IOTKIT_OK);
  cr_assert_eq(d.n_early, 0, "no send left: cleared");
  iotkit__tel_direct_forget(&d);
}

Test(telemetry_direct, forget_drops_what_is_in_flight) {
  iotkit__tel_direct_t d = {0};
  uint64_t g = iotkit__tel_direct_begin(&d);
  iotkit_err_t st;
  iotkit__tel_direct_end(&d, true, 1, g, &st);
  iotkit__tel_direct_forget(&d);
  cr_assert_eq(iotkit__tel_direct_in_flight(&d), 0);
  cr_assert_not(iotkit__tel_direct_delivered(&d, 1, IOTKIT_OK), "its session is over");
}
