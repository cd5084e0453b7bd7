/* Streaming download of one resource (internal): what OTA uses to fetch images
   without touching libcurl or libcoap itself. */
#ifndef IOTKIT__TRANSPORT_FETCH_H
#define IOTKIT__TRANSPORT_FETCH_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "iotkit/error.h"
#include "iotkit/hal.h"

/* Receives the bytes in order; a non-OK return stops the transfer with that code. */
typedef iotkit_err_t (*iotkit__fetch_sink_fn)(void *sink_ctx, const void *data, size_t len);

typedef struct iotkit__fetch_opts {
  const char *url;          /* http://, https://, coap:// or coaps:// */
  uint64_t offset;          /* first byte wanted: "Range: bytes=<offset>-" (http), Block2 num (coap) */
  size_t chunk_size;        /* the sink gets full chunks of this size (the last may be shorter) */
  uint32_t timeout_ms;      /* connect timeout, and the longest stall of the transfer */
  const char *ca_file;      /* CA bundle for https and coaps with certificates, or NULL for the system's */
  const atomic_bool *abort; /* optional: set to stop soon (the call then returns IOTKIT_ERR_BUSY) */
  const char *psk_identity; /* coaps: DTLS-PSK identity, or NULL to use certificates */
  const char *psk_key_hex;  /* coaps: DTLS-PSK key as hex (with psk_identity); never logged */
  const iotkit_hal_t *hal;  /* optional: where the detail of a failure is logged, and the clock */
} iotkit__fetch_opts_t;

/*
 * GET opts->url from opts->offset to the end, handing the bytes to @sink in
 * chunks through one fixed buffer of chunk_size bytes (memory use does not
 * depend on the resource size). A server that ignores the Range header (200)
 * is handled by skipping the first offset bytes. Bytes that arrived before a
 * network failure are still delivered before the error is returned.
 *
 * CoAP (coap://, coaps://) uses explicit Block2 requests (RFC 7959), one block
 * in flight: blocks of 1024 bytes, or the smaller size the server answers
 * with; the download starts at block offset / size and drops the leading
 * offset % size bytes. The URL's query goes to the server as Uri-Query.
 *
 * Returns IOTKIT_OK when the resource ended; the sink's error as is;
 * IOTKIT_ERR_NOT_FOUND (404, 410; 4.04, 4.10); IOTKIT_ERR_AUTH (401, 403;
 * 4.01, 4.03; a refused DTLS PSK); IOTKIT_ERR_OTA_SERVER (5xx; 5.xx);
 * IOTKIT_ERR_PROTOCOL (other 4xx/4.xx, including 416, or a block sequence that
 * does not add up); IOTKIT_ERR_CONNECT, IOTKIT_ERR_TIMEOUT,
 * IOTKIT_ERR_CONNECTION_LOST (network); IOTKIT_ERR_TLS; IOTKIT_ERR_BAD_URI;
 * IOTKIT_ERR_UNKNOWN_SCHEME; IOTKIT_ERR_BUSY when aborted;
 * IOTKIT_ERR_UNSUPPORTED when the scheme's backend is not built in
 * (IOTKIT_WITH_HTTP / IOTKIT_WITH_COAP) or coaps without DTLS in libcoap.
 */
iotkit_err_t iotkit__transport_fetch(const iotkit__fetch_opts_t *opts, iotkit__fetch_sink_fn sink, void *sink_ctx);

/* The backends behind iotkit__transport_fetch(), called with valid arguments
   and a URL of their schemes (fetch_curl.c, fetch_coap.c). */
iotkit_err_t iotkit__transport_fetch_http(const iotkit__fetch_opts_t *opts, iotkit__fetch_sink_fn sink,
                                          void *sink_ctx);
iotkit_err_t iotkit__transport_fetch_coap(const iotkit__fetch_opts_t *opts, iotkit__fetch_sink_fn sink,
                                          void *sink_ctx);

/* The chunking both backends share: bytes in, full chunks of chunk_size out
   to the sink through one buffer, after dropping the first `skip` bytes. */
typedef struct iotkit__fetch_buf {
  const iotkit__fetch_opts_t *opts;
  iotkit__fetch_sink_fn sink;
  void *sink_ctx;
  uint8_t *buf;
  size_t fill;
  uint64_t skip;         /* bytes still to drop before the wanted ones */
  iotkit_err_t sink_rc;  /* the sink's first failure */
} iotkit__fetch_buf_t;

/* Allocate the chunk buffer; NOMEM. */
iotkit_err_t iotkit__fetch_buf_init(iotkit__fetch_buf_t *b, const iotkit__fetch_opts_t *opts,
                                    iotkit__fetch_sink_fn sink, void *sink_ctx);
/* Take @p n bytes; returns the sink's error (also kept in sink_rc) or OK. */
iotkit_err_t iotkit__fetch_buf_put(iotkit__fetch_buf_t *b, const void *data, size_t n);
/* Hand what is buffered to the sink (a last, shorter chunk). */
iotkit_err_t iotkit__fetch_buf_flush(iotkit__fetch_buf_t *b);
void iotkit__fetch_buf_free(iotkit__fetch_buf_t *b);

#endif
