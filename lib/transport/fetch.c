/* iotkit__transport_fetch(): the scheme picks the backend (libcurl for http
   and https, libcoap for coap and coaps), each present only when built in;
   and the chunk buffer both backends stream through. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "transport/common.h"
#include "transport/fetch.h"

static bool has_scheme(const char *url, const char *scheme) {
  size_t n = strlen(scheme);
  return strncasecmp(url, scheme, n) == 0 && strncmp(url + n, "://", 3) == 0;
}

#if !defined(IOTKIT_WITH_HTTP) || !defined(IOTKIT_WITH_COAP)
static iotkit_err_t not_built(const iotkit__fetch_opts_t *opts, const char *scheme, const char *option) {
  iotkit__transport_logf(opts->hal, IOTKIT_LOG_ERROR,
                         "fetch: cannot download over %s: libiotkit was built without %s", scheme, option);
  return IOTKIT_ERR_UNSUPPORTED;
}
#endif

iotkit_err_t iotkit__transport_fetch(const iotkit__fetch_opts_t *opts, iotkit__fetch_sink_fn sink, void *sink_ctx) {
  if (!opts || !opts->url || !sink || opts->chunk_size == 0) return IOTKIT_ERR_INVALID_ARG;
  const char *url = opts->url;
  if (has_scheme(url, "http") || has_scheme(url, "https")) {
#ifdef IOTKIT_WITH_HTTP
    return iotkit__transport_fetch_http(opts, sink, sink_ctx);
#else
    (void)sink_ctx;
    return not_built(opts, "http(s)", "IOTKIT_WITH_HTTP (libcurl)");
#endif
  }
  if (has_scheme(url, "coap") || has_scheme(url, "coaps")) {
#ifdef IOTKIT_WITH_COAP
    return iotkit__transport_fetch_coap(opts, sink, sink_ctx);
#else
    (void)sink_ctx;
    return not_built(opts, "coap(s)", "IOTKIT_WITH_COAP (libcoap)");
#endif
  }
  iotkit__transport_logf(opts->hal, IOTKIT_LOG_ERROR, "fetch: no download for the scheme of this URL "
                                                      "(http, https, coap and coaps are known)");
  return IOTKIT_ERR_UNKNOWN_SCHEME;
}

iotkit_err_t iotkit__fetch_buf_init(iotkit__fetch_buf_t *b, const iotkit__fetch_opts_t *opts,
                                    iotkit__fetch_sink_fn sink, void *sink_ctx) {
  *b = (iotkit__fetch_buf_t){.opts = opts, .sink = sink, .sink_ctx = sink_ctx, .sink_rc = IOTKIT_OK};
  b->buf = malloc(opts->chunk_size);
  return b->buf ? IOTKIT_OK : IOTKIT_ERR_NOMEM;
}

iotkit_err_t iotkit__fetch_buf_flush(iotkit__fetch_buf_t *b) {
  if (b->fill == 0) return IOTKIT_OK;
  iotkit_err_t rc = b->sink(b->sink_ctx, b->buf, b->fill);
  b->fill = 0;
  if (rc != IOTKIT_OK && b->sink_rc == IOTKIT_OK) b->sink_rc = rc;
  return rc;
}

iotkit_err_t iotkit__fetch_buf_put(iotkit__fetch_buf_t *b, const void *data, size_t n) {
  const uint8_t *p = data;
  if (b->skip) {
    size_t k = b->skip < n ? (size_t)b->skip : n;
    b->skip -= k;
    p += k;
    n -= k;
  }
  while (n > 0) {
    size_t k = b->opts->chunk_size - b->fill;
    if (k > n) k = n;
    memcpy(b->buf + b->fill, p, k);
    b->fill += k;
    p += k;
    n -= k;
    if (b->fill == b->opts->chunk_size) {
      iotkit_err_t rc = iotkit__fetch_buf_flush(b);
      if (rc != IOTKIT_OK) return rc;
    }
  }
  return IOTKIT_OK;
}

void iotkit__fetch_buf_free(iotkit__fetch_buf_t *b) {
  free(b->buf);
  b->buf = NULL;
}
