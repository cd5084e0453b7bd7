/* A scriptable in-memory transport for device-model tests (scheme "cap"): it
 * records every message the device sends, its subscriptions and its last will,
 * and lets the test inject incoming messages or drop the connection. Events
 * (connected, confirmations, injected messages, a drop) arrive on the next poll.
 * One capture per test process (Criterion runs each test in its own process).
 *
 *   iotkit_transport_registry_t *reg = capture_registry();
 *   cfg.uri = "cap://local"; cfg.transports = reg;
 *   ... capture_inject("iotkit/v1/dev-1/commands/request", json, len); ...
 *   const capture_msg_t *m = capture_last_on("iotkit/v1/dev-1/commands/response");
 */
#ifndef IOTKIT_TEST_CAPTURE_TRANSPORT_H
#define IOTKIT_TEST_CAPTURE_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "iotkit/iotkit.h"

/* One sent message; payload is NUL-terminated (not counted in len). */
typedef struct capture_msg {
  char *channel;
  char *payload;
  size_t len;
  int qos;
  bool retain;
} capture_msg_t;

/* A registry holding the capture backend (created once; freed at exit). Resets the capture. */
iotkit_transport_registry_t *capture_registry(void);

/* Forget the messages sent and the injections not yet delivered (pointers from
   capture_get() and capture_last_on() become invalid), and turn off drop, hold
   and refuse: for a process that runs many devices one after another (tests/fuzz). */
void capture_reset(void);

/* Messages sent so far, and message i (NULL past the end); valid until the process ends. */
size_t capture_count(void);
const capture_msg_t *capture_get(size_t i);
/* Number of messages sent on @p channel, and the latest one (or NULL). */
size_t capture_count_on(const char *channel);
const capture_msg_t *capture_last_on(const char *channel);

/* Deliver a message on the next poll (copied). */
void capture_inject(const char *channel, const void *payload, size_t len);
/* Lose the connection on the next poll (disconnected(IOTKIT_ERR_CONNECTION_LOST)). */
void capture_drop(void);
/* Withhold confirmations while on (they come on the first poll after it is off,
   unless the connection is lost first: then they never come). */
void capture_hold(bool on);
/* Make connect() fail with IOTKIT_ERR_CONNECT while on. */
void capture_refuse(bool on);

/* True if the current session subscribed to exactly @p channel. */
bool capture_subscribed(const char *channel);
/* Transports created so far, and what the last one was given. */
int capture_creates(void);
const char *capture_will_payload(void); /* "" if none */
const char *capture_will_channel(void); /* "" if none */
bool capture_will_retained(void);
const char *capture_password(void); /* "(none)" if none */
/* Connection attempts (connect() calls) so far. */
int capture_connects(void);

#endif
