/* The CoAP front: libcoap context, endpoints, DTLS-PSK, the observable
 * per-device resources (the retained channels state/desired and ota/manifest,
 * and commands/request), session events and the loop step. Device messages
 * (PUT/POST) are handled in coap_ingest.c.
 *
 * Resources: <prefix>/<id>/<retained channel> and <prefix>/<id>/commands/request
 * exist for every device of the key file (and are made on first contact for
 * a device that is not listed, over plain coap:// only); every other path is
 * served by libcoap's unknown-resource handler (coap_ingest.c). Notifications
 * are confirmable, so libcoap retransmits them and sends at most one at a
 * time to each observer: a command waits in its device's queue until the
 * handler below takes it for the next notification. */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "hub.h"
#include "hub_coap.h"

hub_t *hub_of_session(const coap_session_t *session) {
  return coap_get_app_data(coap_session_get_context(session));
}

void hub_coap_answer(coap_pdu_t *resp, unsigned cls, unsigned detail, const char *diagnostic) {
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE(cls * 100 + detail));
  if (diagnostic && *diagnostic) coap_add_data(resp, strlen(diagnostic), (const uint8_t *)diagnostic);
}

static void release_free(coap_session_t *session, void *ptr) {
  (void)session;
  free(ptr);
}

/* 2.05 with @p len bytes of JSON (a copy; libcoap sends it block-wise if large). */
static void answer_body(coap_resource_t *r, coap_session_t *s, const coap_pdu_t *req, const coap_string_t *q,
                        coap_pdu_t *resp, const void *data, size_t len) {
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE(205));
  if (len == 0) return; /* nothing yet: an empty notification */
  uint8_t *copy = malloc(len);
  if (!copy) {
    hub_coap_answer(resp, 5, 0, "out of memory");
    return;
  }
  memcpy(copy, data, len);
  coap_add_data_large_response(r, s, req, resp, q, COAP_MEDIATYPE_APPLICATION_JSON, -1, 0, len, copy, release_free,
                               copy);
}

/* The device owning @p r, if the session may read it; else a 4.03 answer. */
static hub_device_t *owner_or_403(coap_resource_t *r, coap_session_t *s, coap_pdu_t *resp, const char *what) {
  hub_t *hub = hub_of_session(s);
  hub_device_t *d = coap_resource_get_userdata(r);
  if (hub_auth_may_act(s, d->id)) return d;
  char ident[160], addr[64], diag[256];
  hub_auth_identity(s, ident, sizeof ident);
  hub_peer_addr(s, addr, sizeof addr);
  hub->stats.forbidden++;
  hub_log(HUB_LOG_WARN, "device %s (%s): GET %s of device %s refused: 4.03 (not its own resource)", ident, addr,
          what, d->id);
  snprintf(diag, sizeof diag, "device '%s' may not read the %s of device '%s'", ident, what, d->id);
  hub_coap_answer(resp, 4, 3, diag);
  return NULL;
}

/* GET of a retained channel: its latest document (an empty 2.05 if none). */
static void hnd_get_retained(coap_resource_t *r, coap_session_t *s, const coap_pdu_t *req, const coap_string_t *q,
                             coap_pdu_t *resp) {
  hub_device_t *d = coap_resource_get_userdata(r);
  int which = 0;
  while (which < HUB_RET_COUNT - 1 && d->retained[which].res != r) which++;
  const char *name = hub_retained_name((hub_ret_t)which);
  if (!owner_or_403(r, s, resp, name)) return;
  hub_t *hub = hub_of_session(s);
  const hub_retained_t *doc = &d->retained[which];
  hub->stats.notified++;
  char addr[64];
  hub_peer_addr(s, addr, sizeof addr);
  hub_log(HUB_LOG_INFO, "device %s (%s): %s -> device (%zu bytes)", d->id, addr, name, doc->len);
  answer_body(r, s, req, q, resp, doc->doc, doc->len);
}

static void hnd_get_commands(coap_resource_t *r, coap_session_t *s, const coap_pdu_t *req, const coap_string_t *q,
                             coap_pdu_t *resp) {
  hub_device_t *d = owner_or_403(r, s, resp, HUB_CMD_REQUEST);
  if (!d) return;
  hub_t *hub = hub_of_session(s);
  hub_cmd_t *c = hub_device_pop_command(d);
  if (!c) {
    coap_pdu_set_code(resp, COAP_RESPONSE_CODE(205));
    return;
  }
  hub->stats.notified++;
  char addr[64];
  hub_peer_addr(s, addr, sizeof addr);
  hub_log(HUB_LOG_INFO, "device %s (%s): command -> device (%zu bytes, %u still waiting)", d->id, addr, c->len,
          d->cmd_count);
  coap_pdu_set_code(resp, COAP_RESPONSE_CODE(205));
  coap_add_data_large_response(r, s, req, resp, q, COAP_MEDIATYPE_APPLICATION_JSON, -1, 0, c->len,
                               (const uint8_t *)c->data, release_free, c);
}

static coap_resource_t *make_observable(hub_t *hub, hub_device_t *d, const char *name, coap_method_handler_t get) {
  char path[512];
  if (iotkit_protocol_topic(hub->cfg.prefix, d->id, name, path, sizeof path) != IOTKIT_OK) return NULL;
  coap_str_const_t *uri = coap_new_str_const((const uint8_t *)path, strlen(path));
  if (!uri) return NULL;
  coap_resource_t *r = coap_resource_init(uri, COAP_RESOURCE_FLAGS_RELEASE_URI | COAP_RESOURCE_FLAGS_NOTIFY_CON);
  if (!r) {
    coap_delete_str_const(uri);
    return NULL;
  }
  coap_register_request_handler(r, COAP_REQUEST_GET, get);
  coap_resource_set_get_observable(r, 1);
  coap_resource_set_userdata(r, d);
  coap_add_resource(hub->coap, r);
  return r;
}

bool hub_coap_add_device(hub_t *hub, hub_device_t *dev) {
  bool ok = true;
  for (int i = 0; i < HUB_RET_COUNT; i++) {
    hub_retained_t *r = &dev->retained[i];
    if (!r->res) r->res = make_observable(hub, dev, hub_retained_name((hub_ret_t)i), hnd_get_retained);
    ok = ok && r->res;
  }
  if (!dev->res_commands) dev->res_commands = make_observable(hub, dev, HUB_CMD_REQUEST, hnd_get_commands);
  return ok && dev->res_commands;
}

void hub_coap_notify(hub_t *hub, coap_resource_t *res) {
  (void)hub;
  if (res) coap_resource_notify_observers(res, NULL);
}

/* libcoap's lines into the hub's log. */
static void on_coap_log(coap_log_t level, const char *message) {
  hub_log_level_t l = level <= LOG_ERR ? HUB_LOG_ERROR : level <= LOG_WARNING ? HUB_LOG_WARN : HUB_LOG_DEBUG;
  hub_log(l, "libcoap: %s", message);
}

static int on_event(coap_session_t *s, const coap_event_t event) {
  hub_t *hub = hub_of_session(s);
  char addr[64], ident[160];
  hub_peer_addr(s, addr, sizeof addr);
  hub_auth_identity(s, ident, sizeof ident);
  switch (event) {
    case COAP_EVENT_DTLS_CONNECTED:
      hub_log(HUB_LOG_INFO, "device %s (%s): DTLS session up", ident, addr);
      break;
    case COAP_EVENT_DTLS_ERROR:
      hub_log(HUB_LOG_WARN, "DTLS handshake with %s%s%s failed (unknown identity, wrong key or bad record)", addr,
              ident[0] ? ", identity " : "", ident);
      break;
    case COAP_EVENT_SERVER_SESSION_DEL:
      hub_coap_session_gone(hub, s, ident, addr);
      hub_peer_forget(hub, s);
      break;
    default:
      break;
  }
  return 0;
}

static const coap_bin_const_t *on_psk_identity(coap_bin_const_t *identity, coap_session_t *s, void *arg) {
  (void)s;
  return hub_auth_psk_lookup(arg, identity);
}

/* "HOST:PORT" or "[V6]:PORT" into @p out. */
static bool resolve(const char *spec, coap_address_t *out) {
  char host[256];
  const char *colon = strrchr(spec, ':');
  if (!colon || colon == spec || !colon[1] || (size_t)(colon - spec) >= sizeof host) return false;
  const char *h = spec;
  size_t hl = (size_t)(colon - spec);
  if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
    h++;
    hl -= 2;
  }
  memcpy(host, h, hl);
  host[hl] = '\0';
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICSERV};
  struct addrinfo *res = NULL;
  if (getaddrinfo(host, colon + 1, &hints, &res) != 0 || !res) return false;
  coap_address_init(out);
  memcpy(&out->addr, res->ai_addr, res->ai_addrlen);
  out->size = (socklen_t)res->ai_addrlen;
  freeaddrinfo(res);
  return true;
}

static bool listen_on(hub_t *hub, const char *spec, coap_proto_t proto) {
  coap_address_t addr;
  const char *scheme = proto == COAP_PROTO_DTLS ? "coaps" : "coap";
  if (!resolve(spec, &addr)) {
    hub_log(HUB_LOG_ERROR, "%s listen address '%s' is not HOST:PORT", scheme, spec);
    return false;
  }
  if (!coap_new_endpoint(hub->coap, &addr, proto)) {
    hub_log(HUB_LOG_ERROR, "cannot listen for %s on %s (port in use?)", scheme, spec);
    return false;
  }
  hub_log(HUB_LOG_INFO, "listening on %s://%s%s", scheme, spec,
          proto == COAP_PROTO_UDP ? " (insecure: devices are not authenticated)" : " (DTLS-PSK)");
  return true;
}

bool hub_coap_start(hub_t *hub) {
  coap_startup();
  coap_set_log_handler(on_coap_log);
  coap_set_log_level(hub_log_enabled(HUB_LOG_DEBUG) ? LOG_INFO : LOG_WARNING);
  if (hub->cfg.packet_loss && !coap_debug_set_packet_loss(hub->cfg.packet_loss)) {
    hub_log(HUB_LOG_ERROR, "packet loss '%s' not understood (e.g. 20%% or 1,3-5)", hub->cfg.packet_loss);
    return false;
  }
  if (hub->cfg.packet_loss) hub_log(HUB_LOG_WARN, "dropping outgoing datagrams: %s (testing)", hub->cfg.packet_loss);
  hub->coap = coap_new_context(NULL);
  if (!hub->coap) return false;
  coap_set_app_data(hub->coap, hub);
  coap_context_set_block_mode(hub->coap, COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  coap_context_set_session_timeout(hub->coap, hub->cfg.session_timeout_s);
  coap_register_event_handler(hub->coap, on_event);
  if (hub->cfg.coaps_listen) {
    if (!coap_dtls_is_supported()) {
      hub_log(HUB_LOG_ERROR, "this libcoap has no DTLS: cannot serve coaps://");
      return false;
    }
    static const char hint[] = "iotkit-hub";
    coap_dtls_spsk_t psk;
    memset(&psk, 0, sizeof psk);
    psk.version = COAP_DTLS_SPSK_SETUP_VERSION;
    psk.validate_id_call_back = on_psk_identity;
    psk.id_call_back_arg = hub;
    psk.psk_info.hint.s = (const uint8_t *)hint;
    psk.psk_info.hint.length = sizeof hint - 1;
    if (!coap_context_set_psk2(hub->coap, &psk)) {
      hub_log(HUB_LOG_ERROR, "libcoap refused the DTLS-PSK set-up");
      return false;
    }
    if (!listen_on(hub, hub->cfg.coaps_listen, COAP_PROTO_DTLS)) return false;
  }
  if (hub->cfg.coap_listen && !listen_on(hub, hub->cfg.coap_listen, COAP_PROTO_UDP)) return false;
  coap_resource_t *unknown = coap_resource_unknown_init2(hub_coap_ingest, 0);
  if (!unknown) return false;
  coap_register_request_handler(unknown, COAP_REQUEST_POST, hub_coap_ingest);
  coap_add_resource(hub->coap, unknown);
  for (hub_device_t *d = hub->devices; d; d = d->next) {
    if (!hub_coap_add_device(hub, d)) return false;
  }
  return true;
}

int hub_coap_prepare(hub_t *hub, int cap, int *fd) {
  /* Commands still waiting for an observer's next notification. */
  for (hub_device_t *d = hub->devices; d; d = d->next) {
    if (d->cmd_count) hub_coap_notify(hub, d->res_commands);
  }
  coap_tick_t now;
  coap_ticks(&now);
  unsigned next = coap_io_prepare_epoll(hub->coap, now);
  *fd = coap_context_get_coap_fd(hub->coap);
  return next > 0 && next < (unsigned)cap ? (int)next : cap;
}

void hub_coap_process(hub_t *hub) { coap_io_process(hub->coap, COAP_IO_NO_WAIT); }

void hub_coap_stop(hub_t *hub) {
  if (hub->coap) {
    coap_register_event_handler(hub->coap, NULL); /* no last wills for a hub that stops */
    coap_free_context(hub->coap);
    hub->coap = NULL;
  }
  hub_peers_free(hub);
  coap_cleanup();
}
