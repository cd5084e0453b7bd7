/*
 * The live view's table: a chained hash table of entries keyed by device id
 * (FNV-1a, doubled when it holds more than one entry per bucket), metrics
 * kept sorted by name for binary search, and the dirty list that a write of
 * the view walks instead of every entry. The fleet's lock is held by callers.
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "fleet/view.h"
#include "iotkit/protocol.h"

#define FIRST_BUCKETS 256u

static size_t hash(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return (size_t)h;
}

iotkit_err_t iotkit__fleet_view_init(iotkit__fleet_view_t *v) {
  memset(v, 0, sizeof(*v));
  v->buckets = calloc(FIRST_BUCKETS, sizeof(*v->buckets));
  if (!v->buckets) return IOTKIT_ERR_NOMEM;
  v->nbuckets = FIRST_BUCKETS;
  return IOTKIT_OK;
}

void iotkit__fleet_metric_clear(iotkit__fleet_metric_t *m) {
  free(m->name);
  free(m->unit);
  if (m->type == IOTKIT_TELEMETRY_STRING) free(m->v.s);
  memset(m, 0, sizeof(*m));
}

void iotkit__fleet_hpoints_free(iotkit__fleet_hpoint_t *v, char **names, size_t n_names) {
  for (size_t i = 0; i < n_names; i++) free(names[i]);
  free(names);
  free(v);
}

static void entry_free(iotkit__fleet_entry_t *e) {
  iotkit__fleet_hpoints_free(e->tel_hist, e->tel_names, e->n_tel_names);
  free(e->id);
  free(e->state_json);
  for (size_t i = 0; i < e->n_metrics; i++) iotkit__fleet_metric_clear(&e->metrics[i]);
  free(e->metrics);
  free(e->hist);
  free(e);
}

void iotkit__fleet_view_free(iotkit__fleet_view_t *v) {
  for (size_t b = 0; b < v->nbuckets; b++) {
    for (iotkit__fleet_entry_t *e = v->buckets[b], *next; e; e = next) {
      next = e->next;
      entry_free(e);
    }
  }
  free(v->buckets);
  memset(v, 0, sizeof(*v));
}

iotkit__fleet_entry_t *iotkit__fleet_view_find(const iotkit__fleet_view_t *v, const char *id) {
  for (iotkit__fleet_entry_t *e = v->buckets[hash(id) & (v->nbuckets - 1)]; e; e = e->next)
    if (strcmp(e->id, id) == 0) return e;
  return NULL;
}

static void grow(iotkit__fleet_view_t *v) {
  size_t n = v->nbuckets * 2;
  iotkit__fleet_entry_t **b = calloc(n, sizeof(*b));
  if (!b) return; /* longer chains, still correct */
  for (size_t i = 0; i < v->nbuckets; i++) {
    for (iotkit__fleet_entry_t *e = v->buckets[i], *next; e; e = next) {
      next = e->next;
      size_t k = hash(e->id) & (n - 1);
      e->next = b[k];
      b[k] = e;
    }
  }
  free(v->buckets);
  v->buckets = b;
  v->nbuckets = n;
}

iotkit__fleet_entry_t *iotkit__fleet_view_add(iotkit__fleet_view_t *v, const char *id) {
  iotkit__fleet_entry_t *e = iotkit__fleet_view_find(v, id);
  if (e) return e;
  e = calloc(1, sizeof(*e));
  if (!e || !(e->id = iotkit__strdup(id))) {
    free(e);
    return NULL;
  }
  e->status_ts = IOTKIT_PROTOCOL_NO_TS;
  e->ret_ts = IOTKIT_PROTOCOL_NO_TS;
  if (v->count >= v->nbuckets) grow(v);
  size_t k = hash(id) & (v->nbuckets - 1);
  e->next = v->buckets[k];
  v->buckets[k] = e;
  v->count++;
  return e;
}

void iotkit__fleet_view_remove(iotkit__fleet_view_t *v, const char *id) {
  for (iotkit__fleet_entry_t **p = &v->buckets[hash(id) & (v->nbuckets - 1)]; *p; p = &(*p)->next) {
    iotkit__fleet_entry_t *e = *p;
    if (strcmp(e->id, id) != 0) continue;
    *p = e->next;
    if (e->dirty) {
      for (iotkit__fleet_entry_t **d = &v->dirty; *d; d = &(*d)->dirty_next) {
        if (*d == e) {
          *d = e->dirty_next;
          break;
        }
      }
    }
    v->count--;
    entry_free(e);
    return;
  }
}

void iotkit__fleet_view_touch(iotkit__fleet_view_t *v, iotkit__fleet_entry_t *e, uint32_t bits) {
  if (!e->dirty) {
    e->dirty_next = v->dirty;
    v->dirty = e;
  }
  e->dirty |= bits;
}

void iotkit__fleet_view_each(iotkit__fleet_view_t *v, void (*fn)(iotkit__fleet_entry_t *e, void *ctx), void *ctx) {
  for (size_t b = 0; b < v->nbuckets; b++)
    for (iotkit__fleet_entry_t *e = v->buckets[b]; e; e = e->next) fn(e, ctx);
}

/* ------------------------------------------------------------ metrics -- */

bool iotkit__fleet_metric_copy(iotkit__fleet_metric_t *dst, const iotkit__fleet_metric_t *src) {
  *dst = *src;
  dst->name = iotkit__strdup(src->name);
  dst->unit = iotkit__strdup(src->unit);
  bool ok = dst->name && (!src->unit || dst->unit);
  if (src->type == IOTKIT_TELEMETRY_STRING) {
    dst->v.s = iotkit__strdup(src->v.s);
    ok = ok && dst->v.s;
  }
  if (!ok) {
    free(dst->name);
    free(dst->unit);
    if (src->type == IOTKIT_TELEMETRY_STRING) free(dst->v.s);
    memset(dst, 0, sizeof(*dst));
  }
  return ok;
}

/* Index of @p name in e->metrics, or where it would go (*found false). */
static size_t metric_pos(const iotkit__fleet_entry_t *e, const char *name, bool *found) {
  size_t lo = 0, hi = e->n_metrics;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(e->metrics[mid].name, name);
    if (c == 0) {
      *found = true;
      return mid;
    }
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  *found = false;
  return lo;
}

static bool same_text(const char *a, const char *b) { return a == b || (a && b && strcmp(a, b) == 0); }

/* A new point of a metric held already: its name stays, its unit is kept when the same, so
   that the usual message (same metric, same unit, a number) allocates nothing. */
static int metric_update(iotkit__fleet_metric_t *cur, const iotkit_telemetry_point_t *p, int64_t ts) {
  bool new_unit = !same_text(cur->unit, p->unit);
  char *unit = new_unit ? iotkit__strdup(p->unit) : cur->unit;
  char *s = p->type == IOTKIT_TELEMETRY_STRING ? iotkit__strdup(p->value.s) : NULL;
  if ((new_unit && p->unit && !unit) || (p->type == IOTKIT_TELEMETRY_STRING && !s)) {
    if (new_unit) free(unit);
    free(s);
    return IOTKIT_ERR_NOMEM;
  }
  if (new_unit) free(cur->unit);
  if (cur->type == IOTKIT_TELEMETRY_STRING) free(cur->v.s);
  cur->unit = unit;
  cur->type = p->type;
  switch (p->type) {
    case IOTKIT_TELEMETRY_DOUBLE: cur->v.d = p->value.d; break;
    case IOTKIT_TELEMETRY_INT: cur->v.i = p->value.i; break;
    case IOTKIT_TELEMETRY_BOOL: cur->v.b = p->value.b; break;
    default: cur->v.s = s; break;
  }
  cur->ts_ms = ts;
  cur->dirty = true;
  return 1;
}

int iotkit__fleet_entry_metric(iotkit__fleet_entry_t *e, const iotkit_telemetry_point_t *p, int64_t ts) {
  bool found = false;
  size_t at = metric_pos(e, p->name, &found);
  if (found && e->metrics[at].ts_ms > ts) return 0;
  if (found) return metric_update(&e->metrics[at], p, ts);
  iotkit__fleet_metric_t m = {.name = (char *)p->name, .unit = (char *)p->unit, .ts_ms = ts, .type = p->type};
  switch (p->type) {
    case IOTKIT_TELEMETRY_DOUBLE: m.v.d = p->value.d; break;
    case IOTKIT_TELEMETRY_INT: m.v.i = p->value.i; break;
    case IOTKIT_TELEMETRY_BOOL: m.v.b = p->value.b; break;
    default: m.v.s = (char *)p->value.s; break;
  }
  iotkit__fleet_metric_t copy;
  if (!iotkit__fleet_metric_copy(&copy, &m)) return IOTKIT_ERR_NOMEM;
  copy.dirty = true;
  if (e->n_metrics >= IOTKIT_FLEET_MAX_METRICS) {
    iotkit__fleet_metric_clear(&copy);
    return IOTKIT_ERR_TOO_LARGE;
  }
  if (e->n_metrics == e->cap_metrics) {
    size_t cap = e->cap_metrics ? e->cap_metrics * 2 : 4;
    iotkit__fleet_metric_t *grown = realloc(e->metrics, cap * sizeof(*grown));
    if (!grown) {
      iotkit__fleet_metric_clear(&copy);
      return IOTKIT_ERR_NOMEM;
    }
    e->metrics = grown;
    e->cap_metrics = cap;
  }
  memmove(e->metrics + at + 1, e->metrics + at, (e->n_metrics - at) * sizeof(*e->metrics));
  e->metrics[at] = copy;
  e->n_metrics++;
  return 1;
}

bool iotkit__fleet_entry_hist(iotkit__fleet_entry_t *e, const iotkit_location_t *loc, uint32_t keep) {
  if (keep && e->n_hist >= keep) {
    /* Only the newest @p keep positions can stay in the history: one older than all the
       pending ones is dropped, else it takes the place of the oldest pending one. */
    size_t oldest = 0;
    for (size_t i = 1; i < e->n_hist; i++)
      if (e->hist[i].ts_ms < e->hist[oldest].ts_ms) oldest = i;
    if (loc->ts_ms <= e->hist[oldest].ts_ms) return true;
    e->hist[oldest] = *loc;
    return true;
  }
  if (e->n_hist == e->cap_hist) {
    size_t cap = e->cap_hist ? e->cap_hist * 2 : 4;
    iotkit_location_t *grown = realloc(e->hist, cap * sizeof(*grown));
    if (!grown) return false;
    e->hist = grown;
    e->cap_hist = cap;
  }
  e->hist[e->n_hist++] = *loc;
  return true;
}

bool iotkit__fleet_entry_tel_hist(iotkit__fleet_entry_t *e, const char *name, int64_t ts, double value) {
  if (e->n_tel_hist >= IOTKIT__FLEET_TEL_PENDING) return false;
  if (e->n_tel_hist == e->cap_tel_hist) {
    size_t cap = e->cap_tel_hist ? e->cap_tel_hist * 2 : 8;
    iotkit__fleet_hpoint_t *grown = realloc(e->tel_hist, cap * sizeof(*grown));
    if (!grown) return false;
    e->tel_hist = grown;
    e->cap_tel_hist = cap;
  }
  /* The newest name first: a message's points usually come in the order of the previous one. */
  const char *shared = NULL;
  for (size_t i = e->n_tel_names; i-- > 0 && !shared;)
    if (strcmp(e->tel_names[i], name) == 0) shared = e->tel_names[i];
  if (!shared) {
    if (e->n_tel_names >= IOTKIT_FLEET_MAX_METRICS) return false; /* the view keeps no more names */
    if (e->n_tel_names == e->cap_tel_names) {
      size_t cap = e->cap_tel_names ? e->cap_tel_names * 2 : 4;
      char **grown = realloc(e->tel_names, cap * sizeof(*grown));
      if (!grown) return false;
      e->tel_names = grown;
      e->cap_tel_names = cap;
    }
    char *copy = iotkit__strdup(name);
    if (!copy) return false;
    shared = e->tel_names[e->n_tel_names++] = copy;
  }
  e->tel_hist[e->n_tel_hist++] = (iotkit__fleet_hpoint_t){.name = shared, .ts_ms = ts, .value = value};
  return true;
}

/* ------------------------------------------------------------- taking -- */

void iotkit__fleet_ingest_free(iotkit__fleet_ingest_t *in) {
  for (size_t i = 0; i < in->n; i++) {
    iotkit__fleet_up_t *u = &in->ups[i];
    free(u->id);
    free(u->state_json);
    for (size_t k = 0; k < u->n_metrics; k++) iotkit__fleet_metric_clear(&u->metrics[k]);
    free(u->metrics);
    free(u->hist);
    iotkit__fleet_hpoints_free(u->tel_hist, u->tel_names, u->n_tel_names);
  }
  free(in->ups);
  in->ups = NULL;
  in->n = 0;
}

/* Copy out what @p e has pending into @p u; false on allocation failure (u partly filled). */
static bool take_one(iotkit__fleet_entry_t *e, iotkit__fleet_up_t *u) {
  memset(u, 0, sizeof(*u));
  u->what = e->dirty;
  if (!(u->id = iotkit__strdup(e->id))) return false;
  u->online = e->online;
  u->last_seen_ms = e->last_seen_ms;
  if ((e->dirty & IOTKIT__FV_STATE) && e->state_json) {
    if (!(u->state_json = iotkit__strdup(e->state_json))) return false;
    u->state_ts = e->state_ts;
  } else {
    u->what &= ~IOTKIT__FV_STATE;
  }
  if (e->dirty & IOTKIT__FV_METRICS) {
    size_t n = 0;
    for (size_t i = 0; i < e->n_metrics; i++) n += e->metrics[i].dirty;
    if (n && !(u->metrics = calloc(n, sizeof(*u->metrics)))) return false;
    for (size_t i = 0; i < e->n_metrics; i++) {
      if (!e->metrics[i].dirty) continue;
      if (!iotkit__fleet_metric_copy(&u->metrics[u->n_metrics], &e->metrics[i])) return false;
      u->n_metrics++;
    }
  }
  u->loc = e->loc;
  if (!e->has_loc) u->what &= ~IOTKIT__FV_LOCATION;
  return true;
}

iotkit_err_t iotkit__fleet_view_take(iotkit__fleet_view_t *v, iotkit__fleet_ingest_t *in) {
  size_t n = 0;
  for (iotkit__fleet_entry_t *e = v->dirty; e; e = e->dirty_next) n++;
  in->ups = NULL;
  in->n = 0;
  if (!n) return IOTKIT_OK;
  if (!(in->ups = calloc(n, sizeof(*in->ups)))) return IOTKIT_ERR_NOMEM;
  for (iotkit__fleet_entry_t *e = v->dirty; e; e = e->dirty_next) {
    bool ok = take_one(e, &in->ups[in->n]);
    in->n++;
    if (!ok) {
      iotkit__fleet_ingest_free(in);
      return IOTKIT_ERR_NOMEM;
    }
  }
  /* Everything is copied: now the entries may forget it. The history moves over as it is. */
  size_t i = 0;
  for (iotkit__fleet_entry_t *e = v->dirty, *next; e; e = next, i++) {
    next = e->dirty_next;
    if (e->dirty & IOTKIT__FV_HISTORY) {
      in->ups[i].hist = e->hist;
      in->ups[i].n_hist = e->n_hist;
      e->hist = NULL;
      e->n_hist = e->cap_hist = 0;
    }
    if (e->dirty & IOTKIT__FV_TEL_HISTORY) {
      in->ups[i].tel_hist = e->tel_hist;
      in->ups[i].n_tel_hist = e->n_tel_hist;
      in->ups[i].tel_names = e->tel_names;
      in->ups[i].n_tel_names = e->n_tel_names;
      e->tel_hist = NULL;
      e->n_tel_hist = e->cap_tel_hist = 0;
      e->tel_names = NULL;
      e->n_tel_names = e->cap_tel_names = 0;
    }
    for (size_t k = 0; k < e->n_metrics; k++) e->metrics[k].dirty = false;
    e->dirty = 0;
    e->dirty_next = NULL;
  }
  v->dirty = NULL;
  return IOTKIT_OK;
}
