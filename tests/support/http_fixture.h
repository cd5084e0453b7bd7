/* A client of the HTTP backend for the HTTP integration tests: a test HAL, a
 * context made from a URI and options, and an event recorder. Every helper
 * asserts (Criterion) instead of returning errors.
 */
#ifndef IOTKIT_TEST_HTTP_FIXTURE_H
#define IOTKIT_TEST_HTTP_FIXTURE_H

#include "iotkit/transport.h"
#include "test_hal.h"
#include "transport_rec.h"

typedef struct http_fx {
  test_hal_t *th;
  const iotkit_transport_ops_t *ops;
  void *ctx;
  iotkit_uri_t uri;
  transport_rec_t rec;
} http_fx_t;

/* Client options; zeroed fields take defaults (TLS verification on). */
typedef struct http_fx_opts {
  const char *user;
  const char *password;
  size_t max_payload;
  iotkit_tls_config_t tls;
  bool verify_off; /* tls.verify_peer = false */
  bool message_ex; /* events with message_ex() (transport_rec_events_ex) */
} http_fx_opts_t;

/* Create the HAL and recorder; the context is made by http_fx_open(). */
void http_fx_init(http_fx_t *fx);

/* Make a context for @p uri (@p o may be NULL). */
void http_fx_open(http_fx_t *fx, const char *uri, const http_fx_opts_t *o);

/* connect() and wait for the connected event. */
void http_fx_connect(http_fx_t *fx);

/* send() @p len bytes on @p channel; returns the message id. */
uint32_t http_fx_send(http_fx_t *fx, const char *channel, const void *payload, size_t len);

/* Poll until *counter >= want, up to 15 s; true if reached. */
bool http_fx_wait(http_fx_t *fx, const int *counter, int want);

/* Destroy the context, the URI and the HAL. */
void http_fx_fini(http_fx_t *fx);

#endif
