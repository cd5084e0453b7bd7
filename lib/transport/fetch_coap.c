/* iotkit__transport_fetch() for coap:// and coaps://: explicit Block2 GETs
 * (RFC 7959) over the CoAP backend's own context and session (coap_libcoap.c
 * opens it, plain or DTLS with PSK or certificates, and reports its failures;
 * coap_dtls.c takes the credentials).
 *
 * One block is in flight at a time, as a confirmable GET with Block2
 * num/szx; libcoap retransmits it. libcoap's own block-wise handling is off
 * for this context, so each response reaches on_response() as it came: the
 * handler (libcoap lock held) only copies the block, and the loop hands it to
 * the sink outside the lock. Blocks are 1024 bytes unless the server answers
 * with a smaller szx, which is then used for the rest. A server that answers
 * without Block2 has sent the whole resource in one response. When the server
 * sends an ETag, every block must carry the same one (the resource did not
 * change under the download).
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "transport/coap_libcoap.h"
#include "transport/coap_map.h"
#include "transport/fetch.h"

#define SZX_MAX 6u                 /* 1024-byte blocks */
#define BLOCK_NUM_LIMIT (1u << 20) /* Block2 NUM is 20 bits */
#define POLL_STEP_MS 100u          /* how soon an abort is seen while waiting */

typedef struct cfetch {
  const iotkit__fetch_opts_t *opts;
  /* opts->hal without its clock: the network timeouts (ours and the backend's
     DTLS handshake limit) run on the OS's monotonic clock, as libcurl's do,
     not on a HAL clock that may be simulated. NULL without a HAL. */
  iotkit_hal_t hal_copy;
  const iotkit_hal_t *hal;
  const iotkit_transport_ops_t *ops;
  coap_ctx_t *c;
  iotkit__fetch_buf_t out;
  iotkit_uri_t uri;
  bool connected;
  iotkit_err_t link_rc; /* the session went down (handshake refused, timed out, closed) */
  /* the request in flight and its answer */
  uint8_t token[8];
  size_t token_len;
  bool waiting;
  bool settled;  /* a response or a NACK came */
  bool answered; /* a response came */
  iotkit_err_t nack_rc;
  unsigned code;
  bool has_block;
  uint32_t num;
  bool more;
  unsigned szx;
  uint8_t etag[8];
  size_t etag_len;
  uint8_t data[1280]; /* one block of up to 1024 bytes, or a whole small resource in one datagram */
  size_t len;
  bool too_big;
  /* the download */
  uint64_t pos;  /* next byte wanted */
  unsigned bszx; /* block size asked for (SZX) */
  bool done;     /* the last block came */
  size_t first_etag_len; /* the ETag of the first answer that had one (0: none yet) */
  uint8_t first_etag[8];
} cfetch_t;

static void on_connected(void *user) { ((cfetch_t *)user)->connected = true; }

static void on_disconnected(void *user, iotkit_err_t reason, const char *detail) {
  (void)detail; /* logged by the backend already */
  cfetch_t *f = user;
  if (f->link_rc == IOTKIT_OK) f->link_rc = reason != IOTKIT_OK ? reason : IOTKIT_ERR_CONNECTION_LOST;
}

/* The session's context is the backend's; its event user pointer is us. */
static cfetch_t *fetch_of(coap_session_t *session) {
  coap_ctx_t *c = coap_session_get_app_data(session);
  return c ? c->ev.user : NULL;
}

static bool is_ours(const cfetch_t *f, coap_bin_const_t token) {
  return f && f->waiting && token.length == f->token_len && memcmp(token.s, f->token, f->token_len) == 0;
}

static void read_options(cfetch_t *f, const coap_pdu_t *pdu) {
  coap_opt_iterator_t it;
  coap_opt_t *opt = coap_check_option(pdu, COAP_OPTION_BLOCK2, &it);
  f->has_block = opt != NULL;
  if (opt) {
    unsigned v = coap_decode_var_bytes(coap_opt_value(opt), coap_opt_length(opt));
    f->num = v >> 4;
    f->more = (v & 8u) != 0;
    f->szx = v & 7u;
  }
  opt = coap_check_option(pdu, COAP_OPTION_ETAG, &it);
  f->etag_len = opt && coap_opt_length(opt) <= sizeof f->etag ? coap_opt_length(opt) : 0;
  if (f->etag_len) memcpy(f->etag, coap_opt_value(opt), f->etag_len);
}

static coap_response_t on_response(coap_session_t *session, const coap_pdu_t *sent, const coap_pdu_t *received,
                                   const coap_mid_t mid) {
  (void)sent;
  (void)mid;
  cfetch_t *f = fetch_of(session);
  if (!is_ours(f, coap_pdu_get_token(received))) return COAP_RESPONSE_OK; /* a late duplicate */
  f->waiting = false;
  f->settled = f->answered = true;
  f->code = coap_pdu_get_code(received);
  read_options(f, received);
  size_t len = 0;
  const uint8_t *data = NULL;
  if (!coap_get_data(received, &len, &data)) len = 0;
  f->too_big = len > sizeof f->data;
  f->len = f->too_big ? 0 : len;
  if (f->len) memcpy(f->data, data, f->len);
  return COAP_RESPONSE_OK;
}

static void on_nack(coap_session_t *session, const coap_pdu_t *sent, const coap_nack_reason_t reason,
                    const coap_mid_t mid) {
  (void)mid;
  cfetch_t *f = fetch_of(session);
  if (!sent || !is_ours(f, coap_pdu_get_token(sent))) return;
  const char *why = "";
  iotkit_err_t rc = iotkit__coap_nack_status(reason, &why);
  f->waiting = false;
  f->settled = true;
  f->nack_rc = rc == IOTKIT_ERR_DELIVERY ? IOTKIT_ERR_PROTOCOL : rc; /* a RST: the server refuses the GET */
  iotkit__transport_logf(f->opts->hal, IOTKIT_LOG_WARN, "coap: GET %s from %s:%u: %s", f->uri.path, f->c->host,
                         f->c->port, why);
}

/* Uri-Path from the URL's path, Uri-Query from its query, and Block2. */
static coap_optlist_t *request_options(const cfetch_t *f, uint32_t num, unsigned szx) {
  const char *path = f->uri.path;
  coap_optlist_t *opts = NULL;
  if (path[0] && strcmp(path, "/") != 0) {
    opts = iotkit__coap_path_options(path, false);
    if (!opts) return NULL;
  }
  for (const char *q = f->uri.query; q && *q;) {
    size_t n = strcspn(q, "&");
    if (!coap_insert_optlist(&opts, coap_new_optlist(COAP_OPTION_URI_QUERY, n, (const uint8_t *)q))) goto fail;
    q += n + (q[n] == '&');
  }
  uint8_t buf[4];
  if (coap_insert_optlist(&opts, coap_new_optlist(COAP_OPTION_BLOCK2,
                                                  coap_encode_var_safe(buf, sizeof buf, num << 4 | szx), buf))) {
    return opts;
  }
fail:
  coap_delete_optlist(opts);
  return NULL;
}

static iotkit_err_t send_get(cfetch_t *f, uint32_t num, unsigned szx) {
  coap_ctx_t *c = f->c;
  iotkit__coap_lock(c);
  coap_session_t *s = c->session;
  coap_pdu_t *pdu = s ? coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, coap_new_message_id(s),
                                      coap_session_max_pdu_size(s))
                      : NULL;
  coap_optlist_t *opts = pdu ? request_options(f, num, szx) : NULL;
  iotkit_err_t rc = s ? IOTKIT_OK : IOTKIT_ERR_CONNECTION_LOST;
  if (rc == IOTKIT_OK && (!pdu || !opts)) rc = IOTKIT_ERR_NOMEM;
  if (rc == IOTKIT_OK) {
    coap_session_new_token(s, &f->token_len, f->token);
    if (!coap_add_token(pdu, f->token_len, f->token) || !coap_add_optlist_pdu(pdu, &opts)) rc = IOTKIT_ERR_NOMEM;
  }
  coap_delete_optlist(opts);
  if (rc == IOTKIT_OK) {
    f->waiting = true;
    f->settled = f->answered = false;
    f->nack_rc = IOTKIT_OK;
    if (coap_send(s, pdu) == COAP_INVALID_MID && !f->settled) {
      f->waiting = false;
      rc = IOTKIT_ERR_IO;
    }
    pdu = NULL; /* coap_send() owns it, sent or not */
  }
  if (pdu) coap_delete_pdu(pdu);
  iotkit__coap_unlock(c);
  return rc;
}

static bool aborted(const cfetch_t *f) { return f->opts->abort && atomic_load(f->opts->abort); }

/* Poll until *flag is set, the session fails, an abort, or @p limit_ms
   without it (0: no limit of ours). */
static iotkit_err_t wait_until(cfetch_t *f, const bool *flag, uint32_t limit_ms) {
  const iotkit_hal_t *hal = f->hal;
  uint64_t start = iotkit__transport_now_ms(hal);
  for (;;) {
    /* What already arrived first: poll() with a wait would wait even when
       the answer is handled by its first, non-blocking pass. */
    f->ops->poll(f->c, 0);
    if (*flag) return IOTKIT_OK;
    if (f->link_rc != IOTKIT_OK) return f->link_rc;
    if (aborted(f)) return IOTKIT_ERR_BUSY;
    uint64_t spent = iotkit__transport_now_ms(hal) - start;
    if (limit_ms && spent >= limit_ms) return IOTKIT_ERR_TIMEOUT;
    uint32_t step = limit_ms && limit_ms - spent < POLL_STEP_MS ? (uint32_t)(limit_ms - spent) : POLL_STEP_MS;
    f->ops->poll(f->c, (int)step);
  }
}

static iotkit_err_t request_block(cfetch_t *f, uint32_t num, unsigned szx) {
  iotkit_err_t rc = send_get(f, num, szx);
  if (rc != IOTKIT_OK) return rc;
  rc = wait_until(f, &f->settled, f->opts->timeout_ms);
  if (f->answered) return IOTKIT_OK;
  f->waiting = false;
  if (f->nack_rc != IOTKIT_OK) return f->nack_rc; /* libcoap gave up on it, and logged why */
  if (rc == IOTKIT_ERR_TIMEOUT) {
    iotkit__transport_logf(f->opts->hal, IOTKIT_LOG_WARN,
                           "coap: no answer to GET %s (block %u) from %s:%u within %u ms", f->uri.path,
                           (unsigned)num, f->c->host, f->c->port, (unsigned)f->opts->timeout_ms);
  }
  return rc;
}

static iotkit_err_t refuse(cfetch_t *f, iotkit_err_t rc, const char *why) {
  iotkit__transport_logf(f->opts->hal, IOTKIT_LOG_ERROR, "coap: GET %s from %s:%u: %s", f->uri.path, f->c->host,
                         f->c->port, why);
  return rc;
}

/* Check the answer for the block at f->pos and hand its new bytes to the sink;
   f->done when it was the last. */
static iotkit_err_t take_block(cfetch_t *f) {
  iotkit_err_t rc = iotkit__coap_fetch_code_to_err(f->code);
  if (rc != IOTKIT_OK) {
    char text[48];
    iotkit__coap_code_text(f->code, text, sizeof text);
    return refuse(f, rc, text);
  }
  if (f->too_big) return refuse(f, IOTKIT_ERR_PROTOCOL, "a response larger than one block");
  if (f->has_block && f->szx > SZX_MAX) return refuse(f, IOTKIT_ERR_PROTOCOL, "a Block2 size above 1024");
  if (f->first_etag_len &&
      (f->etag_len != f->first_etag_len || memcmp(f->etag, f->first_etag, f->first_etag_len) != 0)) {
    return refuse(f, IOTKIT_ERR_PROTOCOL, "the ETag changed during the download (the resource changed)");
  }
  if (!f->first_etag_len && f->etag_len) {
    f->first_etag_len = f->etag_len;
    memcpy(f->first_etag, f->etag, f->etag_len);
  }
  /* Without Block2 the response is the whole resource, from byte 0. */
  uint64_t size = f->has_block ? 1u << (f->szx + 4) : 0;
  uint64_t start = f->has_block ? (uint64_t)f->num * size : 0;
  bool more = f->has_block && f->more;
  if (more && f->len != size) return refuse(f, IOTKIT_ERR_PROTOCOL, "a short block that is not the last");
  if (start > f->pos || f->pos > start + f->len) {
    return refuse(f, IOTKIT_ERR_PROTOCOL, "the block does not hold the bytes asked for");
  }
  size_t skip = (size_t)(f->pos - start);
  if (more && skip == f->len) return refuse(f, IOTKIT_ERR_PROTOCOL, "a block without new bytes");
  rc = iotkit__fetch_buf_put(&f->out, f->data + skip, f->len - skip);
  f->pos = start + f->len;
  if (f->has_block && f->szx < f->bszx) {
    iotkit__transport_logf(f->opts->hal, IOTKIT_LOG_DEBUG, "coap: the server uses blocks of %u bytes",
                           1u << (f->szx + 4));
    f->bszx = f->szx;
  }
  f->done = !more;
  return rc;
}

static iotkit_err_t download(cfetch_t *f) {
  f->pos = f->opts->offset;
  f->bszx = SZX_MAX;
  while (!f->done) {
    if (aborted(f)) return IOTKIT_ERR_BUSY;
    uint64_t num = f->pos >> (f->bszx + 4);
    if (num >= BLOCK_NUM_LIMIT) return refuse(f, IOTKIT_ERR_TOO_LARGE, "the offset is beyond Block2's reach");
    iotkit_err_t rc = request_block(f, (uint32_t)num, f->bszx);
    if (rc == IOTKIT_OK) rc = take_block(f);
    if (rc != IOTKIT_OK) return rc;
  }
  return IOTKIT_OK;
}

static iotkit_err_t open_session(cfetch_t *f) {
  const iotkit__fetch_opts_t *o = f->opts;
  iotkit_err_t rc = iotkit_uri_parse(o->url, &f->uri);
  if (rc != IOTKIT_OK) return rc;
  iotkit_uri_t endpoint = f->uri;
  endpoint.query = NULL; /* the query is the resource's (Uri-Query), not tuning of the session */
  iotkit_transport_config_t cfg;
  iotkit_transport_config_init(&cfg);
  cfg.uri = &endpoint;
  cfg.hal = f->hal;
  cfg.connect_timeout_ms = o->timeout_ms;
  cfg.max_payload = 0; /* an image is fetched block by block: no per-message limit */
  cfg.tls.ca_file = o->ca_file;
  cfg.tls.psk_identity = o->psk_identity;
  cfg.tls.psk_key_hex = o->psk_key_hex;
  iotkit_transport_events_t ev = {.struct_size = sizeof ev,
                                  .user = f,
                                  .connected = on_connected,
                                  .disconnected = on_disconnected};
  f->ops = iotkit_transport_coap();
  void *ctx = NULL;
  rc = f->ops->create(&cfg, &ev, &ctx);
  if (rc == IOTKIT_ERR_UNSUPPORTED) {
    iotkit__transport_logf(o->hal, IOTKIT_LOG_ERROR, "coap: this libcoap has no DTLS: cannot fetch over coaps");
  }
  if (rc != IOTKIT_OK) return rc;
  f->c = ctx;
  /* Our handlers, and no block-wise handling by libcoap: we ask for each block. */
  iotkit__coap_lock(f->c);
  coap_context_set_block_mode(f->c->cctx, 0);
  coap_register_response_handler(f->c->cctx, on_response);
  coap_register_nack_handler(f->c->cctx, on_nack);
  iotkit__coap_unlock(f->c);
  rc = f->ops->connect(f->c);
  /* The backend bounds the DTLS handshake by timeout_ms itself and tells a
     refused PSK from silence; our own limit is only a backstop behind it. */
  if (rc == IOTKIT_OK) rc = wait_until(f, &f->connected, o->timeout_ms ? o->timeout_ms + 1000u : 0);
  return rc;
}

iotkit_err_t iotkit__transport_fetch_coap(const iotkit__fetch_opts_t *opts, iotkit__fetch_sink_fn sink,
                                          void *sink_ctx) {
  cfetch_t *f = calloc(1, sizeof *f);
  if (!f) return IOTKIT_ERR_NOMEM;
  f->opts = opts;
  if (opts->hal) {
    f->hal_copy = *opts->hal;
    f->hal_copy.monotonic_ms = NULL;
    f->hal = &f->hal_copy;
  }
  iotkit_err_t rc = iotkit__fetch_buf_init(&f->out, opts, sink, sink_ctx);
  if (rc == IOTKIT_OK) rc = open_session(f);
  if (rc == IOTKIT_OK) rc = download(f);
  /* What arrived before a network failure is kept; after a sink failure nothing more is written. */
  if (f->out.buf && f->out.sink_rc == IOTKIT_OK && rc != IOTKIT_ERR_BUSY) {
    iotkit_err_t frc = iotkit__fetch_buf_flush(&f->out);
    if (frc != IOTKIT_OK) rc = frc;
  }
  if (f->c) {
    if (f->connected && f->link_rc == IOTKIT_OK) f->ops->disconnect(f->c);
    f->ops->destroy(f->c);
  }
  iotkit__fetch_buf_free(&f->out);
  iotkit_uri_clear(&f->uri);
  free(f);
  return rc;
}
