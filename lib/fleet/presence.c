/*
 * Presence: online/offline from the status channel, the reconciliation of the
 * broker's retained statuses at the start of each session, last-seen times,
 * and stale devices.
 *
 * Why a reconciliation: the retained status is the broker's stored view, and
 * it can be wrong in one way the broker cannot see. A broker that restarts
 * ends every session without publishing their last wills (mosquitto 2.0 does
 * not send them on shutdown), so with persistence it still holds "online" for
 * a device that never came back. The broker's uptime topic tells when it
 * started; an "online" whose ts is older belongs to a session the restart
 * ended. The other rules (offline stays offline; no status at all means
 * offline; a live status seen during the window wins) make the view exactly
 * the broker's after a fleet restart, where the database's flags are those of
 * the previous run. Retained statuses are held until the reconciliation, so
 * that the callbacks see one transition per device, not a flap.
 *
 * Transitions are collected under the lock and reported after it is released
 * (callbacks never run with the lock held).
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "fleet/fleet_internal.h"
#include "iotkit/protocol.h"

typedef struct {
  char id[IOTKIT_MAX_DEVICE_ID + 1];
  bool online;
  char reason[32];
  int64_t ts;
} change_t;

typedef struct {
  change_t *v;
  size_t n, cap;
} changes_t;

static void changes_add(changes_t *c, const char *id, bool online, const char *reason, int64_t ts) {
  if (c->n == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 16;
    change_t *grown = realloc(c->v, cap * sizeof(*grown));
    if (!grown) return; /* the view is right; only the callback is lost */
    c->v = grown;
    c->cap = cap;
  }
  change_t *x = &c->v[c->n++];
  iotkit__fmt(x->id, sizeof x->id, "%s", id);
  x->online = online;
  iotkit__fmt(x->reason, sizeof x->reason, "%s", reason ? reason : "");
  x->ts = ts;
}

static void changes_report(iotkit_fleet_t *f, changes_t *c) {
  for (size_t i = 0; i < c->n; i++)
    iotkit__fleet_notify_status(f, c->v[i].id, c->v[i].online, c->v[i].online ? NULL : c->v[i].reason, c->v[i].ts);
  free(c->v);
}

/* Set the entry's presence; a transition is recorded for the callback. Lock held. */
static void apply(iotkit_fleet_t *f, iotkit__fleet_entry_t *e, bool online, const char *reason, int64_t ts,
                  changes_t *c) {
  e->status_ts = ts;
  if (e->online == online) return;
  e->online = online;
  if (!online) e->stale = false;
  iotkit__fleet_view_touch(&f->view, e, IOTKIT__FV_PRESENCE);
  changes_add(c, e->id, online, reason, ts);
}

/*
 * A retained status: the broker's view, unless a broker restart has ended that
 * session. Two bounds tell (times on the fleet's wall clock):
 *  - no session can be older than the broker: an "online" older than the
 *    earliest the broker can have started (broker_start_ms, from its uptime)
 *    belongs to a broker that is gone. Always safe, but the uptime is coarse
 *    (whole seconds, refreshed every broker_uptime_interval_s), so a session
 *    begun just before a restart passes it;
 *  - when the broker is known to have started after this process's previous
 *    session came up, it restarted while that session ran: every session older
 *    than the loss of that session (loss_ms) is gone.
 */
static bool retained_online(const iotkit_fleet_t *f, bool online, int64_t ts) {
  int64_t th = f->broker_start_ms;
  if (f->prev_up_ms && f->broker_start_ms > f->prev_up_ms && f->loss_ms > th) th = f->loss_ms;
  return online && !(th > 0 && ts != IOTKIT_PROTOCOL_NO_TS && ts < th);
}

void iotkit__fleet_presence_session(iotkit_fleet_t *f) {
  f->epoch++;
  if (f->epoch == 0) f->epoch = 1; /* 0 marks "never" in the entries */
  f->syncing = true;
  f->sync_deadline = iotkit__fleet_mono(f) + f->connect_timeout_ms;
  f->broker_start_ms = 0;
  f->prev_up_ms = f->session_up_ms;
  f->session_up_ms = iotkit__fleet_wall(f);
}

void iotkit__fleet_status_in(iotkit_fleet_t *f, const char *id, bool online, const char *reason, int64_t ts,
                             bool retained) {
  changes_t c = {0};
  iotkit__fleet_lock(f);
  iotkit__fleet_entry_t *e = iotkit__fleet_view_find(&f->view, id);
  if (e && retained && ts != IOTKIT_PROTOCOL_NO_TS && ts > e->last_seen_ms) {
    e->last_seen_ms = ts;
    iotkit__fleet_view_touch(&f->view, e, IOTKIT__FV_PRESENCE);
  }
  if (e && retained && f->syncing) {
    e->ret_epoch = f->epoch;
    e->ret_online = online;
    e->ret_ts = ts;
    iotkit__fmt(e->ret_reason, sizeof e->ret_reason, "%s", reason ? reason : "");
  } else if (e && retained) {
    bool on = retained_online(f, online, ts);
    apply(f, e, on, on ? NULL : (online ? "broker_restart" : reason), ts, &c);
  } else if (e) {
    e->live_epoch = f->epoch;
    apply(f, e, online, reason, ts, &c);
  }
  iotkit__fleet_unlock(f);
  iotkit__fleet_flush_kick(f);
  changes_report(f, &c);
}

typedef struct {
  iotkit_fleet_t *f;
  changes_t c;
} reconcile_t;

static void reconcile_one(iotkit__fleet_entry_t *e, void *ctx) {
  reconcile_t *r = ctx;
  iotkit_fleet_t *f = r->f;
  if (e->live_epoch == f->epoch) return;
  if (e->ret_epoch == f->epoch) {
    bool on = retained_online(f, e->ret_online, e->ret_ts);
    apply(f, e, on, on ? NULL : (e->ret_online ? "broker_restart" : e->ret_reason), e->ret_ts, &r->c);
  } else if (e->online) {
    apply(f, e, false, "no_status", IOTKIT_PROTOCOL_NO_TS, &r->c);
  }
}

void iotkit__fleet_reconcile(iotkit_fleet_t *f) {
  if (!f->syncing) return;
  f->syncing = false;
  reconcile_t r = {.f = f};
  iotkit__fleet_lock(f);
  iotkit__fleet_view_each(&f->view, reconcile_one, &r);
  f->stats.reconciliations++;
  iotkit__fleet_unlock(f);
  iotkit_hal_logf(f->hal, IOTKIT_LOG_INFO, "fleet: presence reconciled with the broker (%zu changes)", r.c.n);
  iotkit__fleet_flush_kick(f);
  changes_report(f, &r.c);
}

void iotkit__fleet_uptime_in(iotkit_fleet_t *f, const void *payload, size_t len, bool retained) {
  char text[32];
  if (!payload || len == 0 || len >= sizeof text) return;
  memcpy(text, payload, len);
  text[len] = '\0';
  char *end = NULL;
  unsigned long long s = strtoull(text, &end, 10);
  if (end == text) return;
  /* Whole seconds, rounded down; a retained value is as old as the broker's last
     refresh. The earliest start they allow: */
  int64_t lag = retained ? (int64_t)f->uptime_interval_s * 1000 : 0;
  int64_t start = iotkit__fleet_wall(f) - (int64_t)(s + 1) * 1000 - lag;
  if (start > f->broker_start_ms) f->broker_start_ms = start;
}

void iotkit__fleet_seen(iotkit_fleet_t *f, const char *id, int64_t now) {
  bool was_stale = false;
  iotkit__fleet_lock(f);
  iotkit__fleet_entry_t *e = iotkit__fleet_view_find(&f->view, id);
  if (e) {
    was_stale = e->stale;
    e->stale = false;
    if (now > e->last_seen_ms) e->last_seen_ms = now;
    iotkit__fleet_view_touch(&f->view, e, IOTKIT__FV_PRESENCE);
  }
  iotkit__fleet_unlock(f);
  if (was_stale) iotkit__fleet_notify_stale(f, id, false, now);
}

typedef struct {
  int64_t now, heartbeat;
  changes_t c; /* reused: online = stale, ts = last seen */
} stale_t;

static void stale_one(iotkit__fleet_entry_t *e, void *ctx) {
  stale_t *s = ctx;
  if (!e->online || e->stale || s->now - e->last_seen_ms <= s->heartbeat) return;
  e->stale = true;
  changes_add(&s->c, e->id, true, NULL, e->last_seen_ms);
}

void iotkit__fleet_stale_check(iotkit_fleet_t *f) {
  if (!f->heartbeat_ms) return;
  uint64_t now = iotkit__fleet_mono(f);
  if (now < f->next_stale_check) return;
  /* A quarter of the heartbeat between checks (10 ms to 1 s): a device is found
     stale at most that long after its deadline, and each check is one walk of the view. */
  uint32_t every = f->heartbeat_ms / 4;
  every = every < 10 ? 10 : every > 1000 ? 1000 : every;
  f->next_stale_check = now + every;
  stale_t s = {.now = iotkit__fleet_wall(f), .heartbeat = f->heartbeat_ms};
  iotkit__fleet_lock(f);
  iotkit__fleet_view_each(&f->view, stale_one, &s);
  iotkit__fleet_unlock(f);
  for (size_t i = 0; i < s.c.n; i++) iotkit__fleet_notify_stale(f, s.c.v[i].id, true, s.c.v[i].ts);
  free(s.c.v);
}
