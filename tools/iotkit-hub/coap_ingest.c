/* Device -> cloud over CoAP: a PUT or POST on <prefix>/<id>/<channel> is
 * checked (path, method, identity, options, payload) and published on MQTT
 * exactly as an MQTT device publishes it (docs/protocol.md: topic, QoS,
 * retain). Answers: 2.04 published; 4.00 malformed payload or option; 4.03
 * another device's resource; 4.04 no such channel; 4.05 wrong method; 4.13
 * too large; 4.15 unsupported Content-Format; 5.03 the broker is not
 * connected (the device retries). Every 4.xx carries a diagnostic payload. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub_coap.h"

/* What the request is: filled while checking it, used for the log line. */
typedef struct ingest {
  hub_t *hub;
  coap_session_t *s;
  const coap_pdu_t *req;
  coap_pdu_t *resp;
  const char *method;
  char path[512];
  char addr[64];
  char ident[160];
  const char *name;
} ingest_t;

static unsigned refuse(ingest_t *in, unsigned cls, unsigned detail, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static unsigned refuse(ingest_t *in, unsigned cls, unsigned detail, const char *fmt, ...) {
  char diag[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(diag, sizeof diag, fmt, ap);
  va_end(ap);
  hub_coap_answer(in->resp, cls, detail, diag);
  if (cls == 4 && detail == 3) {
    in->hub->stats.forbidden++;
  } else if (cls == 4) {
    in->hub->stats.bad++;
  }
  hub_log(cls == 4 && detail == 3 ? HUB_LOG_WARN : HUB_LOG_INFO, "device %s (%s): %s /%s refused: %u.%02u %s",
          in->ident[0] ? in->ident : "?", in->addr, in->method, in->path, cls, detail, diag);
  return cls * 100 + detail;
}

/* Content-Format: absent, or one the protocol carries. */
static unsigned check_format(ingest_t *in, bool *is_json) {
  coap_opt_iterator_t it;
  coap_opt_t *opt = coap_check_option(in->req, COAP_OPTION_CONTENT_FORMAT, &it);
  *is_json = false;
  if (!opt) return 0;
  if (coap_opt_length(opt) > 2) return refuse(in, 4, 0, "malformed Content-Format option (%s)", "more than 2 bytes");
  unsigned f = coap_decode_var_bytes(coap_opt_value(opt), coap_opt_length(opt));
  static const unsigned ok[] = {COAP_MEDIATYPE_TEXT_PLAIN,        COAP_MEDIATYPE_APPLICATION_OCTET_STREAM,
                                COAP_MEDIATYPE_APPLICATION_JSON,   COAP_MEDIATYPE_APPLICATION_CBOR,
                                COAP_MEDIATYPE_APPLICATION_SENML_JSON, COAP_MEDIATYPE_APPLICATION_SENML_CBOR};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    if (f == ok[i]) {
      *is_json = f == COAP_MEDIATYPE_APPLICATION_JSON || f == COAP_MEDIATYPE_APPLICATION_SENML_JSON;
      return 0;
    }
  }
  return refuse(in, 4, 15, "unsupported Content-Format %u (text, octet-stream, json, cbor, senml+json, senml+cbor)",
                f);
}

/* An HTTP-style status from channels.c as a CoAP refusal. */
static unsigned refuse_status(ingest_t *in, int status, const char *diag) {
  return refuse(in, 4, (unsigned)(status % 100), "%s", diag);
}

/* Check and publish; returns the answer code (cls*100+detail). */
static unsigned ingest(ingest_t *in) {
  hub_t *hub = in->hub;
  size_t id_len = 0;
  const char *id_start = NULL, *name = NULL;
  if (!hub_route_split(hub, in->path, &id_start, &id_len, &name)) {
    return refuse(in, 4, 4, "no such resource (the hub serves /%s/<device-id>/<channel>)", hub->cfg.prefix);
  }
  in->name = name;
  char diag[300];
  const hub_channel_t *rule = NULL;
  int status = hub_channel_route(name, coap_pdu_get_code(in->req) == COAP_REQUEST_CODE_PUT, &rule, diag, sizeof diag);
  if (status) return refuse_status(in, status, diag);
  char id[160];
  memcpy(id, id_start, id_len);
  id[id_len] = '\0';
  if (!hub_auth_may_act(in->s, id)) return refuse(in, 4, 3, "not your resource: it belongs to device '%s'", id);
  if (!in->ident[0]) snprintf(in->ident, sizeof in->ident, "%s", id); /* plain coap://: the path names it */
  bool declared_json = false;
  unsigned code = check_format(in, &declared_json);
  if (code) return code;
  size_t len = 0, offset = 0, total = 0;
  const uint8_t *data = NULL;
  if (!coap_get_data_large(in->req, &len, &data, &offset, &total)) len = 0;
  if (len > hub->cfg.max_payload) return refuse(in, 4, 13, "payload larger than %zu bytes", hub->cfg.max_payload);
  hub_device_t *dev = hub_device_get(hub, id_start, id_len);
  if (!dev || !hub_coap_add_device(hub, dev)) return refuse(in, 5, 0, "%s", "out of memory");
  int online = -1;
  status = hub_channel_payload(rule, name, data, len, declared_json, &online, diag, sizeof diag);
  if (status) return refuse_status(in, status, diag);
  int qos = rule->channel == IOTKIT_CHANNEL_TELEMETRY && coap_pdu_get_type(in->req) == COAP_MESSAGE_NON ? 0 : 1;
  if (!hub_mqtt_publish(hub, in->path, data, len, qos, rule->retain)) {
    hub_coap_answer(in->resp, 5, 3, "the hub's MQTT broker is not connected: try again");
    hub_log(HUB_LOG_WARN, "device %s (%s): %s %s: 5.03, MQTT not connected", id, in->addr, in->method, name);
    return 503;
  }
  if (online >= 0) {
    dev->status_online = online == 1;
    dev->status_session = in->s;
  }
  hub->stats.published++;
  hub_log(HUB_LOG_INFO, "device %s (%s): %s %s, %zu bytes -> MQTT %s (qos %d%s)", id, in->addr, in->method, name, len,
          in->path, qos, rule->retain ? ", retained" : "");
  coap_pdu_set_code(in->resp, COAP_RESPONSE_CODE(204));
  return 204;
}

void hub_coap_ingest(coap_resource_t *r, coap_session_t *s, const coap_pdu_t *req, const coap_string_t *q,
                     coap_pdu_t *resp) {
  (void)r;
  (void)q;
  ingest_t in;
  memset(&in, 0, sizeof in);
  in.hub = hub_of_session(s);
  in.s = s;
  in.req = req;
  in.resp = resp;
  in.method = coap_pdu_get_code(req) == COAP_REQUEST_CODE_PUT ? "PUT" : "POST";
  hub_peer_addr(s, in.addr, sizeof in.addr);
  hub_auth_identity(s, in.ident, sizeof in.ident);
  hub_peer_t *peer = hub_peer_of(in.hub, s);
  bool con = coap_pdu_get_type(req) == COAP_MESSAGE_CON;
  coap_mid_t mid = coap_pdu_get_mid(req);
  unsigned seen = con ? hub_peer_seen(peer, mid) : 0;
  if (seen) {
    in.hub->stats.duplicates++;
    hub_log(HUB_LOG_DEBUG, "device %s (%s): duplicate of message id %d: answered %u again, not published",
            in.ident, in.addr, (int)mid, seen);
    coap_pdu_set_code(resp, COAP_RESPONSE_CODE(seen));
    return;
  }
  coap_string_t *path = coap_get_uri_path(req);
  if (!path || path->length >= sizeof in.path) {
    snprintf(in.path, sizeof in.path, "%s", "?");
    hub_coap_answer(resp, 4, 4, path ? "path too long" : "no path");
    in.hub->stats.bad++;
    coap_delete_string(path);
    return;
  }
  memcpy(in.path, path->s, path->length);
  in.path[path->length] = '\0';
  coap_delete_string(path);
  unsigned code = ingest(&in);
  if (con && code < 500) hub_peer_remember(peer, mid, code);
}

void hub_coap_session_gone(hub_t *hub, coap_session_t *s, const char *ident, const char *addr) {
  const char *who = ident[0] ? ident : "?";
  for (hub_device_t *d = hub->devices; d; d = d->next) {
    if (d->status_session != s) continue;
    who = d->id; /* plain coap:// has no identity: the device that posted its status here */
    d->status_session = NULL;
    if (!d->status_online) continue;
    d->status_online = false;
    char topic[512];
    char *will = NULL;
    bool ok = iotkit_protocol_topic(hub->cfg.prefix, d->id, iotkit_channel_name(IOTKIT_CHANNEL_STATUS), topic,
                                    sizeof topic) == IOTKIT_OK &&
              iotkit_protocol_status_build(false, "connection_lost", IOTKIT_PROTOCOL_NO_TS, &will) == IOTKIT_OK &&
              hub_mqtt_publish(hub, topic, will, strlen(will), 1, true);
    iotkit_free(will);
    hub_log(HUB_LOG_INFO, "device %s (%s): session ended without a goodbye: last will %s", d->id, addr,
            ok ? "published" : "not published (MQTT down)");
  }
  hub_log(HUB_LOG_DEBUG, "session of %s (%s) closed", who, addr);
}
