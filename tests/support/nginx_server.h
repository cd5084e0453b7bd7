/* A real nginx for HTTP integration tests (the HTTP transport and OTA
 * downloads), on 127.0.0.1 and a free port, with a config the helper writes
 * into its own mkdtemp directory.
 *
 * Every request is logged (access.log, one tab-separated line each) and every
 * request body is kept in a file (client_body_in_file_only), so a test can
 * check the exact bytes, headers, ranges and connection reuse the server saw.
 * By default a request is answered 200 "ok\n" (through an upstream on a unix
 * socket, which makes nginx read and keep the body); extra locations answer
 * what the test wants (for example "location /api/missing { return 404; }").
 * Files written with nginx_server_put() are served as static files (with
 * Range support, and nginx's own 404 for a missing one) under
 * NGINX_SERVER_FILES.
 *
 *   nginx_server_t *n = nginx_server_new();
 *   nginx_server_add_config(n, "location = /t/gone { return 404; }");
 *   nginx_server_put(n, "fw.bin", data, len);       // GET <url>/files/fw.bin
 *   nginx_server_set_tls(n, cert_path, key_path);   // optional: https + HTTP/2
 *   nginx_server_start(n);
 *   ... requests to nginx_server_url(n) ...
 *   nginx_request_t r[8]; size_t n = nginx_server_requests(n, r, 8);
 *   nginx_server_free(n);
 *
 * Functions returning bool print the reason to stderr when nginx fails. The
 * directory is kept if IOTKIT_TEST_KEEP is set.
 */
#ifndef IOTKIT_TEST_NGINX_SERVER_H
#define IOTKIT_TEST_NGINX_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The path prefix under which nginx_server_put() files are served. */
#define NGINX_SERVER_FILES "/files/"

typedef struct nginx_server nginx_server_t;

/* One logged request. Fields nginx had no value for are "-". */
typedef struct nginx_request {
  char method[16];
  char uri[256];          /* decoded path */
  char args[256];         /* query string */
  char protocol[16];      /* "HTTP/1.1", "HTTP/2.0" */
  unsigned long connection;          /* nginx's connection serial number */
  unsigned long connection_requests; /* requests made on that connection so far */
  int status;
  char content_type[128];
  char authorization[256];
  char body_file[256];    /* where nginx kept the body */
  char request[512];      /* the request line, "GET /files/fw.bin HTTP/1.1" */
  char range[64];         /* the Range header, "bytes=100-" */
  uint64_t bytes;         /* response body bytes sent */
} nginx_request_t;

/* Make the directory and pick a port; NULL on failure. */
nginx_server_t *nginx_server_new(void);

/* Add raw config inside the server block (before the default location). */
bool nginx_server_add_config(nginx_server_t *srv, const char *text);

/* Write @p len bytes as file @p name (no '/'), served at NGINX_SERVER_FILES @p name. */
bool nginx_server_put(nginx_server_t *srv, const char *name, const void *data, size_t len);

/* Serve https (with HTTP/2) with this certificate chain and key. */
bool nginx_server_set_tls(nginx_server_t *srv, const char *cert_file, const char *key_file);

/* Start nginx and wait (up to 10 s) until it accepts connections. */
bool nginx_server_start(nginx_server_t *srv);

/* Stop nginx (the directory stays). */
void nginx_server_stop(nginx_server_t *srv);

uint16_t nginx_server_port(const nginx_server_t *srv);

/* "http://127.0.0.1:PORT" or "https://127.0.0.1:PORT". */
const char *nginx_server_url(const nginx_server_t *srv);

const char *nginx_server_dir(const nginx_server_t *srv);

/* Parse the access log into @p out (up to @p max; @p out may be NULL for 0);
   returns how many requests were logged (which may be more than @p max). */
size_t nginx_server_requests(nginx_server_t *srv, nginx_request_t *out, size_t max);

/* Wait (up to 10 s) until at least @p n requests are logged; nginx logs a
   request once its response is over, which may be after the client saw it. */
bool nginx_server_wait_requests(nginx_server_t *srv, size_t n);

/* Read the body of a logged request into @p buf; returns its length, or -1. */
long nginx_request_body(const nginx_request_t *req, void *buf, size_t cap);

/* Stop nginx and remove the directory. NULL is a no-op. */
void nginx_server_free(nginx_server_t *srv);

#endif
