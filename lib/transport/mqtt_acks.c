/* The broker's verdicts on what the MQTT backend sent: PUBACK/PUBREC reason
 * codes become delivery() statuses, SUBACK results become subscribed() events.
 *
 * Only MQTT 5 carries a reason for a refused publish; an MQTT 3.1.1 broker
 * that refuses one (for instance by ACL) still acknowledges it, so the
 * delivery is reported as IOTKIT_OK. Both versions report refused
 * subscriptions (3.1.1 with its only failure code 0x80, which brokers use for
 * authorisation refusals).
 */
#include "transport/mqtt_mosquitto.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define MQTT_RC_PACKET_TOO_LARGE 0x95
#define MQTT_RC_NOT_AUTHORIZED 0x87
#define MQTT_RC_FAILURE_311 0x80

static iotkit_err_t map_publish_reason(int reason) {
  if (reason < 0x80) return IOTKIT_OK; /* includes 0x10 "no matching subscribers" */
  if (reason == MQTT_RC_NOT_AUTHORIZED) return IOTKIT_ERR_AUTH;
  if (reason == MQTT_RC_PACKET_TOO_LARGE) return IOTKIT_ERR_TOO_LARGE;
  return IOTKIT_ERR_DELIVERY;
}

void iotkit__transport_mqtt_on_publish(struct mosquitto *mosq, void *obj, int mid, int reason,
                                       const mosquitto_property *props) {
  (void)mosq, (void)props;
  iotkit__mqtt_ctx_t *c = obj;
  iotkit_err_t status = map_publish_reason(reason);
  if (status != IOTKIT_OK) {
    char detail[IOTKIT__TRANSPORT_ERR_MAX];
    iotkit__fmt(detail, sizeof detail, "mqtt: %s:%u refused message %d: %s (reason 0x%02x)", c->host, c->port, mid,
                mosquitto_reason_string(reason), (unsigned)reason);
    iotkit__transport_mqtt_set_err(c, detail);
    iotkit__transport_logf(c->hal, IOTKIT_LOG_WARN, "%s", detail);
  }
  if (c->ev.delivery) c->ev.delivery(c->ev.user, (uint32_t)mid, status);
}

iotkit__mqtt_pending_sub_t *iotkit__transport_mqtt_sub_new(const char *channel) {
  size_t len = strlen(channel);
  iotkit__mqtt_pending_sub_t *s = malloc(sizeof *s + len + 1);
  if (s) memcpy(s->channel, channel, len + 1);
  return s;
}

void iotkit__transport_mqtt_sub_add(iotkit__mqtt_ctx_t *c, iotkit__mqtt_pending_sub_t *s, int mid) {
  s->mid = mid;
  iotkit__transport_lock_acquire(&c->lock);
  s->next = c->subs;
  c->subs = s;
  iotkit__transport_lock_release(&c->lock);
}

void iotkit__transport_mqtt_subs_clear(iotkit__mqtt_ctx_t *c) {
  iotkit__transport_lock_acquire(&c->lock);
  iotkit__mqtt_pending_sub_t *s = c->subs;
  c->subs = NULL;
  iotkit__transport_lock_release(&c->lock);
  while (s) {
    iotkit__mqtt_pending_sub_t *next = s->next;
    free(s);
    s = next;
  }
}

/* Unlink the pending subscription @p mid; NULL if unknown. */
static iotkit__mqtt_pending_sub_t *take_sub(iotkit__mqtt_ctx_t *c, int mid) {
  iotkit__transport_lock_acquire(&c->lock);
  iotkit__mqtt_pending_sub_t **p = &c->subs;
  while (*p && (*p)->mid != mid) p = &(*p)->next;
  iotkit__mqtt_pending_sub_t *s = *p;
  if (s) *p = s->next;
  iotkit__transport_lock_release(&c->lock);
  return s;
}

static iotkit_err_t map_suback(int protocol, int granted) {
  if (granted >= 0 && granted <= 2) return IOTKIT_OK;
  if (granted == MQTT_RC_NOT_AUTHORIZED || (protocol != 5 && granted == MQTT_RC_FAILURE_311)) return IOTKIT_ERR_AUTH;
  return IOTKIT_ERR_PROTOCOL;
}

void iotkit__transport_mqtt_on_subscribe(struct mosquitto *mosq, void *obj, int mid, int count, const int *granted,
                                         const mosquitto_property *props) {
  (void)mosq, (void)props;
  iotkit__mqtt_ctx_t *c = obj;
  iotkit__mqtt_pending_sub_t *s = take_sub(c, mid);
  if (!s) return; /* sent before a reconnect and forgotten */
  /* The backend subscribes to one filter per SUBSCRIBE. */
  int code = count >= 1 && granted ? granted[0] : MQTT_RC_FAILURE_311;
  iotkit_err_t status = map_suback(c->protocol, code);
  if (status != IOTKIT_OK) {
    char detail[IOTKIT__TRANSPORT_ERR_MAX];
    iotkit__fmt(detail, sizeof detail, "mqtt: %s:%u refused the subscription to '%s': %s (reason 0x%02x)", c->host,
                c->port, s->channel,
                c->protocol == 5 ? mosquitto_reason_string(code) : "failure", (unsigned)code);
    iotkit__transport_mqtt_set_err(c, detail);
    iotkit__transport_logf(c->hal, IOTKIT_LOG_ERROR, "%s", detail);
  }
  if (c->ev.subscribed) c->ev.subscribed(c->ev.user, s->channel, status);
  free(s);
}
