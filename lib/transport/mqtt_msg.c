/* The message path of the MQTT backend: send() (with MQTT 5 properties),
 * subscribe(), unsubscribe(), and arriving PUBLISH packets turned into
 * message() or message_ex() events.
 *
 * MQTT 5 properties go out only on an MQTT 5 connection (3.1.1 has none: the
 * caller's props are ignored there, as transport.h says). On receipt the
 * properties are decoded only when the events table has message_ex(): a
 * plain message() consumer pays nothing for them.
 */
#include "transport/mqtt_mosquitto.h"

#include <mqtt_protocol.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "transport/topic.h"

/* MQTT's limit on a Correlation Data property (a two-byte length). */
#define MQTT_BINARY_MAX 65535u
/* Most user properties decoded per arriving message (more are dropped, with a DEBUG line). */
#define MQTT_USER_PROPS_MAX 32

/* @p s is absent or valid UTF-8 as MQTT wants it (no NUL, no surrogates). */
static bool utf8_ok(const char *s) { return !s || mosquitto_validate_utf8(s, (int)strlen(s)) == MOSQ_ERR_SUCCESS; }

/* Build the PUBLISH properties of @p p; IOTKIT_ERR_INVALID_ARG for one the
   protocol cannot carry (bad UTF-8, a response topic with wildcards, ...). */
static iotkit_err_t props_build(const iotkit_message_props_t *p, mosquitto_property **out) {
  mosquitto_property *l = NULL;
  int rc = MOSQ_ERR_SUCCESS;
  if (p->correlation_len > MQTT_BINARY_MAX || (p->correlation_len && !p->correlation_data) ||
      (p->n_user_props && !p->user_props) || (p->response_topic && !iotkit__topic_name_valid(p->response_topic)) ||
      !utf8_ok(p->content_type) || !utf8_ok(p->response_topic)) {
    return IOTKIT_ERR_INVALID_ARG;
  }
  if (p->content_type) rc = mosquitto_property_add_string(&l, MQTT_PROP_CONTENT_TYPE, p->content_type);
  if (rc == MOSQ_ERR_SUCCESS && p->response_topic)
    rc = mosquitto_property_add_string(&l, MQTT_PROP_RESPONSE_TOPIC, p->response_topic);
  if (rc == MOSQ_ERR_SUCCESS && p->correlation_data)
    rc = mosquitto_property_add_binary(&l, MQTT_PROP_CORRELATION_DATA, p->correlation_data,
                                       (uint16_t)p->correlation_len);
  if (rc == MOSQ_ERR_SUCCESS && p->expiry_s)
    rc = mosquitto_property_add_int32(&l, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL, p->expiry_s);
  for (size_t i = 0; rc == MOSQ_ERR_SUCCESS && i < p->n_user_props; i++) {
    const iotkit_user_property_t *u = &p->user_props[i];
    rc = (u->name && u->value && utf8_ok(u->name) && utf8_ok(u->value))
             ? mosquitto_property_add_string_pair(&l, MQTT_PROP_USER_PROPERTY, u->name, u->value)
                               : MOSQ_ERR_INVAL;
  }
  if (rc != MOSQ_ERR_SUCCESS) {
    mosquitto_property_free_all(&l);
    return rc == MOSQ_ERR_NOMEM ? IOTKIT_ERR_NOMEM : IOTKIT_ERR_INVALID_ARG;
  }
  *out = l;
  return IOTKIT_OK;
}

iotkit_err_t iotkit__transport_mqtt_send(void *ctx, const iotkit_message_t *msg, uint32_t *msg_id) {
  iotkit__mqtt_ctx_t *c = ctx;
  if (!c || !msg || !msg_id || !iotkit__topic_name_valid(msg->channel) || msg->qos < 0 || msg->qos > 2 ||
      (!msg->payload && msg->len)) {
    return IOTKIT_ERR_INVALID_ARG;
  }
  char detail[IOTKIT__TRANSPORT_ERR_MAX];
  if ((c->max_payload && msg->len > c->max_payload) || msg->len > 268435455u) {
    iotkit__fmt(detail, sizeof detail, "mqtt: payload of %zu bytes exceeds the limit of %zu", msg->len,
                c->max_payload && c->max_payload < 268435455u ? c->max_payload : (size_t)268435455u);
    iotkit__transport_mqtt_set_err(c, detail);
    return IOTKIT_ERR_TOO_LARGE;
  }
  mosquitto_property *props = NULL;
  if (msg->props && c->protocol == 5) {
    iotkit_err_t e = props_build(msg->props, &props);
    if (e != IOTKIT_OK) {
      iotkit__fmt(detail, sizeof detail, "mqtt: the MQTT 5 properties of a message on '%s' are invalid",
                  msg->channel);
      iotkit__transport_mqtt_set_err(c, detail);
      return e;
    }
  }
  if (iotkit__transport_mqtt_state(c) != IOTKIT__MQTT_UP) {
    mosquitto_property_free_all(&props);
    iotkit__transport_mqtt_set_err(c, "mqtt: send while not connected");
    return IOTKIT_ERR_NOT_CONNECTED;
  }
  int mid = 0;
  int rc = mosquitto_publish_v5(c->mosq, &mid, msg->channel, (int)msg->len, msg->payload, msg->qos, msg->retain,
                                props);
  mosquitto_property_free_all(&props);
  if (rc == MOSQ_ERR_SUCCESS) {
    *msg_id = (uint32_t)mid;
    iotkit__transport_mqtt_io_wake(c);
    return IOTKIT_OK;
  }
  iotkit__fmt(detail, sizeof detail, "mqtt: publish on '%s' failed: %s", msg->channel, mosquitto_strerror(rc));
  iotkit__transport_mqtt_set_err(c, detail);
  if (rc == MOSQ_ERR_NO_CONN) return IOTKIT_ERR_NOT_CONNECTED;
  if (rc == MOSQ_ERR_NOMEM) return IOTKIT_ERR_NOMEM;
  if (rc == MOSQ_ERR_PAYLOAD_SIZE || rc == MOSQ_ERR_OVERSIZE_PACKET) return IOTKIT_ERR_TOO_LARGE;
  if (rc == MOSQ_ERR_INVAL || rc == MOSQ_ERR_PROTOCOL || rc == MOSQ_ERR_MALFORMED_UTF8) return IOTKIT_ERR_INVALID_ARG;
  return IOTKIT_ERR_IO;
}

static iotkit_err_t map_queue_error(int rc) {
  return rc == MOSQ_ERR_NO_CONN ? IOTKIT_ERR_NOT_CONNECTED : rc == MOSQ_ERR_NOMEM ? IOTKIT_ERR_NOMEM : IOTKIT_ERR_IO;
}

iotkit_err_t iotkit__transport_mqtt_subscribe(void *ctx, const char *channel, int qos) {
  iotkit__mqtt_ctx_t *c = ctx;
  if (!c || !iotkit__topic_filter_valid(channel) || qos < 0 || qos > 2) return IOTKIT_ERR_INVALID_ARG;
  if (iotkit__transport_mqtt_state(c) != IOTKIT__MQTT_UP) {
    iotkit__transport_mqtt_set_err(c, "mqtt: subscribe while not connected");
    return IOTKIT_ERR_NOT_CONNECTED;
  }
  /* allocated first: once SUBSCRIBE is sent, its SUBACK must find the channel */
  iotkit__mqtt_pending_sub_t *pending = iotkit__transport_mqtt_sub_new(channel);
  if (!pending) return IOTKIT_ERR_NOMEM;
  int mid = 0;
  int rc = mosquitto_subscribe(c->mosq, &mid, channel, qos);
  if (rc == MOSQ_ERR_SUCCESS) {
    iotkit__transport_mqtt_sub_add(c, pending, mid);
    iotkit__transport_mqtt_io_wake(c);
    return IOTKIT_OK;
  }
  free(pending);
  char detail[IOTKIT__TRANSPORT_ERR_MAX];
  iotkit__fmt(detail, sizeof detail, "mqtt: subscribe to '%s' failed: %s", channel, mosquitto_strerror(rc));
  iotkit__transport_mqtt_set_err(c, detail);
  return map_queue_error(rc);
}

iotkit_err_t iotkit__transport_mqtt_unsubscribe(void *ctx, const char *channel) {
  iotkit__mqtt_ctx_t *c = ctx;
  if (!c || !iotkit__topic_filter_valid(channel)) return IOTKIT_ERR_INVALID_ARG;
  if (iotkit__transport_mqtt_state(c) != IOTKIT__MQTT_UP) {
    iotkit__transport_mqtt_set_err(c, "mqtt: unsubscribe while not connected");
    return IOTKIT_ERR_NOT_CONNECTED;
  }
  int rc = mosquitto_unsubscribe(c->mosq, NULL, channel);
  if (rc == MOSQ_ERR_SUCCESS) {
    iotkit__transport_mqtt_io_wake(c);
    return IOTKIT_OK;
  }
  char detail[IOTKIT__TRANSPORT_ERR_MAX];
  iotkit__fmt(detail, sizeof detail, "mqtt: unsubscribe from '%s' failed: %s", channel, mosquitto_strerror(rc));
  iotkit__transport_mqtt_set_err(c, detail);
  return map_queue_error(rc);
}

/* Decoded properties of one arriving message: the strings and arrays are
   libmosquitto's allocations, freed by props_release(). */
typedef struct {
  char *content_type;
  char *response_topic;
  void *correlation;
  uint16_t correlation_len;
  uint32_t expiry_s;
  size_t n_user;
  iotkit_user_property_t user[MQTT_USER_PROPS_MAX];
} decoded_props_t;

static void props_decode(iotkit__mqtt_ctx_t *c, const mosquitto_property *list, decoded_props_t *d) {
  size_t dropped = 0;
  for (const mosquitto_property *p = list; p; p = mosquitto_property_next(p)) {
    switch (mosquitto_property_identifier(p)) {
      case MQTT_PROP_CONTENT_TYPE:
        if (!d->content_type) mosquitto_property_read_string(p, MQTT_PROP_CONTENT_TYPE, &d->content_type, false);
        break;
      case MQTT_PROP_RESPONSE_TOPIC:
        if (!d->response_topic)
          mosquitto_property_read_string(p, MQTT_PROP_RESPONSE_TOPIC, &d->response_topic, false);
        break;
      case MQTT_PROP_CORRELATION_DATA:
        if (!d->correlation)
          mosquitto_property_read_binary(p, MQTT_PROP_CORRELATION_DATA, &d->correlation, &d->correlation_len, false);
        break;
      case MQTT_PROP_MESSAGE_EXPIRY_INTERVAL:
        mosquitto_property_read_int32(p, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL, &d->expiry_s, false);
        break;
      case MQTT_PROP_USER_PROPERTY: {
        if (d->n_user == MQTT_USER_PROPS_MAX) {
          dropped++;
          break;
        }
        char *name = NULL, *value = NULL;
        if (mosquitto_property_read_string_pair(p, MQTT_PROP_USER_PROPERTY, &name, &value, false) && name && value) {
          d->user[d->n_user].name = name;
          d->user[d->n_user].value = value;
          d->n_user++;
        } else {
          free(name);
          free(value);
        }
        break;
      }
      default:
        break; /* payload format, topic alias, subscription identifier: not exposed */
    }
  }
  if (dropped) {
    iotkit__transport_logf(c->hal, IOTKIT_LOG_DEBUG, "mqtt: %zu user properties beyond the first %d not delivered",
                           dropped, MQTT_USER_PROPS_MAX);
  }
}

static void props_release(decoded_props_t *d) {
  free(d->content_type);
  free(d->response_topic);
  free(d->correlation);
  for (size_t i = 0; i < d->n_user; i++) {
    free((char *)d->user[i].name);
    free((char *)d->user[i].value);
  }
}

void iotkit__transport_mqtt_on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *m,
                                       const mosquitto_property *props) {
  (void)mosq;
  iotkit__mqtt_ctx_t *c = obj;
  if (!c->ev.message_ex) {
    if (c->ev.message) c->ev.message(c->ev.user, m->topic, m->payload, (size_t)m->payloadlen);
    return;
  }
  decoded_props_t d;
  memset(&d, 0, sizeof d);
  props_decode(c, props, &d);
  iotkit_transport_msg_t msg = {
      .struct_size = sizeof msg,
      .channel = m->topic,
      .payload = m->payload,
      .len = (size_t)m->payloadlen,
      .qos = m->qos,
      .retain = m->retain,
      .props =
          {
              .content_type = d.content_type,
              .response_topic = d.response_topic,
              .correlation_data = d.correlation,
              .correlation_len = d.correlation_len,
              .expiry_s = d.expiry_s,
              .user_props = d.n_user ? d.user : NULL,
              .n_user_props = d.n_user,
          },
  };
  c->ev.message_ex(c->ev.user, &msg);
  props_release(&d);
}
