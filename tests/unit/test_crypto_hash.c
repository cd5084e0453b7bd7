/* SHA-256 (FIPS 180-2 examples), HMAC-SHA256 (RFC 4231) and HKDF-SHA256 (RFC 5869). */
#include "test_crypto_util.h"

static void check_sha(const char *msg, const char *want) {
  uint8_t d[32];
  cr_assert_eq(iotkit_sha256(msg, strlen(msg), d), IOTKIT_OK);
  assert_hex(d, 32, want);
}

Test(sha256, nist_abc) { check_sha("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"); }

Test(sha256, nist_empty) { check_sha("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"); }

Test(sha256, nist_448_bits) {
  check_sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

Test(sha256, nist_million_a_streaming) {
  iotkit_sha256_t *h = NULL;
  cr_assert_eq(iotkit_sha256_new(&h), IOTKIT_OK);
  char block[1000];
  memset(block, 'a', sizeof block);
  for (int i = 0; i < 1000; i++) cr_assert_eq(iotkit_sha256_update(h, block, sizeof block), IOTKIT_OK);
  uint8_t d[32];
  cr_assert_eq(iotkit_sha256_final(h, d), IOTKIT_OK);
  assert_hex(d, 32, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  iotkit_sha256_free(h);
}

Test(sha256, streaming_split_matches_one_shot_and_final_resets) {
  iotkit_sha256_t *h = NULL;
  cr_assert_eq(iotkit_sha256_new(&h), IOTKIT_OK);
  cr_assert_eq(iotkit_sha256_update(h, "a", 1), IOTKIT_OK);
  cr_assert_eq(iotkit_sha256_update(h, NULL, 0), IOTKIT_OK);
  cr_assert_eq(iotkit_sha256_update(h, "bc", 2), IOTKIT_OK);
  uint8_t d[32];
  cr_assert_eq(iotkit_sha256_final(h, d), IOTKIT_OK);
  assert_hex(d, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  /* After final the handle hashes a new message from empty. */
  cr_assert_eq(iotkit_sha256_final(h, d), IOTKIT_OK);
  assert_hex(d, 32, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  iotkit_sha256_free(h);
}

Test(sha256, null_args) {
  uint8_t d[32];
  iotkit_sha256_t *h = NULL;
  cr_assert_eq(iotkit_sha256(NULL, 1, d), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_sha256("a", 1, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_sha256_new(NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_sha256_update(NULL, "a", 1), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_sha256_new(&h), IOTKIT_OK);
  cr_assert_eq(iotkit_sha256_update(h, NULL, 3), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_sha256_final(h, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_sha256_final(NULL, d), IOTKIT_ERR_INVALID_ARG);
  iotkit_sha256_free(h);
  iotkit_sha256_free(NULL);
}

/* ------------------------------------------------------------ RFC 4231 -- */

static void check_hmac(const uint8_t *key, size_t klen, const void *data, size_t dlen, const char *want) {
  uint8_t tag[32];
  cr_assert_eq(iotkit_hmac_sha256(key, klen, data, dlen, tag), IOTKIT_OK);
  assert_hex(tag, 32, want);
}

Test(hmac_sha256, rfc4231_case1) {
  uint8_t key[20];
  memset(key, 0x0b, sizeof key);
  check_hmac(key, 20, "Hi There", 8, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

Test(hmac_sha256, rfc4231_case2) {
  const char *d = "what do ya want for nothing?";
  check_hmac((const uint8_t *)"Jefe", 4, d, strlen(d),
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

Test(hmac_sha256, rfc4231_case3) {
  uint8_t key[20], data[50];
  memset(key, 0xaa, sizeof key);
  memset(data, 0xdd, sizeof data);
  check_hmac(key, 20, data, 50, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
}

Test(hmac_sha256, rfc4231_case4) {
  size_t klen;
  uint8_t *key = hex("0102030405060708090a0b0c0d0e0f10111213141516171819", &klen);
  uint8_t data[50];
  memset(data, 0xcd, sizeof data);
  check_hmac(key, klen, data, 50, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
  free(key);
}

Test(hmac_sha256, rfc4231_case6_key_larger_than_block) {
  uint8_t key[131];
  memset(key, 0xaa, sizeof key);
  const char *d = "Test Using Larger Than Block-Size Key - Hash Key First";
  check_hmac(key, 131, d, strlen(d), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

Test(hmac_sha256, rfc4231_case7_key_and_data_larger_than_block) {
  uint8_t key[131];
  memset(key, 0xaa, sizeof key);
  const char *d = "This is a test using a larger than block-size key and a larger than block-size data. "
                  "The key needs to be hashed before being used by the HMAC algorithm.";
  check_hmac(key, 131, d, strlen(d), "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

Test(hmac_sha256, null_args) {
  uint8_t tag[32];
  cr_assert_eq(iotkit_hmac_sha256(NULL, 4, "x", 1, tag), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_hmac_sha256("k", 1, NULL, 1, tag), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_hmac_sha256("k", 1, "x", 1, NULL), IOTKIT_ERR_INVALID_ARG);
}

/* ------------------------------------------------------------ RFC 5869 -- */

static void check_hkdf(const char *ikm_hex, const char *salt_hex, const char *info_hex, size_t l,
                       const char *okm_hex) {
  size_t ikm_len, salt_len, info_len;
  uint8_t *ikm = hex(ikm_hex, &ikm_len), *salt = hex(salt_hex, &salt_len), *info = hex(info_hex, &info_len);
  uint8_t okm[128];
  cr_assert_eq(iotkit_hkdf_sha256(salt, salt_len, ikm, ikm_len, info, info_len, okm, l), IOTKIT_OK);
  assert_hex(okm, l, okm_hex);
  free(ikm);
  free(salt);
  free(info);
}

Test(hkdf_sha256, rfc5869_case1) {
  check_hkdf("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "000102030405060708090a0b0c", "f0f1f2f3f4f5f6f7f8f9", 42,
             "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

Test(hkdf_sha256, rfc5869_case2_long_inputs) {
  check_hkdf("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
             "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
             "404142434445464748494a4b4c4d4e4f",
             "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
             "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
             "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
             "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
             "d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef"
             "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
             82,
             "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
             "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
             "cc30c58179ec3e87c14c01d5c1f3434f1d87");
}

Test(hkdf_sha256, rfc5869_case3_empty_salt_and_info) {
  size_t ikm_len;
  uint8_t *ikm = hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", &ikm_len);
  uint8_t okm[42];
  cr_assert_eq(iotkit_hkdf_sha256(NULL, 0, ikm, ikm_len, NULL, 0, okm, 42), IOTKIT_OK);
  assert_hex(okm, 42, "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
  free(ikm);
}

Test(hkdf_sha256, zero_length_output_is_invalid) {
  uint8_t okm[1] = {0x55};
  cr_assert_eq(iotkit_hkdf_sha256(NULL, 0, "k", 1, NULL, 0, okm, 0), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(okm[0], 0x55);
}

Test(hkdf_sha256, output_longer_than_255_blocks_is_invalid) {
  static uint8_t okm[IOTKIT_HKDF_SHA256_MAX_LEN + 1];
  cr_assert_eq(iotkit_hkdf_sha256(NULL, 0, "k", 1, NULL, 0, okm, sizeof okm), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_hkdf_sha256(NULL, 0, "k", 1, NULL, 0, okm, IOTKIT_HKDF_SHA256_MAX_LEN), IOTKIT_OK);
}

Test(hkdf_sha256, null_args) {
  uint8_t okm[32];
  cr_assert_eq(iotkit_hkdf_sha256(NULL, 3, "k", 1, NULL, 0, okm, 32), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_hkdf_sha256(NULL, 0, NULL, 1, NULL, 0, okm, 32), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_hkdf_sha256(NULL, 0, "k", 1, NULL, 2, okm, 32), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_hkdf_sha256(NULL, 0, "k", 1, NULL, 0, NULL, 32), IOTKIT_ERR_INVALID_ARG);
}
