/* poll() of the HTTP backend: start what is due, drive the multi handle for at
   most the caller's timeout, and turn finished transfers into events, retries
   and re-armed long-polls. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "core/util.h"
#include "transport/http_curl.h"

/* What a finished transfer left behind, read before its handle is reused. */
typedef struct http_outcome {
  CURLcode rc;
  long status;
  long retry_after_s; /* -1 when the server gave none */
  long version;
  char etag[IOTKIT__HTTP_ETAG_MAX];
  char detail[IOTKIT__TRANSPORT_ERR_MAX];
} http_outcome_t;

static void take_incoming(http_ctx_t *c) {
  iotkit__transport_lock_acquire(&c->lock);
  http_req_t *in = c->incoming;
  c->incoming = NULL;
  c->incoming_tail = &c->incoming;
  iotkit__transport_lock_release(&c->lock);
  http_req_t **tail = &c->sends;
  while (*tail) tail = &(*tail)->next;
  *tail = in;
}

/* The first send that may start next, or NULL: sends start in order, at most
   tune.inflight at once, and one waiting for its retry holds back the rest. */
static http_req_t *next_send(http_ctx_t *c) {
  unsigned long active = 0;
  for (http_req_t *r = c->sends; r; r = r->next) {
    if (!r->easy) return active < c->tune.inflight ? r : NULL;
    active++;
  }
  return NULL;
}

/* Earliest time something waits for, or UINT64_MAX. */
static uint64_t next_due(http_ctx_t *c) {
  uint64_t due = UINT64_MAX;
  if (iotkit__transport_http_state(c) != HTTP_UP) return due;
  http_req_t *s = next_send(c);
  if (s) due = s->due_ms;
  for (http_req_t *r = c->polls; r; r = r->next) {
    if (!r->easy && r->due_ms < due) due = r->due_ms;
  }
  return due;
}

static iotkit_err_t start_due(http_ctx_t *c, uint64_t now) {
  if (iotkit__transport_http_state(c) != HTTP_UP) return IOTKIT_OK;
  for (http_req_t *r = next_send(c); r && r->due_ms <= now; r = next_send(c)) {
    iotkit_err_t rc = iotkit__transport_http_start(c, r);
    if (rc != IOTKIT_OK) return rc;
    r->started_ms = now;
  }
  for (http_req_t *r = c->polls; r; r = r->next) {
    if (r->easy || r->due_ms > now) continue;
    iotkit_err_t rc = iotkit__transport_http_start(c, r);
    if (rc != IOTKIT_OK) return rc;
    r->started_ms = now;
  }
  return IOTKIT_OK;
}

static void unlink_send(http_ctx_t *c, http_req_t *r) {
  for (http_req_t **p = &c->sends; *p; p = &(*p)->next) {
    if (*p == r) {
      *p = r->next;
      return;
    }
  }
}

/* Finish a send with @p status: dequeue, free, then report. */
static void send_final(http_ctx_t *c, http_req_t *r, iotkit_err_t status) {
  uint32_t id = r->msg_id;
  unlink_send(c, r);
  iotkit__transport_http_req_free(c, r);
  if (c->ev.delivery) c->ev.delivery(c->ev.user, id, status);
}

static void schedule_retry(http_ctx_t *c, http_req_t *r, const http_outcome_t *o, uint64_t now) {
  uint64_t delay = iotkit__transport_http_backoff_ms(c, r->attempts, o->retry_after_s);
  iotkit__transport_http_stop(c, r);
  r->due_ms = now + delay;
  iotkit__transport_logf(c->hal, IOTKIT_LOG_INFO, "%s; attempt %u in %llu ms", o->detail, r->attempts + 1,
                         (unsigned long long)delay);
}

/* A transfer error after its retries: the server is out of reach. */
static void lost(http_ctx_t *c, const http_outcome_t *o) {
  bool retry;
  iotkit_err_t e = iotkit__transport_http_curl_err(o->rc, &retry);
  iotkit__transport_http_go_down(c, e == IOTKIT_ERR_TLS ? IOTKIT_ERR_TLS : IOTKIT_ERR_CONNECTION_LOST, o->detail);
}

static void probe_done(http_ctx_t *c, http_req_t *r, const http_outcome_t *o) {
  iotkit__transport_http_req_free(c, r);
  c->probe = NULL;
  if (o->rc != CURLE_OK) {
    bool retry;
    iotkit_err_t e = iotkit__transport_http_curl_err(o->rc, &retry);
    if (e != IOTKIT_ERR_TLS && e != IOTKIT_ERR_TIMEOUT && e != IOTKIT_ERR_NOMEM) e = IOTKIT_ERR_CONNECT;
    char detail[IOTKIT__TRANSPORT_ERR_MAX];
    const char *why = strstr(o->detail, " failed: ");
    iotkit__fmt(detail, sizeof detail, "http: cannot connect to %s:%u: %s", c->host, c->port,
                why ? why + strlen(" failed: ") : o->detail);
    iotkit__transport_http_go_down(c, e, detail);
    return;
  }
  /* Any HTTP answer proves the server is there; routes are checked per request. */
  iotkit__transport_http_set_state(c, HTTP_UP);
  iotkit__transport_logf(c->hal, IOTKIT_LOG_INFO, "http: connected to %s:%u (HTTP/%s, HEAD answered %ld)", c->host,
                         c->port, o->version == CURL_HTTP_VERSION_2_0 ? "2" : "1.1", o->status);
  if (c->ev.connected) c->ev.connected(c->ev.user);
}

static void send_done(http_ctx_t *c, http_req_t *r, const http_outcome_t *o, uint64_t now) {
  bool retry;
  if (o->rc != CURLE_OK) {
    iotkit__transport_http_curl_err(o->rc, &retry);
    if (retry && r->attempts < c->tune.attempts) {
      schedule_retry(c, r, o, now);
    } else {
      iotkit__transport_http_stop(c, r); /* stays queued: go_down fails it with the rest */
      lost(c, o);
    }
    return;
  }
  iotkit_err_t e = iotkit__transport_http_status_err(o->status);
  retry = iotkit__transport_http_status_retryable(o->status);
  if (o->status == 401) {
    /* The credentials are refused (an expired or revoked token): the message fails
       with AUTH and the session ends with AUTH, as for a long poll, so that the
       device reconnects with fresh credentials instead of re-sending into the refusal. */
    iotkit__transport_http_set_err(c, o->detail);
    send_final(c, r, e);
    if (iotkit__transport_http_state(c) != HTTP_DOWN) iotkit__transport_http_go_down(c, IOTKIT_ERR_AUTH, o->detail);
    return;
  }
  if (e != IOTKIT_OK && retry && r->attempts < c->tune.attempts) {
    schedule_retry(c, r, o, now);
    return;
  }
  if (e != IOTKIT_OK) {
    char detail[IOTKIT__TRANSPORT_ERR_MAX];
    iotkit__fmt(detail, sizeof detail, "%s%s", o->detail, retry ? " after every attempt" : "");
    iotkit__transport_http_set_err(c, detail);
    iotkit__transport_logf(c->hal, IOTKIT_LOG_WARN, "%s", detail);
  }
  send_final(c, r, e);
}

/* Hand a long-poll answer to the message event. The body and channel are
   taken out of @p r first: the handler may disconnect, which frees @p r. */
static void deliver(http_ctx_t *c, http_req_t *r, unsigned char *body, size_t len) {
  char *channel = iotkit__strdup(r->channel);
  const void *payload = body ? body : (unsigned char *)"";
  if (!channel) {
    iotkit__transport_logf(c->hal, IOTKIT_LOG_ERROR, "http: out of memory; message on %s dropped", r->channel);
  } else if (c->ev.message_ex) {
    /* HTTP has no QoS and says nothing of retention (a front may answer a retained
       channel's GET with its current document, but the answer does not tell). */
    iotkit_transport_msg_t m = {.struct_size = sizeof m, .channel = channel, .payload = payload, .len = len,
                                .qos = 0, .retain = false};
    c->ev.message_ex(c->ev.user, &m);
  } else if (c->ev.message) {
    c->ev.message(c->ev.user, channel, payload, len);
  }
  free(channel);
}

static void poll_done(http_ctx_t *c, http_req_t *r, const http_outcome_t *o, uint64_t now) {
  unsigned char *body = r->resp;
  size_t len = r->resp_len;
  bool overflow = r->resp_overflow;
  r->resp = NULL;
  iotkit__transport_http_stop(c, r);
  uint64_t interval = r->started_ms + c->tune.poll_ms > now ? r->started_ms + c->tune.poll_ms : now;
  bool retry;
  if (o->rc != CURLE_OK && overflow) {
    char detail[IOTKIT__TRANSPORT_ERR_MAX];
    iotkit__fmt(detail, sizeof detail, "http: message on %s exceeds the limit of %zu bytes; dropped", r->channel,
                r->resp_limit);
    iotkit__transport_http_set_err(c, detail);
    iotkit__transport_logf(c->hal, IOTKIT_LOG_WARN, "%s", detail);
    r->attempts = 0;
    r->due_ms = interval;
  } else if (o->rc != CURLE_OK) {
    iotkit__transport_http_curl_err(o->rc, &retry);
    if (retry && r->attempts < c->tune.attempts) {
      schedule_retry(c, r, o, now);
    } else {
      lost(c, o); /* frees r */
    }
  } else if (o->status == 204 || o->status == 304) {
    r->attempts = 0;
    r->due_ms = interval;
  } else if (o->status >= 200 && o->status < 300) {
    r->attempts = 0;
    if (o->etag[0]) memcpy(r->etag, o->etag, sizeof r->etag);
    /* straight back for the next message, unless the server answers empty at once */
    r->due_ms = len ? now : interval;
    deliver(c, r, body, len);
  } else if (o->status == 401 || o->status == 403) {
    iotkit__transport_http_go_down(c, IOTKIT_ERR_AUTH, o->detail); /* frees r */
  } else if (iotkit__transport_http_status_retryable(o->status)) {
    schedule_retry(c, r, o, now);
  } else {
    /* 404 and other refusals: the route may appear later; poll slowly. */
    iotkit__transport_http_set_err(c, o->detail);
    iotkit__transport_logf(c->hal, IOTKIT_LOG_WARN, "%s", o->detail);
    uint64_t slow = iotkit__transport_http_backoff_ms(c, r->attempts, -1);
    r->due_ms = now + (slow > c->tune.poll_ms ? slow : c->tune.poll_ms);
  }
  free(body);
}

static void read_outcome(http_ctx_t *c, http_req_t *r, CURL *e, CURLcode rc, http_outcome_t *o) {
  memset(o, 0, sizeof *o);
  o->rc = rc;
  o->retry_after_s = -1;
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &o->status);
  curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &o->version);
  curl_off_t ra = 0;
  if (curl_easy_getinfo(e, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0) {
    o->retry_after_s = ra > (curl_off_t)IOTKIT_HTTP_RETRY_AFTER_MAX_S ? (long)IOTKIT_HTTP_RETRY_AFTER_MAX_S : (long)ra;
  }
  struct curl_header *h = NULL;
  if (rc == CURLE_OK && curl_easy_header(e, "ETag", 0, CURLH_HEADER, -1, &h) == CURLHE_OK && h->value &&
      strlen(h->value) < sizeof o->etag) {
    memcpy(o->etag, h->value, strlen(h->value) + 1);
  }
  char what[96];
  iotkit__transport_http_describe(c, r, what, sizeof what);
  if (rc != CURLE_OK) {
    iotkit__fmt(o->detail, sizeof o->detail, "http: %s to %s:%u failed: %s", what, c->host, c->port,
                r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc));
  } else {
    iotkit__fmt(o->detail, sizeof o->detail, "http: %s answered %ld", what, o->status);
  }
}

static void finish_done(http_ctx_t *c) {
  CURLMsg *m;
  int left;
  while ((m = curl_multi_info_read(c->multi, &left)) != NULL) {
    if (m->msg != CURLMSG_DONE) continue;
    CURL *e = m->easy_handle;
    CURLcode rc = m->data.result; /* m dies with the handle's removal */
    http_req_t *r = NULL;
    curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&r);
    http_outcome_t o;
    read_outcome(c, r, e, rc, &o);
    uint64_t now = iotkit__transport_now_ms(c->hal);
    if (r->kind == HTTP_REQ_PROBE) {
      probe_done(c, r, &o);
    } else if (r->kind == HTTP_REQ_SEND) {
      send_done(c, r, &o, now);
    } else {
      poll_done(c, r, &o, now);
    }
  }
}

/* libcurl's timer, if it is due. */
static iotkit_err_t run_timer(http_ctx_t *c) {
  if (c->timer_due > iotkit__transport_now_ms(c->hal)) return IOTKIT_OK;
  c->timer_due = UINT64_MAX; /* the action sets the next one */
  int running = 0;
  return curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running) == CURLM_OUT_OF_MEMORY
             ? IOTKIT_ERR_NOMEM
             : IOTKIT_OK;
}

/* Wait up to @p wait_ms on the epoll set and hand each ready socket to libcurl. */
static iotkit_err_t run_sockets(http_ctx_t *c, uint64_t wait_ms) {
  struct epoll_event evs[16];
  int n = epoll_wait(c->epfd, evs, 16, (int)(wait_ms > INT32_MAX ? INT32_MAX : wait_ms));
  for (int i = 0; i < n; i++) {
    if (evs[i].data.fd == c->wakefd) continue; /* drained by the next turn */
    int bits = (evs[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) | (evs[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
               (evs[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
    int running = 0;
    if (curl_multi_socket_action(c->multi, evs[i].data.fd, bits, &running) == CURLM_OUT_OF_MEMORY)
      return IOTKIT_ERR_NOMEM;
  }
  return IOTKIT_OK;
}

iotkit_err_t iotkit__transport_http_poll(void *ctx, int timeout_ms) {
  http_ctx_t *c = ctx;
  if (!c || timeout_ms < 0) return IOTKIT_ERR_INVALID_ARG;
  uint64_t deadline = iotkit__transport_now_ms(c->hal) + (uint64_t)timeout_ms;
  for (;;) {
    iotkit__transport_http_fd_drain(c); /* before taking the queue: a later send() signals again */
    take_incoming(c);
    iotkit_err_t rc = start_due(c, iotkit__transport_now_ms(c->hal));
    if (rc == IOTKIT_OK) rc = run_timer(c);
    if (rc != IOTKIT_OK) return rc;
    finish_done(c);
    uint64_t now = iotkit__transport_now_ms(c->hal);
    uint64_t wait = deadline > now ? deadline - now : 0;
    uint64_t due = next_due(c);
    if (due < now + wait) wait = due > now ? due - now : 0;
    if (c->timer_due < now + wait) wait = c->timer_due > now ? c->timer_due - now : 0;
    /* Wakes early on socket activity or a send()'s eventfd; with wait 0 it only
       takes what is ready, so poll(0) from an external loop does the work. */
    rc = run_sockets(c, wait);
    if (rc == IOTKIT_OK) rc = run_timer(c);
    if (rc != IOTKIT_OK) return rc;
    finish_done(c);
    if (iotkit__transport_now_ms(c->hal) >= deadline) return IOTKIT_OK;
  }
}

int iotkit__transport_http_timeout_ms(void *ctx) {
  http_ctx_t *c = ctx;
  if (!c) return -1;
  iotkit__transport_lock_acquire(&c->lock);
  bool queued = c->incoming != NULL;
  iotkit__transport_lock_release(&c->lock);
  if (queued) return 0;
  long best = -1;
  uint64_t due = next_due(c), now = iotkit__transport_now_ms(c->hal);
  if (c->timer_due != UINT64_MAX) best = c->timer_due > now ? (long)(c->timer_due - now) : 0;
  if (due != UINT64_MAX) {
    uint64_t left = due > now ? due - now : 0;
    if (best < 0 || left < (uint64_t)best) best = left > INT32_MAX ? INT32_MAX : (long)left;
  }
  return best > INT32_MAX ? INT32_MAX : (int)best;
}
