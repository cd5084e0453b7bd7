/* Connect, disconnect, publish, subscribe and poll. */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "device/device_internal.h"

/* The slice of time one transport poll may take while we wait for something. */
#define WAIT_SLICE_MS 100u

static const char *transport_detail(const iotkit_device_t *dev, iotkit_err_t err) {
  const char *d = dev->tctx && dev->ops->last_error ? dev->ops->last_error(dev->tctx) : NULL;
  return d && *d ? iotkit__device_trim_detail(dev, d) : iotkit_strerror(err);
}

/* Connect failures keep their documented code; anything else a backend may
   report while connecting (I/O, protocol, lost connection) is a connect failure. */
static iotkit_err_t map_connect_err(iotkit_err_t err) {
  switch (err) {
    case IOTKIT_ERR_CONNECT:
    case IOTKIT_ERR_AUTH:
    case IOTKIT_ERR_TLS:
    case IOTKIT_ERR_TIMEOUT:
    case IOTKIT_ERR_NOMEM: return err;
    default: return IOTKIT_ERR_CONNECT;
  }
}

uint64_t iotkit__device_now(const iotkit_device_t *dev) { return dev->hal->monotonic_ms(dev->hal->ctx); }

/* Poll the transport until done(dev) holds, the transport fails, or @p budget_ms passes.
   Returns true if done() held. */
bool iotkit__device_poll_until(iotkit_device_t *dev, bool (*done)(iotkit_device_t *), uint32_t budget_ms,
                       iotkit_err_t *poll_err) {
  uint64_t start = iotkit__device_now(dev);
  *poll_err = IOTKIT_OK;
  while (!done(dev)) {
    uint64_t spent = iotkit__device_now(dev) - start;
    if (spent >= budget_ms) return false;
    uint64_t left = budget_ms - spent;
    iotkit_err_t err = dev->ops->poll(dev->tctx, (int)(left < WAIT_SLICE_MS ? left : WAIT_SLICE_MS));
    if (err != IOTKIT_OK && !done(dev)) {
      *poll_err = err;
      return false;
    }
  }
  return true;
}

static bool connect_settled(iotkit_device_t *dev) {
  return dev->conn_fail != IOTKIT_OK || iotkit_device_is_connected(dev);
}

static bool is_down(iotkit_device_t *dev) { return !iotkit_device_is_connected(dev); }

static bool flushed(iotkit_device_t *dev) {
  iotkit__device_lock(dev);
  bool done = dev->outstanding == 0 || !dev->connected;
  iotkit__device_unlock(dev);
  return done;
}

iotkit_err_t iotkit_device_connect(iotkit_device_t *dev) {
  if (!dev) return IOTKIT_ERR_INVALID_ARG;
  /* From a callback the transport is inside one of its own calls: no re-entry. */
  if (dev->running || iotkit__device_in_callback(dev) || iotkit_device_is_connected(dev)) {
    iotkit__device_set_error(dev, "connect refused: %s",
                             dev->running                        ? "the background loop runs (it connects by itself)"
                             : iotkit_device_is_connected(dev) ? "already connected"
                                                                 : "called from a callback of this device");
    return IOTKIT_ERR_STATE;
  }
  iotkit__device_desired_restore(dev);

  char ep[300];
  iotkit__device_endpoint(dev, ep, sizeof(ep));
  iotkit_err_t err = iotkit__device_attempt(dev);
  if (err == IOTKIT_OK) {
    iotkit_err_t poll_err;
    bool settled = iotkit__device_poll_until(dev, connect_settled, dev->connect_timeout_ms, &poll_err);
    if (dev->conn_fail != IOTKIT_OK) {
      err = dev->conn_fail; /* the event handler wrote the detail */
    } else if (poll_err != IOTKIT_OK) {
      err = poll_err;
      iotkit__device_set_error(dev, "cannot connect to %s: %s", ep, transport_detail(dev, err));
    } else if (!settled) {
      err = IOTKIT_ERR_TIMEOUT;
      iotkit__device_set_error(dev, "cannot connect to %s: no session within %u ms", ep,
                               (unsigned)dev->connect_timeout_ms);
    }
  }
  dev->connecting = false;
  iotkit__device_fd_update(dev); /* a backend may get its descriptor only once connected */
  if (err != IOTKIT_OK) {
    /* Drop the half-open attempt so that no late event reaches the user. */
    iotkit__device_close_transport(dev);
    iotkit_hal_logf(dev->hal, IOTKIT_LOG_WARN, "device %s: connect to %s failed (%s)", dev->device_id, ep,
                    iotkit_err_name(err));
    /* A device that was supervised (it lost its session) keeps trying by itself. */
    if (dev->sup != IOTKIT__SUP_IDLE) iotkit__device_backoff(dev);
    return map_connect_err(err);
  }
  dev->sup = IOTKIT__SUP_UP;
  dev->attempts = 0;
  return IOTKIT_OK;
}

iotkit_err_t iotkit_device_disconnect(iotkit_device_t *dev) {
  if (!dev) return IOTKIT_ERR_INVALID_ARG;
  if (dev->running || iotkit__device_in_callback(dev)) return IOTKIT_ERR_STATE;
  if (!dev->tctx || !iotkit_device_is_connected(dev)) return IOTKIT_ERR_NOT_CONNECTED;
  dev->sup = IOTKIT__SUP_IDLE; /* a requested end: no reconnect */
  iotkit__device_say_offline(dev);
  iotkit_err_t poll_err;
  /* Give what is queued a chance to be confirmed; the budget is the connect timeout. */
  (void)iotkit__device_poll_until(dev, flushed, dev->connect_timeout_ms, &poll_err);
  iotkit_err_t err = dev->ops->disconnect(dev->tctx);
  if (err == IOTKIT_OK && !iotkit__device_poll_until(dev, is_down, dev->connect_timeout_ms, &poll_err)) {
    err = poll_err != IOTKIT_OK ? poll_err : IOTKIT_ERR_TIMEOUT;
  }
  if (err != IOTKIT_OK) {
    char ep[300];
    iotkit__device_endpoint(dev, ep, sizeof(ep));
    iotkit__device_set_error(dev, "disconnect from %s: %s", ep, transport_detail(dev, err));
    /* Whatever happened, the device ends up disconnected. */
    iotkit__device_close_transport(dev);
  }
  iotkit__device_fd_update(dev);
  return err;
}

void iotkit__device_goodbye(iotkit_device_t *dev) {
  if (!dev->tctx || !iotkit_device_is_connected(dev)) return;
  iotkit_err_t poll_err;
  uint32_t budget = dev->connect_timeout_ms < IOTKIT__DEVICE_GOODBYE_MS ? dev->connect_timeout_ms
                                                                          : IOTKIT__DEVICE_GOODBYE_MS;
  dev->sup = IOTKIT__SUP_IDLE;
  iotkit__device_say_offline(dev);
  (void)iotkit__device_poll_until(dev, flushed, budget, &poll_err);
  if (dev->ops->disconnect(dev->tctx) == IOTKIT_OK) (void)iotkit__device_poll_until(dev, is_down, budget, &poll_err);
}

/* With @p own, the message is the library's: ids_lock is held across send() so that
   its confirmation, which may come first, can be recognised and kept from the application. */
static iotkit_err_t send_on(iotkit_device_t *dev, const char *channel, const void *payload, size_t len, int qos,
                            bool retain, bool own, uint32_t *msg_id) {
  iotkit__device_lock(dev);
  bool up = dev->connected;
  if (up) dev->outstanding++; /* before send(): its confirmation may come first */
  iotkit__device_unlock(dev);
  /* the last error keeps saying why the session ended, which is what explains this */
  if (!up) return IOTKIT_ERR_NOT_CONNECTED;

  iotkit_message_t msg = {.channel = channel, .payload = payload, .len = len, .qos = qos, .retain = retain};
  uint32_t id = 0;
  if (own) dev->hal->mutex_lock(dev->hal->ctx, dev->ids_lock);
  iotkit__device_send_lock(dev);
  void *sealed = NULL;
  iotkit_err_t err = iotkit__device_e2e_seal(dev, &msg, &sealed);
  bool seal_failed = err != IOTKIT_OK;
  if (!seal_failed) err = dev->tctx ? dev->ops->send(dev->tctx, &msg, &id) : IOTKIT_ERR_NOT_CONNECTED;
  iotkit__device_send_unlock(dev);
  free(sealed);
  if (own) {
    if (err == IOTKIT_OK) {
      /* Full: forget the oldest; its confirmation then reaches the application, harmlessly. */
      if (dev->n_own_ids == IOTKIT__DEVICE_OWN_IDS) {
        memmove(dev->own_ids, dev->own_ids + 1, (IOTKIT__DEVICE_OWN_IDS - 1) * sizeof(uint32_t));
        dev->n_own_ids--;
      }
      dev->own_ids[dev->n_own_ids++] = id;
    }
    dev->hal->mutex_unlock(dev->hal->ctx, dev->ids_lock);
  }
  if (err != IOTKIT_OK) {
    iotkit__device_lock(dev);
    if (dev->outstanding > 0) dev->outstanding--;
    iotkit__device_unlock(dev);
    iotkit__device_set_error(dev, "publish on %s failed: %s", channel,
                             seal_failed ? iotkit_strerror(err) : transport_detail(dev, err));
    return err;
  }
  if (msg_id) *msg_id = id;
  return IOTKIT_OK;
}

bool iotkit__device_own_id_take(iotkit_device_t *dev, uint32_t id) {
  bool found = false;
  dev->hal->mutex_lock(dev->hal->ctx, dev->ids_lock);
  for (size_t i = 0; i < dev->n_own_ids && !found; i++) {
    if (dev->own_ids[i] != id) continue;
    found = true;
    memmove(dev->own_ids + i, dev->own_ids + i + 1, (dev->n_own_ids - i - 1) * sizeof(uint32_t));
    dev->n_own_ids--;
  }
  dev->hal->mutex_unlock(dev->hal->ctx, dev->ids_lock);
  return found;
}

iotkit_err_t iotkit__device_send_own(iotkit_device_t *dev, const char *channel, const char *payload, bool retain) {
  size_t len = strlen(payload);
  if (len > dev->max_payload) return IOTKIT_ERR_TOO_LARGE;
  return send_on(dev, channel, payload, len, 1, retain, true, NULL);
}

/* A refusal says so in the last error, so that it never shows an older, unrelated text. */
static iotkit_err_t check_payload(iotkit_device_t *dev, const void *payload, size_t len) {
  if (!payload && len) {
    iotkit__device_set_error(dev, "refused: a payload of %zu bytes without data", len);
    return IOTKIT_ERR_INVALID_ARG;
  }
  if (len > dev->max_payload) {
    iotkit__device_set_error(dev, "refused: a payload of %zu bytes exceeds max_payload (%zu)", len, dev->max_payload);
    return IOTKIT_ERR_TOO_LARGE;
  }
  return IOTKIT_OK;
}

iotkit_err_t iotkit_device_send_telemetry(iotkit_device_t *dev, const void *payload, size_t len, uint32_t *msg_id) {
  if (!dev) return IOTKIT_ERR_INVALID_ARG;
  iotkit_err_t err = check_payload(dev, payload, len);
  if (err != IOTKIT_OK) return err;
  if (iotkit__device_telemetry_durable(dev)) return iotkit__device_telemetry_send(dev, payload, len, msg_id);
  return iotkit__device_telemetry_send_direct(dev, payload, len, msg_id);
}

iotkit_err_t iotkit__device_send_telemetry_now(iotkit_device_t *dev, const void *payload, size_t len,
                                               uint32_t *msg_id) {
  return send_on(dev, dev->telemetry_channel, payload, len, dev->telemetry_qos, false, false, msg_id);
}

iotkit_err_t iotkit_device_publish(iotkit_device_t *dev, const char *suffix, const void *payload, size_t len,
                                   int qos, bool retain, uint32_t *msg_id) {
  if (!dev || !iotkit__device_suffix_ok(suffix, false) || qos < 0 || qos > 2) return IOTKIT_ERR_INVALID_ARG;
  iotkit_err_t err = check_payload(dev, payload, len);
  if (err != IOTKIT_OK) return err;
  char *channel = iotkit__device_channel(dev, suffix);
  if (!channel) return IOTKIT_ERR_NOMEM;
  err = send_on(dev, channel, payload, len, qos, retain, false, msg_id);
  free(channel);
  return err;
}

iotkit_err_t iotkit_device_poll(iotkit_device_t *dev, int timeout_ms) {
  if (!dev || timeout_ms < 0) return IOTKIT_ERR_INVALID_ARG;
  if (dev->running || iotkit__device_in_callback(dev)) return IOTKIT_ERR_STATE;
  /* Also while disconnected: an image that cannot reach the broker must not stay on trial. */
  iotkit__device_ota_poll(dev);
  if (!dev->tctx && dev->sup == IOTKIT__SUP_IDLE) return IOTKIT_ERR_NOT_CONNECTED;
  iotkit__device_supervise(dev, timeout_ms);
  return IOTKIT_OK;
}
