/* Device authentication: the key file, libcoap's PSK look-up, and the rule
   that a device acts only on its own resources.
 *
 * Key file: one device per line, "device-id hexkey" (the PSK as 2 to 128 hex
 * digits, i.e. 1 to 64 bytes), separated by spaces or tabs; blank lines and
 * lines starting with '#' are ignored. The DTLS-PSK identity a device
 * presents is its device id. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "hub.h"

static int nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Hex @p hex into @p out; the byte count, or 0 if malformed or too long. */
static size_t unhex(const char *hex, uint8_t *out, size_t cap) {
  size_t n = strlen(hex);
  if (n == 0 || n % 2 || n / 2 > cap) return 0;
  for (size_t i = 0; i < n; i++) {
    if (nibble(hex[i]) < 0) return 0;
  }
  for (size_t i = 0; i < n / 2; i++) out[i] = (uint8_t)(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
  return n / 2;
}

static bool load_line(hub_t *hub, const char *path, int lineno, char *line) {
  char *save = NULL;
  char *id = strtok_r(line, " \t\r\n", &save);
  if (!id || id[0] == '#') return true;
  char *hex = strtok_r(NULL, " \t\r\n", &save);
  char *extra = strtok_r(NULL, " \t\r\n", &save);
  if (!hex || (extra && extra[0] != '#')) {
    hub_log(HUB_LOG_ERROR, "key file %s:%d: expected 'device-id hexkey'", path, lineno);
    return false;
  }
  if (!hub_id_valid(id, strlen(id))) {
    hub_log(HUB_LOG_ERROR, "key file %s:%d: '%s' is not a device id (1 to 128 of [A-Za-z0-9._-])", path, lineno,
            id);
    return false;
  }
  hub_device_t *d = hub_device_get(hub, id, strlen(id));
  if (!d) return false;
  if (d->listed) {
    hub_log(HUB_LOG_ERROR, "key file %s:%d: device %s listed twice", path, lineno, id);
    return false;
  }
  d->key_len = unhex(hex, d->key, sizeof d->key);
  if (!d->key_len) {
    hub_log(HUB_LOG_ERROR, "key file %s:%d: the key of %s is not 2 to 128 hex digits", path, lineno, id);
    return false;
  }
  d->key_bin.s = d->key;
  d->key_bin.length = d->key_len;
  d->listed = true;
  return true;
}

bool hub_auth_load(hub_t *hub, const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) {
    hub_log(HUB_LOG_ERROR, "key file %s: %s", path, strerror(errno));
    return false;
  }
  struct stat st;
  if (fstat(fileno(f), &st) == 0 && (st.st_mode & 0077)) {
    hub_log(HUB_LOG_WARN, "key file %s can be read by other users (mode %03o): chmod 600 it", path,
            (unsigned)(st.st_mode & 0777));
  }
  char line[512];
  bool ok = true;
  for (int lineno = 1; ok && fgets(line, sizeof line, f); lineno++) {
    ok = load_line(hub, path, lineno, line);
  }
  memset(line, 0, sizeof line);
  fclose(f);
  unsigned listed = 0;
  for (hub_device_t *d = hub->devices; d; d = d->next) listed += d->listed;
  if (ok) hub_log(HUB_LOG_INFO, "key file %s: %u device(s)", path, listed);
  return ok;
}

void hub_auth_identity(const coap_session_t *session, char *out, size_t cap) {
  const coap_bin_const_t *id = coap_session_get_psk_identity(session);
  size_t n = id ? id->length : 0;
  if (n >= cap) n = cap - 1;
  if (n) memcpy(out, id->s, n);
  out[n] = '\0';
}

const coap_bin_const_t *hub_auth_psk_lookup(hub_t *hub, const coap_bin_const_t *identity) {
  if (!identity || !hub_id_valid((const char *)identity->s, identity->length)) {
    hub_log(HUB_LOG_WARN, "DTLS: refused a PSK identity that is not a device id");
    return NULL;
  }
  hub_device_t *d = hub_device_find(hub, (const char *)identity->s, identity->length);
  if (!d || !d->listed) {
    hub_log(HUB_LOG_WARN, "DTLS: unknown PSK identity '%.*s': refused", (int)identity->length,
            (const char *)identity->s);
    return NULL;
  }
  hub_log(HUB_LOG_DEBUG, "DTLS: handshake of device %s", d->id);
  return &d->key_bin;
}

bool hub_auth_may_act(const coap_session_t *session, const char *id) {
  if (coap_session_get_proto(session) == COAP_PROTO_UDP) return true; /* only served with allow_insecure_coap */
  const coap_bin_const_t *ident = coap_session_get_psk_identity(session);
  return ident && ident->length == strlen(id) && memcmp(ident->s, id, ident->length) == 0;
}

hub_device_t *hub_auth_token_device(hub_t *hub, const char *token) {
  uint8_t key[64];
  size_t n = token && strlen(token) <= 2 * sizeof key ? unhex(token, key, sizeof key) : 0;
  hub_device_t *found = NULL;
  for (hub_device_t *d = hub->devices; n && d; d = d->next) {
    if (!d->listed || d->key_len != n) continue;
    unsigned char diff = 0; /* the whole key is compared: no early exit on a mismatch */
    for (size_t i = 0; i < n; i++) diff |= (unsigned char)(d->key[i] ^ key[i]);
    if (!diff) found = d;
  }
  volatile uint8_t *k = key;
  for (size_t i = 0; i < sizeof key; i++) k[i] = 0;
  return found;
}
