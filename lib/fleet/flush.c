/*
 * Writing the live view: message processing changes the view in memory and
 * calls iotkit__fleet_flush_kick(), which queues one flush job for the writer
 * thread unless one is waiting already. The job is deferred: it runs
 * IOTKIT_FLEET_FLUSH_INTERVAL_MS after the first change it will carry (at
 * once when another job is queued behind it). When it runs it takes every
 * change pending at that moment (iotkit__fleet_view_take) and writes them in
 * one transaction: meanwhile changes pile up in the view (one per device and
 * field, not one per message), so a device that sends ten times in the
 * interval costs one row, message callbacks never wait for the disk, and the
 * cost of a transaction is shared by however many messages arrived.
 *
 * Reads of the database that must see those changes (registry reads,
 * location queries, iotkit_fleet_sync) run a flush job synchronously first,
 * when there is anything pending: the job takes its snapshot when it runs, so
 * it covers everything received before the call.
 */
#include <stdlib.h>

#include "core/util.h"
#include "fleet/fleet_internal.h"

iotkit_err_t iotkit__fleet_flush_now(iotkit_fleet_t *f, char *err, size_t cap) {
  iotkit__fleet_ingest_t in = {.now_ms = iotkit__fleet_wall(f),
                               .history_max = f->history_max,
                               .tel_history_max = f->tel_history_max,
                               .tel_history_age_ms = f->tel_history_age_ms};
  iotkit__fleet_lock(f);
  f->flush_queued = false;
  iotkit_err_t rc = iotkit__fleet_view_take(&f->view, &in);
  /* Until the commit, a reader must not take "nothing pending" for "written". */
  if (rc == IOTKIT_OK && in.n) f->flush_running = true;
  iotkit__fleet_unlock(f);
  if (rc != IOTKIT_OK) {
    iotkit__fmt(err, cap, "no memory to write the fleet's live view");
    return rc;
  }
  if (in.n == 0) return IOTKIT_OK;
  rc = f->store_ops->ingest(f->store, &in, err, cap);
  iotkit__fleet_ingest_free(&in);
  iotkit__fleet_lock(f);
  f->flush_running = false;
  if (rc != IOTKIT_OK) f->stats.write_failures++;
  iotkit__fleet_unlock(f);
  return rc;
}

iotkit_err_t iotkit__fleet_flush_job(iotkit_fleet_t *f, void *arg, char *err, size_t cap) {
  (void)arg;
  return iotkit__fleet_flush_now(f, err, cap);
}

void iotkit__fleet_flush_kick(iotkit_fleet_t *f) {
  iotkit__fleet_lock(f);
  bool queue = !f->flush_queued && f->view.dirty;
  if (queue) f->flush_queued = true;
  iotkit__fleet_unlock(f);
  if (queue &&
      iotkit__fleet_write_deferred(f, iotkit__fleet_flush_job, NULL, NULL, IOTKIT_FLEET_FLUSH_INTERVAL_MS) != IOTKIT_OK) {
    /* The next change tries again. */
    iotkit__fleet_lock(f);
    f->flush_queued = false;
    iotkit__fleet_unlock(f);
  }
}

iotkit_err_t iotkit__fleet_settle(iotkit_fleet_t *f) {
  iotkit__fleet_lock(f);
  bool pending = f->view.dirty || f->flush_queued || f->flush_running;
  iotkit__fleet_unlock(f);
  return pending ? iotkit__fleet_write(f, iotkit__fleet_flush_job, NULL) : IOTKIT_OK;
}

iotkit_err_t iotkit_fleet_sync(iotkit_fleet_t *f) {
  if (!f) return IOTKIT_ERR_INVALID_ARG;
  return iotkit__fleet_write(f, iotkit__fleet_flush_job, NULL);
}

/* --------------------------------------------------------------- load -- */

static void load_device(void *ctx, const char *id, bool online, int64_t last_seen) {
  iotkit_fleet_t *f = ctx;
  iotkit__fleet_entry_t *e = iotkit__fleet_view_add(&f->view, id);
  if (!e) return;
  e->online = online;
  e->last_seen_ms = last_seen;
}

static void load_state(void *ctx, const char *id, const char *state, int64_t ts) {
  iotkit_fleet_t *f = ctx;
  iotkit__fleet_entry_t *e = iotkit__fleet_view_find(&f->view, id);
  if (!e || !(e->state_json = iotkit__strdup(state))) return;
  e->state_ts = ts;
}

static void load_metric(void *ctx, const char *id, const iotkit__fleet_metric_t *m) {
  iotkit_fleet_t *f = ctx;
  iotkit__fleet_entry_t *e = iotkit__fleet_view_find(&f->view, id);
  if (!e) return;
  iotkit_telemetry_point_t p = {.name = m->name, .unit = m->unit, .ts_ms = m->ts_ms, .type = m->type};
  switch (m->type) {
    case IOTKIT_TELEMETRY_DOUBLE: p.value.d = m->v.d; break;
    case IOTKIT_TELEMETRY_INT: p.value.i = m->v.i; break;
    case IOTKIT_TELEMETRY_BOOL: p.value.b = m->v.b; break;
    default: p.value.s = m->v.s; break;
  }
  if (iotkit__fleet_entry_metric(e, &p, m->ts_ms) == 1)
    for (size_t i = 0; i < e->n_metrics; i++) e->metrics[i].dirty = false; /* it came from the database */
}

static void load_location(void *ctx, const char *id, const iotkit_location_t *loc) {
  iotkit_fleet_t *f = ctx;
  iotkit__fleet_entry_t *e = iotkit__fleet_view_find(&f->view, id);
  if (!e) return;
  e->loc = *loc;
  e->has_loc = true;
}

iotkit_err_t iotkit__fleet_view_load(iotkit_fleet_t *f, char *err, size_t cap) {
  static const iotkit__fleet_load_cbs_t cbs = {load_device, load_state, load_metric, load_location};
  iotkit__fleet_lock(f);
  iotkit_err_t rc = f->store_ops->load(f->store, &cbs, f, err, cap);
  iotkit__fleet_unlock(f);
  return rc;
}
