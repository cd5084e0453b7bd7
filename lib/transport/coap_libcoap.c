/* The CoAP backend on libcoap 3 (schemes coap, coaps): context, session life,
 * poll, events and logging. Requests and observations are in coap_requests.c,
 * DTLS set-up in coap_dtls.c; the behaviour is documented at
 * iotkit_transport_coap() in transport.h.
 *
 * Locking: libcoap 4.3 is not thread-safe, so every libcoap call runs under the
 * context lock, and libcoap's handlers (which only run inside those calls) find
 * it held. Handlers never call the application: they queue events, which
 * poll() (or connect()/disconnect()) hands out after dropping the lock, so an
 * event handler may call send() or subscribe().
 *
 * Waiting: poll() processes what is due without blocking, then waits on
 * libcoap's epoll descriptor (which also carries libcoap's timers through a
 * timerfd), bounded by the caller's timeout and our own deadlines (DTLS
 * handshake, observation upkeep), then processes again.
 */
#include "transport/coap_libcoap.h"

#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* libcoap needs one coap_startup() per process, and its log handler is a
   process-wide setting without a user pointer. A pthread_once covers both;
   coap_cleanup() is never called because the library cannot know when the
   last libcoap user in the process has gone. The log handler routes a line to
   the HAL of the iotkit context whose lock the logging thread holds (a
   thread-local pointer, set only while that lock is held); lines logged by
   other libcoap users in the process go to stderr, as libcoap's own default
   handler would print them. libcoap's log level is left as it is. */
static pthread_once_t g_coap_once = PTHREAD_ONCE_INIT;
static _Thread_local coap_ctx_t *t_log_ctx;

static void coap_log_to_hal(coap_log_t level, const char *message) {
  char line[512];
  iotkit__fmt(line, sizeof line, "%s", message ? message : "");
  size_t n = strlen(line);
  while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
  coap_ctx_t *c = t_log_ctx;
  if (!c) {
    fprintf(stderr, "libcoap: %s\n", line);
    return;
  }
  iotkit_log_level_t lv = level <= LOG_ERR       ? IOTKIT_LOG_ERROR
                          : level == LOG_WARNING ? IOTKIT_LOG_WARN
                          : level <= LOG_INFO    ? IOTKIT_LOG_INFO
                                                 : IOTKIT_LOG_DEBUG;
  iotkit__transport_logf(c->hal, lv, "coap: libcoap: %s", line);
}

static void coap_init_once(void) {
  coap_startup();
  coap_set_log_handler(coap_log_to_hal);
}

void iotkit__coap_lock(coap_ctx_t *c) {
  iotkit__transport_lock_acquire(&c->lock);
  t_log_ctx = c;
}

void iotkit__coap_unlock(coap_ctx_t *c) {
  t_log_ctx = NULL;
  iotkit__transport_lock_release(&c->lock);
}

coap_ev_t *iotkit__coap_push(coap_ctx_t *c, coap_ev_kind_t kind, iotkit_err_t status, uint32_t id, const char *text,
                             const void *payload, size_t len) {
  coap_ev_t *e = calloc(1, sizeof *e);
  if (e) {
    e->kind = kind;
    e->status = status;
    e->id = id;
    e->len = len;
    e->text = text ? iotkit__strdup(text) : NULL;
    e->payload = len ? malloc(len) : NULL;
    if ((text && !e->text) || (len && !e->payload)) {
      free(e->text);
      free(e->payload);
      free(e);
      e = NULL;
    }
  }
  if (!e) {
    iotkit__transport_logf(c->hal, IOTKIT_LOG_ERROR, "coap: out of memory: an event was dropped");
    return NULL;
  }
  if (len) memcpy(e->payload, payload, len);
  if (c->ev_tail) {
    c->ev_tail->next = e;
  } else {
    c->ev_head = e;
  }
  c->ev_tail = e;
  return e;
}

static void free_events(coap_ev_t *e) {
  while (e) {
    coap_ev_t *next = e->next;
    free(e->text);
    free(e->payload);
    free(e);
    e = next;
  }
}

/* Hand the queued events to the application; the lock is not held. */
static void dispatch(coap_ctx_t *c) {
  iotkit__coap_lock(c);
  coap_ev_t *e = c->ev_head;
  c->ev_head = c->ev_tail = NULL;
  iotkit__coap_unlock(c);
  const iotkit_transport_events_t *ev = &c->ev;
  for (coap_ev_t *it = e; it; it = it->next) {
    switch (it->kind) {
      case CEV_CONNECTED:
        if (ev->connected) ev->connected(ev->user);
        break;
      case CEV_DISCONNECTED:
        if (ev->disconnected) ev->disconnected(ev->user, it->status, it->text ? it->text : "");
        break;
      case CEV_MESSAGE:
        if (ev->message_ex) {
          /* CoAP keeps nothing retained: a registration's first notification is the
             resource's current state, but not a retained message. */
          iotkit_transport_msg_t m = {.struct_size = sizeof m, .channel = it->text, .payload = it->payload,
                                      .len = it->len, .qos = it->qos, .retain = false};
          ev->message_ex(ev->user, &m);
        } else if (ev->message) {
          ev->message(ev->user, it->text, it->payload, it->len);
        }
        break;
      case CEV_DELIVERY:
        if (ev->delivery) ev->delivery(ev->user, it->id, it->status);
        break;
    }
  }
  free_events(e);
}

void iotkit__coap_fail(coap_ctx_t *c, iotkit_log_level_t level, const char *detail) {
  iotkit__fmt(c->err, sizeof c->err, "%s", detail);
  iotkit__transport_logf(c->hal, level, "%s", detail);
}

static void release_session(coap_ctx_t *c) {
  if (!c->session) return;
  coap_session_t *s = c->session;
  c->session = NULL;
  c->session_dead = false;
  coap_session_set_app_data(s, NULL); /* handlers run during the release find no context */
  coap_session_release(s);
}

void iotkit__coap_down(coap_ctx_t *c, iotkit_err_t reason, const char *detail, iotkit_err_t pending_status,
                       bool release_now) {
  for (coap_req_t *r = c->reqs; r; r = r->next) {
    iotkit__coap_push(c, CEV_DELIVERY, pending_status, r->id, NULL, NULL, 0);
  }
  iotkit__coap_requests_clear(c);
  c->state = CST_DOWN;
  if (reason != IOTKIT_OK) iotkit__coap_fail(c, IOTKIT_LOG_WARN, detail);
  iotkit__coap_push(c, CEV_DISCONNECTED, reason, 0, detail, NULL, 0);
  if (release_now) {
    release_session(c);
  } else {
    c->session_dead = true;
  }
}

static int on_event(coap_session_t *session, const coap_event_t event) {
  coap_ctx_t *c = coap_session_get_app_data(session);
  if (!c || session != c->session || c->state == CST_DOWN) return 0;
  char detail[IOTKIT__TRANSPORT_ERR_MAX];
  if (event == COAP_EVENT_DTLS_CONNECTED && c->state == CST_CONNECTING) {
    c->state = CST_UP;
    iotkit__transport_logf(c->hal, IOTKIT_LOG_INFO, "coap: DTLS session with %s:%u established", c->host, c->port);
    iotkit__coap_push(c, CEV_CONNECTED, IOTKIT_OK, 0, NULL, NULL, 0);
  } else if ((event == COAP_EVENT_DTLS_CLOSED || event == COAP_EVENT_DTLS_ERROR) && c->state == CST_CONNECTING) {
    /* With PSK, the hint callback tells whether the server got to the PSK step */
    bool psk = c->psk_key_len > 0;
    iotkit_err_t reason = !psk ? IOTKIT_ERR_TLS : c->psk_hint_seen ? IOTKIT_ERR_AUTH : IOTKIT_ERR_CONNECT;
    iotkit__fmt(detail, sizeof detail, "coaps: DTLS handshake with %s:%u failed: %s", c->host, c->port,
                reason == IOTKIT_ERR_TLS    ? "certificate refused or not trusted"
                : reason == IOTKIT_ERR_AUTH ? "the server refused PSK identity or key"
                                            : "no DTLS server answered (nothing listening there?)");
    iotkit__coap_down(c, reason, detail, IOTKIT_ERR_TLS, false);
  } else if (event == COAP_EVENT_DTLS_CLOSED || event == COAP_EVENT_DTLS_ERROR) {
    iotkit__fmt(detail, sizeof detail, "coaps: DTLS session with %s:%u %s", c->host, c->port,
                event == COAP_EVENT_DTLS_CLOSED ? "closed by the peer" : "failed");
    iotkit__coap_down(c, IOTKIT_ERR_CONNECTION_LOST, detail, IOTKIT_ERR_CONNECTION_LOST, false);
  }
  return 0;
}

/* Settings from the URI query; BAD_URI for a malformed value. */
static iotkit_err_t read_query(coap_ctx_t *c, const char *query) {
  c->observe_retry_ms = IOTKIT__COAP_OBSERVE_RETRY_MS;
  if (iotkit__transport_query_uint(query, "ack_timeout_ms", &c->ack_timeout_ms) < 0 ||
      iotkit__transport_query_uint(query, "max_retransmit", &c->max_retransmit) < 0 ||
      iotkit__transport_query_uint(query, "nstart", &c->nstart) < 0 ||
      iotkit__transport_query_uint(query, "observe_retry_ms", &c->observe_retry_ms) < 0 ||
      iotkit__transport_query_uint(query, "observe_refresh_ms", &c->observe_refresh_ms) < 0) {
    return IOTKIT_ERR_BAD_URI;
  }
  /* libcoap 4.3 takes an ACK_TIMEOUT of at least one second */
  if ((c->ack_timeout_ms && (c->ack_timeout_ms < 1000 || c->ack_timeout_ms > 600000)) || c->max_retransmit > 20 ||
      c->nstart > 32 || c->observe_retry_ms == 0) {
    return IOTKIT_ERR_BAD_URI;
  }
  return IOTKIT_OK;
}

static void coap_destroy(void *ctx) {
  coap_ctx_t *c = ctx;
  if (!c) return;
  iotkit__coap_lock(c);
  c->state = CST_DOWN;
  iotkit__coap_requests_clear(c);
  release_session(c);
  if (c->cctx) coap_free_context(c->cctx);
  c->cctx = NULL;
  free_events(c->ev_head);
  iotkit__coap_unlock(c);
  iotkit__transport_lock_destroy(&c->lock);
  iotkit__memzero(c->psk_key, sizeof c->psk_key);
  free(c->psk_identity);
  free(c->ca_file);
  free(c->cert_file);
  free(c->key_file);
  free(c->host);
  free(c->base_path);
  free(c);
}

static iotkit_err_t coap_create(const iotkit_transport_config_t *cfg, const iotkit_transport_events_t *events,
                                void **ctx) {
  /* Full-size copies: a caller built against an older layout leaves later fields at their defaults. */
  iotkit_transport_config_t cfg_full;
  iotkit_transport_events_t ev_full;
  if (iotkit__transport_args(cfg, events, &cfg_full, &ev_full) != IOTKIT_OK) return IOTKIT_ERR_INVALID_ARG;
  cfg = &cfg_full;
  events = &ev_full;
  if (!cfg || !events || !ctx || !cfg->uri || !cfg->uri->host || !*cfg->uri->host) return IOTKIT_ERR_INVALID_ARG;
  pthread_once(&g_coap_once, coap_init_once);
  if (cfg->uri->secure && !coap_dtls_is_supported()) return IOTKIT_ERR_UNSUPPORTED;
  coap_ctx_t *c = calloc(1, sizeof *c);
  if (!c) return IOTKIT_ERR_NOMEM;
  if (iotkit__transport_lock_init(&c->lock, cfg->hal) != IOTKIT_OK) {
    free(c);
    return IOTKIT_ERR_NOMEM;
  }
  c->ev = *events;
  c->hal = cfg->hal;
  c->secure = cfg->uri->secure;
  c->port = cfg->uri->port ? cfg->uri->port : iotkit_uri_default_port(cfg->uri->scheme);
  c->connect_timeout_ms = cfg->connect_timeout_ms;
  c->max_payload = cfg->max_payload;
  c->host = iotkit__strdup(cfg->uri->host);
  c->base_path = iotkit__strdup(cfg->uri->path ? cfg->uri->path : "");
  iotkit_err_t rc = (c->host && c->base_path) ? read_query(c, cfg->uri->query) : IOTKIT_ERR_NOMEM;
  if (rc == IOTKIT_OK && c->secure) rc = iotkit__coap_dtls_configure(c, cfg);
  if (rc == IOTKIT_OK) {
    c->cctx = coap_new_context(NULL);
    if (!c->cctx) rc = IOTKIT_ERR_NOMEM;
  }
  if (rc != IOTKIT_OK) {
    coap_destroy(c);
    return rc;
  }
  coap_context_set_block_mode(c->cctx, COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  coap_register_event_handler(c->cctx, on_event);
  iotkit__coap_requests_init(c);
  *ctx = c;
  return IOTKIT_OK;
}

/* Resolve the host (lock held). Numeric hosts never touch DNS. */
static iotkit_err_t resolve(coap_ctx_t *c) {
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICSERV};
  struct addrinfo *res = NULL;
  char port[8];
  iotkit__fmt(port, sizeof port, "%u", c->port);
  int rc = getaddrinfo(c->host, port, &hints, &res);
  if (rc != 0 || !res) {
    char detail[IOTKIT__TRANSPORT_ERR_MAX];
    iotkit__fmt(detail, sizeof detail, "coap: cannot resolve %s: %s", c->host, gai_strerror(rc));
    iotkit__coap_fail(c, IOTKIT_LOG_ERROR, detail);
    return IOTKIT_ERR_CONNECT;
  }
  coap_address_init(&c->addr);
  c->addr.size = res->ai_addrlen;
  memcpy(&c->addr.addr, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  return IOTKIT_OK;
}

static iotkit_err_t coap_connect(void *ctx) {
  coap_ctx_t *c = ctx;
  if (!c) return IOTKIT_ERR_INVALID_ARG;
  iotkit__coap_lock(c);
  iotkit_err_t rc = IOTKIT_OK;
  if (c->state != CST_DOWN) {
    iotkit__fmt(c->err, sizeof c->err, "coap: already connected or connecting");
    rc = IOTKIT_ERR_STATE;
  }
  if (rc == IOTKIT_OK) release_session(c); /* a session that died earlier */
  if (rc == IOTKIT_OK) rc = resolve(c);
  if (rc == IOTKIT_OK) rc = iotkit__coap_session_open(c);
  if (rc == IOTKIT_OK) {
    c->psk_hint_seen = false;
    c->connect_started = iotkit__transport_now_ms(c->hal);
    if (c->secure) {
      c->state = CST_CONNECTING;
      iotkit__transport_logf(c->hal, IOTKIT_LOG_INFO, "coap: DTLS handshake with %s:%u started", c->host, c->port);
    } else {
      /* UDP has no session set-up: the endpoint is usable at once */
      c->state = CST_UP;
      iotkit__transport_logf(c->hal, IOTKIT_LOG_INFO, "coap: using %s:%u", c->host, c->port);
      iotkit__coap_push(c, CEV_CONNECTED, IOTKIT_OK, 0, NULL, NULL, 0);
    }
  }
  iotkit__coap_unlock(c);
  return rc;
}

static iotkit_err_t coap_disconnect(void *ctx) {
  coap_ctx_t *c = ctx;
  if (!c) return IOTKIT_ERR_INVALID_ARG;
  iotkit__coap_lock(c);
  if (c->state == CST_DOWN) {
    iotkit__fmt(c->err, sizeof c->err, "coap: disconnect while not connected");
    iotkit__coap_unlock(c);
    return IOTKIT_ERR_NOT_CONNECTED;
  }
  iotkit__transport_logf(c->hal, IOTKIT_LOG_INFO, "coap: leaving %s:%u", c->host, c->port);
  iotkit__coap_down(c, IOTKIT_OK, "", IOTKIT_ERR_CONNECTION_LOST, true);
  iotkit__coap_unlock(c);
  dispatch(c);
  return IOTKIT_OK;
}

/* Process what is due without blocking (lock held); returns how long poll()
   may wait before our own next deadline, at most @p cap. */
static uint32_t work(coap_ctx_t *c, uint32_t cap) {
  coap_io_process(c->cctx, COAP_IO_NO_WAIT);
  if (c->session_dead) release_session(c);
  uint64_t now = iotkit__transport_now_ms(c->hal);
  if (c->state == CST_CONNECTING && c->connect_timeout_ms) {
    uint64_t end = c->connect_started + c->connect_timeout_ms;
    if (now >= end) {
      char detail[IOTKIT__TRANSPORT_ERR_MAX];
      bool refused = c->psk_key_len > 0 && c->psk_hint_seen;
      if (refused) {
        iotkit__fmt(detail, sizeof detail,
                    "coaps: DTLS-PSK handshake with %s:%u did not complete within %u ms after the server's PSK "
                    "hint: the server did not accept identity '%s' with this key",
                    c->host, c->port, (unsigned)c->connect_timeout_ms, c->psk_identity);
      } else {
        iotkit__fmt(detail, sizeof detail,
                    "coaps: no DTLS handshake with %s:%u within %u ms (is a DTLS server listening there?)", c->host,
                    c->port, (unsigned)c->connect_timeout_ms);
      }
      iotkit__coap_down(c, refused ? IOTKIT_ERR_AUTH : IOTKIT_ERR_TIMEOUT, detail, IOTKIT_ERR_TIMEOUT, true);
      return 0;
    }
    if (end - now < cap) cap = (uint32_t)(end - now);
  }
  if (c->state == CST_UP) cap = iotkit__coap_obs_upkeep(c, now, cap);
  return cap;
}

static iotkit_err_t coap_poll(void *ctx, int timeout_ms) {
  coap_ctx_t *c = ctx;
  if (!c || timeout_ms < 0) return IOTKIT_ERR_INVALID_ARG;
  iotkit__coap_lock(c);
  uint32_t wait = work(c, (uint32_t)timeout_ms);
  bool active = c->state != CST_DOWN;
  int fd = coap_context_get_coap_fd(c->cctx);
  iotkit__coap_unlock(c);
  dispatch(c);
  if (!active || wait == 0 || fd < 0) return IOTKIT_OK;
  struct pollfd p = {.fd = fd, .events = POLLIN};
  poll(&p, 1, (int)wait);
  iotkit__coap_lock(c);
  work(c, 0);
  iotkit__coap_unlock(c);
  dispatch(c);
  return IOTKIT_OK;
}

static int coap_fd(void *ctx) {
  coap_ctx_t *c = ctx;
  if (!c) return -1;
  iotkit__coap_lock(c);
  int fd = coap_context_get_coap_fd(c->cctx);
  iotkit__coap_unlock(c);
  return fd;
}

/* The longest an external loop may wait (lock held): 0 with events to hand out
   or a session to release; else the nearest of libcoap's next timer (its
   retransmissions, which coap_io_prepare_epoll() also arms on the timerfd
   behind fd()), the DTLS handshake deadline and the observation upkeep; -1 if
   none. */
static int next_timeout(coap_ctx_t *c) {
  if (c->ev_head || c->session_dead) return 0;
  if (c->state == CST_DOWN) return -1;
  long best = -1;
  uint64_t now = iotkit__transport_now_ms(c->hal);
  if (c->state == CST_CONNECTING && c->connect_timeout_ms) {
    uint64_t end = c->connect_started + c->connect_timeout_ms;
    best = now >= end ? 0 : (long)(end - now);
  }
  int obs = c->state == CST_UP ? iotkit__coap_obs_next_ms(c, now) : -1;
  if (obs >= 0 && (best < 0 || obs < best)) best = obs;
  if (coap_context_get_coap_fd(c->cctx) >= 0) {
    coap_tick_t ticks;
    coap_ticks(&ticks);
    unsigned lib = coap_io_prepare_epoll(c->cctx, ticks); /* 0: no timer */
    if (lib && (best < 0 || (long)lib < best)) best = (long)lib;
    if (c->ev_head || c->session_dead) best = 0; /* what it just did (a NACK) waits for poll() */
  } else if (best < 0 || best > 100) {
    best = 100; /* no epoll descriptor carries libcoap's timers: poll now and then */
  }
  return best > INT32_MAX ? INT32_MAX : (int)best;
}

static int coap_timeout_ms(void *ctx) {
  coap_ctx_t *c = ctx;
  if (!c) return -1;
  iotkit__coap_lock(c);
  int ms = next_timeout(c);
  iotkit__coap_unlock(c);
  return ms;
}

static const char *coap_last_error(void *ctx) {
  coap_ctx_t *c = ctx;
  return c ? c->err : "";
}

static const char *const k_coap_schemes[] = {"coap", "coaps", NULL};

static const iotkit_transport_ops_t k_coap_ops = {
    .struct_size = sizeof(iotkit_transport_ops_t),
    .name = "coap-libcoap",
    .schemes = k_coap_schemes,
    .create = coap_create,
    .destroy = coap_destroy,
    .connect = coap_connect,
    .disconnect = coap_disconnect,
    .send = iotkit__coap_send,
    .subscribe = iotkit__coap_subscribe,
    .poll = coap_poll,
    .fd = coap_fd,
    .last_error = coap_last_error,
    .unsubscribe = iotkit__coap_unsubscribe,
    .timeout_ms = coap_timeout_ms,
};

const iotkit_transport_ops_t *iotkit_transport_coap(void) { return &k_coap_ops; }
