/* A scripted HTTP server for fault tests, on libmicrohttpd (see http_script_server.h). */
#include "http_script_server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_util.h"

typedef struct queued {
  struct queued *next;
  char path[256];
  http_script_reply_t reply; /* body, header, value point into the copies below */
  char *body;
  char *header;
  char *value;
} queued_t;

struct http_script {
  struct MHD_Daemon *daemon;
  pthread_mutex_t lock;
  queued_t *queue;
  http_script_request_t *reqs;
  size_t nreqs;
  size_t cap;
  uint16_t port;
  char url[64];
};

/* The body of a reply cut in the middle. */
typedef struct cut_body {
  char *bytes;
  size_t half;
} cut_body_t;

static void copy_str(char *dst, size_t cap, const char *src) { snprintf(dst, cap, "%s", src ? src : ""); }

static void queued_free(queued_t *q) {
  if (!q) return;
  free(q->body);
  free(q->header);
  free(q->value);
  free(q);
}

bool http_script_push(http_script_t *s, const char *path, const http_script_reply_t *reply) {
  if (!s || !path || !reply) return false;
  queued_t *q = calloc(1, sizeof *q);
  if (!q) return false;
  copy_str(q->path, sizeof q->path, path);
  q->reply = *reply;
  size_t len = reply->body && !reply->body_len ? strlen(reply->body) : reply->body_len;
  q->reply.body_len = len;
  q->body = malloc(len + 1);
  q->header = reply->header ? strdup(reply->header) : NULL;
  q->value = reply->value ? strdup(reply->value) : NULL;
  if (!q->body || (reply->header && !q->header) || (reply->value && !q->value)) {
    queued_free(q);
    return false;
  }
  if (len) memcpy(q->body, reply->body, len);
  q->reply.body = q->body;
  q->reply.header = q->header;
  q->reply.value = q->value;
  pthread_mutex_lock(&s->lock);
  queued_t **tail = &s->queue;
  while (*tail) tail = &(*tail)->next;
  *tail = q;
  pthread_mutex_unlock(&s->lock);
  return true;
}

/* Record @p req and take the next reply queued for its path (NULL: default). */
static queued_t *record(http_script_t *s, const http_script_request_t *req) {
  pthread_mutex_lock(&s->lock);
  if (s->nreqs == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 16;
    http_script_request_t *grown = realloc(s->reqs, cap * sizeof *grown);
    if (grown) {
      s->reqs = grown;
      s->cap = cap;
    }
  }
  if (s->nreqs < s->cap) s->reqs[s->nreqs++] = *req;
  queued_t *found = NULL;
  for (queued_t **p = &s->queue; *p; p = &(*p)->next) {
    if (strcmp((*p)->path, req->path) == 0) {
      found = *p;
      *p = found->next;
      break;
    }
  }
  pthread_mutex_unlock(&s->lock);
  return found;
}

static ssize_t read_cut(void *cls, uint64_t pos, char *buf, size_t max) {
  cut_body_t *c = cls;
  if (pos >= c->half) return MHD_CONTENT_READER_END_WITH_ERROR;
  size_t n = c->half - (size_t)pos < max ? c->half - (size_t)pos : max;
  memcpy(buf, c->bytes + pos, n);
  return (ssize_t)n;
}

static void free_cut(void *cls) {
  cut_body_t *c = cls;
  free(c->bytes);
  free(c);
}

static struct MHD_Response *make_response(const http_script_reply_t *r) {
  if (!r->cut) return MHD_create_response_from_buffer(r->body_len, (void *)r->body, MHD_RESPMEM_MUST_COPY);
  cut_body_t *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->bytes = malloc(r->body_len + 1);
  if (!c->bytes) {
    free(c);
    return NULL;
  }
  memcpy(c->bytes, r->body, r->body_len);
  c->half = r->body_len / 2;
  return MHD_create_response_from_callback(r->body_len, 1024, read_cut, c, free_cut);
}

static const char *header_of(struct MHD_Connection *conn, const char *name) {
  return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **state) {
  (void)version;
  http_script_t *s = cls;
  http_script_request_t *req = *state;
  if (!req) {
    req = calloc(1, sizeof *req);
    if (!req) return MHD_NO;
    copy_str(req->method, sizeof req->method, method);
    copy_str(req->path, sizeof req->path, url);
    copy_str(req->wait, sizeof req->wait, MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "wait"));
    copy_str(req->if_none_match, sizeof req->if_none_match, header_of(conn, "If-None-Match"));
    copy_str(req->authorization, sizeof req->authorization, header_of(conn, "Authorization"));
    copy_str(req->content_type, sizeof req->content_type, header_of(conn, "Content-Type"));
    *state = req;
    return MHD_YES;
  }
  if (*upload_size) {
    size_t room = sizeof req->body - req->body_len;
    size_t n = *upload_size < room ? *upload_size : room;
    memcpy(req->body + req->body_len, upload, n);
    req->body_len += n;
    *upload_size = 0;
    return MHD_YES;
  }
  queued_t *q = record(s, req);
  bool get = strcmp(method, "GET") == 0;
  http_script_reply_t dflt = {.status = get ? 204 : 200, .body = "", .delay_ms = get ? 50 : 0};
  const http_script_reply_t *r = q ? &q->reply : &dflt;
  if (r->delay_ms) test_msleep((int)r->delay_ms);
  struct MHD_Response *resp = make_response(r);
  enum MHD_Result ret = MHD_NO;
  if (resp) {
    if (r->header) MHD_add_response_header(resp, r->header, r->value ? r->value : "");
    ret = MHD_queue_response(conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
  }
  queued_free(q);
  return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **state, enum MHD_RequestTerminationCode toe) {
  (void)cls;
  (void)conn;
  (void)toe;
  free(*state);
  *state = NULL;
}

http_script_t *http_script_start(void) {
  http_script_t *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  pthread_mutex_init(&s->lock, NULL);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  s->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL,
                               on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                               MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
  const union MHD_DaemonInfo *info = s->daemon ? MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT) : NULL;
  if (!info || !info->port) {
    fprintf(stderr, "http_script: libmicrohttpd did not start on 127.0.0.1\n");
    http_script_free(s);
    return NULL;
  }
  s->port = info->port;
  snprintf(s->url, sizeof s->url, "http://127.0.0.1:%u", s->port);
  return s;
}

size_t http_script_count(http_script_t *s, const char *method, const char *path) {
  size_t n = 0;
  pthread_mutex_lock(&s->lock);
  for (size_t i = 0; i < s->nreqs; i++) {
    const http_script_request_t *r = &s->reqs[i];
    n += (!method || strcmp(r->method, method) == 0) && (!path || strcmp(r->path, path) == 0);
  }
  pthread_mutex_unlock(&s->lock);
  return n;
}

bool http_script_get(http_script_t *s, size_t i, http_script_request_t *out) {
  pthread_mutex_lock(&s->lock);
  bool ok = i < s->nreqs;
  if (ok) *out = s->reqs[i];
  pthread_mutex_unlock(&s->lock);
  return ok;
}

uint16_t http_script_port(const http_script_t *s) { return s ? s->port : 0; }

const char *http_script_url(const http_script_t *s) { return s ? s->url : ""; }

void http_script_free(http_script_t *s) {
  if (!s) return;
  if (s->daemon) MHD_stop_daemon(s->daemon);
  while (s->queue) {
    queued_t *next = s->queue->next;
    queued_free(s->queue);
    s->queue = next;
  }
  free(s->reqs);
  pthread_mutex_destroy(&s->lock);
  free(s);
}
