/* One HTTP transfer of the libcurl backend: URL, method, headers, auth, TLS,
   and the mapping of its outcome to iotkit error codes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "transport/http_curl.h"
#include "transport/topic.h"

#define IOTKIT__STR2(x) #x
#define IOTKIT__STR(x) IOTKIT__STR2(x)

bool iotkit__transport_http_channel_valid(const char *channel) {
  if (!iotkit__topic_name_valid(channel) || channel[0] == '/') return false;
  const char *p = channel;
  for (;;) {
    size_t n = strcspn(p, "/");
    if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) return false;
    if (p[n] == '\0') return true;
    p += n + 1;
  }
}

static bool unreserved(unsigned char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
         ch == '.' || ch == '_' || ch == '~' || ch == '/';
}

/* base + "/" + channel with every byte but unreserved ones and '/' escaped,
   then "?" + query if given. */
static char *build_url(const http_ctx_t *c, const char *channel, const char *query) {
  size_t clen = channel ? strlen(channel) : 0;
  size_t cap = strlen(c->base) + 2 + clen * 3 + (query ? strlen(query) + 1 : 0) + 1;
  char *url = malloc(cap);
  if (!url) return NULL;
  char *w = url + strlen(strcpy(url, c->base));
  *w++ = '/';
  for (size_t i = 0; i < clen; i++) {
    unsigned char ch = (unsigned char)channel[i];
    if (unreserved(ch)) {
      *w++ = (char)ch;
    } else {
      w += sprintf(w, "%%%02X", ch);
    }
  }
  if (query) w += sprintf(w, "?%s", query);
  *w = '\0';
  return url;
}

/* JSON when the payload, trimmed of white space, is {...} or [...] and holds
   no NUL byte; anything else is sent as opaque bytes. */
static bool looks_like_json(const unsigned char *p, size_t len) {
  size_t a = 0, b = len;
  while (a < b && strchr(" \t\r\n", p[a]) && p[a]) a++;
  while (b > a && strchr(" \t\r\n", p[b - 1]) && p[b - 1]) b--;
  if (b - a < 2 || memchr(p + a, 0, b - a)) return false;
  return (p[a] == '{' && p[b - 1] == '}') || (p[a] == '[' && p[b - 1] == ']');
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *user) {
  http_req_t *r = user;
  size_t n = size * nmemb;
  if (r->kind != HTTP_REQ_POLL) return n; /* only long-poll answers carry a message */
  if (n > r->resp_limit - r->resp_len) {
    r->resp_overflow = true;
    return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
  }
  if (n > r->resp_cap - r->resp_len) {
    size_t cap = r->resp_cap ? r->resp_cap : 1024;
    while (cap - r->resp_len < n) cap *= 2;
    if (cap > r->resp_limit) cap = r->resp_limit;
    unsigned char *grown = realloc(r->resp, cap);
    if (!grown) return 0;
    r->resp = grown;
    r->resp_cap = cap;
  }
  memcpy(r->resp + r->resp_len, data, n);
  r->resp_len += n;
  return n;
}

static CURL *take_easy(http_ctx_t *c) {
  if (c->nidle == 0) return curl_easy_init();
  CURL *e = c->idle[--c->nidle];
  curl_easy_reset(e);
  return e;
}

static void setup_tls(http_ctx_t *c, CURL *e) {
  if (c->ca_file) curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
  if (c->ca_dir) curl_easy_setopt(e, CURLOPT_CAPATH, c->ca_dir);
  if (c->cert_file) curl_easy_setopt(e, CURLOPT_SSLCERT, c->cert_file);
  if (c->key_file) curl_easy_setopt(e, CURLOPT_SSLKEY, c->key_file);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, c->verify_peer ? 1L : 0L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, c->verify_peer ? 2L : 0L);
}

static void setup_auth(http_ctx_t *c, CURL *e) {
  if (c->user) {
    curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(e, CURLOPT_USERNAME, c->user);
    curl_easy_setopt(e, CURLOPT_PASSWORD, c->password ? c->password : "");
  } else if (c->password) {
    curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
    curl_easy_setopt(e, CURLOPT_XOAUTH2_BEARER, c->password);
  }
}

/* Options every transfer shares. */
static void setup_common(http_ctx_t *c, http_req_t *r, CURL *e, const char *url) {
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_PRIVATE, r);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L); /* a redirect must not carry credentials away */
  curl_easy_setopt(e, CURLOPT_USERAGENT, "libiotkit/" IOTKIT__STR(IOTKIT_VERSION_MAJOR) "." IOTKIT__STR(
                                            IOTKIT_VERSION_MINOR) "." IOTKIT__STR(IOTKIT_VERSION_PATCH));
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, c->secure ? (long)CURL_HTTP_VERSION_2TLS : (long)CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L); /* prefer multiplexing on an HTTP/2 connection */
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
  uint32_t connect_ms = c->connect_timeout_ms ? c->connect_timeout_ms : IOTKIT_CONNECT_TIMEOUT_DEFAULT_MS;
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)connect_ms);
  if (c->keepalive_s) {
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, (long)c->keepalive_s);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, (long)c->keepalive_s);
  }
  if (c->secure) setup_tls(c, e);
  setup_auth(c, e);
}

/* Method, body, headers and timeout of each kind of request. */
static iotkit_err_t setup_kind(http_ctx_t *c, http_req_t *r, CURL *e) {
  struct curl_slist *h = NULL, *n = NULL;
  char line[IOTKIT__HTTP_ETAG_MAX + 32];
  long timeout = (long)c->tune.timeout_ms;
  switch (r->kind) {
  case HTTP_REQ_PROBE:
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    timeout = (long)(c->connect_timeout_ms ? c->connect_timeout_ms : IOTKIT_CONNECT_TIMEOUT_DEFAULT_MS);
    break;
  case HTTP_REQ_SEND:
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->len);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->len ? (const char *)r->body : "");
    if (r->put) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "PUT");
    n = curl_slist_append(h, looks_like_json(r->body, r->len) ? "Content-Type: application/json"
                                                               : "Content-Type: application/octet-stream");
    /* no "Expect: 100-continue" round trip before the body */
    if (n) n = curl_slist_append(h = n, "Expect:");
    break;
  case HTTP_REQ_POLL:
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    timeout += (long)c->tune.wait_s * 1000L;
    n = h = curl_slist_append(NULL, "Accept: */*");
    if (n && r->etag[0]) {
      iotkit__fmt(line, sizeof line, "If-None-Match: %s", r->etag);
      n = curl_slist_append(h, line);
    }
    break;
  }
  if (r->kind != HTTP_REQ_PROBE && !n) {
    curl_slist_free_all(h);
    return IOTKIT_ERR_NOMEM;
  }
  r->headers = n;
  if (n) curl_easy_setopt(e, CURLOPT_HTTPHEADER, n);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout);
  return IOTKIT_OK;
}

iotkit_err_t iotkit__transport_http_start(http_ctx_t *c, http_req_t *r) {
  char query[32];
  if (r->kind == HTTP_REQ_POLL) iotkit__fmt(query, sizeof query, "wait=%lu", c->tune.wait_s);
  char *url = build_url(c, r->kind == HTTP_REQ_PROBE ? NULL : r->channel, r->kind == HTTP_REQ_POLL ? query : NULL);
  CURL *e = url ? take_easy(c) : NULL;
  if (!e) {
    free(url);
    return IOTKIT_ERR_NOMEM;
  }
  r->errbuf[0] = '\0';
  r->resp_len = 0;
  r->resp_overflow = false;
  r->resp_limit = c->max_payload ? c->max_payload : IOTKIT_MAX_PAYLOAD_DEFAULT;
  setup_common(c, r, e, url); /* libcurl copies the URL string */
  free(url);
  iotkit_err_t rc = setup_kind(c, r, e);
  if (rc == IOTKIT_OK && curl_multi_add_handle(c->multi, e) != CURLM_OK) rc = IOTKIT_ERR_NOMEM;
  if (rc != IOTKIT_OK) {
    curl_slist_free_all(r->headers);
    r->headers = NULL;
    curl_easy_cleanup(e);
    return rc;
  }
  r->easy = e;
  r->attempts++;
  return IOTKIT_OK;
}

void iotkit__transport_http_stop(http_ctx_t *c, http_req_t *r) {
  if (r->easy) {
    curl_multi_remove_handle(c->multi, r->easy);
    if (c->nidle < IOTKIT__HTTP_IDLE_EASY) {
      c->idle[c->nidle++] = r->easy;
    } else {
      curl_easy_cleanup(r->easy);
    }
    r->easy = NULL;
  }
  curl_slist_free_all(r->headers);
  r->headers = NULL;
  free(r->resp);
  r->resp = NULL;
  r->resp_len = 0;
  r->resp_cap = 0;
}

void iotkit__transport_http_req_free(http_ctx_t *c, http_req_t *r) {
  if (!r) return;
  iotkit__transport_http_stop(c, r);
  free(r->channel);
  free(r->body);
  free(r);
}

void iotkit__transport_http_idle_free(http_ctx_t *c) {
  while (c->nidle) curl_easy_cleanup(c->idle[--c->nidle]);
}

void iotkit__transport_http_describe(const http_ctx_t *c, const http_req_t *r, char *buf, size_t cap) {
  const char *path = strchr(c->base + strlen(c->secure ? "https://" : "http://"), '/');
  const char *method = r->kind == HTTP_REQ_PROBE ? "HEAD" : r->kind == HTTP_REQ_POLL ? "GET" : r->put ? "PUT" : "POST";
  iotkit__fmt(buf, cap, "%s %s/%s", method, path ? path : "", r->kind == HTTP_REQ_PROBE ? "" : r->channel);
}

iotkit_err_t iotkit__transport_http_status_err(long status) {
  if (status >= 200 && status < 300) return IOTKIT_OK;
  if (status == 401 || status == 403) return IOTKIT_ERR_AUTH;
  if (status == 404) return IOTKIT_ERR_NOT_FOUND;
  if (status == 413) return IOTKIT_ERR_TOO_LARGE;
  if (iotkit__transport_http_status_retryable(status)) return IOTKIT_ERR_DELIVERY;
  return IOTKIT_ERR_PROTOCOL; /* redirects and other refusals */
}

bool iotkit__transport_http_status_retryable(long status) {
  return status == 408 || status == 429 || (status >= 500 && status < 600);
}

iotkit_err_t iotkit__transport_http_curl_err(CURLcode rc, bool *retryable) {
  *retryable = false;
  switch (rc) {
  case CURLE_OUT_OF_MEMORY:
    return IOTKIT_ERR_NOMEM;
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_CRL_BADFILE:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_INVALIDCERTSTATUS:
  case CURLE_SSL_ENGINE_NOTFOUND:
  case CURLE_SSL_ENGINE_SETFAILED:
  case CURLE_SSL_ENGINE_INITFAILED:
    return IOTKIT_ERR_TLS;
  case CURLE_OPERATION_TIMEDOUT:
    *retryable = true;
    return IOTKIT_ERR_TIMEOUT;
  case CURLE_COULDNT_CONNECT:
  case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR:
  case CURLE_GOT_NOTHING:
  case CURLE_PARTIAL_FILE:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
    *retryable = true;
    return IOTKIT_ERR_CONNECT;
  case CURLE_COULDNT_RESOLVE_HOST:
    return IOTKIT_ERR_CONNECT;
  default:
    return IOTKIT_ERR_IO;
  }
}

uint64_t iotkit__transport_http_backoff_ms(const http_ctx_t *c, unsigned attempts, long retry_after_s) {
  uint64_t delay = c->tune.backoff_ms;
  for (unsigned i = 1; i < attempts && delay < IOTKIT_HTTP_BACKOFF_MAX_MS; i++) delay *= 2;
  if (delay > IOTKIT_HTTP_BACKOFF_MAX_MS) delay = IOTKIT_HTTP_BACKOFF_MAX_MS;
  if (retry_after_s > (long)IOTKIT_HTTP_RETRY_AFTER_MAX_S) retry_after_s = IOTKIT_HTTP_RETRY_AFTER_MAX_S;
  if (retry_after_s >= 0 && (uint64_t)retry_after_s * 1000u > delay) delay = (uint64_t)retry_after_s * 1000u;
  return delay;
}
