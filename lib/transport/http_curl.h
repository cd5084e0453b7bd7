/* Internal parts of the HTTP backend on libcurl, shared by its files:
 *   http_curl.c     the operations table, session state, send/subscribe;
 *   http_request.c  building one libcurl easy transfer, URLs, status mapping;
 *   http_loop.c     poll(): driving the multi handle, retries, long-polls;
 *   http_fd.c       the epoll descriptor of fd() for an external loop.
 */
#ifndef IOTKIT__TRANSPORT_HTTP_CURL_H
#define IOTKIT__TRANSPORT_HTTP_CURL_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transport/common.h"

/* curl_easy_header (7.83), CURLOPT_PROTOCOLS_STR (7.85), CURLINFO_RETRY_AFTER (7.66). */
#if LIBCURL_VERSION_NUM < 0x075500
#error "the HTTP backend needs libcurl 7.85 or later"
#endif

/* Compile-time defaults of the HTTP backend. A port may override them with -D;
   the ones marked with a query key can also be set per endpoint in the URI
   (e.g. https://host/api?wait=20&attempts=3). */

/* Attempts per request before a retryable failure becomes final (attempts=). */
#ifndef IOTKIT_HTTP_MAX_ATTEMPTS
#define IOTKIT_HTTP_MAX_ATTEMPTS 5u
#endif
/* First retry delay; it doubles with every attempt (backoff_ms=). */
#ifndef IOTKIT_HTTP_BACKOFF_BASE_MS
#define IOTKIT_HTTP_BACKOFF_BASE_MS 250u
#endif
/* Longest retry delay computed by backoff. */
#ifndef IOTKIT_HTTP_BACKOFF_MAX_MS
#define IOTKIT_HTTP_BACKOFF_MAX_MS 8000u
#endif
/* A server's Retry-After is honoured up to this many seconds. */
#ifndef IOTKIT_HTTP_RETRY_AFTER_MAX_S
#define IOTKIT_HTTP_RETRY_AFTER_MAX_S 300u
#endif
/* How long the server may hold a long-poll GET (wait=, sent as ?wait=). */
#ifndef IOTKIT_HTTP_LONGPOLL_WAIT_S
#define IOTKIT_HTTP_LONGPOLL_WAIT_S 30u
#endif
/* Least time between the starts of two polls of a channel, unless the last
   one brought a message (poll_ms=). */
#ifndef IOTKIT_HTTP_POLL_INTERVAL_MS
#define IOTKIT_HTTP_POLL_INTERVAL_MS 1000u
#endif
/* Time allowed for one request, on top of the long-poll wait (timeout_ms=). */
#ifndef IOTKIT_HTTP_REQUEST_TIMEOUT_MS
#define IOTKIT_HTTP_REQUEST_TIMEOUT_MS 30000u
#endif
/* Sends in flight at once; 1 keeps them in order (inflight=). */
#ifndef IOTKIT_HTTP_MAX_INFLIGHT
#define IOTKIT_HTTP_MAX_INFLIGHT 1u
#endif

/* Longest ETag kept for conditional polling. */
#define IOTKIT__HTTP_ETAG_MAX 256
/* Easy handles kept for reuse. */
#define IOTKIT__HTTP_IDLE_EASY 4

typedef enum { HTTP_DOWN, HTTP_CONNECTING, HTTP_UP } http_state_t;
typedef enum { HTTP_REQ_PROBE, HTTP_REQ_SEND, HTTP_REQ_POLL } http_req_kind_t;

/* One request: a reachability probe, a message to send, or a subscription's
   long-poll (re-armed after every answer). */
typedef struct http_req {
  struct http_req *next;
  http_req_kind_t kind;
  char *channel;        /* send, poll */
  unsigned char *body;  /* send: the payload (owned) */
  size_t len;
  bool put;             /* send: PUT instead of POST */
  uint32_t msg_id;      /* send */
  CURL *easy;           /* set while the transfer is in the multi handle */
  struct curl_slist *headers;
  unsigned attempts;    /* transfers started for the current outcome */
  uint64_t due_ms;      /* not started before this time */
  uint64_t started_ms;
  char etag[IOTKIT__HTTP_ETAG_MAX]; /* poll: last ETag of the channel */
  unsigned char *resp;  /* poll: response body */
  size_t resp_len;
  size_t resp_cap;
  size_t resp_limit;    /* the payload limit */
  bool resp_overflow;   /* the body exceeded the payload limit */
  char errbuf[CURL_ERROR_SIZE];
} http_req_t;

/* Options read from the URI query, with the defaults above. */
typedef struct http_tuning {
  unsigned long attempts;
  unsigned long backoff_ms;
  unsigned long wait_s;
  unsigned long poll_ms;
  unsigned long timeout_ms;
  unsigned long inflight;
} http_tuning_t;

typedef struct http_ctx {
  iotkit_transport_events_t ev;
  const iotkit_hal_t *hal;
  iotkit__transport_lock_t lock; /* guards state, next_id, incoming, err */
  CURLM *multi;
  char *base; /* scheme://host:port/path without a trailing '/' or query */
  char *host;
  uint16_t port;
  bool secure;
  char *user;     /* basic auth when set (and non-empty) */
  char *password; /* basic password, or bearer token without user; never logged */
  char *ca_file;
  char *ca_dir;
  char *cert_file;
  char *key_file;
  bool verify_peer;
  uint16_t keepalive_s;
  uint32_t connect_timeout_ms;
  size_t max_payload;
  http_tuning_t tune;
  http_state_t state;
  uint32_t next_id;
  http_req_t *incoming; /* sends queued by send(), taken by poll() */
  http_req_t **incoming_tail;
  http_req_t *sends; /* FIFO owned by the polling thread */
  http_req_t *polls; /* one per subscription */
  http_req_t *probe;
  CURL *idle[IOTKIT__HTTP_IDLE_EASY];
  size_t nidle;
  int epfd;   /* fd(): epoll set of libcurl's sockets and wakefd (http_fd.c) */
  int wakefd; /* eventfd signalled by send() */
  uint64_t timer_due; /* libcurl's next timer (monotonic ms), UINT64_MAX: none */
  char err[IOTKIT__TRANSPORT_ERR_MAX];
} http_ctx_t;

/* --- http_curl.c --- */
void iotkit__transport_http_set_err(http_ctx_t *c, const char *detail);
http_state_t iotkit__transport_http_state(http_ctx_t *c);
void iotkit__transport_http_set_state(http_ctx_t *c, http_state_t st);
/* End the session: abort every transfer, fail every queued send with
   delivery(IOTKIT_ERR_CONNECTION_LOST), forget subscriptions, then report
   disconnected(reason, detail). */
void iotkit__transport_http_go_down(http_ctx_t *c, iotkit_err_t reason, const char *detail);

/* --- http_request.c --- */
/* Build the transfer of @p r and add it to the multi handle. */
iotkit_err_t iotkit__transport_http_start(http_ctx_t *c, http_req_t *r);
/* Take the transfer of @p r out of the multi handle (keeping the easy handle
   for reuse) and drop its response. No-op if it is not running. */
void iotkit__transport_http_stop(http_ctx_t *c, http_req_t *r);
/* Stop and free a request. NULL is a no-op. */
void iotkit__transport_http_req_free(http_ctx_t *c, http_req_t *r);
/* Free the kept easy handles. */
void iotkit__transport_http_idle_free(http_ctx_t *c);
/* True if @p channel can become a route: a valid topic name without
   wildcards, empty levels, "." or ".." levels, or a leading '/'. */
bool iotkit__transport_http_channel_valid(const char *channel);
/* The method and path of @p r for log and error lines, e.g. "POST /api/t". */
void iotkit__transport_http_describe(const http_ctx_t *c, const http_req_t *r, char *buf, size_t cap);
/* Map a final HTTP status of a send to a delivery status. */
iotkit_err_t iotkit__transport_http_status_err(long status);
/* True for statuses worth retrying: 408, 429 and 5xx. */
bool iotkit__transport_http_status_retryable(long status);
/* Map a libcurl transfer error; *retryable tells whether trying again may help. */
iotkit_err_t iotkit__transport_http_curl_err(CURLcode rc, bool *retryable);
/* Delay before attempt @p attempts + 1: exponential backoff, or the server's
   Retry-After (@p retry_after_s >= 0) when that is longer, both bounded. */
uint64_t iotkit__transport_http_backoff_ms(const http_ctx_t *c, unsigned attempts, long retry_after_s);

/* --- http_loop.c --- */
iotkit_err_t iotkit__transport_http_poll(void *ctx, int timeout_ms);
/* timeout_ms() of the ops table: 0 with sends queued or requests due, else the
   nearer of libcurl's next timer (its CURLMOPT_TIMERFUNCTION) and the next due request
   (retry, long-poll interval), or -1. Called from the polling thread. */
int iotkit__transport_http_timeout_ms(void *ctx);

/* --- http_fd.c --- */
/* Make the epoll set and the eventfd and hook libcurl's socket callback; IO on failure. */
iotkit_err_t iotkit__transport_http_fd_init(http_ctx_t *c);
/* Close both descriptors (safe when they were never made: -1). */
void iotkit__transport_http_fd_free(http_ctx_t *c);
/* Make fd() readable (from any thread). */
void iotkit__transport_http_fd_wake(http_ctx_t *c);
/* Consume the wakeup (from poll()). */
void iotkit__transport_http_fd_drain(http_ctx_t *c);

#endif
