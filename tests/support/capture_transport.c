/* A scriptable in-memory transport that records what the device sends. */
#include "capture_transport.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MSGS 4096
#define MAX_SUBS 32
#define MAX_IN 64

typedef struct in_msg {
  char *channel;
  void *payload;
  size_t len;
} in_msg_t;

static struct {
  pthread_mutex_t mu;
  const iotkit_transport_events_t *ev;
  bool up, connecting, drop, refuse, hold;
  capture_msg_t msgs[MAX_MSGS];
  size_t n;
  uint32_t next_id, confirmed_to; /* ids (confirmed_to, next_id] await confirmation */
  char *subs[MAX_SUBS];
  size_t nsubs;
  in_msg_t in[MAX_IN];
  size_t nin;
  int creates, connects;
  char will_channel[256], will_payload[256], password[256];
  bool will_retain;
} cap = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void clear_subs(void) {
  for (size_t i = 0; i < cap.nsubs; i++) free(cap.subs[i]);
  cap.nsubs = 0;
}

static iotkit_err_t c_create(const iotkit_transport_config_t *cfg, const iotkit_transport_events_t *ev, void **ctx) {
  pthread_mutex_lock(&cap.mu);
  cap.ev = ev;
  cap.creates++;
  cap.up = cap.connecting = cap.drop = false;
  cap.confirmed_to = cap.next_id = 0;
  snprintf(cap.will_channel, sizeof cap.will_channel, "%s", cfg->will.channel ? cfg->will.channel : "");
  snprintf(cap.will_payload, sizeof cap.will_payload, "%.*s", (int)cfg->will.payload_len,
           cfg->will.payload ? (const char *)cfg->will.payload : "");
  cap.will_retain = cfg->will.retain;
  snprintf(cap.password, sizeof cap.password, "%s", cfg->password ? cfg->password : "(none)");
  clear_subs();
  pthread_mutex_unlock(&cap.mu);
  *ctx = &cap;
  return IOTKIT_OK;
}

static void c_destroy(void *ctx) {
  (void)ctx;
  pthread_mutex_lock(&cap.mu);
  cap.up = cap.connecting = false;
  cap.ev = NULL;
  clear_subs();
  pthread_mutex_unlock(&cap.mu);
}

static iotkit_err_t c_connect(void *ctx) {
  (void)ctx;
  pthread_mutex_lock(&cap.mu);
  cap.connects++;
  bool refuse = cap.refuse;
  if (!refuse) cap.connecting = true;
  pthread_mutex_unlock(&cap.mu);
  return refuse ? IOTKIT_ERR_CONNECT : IOTKIT_OK;
}

static iotkit_err_t c_disconnect(void *ctx) {
  (void)ctx;
  pthread_mutex_lock(&cap.mu);
  cap.up = false;
  const iotkit_transport_events_t *ev = cap.ev;
  pthread_mutex_unlock(&cap.mu);
  ev->disconnected(ev->user, IOTKIT_OK, "");
  return IOTKIT_OK;
}

static iotkit_err_t c_send(void *ctx, const iotkit_message_t *msg, uint32_t *id) {
  (void)ctx;
  pthread_mutex_lock(&cap.mu);
  iotkit_err_t rc = IOTKIT_ERR_NOT_CONNECTED;
  if (cap.up && cap.n < MAX_MSGS) {
    capture_msg_t *m = &cap.msgs[cap.n++];
    m->channel = strdup(msg->channel);
    m->payload = malloc(msg->len + 1);
    memcpy(m->payload, msg->payload ? msg->payload : "", msg->len);
    m->payload[msg->len] = '\0';
    m->len = msg->len;
    m->qos = msg->qos;
    m->retain = msg->retain;
    *id = ++cap.next_id;
    rc = IOTKIT_OK;
  }
  pthread_mutex_unlock(&cap.mu);
  return rc;
}

static iotkit_err_t c_subscribe(void *ctx, const char *channel, int qos) {
  (void)ctx;
  (void)qos;
  pthread_mutex_lock(&cap.mu);
  if (cap.nsubs < MAX_SUBS) cap.subs[cap.nsubs++] = strdup(channel);
  pthread_mutex_unlock(&cap.mu);
  return IOTKIT_OK;
}

static iotkit_err_t c_poll(void *ctx, int timeout_ms) {
  (void)ctx;
  (void)timeout_ms;
  pthread_mutex_lock(&cap.mu);
  const iotkit_transport_events_t *ev = cap.ev;
  bool connected = cap.connecting;
  cap.connecting = false;
  if (connected) cap.up = true;
  uint32_t from = cap.confirmed_to, to = cap.hold ? cap.confirmed_to : cap.next_id;
  cap.confirmed_to = to;
  size_t nin = cap.up ? cap.nin : 0;
  in_msg_t in[MAX_IN];
  memcpy(in, cap.in, nin * sizeof(in_msg_t));
  if (nin) cap.nin = 0;
  bool drop = cap.drop && cap.up;
  if (drop) cap.up = cap.drop = false;
  pthread_mutex_unlock(&cap.mu);
  if (!ev) return IOTKIT_OK;
  if (connected) ev->connected(ev->user);
  for (uint32_t id = from + 1; id <= to; id++) ev->delivery(ev->user, id, IOTKIT_OK);
  for (size_t i = 0; i < nin; i++) {
    ev->message(ev->user, in[i].channel, in[i].payload, in[i].len);
    free(in[i].channel);
    free(in[i].payload);
  }
  if (drop) ev->disconnected(ev->user, IOTKIT_ERR_CONNECTION_LOST, "capture: connection dropped");
  return IOTKIT_OK;
}

static int c_fd(void *ctx) {
  (void)ctx;
  return -1;
}

static const char *c_last_error(void *ctx) {
  (void)ctx;
  return "";
}

static const char *const c_schemes[] = {"cap", NULL};
static const iotkit_transport_ops_t c_ops = {
    .name = "capture",
    .schemes = c_schemes,
    .create = c_create,
    .destroy = c_destroy,
    .connect = c_connect,
    .disconnect = c_disconnect,
    .send = c_send,
    .subscribe = c_subscribe,
    .poll = c_poll,
    .fd = c_fd,
    .last_error = c_last_error,
};

static iotkit_transport_registry_t *g_reg;
static void free_reg(void) { iotkit_transport_registry_free(g_reg); }

iotkit_transport_registry_t *capture_registry(void) {
  if (!g_reg) {
    if (iotkit_transport_registry_new(&g_reg) != IOTKIT_OK || iotkit_transport_register(g_reg, &c_ops) != IOTKIT_OK)
      return NULL;
    atexit(free_reg);
  }
  return g_reg;
}

void capture_reset(void) {
  pthread_mutex_lock(&cap.mu);
  for (size_t i = 0; i < cap.n; i++) {
    free(cap.msgs[i].channel);
    free(cap.msgs[i].payload);
  }
  cap.n = 0;
  for (size_t i = 0; i < cap.nin; i++) {
    free(cap.in[i].channel);
    free(cap.in[i].payload);
  }
  cap.nin = 0;
  cap.drop = cap.refuse = cap.hold = false;
  pthread_mutex_unlock(&cap.mu);
}

size_t capture_count(void) {
  pthread_mutex_lock(&cap.mu);
  size_t n = cap.n;
  pthread_mutex_unlock(&cap.mu);
  return n;
}

const capture_msg_t *capture_get(size_t i) {
  pthread_mutex_lock(&cap.mu);
  const capture_msg_t *m = i < cap.n ? &cap.msgs[i] : NULL;
  pthread_mutex_unlock(&cap.mu);
  return m;
}

size_t capture_count_on(const char *channel) {
  size_t k = 0;
  pthread_mutex_lock(&cap.mu);
  for (size_t i = 0; i < cap.n; i++) k += strcmp(cap.msgs[i].channel, channel) == 0;
  pthread_mutex_unlock(&cap.mu);
  return k;
}

const capture_msg_t *capture_last_on(const char *channel) {
  const capture_msg_t *m = NULL;
  pthread_mutex_lock(&cap.mu);
  for (size_t i = 0; i < cap.n; i++)
    if (strcmp(cap.msgs[i].channel, channel) == 0) m = &cap.msgs[i];
  pthread_mutex_unlock(&cap.mu);
  return m;
}

void capture_inject(const char *channel, const void *payload, size_t len) {
  pthread_mutex_lock(&cap.mu);
  if (cap.nin < MAX_IN) {
    in_msg_t *m = &cap.in[cap.nin++];
    m->channel = strdup(channel);
    m->payload = malloc(len ? len : 1);
    if (len) memcpy(m->payload, payload, len);
    m->len = len;
  }
  pthread_mutex_unlock(&cap.mu);
}

void capture_drop(void) {
  pthread_mutex_lock(&cap.mu);
  cap.drop = true;
  pthread_mutex_unlock(&cap.mu);
}

void capture_refuse(bool on) {
  pthread_mutex_lock(&cap.mu);
  cap.refuse = on;
  pthread_mutex_unlock(&cap.mu);
}

bool capture_subscribed(const char *channel) {
  bool found = false;
  pthread_mutex_lock(&cap.mu);
  for (size_t i = 0; i < cap.nsubs; i++) found = found || strcmp(cap.subs[i], channel) == 0;
  pthread_mutex_unlock(&cap.mu);
  return found;
}

int capture_creates(void) { return cap.creates; }
int capture_connects(void) { return cap.connects; }
const char *capture_will_payload(void) { return cap.will_payload; }
const char *capture_will_channel(void) { return cap.will_channel; }
bool capture_will_retained(void) { return cap.will_retain; }
const char *capture_password(void) { return cap.password; }

void capture_hold(bool on) {
  pthread_mutex_lock(&cap.mu);
  cap.hold = on;
  pthread_mutex_unlock(&cap.mu);
}
