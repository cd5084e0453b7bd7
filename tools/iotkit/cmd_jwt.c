/* iotkit jwt make | verify: device tokens from the command line. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const cli_command_t jwt_commands[] = {
    {"make", cmd_jwt_make, "mint a device token signed with a private key"},
    {"verify", cmd_jwt_verify, "verify a token with a public key"},
    {NULL, NULL, NULL},
};

int cmd_jwt(int argc, char **argv) { return cli_dispatch("jwt", jwt_commands, argc - 1, argv + 1); }

/* Longest token printed: an RSA-8192 signature and the claims fit easily. */
#define TOKEN_CAP 4096

/* Made with the provider a device uses: iss = sub = the id, aud, iat = now, exp = now + ttl. */
int cmd_jwt_make(int argc, char **argv) {
  const char *key_path = NULL, *alg_text = NULL, *sub = NULL, *aud = NULL, *kid = NULL, *ttl_text = "3600";
  const cli_opt_t opts[] = {{"key", &key_path, NULL}, {"alg", &alg_text, NULL}, {"sub", &sub, NULL},
                            {"aud", &aud, NULL},      {"kid", &kid, NULL},      {"ttl", &ttl_text, NULL}};
  int code = cli_parse_opts(argc, argv, opts, sizeof opts / sizeof opts[0]);
  if (code != CLI_EXIT_OK) return code;
  if (!key_path || !alg_text || !sub) return cli_usage_error("jwt make: --key, --alg and --sub are required");
  iotkit_jwt_provider_config_t cfg;
  iotkit_jwt_provider_config_init(&cfg);
  unsigned long ttl = 0;
  if (!cli_parse_jwt_alg(alg_text, &cfg.alg) || !cli_parse_num("ttl", ttl_text, 60, IOTKIT_JWT_LIFETIME_MAX_S, &ttl))
    return CLI_EXIT_USAGE;
  iotkit_key_t *key = NULL;
  code = cli_load_key("key", key_path, &key);
  if (code != CLI_EXIT_OK) return code;
  iotkit_hal_t hal;
  cli_crypto_hal(&hal);
  cfg.key = key;
  cfg.hal = &hal;
  cfg.device_id = sub;
  cfg.audience = aud;
  cfg.kid = kid;
  cfg.lifetime_s = (uint32_t)ttl;
  iotkit_jwt_provider_t *p = NULL;
  char token[TOKEN_CAP];
  iotkit_err_t rc = iotkit_jwt_provider_new(&cfg, &p);
  if (rc == IOTKIT_OK) rc = iotkit_jwt_provider_get(p, token, sizeof token, NULL);
  if (rc == IOTKIT_OK) {
    puts(token);
  } else if (rc == IOTKIT_ERR_INVALID_ARG) {
    code = cli_usage_error("jwt make: --sub wants 1..128 of [A-Za-z0-9._-], --aud and --kid non-empty text");
  } else {
    code = cli_crypto_error("jwt make", rc, CLI_EXIT_USAGE); /* e.g. a key that does not fit --alg */
  }
  iotkit_jwt_provider_free(p);
  iotkit_key_free(key);
  return code;
}

/* The token is the last argument; the options come before it. */
int cmd_jwt_verify(int argc, char **argv) {
  if (argc < 2 || strncmp(argv[argc - 1], "--", 2) == 0) return cli_usage_error("jwt verify: the TOKEN is missing");
  const char *token = argv[argc - 1];
  const char *pub_path = NULL, *alg_text = NULL, *aud = NULL, *leeway_text = "0";
  const cli_opt_t opts[] = {
      {"pub", &pub_path, NULL}, {"alg", &alg_text, NULL}, {"aud", &aud, NULL}, {"leeway", &leeway_text, NULL}};
  int code = cli_parse_opts(argc - 1, argv, opts, sizeof opts / sizeof opts[0]);
  if (code != CLI_EXIT_OK) return code;
  if (!pub_path || !alg_text) return cli_usage_error("jwt verify: --pub and --alg are required");
  iotkit_jwt_verify_opts_t o;
  iotkit_jwt_verify_opts_init(&o);
  unsigned long leeway = 0;
  if (!cli_parse_jwt_alg(alg_text, &o.alg) || !cli_parse_num("leeway", leeway_text, 0, IOTKIT_JWT_MAX_LEEWAY_S, &leeway))
    return CLI_EXIT_USAGE;
  iotkit_key_t *key = NULL;
  code = cli_load_key("pub", pub_path, &key);
  if (code != CLI_EXIT_OK) return code;
  iotkit_hal_t hal;
  cli_crypto_hal(&hal);
  o.key = key;
  o.hal = &hal;
  o.audience = aud;
  o.leeway_s = (uint32_t)leeway;
  iotkit_err_t rc = iotkit_jwt_verify(token, &o, NULL);
  char *payload = NULL;
  if (rc == IOTKIT_OK) rc = iotkit_jws_verify(token, o.alg, key, &payload, NULL);
  if (rc == IOTKIT_OK) {
    printf("valid: %s\n", payload);
  } else {
    code = cli_crypto_error("jwt verify", rc, CLI_EXIT_REFUSED);
  }
  iotkit_free(payload);
  iotkit_key_free(key);
  return code;
}
