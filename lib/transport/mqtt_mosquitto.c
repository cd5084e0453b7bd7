/* The MQTT backend on libmosquitto 2.0 (schemes mqtt, mqtts).
 *
 * Driving: connect() starts a non-blocking TCP connection with
 * mosquitto_connect_async() (the host name is still resolved synchronously
 * by getaddrinfo inside libmosquitto) and queues CONNECT; poll() waits on the
 * context's epoll set (mqtt_io.c) and runs mosquitto_loop_read/_write/_misc,
 * never mosquitto_loop() (select(): no descriptors >= 1024). Every event
 * comes from the libmosquitto callbacks inside those, in the polling thread.
 * The whole attempt (TCP, TLS, CONNACK) is bounded by connect_timeout_ms. The
 * handle is marked threaded, so send() (mosquitto_publish) may run in another
 * thread while poll() runs; it wakes the epoll set so the packet goes out on
 * the next poll().
 *
 * destroy() drops the socket without a DISCONNECT packet: the broker then
 * publishes the last will. Call disconnect() first for a clean goodbye.
 */
#include "transport/mqtt_mosquitto.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "transport/topic.h"

typedef iotkit__mqtt_ctx_t mqtt_ctx_t;
typedef iotkit__mqtt_state_t mqtt_state_t;

/* libmosquitto needs one process-wide mosquitto_lib_init() (it initialises
   OpenSSL and its random source). A pthread_once is the only global state of
   the backend; mosquitto_lib_cleanup() is never called because the library
   cannot know when the last user anywhere in the process has gone. */
static pthread_once_t g_mosq_once = PTHREAD_ONCE_INIT;
static void mosq_init_once(void) { mosquitto_lib_init(); }

void iotkit__transport_mqtt_set_err(mqtt_ctx_t *c, const char *text) {
  iotkit__transport_lock_acquire(&c->lock);
  iotkit__fmt(c->err, sizeof c->err, "%s", text);
  iotkit__transport_lock_release(&c->lock);
}

static void set_state(mqtt_ctx_t *c, mqtt_state_t st) {
  iotkit__transport_lock_acquire(&c->lock);
  c->state = st;
  if (st == IOTKIT__MQTT_DOWN || st == IOTKIT__MQTT_UP) c->settling = false;
  iotkit__transport_lock_release(&c->lock);
}

mqtt_state_t iotkit__transport_mqtt_state(mqtt_ctx_t *c) {
  iotkit__transport_lock_acquire(&c->lock);
  mqtt_state_t st = c->state;
  iotkit__transport_lock_release(&c->lock);
  return st;
}

/* Report the end of a session (or of a connect attempt) once. */
static void report_down(mqtt_ctx_t *c, iotkit_err_t reason, const char *detail) {
  set_state(c, IOTKIT__MQTT_DOWN);
  if (reason != IOTKIT_OK) {
    iotkit__transport_mqtt_set_err(c, detail);
    iotkit__transport_logf(c->hal, IOTKIT_LOG_WARN, "%s", detail);
  }
  if (c->ev.disconnected) c->ev.disconnected(c->ev.user, reason, detail);
}

static iotkit_err_t map_connack(int protocol, int rc) {
  if (protocol == 5) {
    /* bad user name or password, not authorized, banned, bad auth method */
    return (rc == 0x86 || rc == 0x87 || rc == 0x8A || rc == 0x8C) ? IOTKIT_ERR_AUTH : IOTKIT_ERR_PROTOCOL;
  }
  return (rc == 4 || rc == 5) ? IOTKIT_ERR_AUTH : IOTKIT_ERR_PROTOCOL;
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc) {
  (void)mosq;
  mqtt_ctx_t *c = obj;
  if (rc == 0) {
    set_state(c, IOTKIT__MQTT_UP);
    iotkit__transport_logf(c->hal, IOTKIT_LOG_INFO, "mqtt: connected to %s:%u", c->host, c->port);
    if (c->ev.connected) c->ev.connected(c->ev.user);
    return;
  }
  char detail[IOTKIT__TRANSPORT_ERR_MAX];
  iotkit__fmt(detail, sizeof detail, "mqtt: %s:%u refused the connection: %s (code %d)", c->host, c->port,
              c->protocol == 5 ? mosquitto_reason_string(rc) : mosquitto_connack_string(rc), rc);
  /* libmosquitto closes the socket next; on_disconnect then finds IOTKIT__MQTT_DOWN */
  report_down(c, map_connack(c->protocol, rc), detail);
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc) {
  (void)mosq;
  int saved_errno = errno;
  mqtt_ctx_t *c = obj;
  mqtt_state_t st = iotkit__transport_mqtt_state(c);
  if (st == IOTKIT__MQTT_DOWN) return; /* reported already (refusal, timeout) */
  if (st == IOTKIT__MQTT_DISCONNECTING || rc == MOSQ_ERR_SUCCESS) {
    iotkit__transport_logf(c->hal, IOTKIT_LOG_INFO, "mqtt: disconnected from %s:%u", c->host, c->port);
    report_down(c, IOTKIT_OK, "");
    return;
  }
  char detail[IOTKIT__TRANSPORT_ERR_MAX];
  if (iotkit__transport_mqtt_tls_failure(c, rc, saved_errno, detail, sizeof detail)) {
    report_down(c, IOTKIT_ERR_TLS, detail);
    return;
  }
  iotkit__fmt(detail, sizeof detail, "mqtt: connection to %s:%u %s: %s", c->host, c->port,
              st == IOTKIT__MQTT_CONNECTING ? "failed" : "lost",
              rc == MOSQ_ERR_ERRNO ? strerror(saved_errno) : mosquitto_strerror(rc));
  report_down(c, st == IOTKIT__MQTT_CONNECTING ? IOTKIT_ERR_CONNECT : IOTKIT_ERR_CONNECTION_LOST, detail);
}

/* Options that go to libmosquitto before any connect. */
static iotkit_err_t configure(mqtt_ctx_t *c, const iotkit_transport_config_t *cfg) {
  const iotkit_uri_t *uri = cfg->uri;
  const char *user = cfg->username ? cfg->username : uri->user;
  const char *pass = cfg->password ? cfg->password : uri->password;
  unsigned long inflight = IOTKIT_MQTT_MAX_INFLIGHT;
  if (iotkit__transport_query_uint(uri->query, "inflight", &inflight) < 0 || inflight > 65535u)
    return IOTKIT_ERR_INVALID_ARG;
  int rc = mosquitto_int_option(c->mosq, MOSQ_OPT_PROTOCOL_VERSION,
                                c->protocol == 5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
  if (rc == MOSQ_ERR_SUCCESS) rc = mosquitto_max_inflight_messages_set(c->mosq, (unsigned)inflight);
  if (rc == MOSQ_ERR_SUCCESS && (user || pass)) rc = mosquitto_username_pw_set(c->mosq, user, pass);
  if (rc == MOSQ_ERR_SUCCESS && cfg->will.channel) {
    const iotkit_will_t *w = &cfg->will;
    if (!iotkit__topic_name_valid(w->channel) || w->qos < 0 || w->qos > 2 || w->payload_len > INT32_MAX ||
        (!w->payload && w->payload_len)) {
      return IOTKIT_ERR_INVALID_ARG;
    }
    rc = mosquitto_will_set(c->mosq, w->channel, (int)w->payload_len, w->payload, w->qos, w->retain);
  }
  if (rc == MOSQ_ERR_NOMEM) return IOTKIT_ERR_NOMEM;
  if (rc != MOSQ_ERR_SUCCESS) return IOTKIT_ERR_INVALID_ARG;
  if (c->secure) {
    iotkit_err_t e = iotkit__transport_mqtt_tls_apply(c->mosq, cfg, c->err, sizeof c->err);
    if (e != IOTKIT_OK) iotkit__transport_logf(c->hal, IOTKIT_LOG_ERROR, "%s", c->err);
    return e;
  }
  return IOTKIT_OK;
}

static void mqtt_destroy(void *ctx) {
  mqtt_ctx_t *c = ctx;
  if (!c) return;
  if (c->mosq) mosquitto_destroy(c->mosq);
  iotkit__transport_mqtt_io_close(c);
  iotkit__transport_mqtt_subs_clear(c);
  iotkit__transport_lock_destroy(&c->lock);
  free(c->host);
  free(c);
}

static iotkit_err_t mqtt_create(const iotkit_transport_config_t *cfg, const iotkit_transport_events_t *events,
                                void **ctx) {
  /* Full-size copies: a caller built against an older layout leaves later fields at their defaults. */
  iotkit_transport_config_t cfg_full;
  iotkit_transport_events_t ev_full;
  if (!ctx || iotkit__transport_args(cfg, events, &cfg_full, &ev_full) != IOTKIT_OK) return IOTKIT_ERR_INVALID_ARG;
  cfg = &cfg_full;
  events = &ev_full;
  if (!cfg || !events || !ctx || !cfg->uri || !cfg->uri->host) return IOTKIT_ERR_INVALID_ARG;
  if (cfg->protocol_version != 311 && cfg->protocol_version != 5) return IOTKIT_ERR_INVALID_ARG;
  if (!cfg->clean_session && (!cfg->client_id || !*cfg->client_id)) return IOTKIT_ERR_INVALID_ARG;
  pthread_once(&g_mosq_once, mosq_init_once);
  mqtt_ctx_t *c = calloc(1, sizeof *c);
  if (!c) return IOTKIT_ERR_NOMEM;
  c->epfd = c->wakefd = c->sock = -1;
  if (iotkit__transport_lock_init(&c->lock, cfg->hal) != IOTKIT_OK) {
    free(c);
    return IOTKIT_ERR_NOMEM;
  }
  if (iotkit__transport_mqtt_io_open(c) != IOTKIT_OK) {
    iotkit__transport_logf(cfg->hal, IOTKIT_LOG_ERROR, "mqtt: cannot create the epoll set: %s", strerror(errno));
    iotkit__transport_lock_destroy(&c->lock);
    free(c);
    return IOTKIT_ERR_IO;
  }
  c->ev = *events;
  c->hal = cfg->hal;
  c->port = cfg->uri->port ? cfg->uri->port : iotkit_uri_default_port(cfg->uri->scheme);
  /* libmosquitto refuses keepalives of 1..4 s; 0 turns keepalive off. */
  c->keepalive = cfg->keepalive_s > 0 && cfg->keepalive_s < 5 ? 5 : cfg->keepalive_s;
  c->protocol = cfg->protocol_version;
  c->connect_timeout_ms = cfg->connect_timeout_ms;
  c->max_payload = cfg->max_payload;
  c->secure = cfg->uri->secure;
  c->verify_peer = cfg->tls.verify_peer;
  c->client_cert = cfg->tls.cert_file != NULL;
  c->host = iotkit__strdup(cfg->uri->host);
  c->mosq = c->host ? mosquitto_new(cfg->client_id, cfg->clean_session, c) : NULL;
  if (!c->mosq) {
    mqtt_destroy(c);
    return IOTKIT_ERR_NOMEM;
  }
  iotkit_err_t rc = configure(c, cfg);
  if (rc != IOTKIT_OK) {
    mqtt_destroy(c);
    return rc;
  }
  mosquitto_threaded_set(c->mosq, true);
  mosquitto_log_callback_set(c->mosq, iotkit__transport_mqtt_on_log);
  mosquitto_connect_callback_set(c->mosq, on_connect);
  mosquitto_disconnect_callback_set(c->mosq, on_disconnect);
  mosquitto_publish_v5_callback_set(c->mosq, iotkit__transport_mqtt_on_publish);
  mosquitto_subscribe_v5_callback_set(c->mosq, iotkit__transport_mqtt_on_subscribe);
  mosquitto_message_v5_callback_set(c->mosq, iotkit__transport_mqtt_on_message);
  *ctx = c;
  return IOTKIT_OK;
}

static iotkit_err_t map_connect_error(mqtt_ctx_t *c, int rc, int saved_errno) {
  char detail[IOTKIT__TRANSPORT_ERR_MAX];
  if (iotkit__transport_mqtt_tls_failure(c, rc, saved_errno, detail, sizeof detail)) {
    iotkit__transport_mqtt_set_err(c, detail);
    iotkit__transport_logf(c->hal, IOTKIT_LOG_ERROR, "%s", detail);
    return IOTKIT_ERR_TLS;
  }
  const char *why = mosquitto_strerror(rc);
  iotkit_err_t e = IOTKIT_ERR_CONNECT;
  if (rc == MOSQ_ERR_ERRNO) why = strerror(saved_errno);
  if (rc == MOSQ_ERR_EAI) why = gai_strerror(saved_errno); /* libmosquitto stores the EAI code in errno */
  if (rc == MOSQ_ERR_INVAL) e = IOTKIT_ERR_INVALID_ARG;
  if (rc == MOSQ_ERR_NOMEM) e = IOTKIT_ERR_NOMEM;
  iotkit__fmt(detail, sizeof detail, "mqtt: cannot connect to %s:%u: %s", c->host, c->port, why);
  iotkit__transport_mqtt_set_err(c, detail);
  iotkit__transport_logf(c->hal, IOTKIT_LOG_ERROR, "%s", detail);
  return e;
}

static iotkit_err_t mqtt_connect(void *ctx) {
  mqtt_ctx_t *c = ctx;
  if (!c) return IOTKIT_ERR_INVALID_ARG;
  if (iotkit__transport_mqtt_state(c) != IOTKIT__MQTT_DOWN) {
    iotkit__transport_mqtt_set_err(c, "mqtt: already connected or connecting");
    return IOTKIT_ERR_STATE;
  }
  if (c->secure && !c->verify_peer) {
    iotkit__transport_logf(c->hal, IOTKIT_LOG_WARN,
                           "mqtt: TLS peer verification is OFF for %s:%u; the connection is not authenticated",
                           c->host, c->port);
  }
  iotkit__transport_logf(c->hal, IOTKIT_LOG_INFO, "mqtt: connecting to %s:%u (MQTT %s%s)", c->host, c->port,
                         c->protocol == 5 ? "5" : "3.1.1", c->secure ? ", TLS" : "");
  iotkit__transport_mqtt_tls_cause_clear(c);
  iotkit__transport_mqtt_subs_clear(c); /* SUBACKs of an old session never come */
  iotkit__transport_mqtt_io_sync(c, true); /* the old socket, if any, is closed next */
  c->connect_started = iotkit__transport_now_ms(c->hal);
  errno = 0;
  int rc = mosquitto_connect_async(c->mosq, c->host, c->port, c->keepalive);
  if (rc != MOSQ_ERR_SUCCESS) return map_connect_error(c, rc, errno);
  iotkit__transport_lock_acquire(&c->lock);
  c->state = IOTKIT__MQTT_CONNECTING;
  c->settling = true;
  iotkit__transport_lock_release(&c->lock);
  iotkit__transport_mqtt_io_sync(c, false);
  return IOTKIT_OK;
}

static iotkit_err_t mqtt_disconnect(void *ctx) {
  mqtt_ctx_t *c = ctx;
  if (!c) return IOTKIT_ERR_INVALID_ARG;
  mqtt_state_t st = iotkit__transport_mqtt_state(c);
  if (st == IOTKIT__MQTT_DOWN || st == IOTKIT__MQTT_DISCONNECTING) return IOTKIT_ERR_NOT_CONNECTED;
  set_state(c, IOTKIT__MQTT_DISCONNECTING);
  if (mosquitto_disconnect(c->mosq) != MOSQ_ERR_SUCCESS) {
    /* no socket left: nothing for libmosquitto to report, so report here */
    report_down(c, IOTKIT_OK, "");
    return IOTKIT_OK;
  }
  iotkit__transport_mqtt_io_wake(c); /* DISCONNECT goes out on the next poll() */
  return IOTKIT_OK;
}

/* connect_timeout_ms has run out for the attempt in progress: report it (or,
   for a disconnect() made while connecting, the end it asked for). */
static void connect_expired(mqtt_ctx_t *c, mqtt_state_t st) {
  char detail[IOTKIT__TRANSPORT_ERR_MAX];
  iotkit__fmt(detail, sizeof detail, "mqtt: no CONNACK from %s:%u within %u ms", c->host, c->port,
              (unsigned)c->connect_timeout_ms);
  set_state(c, IOTKIT__MQTT_DOWN); /* before the event: its handler may connect again */
  mosquitto_disconnect(c->mosq);
  iotkit__transport_mqtt_io_sync(c, true); /* the socket stays open until the next connect */
  if (st == IOTKIT__MQTT_DISCONNECTING) {
    report_down(c, IOTKIT_OK, "");
  } else {
    report_down(c, IOTKIT_ERR_TIMEOUT, detail);
  }
}

/* libmosquitto reads one packet per mosquitto_loop_read() (2.0: one per QoS 1/2 message
   waiting, at least one), so a flood of QoS 0 messages would cost an epoll_wait, a misc
   step and an epoll_ctl per message. Read on while there is more: the read that finds the
   socket empty leaves errno at EAGAIN (libmosquitto's own test in mosquitto_loop_read), at
   most READ_BURST packets, so that writes and timers still get their turn under a flood. */
#define READ_BURST 256

static int read_burst(mqtt_ctx_t *c) {
  int rc = MOSQ_ERR_SUCCESS;
  for (int i = 0; i < READ_BURST; i++) {
    errno = 0;
    rc = mosquitto_loop_read(c->mosq, 1);
    if (rc != MOSQ_ERR_SUCCESS || errno == EAGAIN || errno == EWOULDBLOCK) break;
    if (mosquitto_socket(c->mosq) < 0 || iotkit__transport_mqtt_state(c) == IOTKIT__MQTT_DOWN) break;
  }
  return rc;
}

static iotkit_err_t mqtt_poll(void *ctx, int timeout_ms) {
  mqtt_ctx_t *c = ctx;
  if (!c || timeout_ms < 0) return IOTKIT_ERR_INVALID_ARG;
  bool readable = false, writable = false;
  mqtt_state_t st = iotkit__transport_mqtt_state(c);
  if (st == IOTKIT__MQTT_DOWN) {
    iotkit__transport_mqtt_io_sync(c, true);
    iotkit__transport_mqtt_io_wait(c, 0, &readable, &writable); /* drains a wake-up */
    return IOTKIT_OK;
  }
  iotkit__transport_lock_acquire(&c->lock);
  bool settling = c->settling;
  iotkit__transport_lock_release(&c->lock);
  if (settling && c->connect_timeout_ms &&
      iotkit__transport_now_ms(c->hal) - c->connect_started >= c->connect_timeout_ms) {
    connect_expired(c, st);
    return IOTKIT_OK;
  }
  int wait = iotkit__transport_mqtt_io_timeout(c, false);
  if (timeout_ms < wait) wait = timeout_ms;
  iotkit__transport_mqtt_io_sync(c, false);
  iotkit__transport_mqtt_io_wait(c, wait, &readable, &writable);
  errno = 0;
  int rc = MOSQ_ERR_SUCCESS;
  if (readable) rc = read_burst(c);
  if (rc == MOSQ_ERR_SUCCESS && mosquitto_socket(c->mosq) >= 0 && (writable || mosquitto_want_write(c->mosq))) {
    rc = mosquitto_loop_write(c->mosq, 1);
  }
  if (rc == MOSQ_ERR_SUCCESS && mosquitto_socket(c->mosq) >= 0) rc = mosquitto_loop_misc(c->mosq);
  /* Most failures were reported by on_disconnect inside those calls (the
     state is then IOTKIT__MQTT_DOWN); a failed TLS handshake returns without calling it. */
  if (rc != MOSQ_ERR_SUCCESS && iotkit__transport_mqtt_state(c) != IOTKIT__MQTT_DOWN) on_disconnect(c->mosq, c, rc);
  iotkit__transport_mqtt_io_sync(c, iotkit__transport_mqtt_state(c) == IOTKIT__MQTT_DOWN);
  return IOTKIT_OK;
}

static int mqtt_fd(void *ctx) {
  mqtt_ctx_t *c = ctx;
  return c ? c->epfd : -1;
}

static int mqtt_timeout_ms(void *ctx) {
  mqtt_ctx_t *c = ctx;
  return c ? iotkit__transport_mqtt_io_timeout(c, iotkit__transport_mqtt_state(c) == IOTKIT__MQTT_DOWN) : -1;
}

static const char *mqtt_last_error(void *ctx) {
  mqtt_ctx_t *c = ctx;
  return c ? c->err : "";
}

static const char *const k_mqtt_schemes[] = {"mqtt", "mqtts", NULL};

static const iotkit_transport_ops_t k_mqtt_ops = {
    .struct_size = sizeof(iotkit_transport_ops_t),
    .name = "mqtt-mosquitto",
    .schemes = k_mqtt_schemes,
    .create = mqtt_create,
    .destroy = mqtt_destroy,
    .connect = mqtt_connect,
    .disconnect = mqtt_disconnect,
    .send = iotkit__transport_mqtt_send,
    .subscribe = iotkit__transport_mqtt_subscribe,
    .poll = mqtt_poll,
    .fd = mqtt_fd,
    .last_error = mqtt_last_error,
    .unsubscribe = iotkit__transport_mqtt_unsubscribe,
    .timeout_ms = mqtt_timeout_ms,
};

const iotkit_transport_ops_t *iotkit_transport_mqtt(void) { return &k_mqtt_ops; }
