/* The transport registry: built-in backends plus those an integrator registers. */
#include "transport/registry.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

struct iotkit_transport_registry {
  const iotkit_transport_ops_t **ops; /* registered backends, oldest first */
  size_t count;
  size_t cap;
};

/* Built-in backends, in order of preference. A function table, so the
   registry itself holds no mutable global state. */
typedef const iotkit_transport_ops_t *(*builtin_fn)(void);
static const builtin_fn k_builtins[] = {
    iotkit_transport_loopback,
#ifdef IOTKIT_WITH_MQTT
    iotkit_transport_mqtt,
#endif
#ifdef IOTKIT_WITH_HTTP
    iotkit_transport_http,
#endif
#ifdef IOTKIT_WITH_COAP
    iotkit_transport_coap,
#endif
};

/* Schemes whose backend is planned but not in this build. */
static const struct {
  const char *scheme;
  const char *why;
} k_missing[] = {
    {"mqtt", "the MQTT backend was not built (IOTKIT_WITH_MQTT=OFF)"},
    {"mqtts", "the MQTT backend was not built (IOTKIT_WITH_MQTT=OFF)"},
    {"coap", "the CoAP backend was not built (IOTKIT_WITH_COAP=OFF or libcoap-3-openssl not found)"},
    {"coaps", "the CoAP backend was not built (IOTKIT_WITH_COAP=OFF or libcoap-3-openssl not found)"},
    {"http", "the HTTP backend was not built (IOTKIT_WITH_HTTP=OFF or libcurl not found)"},
    {"https", "the HTTP backend was not built (IOTKIT_WITH_HTTP=OFF or libcurl not found)"},
};

#ifndef IOTKIT_WITH_MQTT
const iotkit_transport_ops_t *iotkit_transport_mqtt(void) { return NULL; }
#endif
#ifndef IOTKIT_WITH_HTTP
const iotkit_transport_ops_t *iotkit_transport_http(void) { return NULL; }
#endif
#ifndef IOTKIT_WITH_COAP
const iotkit_transport_ops_t *iotkit_transport_coap(void) { return NULL; }
#endif

iotkit_err_t iotkit_transport_registry_new(iotkit_transport_registry_t **out) {
  if (!out) return IOTKIT_ERR_INVALID_ARG;
  iotkit_transport_registry_t *reg = calloc(1, sizeof *reg);
  if (!reg) return IOTKIT_ERR_NOMEM;
  *out = reg;
  return IOTKIT_OK;
}

void iotkit_transport_registry_free(iotkit_transport_registry_t *reg) {
  if (!reg) return;
  free(reg->ops);
  free(reg);
}

static bool scheme_valid(const char *s) {
  size_t n = s ? strlen(s) : 0;
  if (n == 0 || n > IOTKIT_URI_SCHEME_MAX || !isalpha((unsigned char)s[0])) return false;
  for (size_t i = 0; i < n; i++) {
    if (!isalnum((unsigned char)s[i]) && s[i] != '+' && s[i] != '-' && s[i] != '.') return false;
  }
  return true;
}

static bool ops_valid(const iotkit_transport_ops_t *ops) {
  if (!ops->name || !*ops->name || !ops->schemes || !ops->schemes[0]) return false;
  for (const char *const *s = ops->schemes; *s; s++) {
    if (!scheme_valid(*s)) return false;
  }
  return ops->create && ops->destroy && ops->connect && ops->disconnect && ops->send && ops->subscribe &&
         ops->poll;
}

static bool same_scheme(const char *a, const char *b) {
  while (*a && tolower((unsigned char)*a) == tolower((unsigned char)*b)) {
    a++;
    b++;
  }
  return *a == '\0' && *b == '\0';
}

static bool serves(const iotkit_transport_ops_t *ops, const char *scheme) {
  for (const char *const *s = ops->schemes; *s; s++) {
    if (same_scheme(*s, scheme)) return true;
  }
  return false;
}

static bool name_taken(const iotkit_transport_registry_t *reg, const char *name) {
  for (size_t i = 0; i < reg->count; i++) {
    if (strcmp(reg->ops[i]->name, name) == 0) return true;
  }
  for (size_t i = 0; i < IOTKIT__ARRAY_LEN(k_builtins); i++) {
    const iotkit_transport_ops_t *b = k_builtins[i]();
    if (b && strcmp(b->name, name) == 0) return true;
  }
  return false;
}

iotkit_err_t iotkit_transport_register(iotkit_transport_registry_t *reg, const iotkit_transport_ops_t *ops) {
  if (!reg || iotkit__struct_check(ops, IOTKIT__TRANSPORT_OPS_SIZE_0_2, IOTKIT__TRANSPORT_OPS_REQUIRED) != IOTKIT_OK ||
      !ops_valid(ops))
    return IOTKIT_ERR_INVALID_ARG;
  if (name_taken(reg, ops->name)) return IOTKIT_ERR_EXISTS;
  if (reg->count == reg->cap) {
    size_t cap = reg->cap ? reg->cap * 2 : 4;
    const iotkit_transport_ops_t **grown = realloc(reg->ops, cap * sizeof *grown);
    if (!grown) return IOTKIT_ERR_NOMEM;
    reg->ops = grown;
    reg->cap = cap;
  }
  reg->ops[reg->count++] = ops;
  return IOTKIT_OK;
}

iotkit_err_t iotkit_transport_find(const iotkit_transport_registry_t *reg, const char *scheme,
                                   const iotkit_transport_ops_t **out) {
  if (!scheme || !out) return IOTKIT_ERR_INVALID_ARG;
  /* The most recently registered backend wins, so an integrator can override. */
  for (size_t i = reg ? reg->count : 0; i > 0; i--) {
    if (serves(reg->ops[i - 1], scheme)) {
      *out = reg->ops[i - 1];
      return IOTKIT_OK;
    }
  }
  for (size_t i = 0; i < IOTKIT__ARRAY_LEN(k_builtins); i++) {
    const iotkit_transport_ops_t *b = k_builtins[i]();
    if (b && serves(b, scheme)) {
      *out = b;
      return IOTKIT_OK;
    }
  }
  return IOTKIT_ERR_UNKNOWN_SCHEME;
}

void iotkit__transport_explain_scheme(const iotkit_transport_registry_t *reg, const char *scheme, char *buf,
                                      size_t cap) {
  const iotkit_transport_ops_t *ops;
  if (!scheme) scheme = "";
  if (iotkit_transport_find(reg, scheme, &ops) == IOTKIT_OK) {
    iotkit__fmt(buf, cap, "scheme '%s' is served by backend '%s'", scheme, ops->name);
    return;
  }
  for (size_t i = 0; i < IOTKIT__ARRAY_LEN(k_missing); i++) {
    if (same_scheme(k_missing[i].scheme, scheme)) {
      iotkit__fmt(buf, cap, "no transport for scheme '%s': %s", scheme, k_missing[i].why);
      return;
    }
  }
  iotkit__fmt(buf, cap, "no transport for scheme '%s': register a backend for it with iotkit_transport_register()",
              scheme);
}

void iotkit_transport_config_init(iotkit_transport_config_t *cfg) {
  if (!cfg) return;
  memset(cfg, 0, sizeof *cfg);
  cfg->struct_size = sizeof *cfg;
  cfg->keepalive_s = IOTKIT_KEEPALIVE_DEFAULT_S;
  cfg->clean_session = true;
  cfg->protocol_version = 311;
  cfg->connect_timeout_ms = IOTKIT_CONNECT_TIMEOUT_DEFAULT_MS;
  cfg->max_payload = IOTKIT_MAX_PAYLOAD_DEFAULT;
  cfg->tls.verify_peer = true; /* secure by default: a zeroed config would not verify */
}

iotkit_err_t iotkit__transport_args(const iotkit_transport_config_t *cfg, const iotkit_transport_events_t *events,
                                    iotkit_transport_config_t *cfg_out, iotkit_transport_events_t *ev_out) {
  if (!cfg_out || !ev_out) return IOTKIT_ERR_INVALID_ARG;
  iotkit_transport_config_t c;
  iotkit_transport_events_t e;
  iotkit_transport_config_init(&c);
  memset(&e, 0, sizeof e);
  if (iotkit__struct_copy(&c, sizeof c, cfg, IOTKIT__TRANSPORT_CONFIG_SIZE_0_2, IOTKIT__TRANSPORT_CONFIG_REQUIRED) !=
          IOTKIT_OK ||
      iotkit__struct_copy(&e, sizeof e, events, IOTKIT__TRANSPORT_EVENTS_SIZE_0_2, IOTKIT__TRANSPORT_EVENTS_REQUIRED) !=
          IOTKIT_OK)
    return IOTKIT_ERR_INVALID_ARG;
  *cfg_out = c;
  *ev_out = e;
  return IOTKIT_OK;
}
