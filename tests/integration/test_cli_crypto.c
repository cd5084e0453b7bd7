/* `iotkit keygen` and `iotkit jwt make|verify`, run as a user would, keys checked with the openssl command. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <iotkit/iotkit.h>

#include "cli_run.h"
#include "hal_tmpdir.h"

#define CLI IOTKIT_BINARY_DIR "/tools/iotkit/iotkit"
#define OPENSSL "/usr/bin/openssl"

static char dir[256];
static char priv_path[300], pub_path[300];
static cli_result_t r;

static void setup(void) {
  hal_tmpdir_make(dir, sizeof dir);
  snprintf(priv_path, sizeof priv_path, "%s/device.pem", dir);
  snprintf(pub_path, sizeof pub_path, "%s/device.pub", dir);
}

static void teardown(void) { hal_tmpdir_remove(dir); }

TestSuite(cli_crypto, .init = setup, .fini = teardown, .timeout = 60);

static int iotkit(const char *const *args) {
  cli_run(CLI, dir, args, &r);
  return r.status;
}

static int openssl(const char *const *args) {
  cli_run(OPENSSL, dir, args, &r);
  return r.status;
}

/* A new key pair of @p type in priv_path/pub_path. */
static void keygen(const char *type, const char *priv, const char *pub) {
  const char *args[] = {"keygen", "--type", type, "--out", priv, "--pub", pub, NULL};
  cr_assert_eq(iotkit(args), 0, "keygen: %s", r.err);
}

static char token[4096];

/* A token by `iotkit jwt make` with the key in priv_path, into `token`. */
static void make_token(const char *alg, const char *aud) {
  const char *args[] = {"jwt", "make", "--key", priv_path, "--alg", alg, "--sub", "dev-1", "--ttl", "600",
                        aud ? "--aud" : NULL, aud, NULL};
  cr_assert_eq(iotkit(args), 0, "jwt make: %s", r.err);
  size_t n = strcspn(r.out, "\n");
  cr_assert(n > 0 && n < sizeof token);
  memcpy(token, r.out, n);
  token[n] = '\0';
}

/* `iotkit jwt verify` of tok with pub: the exit status; stdout/stderr in r. */
static int verify(const char *pub, const char *alg, const char *aud, const char *tok) {
  const char *with_aud[] = {"jwt", "verify", "--pub", pub, "--alg", alg, "--aud", aud, tok, NULL};
  const char *without[] = {"jwt", "verify", "--pub", pub, "--alg", alg, tok, NULL};
  return iotkit(aud ? with_aud : without);
}

static void expect_refused(int status, const char *name) {
  cr_assert_eq(status, 4, "exit %d, stderr: %s", status, r.err);
  cr_assert(strstr(r.err, name) != NULL, "stderr does not name %s: %s", name, r.err);
  cr_assert_str_eq(r.out, "");
}

Test(cli_crypto, ed25519_key_loads_with_openssl_and_is_private_to_the_owner) {
  keygen("ed25519", priv_path, pub_path);
  struct stat st;
  cr_assert_eq(stat(priv_path, &st), 0);
  cr_assert_eq(st.st_mode & 0777, 0600, "mode %o", (unsigned)(st.st_mode & 0777));
  const char *text[] = {"pkey", "-in", priv_path, "-noout", "-text", NULL};
  cr_assert_eq(openssl(text), 0, "openssl: %s", r.err);
  cr_assert(strstr(r.out, "ED25519 Private-Key") != NULL, "%s", r.out);
  /* The public file is the public half of the private one. */
  const char *pubout[] = {"pkey", "-in", priv_path, "-pubout", NULL};
  cr_assert_eq(openssl(pubout), 0);
  static char derived[sizeof r.out];
  memcpy(derived, r.out, sizeof derived);
  const char *pubin[] = {"pkey", "-pubin", "-in", pub_path, NULL};
  cr_assert_eq(openssl(pubin), 0, "openssl: %s", r.err);
  cr_assert_str_eq(r.out, derived);
}

Test(cli_crypto, p256_key_to_stdout_loads_with_openssl) {
  const char *args[] = {"keygen", "--type", "p256", NULL};
  cr_assert_eq(iotkit(args), 0, "%s", r.err);
  cr_assert(strncmp(r.out, "-----BEGIN PRIVATE KEY-----\n", 28) == 0, "%s", r.out);
  FILE *f = fopen(priv_path, "w");
  cr_assert_not_null(f);
  fputs(r.out, f);
  fclose(f);
  const char *text[] = {"pkey", "-in", priv_path, "-noout", "-text", NULL};
  cr_assert_eq(openssl(text), 0, "openssl: %s", r.err);
  cr_assert(strstr(r.out, "prime256v1") != NULL, "%s", r.out);
}

Test(cli_crypto, keygen_with_out_only_prints_the_public_key) {
  const char *args[] = {"keygen", "--type", "ed25519", "--out", priv_path, NULL};
  cr_assert_eq(iotkit(args), 0, "%s", r.err);
  cr_assert(strncmp(r.out, "-----BEGIN PUBLIC KEY-----\n", 27) == 0, "%s", r.out);
  cr_assert(strstr(r.out, "PRIVATE") == NULL);
}

Test(cli_crypto, keygen_never_replaces_a_file) {
  FILE *f = fopen(priv_path, "w");
  fputs("keep me\n", f);
  fclose(f);
  const char *args[] = {"keygen", "--type", "ed25519", "--out", priv_path, NULL};
  cr_assert_eq(iotkit(args), 1);
  cr_assert(strstr(r.err, "File exists") != NULL, "%s", r.err);
  f = fopen(priv_path, "r");
  char buf[32] = "";
  cr_assert_not_null(fgets(buf, sizeof buf, f));
  fclose(f);
  cr_assert_str_eq(buf, "keep me\n");
}

Test(cli_crypto, keygen_rsa_is_a_usage_error) {
  const char *args[] = {"keygen", "--type", "rsa", NULL};
  cr_assert_eq(iotkit(args), 1);
  cr_assert(strstr(r.err, "--type wants ed25519 or p256") != NULL, "%s", r.err);
}

Test(cli_crypto, keygen_without_type_is_a_usage_error) {
  const char *args[] = {"keygen", NULL};
  cr_assert_eq(iotkit(args), 1);
  cr_assert(strstr(r.err, "--type is required") != NULL, "%s", r.err);
}

Test(cli_crypto, eddsa_token_verifies) {
  keygen("ed25519", priv_path, pub_path);
  make_token("EdDSA", "hub.example");
  cr_assert_eq(verify(pub_path, "EdDSA", "hub.example", token), 0, "%s", r.err);
  cr_assert(strncmp(r.out, "valid: {\"iss\":\"dev-1\",\"sub\":\"dev-1\",\"aud\":\"hub.example\",\"iat\":", 62) == 0,
            "%s", r.out);
}

Test(cli_crypto, es256_token_verifies) {
  keygen("p256", priv_path, pub_path);
  make_token("ES256", NULL);
  cr_assert_eq(verify(pub_path, "ES256", NULL, token), 0, "%s", r.err);
}

Test(cli_crypto, flipped_signature_bit_is_refused) {
  keygen("ed25519", priv_path, pub_path);
  make_token("EdDSA", NULL);
  char *sig = strrchr(token, '.') + 1;
  /* Flip the lowest bit of one letter; if that leaves the base64url alphabet, use another letter. */
  char was = sig[10], flipped = (char)(was ^ 0x01);
  if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", flipped))
    flipped = was == 'A' ? 'B' : 'A';
  sig[10] = flipped;
  cr_assert_neq(sig[10], was);
  expect_refused(verify(pub_path, "EdDSA", NULL, token), "IOTKIT_ERR_BAD_SIGNATURE");
}

Test(cli_crypto, flipped_claims_bit_is_refused) {
  keygen("ed25519", priv_path, pub_path);
  make_token("EdDSA", NULL);
  char *claims = strchr(token, '.') + 1;
  claims[5] = claims[5] == 'A' ? 'B' : 'A';
  int status = verify(pub_path, "EdDSA", NULL, token);
  cr_assert_eq(status, 4, "%s", r.err);
  cr_assert(strstr(r.err, "IOTKIT_ERR_BAD_SIGNATURE") || strstr(r.err, "IOTKIT_ERR_JWT_MALFORMED"), "%s", r.err);
}

Test(cli_crypto, another_key_is_refused) {
  keygen("ed25519", priv_path, pub_path);
  char other_priv[300], other_pub[300];
  snprintf(other_priv, sizeof other_priv, "%s/other.pem", dir);
  snprintf(other_pub, sizeof other_pub, "%s/other.pub", dir);
  keygen("ed25519", other_priv, other_pub);
  make_token("EdDSA", NULL);
  expect_refused(verify(other_pub, "EdDSA", NULL, token), "IOTKIT_ERR_BAD_SIGNATURE");
}

Test(cli_crypto, wrong_audience_is_refused) {
  keygen("ed25519", priv_path, pub_path);
  make_token("EdDSA", "hub.example");
  expect_refused(verify(pub_path, "EdDSA", "other.example", token), "IOTKIT_ERR_JWT_AUDIENCE");
}

/* The verifier expects EdDSA with an Ed25519 key; the token says ES256: its header never picks the algorithm. */
Test(cli_crypto, token_of_another_algorithm_is_refused) {
  keygen("p256", priv_path, pub_path);
  make_token("ES256", NULL);
  char ed_priv[300], ed_pub[300];
  snprintf(ed_priv, sizeof ed_priv, "%s/ed.pem", dir);
  snprintf(ed_pub, sizeof ed_pub, "%s/ed.pub", dir);
  keygen("ed25519", ed_priv, ed_pub);
  expect_refused(verify(ed_pub, "EdDSA", NULL, token), "(IOTKIT_ERR_JWT_ALG)");
}

Test(cli_crypto, public_key_that_does_not_fit_the_alg_is_refused) {
  keygen("p256", priv_path, pub_path);
  make_token("ES256", NULL);
  expect_refused(verify(pub_path, "EdDSA", NULL, token), "IOTKIT_ERR_BAD_KEY");
}

Test(cli_crypto, alg_none_is_refused) {
  keygen("ed25519", priv_path, pub_path);
  /* RFC 7515 A.5, the unsecured example: {"alg":"none"}. */
  const char *none = "eyJhbGciOiJub25lIn0.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19"
                     "yb290Ijp0cnVlfQ.";
  expect_refused(verify(pub_path, "EdDSA", NULL, none), "IOTKIT_ERR_JWT_ALG_NONE");
}

Test(cli_crypto, expired_token_is_refused) {
  keygen("ed25519", priv_path, pub_path);
  iotkit_key_t *key = NULL;
  cr_assert_eq(iotkit_key_load_file(priv_path, &key), IOTKIT_OK);
  iotkit_jwt_claims_t *c = NULL;
  cr_assert_eq(iotkit_jwt_claims_new(&c), IOTKIT_OK);
  cr_assert_eq(iotkit_jwt_claims_set_string(c, "sub", "dev-1"), IOTKIT_OK);
  cr_assert_eq(iotkit_jwt_claims_set_int(c, "exp", 1000000000), IOTKIT_OK); /* 2001 */
  char *tok = NULL;
  cr_assert_eq(iotkit_jwt_create(c, IOTKIT_JWT_EDDSA, key, NULL, &tok), IOTKIT_OK);
  expect_refused(verify(pub_path, "EdDSA", NULL, tok), "IOTKIT_ERR_JWT_EXPIRED");
  iotkit_free(tok);
  iotkit_jwt_claims_free(c);
  iotkit_key_free(key);
}

Test(cli_crypto, make_with_a_key_of_another_alg_is_a_usage_error) {
  keygen("ed25519", priv_path, pub_path);
  const char *args[] = {"jwt", "make", "--key", priv_path, "--alg", "ES256", "--sub", "dev-1", NULL};
  cr_assert_eq(iotkit(args), 1);
  cr_assert(strstr(r.err, "IOTKIT_ERR_BAD_KEY") != NULL, "%s", r.err);
}

Test(cli_crypto, make_with_a_public_key_is_a_usage_error) {
  keygen("ed25519", priv_path, pub_path);
  const char *args[] = {"jwt", "make", "--key", pub_path, "--alg", "EdDSA", "--sub", "dev-1", NULL};
  cr_assert_eq(iotkit(args), 1);
  cr_assert(strstr(r.err, "IOTKIT_ERR_BAD_KEY") != NULL, "%s", r.err);
}

Test(cli_crypto, make_without_sub_is_a_usage_error) {
  keygen("ed25519", priv_path, pub_path);
  const char *args[] = {"jwt", "make", "--key", priv_path, "--alg", "EdDSA", NULL};
  cr_assert_eq(iotkit(args), 1);
  cr_assert(strstr(r.err, "--sub are required") != NULL, "%s", r.err);
}

Test(cli_crypto, make_with_a_missing_key_file_is_a_usage_error) {
  const char *args[] = {"jwt", "make", "--key", priv_path, "--alg", "EdDSA", "--sub", "dev-1", NULL};
  cr_assert_eq(iotkit(args), 1);
  cr_assert(strstr(r.err, "IOTKIT_ERR_IO") != NULL, "%s", r.err);
}

Test(cli_crypto, make_with_an_unknown_alg_is_a_usage_error) {
  keygen("ed25519", priv_path, pub_path);
  const char *args[] = {"jwt", "make", "--key", priv_path, "--alg", "HS256", "--sub", "dev-1", NULL};
  cr_assert_eq(iotkit(args), 1);
  cr_assert(strstr(r.err, "--alg wants EdDSA, ES256 or RS256") != NULL, "%s", r.err);
}

Test(cli_crypto, verify_without_token_is_a_usage_error) {
  keygen("ed25519", priv_path, pub_path);
  const char *args[] = {"jwt", "verify", "--pub", pub_path, "--alg", "EdDSA", NULL};
  cr_assert_eq(iotkit(args), 1);
  cr_assert(strstr(r.err, "needs a value") || strstr(r.err, "TOKEN is missing"), "%s", r.err);
}

Test(cli_crypto, jwt_without_subcommand_is_a_usage_error) {
  const char *args[] = {"jwt", NULL};
  cr_assert_eq(iotkit(args), 1);
  cr_assert(strstr(r.err, "missing command after 'iotkit jwt'") != NULL, "%s", r.err);
}
