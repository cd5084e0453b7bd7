/* Cloud -> device over HTTP: long polls of the retained channels
 * (state/desired, ota/manifest) and of commands/request. A GET with nothing
 * to give is suspended (libmicrohttpd keeps the connection) until something
 * comes for its device (hub_http_wake) or its wait runs out
 * (hub_http_expire), then resumed and answered: 200 with the document, or
 * 204. A retained document carries an ETag (the hub's start time and the count
 * of its changes, so that a restarted hub never takes an earlier run's ETag for
 * its own): a GET whose If-None-Match is the current one waits for the next
 * change. A command is taken from the device's queue when it is answered. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hub_http.h"

#define WAIT_DEFAULT_S 30
#define WAIT_MAX_S 300

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Answer now if there is something; true if answered (*ok: the result). */
static bool answer_now(hub_t *hub, http_req_t *q, enum MHD_Result *ok) {
  hub_device_t *d = q->dev;
  if (q->retained < 0) {
    hub_cmd_t *c = hub_device_pop_command(d);
    if (!c) return false;
    hub->stats.notified++;
    hub_log(HUB_LOG_INFO, "device %s (%s): command -> device over HTTP (%zu bytes, %u still waiting)", d->id, q->addr,
            c->len, d->cmd_count);
    *ok = hub_http_reply(q->conn, 200, "application/json", c->data, c->len, NULL);
    free(c);
    return true;
  }
  const hub_retained_t *r = &d->retained[q->retained];
  char etag[48];
  snprintf(etag, sizeof etag, "\"%llx-%lu\"", (unsigned long long)hub->http->run, r->seq);
  const char *inm = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
  if (!r->len || (inm && strcmp(inm, etag) == 0)) return false;
  hub->stats.notified++;
  hub_log(HUB_LOG_INFO, "device %s (%s): %s -> device over HTTP (%zu bytes)", d->id, q->addr,
          hub_retained_name((hub_ret_t)q->retained), r->len);
  *ok = hub_http_reply(q->conn, 200, "application/json", r->doc, r->len, etag);
  return true;
}

static enum MHD_Result hold(hub_t *hub, http_req_t *q) {
  http_front_t *h = hub->http;
  http_wait_t *w = calloc(1, sizeof *w);
  if (!w) return hub_http_reply(q->conn, 204, NULL, "", 0, NULL);
  hub_log(HUB_LOG_DEBUG, "device %s (%s): GET %s held until something comes", q->dev->id, q->addr,
          q->retained < 0 ? HUB_CMD_REQUEST : hub_retained_name((hub_ret_t)q->retained));
  w->q = q;
  w->next = h->waiters;
  h->waiters = w;
  q->waiter = w;
  MHD_suspend_connection(q->conn);
  return MHD_YES;
}

enum MHD_Result hub_http_get(hub_t *hub, http_req_t *q, hub_device_t *dev, const char *name) {
  q->dev = dev;
  q->retained = hub_retained_find(name);
  if (q->retained < 0 && strcmp(name, HUB_CMD_REQUEST) != 0) {
    const hub_channel_t *rule = NULL;
    char diag[300];
    bool exists = hub_channel_route(name, false, &rule, diag, sizeof diag) != 404 ||
                  hub_channel_route(name, true, &rule, diag, sizeof diag) != 404;
    const char *text = exists ? "a device -> cloud channel: POST or PUT it\n" : "no such channel\n";
    return hub_http_reply(q->conn, exists ? 405 : 404, "text/plain", text, strlen(text), NULL);
  }
  const char *wait = MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, "wait");
  long s = wait ? strtol(wait, NULL, 10) : WAIT_DEFAULT_S;
  if (s < 0) s = 0;
  if (s > WAIT_MAX_S) s = WAIT_MAX_S;
  q->deadline_ms = now_ms() + (uint64_t)s * 1000u;
  enum MHD_Result ok = MHD_YES;
  if (answer_now(hub, q, &ok)) return ok;
  if (s == 0 || hub->http->stopping) return hub_http_reply(q->conn, 204, NULL, "", 0, NULL);
  return hold(hub, q);
}

enum MHD_Result hub_http_get_again(hub_t *hub, http_req_t *q) {
  hub_http_forget(hub, q);
  enum MHD_Result ok = MHD_YES;
  if (answer_now(hub, q, &ok)) return ok;
  if (hub->http->stopping || now_ms() >= q->deadline_ms) return hub_http_reply(q->conn, 204, NULL, "", 0, NULL);
  return hold(hub, q); /* woken, but another poll took it */
}

static void resume(http_wait_t *w) {
  if (w->resumed) return;
  w->resumed = true;
  MHD_resume_connection(w->q->conn);
}

void hub_http_wake(hub_t *hub, hub_device_t *dev) {
  for (http_wait_t *w = hub->http ? hub->http->waiters : NULL; w; w = w->next) {
    if (w->q->dev == dev) {
      resume(w);
      hub->http->resumed = true;
    }
  }
}

void hub_http_expire(hub_t *hub, uint64_t now) {
  for (http_wait_t *w = hub->http ? hub->http->waiters : NULL; w; w = w->next) {
    if (w->q->deadline_ms <= now && !w->resumed) {
      resume(w);
      hub->http->resumed = true;
    }
  }
}

void hub_http_forget(hub_t *hub, http_req_t *q) {
  if (!q->waiter || !hub->http) return;
  for (http_wait_t **p = &hub->http->waiters; *p; p = &(*p)->next) {
    if (*p == q->waiter) {
      *p = q->waiter->next;
      break;
    }
  }
  free(q->waiter);
  q->waiter = NULL;
}
