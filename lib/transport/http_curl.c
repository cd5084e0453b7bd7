/* The HTTP backend on libcurl (schemes http, https); the behaviour it promises
 * is documented at iotkit_transport_http() in include/iotkit/transport.h.
 *
 * Driving: one libcurl multi handle per context, driven through its socket
 * interface (curl_multi_socket_action) over an epoll set of its sockets
 * (http_fd.c), so poll() never blocks longer than asked, fd() is one stable
 * descriptor for an external loop, and every transfer shares its connection
 * cache (keep-alive, HTTP/2 multiplexing). send() only appends to a locked
 * queue and signals an eventfd in that set (safe from any thread); poll()
 * moves the queue into transfers, so libcurl itself is only ever used from
 * the polling thread.
 */
#include "transport/http_curl.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "protocol/channel_internal.h"

/* libcurl needs one process-wide curl_global_init() before any handle is made
   (it initialises OpenSSL and the socket layer). A pthread_once is the only
   global state of the backend; its result is written once, inside the once.
   curl_global_cleanup() is never called: the library cannot know when the
   last user of libcurl anywhere in the process has gone. */
static pthread_once_t g_curl_once = PTHREAD_ONCE_INIT;
static CURLcode g_curl_init_rc = CURLE_FAILED_INIT;
static void curl_init_once(void) { g_curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

void iotkit__transport_http_set_err(http_ctx_t *c, const char *detail) {
  iotkit__transport_lock_acquire(&c->lock);
  iotkit__fmt(c->err, sizeof c->err, "%s", detail);
  iotkit__transport_lock_release(&c->lock);
}

http_state_t iotkit__transport_http_state(http_ctx_t *c) {
  iotkit__transport_lock_acquire(&c->lock);
  http_state_t st = c->state;
  iotkit__transport_lock_release(&c->lock);
  return st;
}

void iotkit__transport_http_set_state(http_ctx_t *c, http_state_t st) {
  iotkit__transport_lock_acquire(&c->lock);
  c->state = st;
  iotkit__transport_lock_release(&c->lock);
}

static void free_list(http_ctx_t *c, http_req_t *r) {
  while (r) {
    http_req_t *next = r->next;
    iotkit__transport_http_req_free(c, r);
    r = next;
  }
}

void iotkit__transport_http_go_down(http_ctx_t *c, iotkit_err_t reason, const char *detail) {
  /* Once DOWN, send() refuses new work, so the queue taken here is final. */
  iotkit__transport_lock_acquire(&c->lock);
  c->state = HTTP_DOWN;
  http_req_t *pending = c->incoming;
  c->incoming = NULL;
  c->incoming_tail = &c->incoming;
  if (reason != IOTKIT_OK) iotkit__fmt(c->err, sizeof c->err, "%s", detail);
  iotkit__transport_lock_release(&c->lock);
  if (c->sends) {
    http_req_t *last = c->sends;
    while (last->next) last = last->next;
    last->next = pending;
    pending = c->sends;
  }
  c->sends = NULL;
  free_list(c, c->polls);
  c->polls = NULL;
  iotkit__transport_http_req_free(c, c->probe);
  c->probe = NULL;
  /* Take every transfer out before any event: a handler may connect again. */
  for (http_req_t *r = pending; r; r = r->next) iotkit__transport_http_stop(c, r);
  if (reason != IOTKIT_OK) iotkit__transport_logf(c->hal, IOTKIT_LOG_WARN, "%s", detail);
  while (pending) {
    http_req_t *r = pending;
    pending = r->next;
    uint32_t id = r->msg_id;
    iotkit__transport_http_req_free(c, r);
    if (c->ev.delivery) c->ev.delivery(c->ev.user, id, IOTKIT_ERR_CONNECTION_LOST);
  }
  if (c->ev.disconnected) c->ev.disconnected(c->ev.user, reason, detail);
}

static void http_destroy(void *ctx) {
  http_ctx_t *c = ctx;
  if (!c) return;
  free_list(c, c->incoming);
  free_list(c, c->sends);
  free_list(c, c->polls);
  iotkit__transport_http_req_free(c, c->probe);
  iotkit__transport_http_idle_free(c);
  if (c->multi) curl_multi_cleanup(c->multi);
  iotkit__transport_http_fd_free(c);
  iotkit__transport_lock_destroy(&c->lock);
  free(c->base);
  free(c->host);
  iotkit__free_secret(c->user);
  iotkit__free_secret(c->password);
  free(c->ca_file);
  free(c->ca_dir);
  free(c->cert_file);
  free(c->key_file);
  free(c);
}

/* Read one query option; false if it is malformed or out of [lo, hi]. */
static bool tune_one(const char *query, const char *key, unsigned long dflt, unsigned long lo, unsigned long hi,
                     unsigned long *out) {
  *out = dflt;
  int rc = iotkit__transport_query_uint(query, key, out);
  return rc >= 0 && *out >= lo && *out <= hi;
}

static bool read_tuning(const char *q, http_tuning_t *t) {
  return tune_one(q, "attempts", IOTKIT_HTTP_MAX_ATTEMPTS, 1, 100, &t->attempts) &&
         tune_one(q, "backoff_ms", IOTKIT_HTTP_BACKOFF_BASE_MS, 1, 60000, &t->backoff_ms) &&
         tune_one(q, "wait", IOTKIT_HTTP_LONGPOLL_WAIT_S, 0, 3600, &t->wait_s) &&
         tune_one(q, "poll_ms", IOTKIT_HTTP_POLL_INTERVAL_MS, 0, 3600000, &t->poll_ms) &&
         tune_one(q, "timeout_ms", IOTKIT_HTTP_REQUEST_TIMEOUT_MS, 100, 3600000, &t->timeout_ms) &&
         tune_one(q, "inflight", IOTKIT_HTTP_MAX_INFLIGHT, 1, 64, &t->inflight);
}

/* scheme://host:port/path, IPv6 in brackets, without a trailing '/'. */
static char *make_base(const iotkit_uri_t *uri, uint16_t port) {
  bool v6 = strchr(uri->host, ':') != NULL;
  const char *path = uri->path ? uri->path : "";
  size_t plen = strlen(path);
  while (plen && path[plen - 1] == '/') plen--;
  size_t cap = strlen(uri->scheme) + strlen(uri->host) + plen + 16;
  char *base = malloc(cap);
  if (base) {
    iotkit__fmt(base, cap, "%s://%s%s%s:%u%.*s", uri->secure ? "https" : "http", v6 ? "[" : "", uri->host,
                v6 ? "]" : "", port, (int)plen, path);
  }
  return base;
}

/* Copy an optional string; false only if the copy failed. */
static bool copy_opt(char **dst, const char *src) {
  *dst = iotkit__strdup(src);
  return !src || *dst;
}

static iotkit_err_t copy_config(http_ctx_t *c, const iotkit_transport_config_t *cfg) {
  const iotkit_uri_t *uri = cfg->uri;
  const char *user = cfg->username ? cfg->username : uri->user;
  const char *pass = cfg->password ? cfg->password : uri->password;
  if (user && !*user) user = NULL; /* no user name: the password is a bearer token */
  c->port = uri->port ? uri->port : iotkit_uri_default_port(uri->secure ? "https" : "http");
  c->secure = uri->secure;
  c->verify_peer = cfg->tls.verify_peer;
  c->keepalive_s = cfg->keepalive_s;
  c->connect_timeout_ms = cfg->connect_timeout_ms;
  c->max_payload = cfg->max_payload;
  c->base = make_base(uri, c->port);
  bool ok = c->base && copy_opt(&c->host, uri->host) && copy_opt(&c->user, user) && copy_opt(&c->password, pass) &&
            copy_opt(&c->ca_file, cfg->tls.ca_file) && copy_opt(&c->ca_dir, cfg->tls.ca_dir) &&
            copy_opt(&c->cert_file, cfg->tls.cert_file) && copy_opt(&c->key_file, cfg->tls.key_file);
  return ok ? IOTKIT_OK : IOTKIT_ERR_NOMEM;
}

static iotkit_err_t http_create(const iotkit_transport_config_t *cfg, const iotkit_transport_events_t *events,
                                void **ctx) {
  /* Full-size copies: a caller built against an older layout leaves later fields at their defaults. */
  iotkit_transport_config_t cfg_full;
  iotkit_transport_events_t ev_full;
  if (iotkit__transport_args(cfg, events, &cfg_full, &ev_full) != IOTKIT_OK) return IOTKIT_ERR_INVALID_ARG;
  cfg = &cfg_full;
  events = &ev_full;
  if (!cfg || !events || !ctx || !cfg->uri || !cfg->uri->host || !*cfg->uri->host) return IOTKIT_ERR_INVALID_ARG;
  if ((cfg->tls.cert_file == NULL) != (cfg->tls.key_file == NULL)) return IOTKIT_ERR_INVALID_ARG;
  http_tuning_t tune;
  if (!read_tuning(cfg->uri->query, &tune)) return IOTKIT_ERR_INVALID_ARG;
  pthread_once(&g_curl_once, curl_init_once);
  if (g_curl_init_rc != CURLE_OK) return IOTKIT_ERR_INTERNAL;
  http_ctx_t *c = calloc(1, sizeof *c);
  if (!c) return IOTKIT_ERR_NOMEM;
  if (iotkit__transport_lock_init(&c->lock, cfg->hal) != IOTKIT_OK) {
    free(c);
    return IOTKIT_ERR_NOMEM;
  }
  c->ev = *events;
  c->hal = cfg->hal;
  c->tune = tune;
  c->next_id = 1;
  c->incoming_tail = &c->incoming;
  c->epfd = c->wakefd = -1;
  iotkit_err_t rc = copy_config(c, cfg);
  c->multi = rc == IOTKIT_OK ? curl_multi_init() : NULL;
  if (!c->multi) {
    http_destroy(c);
    return rc == IOTKIT_OK ? IOTKIT_ERR_NOMEM : rc;
  }
  curl_multi_setopt(c->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
  rc = iotkit__transport_http_fd_init(c);
  if (rc != IOTKIT_OK) {
    http_destroy(c);
    return rc;
  }
  *ctx = c;
  return IOTKIT_OK;
}

static iotkit_err_t http_connect(void *ctx) {
  http_ctx_t *c = ctx;
  if (!c) return IOTKIT_ERR_INVALID_ARG;
  if (iotkit__transport_http_state(c) != HTTP_DOWN) {
    iotkit__transport_http_set_err(c, "http: already connected or connecting");
    return IOTKIT_ERR_STATE;
  }
  http_req_t *probe = calloc(1, sizeof *probe);
  if (!probe) return IOTKIT_ERR_NOMEM;
  probe->kind = HTTP_REQ_PROBE;
  iotkit_err_t rc = iotkit__transport_http_start(c, probe);
  if (rc != IOTKIT_OK) {
    free(probe);
    return rc;
  }
  if (c->secure && !c->verify_peer) {
    iotkit__transport_logf(c->hal, IOTKIT_LOG_WARN,
                           "http: TLS peer verification is OFF for %s:%u; the connection is not authenticated",
                           c->host, c->port);
  }
  if (!c->secure && c->password) {
    iotkit__transport_logf(c->hal, IOTKIT_LOG_WARN, "http: credentials for %s:%u travel without TLS", c->host,
                           c->port);
  }
  iotkit__transport_logf(c->hal, IOTKIT_LOG_INFO, "http: connecting to %s:%u%s", c->host, c->port,
                         c->secure ? " (TLS)" : "");
  c->probe = probe;
  iotkit__transport_http_set_state(c, HTTP_CONNECTING);
  return IOTKIT_OK;
}

static iotkit_err_t http_disconnect(void *ctx) {
  http_ctx_t *c = ctx;
  if (!c) return IOTKIT_ERR_INVALID_ARG;
  if (iotkit__transport_http_state(c) == HTTP_DOWN) return IOTKIT_ERR_NOT_CONNECTED;
  iotkit__transport_logf(c->hal, IOTKIT_LOG_INFO, "http: disconnected from %s:%u", c->host, c->port);
  iotkit__transport_http_go_down(c, IOTKIT_OK, "");
  return IOTKIT_OK;
}

static iotkit_err_t http_send(void *ctx, const iotkit_message_t *msg, uint32_t *msg_id) {
  http_ctx_t *c = ctx;
  if (!c || !msg || !msg_id || !iotkit__transport_http_channel_valid(msg->channel) || msg->qos < 0 ||
      msg->qos > 2 || (!msg->payload && msg->len)) {
    return IOTKIT_ERR_INVALID_ARG;
  }
  char detail[IOTKIT__TRANSPORT_ERR_MAX];
  if (c->max_payload && msg->len > c->max_payload) {
    iotkit__fmt(detail, sizeof detail, "http: payload of %zu bytes exceeds the limit of %zu", msg->len,
                c->max_payload);
    iotkit__transport_http_set_err(c, detail);
    return IOTKIT_ERR_TOO_LARGE;
  }
  http_req_t *r = calloc(1, sizeof *r);
  if (!r) return IOTKIT_ERR_NOMEM;
  r->kind = HTTP_REQ_SEND;
  r->len = msg->len;
  r->put = iotkit__channel_ends_with(msg->channel, IOTKIT_CHANNEL_STATE_REPORTED);
  r->channel = iotkit__strdup(msg->channel);
  r->body = malloc(msg->len ? msg->len : 1);
  if (!r->channel || !r->body) {
    iotkit__transport_http_req_free(c, r);
    return IOTKIT_ERR_NOMEM;
  }
  if (msg->len) memcpy(r->body, msg->payload, msg->len);
  iotkit__transport_lock_acquire(&c->lock);
  if (c->state != HTTP_UP) {
    iotkit__fmt(c->err, sizeof c->err, "http: send while not connected");
    iotkit__transport_lock_release(&c->lock);
    iotkit__transport_http_req_free(c, r);
    return IOTKIT_ERR_NOT_CONNECTED;
  }
  r->msg_id = c->next_id++;
  if (c->next_id == 0) c->next_id = 1;
  *c->incoming_tail = r;
  c->incoming_tail = &r->next;
  *msg_id = r->msg_id;
  iotkit__transport_lock_release(&c->lock);
  iotkit__transport_http_fd_wake(c);
  return IOTKIT_OK;
}

static iotkit_err_t http_subscribe(void *ctx, const char *channel, int qos) {
  http_ctx_t *c = ctx;
  if (!c || !iotkit__transport_http_channel_valid(channel) || qos < 0 || qos > 2) return IOTKIT_ERR_INVALID_ARG;
  if (iotkit__transport_http_state(c) != HTTP_UP) {
    iotkit__transport_http_set_err(c, "http: subscribe while not connected");
    return IOTKIT_ERR_NOT_CONNECTED;
  }
  for (http_req_t *p = c->polls; p; p = p->next) {
    if (strcmp(p->channel, channel) == 0) return IOTKIT_OK; /* one long-poll per channel */
  }
  http_req_t *r = calloc(1, sizeof *r);
  if (!r) return IOTKIT_ERR_NOMEM;
  r->kind = HTTP_REQ_POLL;
  r->channel = iotkit__strdup(channel);
  if (!r->channel) {
    free(r);
    return IOTKIT_ERR_NOMEM;
  }
  r->next = c->polls;
  c->polls = r;
  return IOTKIT_OK;
}

/* Stop that channel's long-poll; the polling thread owns c->polls, as for subscribe(). */
static iotkit_err_t http_unsubscribe(void *ctx, const char *channel) {
  http_ctx_t *c = ctx;
  if (!c || !iotkit__transport_http_channel_valid(channel)) return IOTKIT_ERR_INVALID_ARG;
  if (iotkit__transport_http_state(c) != HTTP_UP) {
    iotkit__transport_http_set_err(c, "http: unsubscribe while not connected");
    return IOTKIT_ERR_NOT_CONNECTED;
  }
  for (http_req_t **p = &c->polls; *p; p = &(*p)->next) {
    if (strcmp((*p)->channel, channel) != 0) continue;
    http_req_t *r = *p;
    *p = r->next;
    iotkit__transport_http_req_free(c, r); /* aborts the GET in flight */
    return IOTKIT_OK;
  }
  char detail[IOTKIT__TRANSPORT_ERR_MAX];
  iotkit__fmt(detail, sizeof detail, "http: no subscription to %s", channel);
  iotkit__transport_http_set_err(c, detail);
  return IOTKIT_ERR_NOT_FOUND;
}

static int http_fd(void *ctx) {
  http_ctx_t *c = ctx;
  return c ? c->epfd : -1;
}

static const char *http_last_error(void *ctx) {
  http_ctx_t *c = ctx;
  return c ? c->err : "";
}

static const char *const k_http_schemes[] = {"http", "https", NULL};

static const iotkit_transport_ops_t k_http_ops = {
    .struct_size = sizeof(iotkit_transport_ops_t),
    .name = "http-curl",
    .schemes = k_http_schemes,
    .create = http_create,
    .destroy = http_destroy,
    .connect = http_connect,
    .disconnect = http_disconnect,
    .send = http_send,
    .subscribe = http_subscribe,
    .poll = iotkit__transport_http_poll,
    .fd = http_fd,
    .last_error = http_last_error,
    .unsubscribe = http_unsubscribe,
    .timeout_ms = iotkit__transport_http_timeout_ms,
};

const iotkit_transport_ops_t *iotkit_transport_http(void) { return &k_http_ops; }
