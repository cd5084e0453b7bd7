/*
 * The SQLite store's telemetry history: adding a device's new points (in the
 * writer's transaction of the live view, store_sqlite_live.c), trimming each
 * metric they touched to its bounds (count, age), and reading a metric's
 * points or buckets. The key (device, name, ts) serves all three.
 */
#include <stdlib.h>
#include <string.h>

#include "fleet/store_sqlite_internal.h"

static iotkit_err_t run(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, sqlite3_stmt *st, const char *doing, char *err,
                        size_t cap) {
  int r = sqlite3_step(st);
  iotkit_err_t rc = r == SQLITE_DONE ? IOTKIT_OK : iotkit__sq_fail(s, c, r, doing, err, cap);
  iotkit__sq_done(st);
  return rc;
}

static iotkit_err_t trim(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, const char *id, const char *name,
                         const iotkit__fleet_ingest_t *in, char *err, size_t cap) {
  iotkit_err_t rc = IOTKIT_OK;
  sqlite3_stmt *st = iotkit__sq_stmt(s, c, IOTKIT__SQ_TEL_TRIM_COUNT, &rc, err, cap);
  if (!st) return rc;
  sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 3, in->tel_history_max);
  if ((rc = run(s, c, st, "trimming the telemetry history", err, cap)) != IOTKIT_OK || !in->tel_history_age_ms)
    return rc;
  st = iotkit__sq_stmt(s, c, IOTKIT__SQ_TEL_TRIM_AGE, &rc, err, cap);
  if (!st) return rc;
  sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 3, in->now_ms - (int64_t)in->tel_history_age_ms);
  return run(s, c, st, "trimming the telemetry history", err, cap);
}

iotkit_err_t iotkit__sq_tel_history_add(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, const iotkit__fleet_up_t *u,
                                        const iotkit__fleet_ingest_t *in, char *err, size_t cap) {
  for (size_t i = 0; i < u->n_tel_hist; i++) {
    iotkit_err_t rc = IOTKIT_OK;
    sqlite3_stmt *st = iotkit__sq_stmt(s, c, IOTKIT__SQ_TEL_ADD, &rc, err, cap);
    if (!st) return rc;
    sqlite3_bind_text(st, 1, u->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, u->tel_hist[i].name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, u->tel_hist[i].ts_ms);
    sqlite3_bind_double(st, 4, u->tel_hist[i].value);
    if ((rc = run(s, c, st, "adding to the telemetry history", err, cap)) != IOTKIT_OK) return rc;
  }
  /* Trim each metric once (the first of its points names it). */
  for (size_t i = 0; i < u->n_tel_hist; i++) {
    bool seen = false;
    for (size_t k = 0; k < i && !seen; k++) seen = strcmp(u->tel_hist[k].name, u->tel_hist[i].name) == 0;
    if (seen) continue;
    iotkit_err_t rc = trim(s, c, u->id, u->tel_hist[i].name, in, err, cap);
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
