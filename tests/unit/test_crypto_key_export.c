/* Private key export as PEM PKCS#8: round trips with the RFC keys, and each bad argument. */
#include "test_crypto_jwt_util.h"

/* Export k's private PEM, load it back, and check it signs what the public key verifies. */
static void round_trip(iotkit_key_t *k, iotkit_sig_alg_t alg, iotkit_key_t *pub) {
  char pem[4096];
  size_t len = 0;
  cr_assert_eq(iotkit_key_export_private_pem(k, pem, sizeof pem, &len), IOTKIT_OK);
  cr_assert_eq(len, strlen(pem));
  cr_assert(strncmp(pem, "-----BEGIN PRIVATE KEY-----\n", 28) == 0, "%s", pem);
  iotkit_key_t *back = load_pem(pem);
  cr_assert(iotkit_key_has_private(back));
  uint8_t sig[IOTKIT_SIG_MAX_LEN];
  size_t sl = 0;
  cr_assert_eq(iotkit_sign(back, alg, "m", 1, sig, sizeof sig, &sl), IOTKIT_OK);
  cr_assert_eq(iotkit_verify(pub, alg, "m", 1, sig, sl), IOTKIT_OK);
  iotkit_key_free(back);
}

Test(key_export, ed25519_rfc8032_key_round_trips) {
  iotkit_key_t *k = rfc8037_key(true), *pub = rfc8037_key(false);
  round_trip(k, IOTKIT_SIG_ED25519, pub);
  iotkit_key_free(k);
  iotkit_key_free(pub);
}

Test(key_export, p256_rfc7515_key_round_trips) {
  iotkit_key_t *k = load_pem(RFC7515_EC_PRIV_PEM), *pub = load_pem(RFC7515_EC_PUB_PEM);
  round_trip(k, IOTKIT_SIG_ECDSA_P256_SHA256, pub);
  iotkit_key_free(k);
  iotkit_key_free(pub);
}

Test(key_export, rsa_rfc7515_key_round_trips) {
  iotkit_key_t *k = load_pem(RFC7515_RSA_PRIV_PEM), *pub = load_pem(RFC7515_RSA_PUB_PEM);
  round_trip(k, IOTKIT_SIG_RSA_PKCS1_SHA256, pub);
  iotkit_key_free(k);
  iotkit_key_free(pub);
}

Test(key_export, small_buffer_gives_the_size_and_stays_untouched) {
  iotkit_key_t *k = rfc8037_key(true);
  char small[16] = "untouched";
  size_t len = 0;
  cr_assert_eq(iotkit_key_export_private_pem(k, small, sizeof small, &len), IOTKIT_ERR_BUFFER_TOO_SMALL);
  cr_assert_str_eq(small, "untouched");
  char *pem = malloc(len);
  size_t got = 0;
  cr_assert_eq(iotkit_key_export_private_pem(k, pem, len, &got), IOTKIT_OK);
  cr_assert_eq(got + 1, len);
  free(pem);
  iotkit_key_free(k);
}

Test(key_export, public_key_is_bad_key) {
  iotkit_key_t *pub = rfc8037_key(false);
  char pem[512];
  size_t len = 0;
  cr_assert_eq(iotkit_key_export_private_pem(pub, pem, sizeof pem, &len), IOTKIT_ERR_BAD_KEY);
  iotkit_key_free(pub);
}

Test(key_export, null_key) {
  char pem[512];
  size_t len = 0;
  cr_assert_eq(iotkit_key_export_private_pem(NULL, pem, sizeof pem, &len), IOTKIT_ERR_INVALID_ARG);
}

Test(key_export, null_buffer_with_capacity) {
  iotkit_key_t *k = rfc8037_key(true);
  size_t len = 0;
  cr_assert_eq(iotkit_key_export_private_pem(k, NULL, 512, &len), IOTKIT_ERR_INVALID_ARG);
  iotkit_key_free(k);
}

Test(key_export, null_length) {
  iotkit_key_t *k = rfc8037_key(true);
  char pem[512];
  cr_assert_eq(iotkit_key_export_private_pem(k, pem, sizeof pem, NULL), IOTKIT_ERR_INVALID_ARG);
  iotkit_key_free(k);
}
