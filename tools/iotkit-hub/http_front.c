/* The HTTP front (libmicrohttpd, driven from the main loop through its epoll
 * descriptor): the HTTP routes of docs/protocol.md, as the SDK's HTTP backend
 * uses them.
 *
 *   HEAD /                           200: the hub is there
 *   POST|PUT /<prefix>/<id>/<channel>  published like the CoAP front (204)
 *   GET /<prefix>/<id>/state/desired?wait=S     the desired document (200, ETag)
 *   GET /<prefix>/<id>/ota/manifest?wait=S      the OTA manifest (200, ETag)
 *   GET /<prefix>/<id>/commands/request?wait=S  the oldest waiting command (200)
 *
 * A GET with nothing to give is held (suspended) up to S seconds (default 30,
 * at most 300), then answered 204. Every route but HEAD / needs
 * "Authorization: Bearer <token>", the token being the device's key in hex as
 * in the key file: no or an unknown token gives 401, another device's route
 * 403; nothing is published then. */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "hub_http.h"

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

enum MHD_Result hub_http_reply(struct MHD_Connection *c, unsigned status, const char *type, const void *body,
                               size_t len, const char *etag) {
  struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
  if (!r) return MHD_NO;
  if (type) MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
  if (etag) MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag);
  if (status == MHD_HTTP_UNAUTHORIZED) MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"iotkit-hub\"");
  if (status == MHD_HTTP_SERVICE_UNAVAILABLE) MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
  enum MHD_Result ok = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  return ok;
}

/* A refusal with a diagnostic line, logged. */
static enum MHD_Result refuse(hub_t *hub, http_req_t *q, unsigned status, const char *diag) {
  if (status == 403 || status == 401) {
    hub->stats.forbidden++;
  } else if (status < 500) {
    hub->stats.bad++;
  }
  hub_log(status == 403 || status == 401 ? HUB_LOG_WARN : HUB_LOG_INFO, "device %s (%s): %s %s refused: %u %s",
          q->who[0] ? q->who : "?", q->addr, q->method, q->url, status, diag);
  char text[400];
  int n = snprintf(text, sizeof text, "%s\n", diag);
  return hub_http_reply(q->conn, status, "text/plain", text, (size_t)n < sizeof text ? (size_t)n : sizeof text - 1, NULL);
}

/* The device the Bearer token of @p authorization names, or NULL. */
static hub_device_t *authenticate(hub_t *hub, const char *authorization) {
  if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0) return NULL;
  return hub_auth_token_device(hub, authorization + 7);
}

static void check_fail(hub_http_check_t *out, unsigned status, const char *diag) {
  out->status = status;
  snprintf(out->diag, sizeof out->diag, "%s", diag);
}

void hub_http_check(hub_t *hub, const hub_http_request_t *rq, hub_http_check_t *out) {
  memset(out, 0, sizeof *out);
  out->online = -1;
  bool get = strcmp(rq->method, "GET") == 0, put = strcmp(rq->method, "PUT") == 0;
  bool post = strcmp(rq->method, "POST") == 0;
  if (strcmp(rq->method, "HEAD") == 0) {
    out->status = 200;
    return;
  }
  if (!get && !put && !post) return check_fail(out, 405, "the hub takes GET, PUT, POST and HEAD");
  const char *id_start = NULL, *name = NULL;
  size_t id_len = 0;
  if (rq->url[0] != '/' || !hub_route_split(hub, rq->url + 1, &id_start, &id_len, &name)) {
    snprintf(out->diag, sizeof out->diag, "no such route (the hub serves /%s/<device-id>/<channel>)",
             hub->cfg.prefix);
    out->status = 404;
    return;
  }
  memcpy(out->id, id_start, id_len);
  out->id[id_len] = '\0';
  out->name = name;
  out->who = authenticate(hub, rq->authorization);
  if (!out->who) return check_fail(out, 401, "a device token is needed: Authorization: Bearer <token>");
  if (strcmp(out->who->id, out->id) != 0) {
    snprintf(out->diag, sizeof out->diag, "not your route: it belongs to device '%s'", out->id);
    out->status = 403;
    return;
  }
  out->get = get;
  if (get) return;
  int status = hub_channel_route(name, put, &out->rule, out->diag, sizeof out->diag);
  if (status) {
    out->status = (unsigned)status;
    return;
  }
  if (rq->too_large) {
    snprintf(out->diag, sizeof out->diag, "payload larger than %zu bytes", hub->cfg.max_payload);
    out->status = 413;
    return;
  }
  bool json = rq->content_type && strncasecmp(rq->content_type, "application/json", 16) == 0;
  status = hub_channel_payload(out->rule, name, rq->body, rq->len, json, &out->online, out->diag, sizeof out->diag);
  out->status = (unsigned)status;
}

static enum MHD_Result publish(hub_t *hub, http_req_t *q, const hub_http_check_t *c) {
  const char *topic = q->url + 1;
  if (!hub_mqtt_publish(hub, topic, q->body, q->len, 1, c->rule->retain)) {
    hub_log(HUB_LOG_WARN, "device %s (%s): %s %s: 503, MQTT not connected", c->id, q->addr, q->method, c->name);
    static const char busy[] = "the hub's MQTT broker is not connected: try again\n";
    return hub_http_reply(q->conn, 503, "text/plain", busy, sizeof busy - 1, NULL);
  }
  hub->stats.published++;
  hub_log(HUB_LOG_INFO, "device %s (%s): %s %s over HTTP, %zu bytes -> MQTT %s (qos 1%s)", c->id, q->addr, q->method,
          c->name, q->len, topic, c->rule->retain ? ", retained" : "");
  return hub_http_reply(q->conn, MHD_HTTP_NO_CONTENT, NULL, "", 0, NULL);
}

/* The whole request is here: route it. */
static enum MHD_Result dispatch(hub_t *hub, http_req_t *q) {
  hub_http_request_t rq = {
      .method = q->method,
      .url = q->url,
      .authorization = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
      .content_type = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
      .body = q->body,
      .len = q->len,
      .too_large = q->too_large,
  };
  hub_http_check_t c;
  hub_http_check(hub, &rq, &c);
  if (c.who) snprintf(q->who, sizeof q->who, "%s", c.who->id);
  if (c.status == 200) return hub_http_reply(q->conn, 200, "text/plain", "", 0, NULL);
  if (c.status) return refuse(hub, q, c.status, c.diag);
  if (c.get) return hub_http_get(hub, q, c.who, c.name);
  return publish(hub, q, &c);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls) {
  (void)version;
  hub_t *hub = cls;
  http_req_t *q = *con_cls;
  if (!q) {
    q = calloc(1, sizeof *q);
    if (!q) return MHD_NO;
    q->conn = conn;
    snprintf(q->method, sizeof q->method, "%s", method);
    snprintf(q->url, sizeof q->url, "%s", url);
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char host[64] = "?", port[8] = "?";
    if (ci && ci->client_addr) {
      getnameinfo(ci->client_addr, ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                                          : sizeof(struct sockaddr_in),
                  host, sizeof host, port, sizeof port, NI_NUMERICHOST | NI_NUMERICSERV);
    }
    snprintf(q->addr, sizeof q->addr, "%s:%s", host, port);
    *con_cls = q;
    return MHD_YES;
  }
  if (*upload_size) {
    size_t n = *upload_size;
    *upload_size = 0;
    if (q->too_large || q->len + n > hub->cfg.max_payload) {
      q->too_large = true;
      return MHD_YES;
    }
    char *grown = realloc(q->body, q->len + n + 1);
    if (!grown) return MHD_NO;
    memcpy(grown + q->len, upload, n);
    q->body = grown;
    q->len += n;
    return MHD_YES;
  }
  if (q->waiter) return hub_http_get_again(hub, q);
  return dispatch(hub, q);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode why) {
  (void)conn;
  (void)why;
  http_req_t *q = *con_cls;
  if (!q) return;
  hub_http_forget(cls, q);
  free(q->body);
  free(q);
  *con_cls = NULL;
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) {
    hub_log(HUB_LOG_ERROR, "%s: %s", path, strerror(errno));
    return NULL;
  }
  char *buf = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len + 4096 + 1 > cap) {
      char *g = realloc(buf, cap = cap * 2 + 8192);
      if (!g) break;
      buf = g;
    }
    size_t got = fread(buf + len, 1, cap - len - 1, f);
    len += got;
    if (got == 0) break;
  }
  fclose(f);
  if (buf) buf[len] = '\0';
  return buf;
}

bool hub_http_start(hub_t *hub) {
  if (!hub->cfg.http_listen) return true;
  http_front_t *h = calloc(1, sizeof *h);
  if (!h) return false;
  hub->http = h;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  h->run = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
  char host[256];
  const char *spec = hub->cfg.http_listen, *colon = strrchr(spec, ':');
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
  struct addrinfo *res = NULL;
  size_t hl = colon ? (size_t)(colon - spec) : 0;
  if (hl >= 2 && spec[0] == '[' && spec[hl - 1] == ']') {
    spec++;
    hl -= 2;
  }
  if (!colon || hl == 0 || hl >= sizeof host) {
    hub_log(HUB_LOG_ERROR, "http listen address '%s' is not HOST:PORT", hub->cfg.http_listen);
    return false;
  }
  memcpy(host, spec, hl);
  host[hl] = '\0';
  if (getaddrinfo(host, colon + 1, &hints, &res) != 0 || !res) {
    hub_log(HUB_LOG_ERROR, "http listen address '%s' is not HOST:PORT", hub->cfg.http_listen);
    return false;
  }
  unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
  if (res->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
  bool tls = hub->cfg.https_cert != NULL;
  if (tls) {
    flags |= MHD_USE_TLS;
    h->cert = slurp(hub->cfg.https_cert);
    h->key = slurp(hub->cfg.https_key);
    if (!h->cert || !h->key) {
      freeaddrinfo(res);
      return false;
    }
  }
  uint16_t port = (uint16_t)atoi(colon + 1);
  h->daemon = tls ? MHD_start_daemon(flags, port, NULL, NULL, on_request, hub, MHD_OPTION_SOCK_ADDR, res->ai_addr,
                                     MHD_OPTION_NOTIFY_COMPLETED, on_completed, hub, MHD_OPTION_HTTPS_MEM_CERT,
                                     h->cert, MHD_OPTION_HTTPS_MEM_KEY, h->key, MHD_OPTION_END)
                  : MHD_start_daemon(flags, port, NULL, NULL, on_request, hub, MHD_OPTION_SOCK_ADDR, res->ai_addr,
                                     MHD_OPTION_NOTIFY_COMPLETED, on_completed, hub, MHD_OPTION_END);
  freeaddrinfo(res);
  if (!h->daemon) {
    hub_log(HUB_LOG_ERROR, "cannot serve HTTP%s on %s (port in use, or a bad certificate or key?)", tls ? "S" : "",
            hub->cfg.http_listen);
    return false;
  }
  hub_log(HUB_LOG_INFO, "listening on %s://%s%s", tls ? "https" : "http", hub->cfg.http_listen,
          tls ? "" : " (insecure: tokens travel in clear)");
  return true;
}

int hub_http_prepare(hub_t *hub, int cap, int *fd) {
  http_front_t *h = hub->http;
  *fd = -1;
  if (!h || !h->daemon) return cap;
  const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_EPOLL_FD);
  if (di) *fd = di->epoll_fd;
  if (h->resumed) return 0;
  MHD_UNSIGNED_LONG_LONG t = 0;
  if (MHD_get_timeout(h->daemon, &t) == MHD_YES && t < (MHD_UNSIGNED_LONG_LONG)cap) cap = (int)t;
  uint64_t now = now_ms();
  for (http_wait_t *w = h->waiters; w; w = w->next) {
    if (w->resumed) continue;
    uint64_t due = w->q->deadline_ms;
    int left = due > now ? (due - now > (uint64_t)cap ? cap : (int)(due - now)) : 0;
    if (left < cap) cap = left;
  }
  return cap;
}

void hub_http_process(hub_t *hub) {
  http_front_t *h = hub->http;
  if (!h || !h->daemon) return;
  h->resumed = false;
  hub_http_expire(hub, now_ms());
  MHD_run(h->daemon);
}

void hub_http_stop(hub_t *hub) {
  http_front_t *h = hub->http;
  if (!h) return;
  if (h->daemon) {
    h->stopping = true;
    hub_http_expire(hub, UINT64_MAX); /* suspended requests must be resumed before the daemon stops */
    MHD_run(h->daemon);
    MHD_stop_daemon(h->daemon);
  }
  free(h->cert);
  free(h->key);
  free(h);
  hub->http = NULL;
}
