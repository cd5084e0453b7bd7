/* The application's subscriptions: remembered, so that every new session
   (after a reconnect) has them again. */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "device/device_internal.h"

struct iotkit__sub {
  struct iotkit__sub *next;
  char *channel;
  int qos;
  bool applied; /* made in the current session */
};

void iotkit__device_subs_free(iotkit_device_t *dev) {
  while (dev->subs) {
    struct iotkit__sub *s = dev->subs;
    dev->subs = s->next;
    free(s->channel);
    free(s);
  }
}

void iotkit__device_subs_reset(iotkit_device_t *dev) {
  iotkit__device_lock(dev);
  for (struct iotkit__sub *s = dev->subs; s; s = s->next) s->applied = false;
  iotkit__device_unlock(dev);
}

/* Remember @p channel (taken) or update its QoS; the lock is held. */
static iotkit_err_t remember(iotkit_device_t *dev, char *channel, int qos, bool applied) {
  for (struct iotkit__sub *s = dev->subs; s; s = s->next) {
    if (strcmp(s->channel, channel) == 0) {
      s->applied = applied || (s->applied && s->qos == qos);
      s->qos = qos;
      free(channel);
      return IOTKIT_OK;
    }
  }
  struct iotkit__sub *s = calloc(1, sizeof(*s));
  if (!s) {
    free(channel);
    return IOTKIT_ERR_NOMEM;
  }
  s->channel = channel;
  s->qos = qos;
  s->applied = applied;
  struct iotkit__sub **tail = &dev->subs;
  while (*tail) tail = &(*tail)->next;
  *tail = s;
  return IOTKIT_OK;
}

/* Runs in the thread that polls; the list only grows while the device lives,
   so an entry stays valid after the lock is released. */
void iotkit__device_apply_subs(iotkit_device_t *dev) {
  for (;;) {
    iotkit__device_lock(dev);
    struct iotkit__sub *s = dev->subs;
    while (s && s->applied) s = s->next;
    bool up = dev->connected;
    iotkit__device_unlock(dev);
    if (!s || !up || !dev->tctx) return;
    iotkit_err_t err = dev->ops->subscribe(dev->tctx, s->channel, s->qos);
    if (err != IOTKIT_OK) {
      iotkit__device_set_error(dev, "subscribe to %s failed: %s", s->channel, iotkit_strerror(err));
      iotkit_hal_logf(dev->hal, IOTKIT_LOG_WARN, "device %s: subscribe to %s failed (%s)", dev->device_id,
                      s->channel, iotkit_err_name(err));
    }
    iotkit__device_lock(dev);
    s->applied = true; /* a failure is not retried until the next session */
    iotkit__device_unlock(dev);
  }
}

iotkit_err_t iotkit_device_subscribe(iotkit_device_t *dev, const char *suffix, int qos) {
  if (!dev || !iotkit__device_suffix_ok(suffix, true) || qos < 0 || qos > 2) return IOTKIT_ERR_INVALID_ARG;
  bool running = dev->running;
  if (!running && (!dev->tctx || !iotkit_device_is_connected(dev))) return IOTKIT_ERR_NOT_CONNECTED;
  char *channel = iotkit__device_channel(dev, suffix);
  if (!channel) return IOTKIT_ERR_NOMEM;
  if (running) {
    /* The loop thread owns the transport: it subscribes on its next turn. */
    iotkit__device_lock(dev);
    iotkit_err_t err = remember(dev, channel, qos, false);
    iotkit__device_unlock(dev);
    return err;
  }
  iotkit_err_t err = dev->ops->subscribe(dev->tctx, channel, qos);
  if (err != IOTKIT_OK) {
    iotkit__device_set_error(dev, "subscribe to %s failed: %s", channel, iotkit_strerror(err));
    free(channel);
    return err;
  }
  iotkit__device_lock(dev);
  err = remember(dev, channel, qos, true);
  iotkit__device_unlock(dev);
  return err;
}
