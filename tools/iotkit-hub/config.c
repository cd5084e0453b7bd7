/* Configuration: defaults, a "key = value" file, command-line flags. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hub.h"

void hub_config_init(hub_config_t *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->log_level = HUB_LOG_INFO;
  cfg->max_payload = 256 * 1024;
  cfg->command_queue = 16;
  cfg->session_timeout_s = 300;
}

void hub_config_clear(hub_config_t *cfg) {
  char **strs[] = {&cfg->coap_listen, &cfg->coaps_listen, &cfg->http_listen, &cfg->https_cert, &cfg->https_key,
                   &cfg->mqtt_uri,    &cfg->psk_file,     &cfg->prefix,      &cfg->client_id,  &cfg->packet_loss};
  for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
    free(*strs[i]);
    *strs[i] = NULL;
  }
}

static bool set_str(char **dst, const char *value) {
  char *copy = strdup(value);
  if (!copy) return false;
  free(*dst);
  *dst = copy;
  return true;
}

static bool parse_bool(const char *v, bool *out) {
  if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on")) {
    *out = true;
  } else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off")) {
    *out = false;
  } else {
    return false;
  }
  return true;
}

static bool parse_ulong(const char *v, unsigned long lo, unsigned long hi, unsigned long *out) {
  char *end = NULL;
  errno = 0;
  unsigned long n = strtoul(v, &end, 10);
  if (errno || end == v || *end || v[0] == '-' || n < lo || n > hi) return false;
  *out = n;
  return true;
}

/* Keys accept '-' or '_' between words: "coap-listen" and "coap_listen" are one. */
static bool key_is(const char *key, const char *name) {
  for (; *key && *name; key++, name++) {
    char k = *key == '-' ? '_' : *key;
    if (k != *name) return false;
  }
  return *key == *name;
}

bool hub_config_set(hub_config_t *cfg, const char *key, const char *value) {
  unsigned long n = 0;
  if (!key || !value) return false;
  if (key_is(key, "coap_listen")) return set_str(&cfg->coap_listen, value);
  if (key_is(key, "coaps_listen")) return set_str(&cfg->coaps_listen, value);
  if (key_is(key, "http_listen")) return set_str(&cfg->http_listen, value);
  if (key_is(key, "https_cert")) return set_str(&cfg->https_cert, value);
  if (key_is(key, "https_key")) return set_str(&cfg->https_key, value);
  if (key_is(key, "allow_insecure_http")) return parse_bool(value, &cfg->allow_insecure_http);
  if (key_is(key, "mqtt_uri")) return set_str(&cfg->mqtt_uri, value);
  if (key_is(key, "psk_file")) return set_str(&cfg->psk_file, value);
  if (key_is(key, "topic_prefix")) return iotkit_protocol_prefix_valid(value) && set_str(&cfg->prefix, value);
  if (key_is(key, "client_id")) return value[0] && set_str(&cfg->client_id, value);
  if (key_is(key, "packet_loss")) return set_str(&cfg->packet_loss, value);
  if (key_is(key, "allow_insecure_coap")) return parse_bool(value, &cfg->allow_insecure_coap);
  if (key_is(key, "log_level")) return hub_log_parse_level(value, &cfg->log_level);
  if (key_is(key, "max_payload")) {
    if (!parse_ulong(value, 1, 64ul * 1024 * 1024, &n)) return false;
    cfg->max_payload = n;
    return true;
  }
  if (key_is(key, "command_queue")) {
    if (!parse_ulong(value, 1, 4096, &n)) return false;
    cfg->command_queue = (unsigned)n;
    return true;
  }
  if (key_is(key, "session_timeout_s")) {
    if (!parse_ulong(value, 1, 86400, &n)) return false;
    cfg->session_timeout_s = (unsigned)n;
    return true;
  }
  return false;
}

static char *trim(char *s) {
  while (*s == ' ' || *s == '\t') s++;
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r')) s[--n] = '\0';
  return s;
}

bool hub_config_load(hub_config_t *cfg, const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) {
    hub_log(HUB_LOG_ERROR, "config %s: %s", path, strerror(errno));
    return false;
  }
  char line[1024];
  bool ok = true;
  for (int lineno = 1; ok && fgets(line, sizeof line, f); lineno++) {
    char *s = trim(line);
    if (*s == '\0' || *s == '#') continue;
    char *eq = strchr(s, '=');
    if (!eq) {
      hub_log(HUB_LOG_ERROR, "config %s:%d: expected 'key = value'", path, lineno);
      ok = false;
      break;
    }
    *eq = '\0';
    char *key = trim(s), *value = trim(eq + 1);
    if (!hub_config_set(cfg, key, value)) {
      hub_log(HUB_LOG_ERROR, "config %s:%d: unknown key or bad value for '%s'", path, lineno, key);
      ok = false;
    }
  }
  fclose(f);
  return ok;
}

static const char k_usage[] =
    "usage: iotkit-hub [options]\n"
    "  --config FILE            read options from FILE (key = value lines; keys as below with '_')\n"
    "  --coaps-listen HOST:PORT serve coaps:// (DTLS-PSK) here\n"
    "  --coap-listen HOST:PORT  serve plain coap:// here (needs --allow-insecure-coap)\n"
    "  --allow-insecure-coap    accept plain coap:// (devices are not authenticated: tests, development)\n"
    "  --http-listen HOST:PORT  serve the HTTP routes here (HTTPS with --https-cert and --https-key)\n"
    "  --https-cert FILE, --https-key FILE   PEM certificate and key of the HTTP front\n"
    "  --allow-insecure-http    accept --http-listen without TLS (tokens in clear: tests, development)\n"
    "  --psk-file FILE          device keys: one 'device-id hexkey' per line ('#' comments)\n"
    "  --mqtt-uri URI           broker, mqtt://[user:password@]host[:port] (default mqtt://127.0.0.1:1883)\n"
    "  --topic-prefix P         channel prefix (default " IOTKIT_TOPIC_PREFIX_DEFAULT ")\n"
    "  --client-id ID           MQTT client id (default iotkit-hub-<pid>)\n"
    "  --max-payload BYTES      largest request body (default 262144)\n"
    "  --command-queue N        commands kept per device until it fetches them (default 16)\n"
    "  --session-timeout-s S    idle CoAP session lifetime (default 300)\n"
    "  --packet-loss SPEC       drop outgoing datagrams for tests, e.g. 20% (libcoap)\n"
    "  --log-level LEVEL        error, warn, info (default) or debug\n"
    "  --help, --version\n";

int hub_config_from_args(hub_config_t *cfg, int argc, char **argv) {
  /* The file first, so that flags override it wherever they stand. */
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--config") == 0) {
      if (i + 1 >= argc) {
        fprintf(stderr, "iotkit-hub: --config needs a value\n%s", k_usage);
        return 2;
      }
      if (!hub_config_load(cfg, argv[i + 1])) return 2;
    }
  }
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      fputs(k_usage, stdout);
      return 1;
    }
    if (!strcmp(a, "--version")) {
      printf("iotkit-hub %s\n", IOTKIT_HUB_VERSION);
      return 1;
    }
    if (!strcmp(a, "--allow-insecure-coap") || !strcmp(a, "--allow-insecure-http")) {
      hub_config_set(cfg, a + 2, "true");
      continue;
    }
    if (strncmp(a, "--", 2) != 0 || i + 1 >= argc) {
      fprintf(stderr, "iotkit-hub: %s: unknown option or missing value\n%s", a, k_usage);
      return 2;
    }
    const char *v = argv[++i];
    if (!strcmp(a, "--config")) continue;
    if (!hub_config_set(cfg, a + 2, v)) {
      fprintf(stderr, "iotkit-hub: %s %s: unknown option or bad value\n%s", a, v, k_usage);
      return 2;
    }
  }
  if (!cfg->prefix && !set_str(&cfg->prefix, IOTKIT_TOPIC_PREFIX_DEFAULT)) return 2;
  if (!cfg->mqtt_uri && !set_str(&cfg->mqtt_uri, "mqtt://127.0.0.1:1883")) return 2;
  if (!cfg->client_id) {
    char id[48];
    snprintf(id, sizeof id, "iotkit-hub-%ld", (long)getpid());
    if (!set_str(&cfg->client_id, id)) return 2;
  }
  return 0;
}

bool hub_config_check(const hub_config_t *cfg) {
  if (!cfg->coap_listen && !cfg->coaps_listen && !cfg->http_listen) {
    hub_log(HUB_LOG_ERROR, "nothing to serve: give --coaps-listen (or --coap-listen with --allow-insecure-coap) "
            "or --http-listen");
    return false;
  }
  if (cfg->http_listen && !cfg->psk_file) {
    hub_log(HUB_LOG_ERROR, "--http-listen needs --psk-file (the device tokens)");
    return false;
  }
  if (!cfg->https_cert != !cfg->https_key) {
    hub_log(HUB_LOG_ERROR, "--https-cert and --https-key go together");
    return false;
  }
  if (cfg->http_listen && !cfg->https_cert && !cfg->allow_insecure_http) {
    hub_log(HUB_LOG_ERROR, "--http-listen without --https-cert sends tokens in clear: it needs --allow-insecure-http");
    return false;
  }
  if (cfg->coap_listen && !cfg->allow_insecure_coap) {
    hub_log(HUB_LOG_ERROR, "--coap-listen serves unauthenticated plain CoAP: it needs --allow-insecure-coap");
    return false;
  }
  if (cfg->coaps_listen && !cfg->psk_file) {
    hub_log(HUB_LOG_ERROR, "--coaps-listen needs --psk-file (the device keys)");
    return false;
  }
  return true;
}
