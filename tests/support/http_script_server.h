/* A scripted HTTP server for fault tests, on libmicrohttpd (a maintained
 * embedded server library), listening on 127.0.0.1 and a free port.
 *
 * The test queues replies per path; each request takes the next reply queued
 * for its path (without the query), or the default: 204 after 50 ms for GET
 * (an empty long-poll), 200 for anything else. Every request is recorded.
 *
 *   http_script_t *s = http_script_start();
 *   http_script_push(s, "/t", &(http_script_reply_t){.status = 500});
 *   http_script_push(s, "/t", &(http_script_reply_t){.status = 200});
 *   ... requests to http_script_url(s) ...
 *   cr_assert_eq(http_script_count(s, "POST", "/t"), 2);
 *   http_script_free(s);
 */
#ifndef IOTKIT_TEST_HTTP_SCRIPT_SERVER_H
#define IOTKIT_TEST_HTTP_SCRIPT_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct http_script http_script_t;

/* One scripted answer. */
typedef struct http_script_reply {
  int status;               /* HTTP status */
  const char *body;         /* body bytes, or NULL */
  size_t body_len;          /* 0: strlen(body) */
  const char *header;       /* one extra header name (e.g. "Retry-After"), or NULL */
  const char *value;        /* its value */
  unsigned delay_ms;        /* answer only after this long (a held long-poll) */
  bool cut;                 /* announce the whole body, send half, then close the connection */
} http_script_reply_t;

/* One recorded request. */
typedef struct http_script_request {
  char method[16];
  char path[256];
  char wait[16];            /* the "wait" query argument, or "" */
  char if_none_match[128];  /* or "" */
  char authorization[256];  /* or "" */
  char content_type[128];   /* or "" */
  unsigned char body[4096];
  size_t body_len;
} http_script_request_t;

/* Start the server; NULL (with a message on stderr) on failure. */
http_script_t *http_script_start(void);

/* Queue @p reply (copied) for requests to @p path. */
bool http_script_push(http_script_t *s, const char *path, const http_script_reply_t *reply);

/* Requests received for @p method (NULL: any) and @p path (NULL: any). */
size_t http_script_count(http_script_t *s, const char *method, const char *path);

/* Copy the @p i-th request received (0 first); false if there is none. */
bool http_script_get(http_script_t *s, size_t i, http_script_request_t *out);

uint16_t http_script_port(const http_script_t *s);

/* "http://127.0.0.1:PORT". */
const char *http_script_url(const http_script_t *s);

/* Stop the server and free everything. NULL is a no-op. */
void http_script_free(http_script_t *s);

#endif
