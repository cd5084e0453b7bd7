/* Pure helpers of the CoAP backend: method of a channel, response codes. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "transport/coap_map.h"

#define CODE(c, d) IOTKIT__COAP_CODE(c, d)

Test(coap_map, reported_state_is_put) {
  cr_assert(iotkit__coap_channel_uses_put("iotkit/v1/dev-1/state/reported"));
  cr_assert(iotkit__coap_channel_uses_put("state/reported"));
}

Test(coap_map, other_channels_are_post) {
  cr_assert_not(iotkit__coap_channel_uses_put("iotkit/v1/dev-1/telemetry"));
  cr_assert_not(iotkit__coap_channel_uses_put("iotkit/v1/dev-1/state/desired"));
  cr_assert_not(iotkit__coap_channel_uses_put("iotkit/v1/dev-1/mystate/reported"));
  cr_assert_not(iotkit__coap_channel_uses_put("iotkit/v1/dev-1/state/reported/x"));
  cr_assert_not(iotkit__coap_channel_uses_put("reported"));
  cr_assert_not(iotkit__coap_channel_uses_put(""));
}

Test(coap_map, null_channel_is_post) { cr_assert_not(iotkit__coap_channel_uses_put(NULL)); }

Test(coap_map, success_codes_are_ok) {
  cr_assert_eq(iotkit__coap_code_to_err(CODE(2, 1)), IOTKIT_OK);
  cr_assert_eq(iotkit__coap_code_to_err(CODE(2, 4)), IOTKIT_OK);
  cr_assert_eq(iotkit__coap_code_to_err(CODE(2, 5)), IOTKIT_OK);
}

Test(coap_map, unauthorized_and_forbidden_are_auth) {
  cr_assert_eq(iotkit__coap_code_to_err(CODE(4, 1)), IOTKIT_ERR_AUTH);
  cr_assert_eq(iotkit__coap_code_to_err(CODE(4, 3)), IOTKIT_ERR_AUTH);
}

Test(coap_map, not_found) { cr_assert_eq(iotkit__coap_code_to_err(CODE(4, 4)), IOTKIT_ERR_NOT_FOUND); }

Test(coap_map, entity_too_large) { cr_assert_eq(iotkit__coap_code_to_err(CODE(4, 13)), IOTKIT_ERR_TOO_LARGE); }

Test(coap_map, overload_is_busy) {
  cr_assert_eq(iotkit__coap_code_to_err(CODE(4, 29)), IOTKIT_ERR_BUSY);
  cr_assert_eq(iotkit__coap_code_to_err(CODE(5, 3)), IOTKIT_ERR_BUSY);
}

Test(coap_map, other_client_errors_are_protocol) {
  cr_assert_eq(iotkit__coap_code_to_err(CODE(4, 0)), IOTKIT_ERR_PROTOCOL);
  cr_assert_eq(iotkit__coap_code_to_err(CODE(4, 5)), IOTKIT_ERR_PROTOCOL);
  cr_assert_eq(iotkit__coap_code_to_err(CODE(4, 15)), IOTKIT_ERR_PROTOCOL);
}

Test(coap_map, server_errors_are_delivery) {
  cr_assert_eq(iotkit__coap_code_to_err(CODE(5, 0)), IOTKIT_ERR_DELIVERY);
  cr_assert_eq(iotkit__coap_code_to_err(CODE(5, 4)), IOTKIT_ERR_DELIVERY);
}

Test(coap_map, other_classes_are_protocol) {
  cr_assert_eq(iotkit__coap_code_to_err(CODE(0, 1)), IOTKIT_ERR_PROTOCOL);
  cr_assert_eq(iotkit__coap_code_to_err(CODE(3, 0)), IOTKIT_ERR_PROTOCOL);
  cr_assert_eq(iotkit__coap_code_to_err(CODE(7, 31)), IOTKIT_ERR_PROTOCOL);
  cr_assert_eq(iotkit__coap_code_to_err(0x1FFu), IOTKIT_ERR_PROTOCOL);
}

Test(coap_map, code_text_known) {
  char buf[48];
  iotkit__coap_code_text(CODE(4, 4), buf, sizeof buf);
  cr_assert_str_eq(buf, "4.04 Not Found");
  iotkit__coap_code_text(CODE(2, 5), buf, sizeof buf);
  cr_assert_str_eq(buf, "2.05 Content");
  iotkit__coap_code_text(CODE(5, 3), buf, sizeof buf);
  cr_assert_str_eq(buf, "5.03 Service Unavailable");
}

Test(coap_map, code_text_unknown_is_digits) {
  char buf[48];
  iotkit__coap_code_text(CODE(4, 30), buf, sizeof buf);
  cr_assert_str_eq(buf, "4.30");
}

Test(coap_map, code_text_truncates) {
  char buf[5];
  iotkit__coap_code_text(CODE(4, 4), buf, sizeof buf);
  cr_assert_str_eq(buf, "4.04");
}

Test(coap_map, channel_path_without_base) {
  char *p = iotkit__coap_channel_path("", "a/b");
  cr_assert_str_eq(p, "/a/b");
  free(p);
  p = iotkit__coap_channel_path(NULL, "a");
  cr_assert_str_eq(p, "/a");
  free(p);
}

Test(coap_map, channel_path_with_base) {
  char *p = iotkit__coap_channel_path("/base/", "a/b");
  cr_assert_str_eq(p, "/base/a/b");
  free(p);
  p = iotkit__coap_channel_path("/", "a");
  cr_assert_str_eq(p, "/a");
  free(p);
}

Test(coap_map, channel_path_null_channel) { cr_assert_null(iotkit__coap_channel_path("/x", NULL)); }

Test(coap_map, hex_decode_ok) {
  unsigned char out[4];
  cr_assert_eq(iotkit__coap_hex_decode("00fFa1", out, sizeof out), 3);
  cr_assert_eq(out[0], 0x00);
  cr_assert_eq(out[1], 0xff);
  cr_assert_eq(out[2], 0xa1);
}

Test(coap_map, hex_decode_odd_length) {
  unsigned char out[4] = {7};
  cr_assert_eq(iotkit__coap_hex_decode("abc", out, sizeof out), -1);
  cr_assert_eq(out[0], 7);
}

Test(coap_map, hex_decode_bad_digit_leaves_output) {
  unsigned char out[4] = {7, 7};
  cr_assert_eq(iotkit__coap_hex_decode("12zz", out, sizeof out), -1);
  cr_assert_eq(out[0], 7);
}

Test(coap_map, hex_decode_too_long) {
  unsigned char out[2];
  cr_assert_eq(iotkit__coap_hex_decode("010203", out, sizeof out), -1);
}

Test(coap_map, hex_decode_empty_or_null) {
  unsigned char out[2];
  cr_assert_eq(iotkit__coap_hex_decode("", out, sizeof out), -1);
  cr_assert_eq(iotkit__coap_hex_decode(NULL, out, sizeof out), -1);
}

/* The codes of an OTA download (fetch.h) */
Test(coap_map, fetch_content_is_ok) { cr_assert_eq(iotkit__coap_fetch_code_to_err(CODE(2, 5)), IOTKIT_OK); }

Test(coap_map, fetch_not_found_and_4_10_are_not_found) {
  cr_assert_eq(iotkit__coap_fetch_code_to_err(CODE(4, 4)), IOTKIT_ERR_NOT_FOUND);
  cr_assert_eq(iotkit__coap_fetch_code_to_err(CODE(4, 10)), IOTKIT_ERR_NOT_FOUND);
}

Test(coap_map, fetch_unauthorized_and_forbidden_are_auth) {
  cr_assert_eq(iotkit__coap_fetch_code_to_err(CODE(4, 1)), IOTKIT_ERR_AUTH);
  cr_assert_eq(iotkit__coap_fetch_code_to_err(CODE(4, 3)), IOTKIT_ERR_AUTH);
}

Test(coap_map, fetch_server_errors_are_ota_server) {
  cr_assert_eq(iotkit__coap_fetch_code_to_err(CODE(5, 0)), IOTKIT_ERR_OTA_SERVER);
  cr_assert_eq(iotkit__coap_fetch_code_to_err(CODE(5, 3)), IOTKIT_ERR_OTA_SERVER);
}

Test(coap_map, fetch_other_client_errors_are_protocol) {
  cr_assert_eq(iotkit__coap_fetch_code_to_err(CODE(4, 0)), IOTKIT_ERR_PROTOCOL);
  cr_assert_eq(iotkit__coap_fetch_code_to_err(CODE(4, 2)), IOTKIT_ERR_PROTOCOL);
  cr_assert_eq(iotkit__coap_fetch_code_to_err(CODE(4, 13)), IOTKIT_ERR_PROTOCOL);
  cr_assert_eq(iotkit__coap_fetch_code_to_err(CODE(4, 29)), IOTKIT_ERR_PROTOCOL);
}

Test(coap_map, fetch_out_of_range_code_is_protocol) {
  cr_assert_eq(iotkit__coap_fetch_code_to_err(0x100u), IOTKIT_ERR_PROTOCOL);
}
