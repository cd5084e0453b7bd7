/* CoAP backend: requests (send), observations (subscribe) and what comes back
 * for them (responses, notifications, NACKs). All of it runs with the context
 * lock held (see coap_libcoap.c).
 *
 * A confirmable send is remembered by its token until a response or a NACK
 * settles it; a non-confirmable one is settled as soon as it is sent, and its
 * response is ignored. An observation keeps the token of its latest
 * registration: notifications with an older token of ours are answered with a
 * RST, which ends that stale registration on the server (RFC 7641 3.6).
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "transport/coap_libcoap.h"
#include "transport/coap_map.h"
#include "transport/topic.h"

static bool token_eq(const uint8_t *a, size_t alen, coap_bin_const_t b) {
  return alen == b.length && (alen == 0 || memcmp(a, b.s, alen) == 0);
}

static coap_req_t *take_req(coap_ctx_t *c, coap_bin_const_t token) {
  for (coap_req_t **p = &c->reqs; *p; p = &(*p)->next) {
    if (token_eq((*p)->token, (*p)->token_len, token)) {
      coap_req_t *r = *p;
      *p = r->next;
      return r;
    }
  }
  return NULL;
}

static void req_free(coap_req_t *r) {
  if (!r) return;
  free(r->what);
  free(r);
}

static coap_obs_t *find_obs(coap_ctx_t *c, coap_bin_const_t token) {
  for (coap_obs_t *o = c->obs; o; o = o->next) {
    if (o->state != OBS_WAIT_RETRY && token_eq(o->token, o->token_len, token)) return o;
  }
  return NULL;
}

static void obs_free(coap_obs_t *o) {
  if (!o) return;
  free(o->channel);
  free(o->path);
  free(o);
}

void iotkit__coap_requests_clear(coap_ctx_t *c) {
  while (c->reqs) {
    coap_req_t *r = c->reqs;
    c->reqs = r->next;
    req_free(r);
  }
  while (c->obs) {
    coap_obs_t *o = c->obs;
    c->obs = o->next;
    obs_free(o);
  }
}

static void obs_retry_later(coap_ctx_t *c, coap_obs_t *o, const char *why) {
  char detail[IOTKIT__TRANSPORT_ERR_MAX];
  o->state = OBS_WAIT_RETRY;
  o->due_ms = iotkit__transport_now_ms(c->hal) + c->observe_retry_ms;
  iotkit__fmt(detail, sizeof detail, "coap: observe %s: %s; registering again in %lu ms", o->path, why,
              c->observe_retry_ms);
  iotkit__coap_fail(c, IOTKIT_LOG_WARN, detail);
}

/* Max-Age of a notification in seconds (RFC 7252 5.10.5: 60 when absent). */
static unsigned max_age_s(const coap_pdu_t *pdu) {
  coap_opt_iterator_t it;
  coap_opt_t *opt = coap_check_option(pdu, COAP_OPTION_MAXAGE, &it);
  return opt ? coap_decode_var_bytes(coap_opt_value(opt), coap_opt_length(opt)) : IOTKIT__COAP_DEFAULT_MAX_AGE_S;
}

static void on_notification(coap_ctx_t *c, coap_obs_t *o, const coap_pdu_t *pdu) {
  unsigned code = coap_pdu_get_code(pdu);
  if (iotkit__coap_code_to_err(code) != IOTKIT_OK) {
    char text[48];
    iotkit__coap_code_text(code, text, sizeof text);
    obs_retry_later(c, o, text); /* the server dropped the observation (RFC 7641 3.2) */
    return;
  }
  size_t len = 0, offset = 0, total = 0;
  const uint8_t *data = NULL;
  if (!coap_get_data_large(pdu, &len, &data, &offset, &total)) len = 0;
  /* No payload: the server has nothing there yet (e.g. no command waiting), not a message. */
  if (len > 0) {
    coap_ev_t *e = iotkit__coap_push(c, CEV_MESSAGE, IOTKIT_OK, 0, o->channel, data, len);
    /* Reliable (CON, or the piggybacked ACK of our CON registration) is QoS 1; NON is 0. */
    if (e) e->qos = coap_pdu_get_type(pdu) == COAP_MESSAGE_NON ? 0 : 1;
  }
  coap_opt_iterator_t it;
  if (!coap_check_option(pdu, COAP_OPTION_OBSERVE, &it)) {
    obs_retry_later(c, o, "the server answered without registering the observation");
    return;
  }
  uint64_t now = iotkit__transport_now_ms(c->hal);
  o->state = OBS_ACTIVE;
  /* Without notifications for Max-Age (plus a little slack for the
     transmission), the server may have forgotten us: register again. */
  o->due_ms = now + (c->observe_refresh_ms ? c->observe_refresh_ms : max_age_s(pdu) * 1000ull + 2000u);
}

static coap_response_t on_response(coap_session_t *session, const coap_pdu_t *sent, const coap_pdu_t *received,
                                   const coap_mid_t mid) {
  (void)sent;
  (void)mid;
  coap_ctx_t *c = coap_session_get_app_data(session);
  if (!c) return COAP_RESPONSE_OK;
  coap_bin_const_t token = coap_pdu_get_token(received);
  coap_req_t *r = take_req(c, token);
  if (r) {
    unsigned code = coap_pdu_get_code(received);
    iotkit_err_t status = iotkit__coap_code_to_err(code);
    if (status != IOTKIT_OK) {
      char text[48], detail[IOTKIT__TRANSPORT_ERR_MAX];
      iotkit__coap_code_text(code, text, sizeof text);
      iotkit__fmt(detail, sizeof detail, "coap: %s: %s", r->what, text);
      iotkit__coap_fail(c, IOTKIT_LOG_WARN, detail);
    }
    iotkit__coap_push(c, CEV_DELIVERY, status, r->id, NULL, NULL, 0);
    req_free(r);
    return COAP_RESPONSE_OK;
  }
  coap_obs_t *o = find_obs(c, token);
  if (o) {
    on_notification(c, o, received);
    return COAP_RESPONSE_OK;
  }
  /* A notification for a registration we replaced or dropped: RST ends it. */
  coap_opt_iterator_t it;
  return coap_check_option(received, COAP_OPTION_OBSERVE, &it) ? COAP_RESPONSE_FAIL : COAP_RESPONSE_OK;
}

iotkit_err_t iotkit__coap_nack_status(coap_nack_reason_t reason, const char **why) {
  switch (reason) {
    case COAP_NACK_TOO_MANY_RETRIES:
      *why = "no response after all retransmissions";
      return IOTKIT_ERR_TIMEOUT;
    case COAP_NACK_ICMP_ISSUE:
      *why = "the server is unreachable (ICMP error: nothing listening on that port?)";
      return IOTKIT_ERR_CONNECT;
    case COAP_NACK_TLS_FAILED:
      *why = "the DTLS session failed";
      return IOTKIT_ERR_TLS;
    case COAP_NACK_RST:
      *why = "the server answered with a reset (RST)";
      return IOTKIT_ERR_DELIVERY;
    default:
      *why = "the message could not be delivered";
      return IOTKIT_ERR_DELIVERY;
  }
}

static void on_nack(coap_session_t *session, const coap_pdu_t *sent, const coap_nack_reason_t reason,
                    const coap_mid_t mid) {
  (void)mid;
  coap_ctx_t *c = coap_session_get_app_data(session);
  if (!c || !sent) return;
  coap_bin_const_t token = coap_pdu_get_token(sent);
  const char *why = "";
  iotkit_err_t status = iotkit__coap_nack_status(reason, &why);
  char detail[IOTKIT__TRANSPORT_ERR_MAX];
  coap_req_t *r = take_req(c, token);
  if (r) {
    iotkit__fmt(detail, sizeof detail, "coap: %s to %s:%u: %s", r->what, c->host, c->port, why);
    iotkit__coap_fail(c, IOTKIT_LOG_WARN, detail);
    iotkit__coap_push(c, CEV_DELIVERY, status, r->id, NULL, NULL, 0);
    req_free(r);
    return;
  }
  coap_obs_t *o = find_obs(c, token);
  if (o) obs_retry_later(c, o, why);
}

void iotkit__coap_requests_init(coap_ctx_t *c) {
  coap_register_response_handler(c->cctx, on_response);
  coap_register_nack_handler(c->cctx, on_nack);
}

static void release_copy(coap_session_t *session, void *app_ptr) {
  (void)session;
  free(app_ptr);
}

coap_optlist_t *iotkit__coap_path_options(const char *path, bool observe) {
  coap_optlist_t *opts = NULL;
  uint8_t buf[4];
  if (observe &&
      !coap_insert_optlist(&opts, coap_new_optlist(COAP_OPTION_OBSERVE,
                                                   coap_encode_var_safe(buf, sizeof buf, COAP_OBSERVE_ESTABLISH),
                                                   buf))) {
    coap_delete_optlist(opts);
    return NULL;
  }
  const char *p = path[0] == '/' ? path + 1 : path;
  for (;;) {
    size_t n = strcspn(p, "/");
    if (!coap_insert_optlist(&opts, coap_new_optlist(COAP_OPTION_URI_PATH, n, (const uint8_t *)p))) {
      coap_delete_optlist(opts);
      return NULL;
    }
    if (p[n] == '\0') break;
    p += n + 1;
  }
  return opts;
}

iotkit_err_t iotkit__coap_request(coap_ctx_t *c, coap_pdu_code_t method, const char *path, bool confirmable,
                                  bool observe, const void *payload, size_t len, uint8_t *token,
                                  size_t *token_len) {
  coap_session_t *s = c->session;
  coap_pdu_t *pdu = coap_pdu_init(confirmable ? COAP_MESSAGE_CON : COAP_MESSAGE_NON, method,
                                  coap_new_message_id(s), coap_session_max_pdu_size(s));
  coap_optlist_t *opts = iotkit__coap_path_options(path, observe);
  void *copy = len ? malloc(len) : NULL;
  if (!pdu || !opts || (len && !copy)) {
    if (pdu) coap_delete_pdu(pdu);
    coap_delete_optlist(opts);
    free(copy);
    return IOTKIT_ERR_NOMEM;
  }
  coap_session_new_token(s, token_len, token);
  int ok = coap_add_token(pdu, *token_len, token) && coap_add_optlist_pdu(pdu, &opts);
  coap_delete_optlist(opts);
  if (ok && len) {
    memcpy(copy, payload, len);
    /* libcoap owns the copy from here on, and frees it through release_copy
       when the (possibly block-wise) transfer ends or fails */
    ok = coap_add_data_large_request(s, pdu, len, copy, release_copy, copy);
    copy = NULL;
  }
  if (!ok) {
    free(copy);
    coap_delete_pdu(pdu);
    return IOTKIT_ERR_NOMEM;
  }
  return coap_send(s, pdu) == COAP_INVALID_MID ? IOTKIT_ERR_IO : IOTKIT_OK;
}

/* Drop queued delivery events for @p id (a send that failed must not report). */
static void drop_delivery(coap_ctx_t *c, uint32_t id) {
  coap_ev_t *prev = NULL;
  for (coap_ev_t *e = c->ev_head; e;) {
    coap_ev_t *next = e->next;
    if (e->kind == CEV_DELIVERY && e->id == id) {
      if (prev) {
        prev->next = next;
      } else {
        c->ev_head = next;
      }
      if (c->ev_tail == e) c->ev_tail = prev;
      free(e);
    } else {
      prev = e;
    }
    e = next;
  }
}

static iotkit_err_t send_locked(coap_ctx_t *c, const iotkit_message_t *msg, uint32_t *msg_id) {
  bool put = iotkit__coap_channel_uses_put(msg->channel);
  char *path = iotkit__coap_channel_path(c->base_path, msg->channel);
  char what[IOTKIT__TRANSPORT_ERR_MAX / 2];
  iotkit__fmt(what, sizeof what, "%s %s", put ? "PUT" : "POST", path ? path : "");
  coap_req_t *r = path ? calloc(1, sizeof *r) : NULL;
  if (r) r->what = iotkit__strdup(what);
  if (!r || !r->what) {
    req_free(r);
    free(path);
    return IOTKIT_ERR_NOMEM;
  }
  uint32_t id = ++c->next_id ? c->next_id : ++c->next_id;
  r->id = id;
  bool con = msg->qos >= 1;
  if (con) { /* registered first: a NACK may come from inside coap_send() */
    r->next = c->reqs;
    c->reqs = r;
  }
  iotkit_err_t rc = iotkit__coap_request(c, put ? COAP_REQUEST_CODE_PUT : COAP_REQUEST_CODE_POST, path, con,
                                         false, msg->payload, msg->len, r->token, &r->token_len);
  free(path);
  if (con && rc != IOTKIT_OK) {
    coap_bin_const_t tok = {r->token_len, r->token};
    req_free(take_req(c, tok));
    drop_delivery(c, id);
  }
  if (!con) req_free(r);
  if (rc == IOTKIT_OK) {
    if (!con) iotkit__coap_push(c, CEV_DELIVERY, IOTKIT_OK, id, NULL, NULL, 0); /* sent: all NON promises */
    *msg_id = id;
  } else {
    char detail[IOTKIT__TRANSPORT_ERR_MAX];
    iotkit__fmt(detail, sizeof detail, "coap: %s could not be sent (%s)", what, iotkit_strerror(rc));
    iotkit__coap_fail(c, IOTKIT_LOG_WARN, detail);
  }
  return rc;
}

/* Largest body libcoap carries block-wise: 2^20 - 1 blocks of 1024 bytes. */
#define COAP_MAX_BODY ((size_t)((1u << 20) - 1u) * 1024u)

iotkit_err_t iotkit__coap_send(void *ctx, const iotkit_message_t *msg, uint32_t *msg_id) {
  coap_ctx_t *c = ctx;
  if (!c || !msg || !msg_id || !iotkit__topic_name_valid(msg->channel) || msg->qos < 0 || msg->qos > 2 ||
      (!msg->payload && msg->len)) {
    return IOTKIT_ERR_INVALID_ARG;
  }
  iotkit__coap_lock(c);
  iotkit_err_t rc;
  size_t limit = c->max_payload && c->max_payload < COAP_MAX_BODY ? c->max_payload : COAP_MAX_BODY;
  if (msg->len > limit) {
    iotkit__fmt(c->err, sizeof c->err, "coap: payload of %zu bytes exceeds the limit of %zu", msg->len, limit);
    rc = IOTKIT_ERR_TOO_LARGE;
  } else if (c->state != CST_UP || !c->session) {
    iotkit__fmt(c->err, sizeof c->err, "coap: send while not connected");
    rc = IOTKIT_ERR_NOT_CONNECTED;
  } else {
    rc = send_locked(c, msg, msg_id);
  }
  iotkit__coap_unlock(c);
  return rc;
}

static iotkit_err_t obs_register(coap_ctx_t *c, coap_obs_t *o) {
  iotkit_err_t rc = iotkit__coap_request(c, COAP_REQUEST_CODE_GET, o->path, true, true, NULL, 0, o->token,
                                         &o->token_len);
  if (rc == IOTKIT_OK) o->state = OBS_REGISTERING;
  return rc;
}

uint32_t iotkit__coap_obs_upkeep(coap_ctx_t *c, uint64_t now, uint32_t cap) {
  for (coap_obs_t *o = c->obs; o; o = o->next) {
    if (o->state == OBS_REGISTERING) continue; /* a response or a NACK settles it */
    if (now >= o->due_ms) {
      iotkit__transport_logf(c->hal, IOTKIT_LOG_INFO, "coap: registering observation of %s %s", o->path,
                             o->state == OBS_ACTIVE ? "again (no notification within Max-Age)" : "again");
      if (obs_register(c, o) != IOTKIT_OK) o->due_ms = now + c->observe_retry_ms;
    }
    if (o->state != OBS_REGISTERING && o->due_ms - now < cap) cap = (uint32_t)(o->due_ms - now);
  }
  return cap;
}

int iotkit__coap_obs_next_ms(const coap_ctx_t *c, uint64_t now) {
  int best = -1;
  for (const coap_obs_t *o = c->obs; o; o = o->next) {
    if (o->state == OBS_REGISTERING) continue;
    uint64_t left = o->due_ms > now ? o->due_ms - now : 0;
    if (left > INT32_MAX) left = INT32_MAX;
    if (best < 0 || (int)left < best) best = (int)left;
  }
  return best;
}

iotkit_err_t iotkit__coap_subscribe(void *ctx, const char *channel, int qos) {
  coap_ctx_t *c = ctx;
  if (!c || !iotkit__topic_filter_valid(channel) || qos < 0 || qos > 2) return IOTKIT_ERR_INVALID_ARG;
  iotkit__coap_lock(c);
  iotkit_err_t rc = IOTKIT_OK;
  if (strpbrk(channel, "+#")) {
    iotkit__fmt(c->err, sizeof c->err, "coap: cannot observe '%s': CoAP has no wildcard subscriptions", channel);
    rc = IOTKIT_ERR_UNSUPPORTED;
  } else if (c->state != CST_UP || !c->session) {
    iotkit__fmt(c->err, sizeof c->err, "coap: subscribe while not connected");
    rc = IOTKIT_ERR_NOT_CONNECTED;
  }
  for (coap_obs_t *o = c->obs; rc == IOTKIT_OK && o; o = o->next) {
    if (strcmp(o->channel, channel) == 0) {
      iotkit__coap_unlock(c);
      return IOTKIT_OK; /* observed already */
    }
  }
  coap_obs_t *o = NULL;
  if (rc == IOTKIT_OK) {
    o = calloc(1, sizeof *o);
    if (o) o->channel = iotkit__strdup(channel);
    if (o && o->channel) o->path = iotkit__coap_channel_path(c->base_path, channel);
    rc = o && o->path ? obs_register(c, o) : IOTKIT_ERR_NOMEM;
  }
  if (rc == IOTKIT_OK) {
    o->next = c->obs;
    c->obs = o;
  } else {
    obs_free(o);
  }
  iotkit__coap_unlock(c);
  return rc;
}

/* Drop the queued messages of @p channel not yet handed out (lock held). */
static void drop_messages(coap_ctx_t *c, const char *channel) {
  coap_ev_t *prev = NULL;
  for (coap_ev_t *e = c->ev_head; e;) {
    coap_ev_t *next = e->next;
    if (e->kind == CEV_MESSAGE && strcmp(e->text, channel) == 0) {
      if (prev) {
        prev->next = next;
      } else {
        c->ev_head = next;
      }
      if (c->ev_tail == e) c->ev_tail = prev;
      free(e->text);
      free(e->payload);
      free(e);
    } else {
      prev = e;
    }
    e = next;
  }
}

iotkit_err_t iotkit__coap_unsubscribe(void *ctx, const char *channel) {
  coap_ctx_t *c = ctx;
  if (!c || !iotkit__topic_filter_valid(channel)) return IOTKIT_ERR_INVALID_ARG;
  iotkit__coap_lock(c);
  iotkit_err_t rc = IOTKIT_ERR_NOT_FOUND;
  coap_obs_t **at = &c->obs;
  while (*at && strcmp((*at)->channel, channel) != 0) at = &(*at)->next;
  if (c->state != CST_UP || !c->session) {
    iotkit__fmt(c->err, sizeof c->err, "coap: unsubscribe while not connected");
    rc = IOTKIT_ERR_NOT_CONNECTED;
  } else if (!*at) {
    iotkit__fmt(c->err, sizeof c->err, "coap: no observation of %s", channel);
  } else {
    coap_obs_t *o = *at;
    *at = o->next;
    /* Deregister (RFC 7641 3.6) with the latest registration's token. If libcoap no
       longer tracks it, the next notification finds no observation here and is
       answered with a RST (on_response), which ends it on the server as well. */
    coap_binary_t token = {o->token_len, o->token};
    bool sent = o->state != OBS_WAIT_RETRY && coap_cancel_observe(c->session, &token, COAP_MESSAGE_CON);
    iotkit__transport_logf(c->hal, IOTKIT_LOG_INFO, "coap: observation of %s %s", o->path,
                           sent ? "cancelled" : "forgotten (no registration to cancel)");
    drop_messages(c, channel);
    obs_free(o);
    rc = IOTKIT_OK;
  }
  iotkit__coap_unlock(c);
  return rc;
}
