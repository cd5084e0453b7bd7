/* Records the events of a transport backend under test (see transport_rec.h). */
#include "transport_rec.h"

#include <stdio.h>
#include <string.h>

#include "net_util.h"

static void rec_connected(void *u) {
  transport_rec_t *r = u;
  pthread_mutex_lock(&r->lock);
  r->connected++;
  pthread_mutex_unlock(&r->lock);
}

static void rec_disconnected(void *u, iotkit_err_t reason, const char *detail) {
  transport_rec_t *r = u;
  pthread_mutex_lock(&r->lock);
  r->disconnected++;
  r->disc_reason = reason;
  snprintf(r->disc_detail, sizeof r->disc_detail, "%s", detail ? detail : "(null)");
  pthread_mutex_unlock(&r->lock);
}

static void rec_message(void *u, const char *channel, const void *payload, size_t len) {
  transport_rec_t *r = u;
  pthread_mutex_lock(&r->lock);
  r->messages++;
  snprintf(r->channel, sizeof r->channel, "%s", channel);
  r->len = len < sizeof r->payload ? len : sizeof r->payload;
  if (r->len) memcpy(r->payload, payload, r->len);
  pthread_mutex_unlock(&r->lock);
}

static void rec_message_ex(void *u, const iotkit_transport_msg_t *m) {
  transport_rec_t *r = u;
  rec_message(u, m->channel, m->payload, m->len);
  pthread_mutex_lock(&r->lock);
  r->ex_messages++;
  r->qos = m->qos;
  r->retain = m->retain;
  pthread_mutex_unlock(&r->lock);
}

static void rec_delivery(void *u, uint32_t id, iotkit_err_t status) {
  transport_rec_t *r = u;
  pthread_mutex_lock(&r->lock);
  if (r->deliveries < TRANSPORT_REC_MAX) {
    r->ids[r->deliveries] = id;
    r->statuses[r->deliveries] = status;
  }
  r->deliveries++;
  pthread_mutex_unlock(&r->lock);
}

void transport_rec_init(transport_rec_t *rec) {
  memset(rec, 0, sizeof *rec);
  pthread_mutex_init(&rec->lock, NULL);
}

iotkit_transport_events_t transport_rec_events(transport_rec_t *rec) {
  return (iotkit_transport_events_t){.struct_size = sizeof(iotkit_transport_events_t),
                                     .user = rec,
                                     .connected = rec_connected,
                                     .disconnected = rec_disconnected,
                                     .message = rec_message,
                                     .delivery = rec_delivery};
}

iotkit_transport_events_t transport_rec_events_ex(transport_rec_t *rec) {
  iotkit_transport_events_t ev = transport_rec_events(rec);
  ev.message_ex = rec_message_ex;
  return ev;
}

int transport_rec_read(transport_rec_t *rec, const int *counter) {
  pthread_mutex_lock(&rec->lock);
  int v = *counter;
  pthread_mutex_unlock(&rec->lock);
  return v;
}

bool transport_rec_wait(transport_rec_t *rec, const iotkit_transport_ops_t *ops, void *ctx, const int *counter,
                        int want, int limit_ms) {
  uint64_t end = test_now_ms() + (uint64_t)limit_ms;
  while (transport_rec_read(rec, counter) < want) {
    if (test_now_ms() >= end) return false;
    if (ops->poll(ctx, 20) != IOTKIT_OK) return false;
  }
  return true;
}

int transport_rec_status(transport_rec_t *rec, uint32_t id) {
  int status = 1;
  pthread_mutex_lock(&rec->lock);
  for (int i = 0; i < rec->deliveries && i < TRANSPORT_REC_MAX; i++) {
    if (rec->ids[i] == id) status = rec->statuses[i];
  }
  pthread_mutex_unlock(&rec->lock);
  return status;
}
