/* An independent MQTT client for integration tests, on libmosquitto directly
 * (not on libiotkit): it subscribes and records what arrives, and publishes.
 * Its network loop runs in its own thread (mosquitto_loop_start).
 *
 *   mqtt_peer_t *p = mqtt_peer_new(&(mqtt_peer_opts_t){.port = port, .topic = "t/#", .qos = 1});
 *   ... the code under test publishes ...
 *   cr_assert(mqtt_peer_wait(p, 1, 5000));
 *   const mqtt_peer_msg_t *m = mqtt_peer_get(p, 0);
 *   mqtt_peer_free(p);
 */
#ifndef IOTKIT_TEST_MQTT_PEER_H
#define IOTKIT_TEST_MQTT_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mqtt_peer mqtt_peer_t;

/* How to connect. Zeroed fields take the defaults noted. */
typedef struct mqtt_peer_opts {
  uint16_t port;          /* broker port on 127.0.0.1 (required) */
  const char *topic;      /* filter to subscribe to, or NULL for none */
  int qos;                /* subscription QoS */
  const char *client_id;  /* default: random */
  const char *username;   /* default: none */
  const char *password;   /* default: none */
  int protocol_version;   /* 311 (default) or 5 */
  const char *cafile;     /* TLS: trusted CA (PEM); NULL for plain TCP */
  const char *certfile;   /* TLS: client certificate, or NULL */
  const char *keyfile;    /* TLS: client key, or NULL */
  bool persistent;        /* clean_session false (needs client_id): the broker keeps the
                             session and queues QoS 1/2 messages while the peer is away */
} mqtt_peer_opts_t;

/* One received message; owned by the peer. */
typedef struct mqtt_peer_msg {
  char *topic;
  void *payload; /* payload bytes, followed by a NUL not counted in len */
  size_t len;
  int qos;
  bool retain;
} mqtt_peer_msg_t;

/* Connect, subscribe and wait for CONNACK and SUBACK (up to 5 s). NULL on failure (reason on stderr). */
mqtt_peer_t *mqtt_peer_new(const mqtt_peer_opts_t *opts);

/* Wait until at least @p n messages arrived, up to @p timeout_ms. True if they did. */
bool mqtt_peer_wait(mqtt_peer_t *p, size_t n, int timeout_ms);

/* Messages received so far. */
size_t mqtt_peer_count(mqtt_peer_t *p);

/* Message @p i (0 = first received), or NULL; valid until mqtt_peer_free(). */
const mqtt_peer_msg_t *mqtt_peer_get(mqtt_peer_t *p, size_t i);

/* Publish and wait (up to 5 s) until it is on the wire (QoS 0) or acknowledged. */
bool mqtt_peer_publish(mqtt_peer_t *p, const char *topic, const void *payload, size_t len, int qos, bool retain);

/* Disconnect cleanly and free everything. NULL is a no-op. */
void mqtt_peer_free(mqtt_peer_t *p);

#endif
