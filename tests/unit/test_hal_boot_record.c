/* The A/B boot record encoding shared by the shipped HALs (internal API). */
#include <criterion/criterion.h>
#include <string.h>

#include "hal/hal_internal.h"

static iotkit__hal_boot_record_t sample(void) {
  iotkit__hal_boot_record_t r;
  iotkit__hal_boot_record_init(&r);
  r.active = 1;
  r.pending = 0;
  r.confirmed = false;
  r.trial_boots = 3;
  r.size[0] = 0x0102030405ull;
  r.size[1] = 77;
  return r;
}

Test(hal_boot_record, factory_state) {
  iotkit__hal_boot_record_t r;
  iotkit__hal_boot_record_init(&r);
  cr_assert_eq(r.active, 0);
  cr_assert_eq(r.pending, -1);
  cr_assert(r.confirmed);
  cr_assert_eq(r.trial_boots, 0);
}

Test(hal_boot_record, roundtrip) {
  iotkit__hal_boot_record_t in = sample(), out;
  uint8_t raw[IOTKIT__HAL_BOOT_RECORD_SIZE];
  iotkit__hal_boot_record_encode(&in, raw);
  cr_assert_eq(iotkit__hal_boot_record_decode(raw, sizeof(raw), &out), IOTKIT_OK);
  cr_assert_eq(out.active, 1);
  cr_assert_eq(out.pending, 0);
  cr_assert_not(out.confirmed);
  cr_assert_eq(out.trial_boots, 3);
  cr_assert_eq(out.size[0], 0x0102030405ull);
  cr_assert_eq(out.size[1], 77);
}

Test(hal_boot_record, no_pending_roundtrip) {
  iotkit__hal_boot_record_t in, out;
  iotkit__hal_boot_record_init(&in);
  uint8_t raw[IOTKIT__HAL_BOOT_RECORD_SIZE];
  iotkit__hal_boot_record_encode(&in, raw);
  cr_assert_eq(iotkit__hal_boot_record_decode(raw, sizeof(raw), &out), IOTKIT_OK);
  cr_assert_eq(out.pending, -1);
}

Test(hal_boot_record, wrong_length_is_corrupt) {
  iotkit__hal_boot_record_t in = sample(), out;
  uint8_t raw[IOTKIT__HAL_BOOT_RECORD_SIZE];
  iotkit__hal_boot_record_encode(&in, raw);
  cr_assert_eq(iotkit__hal_boot_record_decode(raw, sizeof(raw) - 1, &out), IOTKIT_ERR_CORRUPT);
}

/* Every single flipped byte is caught. */
Test(hal_boot_record, any_flipped_byte_is_corrupt) {
  iotkit__hal_boot_record_t in = sample(), out;
  out.active = 42;
  uint8_t raw[IOTKIT__HAL_BOOT_RECORD_SIZE];
  for (size_t i = 0; i < sizeof(raw); i++) {
    iotkit__hal_boot_record_encode(&in, raw);
    raw[i] ^= 0x10;
    cr_assert_eq(iotkit__hal_boot_record_decode(raw, sizeof(raw), &out), IOTKIT_ERR_CORRUPT, "byte %zu", i);
    cr_assert_eq(out.active, 42, "output untouched");
  }
}

Test(hal_boot_record, out_of_range_slot_is_corrupt) {
  iotkit__hal_boot_record_t in = sample(), out;
  in.active = IOTKIT_HAL_SLOT_COUNT;
  uint8_t raw[IOTKIT__HAL_BOOT_RECORD_SIZE];
  iotkit__hal_boot_record_encode(&in, raw);
  cr_assert_eq(iotkit__hal_boot_record_decode(raw, sizeof(raw), &out), IOTKIT_ERR_CORRUPT);
}

Test(hal_boot_record, span_overflow_is_too_large) {
  cr_assert_eq(iotkit__hal_slot_check_span(UINT64_MAX, "a", 1, 100), IOTKIT_ERR_TOO_LARGE);
  cr_assert_eq(iotkit__hal_slot_check_span(99, "a", 1, 100), IOTKIT_OK);
  cr_assert_eq(iotkit__hal_slot_check_span(100, "a", 1, 100), IOTKIT_ERR_TOO_LARGE);
  cr_assert_eq(iotkit__hal_slot_check_span(100, NULL, 0, 100), IOTKIT_OK);
  cr_assert_eq(iotkit__hal_slot_check_span(0, NULL, 1, 100), IOTKIT_ERR_INVALID_ARG);
}
