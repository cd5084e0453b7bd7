/* An independent MQTT client for integration tests (see mqtt_peer.h). */
#ifdef IOTKIT_WITH_MQTT /* built without MQTT: the peer does not exist */
#include "mqtt_peer.h"

#include <errno.h>
#include <mosquitto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct mqtt_peer {
  struct mosquitto *mosq;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  bool connected;
  int connack_rc;
  bool subscribed;
  unsigned char published[65536 / 8]; /* bit per mid confirmed by on_publish */
  mqtt_peer_msg_t **msgs;
  size_t count;
  size_t cap;
};

static void peer_on_connect(struct mosquitto *m, void *obj, int rc) {
  (void)m;
  mqtt_peer_t *p = obj;
  pthread_mutex_lock(&p->lock);
  p->connected = rc == 0;
  p->connack_rc = rc;
  pthread_cond_broadcast(&p->cond);
  pthread_mutex_unlock(&p->lock);
}

static void peer_on_subscribe(struct mosquitto *m, void *obj, int mid, int n, const int *granted) {
  (void)m, (void)mid, (void)n, (void)granted;
  mqtt_peer_t *p = obj;
  pthread_mutex_lock(&p->lock);
  p->subscribed = true;
  pthread_cond_broadcast(&p->cond);
  pthread_mutex_unlock(&p->lock);
}

static void peer_on_publish(struct mosquitto *m, void *obj, int mid) {
  (void)m;
  mqtt_peer_t *p = obj;
  pthread_mutex_lock(&p->lock);
  p->published[(unsigned)mid / 8 % sizeof p->published] |= (unsigned char)(1u << (mid % 8));
  pthread_cond_broadcast(&p->cond);
  pthread_mutex_unlock(&p->lock);
}

static void peer_on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg) {
  (void)m;
  mqtt_peer_t *p = obj;
  mqtt_peer_msg_t *copy = calloc(1, sizeof *copy);
  if (!copy) return;
  copy->topic = strdup(msg->topic);
  copy->payload = malloc((size_t)msg->payloadlen + 1);
  if (!copy->topic || !copy->payload) {
    free(copy->topic);
    free(copy->payload);
    free(copy);
    return;
  }
  memcpy(copy->payload, msg->payload, (size_t)msg->payloadlen);
  ((char *)copy->payload)[msg->payloadlen] = '\0';
  copy->len = (size_t)msg->payloadlen;
  copy->qos = msg->qos;
  copy->retain = msg->retain;
  pthread_mutex_lock(&p->lock);
  if (p->count == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 16;
    mqtt_peer_msg_t **grown = realloc(p->msgs, cap * sizeof *grown);
    if (grown) {
      p->msgs = grown;
      p->cap = cap;
    }
  }
  if (p->count < p->cap) {
    p->msgs[p->count++] = copy;
    copy = NULL;
  }
  pthread_cond_broadcast(&p->cond);
  pthread_mutex_unlock(&p->lock);
  if (copy) {
    free(copy->topic);
    free(copy->payload);
    free(copy);
  }
}

static struct timespec deadline_in(int timeout_ms) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += timeout_ms / 1000;
  ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  return ts;
}

/* Wait on the condition until *flag is true; the lock is held. */
static bool wait_flag(mqtt_peer_t *p, const bool *flag, int timeout_ms) {
  struct timespec dl = deadline_in(timeout_ms);
  while (!*flag) {
    if (pthread_cond_timedwait(&p->cond, &p->lock, &dl) == ETIMEDOUT) return *flag;
  }
  return true;
}

static bool peer_start(mqtt_peer_t *p, const mqtt_peer_opts_t *o) {
  mosquitto_int_option(p->mosq, MOSQ_OPT_PROTOCOL_VERSION, o->protocol_version == 5 ? MQTT_PROTOCOL_V5
                                                                                    : MQTT_PROTOCOL_V311);
  if ((o->username || o->password) && mosquitto_username_pw_set(p->mosq, o->username, o->password)) return false;
  if (o->cafile && mosquitto_tls_set(p->mosq, o->cafile, NULL, o->certfile, o->keyfile, NULL) != MOSQ_ERR_SUCCESS) {
    fprintf(stderr, "mqtt_peer: bad TLS files (%s, %s, %s)\n", o->cafile, o->certfile ? o->certfile : "-",
            o->keyfile ? o->keyfile : "-");
    return false;
  }
  mosquitto_connect_callback_set(p->mosq, peer_on_connect);
  mosquitto_subscribe_callback_set(p->mosq, peer_on_subscribe);
  mosquitto_publish_callback_set(p->mosq, peer_on_publish);
  mosquitto_message_callback_set(p->mosq, peer_on_message);
  int rc = mosquitto_connect(p->mosq, "127.0.0.1", o->port, 30);
  if (rc != MOSQ_ERR_SUCCESS) {
    fprintf(stderr, "mqtt_peer: connect to port %u: %s\n", o->port, mosquitto_strerror(rc));
    return false;
  }
  if (mosquitto_loop_start(p->mosq) != MOSQ_ERR_SUCCESS) return false;
  pthread_mutex_lock(&p->lock);
  bool ok = wait_flag(p, &p->connected, 5000);
  pthread_mutex_unlock(&p->lock);
  if (!ok) {
    fprintf(stderr, "mqtt_peer: no successful CONNACK (code %d)\n", p->connack_rc);
    return false;
  }
  if (!o->topic) return true;
  if (mosquitto_subscribe(p->mosq, NULL, o->topic, o->qos) != MOSQ_ERR_SUCCESS) return false;
  pthread_mutex_lock(&p->lock);
  ok = wait_flag(p, &p->subscribed, 5000);
  pthread_mutex_unlock(&p->lock);
  if (!ok) fprintf(stderr, "mqtt_peer: no SUBACK for %s\n", o->topic);
  return ok;
}

mqtt_peer_t *mqtt_peer_new(const mqtt_peer_opts_t *opts) {
  if (!opts || !opts->port) return NULL;
  mosquitto_lib_init(); /* reference counted by libmosquitto */
  mqtt_peer_t *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  pthread_mutex_init(&p->lock, NULL);
  pthread_cond_init(&p->cond, NULL);
  p->connack_rc = -1;
  p->mosq = mosquitto_new(opts->client_id, !(opts->persistent && opts->client_id), p);
  if (!p->mosq || !peer_start(p, opts)) {
    mqtt_peer_free(p);
    return NULL;
  }
  return p;
}

bool mqtt_peer_wait(mqtt_peer_t *p, size_t n, int timeout_ms) {
  if (!p) return false;
  struct timespec dl = deadline_in(timeout_ms);
  pthread_mutex_lock(&p->lock);
  while (p->count < n && pthread_cond_timedwait(&p->cond, &p->lock, &dl) != ETIMEDOUT) {
  }
  bool ok = p->count >= n;
  pthread_mutex_unlock(&p->lock);
  return ok;
}

size_t mqtt_peer_count(mqtt_peer_t *p) {
  if (!p) return 0;
  pthread_mutex_lock(&p->lock);
  size_t n = p->count;
  pthread_mutex_unlock(&p->lock);
  return n;
}

const mqtt_peer_msg_t *mqtt_peer_get(mqtt_peer_t *p, size_t i) {
  if (!p) return NULL;
  pthread_mutex_lock(&p->lock);
  const mqtt_peer_msg_t *m = i < p->count ? p->msgs[i] : NULL;
  pthread_mutex_unlock(&p->lock);
  return m;
}

bool mqtt_peer_publish(mqtt_peer_t *p, const char *topic, const void *payload, size_t len, int qos, bool retain) {
  if (!p) return false;
  int mid = 0;
  /* Not under p->lock: libmosquitto may hold its own locks while calling on_publish. */
  if (mosquitto_publish(p->mosq, &mid, topic, (int)len, payload, qos, retain) != MOSQ_ERR_SUCCESS) return false;
  unsigned idx = (unsigned)mid / 8 % sizeof p->published;
  unsigned char bit = (unsigned char)(1u << (mid % 8));
  struct timespec dl = deadline_in(5000);
  pthread_mutex_lock(&p->lock);
  while (!(p->published[idx] & bit)) {
    if (pthread_cond_timedwait(&p->cond, &p->lock, &dl) == ETIMEDOUT) break;
  }
  bool ok = (p->published[idx] & bit) != 0;
  p->published[idx] &= (unsigned char)~bit;
  pthread_mutex_unlock(&p->lock);
  return ok;
}

void mqtt_peer_free(mqtt_peer_t *p) {
  if (!p) return;
  if (p->mosq) {
    mosquitto_disconnect(p->mosq);
    mosquitto_loop_stop(p->mosq, false);
    mosquitto_destroy(p->mosq);
  }
  for (size_t i = 0; i < p->count; i++) {
    free(p->msgs[i]->topic);
    free(p->msgs[i]->payload);
    free(p->msgs[i]);
  }
  free(p->msgs);
  pthread_cond_destroy(&p->cond);
  pthread_mutex_destroy(&p->lock);
  free(p);
  mosquitto_lib_cleanup();
}
#endif /* IOTKIT_WITH_MQTT */
