/* A transport backend context under test with recorded events (see transport_client.h). */
#include "transport_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_util.h"

#define WAIT_MS 10000

static void on_connected(void *u) {
  tclient_t *c = u;
  pthread_mutex_lock(&c->lock);
  c->connected++;
  pthread_mutex_unlock(&c->lock);
}

static void on_disconnected(void *u, iotkit_err_t reason, const char *detail) {
  tclient_t *c = u;
  pthread_mutex_lock(&c->lock);
  c->disconnected++;
  c->disc_reason = reason;
  snprintf(c->disc_detail, sizeof c->disc_detail, "%s", detail);
  pthread_mutex_unlock(&c->lock);
}

static void on_message(void *u, const char *channel, const void *payload, size_t len) {
  tclient_t *c = u;
  pthread_mutex_lock(&c->lock);
  if (c->messages < TCLIENT_MAX_EVENTS) {
    tclient_msg_t *m = &c->msgs[c->messages];
    snprintf(m->channel, sizeof m->channel, "%s", channel);
    size_t n = len < sizeof m->payload - 1 ? len : sizeof m->payload - 1;
    if (n) memcpy(m->payload, payload, n); /* an empty message may come with no buffer */
    m->payload[n] = '\0';
    m->len = len;
  }
  c->messages++;
  pthread_mutex_unlock(&c->lock);
}

static void copy_str(char *dst, size_t cap, const char *src) { snprintf(dst, cap, "%s", src ? src : ""); }

static void on_message_ex(void *u, const iotkit_transport_msg_t *msg) {
  tclient_t *c = u;
  on_message(u, msg->channel, msg->payload, msg->len);
  pthread_mutex_lock(&c->lock);
  if (c->messages <= TCLIENT_MAX_EVENTS) {
    tclient_msg_t *m = &c->msgs[c->messages - 1];
    const iotkit_message_props_t *p = &msg->props;
    m->qos = msg->qos;
    m->retain = msg->retain;
    copy_str(m->content_type, sizeof m->content_type, p->content_type);
    copy_str(m->response_topic, sizeof m->response_topic, p->response_topic);
    size_t n = p->correlation_len < sizeof m->correlation - 1 ? p->correlation_len : sizeof m->correlation - 1;
    if (n) memcpy(m->correlation, p->correlation_data, n);
    m->correlation[n] = '\0';
    m->correlation_len = p->correlation_len;
    m->expiry_s = p->expiry_s;
    m->n_user_props = p->n_user_props;
    m->user_props[0] = '\0';
    for (size_t i = 0; i < p->n_user_props; i++) {
      size_t used = strlen(m->user_props);
      snprintf(m->user_props + used, sizeof m->user_props - used, "%s=%s;", p->user_props[i].name,
               p->user_props[i].value);
    }
  }
  pthread_mutex_unlock(&c->lock);
}

static void on_delivery(void *u, uint32_t id, iotkit_err_t status) {
  tclient_t *c = u;
  pthread_mutex_lock(&c->lock);
  if (c->deliveries < TCLIENT_MAX_EVENTS) {
    c->ids[c->deliveries] = id;
    c->statuses[c->deliveries] = status;
  }
  c->deliveries++;
  pthread_mutex_unlock(&c->lock);
}

static void on_subscribed(void *u, const char *channel, iotkit_err_t status) {
  tclient_t *c = u;
  pthread_mutex_lock(&c->lock);
  if (c->subscribed < TCLIENT_MAX_EVENTS) {
    snprintf(c->sub_channels[c->subscribed], sizeof c->sub_channels[0], "%s", channel);
    c->sub_statuses[c->subscribed] = status;
  }
  c->subscribed++;
  pthread_mutex_unlock(&c->lock);
}

tclient_t *tclient_new(const tclient_opts_t *o) {
  tclient_t *c = o && o->uri ? calloc(1, sizeof *c) : NULL;
  if (!c) return NULL;
  pthread_mutex_init(&c->lock, NULL);
  c->ops = o->ops ? o->ops : iotkit_transport_mqtt();
  c->th = test_hal_new();
  if (!c->ops || !c->th || iotkit_uri_parse(o->uri, &c->uri) != IOTKIT_OK) {
    fprintf(stderr, "tclient: no backend, HAL or URI (%s)\n", o->uri);
    tclient_free(c);
    return NULL;
  }
  iotkit_transport_config_t cfg;
  iotkit_transport_config_init(&cfg);
  cfg.uri = &c->uri;
  cfg.hal = test_hal_get(c->th);
  cfg.client_id = o->client_id ? o->client_id : "dev-1";
  cfg.username = o->username;
  cfg.password = o->password;
  cfg.keepalive_s = 30;
  cfg.protocol_version = o->protocol ? o->protocol : 311;
  cfg.connect_timeout_ms = o->connect_timeout_ms ? o->connect_timeout_ms : WAIT_MS;
  cfg.max_payload = 0; /* no limit: the tests judge sizes themselves */
  cfg.tls = o->tls;
  iotkit_transport_events_t ev = {.struct_size = sizeof ev, .user = c, .connected = on_connected, .disconnected = on_disconnected,
                                  .message = on_message, .delivery = on_delivery, .subscribed = on_subscribed,
                                  .message_ex = o->message_ex ? on_message_ex : NULL};
  iotkit_err_t rc = c->ops->create(&cfg, &ev, &c->ctx);
  if (rc != IOTKIT_OK) {
    fprintf(stderr, "tclient: create failed: %s\n", iotkit_err_name(rc));
    tclient_free(c);
    return NULL;
  }
  return c;
}

static int read_counter(tclient_t *c, const int *counter) {
  pthread_mutex_lock(&c->lock);
  int v = *counter;
  pthread_mutex_unlock(&c->lock);
  return v;
}

bool tclient_poll_until(tclient_t *c, const int *counter, int want) {
  uint64_t end = test_now_ms() + WAIT_MS;
  while (read_counter(c, counter) < want) {
    if (test_now_ms() >= end || c->ops->poll(c->ctx, 50) != IOTKIT_OK) return false;
  }
  return true;
}

iotkit_err_t tclient_connect(tclient_t *c) {
  int connected = read_counter(c, &c->connected), disconnected = read_counter(c, &c->disconnected);
  iotkit_err_t rc = c->ops->connect(c->ctx);
  if (rc != IOTKIT_OK) return rc;
  uint64_t end = test_now_ms() + WAIT_MS;
  while (test_now_ms() < end) {
    if (read_counter(c, &c->connected) > connected) return IOTKIT_OK;
    if (read_counter(c, &c->disconnected) > disconnected) return c->disc_reason;
    c->ops->poll(c->ctx, 50);
  }
  return IOTKIT_ERR_TIMEOUT;
}

iotkit_err_t tclient_send(tclient_t *c, const char *channel, const char *payload, size_t len, int qos,
                          uint32_t *id) {
  iotkit_message_t m = {.channel = channel, .payload = payload, .len = len, .qos = qos};
  return c->ops->send(c->ctx, &m, id);
}

iotkit_err_t tclient_wait_delivery(tclient_t *c, uint32_t id) {
  uint64_t end = test_now_ms() + WAIT_MS;
  int seen = 0;
  while (test_now_ms() < end) {
    pthread_mutex_lock(&c->lock);
    for (; seen < c->deliveries && seen < TCLIENT_MAX_EVENTS; seen++) {
      if (c->ids[seen] == id) {
        iotkit_err_t status = c->statuses[seen];
        pthread_mutex_unlock(&c->lock);
        return status;
      }
    }
    pthread_mutex_unlock(&c->lock);
    c->ops->poll(c->ctx, 50);
  }
  return IOTKIT_ERR_TIMEOUT;
}

iotkit_err_t tclient_subscribe(tclient_t *c, const char *channel, int qos) {
  int before = read_counter(c, &c->subscribed);
  iotkit_err_t rc = c->ops->subscribe(c->ctx, channel, qos);
  if (rc != IOTKIT_OK) return rc;
  if (!tclient_poll_until(c, &c->subscribed, before + 1) || before >= TCLIENT_MAX_EVENTS) return IOTKIT_ERR_TIMEOUT;
  pthread_mutex_lock(&c->lock);
  rc = strcmp(c->sub_channels[before], channel) == 0 ? c->sub_statuses[before] : IOTKIT_ERR_INTERNAL;
  pthread_mutex_unlock(&c->lock);
  return rc;
}

int tclient_count_prefix(tclient_t *c, const char *prefix) {
  int n = 0;
  pthread_mutex_lock(&c->lock);
  for (int i = 0; i < c->messages && i < TCLIENT_MAX_EVENTS; i++) {
    n += strncmp(c->msgs[i].channel, prefix, strlen(prefix)) == 0;
  }
  pthread_mutex_unlock(&c->lock);
  return n;
}

const char *tclient_last_error(tclient_t *c) { return c && c->ctx ? c->ops->last_error(c->ctx) : ""; }

void tclient_free(tclient_t *c) {
  if (!c) return;
  if (c->ctx) c->ops->destroy(c->ctx);
  iotkit_uri_clear(&c->uri);
  test_hal_free(c->th);
  pthread_mutex_destroy(&c->lock);
  free(c);
}
