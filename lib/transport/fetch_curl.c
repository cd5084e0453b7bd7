/* iotkit__transport_fetch() on libcurl: a streaming GET with Range to resume. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport/fetch.h"

/* curl_global_init() must run once per process before any handle; a
   pthread_once is the only global state here (libcurl counts its own inits,
   so another backend initialising it too is harmless). It is never cleaned up:
   the library cannot know when the process stops using libcurl. */
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static CURLcode g_init_rc = CURLE_FAILED_INIT;
static void init_once(void) { g_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

typedef struct fetch {
  const iotkit__fetch_opts_t *opts;
  CURL *curl;
  iotkit__fetch_buf_t out;
  bool started;
} fetch_t;

static size_t on_data(char *data, size_t size, size_t nmemb, void *userp) {
  fetch_t *f = userp;
  size_t n = size * nmemb;
  if (!f->started) {
    long code = 0;
    curl_easy_getinfo(f->curl, CURLINFO_RESPONSE_CODE, &code);
    /* the server sent the whole resource instead of the range: drop its head */
    f->out.skip = f->opts->offset > 0 && code == 200 ? f->opts->offset : 0;
    f->started = true;
  }
  return iotkit__fetch_buf_put(&f->out, data, n) == IOTKIT_OK ? n : 0; /* 0 stops curl */
}

static int on_progress(void *userp, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un) {
  (void)dt, (void)dn, (void)ut, (void)un;
  const fetch_t *f = userp;
  return f->opts->abort && atomic_load(f->opts->abort) ? 1 : 0;
}

static iotkit_err_t from_status(long code) {
  if (code == 404 || code == 410) return IOTKIT_ERR_NOT_FOUND;
  if (code == 401 || code == 403) return IOTKIT_ERR_AUTH;
  return code >= 500 ? IOTKIT_ERR_OTA_SERVER : IOTKIT_ERR_PROTOCOL;
}

static iotkit_err_t from_curl(fetch_t *f, CURLcode cc) {
  long code = 0;
  switch (cc) {
    case CURLE_OK: return IOTKIT_OK;
    case CURLE_WRITE_ERROR: return f->out.sink_rc != IOTKIT_OK ? f->out.sink_rc : IOTKIT_ERR_IO;
    case CURLE_ABORTED_BY_CALLBACK: return IOTKIT_ERR_BUSY;
    case CURLE_HTTP_RETURNED_ERROR:
      curl_easy_getinfo(f->curl, CURLINFO_RESPONSE_CODE, &code);
      return from_status(code);
    case CURLE_URL_MALFORMAT: return IOTKIT_ERR_BAD_URI;
    case CURLE_UNSUPPORTED_PROTOCOL: return IOTKIT_ERR_UNKNOWN_SCHEME;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT: return IOTKIT_ERR_CONNECT;
    case CURLE_OPERATION_TIMEDOUT: return IOTKIT_ERR_TIMEOUT;
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM: return IOTKIT_ERR_CONNECTION_LOST;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM: return IOTKIT_ERR_TLS;
    case CURLE_OUT_OF_MEMORY: return IOTKIT_ERR_NOMEM;
    default: return IOTKIT_ERR_IO;
  }
}

static void configure(fetch_t *f, char *range, size_t range_cap) {
  CURL *c = f->curl;
  const iotkit__fetch_opts_t *o = f->opts;
  curl_easy_setopt(c, CURLOPT_URL, o->url);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_BUFFERSIZE, (long)o->chunk_size);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, f);
  long timeout_s = o->timeout_ms >= 1000 ? (long)(o->timeout_ms / 1000) : 1L;
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)o->timeout_ms);
  /* No wall-clock limit on the whole transfer (images are large): a stall is what fails it. */
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, timeout_s);
  if (o->ca_file) curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
  if (o->offset > 0) {
    snprintf(range, range_cap, "%llu-", (unsigned long long)o->offset);
    curl_easy_setopt(c, CURLOPT_RANGE, range);
  }
}

iotkit_err_t iotkit__transport_fetch_http(const iotkit__fetch_opts_t *opts, iotkit__fetch_sink_fn sink,
                                          void *sink_ctx) {
  pthread_once(&g_once, init_once);
  if (g_init_rc != CURLE_OK) return IOTKIT_ERR_INTERNAL;
  fetch_t f = {.opts = opts};
  iotkit_err_t rc = iotkit__fetch_buf_init(&f.out, opts, sink, sink_ctx);
  if (rc == IOTKIT_OK) {
    f.curl = curl_easy_init();
    if (!f.curl) rc = IOTKIT_ERR_NOMEM;
  }
  if (rc == IOTKIT_OK) {
    char range[32];
    configure(&f, range, sizeof(range));
    rc = from_curl(&f, curl_easy_perform(f.curl));
    /* What arrived before a network failure is kept; after a sink failure nothing more is written. */
    bool sink_failed = f.out.sink_rc != IOTKIT_OK || rc == IOTKIT_ERR_BUSY;
    if (!sink_failed) {
      iotkit_err_t frc = iotkit__fetch_buf_flush(&f.out);
      if (frc != IOTKIT_OK) rc = frc;
    }
  }
  if (f.curl) curl_easy_cleanup(f.curl);
  iotkit__fetch_buf_free(&f.out);
  return rc;
}
