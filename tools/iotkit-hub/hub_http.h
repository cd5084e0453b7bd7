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
