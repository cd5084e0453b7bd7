/*
 * The SQLite store's telemetry history: adding a device's new points (in the
 * writer's transaction of the live view, store_sqlite_live.c), trimming each
 * metric they touched to its bounds (count, age), and reading a metric's
 * points or buckets. The key (device, name, ts) serves all three.
 */
#include <stdlib.h>
#include <string.h>

#include "fleet/store_sqlite_internal.h"
#include "iotkit/options.h"

static iotkit_err_t run(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, sqlite3_stmt *st, const char *doing, char *err,
                        size_t cap) {
  int r = sqlite3_step(st);
  iotkit_err_t rc = r == SQLITE_DONE ? IOTKIT_OK : iotkit__sq_fail(s, c, r, doing, err, cap);
  iotkit__sq_done(st);
  return rc;
}

/* Run @p st (bound) to completion; *changed gets the rows it changed. */
static iotkit_err_t run_counted(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, sqlite3_stmt *st, const char *doing,
                                int64_t *changed, char *err, size_t cap) {
  iotkit_err_t rc = run(s, c, st, doing, err, cap);
  *changed = rc == IOTKIT_OK ? (int64_t)sqlite3_changes(c->db) : 0;
  return rc;
}

static void bind_metric(sqlite3_stmt *st, const char *id, const char *name) {
  sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
}

/* How many points (@p id, @p name) has, from the counts or counted now (*rows NULL: not
   known, and no memory to remember it). */
static iotkit_err_t rows_of(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, const char *id, const char *name,
                            int64_t **rows, char *err, size_t cap) {
  if ((*rows = iotkit__sq_tel_count_find(&s->tel_counts, id, name)) != NULL) return IOTKIT_OK;
  iotkit_err_t rc = IOTKIT_OK;
  sqlite3_stmt *st = iotkit__sq_stmt(s, c, IOTKIT__SQ_TEL_ROWS, &rc, err, cap);
  if (!st) return rc;
  bind_metric(st, id, name);
  int r = sqlite3_step(st);
  int64_t n = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
  if (r != SQLITE_ROW) rc = iotkit__sq_fail(s, c, r, "counting the telemetry history", err, cap);
  iotkit__sq_done(st);
  if (rc == IOTKIT_OK) *rows = iotkit__sq_tel_count_add(&s->tel_counts, id, name, n);
  return rc;
}

/* Keep the newest tel_history_max points of a metric (and none older than the age limit). */
static iotkit_err_t trim(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, const char *id, const char *name,
                         const iotkit__fleet_ingest_t *in, char *err, size_t cap) {
  int64_t *rows = NULL, gone = 0;
  iotkit_err_t rc = rows_of(s, c, id, name, &rows, err, cap);
  if (rc != IOTKIT_OK) return rc;
  sqlite3_stmt *st = NULL;
  if (!rows) { /* no count: the statement that finds the cut itself (walks tel_history_max rows) */
    if (!(st = iotkit__sq_stmt(s, c, IOTKIT__SQ_TEL_TRIM_COUNT, &rc, err, cap))) return rc;
    bind_metric(st, id, name);
    sqlite3_bind_int64(st, 3, in->tel_history_max);
    rc = run(s, c, st, "trimming the telemetry history", err, cap);
  } else if (*rows > (int64_t)in->tel_history_max) {
    if (!(st = iotkit__sq_stmt(s, c, IOTKIT__SQ_TEL_TRIM_OLDEST, &rc, err, cap))) return rc;
    bind_metric(st, id, name);
    sqlite3_bind_int64(st, 3, *rows - (int64_t)in->tel_history_max);
    rc = run_counted(s, c, st, "trimming the telemetry history", &gone, err, cap);
    *rows -= gone;
  }
  if (rc != IOTKIT_OK || !in->tel_history_age_ms) return rc;
  if (!(st = iotkit__sq_stmt(s, c, IOTKIT__SQ_TEL_TRIM_AGE, &rc, err, cap))) return rc;
  bind_metric(st, id, name);
  sqlite3_bind_int64(st, 3, in->now_ms - (int64_t)in->tel_history_age_ms);
  rc = run_counted(s, c, st, "trimming the telemetry history", &gone, err, cap);
  if (rows) *rows -= gone;
  return rc;
}

iotkit_err_t iotkit__sq_tel_counts_check(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, char *err, size_t cap) {
  iotkit_err_t rc = IOTKIT_OK;
  sqlite3_stmt *st = iotkit__sq_stmt(s, c, IOTKIT__SQ_DATA_VERSION, &rc, err, cap);
  if (!st) return rc;
  int r = sqlite3_step(st);
  int64_t v = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
  if (r != SQLITE_ROW) rc = iotkit__sq_fail(s, c, r, "reading the data version", err, cap);
  iotkit__sq_done(st);
  if (rc == IOTKIT_OK && v != s->tel_counts.data_version) {
    iotkit__sq_tel_counts_clear(&s->tel_counts); /* another connection wrote: count again */
    s->tel_counts.data_version = v;
  }
  return rc;
}

iotkit_err_t iotkit__sq_tel_history_add(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, const iotkit__fleet_up_t *u,
                                        const iotkit__fleet_ingest_t *in, char *err, size_t cap) {
  for (size_t i = 0; i < u->n_tel_hist; i++) {
    iotkit_err_t rc = IOTKIT_OK;
    sqlite3_stmt *st = iotkit__sq_stmt(s, c, IOTKIT__SQ_TEL_ADD, &rc, err, cap);
    if (!st) return rc;
    bind_metric(st, u->id, u->tel_hist[i].name);
    sqlite3_bind_int64(st, 3, u->tel_hist[i].ts_ms);
    sqlite3_bind_double(st, 4, u->tel_hist[i].value);
    int64_t added = 0;
    if ((rc = run_counted(s, c, st, "adding to the telemetry history", &added, err, cap)) != IOTKIT_OK) return rc;
    int64_t *rows = added ? iotkit__sq_tel_count_find(&s->tel_counts, u->id, u->tel_hist[i].name) : NULL;
    if (rows) *rows += added; /* a duplicate (same ts) adds nothing */
  }
  /* Trim each metric once: the names the points share are the metrics they touched. */
  for (size_t k = 0; k < u->n_tel_names; k++) {
    iotkit_err_t rc = trim(s, c, u->id, u->tel_names[k], in, err, cap);
    if (rc != IOTKIT_OK) return rc;
  }
  return IOTKIT_OK;
}

typedef struct {
  const char *id, *name;
  int64_t t1, t2, bucket_ms;
  iotkit_fleet_sample_t *v;
  size_t n, cap;
} query_t;

static iotkit_err_t query_body(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, const void *arg, char *err, size_t cap) {
  query_t *q = (query_t *)arg;
  iotkit_err_t rc = IOTKIT_OK;
  sqlite3_stmt *st = iotkit__sq_stmt(s, c, q->bucket_ms ? IOTKIT__SQ_TEL_BUCKETS : IOTKIT__SQ_TEL_POINTS, &rc, err, cap);
  if (!st) return rc;
  sqlite3_bind_text(st, 1, q->id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, q->name, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 3, q->t1);
  sqlite3_bind_int64(st, 4, q->t2);
  if (q->bucket_ms) sqlite3_bind_int64(st, 5, q->bucket_ms);
  int r;
  while ((r = sqlite3_step(st)) == SQLITE_ROW) {
    if (q->n == q->cap) {
      size_t grown_cap = q->cap ? q->cap * 2 : 64;
      iotkit_fleet_sample_t *grown = realloc(q->v, grown_cap * sizeof(*grown));
      if (!grown) {
        iotkit__sq_done(st);
        return IOTKIT_ERR_NOMEM;
      }
      q->v = grown;
      q->cap = grown_cap;
    }
    q->v[q->n++] = (iotkit_fleet_sample_t){.ts_ms = sqlite3_column_int64(st, 0),
                                           .min = sqlite3_column_double(st, 1),
                                           .max = sqlite3_column_double(st, 2),
                                           .mean = sqlite3_column_double(st, 3),
                                           .count = (uint64_t)sqlite3_column_int64(st, 4)};
  }
  if (r != SQLITE_DONE) rc = iotkit__sq_fail(s, c, r, "reading the telemetry history", err, cap);
  iotkit__sq_done(st);
  return rc;
}

iotkit_err_t iotkit__sq_history(void *store, const char *id, const char *name, int64_t t1, int64_t t2,
                                int64_t bucket_ms, iotkit_fleet_sample_t **out, size_t *count, char *err, size_t cap) {
  iotkit__sq_store_t *s = store;
  query_t q = {.id = id, .name = name, .t1 = t1, .t2 = t2, .bucket_ms = bucket_ms};
  iotkit_err_t rc = iotkit__sq_in_txn(s, s->r, IOTKIT__SQ_BEGIN_READ, query_body, &q, err, cap);
  if (rc != IOTKIT_OK || q.n == 0) {
    free(q.v);
    q.v = NULL;
    q.n = 0;
  }
  if (rc == IOTKIT_OK) {
    *out = q.v;
    *count = q.n;
  }
  return rc;
}
