/* `iotkit ota sign` and `iotkit ota verify`, run as a user would: good manifests, tampering, wrong keys. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iotkit/iotkit.h>

#include "cli_run.h"
#include "hal_tmpdir.h"

#define CLI IOTKIT_BINARY_DIR "/tools/iotkit/iotkit"
#define URL "http://127.0.0.1:8080/files/fw.bin"

static char dir[256];
static char key[300], pub[300], key2[300], pub2[300], image[300], manifest[300], other[300];
static cli_result_t r;

static int iotkit(const char *const *args) {
  cli_run(CLI, dir, args, &r);
  return r.status;
}

static void write_file(const char *path, const void *data, size_t len) {
  FILE *f = fopen(path, "wb");
  cr_assert(f);
  cr_assert_eq(fwrite(data, 1, len, f), len);
  cr_assert_eq(fclose(f), 0);
}

/* Sign `image` with `key` into `manifest`. */
static void sign(const char *version, const char *key_id) {
  const char *args[] = {"ota", "sign", "--key", key, "--version", version, "--url", URL, "--device-type", "thermo-v2",
                        "--key-id", key_id, image, NULL};
  cr_assert_eq(iotkit(args), 0, "ota sign: %s", r.err);
  write_file(manifest, r.out, strlen(r.out));
}

static void setup(void) {
  hal_tmpdir_make(dir, sizeof dir);
  snprintf(key, sizeof key, "%s/k.pem", dir);
  snprintf(pub, sizeof pub, "%s/k.pub", dir);
  snprintf(key2, sizeof key2, "%s/k2.pem", dir);
  snprintf(pub2, sizeof pub2, "%s/k2.pub", dir);
  snprintf(image, sizeof image, "%s/fw.bin", dir);
  snprintf(manifest, sizeof manifest, "%s/manifest.json", dir);
  snprintf(other, sizeof other, "%s/other.json", dir);
  const char *k1[] = {"keygen", "--type", "ed25519", "--out", key, "--pub", pub, NULL};
  cr_assert_eq(iotkit(k1), 0, "%s", r.err);
  const char *k2[] = {"keygen", "--type", "p256", "--out", key2, "--pub", pub2, NULL};
  cr_assert_eq(iotkit(k2), 0, "%s", r.err);
  unsigned char data[5000];
  for (size_t i = 0; i < sizeof data; i++) data[i] = (unsigned char)(i * 7 + 3);
  write_file(image, data, sizeof data);
}

static void teardown(void) { hal_tmpdir_remove(dir); }

TestSuite(cli_ota_sign, .init = setup, .fini = teardown, .timeout = 60);

Test(cli_ota_sign, sign_prints_a_manifest_the_library_parses_with_the_image_digest) {
  sign("2.1.0", "fleet-1");
  iotkit_ota_manifest_t *m = NULL;
  cr_assert_eq(iotkit_ota_manifest_parse(r.out, strcspn(r.out, "\n"), &m), IOTKIT_OK, "%s", r.out);
  iotkit_ota_image_t img;
  cr_assert_eq(iotkit_ota_manifest_image(m, &img), IOTKIT_OK);
  cr_expect_str_eq(img.version, "2.1.0");
  cr_expect_str_eq(img.device_type, "thermo-v2");
  cr_expect_str_eq(img.url, URL);
  cr_expect_eq(img.size, 5000u);
  cr_expect_str_eq(iotkit_ota_manifest_key_id(m), "fleet-1");
  unsigned char data[5000];
  for (size_t i = 0; i < sizeof data; i++) data[i] = (unsigned char)(i * 7 + 3);
  uint8_t digest[IOTKIT_SHA256_LEN];
  cr_assert_eq(iotkit_sha256(data, sizeof data, digest), IOTKIT_OK);
  cr_expect_arr_eq(img.sha256, digest, sizeof digest);
  iotkit_ota_manifest_free(m);
}

Test(cli_ota_sign, verify_accepts_a_good_manifest_and_image) {
  sign("2.1.0", "fleet-1");
  const char *args[] = {"ota", "verify", "--pub", pub, manifest, image, NULL};
  cr_assert_eq(iotkit(args), 0, "%s", r.err);
  cr_expect(strstr(r.out, "valid: thermo-v2 2.1.0, 5000 bytes, key fleet-1, image matches"), "%s", r.out);
}

Test(cli_ota_sign, verify_accepts_a_p256_signature) {
  const char *args[] = {"ota", "sign", "--key", key2, "--version", "1.0.1", "--url", URL, image, NULL};
  cr_assert_eq(iotkit(args), 0, "ota sign: %s", r.err);
  write_file(manifest, r.out, strlen(r.out));
  const char *v[] = {"ota", "verify", "--pub", pub2, manifest, NULL};
  cr_assert_eq(iotkit(v), 0, "%s", r.err);
  cr_expect(strstr(r.out, "valid: iotkit-sim 1.0.1"), "%s", r.out);
}

Test(cli_ota_sign, verify_refuses_a_field_changed_after_signing) {
  sign("2.1.0", "fleet-1");
  char *p = strstr(r.out, "\"2.1.0\"");
  cr_assert(p);
  p[1] = '9';
  write_file(other, r.out, strlen(r.out));
  const char *args[] = {"ota", "verify", "--pub", pub, other, NULL};
  cr_expect_eq(iotkit(args), 4);
  cr_expect(strstr(r.err, "IOTKIT_ERR_OTA_SIGNATURE"), "%s", r.err);
}

Test(cli_ota_sign, verify_refuses_a_tampered_image) {
  sign("2.1.0", "fleet-1");
  unsigned char data[5000];
  for (size_t i = 0; i < sizeof data; i++) data[i] = (unsigned char)(i * 7 + 3);
  data[1234] ^= 0x01; /* one flipped bit */
  write_file(image, data, sizeof data);
  const char *args[] = {"ota", "verify", "--pub", pub, manifest, image, NULL};
  cr_expect_eq(iotkit(args), 4);
  cr_expect(strstr(r.err, "IOTKIT_ERR_OTA_HASH"), "%s", r.err);
}

Test(cli_ota_sign, verify_refuses_a_truncated_image) {
  sign("2.1.0", "fleet-1");
  write_file(image, "abc", 3);
  const char *args[] = {"ota", "verify", "--pub", pub, manifest, image, NULL};
  cr_expect_eq(iotkit(args), 4);
  cr_expect(strstr(r.err, "IOTKIT_ERR_OTA_SIZE"), "%s", r.err);
}

Test(cli_ota_sign, verify_refuses_the_wrong_key) {
  sign("2.1.0", "fleet-1");
  const char *args[] = {"ota", "verify", "--pub", pub2, manifest, NULL};
  cr_expect_eq(iotkit(args), 4);
  cr_expect(strstr(r.err, "IOTKIT_ERR_OTA_SIGNATURE"), "%s", r.err);
}

Test(cli_ota_sign, verify_refuses_another_key_id) {
  sign("2.1.0", "fleet-1");
  const char *args[] = {"ota", "verify", "--pub", pub, "--key-id", "fleet-2", manifest, NULL};
  cr_expect_eq(iotkit(args), 4);
  cr_expect(strstr(r.err, "IOTKIT_ERR_OTA_UNKNOWN_KEY"), "%s", r.err);
}

Test(cli_ota_sign, verify_refuses_a_malformed_manifest) {
  write_file(other, "{\"version\":\"1.0.0\"}\n", 20);
  const char *args[] = {"ota", "verify", "--pub", pub, other, NULL};
  cr_expect_eq(iotkit(args), 4);
  cr_expect(strstr(r.err, "IOTKIT_ERR_OTA_MANIFEST"), "%s", r.err);
}

Test(cli_ota_sign, sign_without_the_image_is_a_usage_error) {
  const char *args[] = {"ota", "sign", "--key", key, "--version", "1.0.0", "--url", URL, NULL};
  cr_expect_eq(iotkit(args), 1);
  cr_expect(strstr(r.err, "IMAGE are required"), "%s", r.err);
}

Test(cli_ota_sign, sign_with_a_bad_version_is_a_usage_error) {
  const char *args[] = {"ota", "sign", "--key", key, "--version", "one", "--url", URL, image, NULL};
  cr_expect_eq(iotkit(args), 1);
  cr_expect(strstr(r.err, "semantic version"), "%s", r.err);
}

Test(cli_ota_sign, sign_with_a_missing_image_file_is_a_usage_error) {
  const char *args[] = {"ota", "sign", "--key", key, "--version", "1.0.0", "--url", URL, other, NULL};
  cr_expect_eq(iotkit(args), 1);
  cr_expect(strstr(r.err, "cannot open"), "%s", r.err);
}

Test(cli_ota_sign, sign_with_a_public_key_fails) {
  const char *args[] = {"ota", "sign", "--key", pub, "--version", "1.0.0", "--url", URL, image, NULL};
  cr_expect_eq(iotkit(args), 1);
  cr_expect(strstr(r.err, "IOTKIT_ERR_"), "%s", r.err);
}

Test(cli_ota_sign, verify_without_pub_is_a_usage_error) {
  const char *args[] = {"ota", "verify", manifest, NULL};
  cr_expect_eq(iotkit(args), 1);
}

Test(cli_ota_sign, push_without_id_is_a_usage_error) {
  const char *args[] = {"ota", "push", "--uri", "mqtt://127.0.0.1:1", manifest, NULL};
  cr_expect_eq(iotkit(args), 1);
  cr_expect(strstr(r.err, "--id"), "%s", r.err);
}
