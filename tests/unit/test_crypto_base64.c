/* Base64 and base64url: RFC 4648 section 10 vectors and strict decoding. */
#include "test_crypto_util.h"

static const char *const RFC4648[][2] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},
                                         {"foo", "Zm9v"},  {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
                                         {"foobar", "Zm9vYmFy"}};

Test(base64, rfc4648_section10_encode) {
  for (size_t i = 0; i < sizeof RFC4648 / sizeof RFC4648[0]; i++) {
    char out[16];
    size_t n = 99;
    cr_assert_eq(iotkit_base64_encode(RFC4648[i][0], strlen(RFC4648[i][0]), out, sizeof out, &n), IOTKIT_OK);
    cr_assert_str_eq(out, RFC4648[i][1]);
    cr_assert_eq(n, strlen(RFC4648[i][1]));
  }
}

Test(base64, rfc4648_section10_decode) {
  for (size_t i = 0; i < sizeof RFC4648 / sizeof RFC4648[0]; i++) {
    uint8_t out[16];
    size_t n = 99;
    cr_assert_eq(iotkit_base64_decode(RFC4648[i][1], strlen(RFC4648[i][1]), out, sizeof out, &n), IOTKIT_OK);
    cr_assert_eq(n, strlen(RFC4648[i][0]));
    cr_assert(memcmp(out, RFC4648[i][0], n) == 0);
  }
}

Test(base64url, rfc4648_vectors_without_padding) {
  for (size_t i = 0; i < sizeof RFC4648 / sizeof RFC4648[0]; i++) {
    char want[16], out[16];
    size_t wl = strcspn(RFC4648[i][1], "=");
    memcpy(want, RFC4648[i][1], wl);
    want[wl] = '\0';
    cr_assert_eq(iotkit_base64url_encode(RFC4648[i][0], strlen(RFC4648[i][0]), out, sizeof out, NULL), IOTKIT_OK);
    cr_assert_str_eq(out, want);
    uint8_t back[16];
    size_t n;
    cr_assert_eq(iotkit_base64url_decode(want, wl, back, sizeof back, &n), IOTKIT_OK);
    cr_assert_eq(n, strlen(RFC4648[i][0]));
    cr_assert(memcmp(back, RFC4648[i][0], n) == 0);
  }
}

Test(base64url, uses_url_alphabet) {
  const uint8_t data[] = {0xfb, 0xff, 0xbf};
  char std[8], url[8];
  cr_assert_eq(iotkit_base64_encode(data, 3, std, sizeof std, NULL), IOTKIT_OK);
  cr_assert_eq(iotkit_base64url_encode(data, 3, url, sizeof url, NULL), IOTKIT_OK);
  cr_assert_str_eq(std, "+/+/");
  cr_assert_str_eq(url, "-_-_");
}

Test(base64, encode_buffer_too_small_reports_size_and_leaves_output) {
  char out[8] = "zzzzzzz";
  size_t n = 0;
  cr_assert_eq(iotkit_base64_encode("foob", 4, out, 8, &n), IOTKIT_ERR_BUFFER_TOO_SMALL);
  cr_assert_eq(n, 9);
  cr_assert_eq(n, IOTKIT_BASE64_ENCODED_SIZE(4));
  cr_assert_str_eq(out, "zzzzzzz");
}

Test(base64, decode_buffer_too_small_reports_size) {
  uint8_t out[5] = {0};
  size_t n = 0;
  cr_assert_eq(iotkit_base64_decode("Zm9vYmFy", 8, out, 5, &n), IOTKIT_ERR_BUFFER_TOO_SMALL);
  cr_assert_eq(n, 6);
}

typedef iotkit_err_t (*decode_fn)(const char *, size_t, void *, size_t, size_t *);

/* A rejected input gives BAD_ENCODING and leaves both outputs untouched. */
static void bad(decode_fn decode, const char *in) {
  uint8_t out[32] = {0};
  size_t n = 1234;
  cr_assert_eq(decode(in, strlen(in), out, sizeof out, &n), IOTKIT_ERR_BAD_ENCODING, "%s", in);
  cr_assert_eq(n, 1234);
  cr_assert_eq(out[0], 0);
}

static void bad_std(const char *in) { bad(iotkit_base64_decode, in); }
static void bad_url(const char *in) { bad(iotkit_base64url_decode, in); }

Test(base64, rejects_missing_padding) { bad_std("Zg"); }
Test(base64, rejects_length_not_multiple_of_4) { bad_std("Zm9vY"); }
Test(base64, rejects_character_outside_alphabet) { bad_std("Zm9v!mFy"); }
Test(base64, rejects_url_alphabet_letter) { bad_std("Zm9-"); }
Test(base64, rejects_whitespace) { bad_std("Zm9v YmFy"); }
Test(base64, rejects_padding_in_the_middle) { bad_std("Zg==Zm8="); }
Test(base64, rejects_too_much_padding) { bad_std("Z==="); }
Test(base64, rejects_equals_then_letter) { bad_std("Zm=v"); }
Test(base64, rejects_nonzero_unused_bits) { bad_std("Zh=="); }
Test(base64, rejects_nul_inside_length) {
  uint8_t out[8];
  size_t n;
  cr_assert_eq(iotkit_base64_decode("Zm\0v", 4, out, sizeof out, &n), IOTKIT_ERR_BAD_ENCODING);
}

Test(base64url, rejects_padding) { bad_url("Zg=="); }
Test(base64url, rejects_length_4k_plus_1) { bad_url("Zm9vY"); }
Test(base64url, rejects_standard_alphabet_letter) { bad_url("Zm9+"); }
Test(base64url, rejects_nonzero_unused_bits) { bad_url("Zh"); }

Test(base64, null_args) {
  char out[8];
  size_t n;
  cr_assert_eq(iotkit_base64_encode(NULL, 1, out, sizeof out, &n), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_base64_encode("a", 1, NULL, 8, &n), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_base64_decode(NULL, 4, out, sizeof out, &n), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_base64_decode("Zm9v", 4, NULL, 8, &n), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_base64_decode("Zm9v", 4, out, sizeof out, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_base64url_encode(NULL, 1, out, sizeof out, &n), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_base64url_decode(NULL, 4, out, sizeof out, &n), IOTKIT_ERR_INVALID_ARG);
}

Test(base64, roundtrip_all_lengths) {
  uint8_t data[70], back[70];
  char text[IOTKIT_BASE64_ENCODED_SIZE(70)];
  for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)(i * 37 + 11);
  for (size_t len = 0; len <= sizeof data; len++) {
    size_t tl, bl;
    cr_assert_eq(iotkit_base64_encode(data, len, text, sizeof text, &tl), IOTKIT_OK);
    cr_assert_eq(iotkit_base64_decode(text, tl, back, sizeof back, &bl), IOTKIT_OK);
    cr_assert_eq(bl, len);
    cr_assert(memcmp(back, data, len) == 0);
    cr_assert_eq(iotkit_base64url_encode(data, len, text, sizeof text, &tl), IOTKIT_OK);
    cr_assert_eq(iotkit_base64url_decode(text, tl, back, sizeof back, &bl), IOTKIT_OK);
    cr_assert_eq(bl, len);
    cr_assert(memcmp(back, data, len) == 0);
  }
}

/* ---------------------------------------------------- compare, random -- */

Test(crypto_equal, equal_and_different) {
  cr_assert(iotkit_crypto_equal("abcd", "abcd", 4));
  cr_assert_not(iotkit_crypto_equal("abcd", "abce", 4));
  cr_assert_not(iotkit_crypto_equal("xbcd", "abcd", 4));
  cr_assert(iotkit_crypto_equal(NULL, NULL, 0));
}

Test(crypto_equal, null_with_length_is_not_equal) {
  cr_assert_not(iotkit_crypto_equal(NULL, "a", 1));
  cr_assert_not(iotkit_crypto_equal("a", NULL, 1));
}

Test(crypto_random, fills_from_hal) {
  uint64_t counter = 0;
  iotkit_hal_t hal;
  test_hal(&hal, &counter);
  uint8_t a[40] = {0}, b[40] = {0};
  cr_assert_eq(iotkit_crypto_random(&hal, a, sizeof a), IOTKIT_OK);
  cr_assert_eq(iotkit_crypto_random(&hal, b, sizeof b), IOTKIT_OK);
  cr_assert(memcmp(a, b, sizeof a) != 0);
  cr_assert_eq(counter, 4); /* two 32-byte blocks per call: the HAL was used */
}

Test(crypto_random, hal_without_random_is_unsupported) {
  iotkit_hal_t hal;
  memset(&hal, 0, sizeof hal);
  uint8_t buf[4];
  cr_assert_eq(iotkit_crypto_random(&hal, buf, sizeof buf), IOTKIT_ERR_UNSUPPORTED);
}

Test(crypto_random, failing_hal_error_returned_and_buffer_zeroed) {
  uint64_t counter = 0;
  iotkit_hal_t hal;
  test_hal(&hal, &counter);
  hal.random = failing_random;
  uint8_t buf[8];
  memset(buf, 0x11, sizeof buf);
  cr_assert_eq(iotkit_crypto_random(&hal, buf, sizeof buf), IOTKIT_ERR_IO);
  for (size_t i = 0; i < sizeof buf; i++) cr_assert_eq(buf[i], 0);
}

Test(crypto_random, null_args) {
  uint64_t counter = 0;
  iotkit_hal_t hal;
  test_hal(&hal, &counter);
  uint8_t buf[IOTKIT_AES256GCM_NONCE_LEN];
  cr_assert_eq(iotkit_crypto_random(NULL, buf, 4), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_crypto_random(&hal, NULL, 4), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_aes256gcm_nonce(&hal, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_aes256gcm_nonce(NULL, buf), IOTKIT_ERR_INVALID_ARG);
}
