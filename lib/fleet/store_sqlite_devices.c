/*
 * The SQLite store's device operations. Writes run in the writer thread, each
 * in one IMMEDIATE transaction on the write connection; reads run in the
 * caller's thread in one read transaction on the read connection, so that a
 * record and its tags come from the same snapshot. Every value is a bound
 * parameter; the SQL is in store_sqlite_sql.c.
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "fleet/store_sqlite_internal.h"

typedef iotkit__sq_body_fn txn_body_fn;
#define in_txn iotkit__sq_in_txn

/* Run @p body in a transaction on @p c (BEGIN_WRITE or BEGIN_READ), committed on success. */
iotkit_err_t iotkit__sq_in_txn(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, iotkit__sq_stmt_t begin,
                               txn_body_fn body, const void *arg, char *err, size_t cap) {
  iotkit__sq_lock(s, c);
  iotkit_err_t rc = iotkit__sq_exec(s, c, begin, "starting a transaction", err, cap);
  if (rc == IOTKIT_OK) {
    rc = body(s, c, arg, err, cap);
    if (rc == IOTKIT_OK) rc = iotkit__sq_exec(s, c, IOTKIT__SQ_COMMIT, "committing", err, cap);
    if (rc != IOTKIT_OK && !sqlite3_get_autocommit(c->db)) {
      char ignored[8];
      (void)iotkit__sq_exec(s, c, IOTKIT__SQ_ROLLBACK, "rolling back", ignored, sizeof(ignored));
    }
  }
  iotkit__sq_unlock(s, c);
  return rc;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v) {
  if (v)
    sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null(st, i);
}

/* Step a statement that returns no rows; @p changed (optional) receives whether a row changed. */
static iotkit_err_t step_done(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, sqlite3_stmt *st, const char *doing,
                              bool *changed, char *err, size_t cap) {
  int r = sqlite3_step(st);
  iotkit_err_t rc = r == SQLITE_DONE ? IOTKIT_OK : iotkit__sq_fail(s, c, r, doing, err, cap);
  if (rc == IOTKIT_OK && changed) *changed = sqlite3_changes(c->db) > 0;
  iotkit__sq_done(st);
  return rc;
}

static iotkit_err_t not_found(const iotkit__sq_store_t *s, const char *id, char *err, size_t cap) {
  iotkit__fmt(err, cap, "fleet database %s: no device %s", s->path, id);
  return IOTKIT_ERR_NOT_FOUND;
}

/* ----------------------------------------------------------- writes -- */

static iotkit_err_t insert_tags(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, const iotkit__fleet_rec_t *rec,
                                char *err, size_t cap) {
  for (size_t i = 0; i < rec->tag_count; i++) {
    iotkit_err_t rc = IOTKIT_OK;
    sqlite3_stmt *st = iotkit__sq_stmt(s, c, IOTKIT__SQ_INSERT_TAG, &rc, err, cap);
    if (!st) return rc;
    bind_text(st, 1, rec->id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
    bind_text(st, 3, rec->tags[i]);
    rc = step_done(s, c, st, "storing a tag", NULL, err, cap);
    if (rc != IOTKIT_OK) return rc;
  }
  return IOTKIT_OK;
}

static iotkit_err_t insert_body(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, const void *arg, char *err,
                                size_t cap) {
  const iotkit__fleet_rec_t *rec = arg;
  iotkit_err_t rc = IOTKIT_OK;
  sqlite3_stmt *st = iotkit__sq_stmt(s, c, IOTKIT__SQ_INSERT, &rc, err, cap);
  if (!st) return rc;
  bind_text(st, 1, rec->id);
  bind_text(st, 2, rec->name);
  bind_text(st, 3, rec->type);
  bind_text(st, 4, rec->attributes);
  sqlite3_bind_int64(st, 5, rec->now_ms);
  int r = sqlite3_step(st);
  if (r == SQLITE_CONSTRAINT_PRIMARYKEY) {
    iotkit__sq_done(st);
    iotkit__fmt(err, cap, "fleet database %s: device %s is registered already", s->path, rec->id);
    return IOTKIT_ERR_EXISTS;
  }
  rc = r == SQLITE_DONE ? IOTKIT_OK : iotkit__sq_fail(s, c, r, "creating a device", err, cap);
  iotkit__sq_done(st);
  if (rc != IOTKIT_OK) return rc;
  return insert_tags(s, c, rec, err, cap);
}

iotkit_err_t iotkit__sq_insert(void *store, const iotkit__fleet_rec_t *rec, char *err, size_t cap) {
  iotkit__sq_store_t *s = store;
  return in_txn(s, s->w, IOTKIT__SQ_BEGIN_WRITE, insert_body, rec, err, cap);
}

typedef struct {
  const iotkit__fleet_rec_t *rec;
  uint32_t fields;
} update_arg_t;

static iotkit_err_t exists(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, const char *id, char *err, size_t cap) {
  iotkit_err_t rc = IOTKIT_OK;
  sqlite3_stmt *st = iotkit__sq_stmt(s, c, IOTKIT__SQ_EXISTS, &rc, err, cap);
  if (!st) return rc;
  bind_text(st, 1, id);
  int r = sqlite3_step(st);
  if (r == SQLITE_DONE)
    rc = not_found(s, id, err, cap);
  else if (r != SQLITE_ROW)
    rc = iotkit__sq_fail(s, c, r, "looking up a device", err, cap);
  iotkit__sq_done(st);
  return rc;
}

static iotkit_err_t update_body(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, const void *arg, char *err,
                                size_t cap) {
  const update_arg_t *a = arg;
  const iotkit__fleet_rec_t *rec = a->rec;
  if (a->fields == 0) return exists(s, c, rec->id, err, cap);
  iotkit_err_t rc = IOTKIT_OK;
  sqlite3_stmt *st = iotkit__sq_stmt(s, c, IOTKIT__SQ_UPDATE, &rc, err, cap);
  if (!st) return rc;
  bind_text(st, 1, rec->id);
  bind_text(st, 2, (a->fields & IOTKIT_FLEET_FIELD_NAME) ? rec->name : NULL);
  bind_text(st, 3, (a->fields & IOTKIT_FLEET_FIELD_TYPE) ? rec->type : NULL);
  bind_text(st, 4, (a->fields & IOTKIT_FLEET_FIELD_ATTRIBUTES) ? rec->attributes : NULL);
  sqlite3_bind_int64(st, 5, rec->now_ms);
  bool changed = false;
  rc = step_done(s, c, st, "updating a device", &changed, err, cap);
  if (rc != IOTKIT_OK) return rc;
  if (!changed) return not_found(s, rec->id, err, cap);
  if (!(a->fields & IOTKIT_FLEET_FIELD_TAGS)) return IOTKIT_OK;
  st = iotkit__sq_stmt(s, c, IOTKIT__SQ_DELETE_TAGS, &rc, err, cap);
  if (!st) return rc;
  bind_text(st, 1, rec->id);
  rc = step_done(s, c, st, "replacing the tags", NULL, err, cap);
  if (rc != IOTKIT_OK) return rc;
  return insert_tags(s, c, rec, err, cap);
}

iotkit_err_t iotkit__sq_update(void *store, const iotkit__fleet_rec_t *rec, uint32_t fields, char *err, size_t cap) {
  iotkit__sq_store_t *s = store;
  update_arg_t a = {.rec = rec, .fields = fields};
  return in_txn(s, s->w, IOTKIT__SQ_BEGIN_WRITE, update_body, &a, err, cap);
}

static iotkit_err_t remove_body(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, const void *arg, char *err,
                                size_t cap) {
  const char *id = arg;
  iotkit_err_t rc = IOTKIT_OK;
  /* The foreign key would cascade; deleting the tags first does not depend on it. */
  sqlite3_stmt *st = iotkit__sq_stmt(s, c, IOTKIT__SQ_DELETE_TAGS, &rc, err, cap);
  if (!st) return rc;
  bind_text(st, 1, id);
  rc = step_done(s, c, st, "deleting the tags", NULL, err, cap);
  if (rc != IOTKIT_OK) return rc;
  st = iotkit__sq_stmt(s, c, IOTKIT__SQ_DELETE, &rc, err, cap);
  if (!st) return rc;
  bind_text(st, 1, id);
  bool changed = false;
  rc = step_done(s, c, st, "deleting a device", &changed, err, cap);
  if (rc == IOTKIT_OK && !changed) rc = not_found(s, id, err, cap);
  return rc;
}

iotkit_err_t iotkit__sq_remove(void *store, const char *id, char *err, size_t cap) {
  iotkit__sq_store_t *s = store;
  iotkit__sq_tel_counts_clear(&s->tel_counts); /* its history goes by cascade */
  return in_txn(s, s->w, IOTKIT__SQ_BEGIN_WRITE, remove_body, id, err, cap);
}

typedef struct {
  const char *id;
  bool online;
  int64_t seen_ms;
} presence_arg_t;

static iotkit_err_t presence_body(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, const void *arg, char *err,
                                  size_t cap) {
  const presence_arg_t *a = arg;
  iotkit_err_t rc = IOTKIT_OK;
  sqlite3_stmt *st = iotkit__sq_stmt(s, c, IOTKIT__SQ_PRESENCE, &rc, err, cap);
  if (!st) return rc;
  bind_text(st, 1, a->id);
  sqlite3_bind_int(st, 2, a->online ? 1 : 0);
  sqlite3_bind_int64(st, 3, a->seen_ms);
  bool changed = false;
  rc = step_done(s, c, st, "recording presence", &changed, err, cap);
  if (rc == IOTKIT_OK && !changed) rc = not_found(s, a->id, err, cap);
  return rc;
}

iotkit_err_t iotkit__sq_presence(void *store, const char *id, bool online, int64_t seen_ms, char *err, size_t cap) {
  iotkit__sq_store_t *s = store;
  presence_arg_t a = {.id = id, .online = online, .seen_ms = seen_ms};
  return in_txn(s, s->w, IOTKIT__SQ_BEGIN_WRITE, presence_body, &a, err, cap);
}

/* ------------------------------------------------------------ reads -- */

static bool col_text(sqlite3_stmt *st, int i, char **field) {
  const unsigned char *t = sqlite3_column_text(st, i);
  int n = sqlite3_column_bytes(st, i);
  return iotkit__fleet_set_text(field, t ? (const char *)t : "", t ? (size_t)n : 0);
}

/* A record from the current row of a GET or LIST statement, with its tags. */
static iotkit_err_t row_to_device(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, sqlite3_stmt *row,
                                  iotkit_fleet_device_t **out, char *err, size_t cap) {
  iotkit_fleet_device_t *dev = iotkit__fleet_device_new();
  if (!dev) return IOTKIT_ERR_NOMEM;
  if (!col_text(row, 0, &dev->id) || !col_text(row, 1, &dev->name) || !col_text(row, 2, &dev->type) ||
      !col_text(row, 3, &dev->attributes)) {
    iotkit_fleet_device_free(dev);
    return IOTKIT_ERR_NOMEM;
  }
  dev->created_ms = sqlite3_column_int64(row, 4);
  dev->updated_ms = sqlite3_column_int64(row, 5);
  dev->last_seen_ms = sqlite3_column_type(row, 6) == SQLITE_NULL ? 0 : sqlite3_column_int64(row, 6);
  dev->online = sqlite3_column_int(row, 7) != 0;

  iotkit_err_t rc = IOTKIT_OK;
  sqlite3_stmt *st = iotkit__sq_stmt(s, c, IOTKIT__SQ_GET_TAGS, &rc, err, cap);
  if (!st) {
    iotkit_fleet_device_free(dev);
    return rc;
  }
  bind_text(st, 1, dev->id);
  int r;
  while ((r = sqlite3_step(st)) == SQLITE_ROW) {
    const unsigned char *t = sqlite3_column_text(st, 0);
    if (!iotkit__fleet_device_add_tag(dev, t ? (const char *)t : "", (size_t)sqlite3_column_bytes(st, 0))) {
      r = SQLITE_NOMEM;
      break;
    }
  }
  if (r != SQLITE_DONE) rc = iotkit__sq_fail(s, c, r, "reading the tags", err, cap);
  iotkit__sq_done(st);
  if (rc != IOTKIT_OK) {
    iotkit_fleet_device_free(dev);
    return rc;
  }
  *out = dev;
  return IOTKIT_OK;
}

typedef struct {
  const char *id;
  iotkit_fleet_device_t **out;
} get_arg_t;

static iotkit_err_t get_body(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, const void *arg, char *err, size_t cap) {
  const get_arg_t *a = arg;
  iotkit_err_t rc = IOTKIT_OK;
  sqlite3_stmt *st = iotkit__sq_stmt(s, c, IOTKIT__SQ_GET, &rc, err, cap);
  if (!st) return rc;
  bind_text(st, 1, a->id);
  int r = sqlite3_step(st);
  if (r == SQLITE_ROW)
    rc = row_to_device(s, c, st, a->out, err, cap);
  else if (r == SQLITE_DONE)
    rc = not_found(s, a->id, err, cap);
  else
    rc = iotkit__sq_fail(s, c, r, "reading a device", err, cap);
  iotkit__sq_done(st);
  return rc;
}

iotkit_err_t iotkit__sq_get(void *store, const char *id, iotkit_fleet_device_t **out, char *err, size_t cap) {
  iotkit__sq_store_t *s = store;
  iotkit_fleet_device_t *dev = NULL;
  get_arg_t a = {.id = id, .out = &dev};
  iotkit_err_t rc = in_txn(s, s->r, IOTKIT__SQ_BEGIN_READ, get_body, &a, err, cap);
  if (rc == IOTKIT_OK)
    *out = dev;
  else
    iotkit_fleet_device_free(dev);
  return rc;
}

/* Bind the filter's parameters ?2..?6 (see store_sqlite_sql.c). */
static void bind_filter(sqlite3_stmt *st, const iotkit_fleet_filter_t *f) {
  bind_text(st, 2, f->type);
  bind_text(st, 3, f->tag);
  if (f->online == IOTKIT_FLEET_ONLINE_ANY)
    sqlite3_bind_null(st, 4);
  else
    sqlite3_bind_int(st, 4, f->online == IOTKIT_FLEET_ONLINE_ONLY ? 1 : 0);
  if (f->last_seen_before_ms > 0)
    sqlite3_bind_int64(st, 5, f->last_seen_before_ms);
  else
    sqlite3_bind_null(st, 5);
  if (f->last_seen_after_ms > 0)
    sqlite3_bind_int64(st, 6, f->last_seen_after_ms);
  else
    sqlite3_bind_null(st, 6);
}

typedef struct {
  const iotkit_fleet_filter_t *filter;
  const char *after;
  size_t limit;
  iotkit_fleet_page_t *page;
} list_arg_t;

static iotkit_err_t list_body(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, const void *arg, char *err,
                              size_t cap) {
  const list_arg_t *a = arg;
  const iotkit_fleet_filter_t *f = a->filter;
  iotkit__sq_stmt_t which = f->tag    ? IOTKIT__SQ_LIST_BY_TAG
                            : f->type ? IOTKIT__SQ_LIST_BY_TYPE
                                      : IOTKIT__SQ_LIST_BY_ID;
  iotkit_err_t rc = IOTKIT_OK;
  sqlite3_stmt *st = iotkit__sq_stmt(s, c, which, &rc, err, cap);
  if (!st) return rc;
  bind_text(st, 1, a->after);
  bind_filter(st, f);
  /* One row more than asked for tells whether there is a next page. */
  sqlite3_bind_int64(st, 7, (sqlite3_int64)a->limit + 1);
  iotkit_fleet_page_t *page = a->page;
  page->devices = calloc(a->limit, sizeof(*page->devices));
  if (!page->devices) {
    iotkit__sq_done(st);
    return IOTKIT_ERR_NOMEM;
  }
  int r;
  bool more = false;
  while ((r = sqlite3_step(st)) == SQLITE_ROW) {
    if (page->count == a->limit) {
      more = true;
      break;
    }
    rc = row_to_device(s, c, st, &page->devices[page->count], err, cap);
    if (rc != IOTKIT_OK) break;
    page->count++;
  }
  if (rc == IOTKIT_OK && r != SQLITE_ROW && r != SQLITE_DONE) rc = iotkit__sq_fail(s, c, r, "listing devices", err, cap);
  iotkit__sq_done(st);
  if (rc == IOTKIT_OK && more && !(page->next_after = iotkit__strdup(page->devices[page->count - 1]->id)))
    rc = IOTKIT_ERR_NOMEM;
  if (page->count == 0) {
    free(page->devices);
    page->devices = NULL;
  }
  return rc;
}

iotkit_err_t iotkit__sq_list(void *store, const iotkit_fleet_filter_t *filter, const char *after, size_t limit,
                             iotkit_fleet_page_t **out, char *err, size_t cap) {
  iotkit__sq_store_t *s = store;
  iotkit_fleet_page_t *page = iotkit__fleet_page_new();
  if (!page) return IOTKIT_ERR_NOMEM;
  list_arg_t a = {.filter = filter, .after = after, .limit = limit, .page = page};
  iotkit_err_t rc = in_txn(s, s->r, IOTKIT__SQ_BEGIN_READ, list_body, &a, err, cap);
  if (rc != IOTKIT_OK) {
    iotkit_fleet_page_free(page);
    return rc;
  }
  *out = page;
  return IOTKIT_OK;
}

typedef struct {
  const iotkit_fleet_filter_t *filter;
  uint64_t *count;
} count_arg_t;

static iotkit_err_t count_body(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, const void *arg, char *err,
                               size_t cap) {
  const count_arg_t *a = arg;
  iotkit_err_t rc = IOTKIT_OK;
  sqlite3_stmt *st = iotkit__sq_stmt(s, c, IOTKIT__SQ_COUNT, &rc, err, cap);
  if (!st) return rc;
  bind_filter(st, a->filter);
  int r = sqlite3_step(st);
  if (r == SQLITE_ROW)
    *a->count = (uint64_t)sqlite3_column_int64(st, 0);
  else
    rc = iotkit__sq_fail(s, c, r, "counting devices", err, cap);
  iotkit__sq_done(st);
  return rc;
}

iotkit_err_t iotkit__sq_count(void *store, const iotkit_fleet_filter_t *filter, uint64_t *count, char *err,
                              size_t cap) {
  iotkit__sq_store_t *s = store;
  uint64_t n = 0;
  count_arg_t a = {.filter = filter, .count = &n};
  iotkit_err_t rc = in_txn(s, s->r, IOTKIT__SQ_BEGIN_READ, count_body, &a, err, cap);
  if (rc == IOTKIT_OK) *count = n;
  return rc;
}
