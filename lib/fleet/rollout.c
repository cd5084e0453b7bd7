/*
 * OTA rollouts: the calls of fleet_rollout.h that change a rollout (create,
 * start, pause, resume, cancel), the trust store and callback setters, the
 * save job (written behind, like the live view) and event delivery. Queries
 * are in rollout_query.c, the wire in rollout_wire.c, the rules in
 * rollout_eval.c, the SQL in store_sqlite_rollout.c.
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "fleet/fleet_internal.h"
#include "fleet/registry.h"
#include "fleet/rollout.h"
#include "fleet/store_rollout.h"

iotkit_err_t iotkit_fleet_set_ota_trust(iotkit_fleet_t *f, const iotkit_ota_trust_t *trust) {
  if (!f) return IOTKIT_ERR_INVALID_ARG;
  iotkit__fleet_lock(f);
  f->rollouts->trust = trust;
  iotkit__fleet_unlock(f);
  return IOTKIT_OK;
}

iotkit_err_t iotkit_fleet_on_rollout(iotkit_fleet_t *f, iotkit_fleet_rollout_cb cb, void *user) {
  if (!f) return IOTKIT_ERR_INVALID_ARG;
  iotkit__fleet_lock(f);
  f->rollouts->cb = cb;
  f->rollouts->cb_user = cb ? user : NULL;
  iotkit__fleet_unlock(f);
  /* As the other setters: once this returns, a call with the old pointers has ended. */
  iotkit__fleet_cb_enter(f);
  iotkit__fleet_cb_leave(f);
  return IOTKIT_OK;
}

void iotkit__ro_deliver(iotkit_fleet_t *f, const iotkit__ro_events_t *evs) {
  if (!evs->n) return;
  iotkit__fleet_cb_enter(f);
  for (size_t i = 0; i < evs->n; i++) {
    const iotkit__ro_ev_t *e = &evs->ev[i];
    iotkit__fleet_lock(f);
    iotkit_fleet_rollout_cb cb = f->closing ? NULL : f->rollouts->cb;
    void *user = f->rollouts->cb_user;
    iotkit__fleet_unlock(f);
    if (!cb) break;
    iotkit_fleet_rollout_event_t ev = {
        .struct_size = sizeof ev,
        .rollout_id = evs->rollout_id,
        .state = (iotkit_fleet_rollout_state_t)e->state,
        .group = e->group,
        .group_state = (iotkit_fleet_group_state_t)e->group_state,
        .device_id = e->device ? e->dev_id : NULL,
        .device_state = (iotkit_fleet_rollout_device_state_t)e->dev_state,
        .percent = e->percent,
        .error = e->error,
    };
    cb(f, user, &ev);
  }
  iotkit__fleet_cb_leave(f);
}

/* ------------------------------------------------------------ saving -- */

/* A copy of what changed in @p ro (its row, its groups, its dirty devices); NULL on no memory. */
static iotkit__ro_t *snapshot(iotkit__ro_t *ro) {
  iotkit__ro_t *s = malloc(sizeof *s);
  if (!s) return NULL;
  *s = *ro;
  s->next = NULL;
  s->by_id = NULL;
  s->manifest = NULL; /* not written again: it never changes */
  s->groups = malloc((size_t)ro->n_groups * sizeof *s->groups);
  uint32_t n = 0;
  for (uint32_t i = 0; i < ro->n_devs; i++) n += ro->devs[i].dirty;
  s->devs = malloc((size_t)n * sizeof *s->devs + 1);
  if (!s->groups || !s->devs) {
    free(s->groups);
    free(s->devs);
    free(s);
    return NULL;
  }
  memcpy(s->groups, ro->groups, (size_t)ro->n_groups * sizeof *s->groups);
  s->n_devs = 0;
  for (uint32_t i = 0; i < ro->n_devs; i++) {
    if (!ro->devs[i].dirty) continue;
    s->devs[s->n_devs++] = ro->devs[i];
    ro->devs[i].dirty = false;
  }
  ro->dirty = false;
  return s;
}

static void snapshots_free(iotkit__ro_t *list) {
  while (list) {
    iotkit__ro_t *next = list->next;
    iotkit__ro_free_one(list);
    list = next;
  }
}

/* Writer thread: write every pending change of every rollout in one transaction. */
static iotkit_err_t save_job(iotkit_fleet_t *f, void *arg, char *err, size_t cap) {
  (void)arg;
  iotkit__ro_t *list = NULL, **tail = &list;
  bool nomem = false;
  iotkit__fleet_lock(f);
  f->rollouts->save_queued = false;
  for (iotkit__ro_t *ro = f->rollouts->head; ro; ro = ro->next) {
    if (!ro->dirty) continue;
    iotkit__ro_t *s = snapshot(ro);
    if (!s) {
      nomem = true;
      break;
    }
    *tail = s;
    tail = &s->next;
  }
  iotkit__fleet_unlock(f);
  iotkit_err_t rc = nomem ? IOTKIT_ERR_NOMEM : IOTKIT_OK;
  if (nomem) iotkit__fmt(err, cap, "no memory to write the rollouts");
  if (list && rc == IOTKIT_OK) rc = iotkit__fleet_rollout_store_sqlite.save(f->store, list, false, err, cap);
  iotkit__fleet_lock(f);
  for (const iotkit__ro_t *s = list; s && rc == IOTKIT_OK; s = s->next) {
    iotkit__ro_t *ro = iotkit__ro_find(f, s->id);
    if (ro) ro->stored_state = s->state; /* what another process may change from now on */
  }
  iotkit__fleet_unlock(f);
  snapshots_free(list);
  if (rc != IOTKIT_OK) {
    iotkit__fleet_lock(f);
    f->stats.write_failures++;
    iotkit__fleet_unlock(f);
  }
  return rc;
}

void iotkit__ro_kick(iotkit_fleet_t *f) {
  iotkit__fleet_lock(f);
  bool queue = !f->rollouts->save_queued;
  if (queue) f->rollouts->save_queued = true;
  iotkit__fleet_unlock(f);
  if (queue && iotkit__fleet_write_async(f, save_job, NULL, NULL) != IOTKIT_OK) {
    iotkit__fleet_lock(f);
    f->rollouts->save_queued = false; /* the next change tries again */
    iotkit__fleet_unlock(f);
  }
}

/* ---------------------------------------------------------- creation -- */

static bool active(const iotkit__ro_t *ro) { return ro->state <= IOTKIT_FLEET_ROLLOUT_PAUSED; }

/* The writer job of a creation: the checks against other rollouts and the insert, serialised. */
static iotkit_err_t create_job(iotkit_fleet_t *f, void *arg, char *err, size_t cap) {
  iotkit__ro_t *ro = arg;
  iotkit_err_t rc = IOTKIT_OK;
  iotkit__fleet_lock(f);
  if (iotkit__ro_find(f, ro->id)) {
    rc = IOTKIT_ERR_EXISTS;
    iotkit__fmt(err, cap, "a rollout %s exists", ro->id);
  }
  for (iotkit__ro_t *o = f->rollouts->head; o && rc == IOTKIT_OK; o = o->next) {
    if (!active(o)) continue;
    for (uint32_t i = 0; i < ro->n_devs; i++) {
      if (!iotkit__ro_find_dev(o, ro->devs[i].id)) continue;
      rc = IOTKIT_ERR_BUSY;
      iotkit__fmt(err, cap, "device %s is in rollout %s, which is %s", ro->devs[i].id, o->id,
                  iotkit_fleet_rollout_state_name((iotkit_fleet_rollout_state_t)o->state));
      break;
    }
  }
  iotkit__fleet_unlock(f);
  if (rc == IOTKIT_OK) rc = iotkit__fleet_rollout_store_sqlite.save(f->store, ro, true, err, cap);
  if (rc != IOTKIT_OK) return rc;
  iotkit__fleet_lock(f);
  for (uint32_t i = 0; i < ro->n_devs; i++) ro->devs[i].dirty = false;
  ro->dirty = false;
  ro->stored_state = ro->state;
  if (f->rollouts->tail)
    f->rollouts->tail->next = ro;
  else
    f->rollouts->head = ro;
  f->rollouts->tail = ro;
  iotkit__fleet_unlock(f);
  return IOTKIT_OK;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* The listed ids: valid, each once, registered. */
static iotkit_err_t check_ids(iotkit_fleet_t *f, const char *const *ids, size_t n) {
  if (n > IOTKIT_FLEET_ROLLOUT_MAX_DEVICES) {
    iotkit__fleet_set_error(f, "rollout: more than %u devices", (unsigned)IOTKIT_FLEET_ROLLOUT_MAX_DEVICES);
    return IOTKIT_ERR_INVALID_ARG;
  }
  for (size_t i = 0; i < n; i++) {
    if (!ids[i] || !iotkit__fleet_id_ok(ids[i])) {
      iotkit__fleet_set_error(f, "rollout: device id %zu is not a valid device id", i);
      return IOTKIT_ERR_INVALID_ARG;
    }
  }
  const char **sorted = malloc(n * sizeof *sorted + 1);
  if (!sorted) return IOTKIT_ERR_NOMEM;
  memcpy(sorted, ids, n * sizeof *sorted);
  qsort(sorted, n, sizeof *sorted, cmp_str);
  iotkit_err_t rc = IOTKIT_OK;
  for (size_t i = 1; i < n && rc == IOTKIT_OK; i++) {
    if (strcmp(sorted[i - 1], sorted[i]) != 0) continue;
    iotkit__fleet_set_error(f, "rollout: device %s is listed twice", sorted[i]);
    rc = IOTKIT_ERR_INVALID_ARG;
  }
  free(sorted);
  iotkit__fleet_lock(f);
  for (size_t i = 0; i < n && rc == IOTKIT_OK; i++) {
    if (iotkit__fleet_view_find(&f->view, ids[i])) continue;
    rc = IOTKIT_ERR_NOT_FOUND;
    iotkit__fleet_unlock(f);
    iotkit__fleet_set_error(f, "rollout: device %s is not registered", ids[i]);
    iotkit__fleet_lock(f);
  }
  iotkit__fleet_unlock(f);
  return rc;
}

static iotkit_err_t check_groups(iotkit_fleet_t *f, const iotkit_fleet_group_spec_t *g, size_t n) {
  if (!g || n == 0 || n > IOTKIT_FLEET_ROLLOUT_MAX_GROUPS) {
    iotkit__fleet_set_error(f, "rollout: 1 to %d groups are needed", IOTKIT_FLEET_ROLLOUT_MAX_GROUPS);
    return IOTKIT_ERR_INVALID_ARG;
  }
  unsigned sum = 0;
  for (size_t i = 0; i < n; i++) {
    if (g[i].success_pct > 100 || g[i].error_pct > 100) {
      iotkit__fleet_set_error(f, "rollout: group %zu: thresholds must lie in [0, 100] %%", i);
      return IOTKIT_ERR_INVALID_ARG;
    }
    if (g[i].count == 0 && (g[i].percent == 0 || g[i].percent > 100)) {
      iotkit__fleet_set_error(f, "rollout: group %zu: a count, or a percent in [1, 100], is needed", i);
      return IOTKIT_ERR_INVALID_ARG;
    }
    if (g[i].count == 0) sum += g[i].percent;
  }
  if (sum > 100) {
    iotkit__fleet_set_error(f, "rollout: the groups' percentages add up to %u %%", sum);
    return IOTKIT_ERR_INVALID_ARG;
  }
  return IOTKIT_OK;
}

/* The targets of a filter, in id order (malloc'd copies). */
static iotkit_err_t filter_ids(iotkit_fleet_t *f, const iotkit_fleet_filter_t *filter, char ***out, size_t *count) {
  char **ids = NULL;
  size_t n = 0, cap = 0;
  char *after = NULL;
  iotkit_err_t rc;
  for (;;) {
    iotkit_fleet_page_t *page = NULL;
    rc = iotkit_fleet_list(f, filter, after, IOTKIT_FLEET_MAX_PAGE, &page);
    free(after);
    after = NULL;
    if (rc != IOTKIT_OK) break;
    for (size_t i = 0; i < page->count && rc == IOTKIT_OK; i++) {
      if (n == IOTKIT_FLEET_ROLLOUT_MAX_DEVICES) {
        iotkit__fleet_set_error(f, "rollout: the filter matches more than %u devices",
                                (unsigned)IOTKIT_FLEET_ROLLOUT_MAX_DEVICES);
        rc = IOTKIT_ERR_INVALID_ARG;
      } else if (n == cap) {
        size_t nc = cap ? cap * 2 : 64;
        char **grown = realloc(ids, nc * sizeof *ids);
        if (!grown) rc = IOTKIT_ERR_NOMEM;
        else ids = grown, cap = nc;
      }
      if (rc == IOTKIT_OK && !(ids[n] = iotkit__strdup(page->devices[i]->id))) rc = IOTKIT_ERR_NOMEM;
      if (rc == IOTKIT_OK) n++;
    }
    if (rc == IOTKIT_OK && page->next_after && !(after = iotkit__strdup(page->next_after))) rc = IOTKIT_ERR_NOMEM;
    iotkit_fleet_page_free(page);
    if (rc != IOTKIT_OK || !after) break;
  }
  free(after);
  if (rc != IOTKIT_OK) {
    iotkit_fleet_rollout_ids_free(ids, n);
    return rc;
  }
  *out = ids;
  *count = n;
  return IOTKIT_OK;
}

/* Deal @p n devices to the groups: counts, or percentages of n rounded up; the rest to the last. */
static void deal(iotkit__ro_t *ro, const iotkit_fleet_group_spec_t *g, uint32_t n) {
  uint32_t at = 0;
  for (uint32_t i = 0; i < ro->n_groups; i++) {
    uint64_t want = g[i].count ? (uint64_t)g[i].count : ((uint64_t)g[i].percent * n + 99) / 100;
    uint32_t left = n - at;
    uint32_t size = want < left ? (uint32_t)want : left;
    if (i == ro->n_groups - 1) size = left;
    ro->groups[i] = (iotkit__ro_group_t){.first = at,
                                         .size = size,
                                         .success_pct = (uint8_t)g[i].success_pct,
                                         .error_pct = (uint8_t)g[i].error_pct,
                                         .state = IOTKIT_FLEET_GROUP_SCHEDULED};
    for (uint32_t k = at; k < at + size; k++) ro->devs[k].group = i;
    at += size;
  }
}

static iotkit__ro_t *build(const iotkit_fleet_rollout_spec_t *spec, const iotkit_ota_image_t *img,
                           const char *const *ids, size_t n, int64_t now) {
  iotkit__ro_t *ro = calloc(1, sizeof *ro);
  if (!ro) return NULL;
  ro->manifest = malloc(spec->manifest_len + 1);
  ro->groups = calloc(spec->group_count, sizeof *ro->groups);
  ro->devs = calloc(n + 1, sizeof *ro->devs);
  ro->by_id = calloc(n + 1, sizeof *ro->by_id);
  if (!ro->manifest || !ro->groups || !ro->devs || !ro->by_id) {
    iotkit__ro_free_one(ro);
    return NULL;
  }
  memcpy(ro->manifest, spec->manifest, spec->manifest_len);
  ro->manifest[spec->manifest_len] = '\0';
  ro->manifest_len = spec->manifest_len;
  iotkit__fmt(ro->id, sizeof ro->id, "%s", spec->id);
  iotkit__fmt(ro->version, sizeof ro->version, "%s", img->version);
  iotkit__fmt(ro->device_type, sizeof ro->device_type, "%s", img->device_type);
  ro->state = IOTKIT_FLEET_ROLLOUT_READY;
  ro->error_group = -1;
  ro->created_ms = ro->updated_ms = now;
  ro->n_groups = (uint32_t)spec->group_count;
  ro->n_devs = (uint32_t)n;
  for (size_t i = 0; i < n; i++) {
    iotkit__fmt(ro->devs[i].id, sizeof ro->devs[i].id, "%s", ids[i]);
    ro->devs[i].pos = (uint32_t)i;
    ro->devs[i].dirty = true;
  }
  deal(ro, spec->groups, (uint32_t)n);
  iotkit__ro_index(ro);
  ro->dirty = true;
  return ro;
}

/* Parse and verify the manifest as a device does; fills @p m. */
static iotkit_err_t check_manifest(iotkit_fleet_t *f, const iotkit_fleet_rollout_spec_t *spec,
                                   iotkit_ota_manifest_t **m) {
  iotkit_err_t rc = iotkit_ota_manifest_parse(spec->manifest, spec->manifest_len, m);
  if (rc != IOTKIT_OK) {
    iotkit__fleet_set_error(f, "rollout %s: the manifest is malformed or unsigned (%s)", spec->id,
                            iotkit_err_name(rc));
    return rc == IOTKIT_ERR_INVALID_ARG ? IOTKIT_ERR_OTA_MANIFEST : rc;
  }
  iotkit__fleet_lock(f);
  const iotkit_ota_trust_t *trust = f->rollouts->trust;
  iotkit__fleet_unlock(f);
  rc = trust ? iotkit_ota_manifest_verify(*m, trust) : IOTKIT_ERR_OTA_UNKNOWN_KEY;
  if (rc != IOTKIT_OK) {
    iotkit__fleet_set_error(f, "rollout %s: manifest signed with key id %s: %s", spec->id,
                            iotkit_ota_manifest_key_id(*m), iotkit_strerror(rc));
    iotkit_ota_manifest_free(*m);
    *m = NULL;
  }
  return rc;
}

iotkit_err_t iotkit_fleet_rollout_create(iotkit_fleet_t *f, const iotkit_fleet_rollout_spec_t *in) {
  if (!f || !in) return IOTKIT_ERR_INVALID_ARG;
  iotkit_fleet_rollout_spec_t spec;
  iotkit_fleet_rollout_spec_init(&spec);
  if (iotkit__struct_copy(&spec, sizeof spec, in, IOTKIT__FLEET_ROLLOUT_SPEC_SIZE_0_3,
                          IOTKIT__FLEET_ROLLOUT_SPEC_REQUIRED) != IOTKIT_OK)
    return IOTKIT_ERR_INVALID_ARG;
  if (!spec.id || !iotkit__fleet_id_ok(spec.id) || !spec.manifest) {
    iotkit__fleet_set_error(f, "rollout: an id (the device id rule) and a manifest are needed");
    return IOTKIT_ERR_INVALID_ARG;
  }
  if (!spec.device_ids == !spec.filter) {
    iotkit__fleet_set_error(f, "rollout %s: give either device_ids or a filter", spec.id);
    return IOTKIT_ERR_INVALID_ARG;
  }
  iotkit_err_t rc = check_groups(f, spec.groups, spec.group_count);
  if (rc == IOTKIT_OK && spec.device_ids) rc = check_ids(f, spec.device_ids, spec.device_count);
  if (rc != IOTKIT_OK) return rc;
  iotkit_ota_manifest_t *m = NULL;
  rc = check_manifest(f, &spec, &m);
  if (rc != IOTKIT_OK) return rc;
  char **owned = NULL;
  size_t n = spec.device_count;
  if (spec.filter) rc = filter_ids(f, spec.filter, &owned, &n);
  iotkit_ota_image_t img;
  if (rc == IOTKIT_OK) rc = iotkit_ota_manifest_image(m, &img);
  iotkit__ro_t *ro = NULL;
  if (rc == IOTKIT_OK) {
    ro = build(&spec, &img, owned ? (const char *const *)owned : spec.device_ids, n, iotkit__fleet_wall(f));
    if (!ro) rc = IOTKIT_ERR_NOMEM;
  }
  iotkit_ota_manifest_free(m);
  iotkit_fleet_rollout_ids_free(owned, owned ? n : 0);
  if (rc != IOTKIT_OK) return rc;
  /* img's strings died with the manifest: log from the rollout's copies, before it is handed over. */
  iotkit_hal_logf(f->hal, IOTKIT_LOG_INFO, "fleet: rollout %s of %s %s: %u devices in %u groups", ro->id,
                  ro->device_type, ro->version, (unsigned)n, (unsigned)spec.group_count);
  rc = iotkit__fleet_write(f, create_job, ro);
  if (rc != IOTKIT_OK) iotkit__ro_free_one(ro);
  return rc;
}

/* --------------------------------------------------------- transitions -- */

typedef enum { OP_START, OP_PAUSE, OP_RESUME, OP_CANCEL } op_t;

void iotkit__ro_cancel(iotkit_fleet_t *f, iotkit__ro_t *ro, int64_t now) {
  for (uint32_t i = 0; i < ro->n_devs; i++) {
    iotkit__ro_dev_t *d = &ro->devs[i];
    if (d->state == IOTKIT_FLEET_TARGET_FINISHED) continue;
    if (d->wire == IOTKIT__RO_WIRE_SENT) {
      d->wire = IOTKIT__RO_WIRE_CLEAR;
      ro->wire = f->rollouts->wire = true;
    } else if (d->wire == IOTKIT__RO_WIRE_SEND) {
      d->wire = IOTKIT__RO_WIRE_NONE; /* never published */
    }
    if (d->state != IOTKIT_FLEET_TARGET_ERROR) d->state = IOTKIT_FLEET_TARGET_CANCELED;
    d->updated_ms = now;
    d->dirty = true;
  }
  ro->state = IOTKIT_FLEET_ROLLOUT_CANCELED;
  ro->reason[0] = '\0';
}

static iotkit_err_t transition(iotkit_fleet_t *f, const char *id, op_t op) {
  if (!f || !id) return IOTKIT_ERR_INVALID_ARG;
  static const uint8_t need[] = {IOTKIT_FLEET_ROLLOUT_READY, IOTKIT_FLEET_ROLLOUT_RUNNING, IOTKIT_FLEET_ROLLOUT_PAUSED,
                                 0};
  iotkit__ro_events_t evs;
  evs.n = 0;
  int64_t now = iotkit__fleet_wall(f);
  iotkit__fleet_lock(f);
  iotkit__ro_t *ro = iotkit__ro_find(f, id);
  iotkit_err_t rc = IOTKIT_OK;
  if (!ro) rc = IOTKIT_ERR_NOT_FOUND;
  else if (op == OP_CANCEL ? !active(ro) : ro->state != need[op]) rc = IOTKIT_ERR_STATE;
  uint8_t was = ro ? ro->state : 0;
  if (rc == IOTKIT_OK) {
    iotkit__fmt(evs.rollout_id, sizeof evs.rollout_id, "%s", ro->id);
    switch (op) {
      case OP_START:
      case OP_RESUME:
        ro->state = IOTKIT_FLEET_ROLLOUT_RUNNING;
        ro->reason[0] = '\0';
        ro->error_group = -1;
        break;
      case OP_PAUSE:
        ro->state = IOTKIT_FLEET_ROLLOUT_PAUSED;
        iotkit__fmt(ro->reason, sizeof ro->reason, "paused by a call");
        break;
      default: iotkit__ro_cancel(f, ro, now); break;
    }
    ro->updated_ms = now;
    ro->dirty = true;
    iotkit__ro_event_group(&evs, ro, -1);
    iotkit__ro_evaluate(f, ro, now, &evs);
  }
  iotkit__fleet_unlock(f);
  if (rc == IOTKIT_ERR_NOT_FOUND) iotkit__fleet_set_error(f, "no rollout %s", id);
  if (rc == IOTKIT_ERR_STATE)
    iotkit__fleet_set_error(f, "rollout %s is %s", id, iotkit_fleet_rollout_state_name((iotkit_fleet_rollout_state_t)was));
  if (rc != IOTKIT_OK) return rc;
  iotkit_hal_logf(f->hal, IOTKIT_LOG_INFO, "fleet: rollout %s %s", id,
                  op == OP_START ? "started" : op == OP_PAUSE ? "paused" : op == OP_RESUME ? "resumed" : "canceled");
  iotkit__ro_kick(f);
  iotkit__ro_deliver(f, &evs);
  return IOTKIT_OK;
}

iotkit_err_t iotkit_fleet_rollout_start(iotkit_fleet_t *f, const char *id) { return transition(f, id, OP_START); }
iotkit_err_t iotkit_fleet_rollout_pause(iotkit_fleet_t *f, const char *id) { return transition(f, id, OP_PAUSE); }
iotkit_err_t iotkit_fleet_rollout_resume(iotkit_fleet_t *f, const char *id) { return transition(f, id, OP_RESUME); }
iotkit_err_t iotkit_fleet_rollout_cancel(iotkit_fleet_t *f, const char *id) { return transition(f, id, OP_CANCEL); }
