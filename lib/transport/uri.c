/* Endpoint URI parsing: scheme://[user[:password]@]host[:port][/path][?query]. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "iotkit/transport.h"
#include "core/util.h"

typedef struct scheme_info {
  const char *name;
  uint16_t port;
  bool secure;
} scheme_info_t;

static const scheme_info_t k_schemes[] = {
    {"mqtt", 1883, false}, {"mqtts", 8883, true}, {"coap", 5683, false}, {"coaps", 5684, true},
    {"http", 80, false},   {"https", 443, true},  {"loop", 0, false},
};

static const scheme_info_t *scheme_lookup(const char *scheme) {
  for (size_t i = 0; i < IOTKIT__ARRAY_LEN(k_schemes); i++) {
    if (strcmp(k_schemes[i].name, scheme) == 0) return &k_schemes[i];
  }
  return NULL;
}

uint16_t iotkit_uri_default_port(const char *scheme) {
  if (!scheme) return 0;
  char lower[IOTKIT_URI_SCHEME_MAX + 1];
  size_t n = strlen(scheme);
  if (n > IOTKIT_URI_SCHEME_MAX) return 0;
  for (size_t i = 0; i <= n; i++) lower[i] = (char)tolower((unsigned char)scheme[i]);
  const scheme_info_t *info = scheme_lookup(lower);
  return info ? info->port : 0;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Copy [s, s+n) percent-decoded into a new string. Returns IOTKIT_ERR_BAD_URI
   for a broken escape or an escaped NUL (it would cut the C string). */
static iotkit_err_t decode(const char *s, size_t n, char **out) {
  char *d = malloc(n + 1);
  if (!d) return IOTKIT_ERR_NOMEM;
  size_t j = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] != '%') {
      d[j++] = s[i];
      continue;
    }
    int hi = i + 2 < n ? hex_value(s[i + 1]) : -1;
    int lo = i + 2 < n ? hex_value(s[i + 2]) : -1;
    if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
      iotkit__memzero(d, j); /* may be part of a password */
      free(d);
      return IOTKIT_ERR_BAD_URI;
    }
    d[j++] = (char)(hi * 16 + lo);
    i += 2;
  }
  d[j] = '\0';
  *out = d;
  return IOTKIT_OK;
}

static bool is_host_char(char c) {
  return isalnum((unsigned char)c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static bool is_ipv6_char(char c) { return isxdigit((unsigned char)c) || c == ':' || c == '.'; }

static iotkit_err_t parse_scheme(const char *text, iotkit_uri_t *uri, const char **rest) {
  const char *sep = strstr(text, "://");
  if (!sep || sep == text) return IOTKIT_ERR_BAD_URI;
  size_t n = (size_t)(sep - text);
  if (n > IOTKIT_URI_SCHEME_MAX || !isalpha((unsigned char)text[0])) return IOTKIT_ERR_BAD_URI;
  for (size_t i = 0; i < n; i++) {
    char c = text[i];
    if (!isalnum((unsigned char)c) && c != '+' && c != '-' && c != '.') return IOTKIT_ERR_BAD_URI;
    uri->scheme[i] = (char)tolower((unsigned char)c);
  }
  uri->scheme[n] = '\0';
  *rest = sep + 3;
  return IOTKIT_OK;
}

static iotkit_err_t parse_userinfo(const char *s, size_t n, iotkit_uri_t *uri) {
  const char *colon = memchr(s, ':', n);
  size_t ulen = colon ? (size_t)(colon - s) : n;
  iotkit_err_t rc = decode(s, ulen, &uri->user);
  if (rc == IOTKIT_OK && colon) rc = decode(colon + 1, n - ulen - 1, &uri->password);
  return rc;
}

static iotkit_err_t parse_port(const char *s, size_t n, uint16_t *port) {
  if (n == 0 || n > 5) return IOTKIT_ERR_BAD_URI;
  unsigned long v = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isdigit((unsigned char)s[i])) return IOTKIT_ERR_BAD_URI;
    v = v * 10 + (unsigned long)(s[i] - '0');
  }
  if (v < 1 || v > 65535) return IOTKIT_ERR_BAD_URI;
  *port = (uint16_t)v;
  return IOTKIT_OK;
}

/* host[:port] or [v6]:port, in [s, s+n). */
static iotkit_err_t parse_hostport(const char *s, size_t n, iotkit_uri_t *uri) {
  const char *host = s;
  size_t hlen;
  const char *after;
  if (n > 0 && s[0] == '[') {
    const char *close = memchr(s, ']', n);
    if (!close) return IOTKIT_ERR_BAD_URI;
    host = s + 1;
    hlen = (size_t)(close - host);
    for (size_t i = 0; i < hlen; i++) {
      if (!is_ipv6_char(host[i])) return IOTKIT_ERR_BAD_URI;
    }
    if (!memchr(host, ':', hlen)) return IOTKIT_ERR_BAD_URI;
    after = close + 1;
  } else {
    const char *colon = memchr(s, ':', n);
    hlen = colon ? (size_t)(colon - s) : n;
    for (size_t i = 0; i < hlen; i++) {
      if (!is_host_char(s[i])) return IOTKIT_ERR_BAD_URI;
    }
    after = s + hlen;
  }
  if (hlen == 0) return IOTKIT_ERR_BAD_URI;
  size_t left = n - (size_t)(after - s);
  if (left > 0) {
    if (after[0] != ':') return IOTKIT_ERR_BAD_URI;
    iotkit_err_t rc = parse_port(after + 1, left - 1, &uri->port);
    if (rc != IOTKIT_OK) return rc;
  }
  uri->host = malloc(hlen + 1);
  if (!uri->host) return IOTKIT_ERR_NOMEM;
  memcpy(uri->host, host, hlen);
  uri->host[hlen] = '\0';
  return IOTKIT_OK;
}

static iotkit_err_t parse_all(const char *text, iotkit_uri_t *uri) {
  for (const char *p = text; *p; p++) {
    unsigned char c = (unsigned char)*p;
    /* Spaces, controls and fragments have no meaning in an endpoint. */
    if (c <= 0x20 || c == 0x7f || c == '#') return IOTKIT_ERR_BAD_URI;
  }
  const char *rest;
  iotkit_err_t rc = parse_scheme(text, uri, &rest);
  if (rc != IOTKIT_OK) return rc;
  size_t alen = strcspn(rest, "/?");
  const char *at = NULL;
  for (size_t i = 0; i < alen; i++) {
    if (rest[i] == '@') at = rest + i; /* the last '@' ends the userinfo */
  }
  if (at) {
    rc = parse_userinfo(rest, (size_t)(at - rest), uri);
    if (rc != IOTKIT_OK) return rc;
  }
  const char *hp = at ? at + 1 : rest;
  rc = parse_hostport(hp, (size_t)(rest + alen - hp), uri);
  if (rc != IOTKIT_OK) return rc;
  const char *p = rest + alen;
  size_t plen = strcspn(p, "?");
  rc = decode(p, plen, &uri->path);
  if (rc == IOTKIT_OK && p[plen] == '?') rc = decode(p + plen + 1, strlen(p + plen + 1), &uri->query);
  if (rc != IOTKIT_OK) return rc;
  const scheme_info_t *info = scheme_lookup(uri->scheme);
  if (uri->port == 0 && info) uri->port = info->port;
  uri->secure = info && info->secure;
  return IOTKIT_OK;
}

iotkit_err_t iotkit_uri_parse(const char *text, iotkit_uri_t *uri) {
  if (!text || !uri) return IOTKIT_ERR_INVALID_ARG;
  iotkit_uri_t tmp;
  memset(&tmp, 0, sizeof tmp);
  iotkit_err_t rc = parse_all(text, &tmp);
  if (rc != IOTKIT_OK) {
    iotkit_uri_clear(&tmp);
    memset(uri, 0, sizeof *uri);
    return rc;
  }
  *uri = tmp;
  return IOTKIT_OK;
}

void iotkit_uri_clear(iotkit_uri_t *uri) {
  if (!uri) return;
  free(uri->user);
  iotkit__free_secret(uri->password);
  free(uri->host);
  free(uri->path);
  free(uri->query);
  memset(uri, 0, sizeof *uri);
}
