/* Streaming download of one resource (internal): what OTA uses to fetch images
   without touching libcurl itself. */
#ifndef IOTKIT__TRANSPORT_FETCH_H
#define IOTKIT__TRANSPORT_FETCH_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "iotkit/error.h"

/* Receives the bytes in order; a non-OK return stops the transfer with that code. */
typedef iotkit_err_t (*iotkit__fetch_sink_fn)(void *sink_ctx, const void *data, size_t len);

typedef struct iotkit__fetch_opts {
  const char *url;          /* http:// or https:// */
  uint64_t offset;          /* first byte wanted: sent as "Range: bytes=<offset>-" when > 0 */
  size_t chunk_size;        /* the sink gets full chunks of this size (the last may be shorter) */
  uint32_t timeout_ms;      /* connect timeout, and the longest stall of the transfer */
  const char *ca_file;      /* CA bundle for https, or NULL for the system's */
  const atomic_bool *abort; /* optional: set to stop soon (the call then returns IOTKIT_ERR_BUSY) */
} iotkit__fetch_opts_t;

/*
 * GET opts->url from opts->offset to the end, handing the bytes to @sink in
 * chunks through one fixed buffer of chunk_size bytes (memory use does not
 * depend on the resource size). A server that ignores the Range header (200)
 * is handled by skipping the first offset bytes. Bytes that arrived before a
 * network failure are still delivered before the error is returned.
 *
 * Returns IOTKIT_OK when the resource ended; the sink's error as is;
 * IOTKIT_ERR_NOT_FOUND (404, 410); IOTKIT_ERR_AUTH (401, 403); IOTKIT_ERR_OTA_SERVER
 * (5xx); IOTKIT_ERR_PROTOCOL (other 4xx, including 416); IOTKIT_ERR_CONNECT,
 * IOTKIT_ERR_TIMEOUT, IOTKIT_ERR_CONNECTION_LOST (network); IOTKIT_ERR_TLS;
 * IOTKIT_ERR_BAD_URI; IOTKIT_ERR_UNKNOWN_SCHEME; IOTKIT_ERR_BUSY when aborted;
 * IOTKIT_ERR_UNSUPPORTED when built without libcurl.
 */
iotkit_err_t iotkit__transport_fetch(const iotkit__fetch_opts_t *opts, iotkit__fetch_sink_fn sink, void *sink_ctx);

#endif
