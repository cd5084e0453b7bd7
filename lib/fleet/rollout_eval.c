/*
 * A rollout's evaluation (under the fleet's lock): hawkBit's thresholds on
 * integers, the error action (pause), starting the next groups, finishing.
 * The rules are written out in include/iotkit/fleet_rollout.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "fleet/fleet_internal.h"
#include "fleet/rollout.h"

iotkit__ro_verdict_t iotkit__ro_verdict(size_t total, size_t finished, size_t errors, unsigned success_pct,
                                        unsigned error_pct) {
  if (total == 0) return IOTKIT__RO_SUCCESS; /* an empty group counts as a success */
  /* errors / total > error % and finished / total >= success %, multiplied out: exact. */
  if ((uint64_t)errors * 100u > (uint64_t)error_pct * total) return IOTKIT__RO_ERROR;
  if ((uint64_t)finished * 100u >= (uint64_t)success_pct * total) return IOTKIT__RO_SUCCESS;
  return IOTKIT__RO_GO_ON;
}

void iotkit__ro_counts(const iotkit__ro_t *ro, int group, iotkit_fleet_rollout_counts_t *c) {
  memset(c, 0, sizeof *c);
  uint32_t from = 0, to = ro->n_devs;
  if (group >= 0) {
    from = ro->groups[group].first;
    to = from + ro->groups[group].size;
  }
  for (uint32_t i = from; i < to; i++) {
    c->total++;
    switch (ro->devs[i].state) {
      case IOTKIT_FLEET_TARGET_PENDING: c->pending++; break;
      case IOTKIT_FLEET_TARGET_RUNNING: c->running++; break;
      case IOTKIT_FLEET_TARGET_FINISHED: c->finished++; break;
      case IOTKIT_FLEET_TARGET_ERROR: c->error++; break;
      default: c->canceled++; break;
    }
  }
}

void iotkit__ro_event_group(iotkit__ro_events_t *evs, const iotkit__ro_t *ro, int group) {
  if (!evs || evs->n >= IOTKIT__RO_EVENTS_MAX) return;
  iotkit__ro_ev_t *e = &evs->ev[evs->n++];
  memset(e, 0, sizeof *e);
  e->group = group;
  e->group_state = group >= 0 ? ro->groups[group].state : 0;
  e->state = ro->state;
}

static int cmp_idx(const void *a, const void *b, const iotkit__ro_t *ro) {
  return strcmp(ro->devs[*(const uint32_t *)a].id, ro->devs[*(const uint32_t *)b].id);
}

/* qsort has no context argument in C11: a small insertion-merge would do, but a
   bottom-up merge sort keeps it O(n log n) for a million devices. */
void iotkit__ro_index(iotkit__ro_t *ro) {
  uint32_t n = ro->n_devs;
  for (uint32_t i = 0; i < n; i++) ro->by_id[i] = i;
  uint32_t *tmp = malloc((size_t)n * sizeof *tmp + 1);
  if (!tmp) {
    /* No memory for the buffer: insertion sort in place (slow, still correct). */
    for (uint32_t i = 1; i < n; i++)
      for (uint32_t j = i; j > 0 && cmp_idx(&ro->by_id[j - 1], &ro->by_id[j], ro) > 0; j--) {
        uint32_t t = ro->by_id[j];
        ro->by_id[j] = ro->by_id[j - 1];
        ro->by_id[j - 1] = t;
      }
    return;
  }
  for (uint32_t w = 1; w < n; w *= 2) {
    for (uint32_t lo = 0; lo < n; lo += 2 * w) {
      uint32_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
      uint32_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) tmp[k++] = cmp_idx(&ro->by_id[i], &ro->by_id[j], ro) <= 0 ? ro->by_id[i++] : ro->by_id[j++];
      while (i < mid) tmp[k++] = ro->by_id[i++];
      while (j < hi) tmp[k++] = ro->by_id[j++];
    }
    memcpy(ro->by_id, tmp, (size_t)n * sizeof *tmp);
  }
  free(tmp);
}

iotkit__ro_t *iotkit__ro_find(const iotkit_fleet_t *f, const char *id) {
  for (iotkit__ro_t *ro = f->rollouts->head; ro; ro = ro->next)
    if (strcmp(ro->id, id) == 0) return ro;
  return NULL;
}

iotkit__ro_dev_t *iotkit__ro_find_dev(const iotkit__ro_t *ro, const char *id) {
  uint32_t lo = 0, hi = ro->n_devs;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    int c = strcmp(ro->devs[ro->by_id[mid]].id, id);
    if (c == 0) return &ro->devs[ro->by_id[mid]];
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

void iotkit__ro_free_one(iotkit__ro_t *ro) {
  if (!ro) return;
  free(ro->manifest);
  free(ro->groups);
  free(ro->devs);
  free(ro->by_id);
  free(ro);
}

static void set_state(iotkit__ro_t *ro, uint8_t state, int64_t now) {
  ro->state = state;
  ro->updated_ms = now;
  ro->dirty = true;
}

/* The error action: the group is ERROR, the rollout PAUSED. */
static void error_action(iotkit_fleet_t *f, iotkit__ro_t *ro, uint32_t g, const char *why, int64_t now,
                         iotkit__ro_events_t *evs) {
  ro->groups[g].state = IOTKIT_FLEET_GROUP_ERROR;
  ro->error_group = (int32_t)g;
  snprintf(ro->reason, sizeof ro->reason, "%s of group %u", why, (unsigned)g);
  set_state(ro, IOTKIT_FLEET_ROLLOUT_PAUSED, now);
  iotkit__ro_event_group(evs, ro, (int)g);
  iotkit_hal_logf(f->hal, IOTKIT_LOG_WARN, "fleet: rollout %s paused: %s", ro->id, ro->reason);
}

static void start_group(iotkit_fleet_t *f, iotkit__ro_t *ro, uint32_t g, int64_t now, iotkit__ro_events_t *evs) {
  iotkit__ro_group_t *G = &ro->groups[g];
  G->state = IOTKIT_FLEET_GROUP_RUNNING;
  G->started_ms = now;
  for (uint32_t i = G->first; i < G->first + G->size; i++) {
    iotkit__ro_dev_t *d = &ro->devs[i];
    if (d->state != IOTKIT_FLEET_TARGET_PENDING) continue;
    d->state = IOTKIT_FLEET_TARGET_RUNNING;
    d->wire = IOTKIT__RO_WIRE_SEND;
    d->updated_ms = now;
    d->dirty = true;
    ro->wire = true;
    f->rollouts->wire = true;
  }
  ro->started = g + 1;
  ro->dirty = true;
  iotkit__ro_event_group(evs, ro, (int)g);
  iotkit_hal_logf(f->hal, IOTKIT_LOG_INFO, "fleet: rollout %s: group %u of %u started (%u devices)", ro->id,
                  (unsigned)g + 1, (unsigned)ro->n_groups, (unsigned)G->size);
}

void iotkit__ro_evaluate(iotkit_fleet_t *f, iotkit__ro_t *ro, int64_t now, iotkit__ro_events_t *evs) {
  if (ro->state != IOTKIT_FLEET_ROLLOUT_RUNNING) return;
  if (ro->started == 0 && ro->n_groups > 0) start_group(f, ro, 0, now, evs);
  for (;;) {
    /* Thresholds of every started group but those resumed past an error. */
    for (uint32_t g = 0; g < ro->started; g++) {
      iotkit__ro_group_t *G = &ro->groups[g];
      if (G->state == IOTKIT_FLEET_GROUP_ERROR) continue;
      iotkit_fleet_rollout_counts_t c;
      iotkit__ro_counts(ro, (int)g, &c);
      iotkit__ro_verdict_t v = iotkit__ro_verdict(c.total, c.finished, c.error, G->success_pct, G->error_pct);
      if (v == IOTKIT__RO_ERROR) {
        error_action(f, ro, g, "error threshold passed", now, evs);
        return;
      }
      if (G->state != IOTKIT_FLEET_GROUP_RUNNING) continue;
      if (v == IOTKIT__RO_SUCCESS) {
        G->state = IOTKIT_FLEET_GROUP_SUCCESS;
        ro->dirty = true;
        iotkit__ro_event_group(evs, ro, (int)g);
      } else if (c.running == 0 && c.pending == 0) {
        error_action(f, ro, g, "success threshold out of reach", now, evs);
        return;
      }
    }
    /* The next group starts once the latest one is done with (succeeded, or resumed past its error). */
    if (ro->started >= ro->n_groups || ro->groups[ro->started - 1].state < IOTKIT_FLEET_GROUP_SUCCESS) break;
    start_group(f, ro, ro->started, now, evs);
  }
  if (ro->started < ro->n_groups) return;
  iotkit_fleet_rollout_counts_t all;
  iotkit__ro_counts(ro, -1, &all);
  if (ro->groups[ro->n_groups - 1].state >= IOTKIT_FLEET_GROUP_SUCCESS && all.running == 0 && all.pending == 0) {
    set_state(ro, IOTKIT_FLEET_ROLLOUT_FINISHED, now);
    ro->reason[0] = '\0';
    iotkit__ro_event_group(evs, ro, -1);
    iotkit_hal_logf(f->hal, IOTKIT_LOG_INFO, "fleet: rollout %s finished: %u finished, %u errors", ro->id,
                    (unsigned)all.finished, (unsigned)all.error);
  }
}
