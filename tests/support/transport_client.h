/* A transport backend context under test, with its events recorded, for
 * integration tests that need several clients (devices, observers) at once.
 * Each client has its own test HAL (and so its own captured log).
 *
 *   tclient_t *a = tclient_new(&(tclient_opts_t){.uri = mosq_server_uri(srv), .client_id = "devA"});
 *   cr_assert_eq(tclient_connect(a), IOTKIT_OK, "%s", tclient_last_error(a));
 *   uint32_t id;
 *   cr_assert_eq(tclient_send(a, "t", "x", 1, 1, &id), IOTKIT_OK);
 *   cr_assert_eq(tclient_wait_delivery(a, id), IOTKIT_OK);
 *   tclient_free(a);
 *
 * Waits poll the backend for up to 10 s; a wait that runs out is a failure
 * (never a timing assertion: the thing waited for is expected to happen).
 */
#ifndef IOTKIT_TEST_TRANSPORT_CLIENT_H
#define IOTKIT_TEST_TRANSPORT_CLIENT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotkit/transport.h"
#include "test_hal.h"

#define TCLIENT_MAX_EVENTS 64

/* How to make the client. Zeroed fields take the defaults noted. */
typedef struct tclient_opts {
  const char *uri;          /* endpoint (required) */
  const iotkit_transport_ops_t *ops; /* default: iotkit_transport_mqtt() */
  int protocol;             /* 311 (default) or 5 */
  const char *client_id;    /* default "dev-1" */
  const char *username;     /* default none */
  const char *password;     /* default none */
  iotkit_tls_config_t tls;  /* TLS options for secure schemes */
  bool message_ex;          /* receive through message_ex() (records retain, qos, props) */
  uint32_t connect_timeout_ms; /* default 10000 */
} tclient_opts_t;

/* One received message. */
typedef struct tclient_msg {
  char channel[128];
  char payload[256]; /* NUL-terminated copy (truncated) */
  size_t len;
  /* with tclient_opts_t.message_ex only: */
  int qos;
  bool retain;
  char content_type[64];   /* "" when absent */
  char response_topic[128]; /* "" when absent */
  char correlation[64];    /* NUL-terminated copy */
  size_t correlation_len;
  uint32_t expiry_s;
  size_t n_user_props;
  char user_props[256];    /* "name=value;" for each, in order */
} tclient_msg_t;

typedef struct tclient {
  const iotkit_transport_ops_t *ops;
  void *ctx;
  test_hal_t *th;
  iotkit_uri_t uri;
  pthread_mutex_t lock; /* guards the records below */
  int connected;
  int disconnected;
  iotkit_err_t disc_reason;
  char disc_detail[256];
  int messages;
  tclient_msg_t msgs[TCLIENT_MAX_EVENTS];
  int deliveries;
  uint32_t ids[TCLIENT_MAX_EVENTS];
  iotkit_err_t statuses[TCLIENT_MAX_EVENTS];
  int subscribed;
  char sub_channels[TCLIENT_MAX_EVENTS][128];
  iotkit_err_t sub_statuses[TCLIENT_MAX_EVENTS];
} tclient_t;

/* Parse the URI and create the context. NULL on failure (reason on stderr). */
tclient_t *tclient_new(const tclient_opts_t *opts);

/* connect(), then poll until connected() or disconnected(): IOTKIT_OK once
   connected, else connect()'s error, the disconnect reason, or
   IOTKIT_ERR_TIMEOUT if neither came. */
iotkit_err_t tclient_connect(tclient_t *c);

/* Poll until *counter (a field of @p c) reaches @p want; true if it did. */
bool tclient_poll_until(tclient_t *c, const int *counter, int want);

/* Send and return send()'s result. */
iotkit_err_t tclient_send(tclient_t *c, const char *channel, const char *payload, size_t len, int qos,
                          uint32_t *id);

/* Poll until the delivery of @p id: its status, or IOTKIT_ERR_TIMEOUT. */
iotkit_err_t tclient_wait_delivery(tclient_t *c, uint32_t id);

/* subscribe(), then poll for its subscribed() event: its status, subscribe()'s
   error, or IOTKIT_ERR_TIMEOUT. */
iotkit_err_t tclient_subscribe(tclient_t *c, const char *channel, int qos);

/* Number of received messages whose channel starts with @p prefix. */
int tclient_count_prefix(tclient_t *c, const char *prefix);

/* The backend's last_error(). */
const char *tclient_last_error(tclient_t *c);

/* Destroy the context (without a clean disconnect) and free. NULL is a no-op. */
void tclient_free(tclient_t *c);

#endif
