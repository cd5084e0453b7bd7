/* Connection supervision: attempts with fresh credentials, reconnects with
   exponential backoff and full jitter, and the work that follows a new session.
   Runs in the thread that connects or polls (the loop thread after start()). */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "device/device_internal.h"

/* Let the application refresh the user name and password; they replace the stored ones. */
static iotkit_err_t refresh_credentials(iotkit_device_t *dev) {
  iotkit__device_lock(dev);
  bool has_cb = dev->on_credentials != NULL;
  iotkit__device_unlock(dev);
  if (!has_cb) return IOTKIT_OK;
  const size_t cap = IOTKIT_MAX_CREDENTIAL;
  char *u = calloc(1, cap), *p = calloc(1, cap);
  iotkit_err_t err = u && p ? IOTKIT_OK : IOTKIT_ERR_NOMEM;
  if (err == IOTKIT_OK) {
    iotkit__fmt(u, cap, "%s", dev->username ? dev->username : "");
    iotkit__fmt(p, cap, "%s", dev->password ? dev->password : "");
    /* Read again inside the dispatch: the setter may have cleared it meanwhile. */
    iotkit__device_cb_enter(dev);
    iotkit__device_lock(dev);
    iotkit_credentials_cb cb = dev->on_credentials;
    void *user = dev->on_credentials_user;
    iotkit__device_unlock(dev);
    if (cb) err = cb(dev, user, u, cap, p, cap);
    iotkit__device_cb_leave(dev);
    u[cap - 1] = '\0';
    p[cap - 1] = '\0';
  }
  if (err == IOTKIT_OK) {
    char *nu = *u ? iotkit__strdup(u) : NULL, *np = *p ? iotkit__strdup(p) : NULL;
    if ((*u && !nu) || (*p && !np)) {
      free(nu);
      iotkit__free_secret(np);
      err = IOTKIT_ERR_NOMEM;
    } else {
      free(dev->username);
      iotkit__free_secret(dev->password);
      dev->username = nu;
      dev->password = np;
    }
  } else {
    iotkit__device_set_error(dev, "the credentials callback failed: %s", iotkit_strerror(err));
  }
  if (u) iotkit__memzero(u, cap);
  if (p) iotkit__memzero(p, cap);
  free(u);
  free(p);
  return err;
}

iotkit_err_t iotkit__device_attempt(iotkit_device_t *dev) {
  /* A fresh transport for every attempt: it gets the refreshed credentials and
     the last will, and nothing of the old session can leak into the new one. */
  iotkit__device_close_transport(dev);
  dev->conn_fail = IOTKIT_OK;
  iotkit_err_t err = refresh_credentials(dev);
  if (err == IOTKIT_OK) err = iotkit__device_transport(dev);
  if (err != IOTKIT_OK) return err;
  char ep[300];
  iotkit__device_endpoint(dev, ep, sizeof(ep));
  iotkit_hal_logf(dev->hal, IOTKIT_LOG_INFO, "device %s: connecting to %s", dev->device_id, ep);
  dev->connecting = true;
  dev->attempt_started = iotkit__device_now(dev);
  err = dev->ops->connect(dev->tctx);
  if (err != IOTKIT_OK) {
    const char *d = dev->ops->last_error ? dev->ops->last_error(dev->tctx) : "";
    iotkit__device_set_error(dev, "cannot connect to %s: %s", ep,
                             d && *d ? iotkit__device_trim_detail(dev, d) : iotkit_strerror(err));
  }
  return err;
}

void iotkit__device_backoff(iotkit_device_t *dev) {
  uint64_t cap = dev->reconnect_min_ms;
  for (uint32_t i = 0; i < dev->attempts && cap < dev->reconnect_max_ms; i++) cap *= 2;
  if (cap > dev->reconnect_max_ms) cap = dev->reconnect_max_ms;
  uint32_t r = UINT32_MAX;
  if (dev->hal->random(dev->hal->ctx, &r, sizeof(r)) != IOTKIT_OK) r = UINT32_MAX;
  /* Full jitter: uniform in [0, cap], so that a fleet cut off at once does not come back at once. */
  uint64_t delay = r % (cap + 1);
  if (dev->attempts < UINT32_MAX) dev->attempts++;
  dev->next_attempt = iotkit__device_now(dev) + delay;
  dev->sup = IOTKIT__SUP_WAIT;
  iotkit_hal_logf(dev->hal, IOTKIT_LOG_INFO, "device %s: next connection attempt in %u ms", dev->device_id,
                  (unsigned)delay);
}

static void attempt_failed(iotkit_device_t *dev) {
  dev->connecting = false;
  iotkit__device_close_transport(dev);
  iotkit__device_backoff(dev);
}

/* Check on an attempt under way after a poll. */
static void settle_attempt(iotkit_device_t *dev) {
  if (dev->sup != IOTKIT__SUP_CONNECTING) return; /* the connected event moved it on */
  if (dev->conn_fail != IOTKIT_OK) {
    iotkit_hal_logf(dev->hal, IOTKIT_LOG_WARN, "device %s: connection attempt failed (%s)", dev->device_id,
                    iotkit_err_name(dev->conn_fail));
    attempt_failed(dev);
  } else if (iotkit__device_now(dev) - dev->attempt_started > (uint64_t)dev->connect_timeout_ms + IOTKIT__DEVICE_ATTEMPT_GRACE_MS) {
    iotkit__device_set_error(dev, "no session within %u ms", (unsigned)dev->connect_timeout_ms);
    attempt_failed(dev);
  }
}

void iotkit__device_supervise(iotkit_device_t *dev, int timeout_ms) {
  iotkit__device_desired_restore(dev);
  uint64_t now = iotkit__device_now(dev);
  if (dev->sup == IOTKIT__SUP_WAIT && now >= dev->next_attempt) {
    if (iotkit__device_attempt(dev) == IOTKIT_OK) {
      dev->sup = IOTKIT__SUP_CONNECTING;
    } else {
      iotkit_hal_logf(dev->hal, IOTKIT_LOG_WARN, "device %s: connection attempt failed at once", dev->device_id);
      attempt_failed(dev);
    }
  }
  if (dev->sup == IOTKIT__SUP_WAIT) {
    /* Nothing to poll: wait for the next attempt, at most the caller's time. */
    uint64_t left = dev->next_attempt > now ? dev->next_attempt - now : 0;
    if (left > (uint64_t)timeout_ms) left = (uint64_t)timeout_ms;
    if (left && dev->hal->sleep_ms) dev->hal->sleep_ms(dev->hal->ctx, (uint32_t)left);
  } else if (dev->tctx) {
    iotkit_err_t err = dev->ops->poll(dev->tctx, timeout_ms);
    if (err != IOTKIT_OK) iotkit__device_set_error(dev, "poll: %s", iotkit_strerror(err));
    settle_attempt(dev);
    /* A lost session's transport has nothing more to say (the next attempt makes a new
       one): drop it now, so that an external loop stops watching its descriptor (-1
       through the fd callback) instead of waking on a dead one until then. */
    if (dev->sup == IOTKIT__SUP_WAIT) iotkit__device_close_transport(dev);
  }
  iotkit__device_apply_subs(dev);
  iotkit__device_commands_sweep(dev);
  iotkit__device_edge_run(dev);
  iotkit__device_telemetry_pump(dev);
  /* A backend may get its descriptor only once connected. */
  iotkit__device_fd_update(dev);
}

static void subscribe_own(iotkit_device_t *dev, const char *channel) {
  iotkit_err_t err = dev->ops->subscribe(dev->tctx, channel, 1);
  if (err != IOTKIT_OK) {
    iotkit__device_set_error(dev, "subscribe to %s failed: %s", channel, iotkit_strerror(err));
    iotkit_hal_logf(dev->hal, IOTKIT_LOG_ERROR, "device %s: subscribe to %s failed (%s)", dev->device_id, channel,
                    iotkit_err_name(err));
  }
}

void iotkit__device_session_up(iotkit_device_t *dev) {
  subscribe_own(dev, dev->desired_channel);
  subscribe_own(dev, dev->request_channel);
  iotkit__device_subs_reset(dev);
  iotkit__device_apply_subs(dev);
  char *online = iotkit__device_status_json(dev, true);
  if (!online || iotkit__device_send_own(dev, dev->status_channel, online, true) != IOTKIT_OK)
    iotkit_hal_logf(dev->hal, IOTKIT_LOG_WARN, "device %s: could not publish the online status", dev->device_id);
  free(online);
  iotkit__device_state_resend(dev);
  iotkit__device_ota_session_up(dev);
}
