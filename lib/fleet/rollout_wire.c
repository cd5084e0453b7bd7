/*
 * Rollouts on the wire: the devices' ota/status reports in, the retained
 * manifests (and their clearing) out. Both run in the fleet's polling thread;
 * the model changes under the fleet's lock, the transport is used without it.
 */
#include <string.h>

#include "core/util.h"
#include "fleet/fleet_internal.h"
#include "fleet/rollout.h"
#include "iotkit/protocol.h"

/* Most messages one step publishes (the next poll publishes the rest). */
#define STEP_MAX 256

static bool active(const iotkit__ro_t *ro) {
  return ro->state == IOTKIT_FLEET_ROLLOUT_RUNNING || ro->state == IOTKIT_FLEET_ROLLOUT_PAUSED;
}

/* The target state a report gives for @p version, or -1 when the report is not about it. */
static int target_of(const iotkit_ota_report_t *r, const char *version) {
  bool about = r->target_version && strcmp(r->target_version, version) == 0;
  if (!about) {
    bool runs = strcmp(r->running_version, version) == 0;
    return runs && (strcmp(r->state, "idle") == 0 || strcmp(r->state, "confirmed") == 0)
               ? IOTKIT_FLEET_TARGET_FINISHED
               : -1;
  }
  static const char *const running[] = {"downloading", "downloaded", "verifying", "pending", "trial"};
  for (size_t i = 0; i < IOTKIT__ARRAY_LEN(running); i++)
    if (strcmp(r->state, running[i]) == 0) return IOTKIT_FLEET_TARGET_RUNNING;
  if (strcmp(r->state, "confirmed") == 0) return IOTKIT_FLEET_TARGET_FINISHED;
  if (strcmp(r->state, "failed") == 0 || strcmp(r->state, "rolled_back") == 0) return IOTKIT_FLEET_TARGET_ERROR;
  return -1; /* idle, or a state this library does not know */
}

/* Apply report @p r to device @p d of @p ro; true if anything changed. */
static bool apply(iotkit__ro_t *ro, iotkit__ro_dev_t *d, const iotkit_ota_report_t *r, int64_t now,
                  iotkit__ro_events_t *evs) {
  int to = target_of(r, ro->version);
  if (to < 0) return false;
  unsigned pct = to == IOTKIT_FLEET_TARGET_FINISHED ? 100 : r->percent;
  const char *error = to == IOTKIT_FLEET_TARGET_ERROR && r->error ? r->error : "";
  bool changed = d->state != to || d->percent != pct || strncmp(d->error, error, sizeof d->error - 1) != 0;
  /* The device has the manifest, whoever published it. */
  if (d->wire == IOTKIT__RO_WIRE_SEND) d->wire = IOTKIT__RO_WIRE_SENT, changed = true;
  if (!d->reported) d->reported = true, changed = true;
  if (!changed) return false;
  d->state = (uint8_t)to;
  d->percent = (uint8_t)pct;
  iotkit__fmt(d->error, sizeof d->error, "%s", error);
  d->updated_ms = now;
  d->dirty = true;
  ro->dirty = true;
  if (evs->n < IOTKIT__RO_EVENTS_MAX) {
    iotkit__ro_ev_t *e = &evs->ev[evs->n++];
    memset(e, 0, sizeof *e);
    e->device = true;
    e->group = (int)d->group;
    e->group_state = ro->groups[d->group].state;
    e->state = ro->state;
    e->dev_state = d->state;
    e->percent = d->percent;
    iotkit__fmt(e->dev_id, sizeof e->dev_id, "%s", d->id);
    iotkit__fmt(e->error, sizeof e->error, "%s", d->error);
  }
  return true;
}

void iotkit__fleet_ota_status_in(iotkit_fleet_t *f, const char *id, const iotkit_transport_msg_t *m) {
  iotkit_ota_report_t r;
  iotkit_err_t err = iotkit_protocol_ota_status_parse(m->payload, m->len, &r);
  if (err != IOTKIT_OK) {
    iotkit__fleet_undecodable(f, id, "ota/status", m->len, err);
    return;
  }
  iotkit__ro_events_t evs;
  evs.n = 0;
  int64_t now = iotkit__fleet_wall(f);
  bool changed = false;
  iotkit__fleet_lock(f);
  for (iotkit__ro_t *ro = f->rollouts->head; ro; ro = ro->next) {
    if (!active(ro)) continue;
    iotkit__ro_dev_t *d = iotkit__ro_find_dev(ro, id);
    if (!d) continue;
    /* A device is in one active rollout at most. Pending: its group has not started. */
    if (d->state == IOTKIT_FLEET_TARGET_PENDING || d->state == IOTKIT_FLEET_TARGET_FINISHED ||
        d->state == IOTKIT_FLEET_TARGET_CANCELED)
      break;
    iotkit__fmt(evs.rollout_id, sizeof evs.rollout_id, "%s", ro->id);
    changed = apply(ro, d, &r, now, &evs);
    if (changed) iotkit__ro_evaluate(f, ro, now, &evs);
    break;
  }
  iotkit__fleet_unlock(f);
  iotkit_protocol_ota_status_clear(&r);
  if (!changed) return;
  iotkit__ro_kick(f);
  iotkit__ro_deliver(f, &evs);
}

/* ------------------------------------------------------------- out -- */

typedef struct item {
  iotkit__ro_t *ro;
  iotkit__ro_dev_t *d;
  bool clear;
  bool ok;
} item_t;

/* A new session: publish again to the devices sent the manifest that have not ended. One that
   has not received it gets it; one working on it ignores it; one that is done with it answers
   with its status (docs/protocol.md), which is how a restarted fleet learns what it missed. */
static void new_session(iotkit__rollouts_t *R) {
  for (iotkit__ro_t *ro = R->head; ro; ro = ro->next) {
    if (!active(ro)) continue;
    for (uint32_t i = 0; i < ro->n_devs; i++) {
      iotkit__ro_dev_t *d = &ro->devs[i];
      if (d->wire != IOTKIT__RO_WIRE_SENT || d->state != IOTKIT_FLEET_TARGET_RUNNING) continue;
      d->wire = IOTKIT__RO_WIRE_SEND;
      ro->wire = R->wire = true;
    }
  }
}

/* Under lock: up to STEP_MAX items, the clearing first (a cancel before a new rollout's manifest). */
static size_t collect(iotkit__rollouts_t *R, item_t *items) {
  size_t n = 0;
  bool more = false;
  for (int pass = 0; pass < 2; pass++) {
    uint8_t want = pass == 0 ? IOTKIT__RO_WIRE_CLEAR : IOTKIT__RO_WIRE_SEND;
    for (iotkit__ro_t *ro = R->head; ro; ro = ro->next) {
      if (!ro->wire) continue;
      for (uint32_t i = 0; i < ro->n_devs; i++) {
        if (ro->devs[i].wire != want) continue;
        if (n == STEP_MAX) {
          more = true;
          break;
        }
        items[n++] = (item_t){.ro = ro, .d = &ro->devs[i], .clear = pass == 0};
      }
    }
  }
  if (!more) {
    for (iotkit__ro_t *ro = R->head; ro; ro = ro->next) ro->wire = false;
    R->wire = false;
  }
  return n;
}

static void settle(iotkit__rollouts_t *R, item_t *it) {
  iotkit__ro_dev_t *d = it->d;
  uint8_t was = it->clear ? IOTKIT__RO_WIRE_CLEAR : IOTKIT__RO_WIRE_SEND;
  if (!it->ok) {
    if (d->wire == was) it->ro->wire = R->wire = true; /* the next step tries again */
    return;
  }
  if (d->wire == was) {
    d->wire = it->clear ? IOTKIT__RO_WIRE_CLEARED : IOTKIT__RO_WIRE_SENT;
  } else if (!it->clear && d->wire == IOTKIT__RO_WIRE_NONE) {
    /* Canceled while it was being published: clear it after all. */
    d->wire = IOTKIT__RO_WIRE_CLEAR;
    it->ro->wire = R->wire = true;
  }
  d->dirty = true;
  it->ro->dirty = true;
}

void iotkit__fleet_rollout_step(iotkit_fleet_t *f) {
  if (!f->tctx || !iotkit_fleet_is_connected(f)) return;
  item_t items[STEP_MAX];
  iotkit__fleet_lock(f);
  iotkit__rollouts_t *R = f->rollouts;
  if (R->sessions_seen != f->stats.sessions) {
    R->sessions_seen = f->stats.sessions;
    new_session(R);
  }
  size_t n = R->wire ? collect(R, items) : 0;
  iotkit__fleet_unlock(f);
  if (n == 0) return;
  size_t sent = 0;
  for (size_t i = 0; i < n; i++) {
    char topic[512];
    iotkit_err_t rc = iotkit_protocol_topic(f->topic_prefix, items[i].d->id,
                                            iotkit_channel_name(IOTKIT_CHANNEL_OTA_MANIFEST), topic, sizeof topic);
    /* The manifest is immutable while the fleet lives: read without the lock. */
    iotkit_message_t msg = {.channel = topic,
                            .payload = items[i].clear ? "" : items[i].ro->manifest,
                            .len = items[i].clear ? 0 : items[i].ro->manifest_len,
                            .qos = 1,
                            .retain = true};
    uint32_t mid = 0;
    if (rc == IOTKIT_OK) rc = f->ops->send(f->tctx, &msg, &mid);
    items[i].ok = rc == IOTKIT_OK;
    sent += items[i].ok;
    if (rc != IOTKIT_OK)
      iotkit_hal_logf(f->hal, IOTKIT_LOG_WARN, "fleet: rollout %s: cannot publish to %s (%s)", items[i].ro->id,
                      items[i].d->id, iotkit_err_name(rc));
  }
  iotkit__fleet_lock(f);
  for (size_t i = 0; i < n; i++) settle(R, &items[i]);
  iotkit__fleet_unlock(f);
  if (sent) iotkit__ro_kick(f);
}
