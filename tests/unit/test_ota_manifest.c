/* OTA manifests: signing, canonical form, strict parsing, verification, trust store. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iotkit/iotkit.h"
#include "ota_fixture.h"

static iotkit_hal_t *hal;
static iotkit_key_t *key;
static iotkit_ota_trust_t *trust;
static uint8_t *image;
static char *manifest;

#define URL "http://127.0.0.1:8080/fw/thermo-2.0.0.bin"

static void setup(void) {
  cr_assert_eq(iotkit_hal_memory_new(NULL, &hal), IOTKIT_OK);
  key = ota_fx_key(hal, IOTKIT_KEY_ED25519);
  cr_assert_eq(iotkit_ota_trust_new(&trust), IOTKIT_OK);
  cr_assert_eq(iotkit_ota_trust_add(trust, OTA_FX_KEY_ID, key), IOTKIT_OK);
  image = ota_fx_image(1000, 1);
  manifest = ota_fx_manifest(key, OTA_FX_KEY_ID, OTA_FX_DEVICE_TYPE, "2.0.0", image, 1000, URL);
}

static void teardown(void) {
  iotkit_free(manifest);
  free(image);
  iotkit_ota_trust_free(trust);
  iotkit_key_free(key);
  iotkit_hal_free(hal);
}

TestSuite(ota_manifest, .init = setup, .fini = teardown);

/* Replace the first @from in @text by @to (the test's copy; caller frees). */
static char *edit(const char *text, const char *from, const char *to) {
  const char *at = strstr(text, from);
  cr_assert_not_null(at, "'%s' not in %s", from, text);
  size_t n = strlen(text) - strlen(from) + strlen(to);
  char *out = malloc(n + 1);
  size_t pre = (size_t)(at - text);
  memcpy(out, text, pre);
  strcpy(out + pre, to);
  strcat(out, at + strlen(from));
  return out;
}

static iotkit_err_t parse_rc(const char *json) {
  iotkit_ota_manifest_t *m = (iotkit_ota_manifest_t *)0x1;
  iotkit_err_t rc = iotkit_ota_manifest_parse(json, strlen(json), &m);
  if (rc == IOTKIT_OK) iotkit_ota_manifest_free(m);
  else cr_assert_eq(m, (iotkit_ota_manifest_t *)0x1, "output untouched on failure");
  return rc;
}

static iotkit_err_t verify_rc(const char *json) {
  iotkit_ota_manifest_t *m = NULL;
  iotkit_err_t rc = iotkit_ota_manifest_parse(json, strlen(json), &m);
  if (rc != IOTKIT_OK) return rc;
  rc = iotkit_ota_manifest_verify(m, trust);
  iotkit_ota_manifest_free(m);
  return rc;
}

Test(ota_manifest, sign_then_parse_gives_the_fields) {
  iotkit_ota_manifest_t *m = NULL;
  cr_assert_eq(iotkit_ota_manifest_parse(manifest, strlen(manifest), &m), IOTKIT_OK);
  iotkit_ota_image_t img;
  cr_assert_eq(iotkit_ota_manifest_image(m, &img), IOTKIT_OK);
  cr_assert_str_eq(img.device_type, OTA_FX_DEVICE_TYPE);
  cr_assert_str_eq(img.version, "2.0.0");
  cr_assert_eq(img.size, 1000);
  cr_assert_str_eq(img.url, URL);
  uint8_t sha[32];
  iotkit_sha256(image, 1000, sha);
  cr_assert_arr_eq(img.sha256, sha, 32);
  cr_assert_str_eq(iotkit_ota_manifest_key_id(m), OTA_FX_KEY_ID);
  cr_assert_eq(iotkit_ota_manifest_verify(m, trust), IOTKIT_OK);
  iotkit_ota_manifest_free(m);
}

/* The example of docs/protocol.md, byte for byte. */
Test(ota_manifest, canonical_form_is_exact) {
  iotkit_ota_image_t img = {.device_type = "thermo-v2", .version = "2.1.0-rc.1", .size = 1048576,
                            .url = "https://updates.example.com/thermo-v2/2.1.0-rc.1.bin"};
  memset(img.sha256, 0xab, 32);
  img.sha256[0] = 0x01;
  char *json = NULL;
  cr_assert_eq(iotkit_ota_manifest_sign(&img, key, "fleet-2026", &json), IOTKIT_OK);
  iotkit_ota_manifest_t *m = NULL;
  cr_assert_eq(iotkit_ota_manifest_parse(json, strlen(json), &m), IOTKIT_OK);
  char *canon = NULL;
  cr_assert_eq(iotkit_ota_manifest_canonical(m, &canon), IOTKIT_OK);
  cr_assert_str_eq(canon,
                   "iotkit-ota-manifest/1\n"
                   "device_type:thermo-v2\n"
                   "version:2.1.0-rc.1\n"
                   "size:1048576\n"
                   "sha256:01ababababababababababababababababababababababababababababababab\n"
                   "url:https://updates.example.com/thermo-v2/2.1.0-rc.1.bin\n"
                   "key_id:fleet-2026\n");
  const char *prefix = "{\"device_type\":\"thermo-v2\",\"version\":\"2.1.0-rc.1\",\"size\":1048576,\"sha256\":\"01ab";
  cr_assert(strncmp(json, prefix, strlen(prefix)) == 0, "%s", json);
  iotkit_free(canon);
  iotkit_ota_manifest_free(m);
  iotkit_free(json);
}

Test(ota_manifest, p256_signed_manifest_verifies) {
  iotkit_key_t *p = ota_fx_key(hal, IOTKIT_KEY_P256);
  cr_assert_eq(iotkit_ota_trust_add(trust, "fleet-p256", p), IOTKIT_OK);
  char *j = ota_fx_manifest(p, "fleet-p256", OTA_FX_DEVICE_TYPE, "2.0.0", image, 1000, URL);
  cr_assert_eq(verify_rc(j), IOTKIT_OK);
  iotkit_free(j);
  iotkit_key_free(p);
}

Test(ota_manifest, unknown_key_id_is_refused) {
  iotkit_key_t *other = ota_fx_key(hal, IOTKIT_KEY_ED25519);
  char *j = ota_fx_manifest(other, "rogue", OTA_FX_DEVICE_TYPE, "2.0.0", image, 1000, URL);
  cr_assert_eq(verify_rc(j), IOTKIT_ERR_OTA_UNKNOWN_KEY);
  iotkit_free(j);
  iotkit_key_free(other);
}

Test(ota_manifest, other_key_under_a_trusted_id_is_refused) {
  iotkit_key_t *other = ota_fx_key(hal, IOTKIT_KEY_ED25519);
  char *j = ota_fx_manifest(other, OTA_FX_KEY_ID, OTA_FX_DEVICE_TYPE, "2.0.0", image, 1000, URL);
  cr_assert_eq(verify_rc(j), IOTKIT_ERR_OTA_SIGNATURE);
  iotkit_free(j);
  iotkit_key_free(other);
}

static void expect_modified(const char *from, const char *to) {
  char *j = edit(manifest, from, to);
  cr_assert_eq(verify_rc(j), IOTKIT_ERR_OTA_SIGNATURE, "%s", j);
  free(j);
}

Test(ota_manifest, modified_version_is_refused) { expect_modified("\"2.0.0\"", "\"2.0.1\""); }
Test(ota_manifest, modified_size_is_refused) { expect_modified("\"size\":1000", "\"size\":999"); }
Test(ota_manifest, modified_url_is_refused) { expect_modified("thermo-2.0.0", "thermo-6.6.6"); }
Test(ota_manifest, modified_device_type_is_refused) { expect_modified("\"thermo-v2\"", "\"thermo-v3\""); }
Test(ota_manifest, modified_sha256_is_refused) {
  char *at = strstr(manifest, "\"sha256\":\"") + 10;
  char from[12] = {0}, to[12] = {0};
  memcpy(from, at - 1, 5);
  memcpy(to, from, 5);
  to[1] = from[1] == '0' ? '1' : '0';
  expect_modified(from, to);
}
Test(ota_manifest, modified_signature_is_refused) {
  char *at = strstr(manifest, "\"signature\":\"") + 13;
  char from[8] = {0}, to[8] = {0};
  memcpy(from, at - 1, 4);
  memcpy(to, from, 4);
  to[2] = from[2] == 'A' ? 'B' : 'A';
  expect_modified(from, to);
}

Test(ota_manifest, key_rotation) {
  iotkit_key_t *next = ota_fx_key(hal, IOTKIT_KEY_ED25519);
  cr_assert_eq(iotkit_ota_trust_add(trust, "fleet-2027", next), IOTKIT_OK);
  cr_assert_eq(iotkit_ota_trust_count(trust), 2);
  char *j = ota_fx_manifest(next, "fleet-2027", OTA_FX_DEVICE_TYPE, "2.0.0", image, 1000, URL);
  cr_assert_eq(verify_rc(j), IOTKIT_OK);
  cr_assert_eq(verify_rc(manifest), IOTKIT_OK);
  cr_assert_eq(iotkit_ota_trust_remove(trust, OTA_FX_KEY_ID), IOTKIT_OK);
  cr_assert_eq(verify_rc(manifest), IOTKIT_ERR_OTA_UNKNOWN_KEY);
  cr_assert_eq(verify_rc(j), IOTKIT_OK);
  iotkit_free(j);
  iotkit_key_free(next);
}

/* ------------------------------------------------------ parse refusals -- */
static void expect_bad(const char *from, const char *to) {
  char *j = edit(manifest, from, to);
  cr_assert_eq(parse_rc(j), IOTKIT_ERR_OTA_MANIFEST, "%s", j);
  free(j);
}

Test(ota_manifest, not_json) { cr_assert_eq(parse_rc("{\"device_type\":"), IOTKIT_ERR_OTA_MANIFEST); }
Test(ota_manifest, not_an_object) { cr_assert_eq(parse_rc("[1,2]"), IOTKIT_ERR_OTA_MANIFEST); }
Test(ota_manifest, missing_member) { expect_bad("\"size\":1000,", ""); }
Test(ota_manifest, unknown_member) { expect_bad("\"size\":1000,", "\"size\":1000,\"extra\":1,"); }
Test(ota_manifest, duplicate_member) { expect_bad("\"size\":1000,", "\"size\":1000,\"size\":1000,"); }
Test(ota_manifest, size_as_string) { expect_bad("\"size\":1000", "\"size\":\"1000\""); }
Test(ota_manifest, size_zero) { expect_bad("\"size\":1000", "\"size\":0"); }
Test(ota_manifest, size_negative) { expect_bad("\"size\":1000", "\"size\":-1000"); }
Test(ota_manifest, size_fraction) { expect_bad("\"size\":1000", "\"size\":1000.5"); }
Test(ota_manifest, size_beyond_2_53) { expect_bad("\"size\":1000", "\"size\":18014398509481984"); }
Test(ota_manifest, sha256_upper_case) {
  char *at = strstr(manifest, "\"sha256\":\"") + 10;
  char from[72] = {0}, to[72] = {0};
  memcpy(from, at, 64);
  for (int i = 0; i < 64; i++) to[i] = (char)(from[i] >= 'a' ? from[i] - 32 : from[i]);
  if (strcmp(from, to) == 0) to[0] = 'G';
  expect_bad(from, to);
}
Test(ota_manifest, sha256_too_short) { expect_bad("\"sha256\":\"", "\"sha256\":\"0"); }
Test(ota_manifest, version_not_semver) { expect_bad("\"2.0.0\"", "\"2.0\""); }
Test(ota_manifest, url_other_scheme) { expect_bad("http://", "ftp://"); }
Test(ota_manifest, url_with_space) { expect_bad("/fw/", "/f w/"); }
Test(ota_manifest, device_type_with_slash) { expect_bad("\"thermo-v2\"", "\"thermo/v2\""); }
Test(ota_manifest, key_id_empty) { expect_bad("\"" OTA_FX_KEY_ID "\"", "\"\""); }
Test(ota_manifest, signature_not_base64url) { expect_bad("\"signature\":\"", "\"signature\":\"+"); }
Test(ota_manifest, signature_too_short) { expect_bad("\"signature\":\"", "\"signature\":\"AAAA\",\"x\":\""); }
Test(ota_manifest, trailing_garbage) {
  char *j = malloc(strlen(manifest) + 3);
  strcpy(j, manifest);
  strcat(j, " x");
  cr_assert_eq(parse_rc(j), IOTKIT_ERR_OTA_MANIFEST);
  free(j);
}
Test(ota_manifest, trailing_whitespace_is_fine) {
  char *j = malloc(strlen(manifest) + 3);
  strcpy(j, manifest);
  strcat(j, "\n");
  cr_assert_eq(parse_rc(j), IOTKIT_OK);
  free(j);
}
Test(ota_manifest, embedded_nul) { cr_assert_eq(iotkit_ota_manifest_parse("{}\0{}", 5, &(iotkit_ota_manifest_t *){0}), IOTKIT_ERR_OTA_MANIFEST); }
Test(ota_manifest, parse_null_args) {
  iotkit_ota_manifest_t *m = NULL;
  cr_assert_eq(iotkit_ota_manifest_parse(NULL, 1, &m), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_ota_manifest_parse("{}", 2, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_ota_manifest_verify(NULL, trust), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_ota_manifest_image(NULL, NULL), IOTKIT_ERR_INVALID_ARG);
}

/* ------------------------------------------------------- sign refusals -- */
Test(ota_manifest, sign_with_public_key_is_bad_key) {
  char *pem = NULL;
  iotkit_key_t *pub = NULL;
  cr_assert_eq(iotkit_key_export_public_pem(key, &pem), IOTKIT_OK);
  cr_assert_eq(iotkit_key_load(pem, strlen(pem), &pub), IOTKIT_OK);
  iotkit_ota_image_t img = {.device_type = "a", .version = "1.0.0", .size = 1, .url = URL};
  char *json = (char *)0x1;
  cr_assert_eq(iotkit_ota_manifest_sign(&img, pub, "k", &json), IOTKIT_ERR_BAD_KEY);
  cr_assert_eq(json, (char *)0x1);
  iotkit_free(pem);
  iotkit_key_free(pub);
}
Test(ota_manifest, sign_with_bad_version_is_invalid) {
  iotkit_ota_image_t img = {.device_type = "a", .version = "v1", .size = 1, .url = URL};
  char *json = NULL;
  cr_assert_eq(iotkit_ota_manifest_sign(&img, key, "k", &json), IOTKIT_ERR_INVALID_ARG);
}
Test(ota_manifest, sign_with_quote_in_url_is_invalid) {
  iotkit_ota_image_t img = {.device_type = "a", .version = "1.0.0", .size = 1, .url = "http://a/\"b"};
  char *json = NULL;
  cr_assert_eq(iotkit_ota_manifest_sign(&img, key, "k", &json), IOTKIT_ERR_INVALID_ARG);
}

/* --------------------------------------------------------- trust store -- */
Test(ota_manifest, trust_duplicate_id_exists) {
  cr_assert_eq(iotkit_ota_trust_add(trust, OTA_FX_KEY_ID, key), IOTKIT_ERR_EXISTS);
}
Test(ota_manifest, trust_bad_id_invalid) { cr_assert_eq(iotkit_ota_trust_add(trust, "a b", key), IOTKIT_ERR_INVALID_ARG); }
Test(ota_manifest, trust_remove_missing_not_found) {
  cr_assert_eq(iotkit_ota_trust_remove(trust, "nope"), IOTKIT_ERR_NOT_FOUND);
}
Test(ota_manifest, trust_pem_garbage_bad_encoding) {
  cr_assert_eq(iotkit_ota_trust_add_pem(trust, "x", "garbage", 7), IOTKIT_ERR_BAD_ENCODING);
}
Test(ota_manifest, trust_is_full_at_max) {
  char id[16];
  for (int i = 1; i < IOTKIT_OTA_MAX_KEYS; i++) {
    snprintf(id, sizeof id, "k%d", i);
    cr_assert_eq(iotkit_ota_trust_add(trust, id, key), IOTKIT_OK);
  }
  cr_assert_eq(iotkit_ota_trust_add(trust, "one-more", key), IOTKIT_ERR_TOO_LARGE);
}

/* ------------------------------------------------------------ versions -- */
Test(ota_manifest, semver_precedence_of_the_spec) {
  static const char *const order[] = {"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
                                      "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1",      "1.0.0",
                                      "1.9.0",       "1.10.0",        "2.0.0",            "10.0.0"};
  size_t n = sizeof(order) / sizeof(order[0]);
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) {
      int c = 9;
      cr_assert_eq(iotkit_ota_version_compare(order[i], order[j], &c), IOTKIT_OK);
      cr_assert_eq(c, i < j ? -1 : (i > j), "%s vs %s", order[i], order[j]);
    }
}
Test(ota_manifest, semver_build_metadata_is_ignored) {
  int c = 9;
  cr_assert_eq(iotkit_ota_version_compare("1.0.0+b1", "1.0.0+b2.x", &c), IOTKIT_OK);
  cr_assert_eq(c, 0);
}
Test(ota_manifest, semver_invalid_forms) {
  static const char *const bad[] = {"1.0", "01.0.0", "1.0.0-", "1.0.0-01", "1.0.0+", "v1.0.0", "1.0.0 ",
                                    "1..0", "1.0.0-a..b", "1.0.0-a.", "18446744073709551616.0.0", ""};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    int c = 9;
    cr_assert_eq(iotkit_ota_version_compare(bad[i], "1.0.0", &c), IOTKIT_ERR_INVALID_ARG, "'%s'", bad[i]);
    cr_assert_eq(c, 9);
  }
}

/* The manifest size limit (docs/architecture.md, "Fuzzing"): 8 KiB, the hub's and the device's. */
static char *padded(size_t n) {
  size_t len = strlen(manifest);
  char *big = malloc(n);
  cr_assert_not_null(big);
  memcpy(big, manifest, len - 1); /* the manifest without its closing brace, padded with spaces */
  memset(big + len - 1, ' ', n - len);
  big[n - 1] = '}';
  return big;
}

Test(ota_manifest, exactly_8_kib_is_read) {
  char *big = padded(8192);
  iotkit_ota_manifest_t *m = NULL;
  cr_assert_eq(iotkit_ota_manifest_parse(big, 8192, &m), IOTKIT_OK);
  iotkit_ota_manifest_free(m);
  free(big);
}

Test(ota_manifest, larger_than_8_kib_is_refused) {
  char *big = padded(8193);
  iotkit_ota_manifest_t *m = NULL;
  cr_assert_eq(iotkit_ota_manifest_parse(big, 8193, &m), IOTKIT_ERR_OTA_MANIFEST);
  cr_assert_null(m);
  free(big);
}
