/* Driving a device from an external event loop: the descriptor to watch, the events
   to watch it for, how long the loop may sleep, and the callback that follows the
   descriptor from one transport context to the next. */
#include <limits.h>

#include "device/device_internal.h"

/* How often a transport must be polled when it cannot say (no timeout_ms()) or has no
   descriptor to wake the loop: the background loop's slice. */
#define NO_TIMEOUT_OP_MS IOTKIT__DEVICE_LOOP_POLL_MS

int iotkit_device_fd(const iotkit_device_t *dev) {
  if (!dev) return -1;
  iotkit__device_lock(dev);
  int fd = dev->fd;
  iotkit__device_unlock(dev);
  return fd;
}

int iotkit_device_fd_events(const iotkit_device_t *dev) {
  /* While the loop runs it owns the transport: the context may go away under us. */
  if (!dev || dev->running || !dev->tctx || iotkit_device_fd(dev) < 0) return 0;
  if (!dev->ops->fd_events) return IOTKIT_FD_READ;
  return dev->ops->fd_events(dev->tctx) & (IOTKIT_FD_READ | IOTKIT_FD_WRITE);
}

void iotkit__device_fd_update(iotkit_device_t *dev) {
  int now_fd = dev->tctx && dev->ops->fd ? dev->ops->fd(dev->tctx) : -1;
  if (now_fd < 0) now_fd = -1;
  iotkit__device_lock(dev);
  int old_fd = dev->fd;
  dev->fd = now_fd;
  iotkit__device_unlock(dev);
  if (old_fd == now_fd || dev->closing) return;
  iotkit__device_cb_enter(dev);
  iotkit__device_lock(dev);
  iotkit_fd_cb cb = dev->on_fd;
  void *user = dev->on_fd_user;
  iotkit__device_unlock(dev);
  if (cb) cb(dev, user, old_fd, now_fd);
  iotkit__device_cb_leave(dev);
}

/* Keep the smaller of *best and @p ms, where -1 means "nothing due". */
static void consider(int64_t *best, int64_t ms) {
  if (ms < 0) return;
  if (*best < 0 || ms < *best) *best = ms;
}

static int64_t until(uint64_t due, uint64_t now) { return due > now ? (int64_t)(due - now) : 0; }

/* What the transport itself needs; a backend without a descriptor cannot wake the loop. */
static int64_t transport_timeout(const iotkit_device_t *dev) {
  if (!dev->ops->timeout_ms || iotkit_device_fd(dev) < 0) return NO_TIMEOUT_OP_MS;
  int t = dev->ops->timeout_ms(dev->tctx);
  return t < 0 ? -1 : t;
}

int iotkit_device_next_timeout_ms(const iotkit_device_t *dev) {
  if (!dev || dev->running) return -1;
  uint64_t now = iotkit__device_now(dev);
  int64_t best = -1;
  /* iotkit_device_poll() enforces the trial limit even without a connection. */
  consider(&best, iotkit__device_ota_timeout_ms(dev, now));
  /* Everything else happens only in a poll that gets past "not connected". */
  if (dev->tctx || dev->sup != IOTKIT__SUP_IDLE) {
    if (dev->sup == IOTKIT__SUP_WAIT) consider(&best, until(dev->next_attempt, now));
    if (dev->sup == IOTKIT__SUP_CONNECTING)
      /* The supervisor gives up strictly after this much (settle_attempt). */
      consider(&best, until(dev->attempt_started + dev->connect_timeout_ms + IOTKIT__DEVICE_ATTEMPT_GRACE_MS + 1u,
                            now));
    /* A transport left after a requested disconnect (or a loss without auto_reconnect)
       has nothing to do: polling it would only spin. */
    if (dev->tctx && (dev->sup != IOTKIT__SUP_IDLE || iotkit_device_is_connected(dev)))
      consider(&best, transport_timeout(dev));
    consider(&best, iotkit__device_commands_timeout_ms(dev, now));
    consider(&best, iotkit__device_telemetry_timeout_ms(dev, now));
  }
  return best > INT_MAX ? INT_MAX : (int)best;
}
