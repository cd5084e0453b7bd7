/* Shared between the SQLite store's files (internal): connections, statements, errors. */
#ifndef IOTKIT__FLEET_STORE_SQLITE_INTERNAL_H
#define IOTKIT__FLEET_STORE_SQLITE_INTERNAL_H

#include <sqlite3.h>

#include "fleet/store.h"

/* Every statement the store runs: constant SQL, prepared once per connection
   (on first use) and parameterized. The texts are in store_sqlite_sql.c. */
typedef enum iotkit__sq_stmt {
  IOTKIT__SQ_BEGIN_WRITE,
  IOTKIT__SQ_BEGIN_READ,
  IOTKIT__SQ_COMMIT,
  IOTKIT__SQ_ROLLBACK,
  IOTKIT__SQ_INSERT,
  IOTKIT__SQ_INSERT_TAG,
  IOTKIT__SQ_UPDATE,
  IOTKIT__SQ_EXISTS,
  IOTKIT__SQ_DELETE_TAGS,
  IOTKIT__SQ_DELETE,
  IOTKIT__SQ_PRESENCE,
  IOTKIT__SQ_GET,
  IOTKIT__SQ_GET_TAGS,
  IOTKIT__SQ_LIST_BY_ID,
  IOTKIT__SQ_LIST_BY_TYPE,
  IOTKIT__SQ_LIST_BY_TAG,
  IOTKIT__SQ_COUNT,
  /* the live view (store_sqlite_live.c) */
  IOTKIT__SQ_AUTO_INSERT,
  IOTKIT__SQ_STATE_PUT,
  IOTKIT__SQ_METRIC_PUT,
  IOTKIT__SQ_LOC_PUT,
  IOTKIT__SQ_HIST_ADD,
  IOTKIT__SQ_HIST_TRIM,
  IOTKIT__SQ_LOAD_DEVICES,
  IOTKIT__SQ_LOAD_STATES,
  IOTKIT__SQ_LOAD_METRICS,
  IOTKIT__SQ_LOAD_LOCATIONS,
  IOTKIT__SQ_TRACK,
  IOTKIT__SQ_IN_BOX,
  IOTKIT__SQ_TEL_ADD,
  IOTKIT__SQ_TEL_TRIM_COUNT,
  IOTKIT__SQ_TEL_TRIM_AGE,
  IOTKIT__SQ_TEL_POINTS,
  IOTKIT__SQ_TEL_BUCKETS,
  /* desired state (store_sqlite_desired.c) */
  IOTKIT__SQ_DESIRED_GET,
  IOTKIT__SQ_DESIRED_PUT,
  IOTKIT__SQ_TEL_ROWS,
  IOTKIT__SQ_TEL_TRIM_OLDEST,
  IOTKIT__SQ_DATA_VERSION,
  IOTKIT__SQ_COUNT_ /* number of statements */
} iotkit__sq_stmt_t;

extern const char *const iotkit__sq_sql[IOTKIT__SQ_COUNT_];

/* The schema's forward migrations: step i turns version i into i + 1. */
extern const char *const iotkit__sq_migrations[];
extern const unsigned iotkit__sq_schema_version;
/* The migration step that adds the desired_state table. */
extern const char iotkit__sq_migration_desired[];

/* PRAGMA application_id of a fleet database: "IOTF". */
#define IOTKIT__SQ_APPLICATION_ID 0x494f5446

/* The rollouts' schema step and statements (store_sqlite_rollout.c). */
#define IOTKIT__SQ_MIGRATION_ROLLOUTS                                                                           \
  "CREATE TABLE rollouts ("                                                                                     \
  " id TEXT PRIMARY KEY NOT NULL, manifest TEXT NOT NULL, version TEXT NOT NULL, device_type TEXT NOT NULL,"  \
  " state INTEGER NOT NULL, started INTEGER NOT NULL, error_group INTEGER NOT NULL, reason TEXT NOT NULL,"    \
  " created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL"                                                 \
  ") WITHOUT ROWID;"                                                                                            \
  "CREATE TABLE rollout_groups ("                                                                               \
  " rollout_id TEXT NOT NULL REFERENCES rollouts(id) ON DELETE CASCADE, idx INTEGER NOT NULL,"                \
  " size INTEGER NOT NULL, success_pct INTEGER NOT NULL, error_pct INTEGER NOT NULL,"                         \
  " state INTEGER NOT NULL, started_ms INTEGER NOT NULL,"                                                      \
  " PRIMARY KEY (rollout_id, idx)"                                                                             \
  ") WITHOUT ROWID;"                                                                                            \
  "CREATE TABLE rollout_devices ("                                                                              \
  " rollout_id TEXT NOT NULL REFERENCES rollouts(id) ON DELETE CASCADE, pos INTEGER NOT NULL,"                \
  " device_id TEXT NOT NULL, grp INTEGER NOT NULL, state INTEGER NOT NULL, wire INTEGER NOT NULL,"            \
  " percent INTEGER NOT NULL, reported INTEGER NOT NULL, error TEXT NOT NULL, updated_ms INTEGER NOT NULL,"   \
  " PRIMARY KEY (rollout_id, pos)"                                                                             \
  ") WITHOUT ROWID;"
#define IOTKIT__SQ_RO_STMTS 9

typedef struct iotkit__sq_conn {
  sqlite3 *db;
  sqlite3_stmt *st[IOTKIT__SQ_COUNT_];
  sqlite3_stmt *ro_st[IOTKIT__SQ_RO_STMTS]; /* the rollouts' (store_sqlite_rollout.c) */
  void *lock; /* HAL mutex: one thread uses the connection at a time */
} iotkit__sq_conn_t;

/* Rows of the telemetry history per (device, metric), as the writer knows them
   (store_sqlite_tel_count.c). */
typedef struct iotkit__sq_tel_count iotkit__sq_tel_count_t;
typedef struct iotkit__sq_tel_counts {
  iotkit__sq_tel_count_t **buckets;
  size_t nbuckets, count;
  int64_t data_version; /* of the write connection when the counts were last known right */
} iotkit__sq_tel_counts_t;

typedef struct iotkit__sq_store {
  const iotkit_hal_t *hal;
  char *path;
  iotkit__sq_conn_t conn[2];
  iotkit__sq_conn_t *w; /* the writer thread's */
  iotkit__sq_conn_t *r; /* readers'; the same as w for ":memory:" (one database per connection) */
  iotkit__sq_tel_counts_t tel_counts; /* the writer's */
} iotkit__sq_store_t;

/* The library's code for an SQLite result code. */
iotkit_err_t iotkit__sq_code(int rc);
/* Write "fleet database <path>: <doing>: <SQLite's message>" into @p err and return the code of @p rc. */
iotkit_err_t iotkit__sq_fail(const iotkit__sq_store_t *s, const iotkit__sq_conn_t *c, int rc, const char *doing,
                             char *err, size_t cap);
/* The prepared statement @p which of @p c (prepared now if it is the first use), reset and
   unbound; NULL on failure, with the code in *rc and the text in err. */
sqlite3_stmt *iotkit__sq_stmt(const iotkit__sq_store_t *s, iotkit__sq_conn_t *c, iotkit__sq_stmt_t which,
                              iotkit_err_t *rc, char *err, size_t cap);
/* Run statement @p which (no result rows) to completion. */
iotkit_err_t iotkit__sq_exec(const iotkit__sq_store_t *s, iotkit__sq_conn_t *c, iotkit__sq_stmt_t which,
                             const char *doing, char *err, size_t cap);
/* Reset and unbind a statement after use. */
void iotkit__sq_done(sqlite3_stmt *st);

void iotkit__sq_lock(const iotkit__sq_store_t *s, iotkit__sq_conn_t *c);
void iotkit__sq_unlock(const iotkit__sq_store_t *s, iotkit__sq_conn_t *c);

/* store_sqlite_devices.c: the operations of store.h on the devices tables. */
iotkit_err_t iotkit__sq_insert(void *store, const iotkit__fleet_rec_t *rec, char *err, size_t cap);
iotkit_err_t iotkit__sq_update(void *store, const iotkit__fleet_rec_t *rec, uint32_t fields, char *err, size_t cap);
iotkit_err_t iotkit__sq_remove(void *store, const char *id, char *err, size_t cap);
iotkit_err_t iotkit__sq_presence(void *store, const char *id, bool online, int64_t seen_ms, char *err, size_t cap);
iotkit_err_t iotkit__sq_get(void *store, const char *id, iotkit_fleet_device_t **out, char *err, size_t cap);
iotkit_err_t iotkit__sq_list(void *store, const iotkit_fleet_filter_t *filter, const char *after, size_t limit,
                             iotkit_fleet_page_t **out, char *err, size_t cap);
iotkit_err_t iotkit__sq_count(void *store, const iotkit_fleet_filter_t *filter, uint64_t *count, char *err,
                              size_t cap);

/* store_sqlite_live.c: the live view's operations. */
iotkit_err_t iotkit__sq_ingest(void *store, const iotkit__fleet_ingest_t *in, char *err, size_t cap);
iotkit_err_t iotkit__sq_load(void *store, const iotkit__fleet_load_cbs_t *cbs, void *ctx, char *err, size_t cap);
iotkit_err_t iotkit__sq_track(void *store, const char *id, int64_t t1, int64_t t2, iotkit_location_t **out,
                              size_t *count, char *err, size_t cap);
iotkit_err_t iotkit__sq_in_box(void *store, const iotkit__fleet_box_t *box, iotkit_fleet_near_t **out, size_t *count,
                               char *err, size_t cap);
/* store_sqlite_history.c: the telemetry history. */
iotkit_err_t iotkit__sq_tel_history_add(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, const iotkit__fleet_up_t *u,
                                        const iotkit__fleet_ingest_t *in, char *err, size_t cap);
iotkit_err_t iotkit__sq_history(void *store, const char *id, const char *name, int64_t t1, int64_t t2,
                                int64_t bucket_ms, iotkit_fleet_sample_t **out, size_t *count, char *err, size_t cap);
/* store_sqlite_desired.c: desired state. */
iotkit_err_t iotkit__sq_desired_get(void *store, const char *id, uint64_t *version, char **state, char *err,
                                    size_t cap);
iotkit_err_t iotkit__sq_desired_put(void *store, const iotkit__fleet_desired_t *rows, size_t n, int64_t now_ms,
                                    char *err, size_t cap);

/* store_sqlite_tel_count.c: forget every count; the count of (@p id, @p name), NULL if not known;
   learn one (NULL when out of memory: the caller trims the slow way). */
void iotkit__sq_tel_counts_clear(iotkit__sq_tel_counts_t *t);
int64_t *iotkit__sq_tel_count_find(iotkit__sq_tel_counts_t *t, const char *id, const char *name);
int64_t *iotkit__sq_tel_count_add(iotkit__sq_tel_counts_t *t, const char *id, const char *name, int64_t rows);
/* store_sqlite_history.c: before a write of the view, inside its transaction: forget the counts
   if another connection committed since they were known. */
iotkit_err_t iotkit__sq_tel_counts_check(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, char *err, size_t cap);

/* store_sqlite_devices.c: run @p body in a transaction on @p c (BEGIN_WRITE or BEGIN_READ). */
typedef iotkit_err_t (*iotkit__sq_body_fn)(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, const void *arg, char *err,
                                           size_t cap);
iotkit_err_t iotkit__sq_in_txn(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, iotkit__sq_stmt_t begin,
                               iotkit__sq_body_fn body, const void *arg, char *err, size_t cap);

#endif
