/* A real nginx serving files for integration tests, on 127.0.0.1 and a free
   port, from its own mkdtemp directory (config, logs, document root).
 *
 *   nginx_server_t *srv = nginx_server_new();
 *   nginx_server_put(srv, "fw.bin", data, len);   // a file under the root
 *   nginx_server_start(srv);                      // returns once it accepts TCP
 *   ... nginx_server_url(srv, "fw.bin") ...        // http://127.0.0.1:PORT/fw.bin
 *   nginx_server_log(srv, entries, max);          // parsed access log
 *   nginx_server_free(srv);                       // stops it, removes the directory
 *
 * nginx runs in the foreground ("daemon off", "master_process off") so that the
 * test owns its process. /error500 answers 500; a missing file gives nginx's
 * own 404. The access log has one line per request:
 *   $status "$request" "$http_range" $body_bytes_sent
 * Functions returning bool print the reason to stderr when they fail. The
 * directory is kept if IOTKIT_TEST_KEEP is set.
 */
#ifndef IOTKIT_TEST_NGINX_SERVER_H
#define IOTKIT_TEST_NGINX_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct nginx_server nginx_server_t;

/* One access log entry. */
typedef struct nginx_log_entry {
  int status;
  char request[256];  /* "GET /fw.bin HTTP/1.1" */
  char range[64];     /* the Range header, "" if none */
  uint64_t bytes;     /* body bytes sent */
} nginx_log_entry_t;

/* Make the directory and pick a port; nginx is not started. NULL on failure. */
nginx_server_t *nginx_server_new(void);

/* Write @len bytes as file @name (no '/') under the document root. */
bool nginx_server_put(nginx_server_t *srv, const char *name, const void *data, size_t len);

/* Start nginx and wait (up to 10 s) until it accepts TCP connections. */
bool nginx_server_start(nginx_server_t *srv);

/* "http://127.0.0.1:PORT/<path>", valid until the next call. */
const char *nginx_server_url(nginx_server_t *srv, const char *path);

/* Read the access log into @out (at most @max entries); returns the number of entries, -1 on error. */
int nginx_server_log(nginx_server_t *srv, nginx_log_entry_t *out, int max);

/* Wait (up to 10 s) until the access log has at least @n entries; false if it does not. */
bool nginx_server_wait_log(nginx_server_t *srv, int n);

/* Empty the access log (nginx keeps writing to the same file). */
bool nginx_server_clear_log(nginx_server_t *srv);

/* Stop nginx (SIGTERM, wait) and remove the directory. NULL is a no-op. */
void nginx_server_free(nginx_server_t *srv);

#endif
