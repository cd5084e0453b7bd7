/*
 * The fleet's callbacks: setters, the dispatch bracket, and the callers.
 *
 * As on the device (lib/device/device_dispatch.c): every call of a user
 * callback holds cb_lock for its length, and the callback and user pointers
 * are read under lock after it is taken. A setter swaps the pointers under
 * lock, then takes and releases cb_lock: once it returns, a call still running
 * with the old pointers has ended. The thread holding cb_lock is recorded
 * (cb_owner, cb_depth), so that a callback calling a setter or another query
 * of its own fleet neither takes cb_lock twice nor waits for itself. Without
 * the HAL's thread_self cb_lock is not used and setters do not wait.
 */
#include "fleet/fleet_internal.h"

static uint64_t self_id(const iotkit_fleet_t *f) {
  return f->hal->thread_self ? f->hal->thread_self(f->hal->ctx) : 0;
}

void iotkit__fleet_cb_enter(iotkit_fleet_t *f) {
  uint64_t self = self_id(f);
  iotkit__fleet_lock(f);
  if ((f->cb_depth > 0 && f->cb_owner == self) || self == 0) {
    f->cb_depth++;
    iotkit__fleet_unlock(f);
    return;
  }
  iotkit__fleet_unlock(f);
  f->hal->mutex_lock(f->hal->ctx, f->cb_lock);
  iotkit__fleet_lock(f);
  f->cb_owner = self;
  f->cb_depth = 1;
  iotkit__fleet_unlock(f);
}

void iotkit__fleet_cb_leave(iotkit_fleet_t *f) {
  iotkit__fleet_lock(f);
  bool release = false;
  if (f->cb_depth > 0 && --f->cb_depth == 0 && f->cb_owner != 0) {
    f->cb_owner = 0;
    release = true;
  }
  iotkit__fleet_unlock(f);
  if (release) f->hal->mutex_unlock(f->hal->ctx, f->cb_lock);
}

bool iotkit__fleet_in_callback(const iotkit_fleet_t *f) {
  uint64_t self = self_id(f);
  iotkit__fleet_lock(f);
  bool in = f->cb_depth > 0 && (self != 0 ? f->cb_owner == self : !f->running);
  iotkit__fleet_unlock(f);
  return in;
}

static void cb_wait(iotkit_fleet_t *f) {
  if (self_id(f) == 0 || iotkit__fleet_in_callback(f)) return;
  f->hal->mutex_lock(f->hal->ctx, f->cb_lock);
  f->hal->mutex_unlock(f->hal->ctx, f->cb_lock);
}

#define IOTKIT__FLEET_SETTER(fn, type, field)                  \
  iotkit_err_t fn(iotkit_fleet_t *fleet, type cb, void *user) { \
    if (!fleet) return IOTKIT_ERR_INVALID_ARG;                  \
    iotkit__fleet_lock(fleet);                                  \
    fleet->field = cb;                                          \
    fleet->field##_user = cb ? user : NULL;                     \
    iotkit__fleet_unlock(fleet);                                \
    cb_wait(fleet);                                             \
    return IOTKIT_OK;                                           \
  }

IOTKIT__FLEET_SETTER(iotkit_fleet_on_connection, iotkit_fleet_connection_cb, on_connection)
IOTKIT__FLEET_SETTER(iotkit_fleet_on_status, iotkit_fleet_status_cb, on_status)
IOTKIT__FLEET_SETTER(iotkit_fleet_on_telemetry, iotkit_fleet_telemetry_cb, on_telemetry)
IOTKIT__FLEET_SETTER(iotkit_fleet_on_state, iotkit_fleet_state_cb, on_state)
IOTKIT__FLEET_SETTER(iotkit_fleet_on_event, iotkit_fleet_event_cb, on_event)
IOTKIT__FLEET_SETTER(iotkit_fleet_on_location, iotkit_fleet_location_cb, on_location)
IOTKIT__FLEET_SETTER(iotkit_fleet_on_stale, iotkit_fleet_stale_cb, on_stale)

/* Read a callback and its user pointer inside the bracket; NULL while closing. */
#define IOTKIT__FLEET_CALL(f, cbtype, field, ...)           \
  do {                                                      \
    iotkit__fleet_cb_enter(f);                              \
    iotkit__fleet_lock(f);                                  \
    cbtype cb_ = (f)->closing ? NULL : (f)->field;            \
    void *user_ = (f)->field##_user;                        \
    iotkit__fleet_unlock(f);                                \
    if (cb_) cb_((f), user_, __VA_ARGS__);                  \
    iotkit__fleet_cb_leave(f);                              \
  } while (0)

void iotkit__fleet_notify_connection(iotkit_fleet_t *f, bool up, iotkit_err_t reason, const char *detail) {
  IOTKIT__FLEET_CALL(f, iotkit_fleet_connection_cb, on_connection, up, reason, detail ? detail : "");
}

void iotkit__fleet_notify_status(iotkit_fleet_t *f, const char *id, bool online, const char *reason, int64_t ts) {
  IOTKIT__FLEET_CALL(f, iotkit_fleet_status_cb, on_status, id, online, reason, ts);
}

void iotkit__fleet_notify_stale(iotkit_fleet_t *f, const char *id, bool stale, int64_t last_seen) {
  IOTKIT__FLEET_CALL(f, iotkit_fleet_stale_cb, on_stale, id, stale, last_seen);
}

void iotkit__fleet_notify_telemetry(iotkit_fleet_t *f, const char *id, const iotkit_telemetry_batch_t *batch) {
  IOTKIT__FLEET_CALL(f, iotkit_fleet_telemetry_cb, on_telemetry, id, batch);
}

void iotkit__fleet_notify_state(iotkit_fleet_t *f, const char *id, const char *state, int64_t ts) {
  IOTKIT__FLEET_CALL(f, iotkit_fleet_state_cb, on_state, id, state, ts);
}

void iotkit__fleet_notify_event(iotkit_fleet_t *f, const char *id, const char *type, int64_t ts, const char *data) {
  IOTKIT__FLEET_CALL(f, iotkit_fleet_event_cb, on_event, id, type, ts, data);
}

void iotkit__fleet_notify_location(iotkit_fleet_t *f, const char *id, const iotkit_location_t *loc) {
  IOTKIT__FLEET_CALL(f, iotkit_fleet_location_cb, on_location, id, loc);
}

bool iotkit__fleet_ask_register(iotkit_fleet_t *f, const char *id, const char *channel) {
  if (!f->auto_register_cb) return true;
  iotkit__fleet_cb_enter(f);
  bool yes = f->auto_register_cb(f, f->auto_register_user, id, channel);
  iotkit__fleet_cb_leave(f);
  return yes;
}
