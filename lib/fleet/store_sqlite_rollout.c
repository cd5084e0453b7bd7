/*
 * The rollouts in the SQLite store: their statements (constant, prepared once
 * per connection into iotkit__sq_conn_t::ro_st, parameterized), the save of
 * what changed, and the load at creation. The schema step is
 * IOTKIT__SQ_MIGRATION_ROLLOUTS (store_sqlite_internal.h).
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "fleet/store_rollout.h"
#include "fleet/store_sqlite_internal.h"

enum { RO_INSERT, RO_UPDATE, RG_PUT, RD_PUT, RO_LOAD, RG_LOAD, RD_LOAD, RD_COUNT, RO_STATES, RO_COUNT_ };
_Static_assert(RO_COUNT_ <= IOTKIT__SQ_RO_STMTS, "iotkit__sq_conn_t::ro_st is too small");

static const char *const sql[RO_COUNT_] = {
    [RO_INSERT] = "INSERT INTO rollouts (id, manifest, version, device_type, state, started, error_group, reason,"
                  " created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [RO_UPDATE] = "UPDATE rollouts SET state = ?5, started = ?6, error_group = ?7, reason = ?8, updated_ms = ?10"
                  " WHERE id = ?1",
    [RG_PUT] = "INSERT INTO rollout_groups (rollout_id, idx, size, success_pct, error_pct, state, started_ms)"
               " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (rollout_id, idx) DO UPDATE SET"
               " state = excluded.state, started_ms = excluded.started_ms",
    [RD_PUT] = "INSERT INTO rollout_devices (rollout_id, pos, device_id, grp, state, wire, percent, reported, error,"
               " updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (rollout_id, pos) DO UPDATE"
               " SET state = excluded.state, wire = excluded.wire, percent = excluded.percent,"
               " reported = excluded.reported, error = excluded.error, updated_ms = excluded.updated_ms",
    [RO_LOAD] = "SELECT id, manifest, version, device_type, state, started, error_group, reason, created_ms,"
                " updated_ms FROM rollouts ORDER BY created_ms, id",
    [RG_LOAD] = "SELECT idx, size, success_pct, error_pct, state, started_ms FROM rollout_groups"
                " WHERE rollout_id = ?1 ORDER BY idx",
    [RD_LOAD] = "SELECT pos, device_id, grp, state, wire, percent, reported, error, updated_ms FROM rollout_devices"
                " WHERE rollout_id = ?1 ORDER BY pos",
    [RD_COUNT] = "SELECT count(*) FROM rollout_devices WHERE rollout_id = ?1",
    [RO_STATES] = "SELECT id, state, error_group, reason FROM rollouts",
};

static sqlite3_stmt *stmt(const iotkit__sq_store_t *s, iotkit__sq_conn_t *c, int which, iotkit_err_t *rc, char *err,
                          size_t cap) {
  if (!c->ro_st[which]) {
    int r = sqlite3_prepare_v3(c->db, sql[which], -1, SQLITE_PREPARE_PERSISTENT, &c->ro_st[which], NULL);
    if (r != SQLITE_OK) {
      c->ro_st[which] = NULL;
      *rc = iotkit__sq_fail(s, c, r, "preparing a rollout statement", err, cap);
      return NULL;
    }
  }
  return c->ro_st[which];
}

static iotkit_err_t step_done(const iotkit__sq_store_t *s, iotkit__sq_conn_t *c, sqlite3_stmt *st, const char *doing,
                              char *err, size_t cap) {
  int r = sqlite3_step(st);
  iotkit_err_t rc = IOTKIT_OK;
  if (r == SQLITE_CONSTRAINT_PRIMARYKEY) {
    rc = IOTKIT_ERR_EXISTS;
    iotkit__fmt(err, cap, "fleet database %s: the rollout exists", s->path);
  } else if (r != SQLITE_DONE) {
    rc = iotkit__sq_fail(s, c, r, doing, err, cap);
  }
  iotkit__sq_done(st);
  return rc;
}

/* ------------------------------------------------------------------ save -- */

typedef struct save_arg {
  const iotkit__ro_t *list;
  bool create;
} save_arg_t;

static iotkit_err_t save_one(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, const iotkit__ro_t *ro, bool create,
                             char *err, size_t cap) {
  iotkit_err_t rc = IOTKIT_OK;
  sqlite3_stmt *st = stmt(s, c, create ? RO_INSERT : RO_UPDATE, &rc, err, cap);
  if (!st) return rc;
  sqlite3_bind_text(st, 1, ro->id, -1, SQLITE_STATIC);
  if (create) {
    sqlite3_bind_text(st, 2, ro->manifest, (int)ro->manifest_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, ro->version, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, ro->device_type, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, ro->created_ms);
  }
  sqlite3_bind_int(st, 5, ro->state);
  sqlite3_bind_int64(st, 6, ro->started);
  sqlite3_bind_int(st, 7, ro->error_group);
  sqlite3_bind_text(st, 8, ro->reason, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 10, ro->updated_ms);
  rc = step_done(s, c, st, "writing a rollout", err, cap);
  for (uint32_t g = 0; g < ro->n_groups && rc == IOTKIT_OK; g++) {
    const iotkit__ro_group_t *G = &ro->groups[g];
    if (!(st = stmt(s, c, RG_PUT, &rc, err, cap))) break;
    sqlite3_bind_text(st, 1, ro->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, g);
    sqlite3_bind_int64(st, 3, G->size);
    sqlite3_bind_int(st, 4, G->success_pct);
    sqlite3_bind_int(st, 5, G->error_pct);
    sqlite3_bind_int(st, 6, G->state);
    sqlite3_bind_int64(st, 7, G->started_ms);
    rc = step_done(s, c, st, "writing a rollout group", err, cap);
  }
  for (uint32_t i = 0; i < ro->n_devs && rc == IOTKIT_OK; i++) {
    const iotkit__ro_dev_t *d = &ro->devs[i];
    if (!(st = stmt(s, c, RD_PUT, &rc, err, cap))) break;
    sqlite3_bind_text(st, 1, ro->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, d->pos);
    sqlite3_bind_text(st, 3, d->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, d->group);
    sqlite3_bind_int(st, 5, d->state);
    sqlite3_bind_int(st, 6, d->wire);
    sqlite3_bind_int(st, 7, d->percent);
    sqlite3_bind_int(st, 8, d->reported);
    sqlite3_bind_text(st, 9, d->error, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 10, d->updated_ms);
    rc = step_done(s, c, st, "writing a rollout device", err, cap);
  }
  return rc;
}

static iotkit_err_t save_body(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, const void *arg, char *err, size_t cap) {
  const save_arg_t *a = arg;
  iotkit_err_t rc = IOTKIT_OK;
  for (const iotkit__ro_t *ro = a->list; ro && rc == IOTKIT_OK; ro = a->create ? NULL : ro->next)
    rc = save_one(s, c, ro, a->create, err, cap);
  return rc;
}

static iotkit_err_t save(void *store, const iotkit__ro_t *list, bool create, char *err, size_t cap) {
  iotkit__sq_store_t *s = store;
  save_arg_t a = {.list = list, .create = create};
  return iotkit__sq_in_txn(s, s->w, IOTKIT__SQ_BEGIN_WRITE, save_body, &a, err, cap);
}

/* ------------------------------------------------------------------ load -- */

typedef struct load_arg {
  void (*one)(void *ctx, iotkit__ro_t *ro);
  void *ctx;
} load_arg_t;

static void copy_col(sqlite3_stmt *st, int col, char *dst, size_t cap) {
  const unsigned char *t = sqlite3_column_text(st, col);
  iotkit__fmt(dst, cap, "%s", t ? (const char *)t : "");
}

static iotkit_err_t load_count(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, const char *id, uint32_t *n, char *err,
                               size_t cap) {
  iotkit_err_t rc = IOTKIT_OK;
  sqlite3_stmt *st = stmt(s, c, RD_COUNT, &rc, err, cap);
  if (!st) return rc;
  sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
  int r = sqlite3_step(st);
  if (r == SQLITE_ROW)
    *n = (uint32_t)sqlite3_column_int64(st, 0);
  else
    rc = iotkit__sq_fail(s, c, r, "counting a rollout's devices", err, cap);
  iotkit__sq_done(st);
  return rc;
}

/* The groups and the devices of @p ro (its header is read). */
static iotkit_err_t load_parts(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, iotkit__ro_t *ro, char *err, size_t cap) {
  iotkit_err_t rc = load_count(s, c, ro->id, &ro->n_devs, err, cap);
  if (rc != IOTKIT_OK) return rc;
  ro->groups = calloc(IOTKIT_FLEET_ROLLOUT_MAX_GROUPS, sizeof *ro->groups);
  ro->devs = calloc((size_t)ro->n_devs + 1, sizeof *ro->devs);
  ro->by_id = calloc((size_t)ro->n_devs + 1, sizeof *ro->by_id);
  if (!ro->groups || !ro->devs || !ro->by_id) return IOTKIT_ERR_NOMEM;
  sqlite3_stmt *st = stmt(s, c, RG_LOAD, &rc, err, cap);
  if (!st) return rc;
  sqlite3_bind_text(st, 1, ro->id, -1, SQLITE_STATIC);
  int r = SQLITE_DONE;
  uint32_t first = 0;
  while ((r = sqlite3_step(st)) == SQLITE_ROW && ro->n_groups < IOTKIT_FLEET_ROLLOUT_MAX_GROUPS) {
    iotkit__ro_group_t *G = &ro->groups[ro->n_groups++];
    G->first = first;
    G->size = (uint32_t)sqlite3_column_int64(st, 1);
    G->success_pct = (uint8_t)sqlite3_column_int(st, 2);
    G->error_pct = (uint8_t)sqlite3_column_int(st, 3);
    G->state = (uint8_t)sqlite3_column_int(st, 4);
    G->started_ms = sqlite3_column_int64(st, 5);
    first += G->size;
  }
  if (r != SQLITE_ROW && r != SQLITE_DONE) rc = iotkit__sq_fail(s, c, r, "reading rollout groups", err, cap);
  iotkit__sq_done(st);
  if (rc == IOTKIT_OK && (first != ro->n_devs || ro->n_groups == 0)) {
    iotkit__fmt(err, cap, "fleet database %s: rollout %s: its groups do not hold its devices", s->path, ro->id);
    rc = IOTKIT_ERR_CORRUPT;
  }
  if (rc != IOTKIT_OK || !(st = stmt(s, c, RD_LOAD, &rc, err, cap))) return rc;
  sqlite3_bind_text(st, 1, ro->id, -1, SQLITE_STATIC);
  uint32_t n = 0;
  while (rc == IOTKIT_OK && n < ro->n_devs && (r = sqlite3_step(st)) == SQLITE_ROW) {
    iotkit__ro_dev_t *d = &ro->devs[n];
    d->pos = (uint32_t)sqlite3_column_int64(st, 0);
    copy_col(st, 1, d->id, sizeof d->id);
    d->group = (uint32_t)sqlite3_column_int64(st, 2);
    d->state = (uint8_t)sqlite3_column_int(st, 3);
    d->wire = (uint8_t)sqlite3_column_int(st, 4);
    d->percent = (uint8_t)sqlite3_column_int(st, 5);
    d->reported = sqlite3_column_int(st, 6) != 0;
    copy_col(st, 7, d->error, sizeof d->error);
    d->updated_ms = sqlite3_column_int64(st, 8);
    if (d->pos != n || d->group >= ro->n_groups) {
      iotkit__fmt(err, cap, "fleet database %s: rollout %s: device rows out of order", s->path, ro->id);
      rc = IOTKIT_ERR_CORRUPT;
    }
    if (d->wire == IOTKIT__RO_WIRE_SEND || d->wire == IOTKIT__RO_WIRE_CLEAR) ro->wire = true;
    n++;
  }
  if (rc == IOTKIT_OK && n != ro->n_devs) rc = iotkit__sq_fail(s, c, r, "reading rollout devices", err, cap);
  iotkit__sq_done(st);
  if (rc == IOTKIT_OK) iotkit__ro_index(ro);
  return rc;
}

static iotkit_err_t load_body(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, const void *arg, char *err, size_t cap) {
  const load_arg_t *a = arg;
  iotkit_err_t rc = IOTKIT_OK;
  sqlite3_stmt *st = stmt(s, c, RO_LOAD, &rc, err, cap);
  if (!st) return rc;
  /* The headers first (the statement is reused for nothing else meanwhile), then their parts. */
  iotkit__ro_t *list = NULL, **tail = &list;
  int r = SQLITE_DONE;
  while (rc == IOTKIT_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
    iotkit__ro_t *ro = calloc(1, sizeof *ro);
    const void *m = sqlite3_column_blob(st, 1);
    size_t mlen = (size_t)sqlite3_column_bytes(st, 1);
    if (!ro || !(ro->manifest = malloc(mlen + 1))) {
      free(ro);
      rc = IOTKIT_ERR_NOMEM;
      break;
    }
    memcpy(ro->manifest, m ? m : "", mlen);
    ro->manifest[mlen] = '\0';
    ro->manifest_len = mlen;
    copy_col(st, 0, ro->id, sizeof ro->id);
    copy_col(st, 2, ro->version, sizeof ro->version);
    copy_col(st, 3, ro->device_type, sizeof ro->device_type);
    ro->state = (uint8_t)sqlite3_column_int(st, 4);
    ro->started = (uint32_t)sqlite3_column_int64(st, 5);
    ro->error_group = sqlite3_column_int(st, 6);
    copy_col(st, 7, ro->reason, sizeof ro->reason);
    ro->created_ms = sqlite3_column_int64(st, 8);
    ro->updated_ms = sqlite3_column_int64(st, 9);
    *tail = ro;
    tail = &ro->next;
  }
  if (rc == IOTKIT_OK && r != SQLITE_DONE) rc = iotkit__sq_fail(s, c, r, "reading rollouts", err, cap);
  iotkit__sq_done(st);
  while (list) {
    iotkit__ro_t *ro = list;
    list = ro->next;
    ro->next = NULL;
    if (rc == IOTKIT_OK) rc = load_parts(s, c, ro, err, cap);
    if (rc == IOTKIT_OK)
      a->one(a->ctx, ro);
    else
      iotkit__ro_free_one(ro);
  }
  return rc;
}

static iotkit_err_t load(void *store, void (*one)(void *ctx, iotkit__ro_t *ro), void *ctx, char *err, size_t cap) {
  iotkit__sq_store_t *s = store;
  load_arg_t a = {.one = one, .ctx = ctx};
  return iotkit__sq_in_txn(s, s->r, IOTKIT__SQ_BEGIN_READ, load_body, &a, err, cap);
}

/* ---------------------------------------------------------------- states -- */

typedef struct states_arg {
  void (*one)(void *ctx, const char *id, uint8_t state, int32_t error_group, const char *reason);
  void *ctx;
} states_arg_t;

static iotkit_err_t states_body(iotkit__sq_store_t *s, iotkit__sq_conn_t *c, const void *arg, char *err, size_t cap) {
  const states_arg_t *a = arg;
  iotkit_err_t rc = IOTKIT_OK;
  sqlite3_stmt *st = stmt(s, c, RO_STATES, &rc, err, cap);
  if (!st) return rc;
  int r;
  while ((r = sqlite3_step(st)) == SQLITE_ROW) {
    char id[IOTKIT_MAX_DEVICE_ID + 1], reason[96];
    copy_col(st, 0, id, sizeof id);
    copy_col(st, 3, reason, sizeof reason);
    a->one(a->ctx, id, (uint8_t)sqlite3_column_int(st, 1), sqlite3_column_int(st, 2), reason);
  }
  if (r != SQLITE_DONE) rc = iotkit__sq_fail(s, c, r, "reading the rollouts' states", err, cap);
  iotkit__sq_done(st);
  return rc;
}

static iotkit_err_t states(void *store, void (*one)(void *ctx, const char *id, uint8_t state, int32_t error_group,
                                                    const char *reason),
                           void *ctx, char *err, size_t cap) {
  iotkit__sq_store_t *s = store;
  states_arg_t a = {.one = one, .ctx = ctx};
  return iotkit__sq_in_txn(s, s->r, IOTKIT__SQ_BEGIN_READ, states_body, &a, err, cap);
}

const iotkit__fleet_rollout_store_ops_t iotkit__fleet_rollout_store_sqlite = {.save = save, .load = load,
                                                                              .states = states};
