/*
 * The SQLite store's live-view operations: one batch of changes written in
 * one IMMEDIATE transaction (presence, state, latest metrics, latest
 * position, history with its bound), the load at open, and the location
 * reads. Values are bound parameters; the SQL is in store_sqlite_sql.c.
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "fleet/store_sqlite_internal.h"
#include "fleet/view.h"

static void bind_text(sqlite3_stmt *st, int i, const char *v) {
  if (v) sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
  else sqlite3_bind_null(st, i);
}

static iotkit_err_t run(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, sqlite3_stmt *st, const char *doing, char *err,
                        size_t cap) {
  int r = sqlite3_step(st);
  iotkit_err_t rc = r == SQLITE_DONE || r == SQLITE_ROW ? IOTKIT_OK : iotkit__sq_fail(s, c, r, doing, err, cap);
  iotkit__sq_done(st);
  return rc;
}

/* ?2 lat ?3 lon ?4 alt ?5 acc ?6 ts, as both LOC_PUT and HIST_ADD take them. */
static void bind_loc(sqlite3_stmt *st, const char *id, const iotkit_location_t *l) {
  bind_text(st, 1, id);
  sqlite3_bind_double(st, 2, l->latitude);
  sqlite3_bind_double(st, 3, l->longitude);
  if (l->has_altitude) sqlite3_bind_double(st, 4, l->altitude);
  else sqlite3_bind_null(st, 4);
  if (l->has_accuracy) sqlite3_bind_double(st, 5, l->accuracy_m);
  else sqlite3_bind_null(st, 5);
  sqlite3_bind_int64(st, 6, l->ts_ms);
}

static void bind_metric(sqlite3_stmt *st, const char *id, const iotkit__fleet_metric_t *m) {
  bind_text(st, 1, id);
  bind_text(st, 2, m->name);
  bind_text(st, 3, m->unit);
  sqlite3_bind_int(st, 4, (int)m->type);
  switch (m->type) {
    case IOTKIT_TELEMETRY_DOUBLE: sqlite3_bind_double(st, 5, m->v.d); break;
    case IOTKIT_TELEMETRY_INT: sqlite3_bind_int64(st, 5, m->v.i); break;
    case IOTKIT_TELEMETRY_BOOL: sqlite3_bind_int(st, 5, m->v.b ? 1 : 0); break;
    default: bind_text(st, 5, m->v.s); break;
  }
  sqlite3_bind_int64(st, 6, m->ts_ms);
}

#define STMT(which)                                          \
  do {                                                       \
    st = iotkit__sq_stmt(s, c, (which), &rc, err, cap);      \
    if (!st) return rc;                                      \
  } while (0)

static iotkit_err_t up_body(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, const iotkit__fleet_up_t *u,
                            const iotkit__fleet_ingest_t *in, char *err, size_t cap) {
  iotkit_err_t rc = IOTKIT_OK;
  sqlite3_stmt *st = NULL;
  if (u->what & IOTKIT__FV_REGISTER) {
    STMT(IOTKIT__SQ_AUTO_INSERT);
    bind_text(st, 1, u->id);
    sqlite3_bind_int64(st, 2, in->now_ms);
    if ((rc = run(s, c, st, "registering a device", err, cap)) != IOTKIT_OK) return rc;
  }
  if (u->what & IOTKIT__FV_PRESENCE) {
    STMT(IOTKIT__SQ_PRESENCE);
    bind_text(st, 1, u->id);
    sqlite3_bind_int(st, 2, u->online ? 1 : 0);
    if (u->last_seen_ms > 0) sqlite3_bind_int64(st, 3, u->last_seen_ms);
    else sqlite3_bind_null(st, 3);
    if ((rc = run(s, c, st, "recording presence", err, cap)) != IOTKIT_OK) return rc;
  }
  if (u->what & IOTKIT__FV_STATE) {
    STMT(IOTKIT__SQ_STATE_PUT);
    bind_text(st, 1, u->id);
    bind_text(st, 2, u->state_json);
    sqlite3_bind_int64(st, 3, u->state_ts);
    if ((rc = run(s, c, st, "recording a reported state", err, cap)) != IOTKIT_OK) return rc;
  }
  for (size_t i = 0; i < u->n_metrics; i++) {
    STMT(IOTKIT__SQ_METRIC_PUT);
    bind_metric(st, u->id, &u->metrics[i]);
    if ((rc = run(s, c, st, "recording a metric", err, cap)) != IOTKIT_OK) return rc;
  }
  if (u->what & IOTKIT__FV_LOCATION) {
    STMT(IOTKIT__SQ_LOC_PUT);
    bind_loc(st, u->id, &u->loc);
    if ((rc = run(s, c, st, "recording a position", err, cap)) != IOTKIT_OK) return rc;
  }
  if (u->n_hist) {
    for (size_t i = 0; i < u->n_hist; i++) {
      STMT(IOTKIT__SQ_HIST_ADD);
      bind_loc(st, u->id, &u->hist[i]);
      if ((rc = run(s, c, st, "adding to the location history", err, cap)) != IOTKIT_OK) return rc;
    }
    STMT(IOTKIT__SQ_HIST_TRIM);
    bind_text(st, 1, u->id);
    sqlite3_bind_int64(st, 2, in->history_max);
    if ((rc = run(s, c, st, "trimming the location history", err, cap)) != IOTKIT_OK) return rc;
  }
  if (u->n_tel_hist) return iotkit__sq_tel_history_add(s, c, u, in, err, cap);
  return IOTKIT_OK;
}

static iotkit_err_t ingest_body(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, const void *arg, char *err, size_t cap) {
  const iotkit__fleet_ingest_t *in = arg;
  if (in->tel_history_max) {
    iotkit_err_t rc = iotkit__sq_tel_counts_check(s, c, err, cap);
    if (rc != IOTKIT_OK) return rc;
  }
  for (size_t i = 0; i < in->n; i++) {
    iotkit_err_t rc = up_body(s, c, &in->ups[i], in, err, cap);
    if (rc != IOTKIT_OK) return rc;
  }
  return IOTKIT_OK;
}

iotkit_err_t iotkit__sq_ingest(void *store, const iotkit__fleet_ingest_t *in, char *err, size_t cap) {
  iotkit__sq_store_t *s = store;
  iotkit_err_t rc = iotkit__sq_in_txn(s, s->w, IOTKIT__SQ_BEGIN_WRITE, ingest_body, in, err, cap);
  /* Rolled back: the history's counts moved with writes that are not there. */
  if (rc != IOTKIT_OK) iotkit__sq_tel_counts_clear(&s->tel_counts);
  return rc;
}

/* --------------------------------------------------------------- reads -- */

static const char *col_text(sqlite3_stmt *st, int i) {
  const unsigned char *t = sqlite3_column_text(st, i);
  return t ? (const char *)t : "";
}

static void col_loc(sqlite3_stmt *st, int first, iotkit_location_t *l) {
  memset(l, 0, sizeof *l);
  l->latitude = sqlite3_column_double(st, first);
  l->longitude = sqlite3_column_double(st, first + 1);
  l->has_altitude = sqlite3_column_type(st, first + 2) != SQLITE_NULL;
  if (l->has_altitude) l->altitude = sqlite3_column_double(st, first + 2);
  l->has_accuracy = sqlite3_column_type(st, first + 3) != SQLITE_NULL;
  if (l->has_accuracy) l->accuracy_m = sqlite3_column_double(st, first + 3);
  l->ts_ms = sqlite3_column_int64(st, first + 4);
}

/* Step through the rows of @p st, calling @p row for each. */
static iotkit_err_t each_row(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, sqlite3_stmt *st, const char *doing,
                             bool (*row)(sqlite3_stmt *st, void *ctx), void *ctx, char *err, size_t cap) {
  int r;
  iotkit_err_t rc = IOTKIT_OK;
  while ((r = sqlite3_step(st)) == SQLITE_ROW)
    if (!row(st, ctx)) {
      rc = IOTKIT_ERR_NOMEM;
      break;
    }
  if (rc == IOTKIT_OK && r != SQLITE_DONE) rc = iotkit__sq_fail(s, c, r, doing, err, cap);
  iotkit__sq_done(st);
  return rc;
}

typedef struct {
  const iotkit__fleet_load_cbs_t *cbs;
  void *ctx;
} load_arg_t;

static bool row_device(sqlite3_stmt *st, void *ctx) {
  load_arg_t *a = ctx;
  a->cbs->device(a->ctx, col_text(st, 0), sqlite3_column_int(st, 1) != 0, sqlite3_column_int64(st, 2));
  return true;
}

static bool row_state(sqlite3_stmt *st, void *ctx) {
  load_arg_t *a = ctx;
  a->cbs->state(a->ctx, col_text(st, 0), col_text(st, 1), sqlite3_column_int64(st, 2));
  return true;
}

static bool row_metric(sqlite3_stmt *st, void *ctx) {
  load_arg_t *a = ctx;
  iotkit__fleet_metric_t m = {.name = (char *)col_text(st, 1),
                              .type = (iotkit_telemetry_type_t)sqlite3_column_int(st, 3),
                              .ts_ms = sqlite3_column_int64(st, 5)};
  if (sqlite3_column_type(st, 2) != SQLITE_NULL) m.unit = (char *)col_text(st, 2);
  switch (m.type) {
    case IOTKIT_TELEMETRY_DOUBLE: m.v.d = sqlite3_column_double(st, 4); break;
    case IOTKIT_TELEMETRY_INT: m.v.i = sqlite3_column_int64(st, 4); break;
    case IOTKIT_TELEMETRY_BOOL: m.v.b = sqlite3_column_int(st, 4) != 0; break;
    case IOTKIT_TELEMETRY_STRING: m.v.s = (char *)col_text(st, 4); break;
    default: return true; /* not ours: skip */
  }
  a->cbs->metric(a->ctx, col_text(st, 0), &m);
  return true;
}

static bool row_location(sqlite3_stmt *st, void *ctx) {
  load_arg_t *a = ctx;
  iotkit_location_t l;
  col_loc(st, 1, &l);
  a->cbs->location(a->ctx, col_text(st, 0), &l);
  return true;
}

static iotkit_err_t load_body(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, const void *arg, char *err, size_t cap) {
  static const struct {
    iotkit__sq_stmt_t which;
    bool (*row)(sqlite3_stmt *, void *);
  } parts[] = {{IOTKIT__SQ_LOAD_DEVICES, row_device},
               {IOTKIT__SQ_LOAD_STATES, row_state},
               {IOTKIT__SQ_LOAD_METRICS, row_metric},
               {IOTKIT__SQ_LOAD_LOCATIONS, row_location}};
  for (size_t i = 0; i < IOTKIT__ARRAY_LEN(parts); i++) {
    iotkit_err_t rc = IOTKIT_OK;
    sqlite3_stmt *st = iotkit__sq_stmt(s, c, parts[i].which, &rc, err, cap);
    if (!st) return rc;
    rc = each_row(s, c, st, "loading the live view", parts[i].row, (void *)arg, err, cap);
    if (rc != IOTKIT_OK) return rc;
  }
  return IOTKIT_OK;
}

iotkit_err_t iotkit__sq_load(void *store, const iotkit__fleet_load_cbs_t *cbs, void *ctx, char *err, size_t cap) {
  iotkit__sq_store_t *s = store;
  load_arg_t a = {.cbs = cbs, .ctx = ctx};
  return iotkit__sq_in_txn(s, s->r, IOTKIT__SQ_BEGIN_READ, load_body, &a, err, cap);
}

/* A growing array of @p size-byte elements. */
typedef struct {
  void *v;
  size_t n, cap, size;
} vec_t;

static void *vec_push(vec_t *a) {
  if (a->n == a->cap) {
    size_t cap = a->cap ? a->cap * 2 : 16;
    void *grown = realloc(a->v, cap * a->size);
    if (!grown) return NULL;
    a->v = grown;
    a->cap = cap;
  }
  return (char *)a->v + a->size * a->n++;
}

static bool row_track(sqlite3_stmt *st, void *ctx) {
  iotkit_location_t *l = vec_push(ctx);
  if (l) col_loc(st, 0, l);
  return l != NULL;
}

static bool row_near(sqlite3_stmt *st, void *ctx) {
  iotkit_fleet_near_t *x = vec_push(ctx);
  if (!x) return false;
  memset(x, 0, sizeof *x);
  iotkit__fmt(x->device_id, sizeof x->device_id, "%s", col_text(st, 0));
  col_loc(st, 1, &x->location);
  return true;
}

typedef struct {
  iotkit__sq_stmt_t which;
  void (*bind)(sqlite3_stmt *st, const void *params);
  const void *params;
  bool (*row)(sqlite3_stmt *, void *);
  vec_t *out;
} rows_arg_t;

static iotkit_err_t rows_body(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, const void *arg, char *err, size_t cap) {
  const rows_arg_t *a = arg;
  iotkit_err_t rc = IOTKIT_OK;
  sqlite3_stmt *st = iotkit__sq_stmt(s, c, a->which, &rc, err, cap);
  if (!st) return rc;
  a->bind(st, a->params);
  return each_row(s, c, st, "reading positions", a->row, a->out, err, cap);
}

/* Run the query of @p a; on success a->out holds the rows (its array NULL when there are none). */
static iotkit_err_t rows(iotkit__sq_store_t *s, rows_arg_t *a, char *err, size_t cap) {
  iotkit_err_t rc = iotkit__sq_in_txn(s, s->r, IOTKIT__SQ_BEGIN_READ, rows_body, a, err, cap);
  if (rc != IOTKIT_OK || a->out->n == 0) {
    free(a->out->v);
    a->out->v = NULL;
    a->out->n = 0;
  }
  return rc;
}

typedef struct {
  const char *id;
  int64_t t1, t2;
} track_params_t;

static void bind_track(sqlite3_stmt *st, const void *params) {
  const track_params_t *p = params;
  bind_text(st, 1, p->id);
  sqlite3_bind_int64(st, 2, p->t1);
  sqlite3_bind_int64(st, 3, p->t2);
}

iotkit_err_t iotkit__sq_track(void *store, const char *id, int64_t t1, int64_t t2, iotkit_location_t **out,
                              size_t *count, char *err, size_t cap) {
  vec_t v = {.size = sizeof(iotkit_location_t)};
  track_params_t p = {id, t1, t2};
  rows_arg_t a = {IOTKIT__SQ_TRACK, bind_track, &p, row_track, &v};
  iotkit_err_t rc = rows(store, &a, err, cap);
  if (rc == IOTKIT_OK) {
    *out = v.v;
    *count = v.n;
  }
  return rc;
}

static void bind_box(sqlite3_stmt *st, const void *params) {
  const iotkit__fleet_box_t *b = params;
  sqlite3_bind_double(st, 1, b->lat_min);
  sqlite3_bind_double(st, 2, b->lat_max);
  sqlite3_bind_double(st, 3, b->lon_min[0]);
  sqlite3_bind_double(st, 4, b->lon_max[0]);
  sqlite3_bind_double(st, 5, b->lon_min[1]);
  sqlite3_bind_double(st, 6, b->lon_max[1]);
}

iotkit_err_t iotkit__sq_in_box(void *store, const iotkit__fleet_box_t *box, iotkit_fleet_near_t **out, size_t *count,
                               char *err, size_t cap) {
  vec_t v = {.size = sizeof(iotkit_fleet_near_t)};
  rows_arg_t a = {IOTKIT__SQ_IN_BOX, bind_box, box, row_near, &v};
  iotkit_err_t rc = rows(store, &a, err, cap);
  if (rc == IOTKIT_OK) {
    *out = v.v;
    *count = v.n;
  }
  return rc;
}
