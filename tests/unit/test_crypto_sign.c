/* Signatures: RFC 8032 Ed25519 vectors, RFC 7515 A.2 (RS256) and A.3 (ES256), RSA-PSS, and bad inputs. */
#include "test_crypto_keys.h"
#include "test_crypto_util.h"

static iotkit_key_t *ed25519_key(const char *seed_hex, const char *pub_hex, bool with_private) {
  size_t sl, pl;
  uint8_t *seed = hex(seed_hex, &sl), *pub = hex(pub_hex, &pl);
  iotkit_key_t *k = NULL;
  cr_assert_eq(iotkit_key_from_raw(IOTKIT_KEY_ED25519, with_private ? seed : NULL, with_private ? sl : 0, pub, pl, &k),
               IOTKIT_OK);
  free(seed);
  free(pub);
  return k;
}

/* RFC 8032 section 7.1: the signature is deterministic, so both directions are checked. */
static void check_rfc8032(const char *seed, const char *pub, const char *msg_hex, const char *sig_hex) {
  iotkit_key_t *k = ed25519_key(seed, pub, true), *p = ed25519_key(seed, pub, false);
  size_t ml;
  uint8_t *msg = hex(msg_hex, &ml);
  uint8_t sig[64];
  size_t n = 0;
  cr_assert_eq(iotkit_sign(k, IOTKIT_SIG_ED25519, msg, ml, sig, sizeof sig, &n), IOTKIT_OK);
  assert_hex(sig, n, sig_hex);
  cr_assert_eq(iotkit_verify(p, IOTKIT_SIG_ED25519, msg, ml, sig, n), IOTKIT_OK);
  sig[63] ^= 0x01;
  cr_assert_eq(iotkit_verify(p, IOTKIT_SIG_ED25519, msg, ml, sig, n), IOTKIT_ERR_BAD_SIGNATURE);
  free(msg);
  iotkit_key_free(k);
  iotkit_key_free(p);
}

Test(ed25519, rfc8032_test1) {
  check_rfc8032("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
                "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
                "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5"
                "f0595bbe24655141438e7a100b");
}

Test(ed25519, rfc8032_test2) {
  check_rfc8032("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
                "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
                "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2e"
                "aeb4302aeeb00d291612bb0c00");
}

Test(ed25519, rfc8032_test3) {
  check_rfc8032("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
                "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
                "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15"
                "e9716ed28dc027beceea1ec40a");
}

Test(ed25519, rfc8032_test_sha_abc) {
  check_rfc8032("833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
                "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
                "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
                "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b589"
                "09351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704");
}

Test(ed25519, seed_with_mismatched_public_is_bad_key) {
  size_t sl, pl;
  uint8_t *seed = hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", &sl);
  uint8_t *pub = hex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", &pl);
  iotkit_key_t *k = NULL;
  cr_assert_eq(iotkit_key_from_raw(IOTKIT_KEY_ED25519, seed, sl, pub, pl, &k), IOTKIT_ERR_BAD_KEY);
  cr_assert_null(k);
  free(seed);
  free(pub);
}

Test(ed25519, message_altered_is_bad_signature) {
  iotkit_key_t *k = ed25519_key("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
                                "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", true);
  uint8_t sig[64];
  size_t n;
  cr_assert_eq(iotkit_sign(k, IOTKIT_SIG_ED25519, "\x72", 1, sig, sizeof sig, &n), IOTKIT_OK);
  cr_assert_eq(iotkit_verify(k, IOTKIT_SIG_ED25519, "\x73", 1, sig, n), IOTKIT_ERR_BAD_SIGNATURE);
  iotkit_key_free(k);
}

/* ------------------------------------------------------ RFC 7515 A.2/A.3 -- */

#define RFC7515_SIGNING_INPUT                                                                                         \
  "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVl" \
  "fQ"
#define RFC7515_A2_SIG                                                                                                \
  "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t" \
  "1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12j" \
  "zDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQ" \
  "Ge77Rw"
#define RFC7515_A3_SIGNING_INPUT                                                                                      \
  "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVl" \
  "fQ"
#define RFC7515_A3_SIG "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"

static iotkit_key_t *load(const char *pem) {
  iotkit_key_t *k = NULL;
  cr_assert_eq(iotkit_key_load(pem, strlen(pem), &k), IOTKIT_OK);
  return k;
}

static size_t b64url(const char *text, uint8_t *out, size_t cap) {
  size_t n = 0;
  cr_assert_eq(iotkit_base64url_decode(text, strlen(text), out, cap, &n), IOTKIT_OK);
  return n;
}

Test(rsa_pkcs1, rfc7515_a2_rs256_sign_is_exact_and_verifies) {
  iotkit_key_t *k = load(RFC7515_RSA_PRIV_PEM), *pub = load(RFC7515_RSA_PUB_PEM);
  uint8_t want[256], sig[IOTKIT_SIG_MAX_LEN];
  cr_assert_eq(b64url(RFC7515_A2_SIG, want, sizeof want), 256);
  size_t n = 0;
  cr_assert_eq(iotkit_key_signature_size(k), 256);
  cr_assert_eq(iotkit_sign(k, IOTKIT_SIG_RSA_PKCS1_SHA256, RFC7515_SIGNING_INPUT, strlen(RFC7515_SIGNING_INPUT), sig,
                           sizeof sig, &n),
               IOTKIT_OK);
  cr_assert_eq(n, 256);
  cr_assert(memcmp(sig, want, 256) == 0);
  cr_assert_eq(iotkit_verify(pub, IOTKIT_SIG_RSA_PKCS1_SHA256, RFC7515_SIGNING_INPUT, strlen(RFC7515_SIGNING_INPUT),
                             want, 256),
               IOTKIT_OK);
  want[100] ^= 0x04;
  cr_assert_eq(iotkit_verify(pub, IOTKIT_SIG_RSA_PKCS1_SHA256, RFC7515_SIGNING_INPUT, strlen(RFC7515_SIGNING_INPUT),
                             want, 256),
               IOTKIT_ERR_BAD_SIGNATURE);
  iotkit_key_free(k);
  iotkit_key_free(pub);
}

static void check_a3(iotkit_key_t *pub) {
  uint8_t sig[64];
  cr_assert_eq(b64url(RFC7515_A3_SIG, sig, sizeof sig), 64);
  const char *in = RFC7515_A3_SIGNING_INPUT;
  cr_assert_eq(iotkit_verify(pub, IOTKIT_SIG_ECDSA_P256_SHA256, in, strlen(in), sig, 64), IOTKIT_OK);
  sig[0] ^= 0x01;
  cr_assert_eq(iotkit_verify(pub, IOTKIT_SIG_ECDSA_P256_SHA256, in, strlen(in), sig, 64), IOTKIT_ERR_BAD_SIGNATURE);
}

Test(ecdsa_p256, rfc7515_a3_es256_verifies_with_pem_key) {
  iotkit_key_t *pub = load(RFC7515_EC_PUB_PEM);
  check_a3(pub);
  iotkit_key_free(pub);
}

Test(ecdsa_p256, rfc7515_a3_es256_verifies_with_raw_key) {
  size_t pl, dl;
  uint8_t *pubb = hex(RFC7515_EC_PUB_HEX, &pl), *d = hex(RFC7515_EC_D_HEX, &dl);
  iotkit_key_t *pub = NULL, *pair = NULL;
  cr_assert_eq(iotkit_key_from_raw(IOTKIT_KEY_P256, NULL, 0, pubb, pl, &pub), IOTKIT_OK);
  cr_assert_eq(iotkit_key_from_raw(IOTKIT_KEY_P256, d, dl, pubb, pl, &pair), IOTKIT_OK);
  cr_assert_not(iotkit_key_has_private(pub));
  cr_assert(iotkit_key_has_private(pair));
  check_a3(pub);
  check_a3(pair);
  free(pubb);
  free(d);
  iotkit_key_free(pub);
  iotkit_key_free(pair);
}

Test(ecdsa_p256, sign_is_raw_64_bytes_randomized_and_verifies) {
  iotkit_key_t *k = load(RFC7515_EC_PRIV_PEM);
  uint8_t s1[64], s2[64];
  size_t n1, n2;
  cr_assert_eq(iotkit_sign(k, IOTKIT_SIG_ECDSA_P256_SHA256, "msg", 3, s1, sizeof s1, &n1), IOTKIT_OK);
  cr_assert_eq(iotkit_sign(k, IOTKIT_SIG_ECDSA_P256_SHA256, "msg", 3, s2, sizeof s2, &n2), IOTKIT_OK);
  cr_assert_eq(n1, 64);
  cr_assert_eq(n2, 64);
  cr_assert(memcmp(s1, s2, 64) != 0);
  cr_assert_eq(iotkit_verify(k, IOTKIT_SIG_ECDSA_P256_SHA256, "msg", 3, s1, 64), IOTKIT_OK);
  cr_assert_eq(iotkit_verify(k, IOTKIT_SIG_ECDSA_P256_SHA256, "msg", 3, s2, 64), IOTKIT_OK);
  cr_assert_eq(iotkit_verify(k, IOTKIT_SIG_ECDSA_P256_SHA256, "msh", 3, s1, 64), IOTKIT_ERR_BAD_SIGNATURE);
  iotkit_key_free(k);
}

Test(ecdsa_p256, zero_signature_is_bad_signature) {
  iotkit_key_t *k = load(RFC7515_EC_PUB_PEM);
  uint8_t sig[64] = {0};
  cr_assert_eq(iotkit_verify(k, IOTKIT_SIG_ECDSA_P256_SHA256, "m", 1, sig, 64), IOTKIT_ERR_BAD_SIGNATURE);
  iotkit_key_free(k);
}

Test(ecdsa_p256, der_signature_is_refused) {
  iotkit_key_t *k = load(RFC7515_EC_PUB_PEM);
  uint8_t der[70] = {0x30, 68};
  cr_assert_eq(iotkit_verify(k, IOTKIT_SIG_ECDSA_P256_SHA256, "m", 1, der, sizeof der), IOTKIT_ERR_BAD_SIGNATURE);
  iotkit_key_free(k);
}

Test(ecdsa_p256, raw_private_not_matching_public_is_bad_key) {
  size_t pl, dl;
  uint8_t *pub = hex(RFC7515_EC_PUB_HEX, &pl), *d = hex(RFC7515_EC_D_HEX, &dl);
  d[31] ^= 1;
  iotkit_key_t *k = NULL;
  cr_assert_eq(iotkit_key_from_raw(IOTKIT_KEY_P256, d, dl, pub, pl, &k), IOTKIT_ERR_BAD_KEY);
  cr_assert_null(k);
  free(pub);
  free(d);
}

Test(ecdsa_p256, raw_point_not_on_curve_is_bad_key) {
  size_t pl;
  uint8_t *pub = hex(RFC7515_EC_PUB_HEX, &pl);
  pub[64] ^= 1;
  iotkit_key_t *k = NULL;
  cr_assert_eq(iotkit_key_from_raw(IOTKIT_KEY_P256, NULL, 0, pub, pl, &k), IOTKIT_ERR_BAD_KEY);
  free(pub);
}

Test(rsa_pss, sign_verify_roundtrip_and_not_pkcs1) {
  iotkit_key_t *k = load(RFC7515_RSA_PRIV_PEM), *pub = load(RFC7515_RSA_PUB_PEM);
  uint8_t s1[256], s2[256];
  size_t n1, n2;
  cr_assert_eq(iotkit_sign(k, IOTKIT_SIG_RSA_PSS_SHA256, "data", 4, s1, sizeof s1, &n1), IOTKIT_OK);
  cr_assert_eq(iotkit_sign(k, IOTKIT_SIG_RSA_PSS_SHA256, "data", 4, s2, sizeof s2, &n2), IOTKIT_OK);
  cr_assert_eq(n1, 256);
  cr_assert(memcmp(s1, s2, 256) != 0); /* random salt */
  cr_assert_eq(iotkit_verify(pub, IOTKIT_SIG_RSA_PSS_SHA256, "data", 4, s1, n1), IOTKIT_OK);
  cr_assert_eq(iotkit_verify(pub, IOTKIT_SIG_RSA_PSS_SHA256, "datb", 4, s1, n1), IOTKIT_ERR_BAD_SIGNATURE);
  cr_assert_eq(iotkit_verify(pub, IOTKIT_SIG_RSA_PKCS1_SHA256, "data", 4, s1, n1), IOTKIT_ERR_BAD_SIGNATURE);
  iotkit_key_free(k);
  iotkit_key_free(pub);
}

/* ------------------------------------------------------------ bad input -- */

Test(sign, wrong_key_type_is_bad_key) {
  iotkit_key_t *ec = load(RFC7515_EC_PRIV_PEM);
  uint8_t sig[IOTKIT_SIG_MAX_LEN] = {0};
  size_t n = 7;
  cr_assert_eq(iotkit_sign(ec, IOTKIT_SIG_ED25519, "m", 1, sig, sizeof sig, &n), IOTKIT_ERR_BAD_KEY);
  cr_assert_eq(iotkit_sign(ec, IOTKIT_SIG_RSA_PKCS1_SHA256, "m", 1, sig, sizeof sig, &n), IOTKIT_ERR_BAD_KEY);
  cr_assert_eq(n, 7);
  cr_assert_eq(iotkit_verify(ec, IOTKIT_SIG_ED25519, "m", 1, sig, 64), IOTKIT_ERR_BAD_KEY);
  cr_assert_eq(iotkit_verify(ec, IOTKIT_SIG_RSA_PSS_SHA256, "m", 1, sig, 256), IOTKIT_ERR_BAD_KEY);
  iotkit_key_free(ec);
}

Test(sign, public_key_cannot_sign) {
  iotkit_key_t *pub = load(RFC7515_EC_PUB_PEM);
  uint8_t sig[64];
  size_t n;
  cr_assert_eq(iotkit_sign(pub, IOTKIT_SIG_ECDSA_P256_SHA256, "m", 1, sig, sizeof sig, &n), IOTKIT_ERR_BAD_KEY);
  iotkit_key_free(pub);
}

Test(sign, buffer_too_small_reports_size) {
  iotkit_key_t *k = load(RFC7515_RSA_PRIV_PEM);
  uint8_t sig[64];
  size_t n = 0;
  cr_assert_eq(iotkit_sign(k, IOTKIT_SIG_RSA_PKCS1_SHA256, "m", 1, sig, sizeof sig, &n), IOTKIT_ERR_BUFFER_TOO_SMALL);
  cr_assert_eq(n, 256);
  iotkit_key_free(k);
}

Test(verify, wrong_signature_length_is_bad_signature) {
  iotkit_key_t *k = load(RFC7515_RSA_PUB_PEM);
  uint8_t sig[255] = {0};
  cr_assert_eq(iotkit_verify(k, IOTKIT_SIG_RSA_PKCS1_SHA256, "m", 1, sig, sizeof sig), IOTKIT_ERR_BAD_SIGNATURE);
  iotkit_key_free(k);
}

Test(sign, null_and_invalid_args) {
  iotkit_key_t *k = load(RFC7515_EC_PRIV_PEM);
  uint8_t sig[64];
  size_t n;
  cr_assert_eq(iotkit_sign(NULL, IOTKIT_SIG_ECDSA_P256_SHA256, "m", 1, sig, 64, &n), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_sign(k, IOTKIT_SIG_ECDSA_P256_SHA256, NULL, 1, sig, 64, &n), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_sign(k, IOTKIT_SIG_ECDSA_P256_SHA256, "m", 1, NULL, 64, &n), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_sign(k, IOTKIT_SIG_ECDSA_P256_SHA256, "m", 1, sig, 64, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_sign(k, (iotkit_sig_alg_t)99, "m", 1, sig, 64, &n), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_verify(NULL, IOTKIT_SIG_ECDSA_P256_SHA256, "m", 1, sig, 64), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_verify(k, IOTKIT_SIG_ECDSA_P256_SHA256, NULL, 1, sig, 64), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_verify(k, IOTKIT_SIG_ECDSA_P256_SHA256, "m", 1, NULL, 64), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_verify(k, (iotkit_sig_alg_t)0, "m", 1, sig, 64), IOTKIT_ERR_INVALID_ARG);
  iotkit_key_free(k);
}

Test(key_from_raw, invalid_lengths_and_types) {
  uint8_t b[65] = {4};
  iotkit_key_t *k = NULL;
  cr_assert_eq(iotkit_key_from_raw(IOTKIT_KEY_ED25519, b, 31, NULL, 0, &k), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_key_from_raw(IOTKIT_KEY_ED25519, NULL, 0, NULL, 0, &k), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_key_from_raw(IOTKIT_KEY_P256, b, 32, NULL, 0, &k), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_key_from_raw(IOTKIT_KEY_P256, NULL, 0, b, 64, &k), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_key_from_raw(IOTKIT_KEY_RSA, NULL, 0, b, 65, &k), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_key_from_raw(IOTKIT_KEY_ED25519, NULL, 5, b, 32, &k), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_key_from_raw(IOTKIT_KEY_ED25519, NULL, 0, b, 32, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_null(k);
}
