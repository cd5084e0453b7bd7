/*
 * The SQLite store's desired state: a device's document and version (read
 * connection), and the new documents of one desired-state operation written
 * in one transaction (writer thread). The statements are in
 * store_sqlite_sql.c; the table is migration step 3 -> 4.
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "fleet/store_sqlite_internal.h"

typedef struct get_arg {
  const char *id;
  uint64_t *version;
  char **state;
} get_arg_t;

static iotkit_err_t get_body(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, const void *arg, char *err, size_t cap) {
  const get_arg_t *a = arg;
  iotkit_err_t rc = IOTKIT_OK;
  sqlite3_stmt *st = iotkit__sq_stmt(s, c, IOTKIT__SQ_DESIRED_GET, &rc, err, cap);
  if (!st) return rc;
  sqlite3_bind_text(st, 1, a->id, -1, SQLITE_STATIC);
  int r = sqlite3_step(st);
  if (r == SQLITE_ROW) {
    *a->version = (uint64_t)sqlite3_column_int64(st, 0);
    const char *text = (const char *)sqlite3_column_text(st, 1);
    *a->state = iotkit__strdup(text ? text : "{}");
    if (!*a->state) rc = IOTKIT_ERR_NOMEM;
  } else if (r == SQLITE_DONE) {
    rc = IOTKIT_ERR_NOT_FOUND;
    iotkit__fmt(err, cap, "fleet database %s: no desired state for %s", s->path, a->id);
  } else {
    rc = iotkit__sq_fail(s, c, r, "reading a desired state", err, cap);
  }
  iotkit__sq_done(st);
  return rc;
}

iotkit_err_t iotkit__sq_desired_get(void *store, const char *id, uint64_t *version, char **state, char *err,
                                    size_t cap) {
  iotkit__sq_store_t *s = store;
  uint64_t v = 0;
  char *text = NULL;
  get_arg_t a = {.id = id, .version = &v, .state = &text};
  iotkit_err_t rc = iotkit__sq_in_txn(s, s->r, IOTKIT__SQ_BEGIN_READ, get_body, &a, err, cap);
  if (rc != IOTKIT_OK) {
    free(text);
    return rc;
  }
  *version = v;
  *state = text;
  return IOTKIT_OK;
}

typedef struct put_arg {
  const iotkit__fleet_desired_t *rows;
  size_t n;
  int64_t now_ms;
} put_arg_t;

static iotkit_err_t put_body(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, const void *arg, char *err, size_t cap) {
  const put_arg_t *a = arg;
  for (size_t i = 0; i < a->n; i++) {
    iotkit_err_t rc = IOTKIT_OK;
    sqlite3_stmt *st = iotkit__sq_stmt(s, c, IOTKIT__SQ_DESIRED_PUT, &rc, err, cap);
    if (!st) return rc;
    sqlite3_bind_text(st, 1, a->rows[i].id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)a->rows[i].version);
    sqlite3_bind_text(st, 3, a->rows[i].state, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, a->now_ms);
    int r = sqlite3_step(st);
    rc = r == SQLITE_DONE ? IOTKIT_OK : iotkit__sq_fail(s, c, r, "writing a desired state", err, cap);
    iotkit__sq_done(st);
    if (rc != IOTKIT_OK) return rc;
  }
  return IOTKIT_OK;
}

iotkit_err_t iotkit__sq_desired_put(void *store, const iotkit__fleet_desired_t *rows, size_t n, int64_t now_ms,
                                    char *err, size_t cap) {
  iotkit__sq_store_t *s = store;
  put_arg_t a = {.rows = rows, .n = n, .now_ms = now_ms};
  return iotkit__sq_in_txn(s, s->w, IOTKIT__SQ_BEGIN_WRITE, put_body, &a, err, cap);
}
