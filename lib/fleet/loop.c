/*
 * Driving the fleet's session: one supervision step (attempt when due,
 * transport poll, attempt deadline, reconciliation deadline, stale check),
 * iotkit_fleet_poll(), the fleet's own thread (start/stop), and what an
 * external loop needs (fd, next timeout).
 */
#include <limits.h>

#include "fleet/control.h"
#include "fleet/fleet_internal.h"
#include "fleet/rollout.h"

uint64_t iotkit__fleet_mono(const iotkit_fleet_t *f) { return f->hal->monotonic_ms(f->hal->ctx); }
int64_t iotkit__fleet_wall(const iotkit_fleet_t *f) { return f->hal->wall_ms(f->hal->ctx); }
void iotkit__fleet_lock(const iotkit_fleet_t *f) { f->hal->mutex_lock(f->hal->ctx, f->lock); }
void iotkit__fleet_unlock(const iotkit_fleet_t *f) { f->hal->mutex_unlock(f->hal->ctx, f->lock); }

bool iotkit_fleet_is_connected(const iotkit_fleet_t *f) {
  if (!f) return false;
  iotkit__fleet_lock(f);
  bool up = f->connected;
  iotkit__fleet_unlock(f);
  return up;
}

static void attempt_failed(iotkit_fleet_t *f) {
  f->connecting = false;
  iotkit__fleet_close_transport(f);
  iotkit__fleet_backoff(f);
}

static void settle_attempt(iotkit_fleet_t *f) {
  if (f->sup != IOTKIT__FLEET_SUP_CONNECTING) return; /* connected moved it on */
  if (f->conn_fail != IOTKIT_OK) {
    iotkit_hal_logf(f->hal, IOTKIT_LOG_WARN, "fleet: connection attempt failed (%s)", iotkit_err_name(f->conn_fail));
    attempt_failed(f);
  } else if (iotkit__fleet_mono(f) - f->attempt_started > (uint64_t)f->connect_timeout_ms + IOTKIT__FLEET_ATTEMPT_GRACE_MS) {
    iotkit__fleet_set_error(f, "no session within %u ms", (unsigned)f->connect_timeout_ms);
    attempt_failed(f);
  }
}

void iotkit__fleet_supervise(iotkit_fleet_t *f, int timeout_ms) {
  uint64_t now = iotkit__fleet_mono(f);
  if (f->sup == IOTKIT__FLEET_SUP_WAIT && now >= f->next_attempt) {
    if (iotkit__fleet_attempt(f) == IOTKIT_OK) {
      f->sup = IOTKIT__FLEET_SUP_CONNECTING;
    } else {
      iotkit_hal_logf(f->hal, IOTKIT_LOG_WARN, "fleet: connection attempt failed at once");
      attempt_failed(f);
    }
  }
  if (f->sup == IOTKIT__FLEET_SUP_WAIT || !f->tctx) {
    uint64_t left = f->sup == IOTKIT__FLEET_SUP_WAIT && f->next_attempt > now ? f->next_attempt - now : 0;
    if (left > (uint64_t)timeout_ms) left = (uint64_t)timeout_ms;
    if (left && f->hal->sleep_ms) f->hal->sleep_ms(f->hal->ctx, (uint32_t)left);
  } else {
    iotkit_err_t err = f->ops->poll(f->tctx, timeout_ms);
    if (err != IOTKIT_OK) iotkit__fleet_set_error(f, "poll: %s", iotkit_strerror(err));
    settle_attempt(f);
    /* A lost session's context has nothing more to say: drop it, so that a loop stops
       watching its descriptor until the next attempt makes a new one. */
    if (f->sup == IOTKIT__FLEET_SUP_WAIT) iotkit__fleet_close_transport(f);
  }
  if (f->syncing && iotkit__fleet_mono(f) >= f->sync_deadline) {
    iotkit_hal_logf(f->hal, IOTKIT_LOG_WARN, "fleet: the sync marker did not come back: reconciling now");
    iotkit__fleet_reconcile(f);
  }
  iotkit__fleet_stale_check(f);
  iotkit__fleet_control_tick(f);
  iotkit__fleet_rollouts_refresh(f);
  iotkit__fleet_rollout_step(f);
}

iotkit_err_t iotkit_fleet_poll(iotkit_fleet_t *f, int timeout_ms) {
  if (!f || timeout_ms < 0) return IOTKIT_ERR_INVALID_ARG;
  if (f->running || iotkit__fleet_in_callback(f)) return IOTKIT_ERR_STATE;
  if (!f->tctx && f->sup == IOTKIT__FLEET_SUP_IDLE) return IOTKIT_ERR_NOT_CONNECTED;
  iotkit__fleet_poll_enter(f); /* a blocking command call in another thread may drive it too */
  iotkit__fleet_supervise(f, timeout_ms);
  iotkit__fleet_poll_leave(f);
  return IOTKIT_OK;
}

static bool stop_requested(iotkit_fleet_t *f) {
  iotkit__fleet_lock(f);
  bool stop = f->stop_requested;
  iotkit__fleet_unlock(f);
  return stop;
}

static void loop_main(void *arg) {
  iotkit_fleet_t *f = arg;
  while (!stop_requested(f)) iotkit__fleet_supervise(f, IOTKIT__FLEET_LOOP_POLL_MS);
}

iotkit_err_t iotkit_fleet_start(iotkit_fleet_t *f) {
  if (!f) return IOTKIT_ERR_INVALID_ARG;
  if (f->running || iotkit__fleet_in_callback(f)) return IOTKIT_ERR_STATE;
  if (!f->hal->sleep_ms) return IOTKIT_ERR_UNSUPPORTED;
  if (f->sup == IOTKIT__FLEET_SUP_IDLE && !iotkit_fleet_is_connected(f)) {
    /* prepare() runs inside the first attempt's connect path: do it here, where its error can be told. */
    iotkit_err_t err = iotkit_fleet_connect(f);
    if (err == IOTKIT_ERR_INVALID_ARG || err == IOTKIT_ERR_BAD_URI || err == IOTKIT_ERR_UNKNOWN_SCHEME) return err;
    if (err != IOTKIT_OK && f->sup == IOTKIT__FLEET_SUP_IDLE) {
      f->sup = IOTKIT__FLEET_SUP_WAIT; /* keep trying in the thread */
      f->next_attempt = iotkit__fleet_mono(f);
    }
  }
  iotkit__fleet_lock(f);
  f->stop_requested = false;
  iotkit__fleet_unlock(f);
  f->running = true;
  iotkit_err_t err = f->hal->thread_start(f->hal->ctx, loop_main, f, &f->loop_thread);
  if (err != IOTKIT_OK) {
    f->running = false;
    f->loop_thread = NULL;
    iotkit__fleet_set_error(f, "cannot start the fleet's thread: %s", iotkit_strerror(err));
  }
  return err;
}

iotkit_err_t iotkit_fleet_stop(iotkit_fleet_t *f) {
  if (!f) return IOTKIT_ERR_INVALID_ARG;
  if (!f->running || iotkit__fleet_in_callback(f)) return IOTKIT_ERR_STATE;
  iotkit__fleet_lock(f);
  f->stop_requested = true;
  iotkit__fleet_unlock(f);
  iotkit_err_t err = f->hal->thread_join(f->hal->ctx, f->loop_thread);
  f->loop_thread = NULL;
  f->running = false;
  return err;
}

int iotkit_fleet_fd(const iotkit_fleet_t *f) {
  if (!f) return -1;
  iotkit__fleet_lock(f);
  int fd = f->fd;
  iotkit__fleet_unlock(f);
  return fd;
}

static void consider(int64_t *best, int64_t ms) {
  if (ms >= 0 && (*best < 0 || ms < *best)) *best = ms;
}

static int64_t until(uint64_t due, uint64_t now) { return due > now ? (int64_t)(due - now) : 0; }

int iotkit_fleet_next_timeout_ms(const iotkit_fleet_t *f) {
  if (!f || f->running) return -1;
  uint64_t now = iotkit__fleet_mono(f);
  int64_t best = -1;
  if (f->sup == IOTKIT__FLEET_SUP_WAIT) consider(&best, until(f->next_attempt, now));
  if (f->sup == IOTKIT__FLEET_SUP_CONNECTING)
    consider(&best, until(f->attempt_started + f->connect_timeout_ms + IOTKIT__FLEET_ATTEMPT_GRACE_MS + 1u, now));
  if (f->tctx && f->sup != IOTKIT__FLEET_SUP_IDLE) {
    if (!f->ops->timeout_ms || iotkit_fleet_fd(f) < 0) {
      consider(&best, IOTKIT__FLEET_LOOP_POLL_MS);
    } else {
      int t = f->ops->timeout_ms(f->tctx);
      consider(&best, t < 0 ? -1 : t);
    }
  }
  if (f->syncing) consider(&best, until(f->sync_deadline, now));
  if (f->heartbeat_ms && f->sup != IOTKIT__FLEET_SUP_IDLE) consider(&best, until(f->next_stale_check, now));
  consider(&best, iotkit__fleet_control_next_ms((iotkit_fleet_t *)f));
  return best > INT_MAX ? INT_MAX : (int)best;
}
