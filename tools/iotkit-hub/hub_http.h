/* Shared by the HTTP front's files: http_front.c (daemon, routing, device ->
   cloud) and http_wait.c (cloud -> device long polls). */
#ifndef IOTKIT_HUB_HTTP_H
#define IOTKIT_HUB_HTTP_H

#include <microhttpd.h>

#include "hub.h"

typedef struct http_wait http_wait_t;

/* One request (libmicrohttpd's per-connection pointer). */
typedef struct http_req {
  struct MHD_Connection *conn;
  char method[16];
  char url[512];
  char addr[80];
  char who[160]; /* the device the token names */
  char *body;
  size_t len;
  bool too_large;
  /* a long poll */
  hub_device_t *dev;
  int retained;         /* the retained channel polled (hub_ret_t), or -1: commands/request */
  uint64_t deadline_ms; /* when to answer 204 */
  http_wait_t *waiter;  /* set while suspended, and when resumed until answered */
} http_req_t;

struct http_wait {
  http_wait_t *next;
  http_req_t *q;
  bool resumed;
};

typedef struct hub_http {
  struct MHD_Daemon *daemon;
  char *cert, *key; /* PEM text, kept for the daemon's lifetime */
  http_wait_t *waiters;
  bool stopping;
  bool resumed; /* a held request was resumed: libmicrohttpd has work at once */
  uint64_t run;  /* this run's start (wall clock, ms): in every ETag, so that a
                    client's ETag from an earlier run never matches */
} http_front_t;

/* What the HTTP front reads of a request (strings NUL-terminated; the headers may be NULL). */
typedef struct hub_http_request {
  const char *method;
  const char *url; /* the path, without the query */
  const char *authorization;
  const char *content_type;
  const char *body;
  size_t len;
  bool too_large; /* the body was larger than max_payload (and not kept) */
} hub_http_request_t;

/* The verdict on a request: its route, its device, its channel rule. */
typedef struct hub_http_check {
  unsigned status; /* 0: go on (a GET is answered by hub_http_get(), a PUT/POST published);
                      200: HEAD; else the refusal (401, 403, 404, 405, 413, 400) with diag */
  char diag[300];
  char id[160];               /* the device id of the route */
  const char *name;           /* the channel of the route (points into url) */
  hub_device_t *who;          /* the device the token names, or NULL */
  const hub_channel_t *rule;  /* PUT/POST: the channel's rule */
  bool get;
  int online;                 /* status channel: 1 online, 0 not; else -1 */
} hub_http_check_t;

/* Check @p rq (method, route, token, channel, size, payload) without answering
   it: no libmicrohttpd call, nothing published (so that tests/fuzz can drive it). */
void hub_http_check(hub_t *hub, const hub_http_request_t *rq, hub_http_check_t *out);

/* Queue a response (body copied). */
enum MHD_Result hub_http_reply(struct MHD_Connection *c, unsigned status, const char *type, const void *body,
                               size_t len, const char *etag);
/* A GET of @p name for @p dev (authenticated): answer or hold it. */
enum MHD_Result hub_http_get(hub_t *hub, http_req_t *q, hub_device_t *dev, const char *name);
/* A held GET was resumed: answer it, or hold it again. */
enum MHD_Result hub_http_get_again(hub_t *hub, http_req_t *q);
/* Resume the held GETs whose deadline is at or before @p now. */
void hub_http_expire(hub_t *hub, uint64_t now);
/* @p q ends: forget its waiter. */
void hub_http_forget(hub_t *hub, http_req_t *q);

#endif
