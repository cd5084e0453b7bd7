/* iotkit ota sign | verify | push: OTA manifests from the command line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define DEFAULT_KEY_ID "iotkit"
#define DEFAULT_DEVICE_TYPE "iotkit-sim"
#define MANIFEST_MAX 8192

static const cli_command_t ota_commands[] = {
    {"sign", cmd_ota_sign, "sign an image into a manifest"},
    {"verify", cmd_ota_verify, "check a manifest (and an image) with a public key"},
    {"push", cmd_ota_push, "publish a manifest to a device and follow its update"},
    {NULL, NULL, NULL},
};

int cmd_ota(int argc, char **argv) { return cli_dispatch("ota", ota_commands, argc - 1, argv + 1); }

/* Size and SHA-256 of the file @p path; prints the problem. */
static bool hash_file(const char *path, uint64_t *size, uint8_t digest[IOTKIT_SHA256_LEN]) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "iotkit: cannot open '%s': %s\n", path, strerror(errno));
    return false;
  }
  iotkit_sha256_t *h = NULL;
  iotkit_err_t rc = iotkit_sha256_new(&h);
  static unsigned char buf[1 << 16];
  uint64_t total = 0;
  size_t got;
  while (rc == IOTKIT_OK && (got = fread(buf, 1, sizeof buf, f)) > 0) {
    rc = iotkit_sha256_update(h, buf, got);
    total += got;
  }
  bool ok = rc == IOTKIT_OK && !ferror(f);
  if (ok) rc = iotkit_sha256_final(h, digest);
  iotkit_sha256_free(h);
  fclose(f);
  if (!ok || rc != IOTKIT_OK) {
    fprintf(stderr, "iotkit: cannot read '%s'\n", path);
    return false;
  }
  *size = total;
  return true;
}

char *cli_read_manifest(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "iotkit: cannot open '%s': %s\n", path, strerror(errno));
    return NULL;
  }
  char *text = malloc(MANIFEST_MAX + 2);
  size_t n = text ? fread(text, 1, MANIFEST_MAX + 1, f) : 0;
  fclose(f);
  if (!text || n > MANIFEST_MAX) {
    fprintf(stderr, "iotkit: '%s' is larger than a manifest can be (8 KiB)\n", path);
    free(text);
    return NULL;
  }
  while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r')) n--;
  text[n] = '\0';
  *len = n;
  return text;
}

int cmd_ota_sign(int argc, char **argv) {
  const char *key_path = NULL, *version = NULL, *url = NULL, *type = DEFAULT_DEVICE_TYPE, *key_id = DEFAULT_KEY_ID;
  const cli_opt_t opts[] = {{"key", &key_path, NULL}, {"version", &version, NULL}, {"url", &url, NULL},
                            {"device-type", &type, NULL}, {"key-id", &key_id, NULL}};
  const char *pos[1];
  size_t npos = 0;
  if (cli_parse_positional(argc, argv, opts, sizeof opts / sizeof opts[0], pos, 1, &npos) != CLI_EXIT_OK)
    return CLI_EXIT_USAGE;
  if (!key_path || !version || !url || npos != 1)
    return cli_usage_error("ota sign: --key, --version, --url and the IMAGE are required");
  iotkit_ota_image_t img = {.device_type = type, .version = version, .url = url};
  if (!hash_file(pos[0], &img.size, img.sha256)) return CLI_EXIT_USAGE;
  iotkit_key_t *key = NULL;
  int code = cli_load_key("key", key_path, &key);
  if (code != CLI_EXIT_OK) return code;
  char *json = NULL;
  iotkit_err_t rc = iotkit_ota_manifest_sign(&img, key, key_id, &json);
  iotkit_key_free(key);
  if (rc == IOTKIT_ERR_INVALID_ARG)
    return cli_usage_error("ota sign: --version wants a semantic version, --device-type and --key-id 1..64 of "
                           "[A-Za-z0-9._-], --url an http(s) or coap(s) URL, the image 1 byte or more");
  if (rc != IOTKIT_OK) return cli_crypto_error("ota sign", rc, CLI_EXIT_USAGE);
  puts(json);
  iotkit_free(json);
  return CLI_EXIT_OK;
}

/* The image matches the manifest's size and digest? Prints the refusal. */
static int check_image(const char *path, const iotkit_ota_image_t *img) {
  uint64_t size = 0;
  uint8_t digest[IOTKIT_SHA256_LEN];
  if (!hash_file(path, &size, digest)) return CLI_EXIT_USAGE;
  if (size != img->size) return cli_crypto_error("ota verify: the image", IOTKIT_ERR_OTA_SIZE, CLI_EXIT_REFUSED);
  if (memcmp(digest, img->sha256, sizeof digest) != 0)
    return cli_crypto_error("ota verify: the image", IOTKIT_ERR_OTA_HASH, CLI_EXIT_REFUSED);
  return CLI_EXIT_OK;
}

int cmd_ota_verify(int argc, char **argv) {
  const char *pub_path = NULL, *key_id = NULL;
  const cli_opt_t opts[] = {{"pub", &pub_path, NULL}, {"key-id", &key_id, NULL}};
  const char *pos[2];
  size_t npos = 0;
  if (cli_parse_positional(argc, argv, opts, sizeof opts / sizeof opts[0], pos, 2, &npos) != CLI_EXIT_OK)
    return CLI_EXIT_USAGE;
  if (!pub_path || npos < 1) return cli_usage_error("ota verify: --pub and the MANIFEST are required");
  size_t len = 0;
  char *text = cli_read_manifest(pos[0], &len);
  if (!text) return CLI_EXIT_USAGE;
  iotkit_ota_manifest_t *m = NULL;
  iotkit_ota_trust_t *trust = NULL;
  iotkit_key_t *key = NULL;
  int code = CLI_EXIT_OK;
  iotkit_err_t rc = iotkit_ota_manifest_parse(text, len, &m);
  if (rc != IOTKIT_OK) code = cli_crypto_error("ota verify", rc, CLI_EXIT_REFUSED);
  if (code == CLI_EXIT_OK) code = cli_load_key("pub", pub_path, &key);
  if (code == CLI_EXIT_OK) {
    /* Without --key-id the key is trusted under the manifest's own id. */
    rc = iotkit_ota_trust_new(&trust);
    if (rc == IOTKIT_OK) rc = iotkit_ota_trust_add(trust, key_id ? key_id : iotkit_ota_manifest_key_id(m), key);
    if (rc != IOTKIT_OK) code = cli_crypto_error("ota verify: --pub/--key-id", rc, CLI_EXIT_USAGE);
  }
  if (code == CLI_EXIT_OK && (rc = iotkit_ota_manifest_verify(m, trust)) != IOTKIT_OK)
    code = cli_crypto_error("ota verify", rc, CLI_EXIT_REFUSED);
  iotkit_ota_image_t img;
  if (code == CLI_EXIT_OK) iotkit_ota_manifest_image(m, &img);
  if (code == CLI_EXIT_OK && npos == 2) code = check_image(pos[1], &img);
  if (code == CLI_EXIT_OK)
    printf("valid: %s %s, %llu bytes, key %s%s\n", img.device_type, img.version, (unsigned long long)img.size,
           iotkit_ota_manifest_key_id(m), npos == 2 ? ", image matches" : "");
  iotkit_ota_trust_free(trust);
  iotkit_key_free(key);
  iotkit_ota_manifest_free(m);
  free(text);
  return code;
}
