/* AES-256-GCM: McGrew-Viega GCM specification Test Cases 13-16 and tampering. */
#include "test_crypto_util.h"

typedef struct {
  const char *key, *iv, *pt, *aad, *ct, *tag;
} gcm_vector_t;

#define TC15_KEY "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"
#define TC15_IV "cafebabefacedbaddecaf888"
#define TC15_PT                                                                                                       \
  "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"                                                  \
  "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
#define TC15_CT                                                                                                       \
  "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"                                                  \
  "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"

static const gcm_vector_t TC13 = {"0000000000000000000000000000000000000000000000000000000000000000",
                                  "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"};
static const gcm_vector_t TC14 = {"0000000000000000000000000000000000000000000000000000000000000000",
                                  "000000000000000000000000",
                                  "00000000000000000000000000000000",
                                  "",
                                  "cea7403d4d606b6e074ec5d3baf39d18",
                                  "d0d1c8a799996bf0265b98b5d48ab919"};
static const gcm_vector_t TC15 = {TC15_KEY, TC15_IV, TC15_PT "1aafd255", "", TC15_CT "898015ad",
                                  "b094dac5d93471bdec1a502270e3cc6c"};
static const gcm_vector_t TC16 = {TC15_KEY, TC15_IV, TC15_PT, "feedfacedeadbeeffeedfacedeadbeefabaddad2", TC15_CT,
                                  "76fc6ece0f4e1768cddf8853bb2d551b"};

/* The vector's byte strings, decoded. */
typedef struct {
  uint8_t *key, *iv, *pt, *aad, *ct, *tag;
  size_t len, aad_len;
} gcm_bytes_t;

static gcm_bytes_t load(const gcm_vector_t *v) {
  gcm_bytes_t b;
  size_t n;
  b.key = hex(v->key, &n);
  cr_assert_eq(n, 32);
  b.iv = hex(v->iv, &n);
  cr_assert_eq(n, 12);
  b.pt = hex(v->pt, &b.len);
  b.aad = hex(v->aad, &b.aad_len);
  b.ct = hex(v->ct, &n);
  cr_assert_eq(n, b.len);
  b.tag = hex(v->tag, &n);
  cr_assert_eq(n, 16);
  return b;
}

static void unload(gcm_bytes_t *b) {
  free(b->key);
  free(b->iv);
  free(b->pt);
  free(b->aad);
  free(b->ct);
  free(b->tag);
}

static void check_vector(const gcm_vector_t *v) {
  gcm_bytes_t b = load(v);
  uint8_t out[64], tag[16];
  cr_assert_eq(iotkit_aes256gcm_seal(b.key, b.iv, b.aad, b.aad_len, b.pt, b.len, out, tag), IOTKIT_OK);
  cr_assert(memcmp(out, b.ct, b.len) == 0, "ciphertext");
  assert_hex(tag, 16, v->tag);
  uint8_t back[64];
  cr_assert_eq(iotkit_aes256gcm_open(b.key, b.iv, b.aad, b.aad_len, b.ct, b.len, b.tag, back), IOTKIT_OK);
  cr_assert(memcmp(back, b.pt, b.len) == 0, "plaintext");
  unload(&b);
}

Test(aes256gcm, gcm_spec_test_case_13) { check_vector(&TC13); }
Test(aes256gcm, gcm_spec_test_case_14) { check_vector(&TC14); }
Test(aes256gcm, gcm_spec_test_case_15) { check_vector(&TC15); }
Test(aes256gcm, gcm_spec_test_case_16_with_aad) { check_vector(&TC16); }

Test(aes256gcm, in_place_seal_and_open) {
  gcm_bytes_t b = load(&TC16);
  uint8_t buf[64], tag[16];
  memcpy(buf, b.pt, b.len);
  cr_assert_eq(iotkit_aes256gcm_seal(b.key, b.iv, b.aad, b.aad_len, buf, b.len, buf, tag), IOTKIT_OK);
  cr_assert(memcmp(buf, b.ct, b.len) == 0);
  cr_assert_eq(iotkit_aes256gcm_open(b.key, b.iv, b.aad, b.aad_len, buf, b.len, tag, buf), IOTKIT_OK);
  cr_assert(memcmp(buf, b.pt, b.len) == 0);
  unload(&b);
}

/* Open the TC16 vector after `alter` changed one input: authentication must fail and no plaintext come out. */
static void expect_auth_failure(void (*alter)(gcm_bytes_t *)) {
  gcm_bytes_t b = load(&TC16);
  alter(&b);
  uint8_t out[64];
  memset(out, 0x5a, sizeof out);
  cr_assert_eq(iotkit_aes256gcm_open(b.key, b.iv, b.aad, b.aad_len, b.ct, b.len, b.tag, out), IOTKIT_ERR_CRYPTO_AUTH);
  for (size_t i = 0; i < b.len; i++) cr_assert_eq(out[i], 0, "plaintext byte %zu released", i);
  unload(&b);
}

static void flip_ct(gcm_bytes_t *b) { b->ct[7] ^= 0x01; }
static void flip_last_ct(gcm_bytes_t *b) { b->ct[b->len - 1] ^= 0x80; }
static void flip_tag(gcm_bytes_t *b) { b->tag[15] ^= 0x01; }
static void flip_aad(gcm_bytes_t *b) { b->aad[0] ^= 0x01; }
static void drop_aad(gcm_bytes_t *b) { b->aad_len = 0; }
static void flip_nonce(gcm_bytes_t *b) { b->iv[11] ^= 0x01; }
static void flip_key(gcm_bytes_t *b) { b->key[0] ^= 0x01; }
static void truncate_ct(gcm_bytes_t *b) { b->len -= 1; }

Test(aes256gcm, tampered_ciphertext_is_auth_error) { expect_auth_failure(flip_ct); }
Test(aes256gcm, tampered_last_ciphertext_byte_is_auth_error) { expect_auth_failure(flip_last_ct); }
Test(aes256gcm, tampered_tag_is_auth_error) { expect_auth_failure(flip_tag); }
Test(aes256gcm, tampered_aad_is_auth_error) { expect_auth_failure(flip_aad); }
Test(aes256gcm, missing_aad_is_auth_error) { expect_auth_failure(drop_aad); }
Test(aes256gcm, other_nonce_is_auth_error) { expect_auth_failure(flip_nonce); }
Test(aes256gcm, other_key_is_auth_error) { expect_auth_failure(flip_key); }
Test(aes256gcm, truncated_ciphertext_is_auth_error) { expect_auth_failure(truncate_ct); }

Test(aes256gcm, tampered_in_place_open_zeroes_buffer) {
  gcm_bytes_t b = load(&TC16);
  b.tag[0] ^= 1;
  cr_assert_eq(iotkit_aes256gcm_open(b.key, b.iv, b.aad, b.aad_len, b.ct, b.len, b.tag, b.ct), IOTKIT_ERR_CRYPTO_AUTH);
  for (size_t i = 0; i < b.len; i++) cr_assert_eq(b.ct[i], 0);
  unload(&b);
}

Test(aes256gcm, random_nonce_from_hal_roundtrip) {
  uint64_t counter = 0;
  iotkit_hal_t hal;
  test_hal(&hal, &counter);
  uint8_t key[32], n1[12], n2[12], ct[5], tag[16], back[5];
  cr_assert_eq(iotkit_crypto_random(&hal, key, sizeof key), IOTKIT_OK);
  cr_assert_eq(iotkit_aes256gcm_nonce(&hal, n1), IOTKIT_OK);
  cr_assert_eq(iotkit_aes256gcm_nonce(&hal, n2), IOTKIT_OK);
  cr_assert(memcmp(n1, n2, 12) != 0);
  cr_assert_eq(iotkit_aes256gcm_seal(key, n1, "hdr", 3, "hello", 5, ct, tag), IOTKIT_OK);
  cr_assert_eq(iotkit_aes256gcm_open(key, n1, "hdr", 3, ct, 5, tag, back), IOTKIT_OK);
  cr_assert(memcmp(back, "hello", 5) == 0);
}

Test(aes256gcm, null_args) {
  uint8_t key[32] = {0}, iv[12] = {0}, tag[16] = {0}, buf[4] = {0};
  cr_assert_eq(iotkit_aes256gcm_seal(NULL, iv, NULL, 0, buf, 4, buf, tag), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_aes256gcm_seal(key, NULL, NULL, 0, buf, 4, buf, tag), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_aes256gcm_seal(key, iv, NULL, 3, buf, 4, buf, tag), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_aes256gcm_seal(key, iv, NULL, 0, NULL, 4, buf, tag), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_aes256gcm_seal(key, iv, NULL, 0, buf, 4, NULL, tag), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_aes256gcm_seal(key, iv, NULL, 0, buf, 4, buf, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_aes256gcm_open(NULL, iv, NULL, 0, buf, 4, tag, buf), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_aes256gcm_open(key, iv, NULL, 0, buf, 4, NULL, buf), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_aes256gcm_open(key, iv, NULL, 0, buf, 4, tag, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_aes256gcm_open(key, iv, NULL, 0, NULL, 4, tag, buf), IOTKIT_ERR_INVALID_ARG);
}
