/* The MQTT side: one libmosquitto client with its own network thread
 * (mosquitto_loop_start), which reconnects by itself. Device messages are
 * published from the main thread (libmosquitto's publish is thread-safe);
 * what the hub subscribes to (<prefix>/+/<channel> for the retained channels
 * of retained.c and for commands/request) is queued by the network thread and handed to
 * the devices by hub_mqtt_drain() in the main thread, woken through a pipe.
 *
 * A device hears "accepted" (204, 2.01/2.04) as soon as libmosquitto has queued its
 * message, so a stop must not drop that queue: hub_mqtt_stop() first waits, up to
 * HUB_MQTT_FLUSH_MS, until the broker has acknowledged every message published (its
 * PUBACK, on_publish), and only then disconnects. Disconnecting earlier is not safe
 * with libmosquitto 2.0: mosquitto_disconnect() leaves the "active" state at once, and
 * a PUBACK that arrives before the DISCONNECT is written is taken as a protocol error
 * by the network thread, which closes the socket with the queued PUBLISH packets and
 * the DISCONNECT still unwritten. */
#include <errno.h>
#include <fcntl.h>
#include <mosquitto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hub.h"
#include "iotkit/transport.h"

/* Longest a stop waits for the broker's acknowledgements of what was published. */
#ifndef HUB_MQTT_FLUSH_MS
#define HUB_MQTT_FLUSH_MS 10000
#endif

typedef struct inbound {
  struct inbound *next;
  char *topic;
  size_t len;
  char payload[];
} inbound_t;

struct hub_mqtt {
  struct mosquitto *mosq;
  pthread_mutex_t lock; /* guards the fields below */
  inbound_t *head, *tail;
  bool connected;
  bool subscribed; /* once, ever: the hub is ready */
  unsigned long unacked; /* published, not yet acknowledged by the broker (on_publish) */
  pthread_cond_t acked;  /* signalled when unacked goes down (CLOCK_MONOTONIC) */
  int pipe[2];
  char host[256];
  int port;
};

/* Wake the main thread (a full pipe already wakes it). */
static void wake(struct hub_mqtt *m) {
  char one = 1;
  ssize_t w = write(m->pipe[1], &one, 1);
  (void)w;
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc) {
  hub_t *hub = obj;
  struct hub_mqtt *m = hub->mqtt;
  if (rc != 0) {
    hub_log(HUB_LOG_WARN, "MQTT: %s:%d refused the connection: %s", m->host, m->port, mosquitto_connack_string(rc));
    return;
  }
  char filters[HUB_RET_COUNT + 1][512];
  char *topics[HUB_RET_COUNT + 1];
  for (int i = 0; i <= HUB_RET_COUNT; i++) {
    const char *name = i < HUB_RET_COUNT ? hub_retained_name((hub_ret_t)i) : HUB_CMD_REQUEST;
    if (iotkit_protocol_filter(hub->cfg.prefix, NULL, name, filters[i], sizeof filters[i]) != IOTKIT_OK)
      filters[i][0] = '\0'; /* cannot happen: the prefix was checked by the configuration */
    topics[i] = filters[i];
  }
  pthread_mutex_lock(&m->lock);
  m->connected = true;
  pthread_mutex_unlock(&m->lock);
  hub_log(HUB_LOG_INFO, "MQTT: connected to %s:%d", m->host, m->port);
  int err = mosquitto_subscribe_multiple(mosq, NULL, HUB_RET_COUNT + 1, topics, 1, 0, NULL);
  if (err != MOSQ_ERR_SUCCESS) hub_log(HUB_LOG_ERROR, "MQTT: subscribe failed: %s", mosquitto_strerror(err));
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int count, const int *granted) {
  (void)mosq;
  (void)mid;
  hub_t *hub = obj;
  for (int i = 0; i < count; i++) {
    if (granted[i] > 2) hub_log(HUB_LOG_ERROR, "MQTT: the broker refused a subscription of the hub");
  }
  pthread_mutex_lock(&hub->mqtt->lock);
  hub->mqtt->subscribed = true;
  pthread_mutex_unlock(&hub->mqtt->lock);
  wake(hub->mqtt);
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc) {
  (void)mosq;
  hub_t *hub = obj;
  pthread_mutex_lock(&hub->mqtt->lock);
  hub->mqtt->connected = false;
  pthread_mutex_unlock(&hub->mqtt->lock);
  if (rc != 0) hub_log(HUB_LOG_WARN, "MQTT: connection to the broker lost; reconnecting");
}

/* The broker has the message (QoS 1: its PUBACK; QoS 0: written to the socket). */
static void on_publish(struct mosquitto *mosq, void *obj, int mid) {
  (void)mosq;
  (void)mid;
  hub_t *hub = obj;
  pthread_mutex_lock(&hub->mqtt->lock);
  if (hub->mqtt->unacked) hub->mqtt->unacked--;
  pthread_cond_broadcast(&hub->mqtt->acked);
  pthread_mutex_unlock(&hub->mqtt->lock);
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg) {
  (void)mosq;
  hub_t *hub = obj;
  struct hub_mqtt *m = hub->mqtt;
  size_t len = msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0;
  inbound_t *in = malloc(sizeof *in + len + 1);
  if (!in || !(in->topic = strdup(msg->topic))) {
    free(in);
    hub_log(HUB_LOG_ERROR, "MQTT: out of memory: dropped a message on %s", msg->topic);
    return;
  }
  in->next = NULL;
  in->len = len;
  if (len) memcpy(in->payload, msg->payload, len);
  in->payload[len] = '\0';
  pthread_mutex_lock(&m->lock);
  if (m->tail) {
    m->tail->next = in;
  } else {
    m->head = in;
  }
  m->tail = in;
  pthread_mutex_unlock(&m->lock);
  wake(m);
}

static void on_log(struct mosquitto *mosq, void *obj, int level, const char *str) {
  (void)mosq;
  (void)obj;
  if (level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING)) {
    hub_log(HUB_LOG_DEBUG, "libmosquitto: %s", str);
  }
}

bool hub_mqtt_start(hub_t *hub) {
  iotkit_uri_t uri;
  if (iotkit_uri_parse(hub->cfg.mqtt_uri, &uri) != IOTKIT_OK || strcmp(uri.scheme, "mqtt") != 0) {
    hub_log(HUB_LOG_ERROR, "--mqtt-uri %s: expected mqtt://[user:password@]host[:port]", hub->cfg.mqtt_uri);
    iotkit_uri_clear(&uri);
    return false;
  }
  struct hub_mqtt *m = calloc(1, sizeof *m);
  if (!m) {
    iotkit_uri_clear(&uri);
    return false;
  }
  hub->mqtt = m;
  pthread_mutex_init(&m->lock, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&m->acked, &ca);
  pthread_condattr_destroy(&ca);
  m->pipe[0] = m->pipe[1] = -1;
  snprintf(m->host, sizeof m->host, "%s", uri.host);
  m->port = uri.port;
  bool ok = pipe(m->pipe) == 0 && fcntl(m->pipe[0], F_SETFL, O_NONBLOCK) == 0 &&
            fcntl(m->pipe[1], F_SETFL, O_NONBLOCK) == 0;
  mosquitto_lib_init();
  if (ok) m->mosq = mosquitto_new(hub->cfg.client_id, true, hub);
  ok = ok && m->mosq;
  if (ok && uri.user) ok = mosquitto_username_pw_set(m->mosq, uri.user, uri.password) == MOSQ_ERR_SUCCESS;
  iotkit_uri_clear(&uri);
  if (!ok) {
    hub_log(HUB_LOG_ERROR, "MQTT: cannot set up the client");
    return false;
  }
  mosquitto_connect_callback_set(m->mosq, on_connect);
  mosquitto_disconnect_callback_set(m->mosq, on_disconnect);
  mosquitto_subscribe_callback_set(m->mosq, on_subscribe);
  mosquitto_publish_callback_set(m->mosq, on_publish);
  mosquitto_message_callback_set(m->mosq, on_message);
  mosquitto_log_callback_set(m->mosq, on_log);
  mosquitto_reconnect_delay_set(m->mosq, 1, 30, true);
  mosquitto_max_inflight_messages_set(m->mosq, 1000);
  int err = mosquitto_connect_async(m->mosq, m->host, m->port, 30);
  if (err != MOSQ_ERR_SUCCESS) {
    hub_log(HUB_LOG_WARN, "MQTT: %s:%d: %s; retrying", m->host, m->port, mosquitto_strerror(err));
  }
  err = mosquitto_loop_start(m->mosq);
  if (err != MOSQ_ERR_SUCCESS) {
    hub_log(HUB_LOG_ERROR, "MQTT: cannot start the network thread: %s", mosquitto_strerror(err));
    return false;
  }
  return true;
}

bool hub_mqtt_publish(hub_t *hub, const char *topic, const void *payload, size_t len, int qos, bool retain) {
  struct hub_mqtt *m = hub->mqtt;
  if (!m || !m->mosq) return false;
  pthread_mutex_lock(&m->lock);
  bool up = m->connected;
  if (up) m->unacked++; /* before the publish: its acknowledgement may come first */
  pthread_mutex_unlock(&m->lock);
  if (!up) return false;
  int err = mosquitto_publish(m->mosq, NULL, topic, (int)len, payload, qos, retain);
  if (err != MOSQ_ERR_SUCCESS) {
    pthread_mutex_lock(&m->lock);
    if (m->unacked) m->unacked--;
    pthread_mutex_unlock(&m->lock);
    hub_log(HUB_LOG_WARN, "MQTT: publish on %s failed: %s", topic, mosquitto_strerror(err));
    return false;
  }
  return true;
}

bool hub_mqtt_ready(hub_t *hub) {
  struct hub_mqtt *m = hub->mqtt;
  if (!m) return false;
  pthread_mutex_lock(&m->lock);
  bool ready = m->connected && m->subscribed;
  pthread_mutex_unlock(&m->lock);
  return ready;
}

int hub_mqtt_wake_fd(hub_t *hub) { return hub->mqtt ? hub->mqtt->pipe[0] : -1; }

/* "<prefix>/<id>/<name>": the device and the name, or false. */
static hub_device_t *device_of(hub_t *hub, const char *topic, const char **name) {
  if (iotkit_protocol_topic_parse(hub->cfg.prefix, topic, NULL, 0, name, NULL) != IOTKIT_OK) return NULL;
  const char *id = topic + strlen(hub->cfg.prefix) + 1;
  const char *slash = *name - 1;
  hub_device_t *d = hub_device_find(hub, id, (size_t)(slash - id));
  if (!d && hub->cfg.allow_insecure_coap) {
    /* Plain coap:// devices need not be listed: keep what comes for any id. */
    d = hub_device_get(hub, id, (size_t)(slash - id));
    if (d && !hub_coap_add_device(hub, d)) d = NULL;
  }
  return d;
}

void hub_mqtt_drain(hub_t *hub) {
  struct hub_mqtt *m = hub->mqtt;
  if (!m) return;
  char buf[256];
  while (read(m->pipe[0], buf, sizeof buf) > 0) {
  }
  pthread_mutex_lock(&m->lock);
  inbound_t *list = m->head;
  m->head = m->tail = NULL;
  pthread_mutex_unlock(&m->lock);
  while (list) {
    inbound_t *in = list;
    list = in->next;
    const char *name = NULL;
    hub_device_t *d = device_of(hub, in->topic, &name);
    int retained = d ? hub_retained_find(name) : -1;
    if (!d) {
      hub_log(HUB_LOG_DEBUG, "MQTT: %s is not for a device of this hub: ignored", in->topic);
    } else if (retained >= 0) {
      hub_device_set_retained(hub, d, (hub_ret_t)retained, in->payload, in->len);
    } else if (strcmp(name, HUB_CMD_REQUEST) == 0 && in->len > 0) {
      hub_device_push_command(hub, d, in->payload, in->len);
    }
    free(in->topic);
    free(in);
  }
}

/* Wait until the broker has acknowledged everything published, at most HUB_MQTT_FLUSH_MS
   (the network thread keeps working meanwhile, reconnecting and re-sending if it must). */
static void flush(struct hub_mqtt *m) {
  struct timespec dl;
  clock_gettime(CLOCK_MONOTONIC, &dl);
  dl.tv_sec += HUB_MQTT_FLUSH_MS / 1000;
  dl.tv_nsec += (long)(HUB_MQTT_FLUSH_MS % 1000) * 1000000L;
  if (dl.tv_nsec >= 1000000000L) {
    dl.tv_sec++;
    dl.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&m->lock);
  if (m->unacked)
    hub_log(HUB_LOG_INFO, "MQTT: waiting for the broker to acknowledge %lu message(s)", m->unacked);
  while (m->unacked && pthread_cond_timedwait(&m->acked, &m->lock, &dl) == 0) {
  }
  if (m->unacked)
    hub_log(HUB_LOG_WARN, "MQTT: %lu message(s) not acknowledged by the broker within %u ms: they may be lost",
            m->unacked, (unsigned)HUB_MQTT_FLUSH_MS);
  pthread_mutex_unlock(&m->lock);
}

void hub_mqtt_stop(hub_t *hub) {
  struct hub_mqtt *m = hub->mqtt;
  if (!m) return;
  if (m->mosq) {
    flush(m);
    mosquitto_disconnect(m->mosq);
    mosquitto_loop_stop(m->mosq, false);
    mosquitto_destroy(m->mosq);
  }
  while (m->head) {
    inbound_t *in = m->head;
    m->head = in->next;
    free(in->topic);
    free(in);
  }
  if (m->pipe[0] >= 0) close(m->pipe[0]);
  if (m->pipe[1] >= 0) close(m->pipe[1]);
  pthread_cond_destroy(&m->acked);
  pthread_mutex_destroy(&m->lock);
  free(m);
  hub->mqtt = NULL;
  mosquitto_lib_cleanup();
}
