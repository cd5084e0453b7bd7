/* The in-process loopback backend (scheme "loop"), for unit tests and simulation.
 *
 * Everything happens in memory: a send on a channel this context subscribed to
 * comes back as a message event, and every send is confirmed, both on the next
 * poll(). Query options of the URI shape its behaviour for tests:
 *   refuse=1       connect() fails with IOTKIT_ERR_CONNECT;
 *   drop_after=N   after the Nth send of a connection, the connection is lost
 *                  (sends 1..N are still echoed and confirmed, then
 *                  disconnected(IOTKIT_ERR_CONNECTION_LOST)); counts restart on
 *                  every connect.
 * Retained messages are not kept. poll() never blocks.
 *
 * message_ex() (when set) gets qos = min(the send's QoS, the highest QoS of the
 * matching subscriptions), as an MQTT broker grants it, retain false (nothing is
 * retained) and no MQTT 5 properties (they are not carried). unsubscribe() also
 * drops the echoes of that filter still queued for the next poll, so nothing
 * arrives for it after the call. timeout_ms() is 0 while events wait for poll(),
 * else -1; there is no descriptor (fd() -1).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"
#include "transport/common.h"
#include "transport/topic.h"

typedef enum { EV_CONNECTED, EV_DISCONNECTED, EV_MESSAGE, EV_DELIVERY } ev_kind_t;

typedef struct loop_event {
  struct loop_event *next;
  ev_kind_t kind;
  iotkit_err_t status;
  uint32_t id;
  int qos; /* EV_MESSAGE: as delivered */
  char *channel;
  void *payload;
  size_t len;
} loop_event_t;

typedef enum { ST_DOWN, ST_CONNECTING, ST_UP } loop_state_t;

typedef struct loop_sub {
  char *filter;
  int qos;
} loop_sub_t;

typedef struct loop_ctx {
  iotkit_transport_events_t ev;
  iotkit__transport_lock_t lock; /* guards everything below */
  size_t max_payload;
  bool clean_session;
  bool refuse;
  unsigned long drop_after;
  loop_state_t state;
  unsigned long sends; /* in this connection */
  uint32_t next_id;
  loop_sub_t *subs;
  size_t nsubs;
  loop_event_t *head;
  loop_event_t *tail;
  size_t queued;
  char err[IOTKIT__TRANSPORT_ERR_MAX];
} loop_ctx_t;

static void event_free(loop_event_t *e) {
  if (!e) return;
  free(e->channel);
  free(e->payload);
  free(e);
}

/* Append an event; the lock is held. */
static iotkit_err_t push(loop_ctx_t *c, ev_kind_t kind, iotkit_err_t status, uint32_t id) {
  loop_event_t *e = calloc(1, sizeof *e);
  if (!e) return IOTKIT_ERR_NOMEM;
  e->kind = kind;
  e->status = status;
  e->id = id;
  if (c->tail) {
    c->tail->next = e;
  } else {
    c->head = e;
  }
  c->tail = e;
  c->queued++;
  return IOTKIT_OK;
}

static iotkit_err_t push_message(loop_ctx_t *c, const iotkit_message_t *msg, int qos) {
  char *channel = iotkit__strdup(msg->channel);
  void *payload = malloc(msg->len ? msg->len : 1);
  if (!channel || !payload || push(c, EV_MESSAGE, IOTKIT_OK, 0) != IOTKIT_OK) {
    free(channel);
    free(payload);
    return IOTKIT_ERR_NOMEM;
  }
  if (msg->len) memcpy(payload, msg->payload, msg->len);
  c->tail->channel = channel;
  c->tail->payload = payload;
  c->tail->len = msg->len;
  c->tail->qos = qos;
  return IOTKIT_OK;
}

static void clear_subs(loop_ctx_t *c) {
  for (size_t i = 0; i < c->nsubs; i++) free(c->subs[i].filter);
  free(c->subs);
  c->subs = NULL;
  c->nsubs = 0;
}

static iotkit_err_t loop_create(const iotkit_transport_config_t *cfg, const iotkit_transport_events_t *events,
                                void **ctx) {
  /* Full-size copies: a caller built against an older layout leaves later fields at their defaults. */
  iotkit_transport_config_t cfg_full;
  iotkit_transport_events_t ev_full;
  if (iotkit__transport_args(cfg, events, &cfg_full, &ev_full) != IOTKIT_OK) return IOTKIT_ERR_INVALID_ARG;
  cfg = &cfg_full;
  events = &ev_full;
  if (!cfg || !events || !ctx || !cfg->uri) return IOTKIT_ERR_INVALID_ARG;
  unsigned long refuse = 0, drop_after = 0;
  if (iotkit__transport_query_uint(cfg->uri->query, "refuse", &refuse) < 0 ||
      iotkit__transport_query_uint(cfg->uri->query, "drop_after", &drop_after) < 0) {
    return IOTKIT_ERR_BAD_URI;
  }
  loop_ctx_t *c = calloc(1, sizeof *c);
  if (!c) return IOTKIT_ERR_NOMEM;
  if (iotkit__transport_lock_init(&c->lock, cfg->hal) != IOTKIT_OK) {
    free(c);
    return IOTKIT_ERR_NOMEM;
  }
  c->ev = *events;
  c->max_payload = cfg->max_payload;
  c->clean_session = cfg->clean_session;
  c->refuse = refuse != 0;
  c->drop_after = drop_after;
  *ctx = c;
  return IOTKIT_OK;
}

static void loop_destroy(void *ctx) {
  loop_ctx_t *c = ctx;
  if (!c) return;
  while (c->head) {
    loop_event_t *e = c->head;
    c->head = e->next;
    event_free(e);
  }
  clear_subs(c);
  iotkit__transport_lock_destroy(&c->lock);
  free(c);
}

static iotkit_err_t loop_connect(void *ctx) {
  loop_ctx_t *c = ctx;
  if (!c) return IOTKIT_ERR_INVALID_ARG;
  iotkit_err_t rc = IOTKIT_OK;
  iotkit__transport_lock_acquire(&c->lock);
  if (c->state != ST_DOWN) {
    iotkit__fmt(c->err, sizeof c->err, "loop: already connected or connecting");
    rc = IOTKIT_ERR_STATE;
  } else if (c->refuse) {
    iotkit__fmt(c->err, sizeof c->err, "loop: connection refused (refuse=1 in the URI)");
    rc = IOTKIT_ERR_CONNECT;
  } else {
    rc = push(c, EV_CONNECTED, IOTKIT_OK, 0);
    if (rc == IOTKIT_OK) {
      c->state = ST_CONNECTING;
      c->sends = 0;
      if (c->clean_session) clear_subs(c);
    }
  }
  iotkit__transport_lock_release(&c->lock);
  return rc;
}

static iotkit_err_t loop_disconnect(void *ctx) {
  loop_ctx_t *c = ctx;
  if (!c) return IOTKIT_ERR_INVALID_ARG;
  iotkit_err_t rc = IOTKIT_ERR_NOT_CONNECTED;
  iotkit__transport_lock_acquire(&c->lock);
  if (c->state != ST_DOWN) {
    rc = push(c, EV_DISCONNECTED, IOTKIT_OK, 0);
    if (rc == IOTKIT_OK) c->state = ST_DOWN;
  }
  iotkit__transport_lock_release(&c->lock);
  return rc;
}

static bool message_valid(const iotkit_message_t *msg) {
  return iotkit__topic_name_valid(msg->channel) && msg->qos >= 0 && msg->qos <= 2 &&
         (msg->payload || msg->len == 0);
}

/* Queue the echo and the confirmation of one send; the lock is held. */
static iotkit_err_t queue_send(loop_ctx_t *c, const iotkit_message_t *msg, uint32_t *msg_id) {
  int granted = -1; /* one copy, however many filters match, at the best QoS granted */
  for (size_t i = 0; i < c->nsubs; i++) {
    if (iotkit__topic_match(c->subs[i].filter, msg->channel) && c->subs[i].qos > granted) granted = c->subs[i].qos;
  }
  if (granted >= 0 && push_message(c, msg, msg->qos < granted ? msg->qos : granted) != IOTKIT_OK)
    return IOTKIT_ERR_NOMEM;
  if (++c->next_id == 0) c->next_id = 1;
  if (push(c, EV_DELIVERY, IOTKIT_OK, c->next_id) != IOTKIT_OK) return IOTKIT_ERR_NOMEM;
  *msg_id = c->next_id;
  c->sends++;
  if (c->drop_after && c->sends == c->drop_after) {
    if (push(c, EV_DISCONNECTED, IOTKIT_ERR_CONNECTION_LOST, 0) == IOTKIT_OK) c->state = ST_DOWN;
  }
  return IOTKIT_OK;
}

static iotkit_err_t loop_send(void *ctx, const iotkit_message_t *msg, uint32_t *msg_id) {
  loop_ctx_t *c = ctx;
  if (!c || !msg || !msg_id || !message_valid(msg)) return IOTKIT_ERR_INVALID_ARG;
  iotkit_err_t rc;
  iotkit__transport_lock_acquire(&c->lock);
  if (c->max_payload && msg->len > c->max_payload) {
    iotkit__fmt(c->err, sizeof c->err, "loop: payload of %zu bytes exceeds max_payload %zu", msg->len,
                c->max_payload);
    rc = IOTKIT_ERR_TOO_LARGE;
  } else if (c->state != ST_UP) {
    iotkit__fmt(c->err, sizeof c->err, "loop: send while not connected");
    rc = IOTKIT_ERR_NOT_CONNECTED;
  } else {
    rc = queue_send(c, msg, msg_id);
  }
  iotkit__transport_lock_release(&c->lock);
  return rc;
}

static iotkit_err_t loop_subscribe(void *ctx, const char *channel, int qos) {
  loop_ctx_t *c = ctx;
  if (!c || !iotkit__topic_filter_valid(channel) || qos < 0 || qos > 2) return IOTKIT_ERR_INVALID_ARG;
  iotkit_err_t rc = IOTKIT_OK;
  iotkit__transport_lock_acquire(&c->lock);
  loop_sub_t *known = NULL;
  for (size_t i = 0; i < c->nsubs; i++) {
    if (strcmp(c->subs[i].filter, channel) == 0) known = &c->subs[i];
  }
  if (c->state != ST_UP) {
    iotkit__fmt(c->err, sizeof c->err, "loop: subscribe while not connected");
    rc = IOTKIT_ERR_NOT_CONNECTED;
  } else if (known) {
    known->qos = qos; /* as MQTT: a new subscription to the same filter replaces it */
  } else {
    char *copy = iotkit__strdup(channel);
    loop_sub_t *grown = copy ? realloc(c->subs, (c->nsubs + 1) * sizeof *grown) : NULL;
    if (grown) {
      c->subs = grown;
      c->subs[c->nsubs++] = (loop_sub_t){copy, qos};
    } else {
      free(copy);
      rc = IOTKIT_ERR_NOMEM;
    }
  }
  iotkit__transport_lock_release(&c->lock);
  return rc;
}

/* True if some subscription still matches @p channel; the lock is held. */
static bool subscribed_to(const loop_ctx_t *c, const char *channel) {
  for (size_t i = 0; i < c->nsubs; i++) {
    if (iotkit__topic_match(c->subs[i].filter, channel)) return true;
  }
  return false;
}

/* Drop the queued echoes no subscription matches any more; the lock is held. */
static void drop_unmatched(loop_ctx_t *c) {
  loop_event_t **at = &c->head;
  c->tail = NULL;
  while (*at) {
    loop_event_t *e = *at;
    if (e->kind == EV_MESSAGE && !subscribed_to(c, e->channel)) {
      *at = e->next;
      c->queued--;
      event_free(e);
      continue;
    }
    c->tail = e;
    at = &e->next;
  }
}

static iotkit_err_t loop_unsubscribe(void *ctx, const char *channel) {
  loop_ctx_t *c = ctx;
  if (!c || !iotkit__topic_filter_valid(channel)) return IOTKIT_ERR_INVALID_ARG;
  iotkit_err_t rc = IOTKIT_ERR_NOT_FOUND;
  iotkit__transport_lock_acquire(&c->lock);
  if (c->state != ST_UP) {
    iotkit__fmt(c->err, sizeof c->err, "loop: unsubscribe while not connected");
    rc = IOTKIT_ERR_NOT_CONNECTED;
  }
  for (size_t i = 0; rc == IOTKIT_ERR_NOT_FOUND && i < c->nsubs; i++) {
    if (strcmp(c->subs[i].filter, channel) != 0) continue;
    free(c->subs[i].filter);
    c->subs[i] = c->subs[--c->nsubs];
    drop_unmatched(c);
    rc = IOTKIT_OK;
  }
  if (rc == IOTKIT_ERR_NOT_FOUND) iotkit__fmt(c->err, sizeof c->err, "loop: no subscription to %s", channel);
  iotkit__transport_lock_release(&c->lock);
  return rc;
}

static void deliver_message(const iotkit_transport_events_t *ev, const loop_event_t *e) {
  if (ev->message_ex) {
    iotkit_transport_msg_t m = {.struct_size = sizeof m, .channel = e->channel, .payload = e->payload,
                                .len = e->len, .qos = e->qos, .retain = false};
    ev->message_ex(ev->user, &m);
  } else if (ev->message) {
    ev->message(ev->user, e->channel, e->payload, e->len);
  }
}

static void deliver(loop_ctx_t *c, const loop_event_t *e) {
  const iotkit_transport_events_t *ev = &c->ev;
  switch (e->kind) {
    case EV_CONNECTED:
      if (ev->connected) ev->connected(ev->user);
      break;
    case EV_DISCONNECTED:
      if (ev->disconnected) {
        ev->disconnected(ev->user, e->status, e->status == IOTKIT_OK ? "" : "loop: connection dropped (drop_after)");
      }
      break;
    case EV_MESSAGE:
      deliver_message(ev, e);
      break;
    case EV_DELIVERY:
      if (ev->delivery) ev->delivery(ev->user, e->id, e->status);
      break;
  }
}

/* Events queued so far (under the lock). */
static size_t queued_now(loop_ctx_t *c) {
  iotkit__transport_lock_acquire(&c->lock);
  size_t n = c->queued;
  iotkit__transport_lock_release(&c->lock);
  return n;
}

/* With nothing queued, wait up to LOOP_IDLE_WAIT_MS (at most timeout_ms) in 1 ms steps for
   another thread's send(): a loop that polls an idle loopback must not spin a core (under
   Valgrind a spinning poller starves every other thread). Returning early is within the
   poll() contract, so waits stay short and tests that poll with long timeouts stay fast. */
#define LOOP_IDLE_WAIT_MS 10
static void wait_for_work(loop_ctx_t *c, int timeout_ms) {
  int budget = timeout_ms < LOOP_IDLE_WAIT_MS ? timeout_ms : LOOP_IDLE_WAIT_MS;
  for (int waited = 0; waited < budget && queued_now(c) == 0; waited++) {
    nanosleep(&(struct timespec){0, 1000000L}, NULL);
  }
}

static iotkit_err_t loop_poll(void *ctx, int timeout_ms) {
  loop_ctx_t *c = ctx;
  if (!c) return IOTKIT_ERR_INVALID_ARG;
  if (timeout_ms > 0) wait_for_work(c, timeout_ms);
  size_t budget = queued_now(c); /* events queued by callbacks wait for the next poll */
  for (; budget > 0; budget--) {
    iotkit__transport_lock_acquire(&c->lock);
    loop_event_t *e = c->head;
    if (!e) { /* an unsubscribe() from a callback dropped some */
      iotkit__transport_lock_release(&c->lock);
      break;
    }
    c->head = e->next;
    if (!c->head) c->tail = NULL;
    c->queued--;
    bool skip = false;
    if (e->kind == EV_CONNECTED) {
      /* a disconnect() before this poll cancels the pending connection */
      skip = c->state != ST_CONNECTING;
      if (!skip) c->state = ST_UP;
    }
    iotkit__transport_lock_release(&c->lock);
    if (!skip) deliver(c, e);
    event_free(e);
  }
  return IOTKIT_OK;
}

static int loop_timeout_ms(void *ctx) {
  loop_ctx_t *c = ctx;
  return c && queued_now(c) > 0 ? 0 : -1;
}

static int loop_fd(void *ctx) {
  (void)ctx;
  return -1;
}

static const char *loop_last_error(void *ctx) {
  loop_ctx_t *c = ctx;
  return c ? c->err : "";
}

static const char *const k_loop_schemes[] = {"loop", NULL};

static const iotkit_transport_ops_t k_loop_ops = {
    .struct_size = sizeof(iotkit_transport_ops_t),
    .name = "loopback",
    .schemes = k_loop_schemes,
    .create = loop_create,
    .destroy = loop_destroy,
    .connect = loop_connect,
    .disconnect = loop_disconnect,
    .send = loop_send,
    .subscribe = loop_subscribe,
    .poll = loop_poll,
    .fd = loop_fd,
    .last_error = loop_last_error,
    .unsubscribe = loop_unsubscribe,
    .timeout_ms = loop_timeout_ms,
};

const iotkit_transport_ops_t *iotkit_transport_loopback(void) { return &k_loop_ops; }
