/* Keys: generation through the HAL, PEM/DER loading from memory and file, export, bad input. */
#include <unistd.h>

#include "test_crypto_keys.h"
#include "test_crypto_util.h"

static const char P384_PUB_PEM[] = /* another curve: refused */
    "-----BEGIN PUBLIC KEY-----\n"
    "MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEc9RK7UT4tW3FPZP3Q4hJRL8bdCmugwbH\n"
    "p98uqz1v7YIIJ782fWBQUsubNgEhm65MGnNhypKaoR5h6p7E0I+dLM1XqxsO26tr\n"
    "pf5As4lxtVVpFHHs7umUyFJKOn6SmUYr\n"
    "-----END PUBLIC KEY-----\n";

static const char RSA1024_PUB_PEM[] = /* too short: refused */
    "-----BEGIN PUBLIC KEY-----\n"
    "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCVZXnFZDXocutj/kUHs3iGQAvo\n"
    "2r10GZyai2qKc5XhRcn8rX2bjQljszHOttqxufNQBHxjhCQXEHTSVVPBDJJIIsww\n"
    "5Si9IB2pFuZULSCJI26rMX65wOiQnQsqh5ynJXvqxDBrahGhqOg8S4fpiAP1d4re\n"
    "pQuivxtQfgfyhE6DWQIDAQAB\n"
    "-----END PUBLIC KEY-----\n";

static const char ENCRYPTED_PEM[] = /* Ed25519 under a passphrase: refused, never prompts */
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
    "MIGbMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAgwjSvtrBCXywICCAAw\n"
    "DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEGkMOx0sYLUrrbWUAzhE3KgEQI9B\n"
    "jgTHN+4JzHyxHwEyWt3V36L5ifgOqJext6tj8BXcxpuCco3GhZtDq49woAu/mgX2\n"
    "kI0tE3vKKu5XbeGKKRA=\n"
    "-----END ENCRYPTED PRIVATE KEY-----\n";

/* The DER inside a PEM, through the library's own strict base64 decoder. */
static size_t pem_to_der(const char *pem, uint8_t *der, size_t cap) {
  char body[4096];
  size_t bl = 0;
  const char *p = strchr(pem, '\n') + 1;
  while (strncmp(p, "-----END", 8) != 0) {
    const char *nl = strchr(p, '\n');
    memcpy(body + bl, p, (size_t)(nl - p));
    bl += (size_t)(nl - p);
    p = nl + 1;
  }
  size_t n = 0;
  cr_assert_eq(iotkit_base64_decode(body, bl, der, cap, &n), IOTKIT_OK);
  return n;
}

static void expect_load(const void *data, size_t len, iotkit_key_type_t type, bool priv) {
  iotkit_key_t *k = NULL;
  cr_assert_eq(iotkit_key_load(data, len, &k), IOTKIT_OK);
  cr_assert_eq(iotkit_key_type(k), type);
  cr_assert_eq(iotkit_key_has_private(k), priv);
  iotkit_key_free(k);
}

Test(key_load, pem_rsa_private_and_public) {
  expect_load(RFC7515_RSA_PRIV_PEM, strlen(RFC7515_RSA_PRIV_PEM), IOTKIT_KEY_RSA, true);
  expect_load(RFC7515_RSA_PUB_PEM, strlen(RFC7515_RSA_PUB_PEM), IOTKIT_KEY_RSA, false);
}

Test(key_load, pem_p256_private_and_public) {
  expect_load(RFC7515_EC_PRIV_PEM, strlen(RFC7515_EC_PRIV_PEM), IOTKIT_KEY_P256, true);
  expect_load(RFC7515_EC_PUB_PEM, strlen(RFC7515_EC_PUB_PEM), IOTKIT_KEY_P256, false);
}

Test(key_load, der_private_and_public) {
  uint8_t der[2048];
  size_t n = pem_to_der(RFC7515_EC_PRIV_PEM, der, sizeof der);
  expect_load(der, n, IOTKIT_KEY_P256, true);
  n = pem_to_der(RFC7515_EC_PUB_PEM, der, sizeof der);
  expect_load(der, n, IOTKIT_KEY_P256, false);
  n = pem_to_der(RFC7515_RSA_PRIV_PEM, der, sizeof der);
  expect_load(der, n, IOTKIT_KEY_RSA, true);
}

Test(key_load, pem_need_not_be_nul_terminated) {
  size_t n = strlen(RFC7515_EC_PUB_PEM);
  char *copy = malloc(n);
  memcpy(copy, RFC7515_EC_PUB_PEM, n);
  expect_load(copy, n, IOTKIT_KEY_P256, false);
  free(copy);
}

Test(key_export, public_pem_round_trips_exactly) {
  iotkit_key_t *k = NULL;
  char *pem = NULL;
  cr_assert_eq(iotkit_key_load(RFC7515_EC_PRIV_PEM, strlen(RFC7515_EC_PRIV_PEM), &k), IOTKIT_OK);
  cr_assert_eq(iotkit_key_export_public_pem(k, &pem), IOTKIT_OK);
  cr_assert_str_eq(pem, RFC7515_EC_PUB_PEM);
  iotkit_free(pem);
  iotkit_key_free(k);
  cr_assert_eq(iotkit_key_load(RFC7515_RSA_PRIV_PEM, strlen(RFC7515_RSA_PRIV_PEM), &k), IOTKIT_OK);
  cr_assert_eq(iotkit_key_export_public_pem(k, &pem), IOTKIT_OK);
  cr_assert_str_eq(pem, RFC7515_RSA_PUB_PEM);
  iotkit_free(pem);
  iotkit_key_free(k);
}

static void expect_load_error(const char *text, iotkit_err_t want) {
  iotkit_key_t *k = NULL;
  cr_assert_eq(iotkit_key_load(text, strlen(text), &k), want);
  cr_assert_null(k);
}

Test(key_load, garbage_is_bad_encoding) { expect_load_error("not a key at all", IOTKIT_ERR_BAD_ENCODING); }

Test(key_load, truncated_pem_is_bad_encoding) {
  char cut[100];
  memcpy(cut, RFC7515_EC_PUB_PEM, 99);
  cut[99] = '\0';
  expect_load_error(cut, IOTKIT_ERR_BAD_ENCODING);
}

Test(key_load, encrypted_pem_is_bad_encoding) { expect_load_error(ENCRYPTED_PEM, IOTKIT_ERR_BAD_ENCODING); }

Test(key_load, other_curve_is_bad_key) { expect_load_error(P384_PUB_PEM, IOTKIT_ERR_BAD_KEY); }

Test(key_load, short_rsa_is_bad_key) { expect_load_error(RSA1024_PUB_PEM, IOTKIT_ERR_BAD_KEY); }

Test(key_load, too_large_input) {
  size_t n = 64 * 1024 + 1;
  char *big = calloc(1, n);
  iotkit_key_t *k = NULL;
  cr_assert_eq(iotkit_key_load(big, n, &k), IOTKIT_ERR_TOO_LARGE);
  free(big);
}

Test(key_load, null_args) {
  iotkit_key_t *k = NULL;
  char *pem = NULL;
  cr_assert_eq(iotkit_key_load(NULL, 10, &k), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_key_load("x", 0, &k), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_key_load("x", 1, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_key_load_file(NULL, &k), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_key_load_file("", &k), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_key_export_public_pem(NULL, &pem), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_key_type(NULL), 0);
  cr_assert_not(iotkit_key_has_private(NULL));
  cr_assert_eq(iotkit_key_signature_size(NULL), 0);
  iotkit_key_free(NULL);
}

/* ----------------------------------------------------------------- files -- */

static char tmpdir[64];

static void make_tmpdir(void) {
  strcpy(tmpdir, "/tmp/iotkit-key-XXXXXX");
  cr_assert_not_null(mkdtemp(tmpdir));
}

static void remove_tmpdir(void) { rmdir(tmpdir); }

static void write_file(const char *path, const void *data, size_t len) {
  FILE *f = fopen(path, "wb");
  cr_assert_not_null(f);
  cr_assert_eq(fwrite(data, 1, len, f), len);
  fclose(f);
}

Test(key_load_file, pem_and_der_files, .init = make_tmpdir, .fini = remove_tmpdir) {
  char pem_path[128], der_path[128];
  snprintf(pem_path, sizeof pem_path, "%s/key.pem", tmpdir);
  snprintf(der_path, sizeof der_path, "%s/key.der", tmpdir);
  write_file(pem_path, RFC7515_RSA_PRIV_PEM, strlen(RFC7515_RSA_PRIV_PEM));
  uint8_t der[2048];
  size_t n = pem_to_der(RFC7515_EC_PUB_PEM, der, sizeof der);
  write_file(der_path, der, n);
  iotkit_key_t *k = NULL;
  cr_assert_eq(iotkit_key_load_file(pem_path, &k), IOTKIT_OK);
  cr_assert_eq(iotkit_key_type(k), IOTKIT_KEY_RSA);
  cr_assert(iotkit_key_has_private(k));
  iotkit_key_free(k);
  cr_assert_eq(iotkit_key_load_file(der_path, &k), IOTKIT_OK);
  cr_assert_eq(iotkit_key_type(k), IOTKIT_KEY_P256);
  cr_assert_not(iotkit_key_has_private(k));
  iotkit_key_free(k);
  unlink(pem_path);
  unlink(der_path);
}

Test(key_load_file, missing_file_is_io_error, .init = make_tmpdir, .fini = remove_tmpdir) {
  char path[128];
  snprintf(path, sizeof path, "%s/absent.pem", tmpdir);
  iotkit_key_t *k = NULL;
  cr_assert_eq(iotkit_key_load_file(path, &k), IOTKIT_ERR_IO);
  cr_assert_null(k);
}

Test(key_load_file, garbage_file_is_bad_encoding, .init = make_tmpdir, .fini = remove_tmpdir) {
  char path[128];
  snprintf(path, sizeof path, "%s/junk.pem", tmpdir);
  write_file(path, "junk\n", 5);
  iotkit_key_t *k = NULL;
  cr_assert_eq(iotkit_key_load_file(path, &k), IOTKIT_ERR_BAD_ENCODING);
  unlink(path);
}

/* ------------------------------------------------------------ generation -- */

static iotkit_key_t *generate(iotkit_key_type_t type, uint64_t start) {
  uint64_t counter = start;
  iotkit_hal_t hal;
  test_hal(&hal, &counter);
  iotkit_key_t *k = NULL;
  cr_assert_eq(iotkit_key_generate(&hal, type, &k), IOTKIT_OK);
  cr_assert_eq(iotkit_key_type(k), type);
  cr_assert(iotkit_key_has_private(k));
  if (type == IOTKIT_KEY_ED25519) cr_assert_eq(counter, start + 1, "the seed came from the HAL");
  return k;
}

static void sign_verify_via_pem(iotkit_key_t *k, iotkit_sig_alg_t alg) {
  uint8_t sig[64];
  size_t n;
  cr_assert_eq(iotkit_sign(k, alg, "payload", 7, sig, sizeof sig, &n), IOTKIT_OK);
  char *pem = NULL;
  cr_assert_eq(iotkit_key_export_public_pem(k, &pem), IOTKIT_OK);
  iotkit_key_t *pub = NULL;
  cr_assert_eq(iotkit_key_load(pem, strlen(pem), &pub), IOTKIT_OK);
  cr_assert_not(iotkit_key_has_private(pub));
  cr_assert_eq(iotkit_verify(pub, alg, "payload", 7, sig, n), IOTKIT_OK);
  iotkit_free(pem);
  iotkit_key_free(pub);
}

Test(key_generate, ed25519_from_hal_random) {
  iotkit_key_t *k = generate(IOTKIT_KEY_ED25519, 0);
  sign_verify_via_pem(k, IOTKIT_SIG_ED25519);
  iotkit_key_free(k);
}

Test(key_generate, ed25519_is_determined_by_hal_bytes) {
  iotkit_key_t *a = generate(IOTKIT_KEY_ED25519, 5), *b = generate(IOTKIT_KEY_ED25519, 5),
               *c = generate(IOTKIT_KEY_ED25519, 6);
  char *pa, *pb, *pc;
  cr_assert_eq(iotkit_key_export_public_pem(a, &pa), IOTKIT_OK);
  cr_assert_eq(iotkit_key_export_public_pem(b, &pb), IOTKIT_OK);
  cr_assert_eq(iotkit_key_export_public_pem(c, &pc), IOTKIT_OK);
  cr_assert_str_eq(pa, pb);
  cr_assert_str_neq(pa, pc);
  iotkit_free(pa);
  iotkit_free(pb);
  iotkit_free(pc);
  iotkit_key_free(a);
  iotkit_key_free(b);
  iotkit_key_free(c);
}

Test(key_generate, p256) {
  iotkit_key_t *k = generate(IOTKIT_KEY_P256, 0);
  sign_verify_via_pem(k, IOTKIT_SIG_ECDSA_P256_SHA256);
  iotkit_key_free(k);
}

Test(key_generate, rsa_is_unsupported) {
  uint64_t counter = 0;
  iotkit_hal_t hal;
  test_hal(&hal, &counter);
  iotkit_key_t *k = NULL;
  cr_assert_eq(iotkit_key_generate(&hal, IOTKIT_KEY_RSA, &k), IOTKIT_ERR_UNSUPPORTED);
  cr_assert_null(k);
}

Test(key_generate, hal_without_random_is_unsupported) {
  iotkit_hal_t hal;
  memset(&hal, 0, sizeof hal);
  iotkit_key_t *k = NULL;
  cr_assert_eq(iotkit_key_generate(&hal, IOTKIT_KEY_ED25519, &k), IOTKIT_ERR_UNSUPPORTED);
}

Test(key_generate, failing_hal_random_is_reported) {
  uint64_t counter = 0;
  iotkit_hal_t hal;
  test_hal(&hal, &counter);
  hal.random = failing_random;
  iotkit_key_t *k = NULL;
  cr_assert_eq(iotkit_key_generate(&hal, IOTKIT_KEY_ED25519, &k), IOTKIT_ERR_IO);
  cr_assert_null(k);
}

Test(key_generate, null_and_invalid_args) {
  uint64_t counter = 0;
  iotkit_hal_t hal;
  test_hal(&hal, &counter);
  iotkit_key_t *k = NULL;
  cr_assert_eq(iotkit_key_generate(NULL, IOTKIT_KEY_ED25519, &k), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_key_generate(&hal, IOTKIT_KEY_ED25519, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_key_generate(&hal, (iotkit_key_type_t)42, &k), IOTKIT_ERR_INVALID_ARG);
}
