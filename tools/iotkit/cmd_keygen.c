/* iotkit keygen: a new Ed25519 or P-256 key pair as PEM. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* Enough for a PKCS#8 PEM of Ed25519 (119 bytes) or P-256 (241 bytes). */
#define PEM_CAP 1024

static void wipe(char *p, size_t n) {
  volatile char *v = p;
  while (n--) *v++ = 0;
}

static bool write_all(int fd, const char *text, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, text, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    text += n;
    len -= (size_t)n;
  }
  return true;
}

/* Write text to a new file of the given mode (an existing file is never replaced). */
static int write_new_file(const char *option, const char *path, const char *text, mode_t mode) {
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
  if (fd < 0) {
    fprintf(stderr, "iotkit: keygen: cannot create --%s '%s': %s\n", option, path, strerror(errno));
    return CLI_EXIT_USAGE;
  }
  bool ok = write_all(fd, text, strlen(text));
  if (close(fd) != 0) ok = false;
  if (!ok) {
    fprintf(stderr, "iotkit: keygen: cannot write --%s '%s': %s\n", option, path, strerror(errno));
    unlink(path);
    return CLI_EXIT_USAGE;
  }
  return CLI_EXIT_OK;
}

static int parse_type(const char *text, iotkit_key_type_t *type) {
  if (text && strcmp(text, "ed25519") == 0) {
    *type = IOTKIT_KEY_ED25519;
  } else if (text && strcmp(text, "p256") == 0) {
    *type = IOTKIT_KEY_P256;
  } else {
    return cli_usage_error("keygen: --type wants ed25519 or p256, not '%s'", text ? text : "");
  }
  return CLI_EXIT_OK;
}

/* Private key to --out (mode 0600) or stdout; public key to --pub, or to stdout when --out is given. */
static int emit(const iotkit_key_t *key, const char *out, const char *pub) {
  char priv[PEM_CAP];
  size_t len = 0;
  char *pub_pem = NULL;
  iotkit_err_t rc = iotkit_key_export_private_pem(key, priv, sizeof priv, &len);
  if (rc == IOTKIT_OK) rc = iotkit_key_export_public_pem(key, &pub_pem);
  if (rc != IOTKIT_OK) return cli_crypto_error("keygen", rc, CLI_EXIT_USAGE);
  int code = out ? write_new_file("out", out, priv, 0600) : (fputs(priv, stdout) >= 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE);
  wipe(priv, sizeof priv);
  if (code == CLI_EXIT_OK && pub) {
    code = write_new_file("pub", pub, pub_pem, 0644);
    if (code != CLI_EXIT_OK && out) unlink(out); /* a half-made pair is worse than none */
  } else if (code == CLI_EXIT_OK && out) {
    fputs(pub_pem, stdout);
  }
  iotkit_free(pub_pem);
  return code;
}

int cmd_keygen(int argc, char **argv) {
  const char *type_text = NULL, *out = NULL, *pub = NULL;
  const cli_opt_t opts[] = {{"type", &type_text, NULL}, {"out", &out, NULL}, {"pub", &pub, NULL}};
  int code = cli_parse_opts(argc, argv, opts, sizeof opts / sizeof opts[0]);
  if (code != CLI_EXIT_OK) return code;
  if (!type_text) return cli_usage_error("keygen: --type is required (ed25519 or p256)");
  iotkit_key_type_t type;
  code = parse_type(type_text, &type);
  if (code != CLI_EXIT_OK) return code;
  if (out && pub && strcmp(out, pub) == 0) return cli_usage_error("keygen: --out and --pub name the same file");
  iotkit_hal_t hal;
  cli_crypto_hal(&hal);
  iotkit_key_t *key = NULL;
  iotkit_err_t rc = iotkit_key_generate(&hal, type, &key);
  if (rc != IOTKIT_OK) return cli_crypto_error("keygen", rc, CLI_EXIT_USAGE);
  code = emit(key, out, pub);
  iotkit_key_free(key);
  return code;
}
