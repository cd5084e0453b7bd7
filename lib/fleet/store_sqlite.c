/*
 * The SQLite store: opening (WAL mode, schema version, forward migrations),
 * connections, statements, error codes. The device operations are in
 * store_sqlite_devices.c, the SQL texts in store_sqlite_sql.c.
 *
 * Two connections: the writer thread's (read-write) and the readers' (opened
 * read-only), so that with WAL a read never waits for a write. ":memory:" is
 * one database per connection, so there the readers share the writer's
 * connection (and its lock).
 *
 * Opening finds every problem with the file at once, in this order: the file
 * cannot be opened or created (IO), it is not a database (CORRUPT), it is
 * read-only (IO), it belongs to another application (INVALID_ARG), a write
 * transaction cannot be had within busy_timeout_ms (BUSY), its schema is newer
 * than ours (UNSUPPORTED), or (with integrity_check) a page is damaged (CORRUPT).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "fleet/store_sqlite_internal.h"

iotkit_err_t iotkit__sq_code(int rc) {
  switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW: return IOTKIT_OK;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return IOTKIT_ERR_BUSY;
    case SQLITE_NOMEM: return IOTKIT_ERR_NOMEM;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return IOTKIT_ERR_CORRUPT;
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_PERM:
    case SQLITE_FULL:
    case SQLITE_PROTOCOL:
    case SQLITE_AUTH: return IOTKIT_ERR_IO;
    case SQLITE_TOOBIG: return IOTKIT_ERR_TOO_LARGE;
    case SQLITE_CONSTRAINT: return IOTKIT_ERR_EXISTS;
    default: return IOTKIT_ERR_INTERNAL;
  }
}

iotkit_err_t iotkit__sq_fail(const iotkit__sq_store_t *s, const iotkit__sq_conn_t *c, int rc, const char *doing,
                             char *err, size_t cap) {
  const char *msg = c && c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc);
  iotkit__fmt(err, cap, "fleet database %s: %s: %s", s->path, doing, msg);
  return iotkit__sq_code(rc);
}

void iotkit__sq_lock(const iotkit__sq_store_t *s, iotkit__sq_conn_t *c) { s->hal->mutex_lock(s->hal->ctx, c->lock); }

void iotkit__sq_unlock(const iotkit__sq_store_t *s, iotkit__sq_conn_t *c) {
  s->hal->mutex_unlock(s->hal->ctx, c->lock);
}

sqlite3_stmt *iotkit__sq_stmt(const iotkit__sq_store_t *s, iotkit__sq_conn_t *c, iotkit__sq_stmt_t which,
                              iotkit_err_t *rc, char *err, size_t cap) {
  if (!c->st[which]) {
    int r = sqlite3_prepare_v3(c->db, iotkit__sq_sql[which], -1, SQLITE_PREPARE_PERSISTENT, &c->st[which], NULL);
    if (r != SQLITE_OK) {
      c->st[which] = NULL;
      *rc = iotkit__sq_fail(s, c, r, "preparing a statement", err, cap);
      return NULL;
    }
  }
  return c->st[which];
}

void iotkit__sq_done(sqlite3_stmt *st) {
  if (!st) return;
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
}

iotkit_err_t iotkit__sq_exec(const iotkit__sq_store_t *s, iotkit__sq_conn_t *c, iotkit__sq_stmt_t which,
                             const char *doing, char *err, size_t cap) {
  iotkit_err_t rc = IOTKIT_OK;
  sqlite3_stmt *st = iotkit__sq_stmt(s, c, which, &rc, err, cap);
  if (!st) return rc;
  int r = sqlite3_step(st);
  if (r != SQLITE_DONE && r != SQLITE_ROW) rc = iotkit__sq_fail(s, c, r, doing, err, cap);
  iotkit__sq_done(st);
  return rc;
}

/* ------------------------------------------------------------- open -- */

/* Run constant SQL (pragmas, migrations) that returns nothing we need. */
static iotkit_err_t exec_sql(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, const char *sql, const char *doing,
                             char *err, size_t cap) {
  int r = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
  return r == SQLITE_OK ? IOTKIT_OK : iotkit__sq_fail(s, c, r, doing, err, cap);
}

/* The first column of the first row of constant SQL @p sql, as an integer or (into @p text) text. */
static iotkit_err_t query_one(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, const char *sql, const char *doing,
                              int64_t *num, char *text, size_t text_cap, char *err, size_t cap) {
  sqlite3_stmt *st = NULL;
  int r = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
  if (r == SQLITE_OK) r = sqlite3_step(st);
  iotkit_err_t rc = IOTKIT_OK;
  if (r == SQLITE_ROW) {
    if (num) *num = sqlite3_column_int64(st, 0);
    const unsigned char *t = sqlite3_column_text(st, 0);
    if (text) iotkit__fmt(text, text_cap, "%s", t ? (const char *)t : "");
  } else if (r == SQLITE_DONE) {
    if (num) *num = 0;
    if (text && text_cap) text[0] = '\0';
  } else {
    rc = iotkit__sq_fail(s, c, r, doing, err, cap);
  }
  sqlite3_finalize(st);
  return rc;
}

static iotkit_err_t open_conn(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, int flags, uint32_t busy_ms, char *err,
                              size_t cap) {
  if (s->hal->mutex_new(s->hal->ctx, &c->lock) != IOTKIT_OK) return IOTKIT_ERR_NOMEM;
  int r = sqlite3_open_v2(s->path, &c->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
  if (r != SQLITE_OK) {
    if (!c->db) return IOTKIT_ERR_NOMEM;
    return iotkit__sq_fail(s, c, r, "cannot open", err, cap);
  }
  sqlite3_extended_result_codes(c->db, 1);
  sqlite3_busy_timeout(c->db, busy_ms > (uint32_t)INT32_MAX ? INT32_MAX : (int)busy_ms);
  return IOTKIT_OK;
}

static void close_conn(const iotkit__sq_store_t *s, iotkit__sq_conn_t *c) {
  for (size_t i = 0; i < IOTKIT__SQ_COUNT_; i++) sqlite3_finalize(c->st[i]);
  for (size_t i = 0; i < IOTKIT__SQ_RO_STMTS; i++) sqlite3_finalize(c->ro_st[i]);
  if (c->db) sqlite3_close(c->db);
  if (c->lock) s->hal->mutex_free(s->hal->ctx, c->lock);
  memset(c, 0, sizeof(*c));
}

static void store_close(void *store) {
  iotkit__sq_store_t *s = store;
  if (!s) return;
  /* Readers first, so that the writer's close is the last one and checkpoints the WAL away. */
  close_conn(s, &s->conn[1]);
  close_conn(s, &s->conn[0]);
  iotkit__sq_tel_counts_clear(&s->tel_counts);
  free(s->path);
  free(s);
}

/* Is this our database, and which schema version does it have? Inside the open transaction. */
static iotkit_err_t check_owner(iotkit__sq_store_t *s, int64_t *version, char *err, size_t cap) {
  iotkit__sq_conn_t *c = s->w;
  int64_t app = 0, objects = 0;
  iotkit_err_t rc = query_one(s, c, "PRAGMA application_id", "reading the application id", &app, NULL, 0, err, cap);
  if (rc == IOTKIT_OK) rc = query_one(s, c, "PRAGMA user_version", "reading the schema version", version, NULL, 0, err, cap);
  if (rc == IOTKIT_OK)
    rc = query_one(s, c, "SELECT count(*) FROM sqlite_master", "reading the schema", &objects, NULL, 0, err, cap);
  if (rc != IOTKIT_OK) return rc;
  if (app != 0 && app != IOTKIT__SQ_APPLICATION_ID) {
    iotkit__fmt(err, cap, "fleet database %s: not a fleet database (application id 0x%08llx)", s->path,
                (unsigned long long)(uint32_t)app);
    return IOTKIT_ERR_INVALID_ARG;
  }
  if (app == 0 && (objects > 0 || *version != 0)) {
    iotkit__fmt(err, cap, "fleet database %s: not a fleet database (it holds another application's tables)",
                s->path);
    return IOTKIT_ERR_INVALID_ARG;
  }
  if (*version > (int64_t)iotkit__sq_schema_version) {
    iotkit__fmt(err, cap,
                "fleet database %s: schema version %lld is newer than this library's (%u): use a newer libiotkit",
                s->path, (long long)*version, iotkit__sq_schema_version);
    return IOTKIT_ERR_UNSUPPORTED;
  }
  return IOTKIT_OK;
}

static iotkit_err_t migrate(iotkit__sq_store_t *s, int64_t from, char *err, size_t cap) {
  for (int64_t v = from; v < (int64_t)iotkit__sq_schema_version; v++) {
    iotkit_err_t rc = exec_sql(s, s->w, iotkit__sq_migrations[v], "migrating the schema", err, cap);
    if (rc == IOTKIT_ERR_INTERNAL) {
      /* A step that does not apply (a table it creates exists): the file's schema is not that of its version. */
      char why[128];
      iotkit__fmt(why, sizeof(why), "%s", sqlite3_errmsg(s->w->db));
      iotkit__fmt(err, cap, "fleet database %s: its schema does not match version %lld (%s)", s->path,
                  (long long)v, why);
      return IOTKIT_ERR_CORRUPT;
    }
    if (rc != IOTKIT_OK) return rc;
  }
  if (from == (int64_t)iotkit__sq_schema_version) return IOTKIT_OK;
  /* PRAGMAs take no parameters; these numbers are the library's own constants. */
  char sql[96];
  snprintf(sql, sizeof(sql), "PRAGMA application_id = %d; PRAGMA user_version = %u", IOTKIT__SQ_APPLICATION_ID,
           iotkit__sq_schema_version);
  return exec_sql(s, s->w, sql, "recording the schema version", err, cap);
}

/* Say in plain words why a file could not be used, for the I/O failures a user can fix. */
static iotkit_err_t explain_io(const iotkit__sq_store_t *s, iotkit_err_t rc, char *err, size_t cap) {
  if (rc != IOTKIT_ERR_IO || !s->w->db) return rc;
  int code = sqlite3_extended_errcode(s->w->db) & 0xff;
  char why[96];
  iotkit__fmt(why, sizeof(why), "%s", sqlite3_errmsg(s->w->db));
  if (code == SQLITE_READONLY)
    iotkit__fmt(err, cap, "fleet database %s: read-only: the file or its directory is not writable (%s)", s->path,
                why);
  else if (code == SQLITE_CANTOPEN)
    iotkit__fmt(err, cap, "fleet database %s: cannot open or create the file (is its directory there and writable?)",
                s->path);
  return rc;
}

/* Take the write lock once, check the owner and version, migrate, release. */
static iotkit_err_t open_transaction(iotkit__sq_store_t *s, uint32_t busy_ms, char *err, size_t cap) {
  iotkit_err_t rc = iotkit__sq_exec(s, s->w, IOTKIT__SQ_BEGIN_WRITE, "starting a write transaction", err, cap);
  if (rc == IOTKIT_ERR_BUSY) {
    iotkit__fmt(err, cap, "fleet database %s: locked by another process or connection (waited %u ms)", s->path,
                (unsigned)busy_ms);
    return rc;
  }
  if (rc != IOTKIT_OK) return explain_io(s, rc, err, cap);
  int64_t version = 0;
  rc = check_owner(s, &version, err, cap);
  if (rc == IOTKIT_OK) rc = migrate(s, version, err, cap);
  if (rc == IOTKIT_OK) rc = iotkit__sq_exec(s, s->w, IOTKIT__SQ_COMMIT, "committing the schema", err, cap);
  if (rc != IOTKIT_OK) (void)sqlite3_exec(s->w->db, "ROLLBACK", NULL, NULL, NULL);
  return rc;
}

static iotkit_err_t open_write(iotkit__sq_store_t *s, const iotkit__fleet_store_args_t *a, bool memory, char *err,
                               size_t cap) {
  iotkit__sq_conn_t *c = s->w;
  iotkit_err_t rc = open_conn(s, c, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, a->busy_timeout_ms, err, cap);
  if (rc != IOTKIT_OK) return explain_io(s, rc, err, cap);
  /* Reading the header finds a file that is not a database (and a rollback-mode lock). */
  int64_t ignored = 0;
  rc = query_one(s, c, "PRAGMA schema_version", "reading the header", &ignored, NULL, 0, err, cap);
  if (rc == IOTKIT_ERR_CORRUPT) {
    iotkit__fmt(err, cap, "fleet database %s: not an SQLite database, or damaged (%s)", s->path,
                sqlite3_errmsg(c->db));
    return rc;
  }
  if (rc != IOTKIT_OK) return explain_io(s, rc, err, cap);
  if (sqlite3_db_readonly(c->db, "main") == 1) {
    iotkit__fmt(err, cap, "fleet database %s: the file is read-only", s->path);
    return IOTKIT_ERR_IO;
  }
  if (!memory) {
    char mode[16];
    rc = query_one(s, c, "PRAGMA journal_mode = WAL", "switching to WAL mode", NULL, mode, sizeof(mode), err, cap);
    if (rc != IOTKIT_OK) return rc;
    if (strcmp(mode, "wal") != 0) {
      iotkit__fmt(err, cap, "fleet database %s: cannot use WAL mode (journal mode stays %s)", s->path, mode);
      return IOTKIT_ERR_IO;
    }
  }
  /* A create or update that returned is on disk (a registry write is rare; telemetry will batch). */
  /* The writer's page cache: 32 MiB instead of SQLite's 2, so that a flush of many devices'
     history neither spills pages to the log in the middle of its transaction nor reads back
     the pages it wrote a flush ago (a thousand devices' two metrics dirty some 2,000 leaf
     pages per flush, all of an 8 MiB cache). The log is checkpointed every 8,192 pages
     instead of 1,000: a flush of that size checkpointed at every commit, writing each page
     twice and reading it back, where a checkpoint every few flushes writes a page once for
     all of them. Durability does not change: a commit is synced to the log (FULL). */
  rc = exec_sql(s, c, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -32768; PRAGMA wal_autocheckpoint = 8192",
                "setting options", err, cap);
  if (rc != IOTKIT_OK) return rc;
  return open_transaction(s, a->busy_timeout_ms, err, cap);
}

static iotkit_err_t quick_check(iotkit__sq_store_t *s, char *err, size_t cap) {
  char first[160];
  iotkit_err_t rc = query_one(s, s->w, "PRAGMA quick_check", "checking the file", NULL, first, sizeof(first), err, cap);
  if (rc != IOTKIT_OK) return rc;
  if (strcmp(first, "ok") != 0) {
    iotkit__fmt(err, cap, "fleet database %s: damaged: %s", s->path, first);
    return IOTKIT_ERR_CORRUPT;
  }
  return IOTKIT_OK;
}

static iotkit_err_t store_open(const iotkit__fleet_store_args_t *a, void **out, char *err, size_t cap) {
  iotkit__sq_store_t *s = calloc(1, sizeof(*s));
  if (!s) return IOTKIT_ERR_NOMEM;
  s->hal = a->hal;
  s->path = iotkit__strdup(a->path);
  if (!s->path) {
    free(s);
    return IOTKIT_ERR_NOMEM;
  }
  bool memory = strcmp(a->path, ":memory:") == 0;
  s->w = &s->conn[0];
  s->r = memory ? s->w : &s->conn[1];
  iotkit_err_t rc = open_write(s, a, memory, err, cap);
  if (rc == IOTKIT_OK && a->integrity_check) rc = quick_check(s, err, cap);
  if (rc == IOTKIT_OK && !memory) rc = open_conn(s, s->r, SQLITE_OPEN_READONLY, a->busy_timeout_ms, err, cap);
  if (rc != IOTKIT_OK) {
    store_close(s);
    return rc;
  }
  *out = s;
  return IOTKIT_OK;
}

const iotkit__fleet_store_ops_t iotkit__fleet_store_sqlite = {
    .name = "sqlite",
    .open = store_open,
    .close = store_close,
    .insert = iotkit__sq_insert,
    .update = iotkit__sq_update,
    .remove = iotkit__sq_remove,
    .presence = iotkit__sq_presence,
    .get = iotkit__sq_get,
    .list = iotkit__sq_list,
    .count = iotkit__sq_count,
    .ingest = iotkit__sq_ingest,
    .load = iotkit__sq_load,
    .track = iotkit__sq_track,
    .in_box = iotkit__sq_in_box,
    .history = iotkit__sq_history,
    .desired_get = iotkit__sq_desired_get,
    .desired_put = iotkit__sq_desired_put,
};
