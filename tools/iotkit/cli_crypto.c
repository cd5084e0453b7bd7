/* Pieces shared by the crypto commands (keygen, jwt): a HAL for randomness and time, algorithms, errors. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "cli.h"

/* The kernel's generator: keys are made from it (the memory HAL's generator is for tests only). */
static iotkit_err_t os_random(void *ctx, void *buf, size_t len) {
  (void)ctx;
  unsigned char *p = buf;
  while (len > 0) {
    ssize_t n = getrandom(p, len, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return IOTKIT_ERR_IO;
    }
    p += n;
    len -= (size_t)n;
  }
  return IOTKIT_OK;
}

static int64_t os_wall_ms(void *ctx) {
  (void)ctx;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cli_crypto_hal(iotkit_hal_t *hal) {
  iotkit_hal_init(hal);
  hal->random = os_random;
  hal->wall_ms = os_wall_ms;
}

bool cli_parse_jwt_alg(const char *text, iotkit_jwt_alg_t *alg) {
  static const iotkit_jwt_alg_t algs[] = {IOTKIT_JWT_EDDSA, IOTKIT_JWT_ES256, IOTKIT_JWT_RS256};
  for (size_t i = 0; text && i < sizeof algs / sizeof algs[0]; i++) {
    if (strcmp(text, iotkit_jwt_alg_name(algs[i])) == 0) {
      *alg = algs[i];
      return true;
    }
  }
  cli_usage_error("--alg wants EdDSA, ES256 or RS256, not '%s'", text ? text : "");
  return false;
}

int cli_crypto_error(const char *what, iotkit_err_t err, int code) {
  fprintf(stderr, "iotkit: %s: %s (%s)\n", what, iotkit_strerror(err), iotkit_err_name(err));
  return code;
}

int cli_load_key(const char *option, const char *path, iotkit_key_t **key) {
  iotkit_err_t rc = iotkit_key_load_file(path, key);
  if (rc == IOTKIT_OK) return CLI_EXIT_OK;
  fprintf(stderr, "iotkit: cannot load the key of --%s '%s': %s (%s)\n", option, path, iotkit_strerror(rc),
          iotkit_err_name(rc));
  return CLI_EXIT_USAGE;
}
