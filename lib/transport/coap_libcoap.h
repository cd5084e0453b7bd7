/* Internal parts of the CoAP backend on libcoap 3 shared by its files:
   coap_libcoap.c (context, session life, poll, events, log), coap_requests.c
   (requests, responses, observations) and coap_dtls.c (session set-up). */
#ifndef IOTKIT__TRANSPORT_COAP_LIBCOAP_H
#define IOTKIT__TRANSPORT_COAP_LIBCOAP_H

#include <coap3/coap.h>

#include "transport/common.h"

/* Defaults of the URI query options (see iotkit_transport_coap() in transport.h). */
#define IOTKIT__COAP_OBSERVE_RETRY_MS 5000u
#define IOTKIT__COAP_DEFAULT_MAX_AGE_S 60u /* RFC 7252 5.10.5 */

typedef enum { CST_DOWN, CST_CONNECTING, CST_UP } coap_state_t;

typedef enum { CEV_CONNECTED, CEV_DISCONNECTED, CEV_MESSAGE, CEV_DELIVERY } coap_ev_kind_t;

/* An event waiting to be handed to the application outside the lock. */
typedef struct coap_ev {
  struct coap_ev *next;
  coap_ev_kind_t kind;
  iotkit_err_t status;
  uint32_t id;
  int qos;    /* message: 1 if it came reliably (CON, or piggybacked on an ACK), 0 for NON */
  char *text; /* channel (message) or detail (disconnected) */
  void *payload;
  size_t len;
} coap_ev_t;

/* A confirmable request waiting for its response. */
typedef struct coap_req {
  struct coap_req *next;
  uint8_t token[8];
  size_t token_len;
  uint32_t id;
  char *what; /* "POST /a/b" for messages */
} coap_req_t;

typedef enum { OBS_REGISTERING, OBS_ACTIVE, OBS_WAIT_RETRY } coap_obs_state_t;

/* An observation (subscribe) and its registration state. */
typedef struct coap_obs {
  struct coap_obs *next;
  char *channel;
  char *path;
  uint8_t token[8];
  size_t token_len;
  coap_obs_state_t state;
  uint64_t due_ms; /* WAIT_RETRY: when to register again; ACTIVE: when it is stale */
} coap_obs_t;

typedef struct coap_ctx {
  iotkit_transport_events_t ev;
  const iotkit_hal_t *hal;
  iotkit__transport_lock_t lock; /* guards everything below, and every libcoap call */
  coap_context_t *cctx;
  coap_session_t *session;
  bool session_dead; /* libcoap reported the session down: release it outside its callbacks */
  coap_state_t state;
  char *host;
  char *base_path;
  uint16_t port;
  bool secure;
  coap_address_t addr;
  /* DTLS credentials (copied; the key is zeroed on destroy) */
  char *psk_identity;
  uint8_t psk_key[64];
  size_t psk_key_len;
  char *ca_file;
  char *cert_file;
  char *key_file;
  bool verify_peer;
  bool psk_hint_seen; /* the server reached the PSK part of the handshake */
  coap_dtls_cpsk_info_t psk_info;
  /* tuning */
  uint32_t connect_timeout_ms;
  size_t max_payload;
  unsigned long ack_timeout_ms;
  unsigned long max_retransmit;
  unsigned long nstart;
  unsigned long observe_retry_ms;
  unsigned long observe_refresh_ms;
  uint64_t connect_started;
  uint32_t next_id;
  coap_req_t *reqs;
  coap_obs_t *obs;
  coap_ev_t *ev_head;
  coap_ev_t *ev_tail;
  char err[IOTKIT__TRANSPORT_ERR_MAX];
} coap_ctx_t;

/* Take and drop the context lock; while held, libcoap's log lines go to this
   context's HAL. */
void iotkit__coap_lock(coap_ctx_t *c);
void iotkit__coap_unlock(coap_ctx_t *c);

/* Queue an event (lock held). Copies @p text and @p payload. NOMEM drops it
   and logs (NULL returned); else the event, for the caller to complete. */
coap_ev_t *iotkit__coap_push(coap_ctx_t *c, coap_ev_kind_t kind, iotkit_err_t status, uint32_t id, const char *text,
                       const void *payload, size_t len);

/* Record @p detail as the last error and log it at @p level (lock held). */
void iotkit__coap_fail(coap_ctx_t *c, iotkit_log_level_t level, const char *detail);

/* End the session (lock held): fail pending requests with @p pending_status,
   drop observations, queue disconnected(reason, detail). The libcoap session
   is released later by poll() or at once when @p release_now. */
void iotkit__coap_down(coap_ctx_t *c, iotkit_err_t reason, const char *detail, iotkit_err_t pending_status,
                       bool release_now);

/* Open the libcoap session to c->addr: plain UDP, DTLS with PSK, or DTLS with
   certificates (lock held). On failure c->err says why. */
iotkit_err_t iotkit__coap_session_open(coap_ctx_t *c);

/* Copy the DTLS credentials of @p cfg into @p c; INVALID_ARG for a malformed PSK. */
iotkit_err_t iotkit__coap_dtls_configure(coap_ctx_t *c, const iotkit_transport_config_t *cfg);

/* Register the response and NACK handlers on the context. */
void iotkit__coap_requests_init(coap_ctx_t *c);

/* Send a request for @p path (lock held, session up). @p observe adds Observe
   register; @p confirmable picks CON over NON. The token used goes to
   @p token/@p token_len. */
iotkit_err_t iotkit__coap_request(coap_ctx_t *c, coap_pdu_code_t method, const char *path, bool confirmable,
                                  bool observe, const void *payload, size_t len, uint8_t *token,
                                  size_t *token_len);

/* Uri-Path options for @p path ("/a/b"), Observe first when asked; NULL for
   no memory. Free with coap_delete_optlist(). */
coap_optlist_t *iotkit__coap_path_options(const char *path, bool observe);

/* The libiotkit status of a NACK of libcoap, and in @p why a phrase saying
   what happened: TIMEOUT (no answer after all retransmissions), CONNECT (ICMP
   error), TLS (the DTLS session failed), DELIVERY (RST or anything else). */
iotkit_err_t iotkit__coap_nack_status(coap_nack_reason_t reason, const char **why);

/* Register again the observations that are due (lock held); returns the
   milliseconds until the next one is due, or @p cap. */
uint32_t iotkit__coap_obs_upkeep(coap_ctx_t *c, uint64_t now, uint32_t cap);

/* Milliseconds until the next observation is due for registering again
   (0: now), or -1 if none is waiting (lock held). Does nothing itself. */
int iotkit__coap_obs_next_ms(const coap_ctx_t *c, uint64_t now);

/* Free every pending request and observation (lock held). */
void iotkit__coap_requests_clear(coap_ctx_t *c);

/* send() and subscribe() of the ops table. */
iotkit_err_t iotkit__coap_send(void *ctx, const iotkit_message_t *msg, uint32_t *msg_id);
iotkit_err_t iotkit__coap_subscribe(void *ctx, const char *channel, int qos);
/* unsubscribe() of the ops table: cancel the observation (libcoap's
   coap_cancel_observe(): a GET with Observe deregister) and forget it. */
iotkit_err_t iotkit__coap_unsubscribe(void *ctx, const char *channel);

#endif
