/* Internal parts of the MQTT backend on libmosquitto shared by its files:
   mqtt_mosquitto.c (context, connect, loop), mqtt_msg.c (send, subscribe,
   unsubscribe, arriving messages and their MQTT 5 properties), mqtt_io.c
   (the epoll set poll() waits on), mqtt_acks.c (broker verdicts on
   publishes and subscriptions), mqtt_tls.c (TLS options and diagnosis). */
#ifndef IOTKIT__TRANSPORT_MQTT_MOSQUITTO_H
#define IOTKIT__TRANSPORT_MQTT_MOSQUITTO_H

#include <mosquitto.h>
#include <stdatomic.h>

#include "transport/common.h"

/* Trusted CA directory when a secure endpoint names no CA (a port may override). */
#ifndef IOTKIT_TLS_SYSTEM_CA_DIR
#define IOTKIT_TLS_SYSTEM_CA_DIR "/etc/ssl/certs"
#endif

/* Most QoS 1 and 2 messages sent and not yet acknowledged (libmosquitto queues
   the rest); the URI option inflight=N overrides it, 0 for no limit. With MQTT 5
   the broker's Receive Maximum caps it. This default is libmosquitto's own: it
   caps the rate at 20 messages per round trip, and a larger window lets a fast
   sender outrun what a broker forwards to slow subscribers (mosquitto then drops
   QoS 0 messages to them). A port may override it. */
#ifndef IOTKIT_MQTT_MAX_INFLIGHT
#define IOTKIT_MQTT_MAX_INFLIGHT 20u
#endif

typedef enum {
  IOTKIT__MQTT_DOWN,
  IOTKIT__MQTT_CONNECTING,
  IOTKIT__MQTT_UP,
  IOTKIT__MQTT_DISCONNECTING
} iotkit__mqtt_state_t;

/* A subscription sent and not yet acknowledged. */
typedef struct iotkit__mqtt_pending_sub {
  struct iotkit__mqtt_pending_sub *next;
  int mid;
  char channel[];
} iotkit__mqtt_pending_sub_t;

typedef struct iotkit__mqtt_ctx {
  struct mosquitto *mosq;
  iotkit_transport_events_t ev;
  const iotkit_hal_t *hal;
  iotkit__transport_lock_t lock; /* guards state, err, tls_cause and subs */
  char *host;
  uint16_t port;
  int keepalive;
  int protocol; /* 311 or 5 */
  uint32_t connect_timeout_ms;
  size_t max_payload;
  bool secure;
  bool verify_peer;
  bool client_cert; /* a client certificate is configured */
  iotkit__mqtt_state_t state;
  uint64_t connect_started;
  bool settling; /* connect() made, no CONNACK or end yet: connect_timeout_ms runs */
  /* The poll machinery of mqtt_io.c: an epoll set holding the wake eventfd and,
     while there is one, libmosquitto's socket (sock, with the events in
     sock_events). wake_pending is set by the threads that queue packets. */
  int epfd;
  int wakefd;
  int sock;
  uint32_t sock_events;
  atomic_bool wake_pending;
  iotkit__mqtt_pending_sub_t *subs;
  /* What libmosquitto's log said went wrong with TLS in this connection
     attempt ("" if nothing): OpenSSL and host-name verification errors. */
  char tls_cause[IOTKIT__TRANSPORT_ERR_MAX];
  char err[IOTKIT__TRANSPORT_ERR_MAX];
} iotkit__mqtt_ctx_t;

/* The context's connection state (thread-safe). */
iotkit__mqtt_state_t iotkit__transport_mqtt_state(iotkit__mqtt_ctx_t *c);

/* Replace the context's last-error text (thread-safe). */
void iotkit__transport_mqtt_set_err(iotkit__mqtt_ctx_t *c, const char *text);

/* Apply the TLS options of @p cfg to @p mosq (secure schemes only). On failure
   @p err receives a detail line naming the file or option at fault. */
iotkit_err_t iotkit__transport_mqtt_tls_apply(struct mosquitto *mosq, const iotkit_transport_config_t *cfg,
                                              char *err, size_t cap);

/* libmosquitto's log callback: routes its lines to the HAL log (DEBUG, or
   TRACE for packet traces) and keeps TLS failure causes in c->tls_cause. */
void iotkit__transport_mqtt_on_log(struct mosquitto *mosq, void *obj, int level, const char *line);

/* True if the failure @p rc (@p errnum for MOSQ_ERR_ERRNO) of a connection
   is a TLS one; then @p detail names the cause for a human. */
bool iotkit__transport_mqtt_tls_failure(iotkit__mqtt_ctx_t *c, int rc, int errnum, char *detail, size_t cap);

/* Forget the TLS cause (at the start of a connection attempt). */
void iotkit__transport_mqtt_tls_cause_clear(iotkit__mqtt_ctx_t *c);

/* Broker verdicts: PUBACK/PUBREC reason codes and SUBACK results. */
void iotkit__transport_mqtt_on_publish(struct mosquitto *mosq, void *obj, int mid, int reason,
                                       const mosquitto_property *props);
void iotkit__transport_mqtt_on_subscribe(struct mosquitto *mosq, void *obj, int mid, int count, const int *granted,
                                         const mosquitto_property *props);

/* Subscriptions awaiting their SUBACK, to name the channel in its report:
   sub_new() allocates a record (NULL without memory; free() it if unused),
   sub_add() files it under message id @p mid, subs_clear() forgets them all. */
iotkit__mqtt_pending_sub_t *iotkit__transport_mqtt_sub_new(const char *channel);
void iotkit__transport_mqtt_sub_add(iotkit__mqtt_ctx_t *c, iotkit__mqtt_pending_sub_t *s, int mid);
void iotkit__transport_mqtt_subs_clear(iotkit__mqtt_ctx_t *c);

/* The message path (mqtt_msg.c): the ops send(), subscribe(), unsubscribe()
   and libmosquitto's message callback (message() or message_ex()). */
iotkit_err_t iotkit__transport_mqtt_send(void *ctx, const iotkit_message_t *msg, uint32_t *msg_id);
iotkit_err_t iotkit__transport_mqtt_subscribe(void *ctx, const char *channel, int qos);
iotkit_err_t iotkit__transport_mqtt_unsubscribe(void *ctx, const char *channel);
void iotkit__transport_mqtt_on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *m,
                                       const mosquitto_property *props);

/* The poll machinery (mqtt_io.c). io_open() creates the epoll set and the
   eventfd (IOTKIT_ERR_IO on failure, epfd/wakefd -1 then); io_close() closes
   them. io_wake() makes the set readable from any thread. io_sync() puts
   libmosquitto's current socket in the set with the events it needs now (or
   takes it out when there is none or @p drop is true). io_wait() waits up to
   @p timeout_ms and says whether the socket is readable or writable
   (drains the eventfd). io_timeout() is the op timeout_ms(). */
iotkit_err_t iotkit__transport_mqtt_io_open(iotkit__mqtt_ctx_t *c);
void iotkit__transport_mqtt_io_close(iotkit__mqtt_ctx_t *c);
void iotkit__transport_mqtt_io_wake(iotkit__mqtt_ctx_t *c);
void iotkit__transport_mqtt_io_sync(iotkit__mqtt_ctx_t *c, bool drop);
void iotkit__transport_mqtt_io_wait(iotkit__mqtt_ctx_t *c, int timeout_ms, bool *readable, bool *writable);
int iotkit__transport_mqtt_io_timeout(iotkit__mqtt_ctx_t *c, bool down);

/* Longest wait between two rounds of libmosquitto's keepalive work (ms). */
#define IOTKIT__MQTT_MISC_MS 1000

#endif
