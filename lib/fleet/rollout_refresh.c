/*
 * A rollout's state changed by another process: `iotkit fleet rollout pause
 * ID` from a second shell writes the rollout's row while this fleet drives
 * the session. The polling thread reads every rollout's stored state (at
 * most every IOTKIT__RO_REFRESH_MS, and only while one is active here) and
 * compares it with the state this fleet last loaded or saved
 * (iotkit__ro_t::stored_state): a difference that this fleet did not write
 * is another process's start, pause, resume or cancel, and is adopted as if
 * the call had been made here (events, evaluation, a cancel's clearings
 * published by this session). A rollout that ended here meanwhile (finished,
 * or paused by a group's error) keeps its own ending. Rollouts created by
 * another process are not followed until the fleet is opened again.
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "fleet/fleet_internal.h"
#include "fleet/rollout.h"
#include "fleet/store_rollout.h"

typedef struct stored {
  char id[IOTKIT_MAX_DEVICE_ID + 1];
  uint8_t state;
  int32_t error_group;
  char reason[96];
} stored_t;

typedef struct rows {
  stored_t *v;
  size_t n, cap;
  bool nomem;
} rows_t;

static void one(void *ctx, const char *id, uint8_t state, int32_t error_group, const char *reason) {
  rows_t *r = ctx;
  if (r->n == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 8;
    stored_t *grown = realloc(r->v, cap * sizeof *grown);
    if (!grown) {
      r->nomem = true;
      return;
    }
    r->v = grown;
    r->cap = cap;
  }
  stored_t *s = &r->v[r->n++];
  iotkit__fmt(s->id, sizeof s->id, "%s", id);
  iotkit__fmt(s->reason, sizeof s->reason, "%s", reason);
  s->state = state;
  s->error_group = error_group;
}

static bool active(const iotkit__ro_t *ro) { return ro->state <= IOTKIT_FLEET_ROLLOUT_PAUSED; }

/* Adopt @p s into @p ro (lock held); false when there is nothing to do. */
static bool adopt(iotkit_fleet_t *f, iotkit__ro_t *ro, const stored_t *s, int64_t now, iotkit__ro_events_t *evs) {
  uint8_t known = ro->stored_state;
  ro->stored_state = s->state;
  if (s->state == known || s->state == ro->state || !active(ro)) return false;
  switch (s->state) {
    case IOTKIT_FLEET_ROLLOUT_PAUSED:
      ro->state = IOTKIT_FLEET_ROLLOUT_PAUSED;
      ro->error_group = s->error_group;
      iotkit__fmt(ro->reason, sizeof ro->reason, "%s", s->reason);
      break;
    case IOTKIT_FLEET_ROLLOUT_RUNNING:
      ro->state = IOTKIT_FLEET_ROLLOUT_RUNNING;
      ro->error_group = -1;
      ro->reason[0] = '\0';
      break;
    case IOTKIT_FLEET_ROLLOUT_CANCELED: iotkit__ro_cancel(f, ro, now); break;
    default: return false; /* READY or FINISHED: not an operator's call */
  }
  ro->updated_ms = now;
  ro->dirty = true;
  iotkit__fmt(evs->rollout_id, sizeof evs->rollout_id, "%s", ro->id);
  iotkit__ro_event_group(evs, ro, -1);
  iotkit__ro_evaluate(f, ro, now, evs);
  return true;
}

void iotkit__fleet_rollouts_refresh(iotkit_fleet_t *f) {
  uint64_t mono = iotkit__fleet_mono(f);
  iotkit__fleet_lock(f);
  bool look = mono >= f->rollouts->next_refresh;
  if (look) f->rollouts->next_refresh = mono + IOTKIT__RO_REFRESH_MS;
  bool any = false;
  for (iotkit__ro_t *ro = f->rollouts->head; look && ro && !any; ro = ro->next) any = active(ro);
  iotkit__fleet_unlock(f);
  if (!any) return;
  rows_t rows = {0};
  char err[IOTKIT_ERROR_TEXT_SIZE] = "";
  iotkit_err_t rc = iotkit__fleet_rollout_store_sqlite.states(f->store, one, &rows, err, sizeof err);
  if (rc != IOTKIT_OK || rows.nomem) {
    /* The next look tries again; the rollouts go on as this fleet knows them. */
    iotkit_hal_logf(f->hal, IOTKIT_LOG_WARN, "fleet: cannot read the rollouts' states: %s",
                    rows.nomem ? "no memory" : err);
    free(rows.v);
    return;
  }
  int64_t now = iotkit__fleet_wall(f);
  for (size_t i = 0; i < rows.n; i++) {
    iotkit__ro_events_t evs;
    evs.n = 0;
    iotkit__fleet_lock(f);
    iotkit__ro_t *ro = iotkit__ro_find(f, rows.v[i].id);
    bool adopted = ro && adopt(f, ro, &rows.v[i], now, &evs);
    iotkit__fleet_unlock(f);
    if (!adopted) continue;
    iotkit_hal_logf(f->hal, IOTKIT_LOG_INFO, "fleet: rollout %s %s by another process", rows.v[i].id,
                    iotkit_fleet_rollout_state_name((iotkit_fleet_rollout_state_t)rows.v[i].state));
    iotkit__ro_kick(f);
    iotkit__ro_deliver(f, &evs);
  }
  free(rows.v);
}
