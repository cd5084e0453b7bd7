/* See crash_transport.h. Every operation is the MQTT backend's, except send and
   disconnect of an armed client id. */
#include "crash_transport.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARMED 4096

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char *armed[MAX_ARMED];
static size_t n_armed;

typedef struct {
  void *real;
  char id[IOTKIT_MAX_DEVICE_ID + 1];
} wrap_t;

static const iotkit_transport_ops_t *real(void) { return iotkit_transport_mqtt(); }

static bool is_armed(const wrap_t *w) {
  pthread_mutex_lock(&mu);
  bool yes = false;
  for (size_t i = 0; i < n_armed && !yes; i++) yes = strcmp(armed[i], w->id) == 0;
  pthread_mutex_unlock(&mu);
  return yes;
}

void crash_transport_arm(const char *client_id) {
  pthread_mutex_lock(&mu);
  if (n_armed < MAX_ARMED) armed[n_armed++] = strdup(client_id);
  pthread_mutex_unlock(&mu);
}

static iotkit_err_t w_create(const iotkit_transport_config_t *cfg, const iotkit_transport_events_t *ev, void **ctx) {
  wrap_t *w = calloc(1, sizeof *w);
  if (!w) return IOTKIT_ERR_NOMEM;
  strncpy(w->id, cfg->client_id ? cfg->client_id : "", sizeof w->id - 1);
  iotkit_err_t rc = real()->create(cfg, ev, &w->real);
  if (rc != IOTKIT_OK) {
    free(w);
    return rc;
  }
  *ctx = w;
  return IOTKIT_OK;
}

static void w_destroy(void *ctx) {
  wrap_t *w = ctx;
  if (!w) return;
  real()->destroy(w->real);
  free(w);
}

static iotkit_err_t w_connect(void *ctx) { return real()->connect(((wrap_t *)ctx)->real); }

static iotkit_err_t w_disconnect(void *ctx) {
  wrap_t *w = ctx;
  return is_armed(w) ? IOTKIT_ERR_CONNECTION_LOST : real()->disconnect(w->real);
}

static iotkit_err_t w_send(void *ctx, const iotkit_message_t *msg, uint32_t *id) {
  wrap_t *w = ctx;
  return is_armed(w) ? IOTKIT_ERR_NOT_CONNECTED : real()->send(w->real, msg, id);
}

static iotkit_err_t w_subscribe(void *ctx, const char *channel, int qos) {
  return real()->subscribe(((wrap_t *)ctx)->real, channel, qos);
}

static iotkit_err_t w_poll(void *ctx, int timeout_ms) { return real()->poll(((wrap_t *)ctx)->real, timeout_ms); }
static int w_fd(void *ctx) { return real()->fd(((wrap_t *)ctx)->real); }
static const char *w_last_error(void *ctx) { return real()->last_error(((wrap_t *)ctx)->real); }
static iotkit_err_t w_unsubscribe(void *ctx, const char *channel) {
  return real()->unsubscribe(((wrap_t *)ctx)->real, channel);
}
static int w_timeout_ms(void *ctx) { return real()->timeout_ms(((wrap_t *)ctx)->real); }
static int w_fd_events(void *ctx) {
  return real()->fd_events ? real()->fd_events(((wrap_t *)ctx)->real) : IOTKIT_FD_READ;
}

static const char *const schemes[] = {"mqtt", NULL};
static const iotkit_transport_ops_t ops = {
    .struct_size = sizeof(iotkit_transport_ops_t),
    .name = "mqtt-crash",
    .schemes = schemes,
    .create = w_create,
    .destroy = w_destroy,
    .connect = w_connect,
    .disconnect = w_disconnect,
    .send = w_send,
    .subscribe = w_subscribe,
    .poll = w_poll,
    .fd = w_fd,
    .last_error = w_last_error,
    .unsubscribe = w_unsubscribe,
    .timeout_ms = w_timeout_ms,
    .fd_events = w_fd_events,
};

static iotkit_transport_registry_t *reg;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void make(void) {
  if (!real()) return; /* built without MQTT */
  if (iotkit_transport_registry_new(&reg) == IOTKIT_OK && iotkit_transport_register(reg, &ops) != IOTKIT_OK) {
    iotkit_transport_registry_free(reg);
    reg = NULL;
  }
}

const iotkit_transport_registry_t *crash_transport_registry(void) {
  pthread_once(&once, make);
  return reg;
}
