/*
 * The fleet's store interface (internal). Nothing above it writes SQL: the
 * registry (registry.c) validates its inputs and calls these operations; a
 * backend (store_sqlite*.c today, PostgreSQL later) turns them into prepared,
 * parameterized statements. Like a transport backend, a store is a const
 * table of operations over an opaque context.
 *
 * Threads: the write operations are called from the fleet's writer thread
 * only, one at a time, and each is one transaction. The read operations may be
 * called from any thread at once; the backend serialises what it must. Every
 * operation that fails writes a sentence for a human into @p err (capacity
 * @p cap), naming the database.
 */
#ifndef IOTKIT__FLEET_STORE_H
#define IOTKIT__FLEET_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotkit/fleet.h"

/* What a store is opened with. */
typedef struct iotkit__fleet_store_args {
  const char *path;          /* file path or ":memory:" */
  const iotkit_hal_t *hal;   /* mutexes for the backend's own locks */
  uint32_t busy_timeout_ms;  /* wait for another process's lock */
  bool integrity_check;      /* check every page at open */
} iotkit__fleet_store_args_t;

/* A record to write, already validated (NUL-terminated UTF-8, within limits). */
typedef struct iotkit__fleet_rec {
  const char *id;
  const char *name;           /* never NULL ("" for none) */
  const char *type;           /* never NULL */
  const char *const *tags;    /* tag_count entries (distinct) */
  size_t tag_count;
  const char *attributes;     /* never NULL ("{}" for none) */
  int64_t now_ms;             /* created (insert) / updated time */
} iotkit__fleet_rec_t;

/* The latest value of one telemetry metric (the live view's, and the store's metrics_latest row). */
typedef struct iotkit__fleet_metric {
  char *name;
  char *unit;   /* NULL for none */
  int64_t ts_ms;
  iotkit_telemetry_type_t type;
  union {
    double d;
    int64_t i;
    bool b;
    char *s;
  } v;
  bool dirty;   /* the view's: not yet written */
} iotkit__fleet_metric_t;

/* A numeric telemetry point waiting for the telemetry history. Its name is one of the
   names that travel with it (tel_names of the entry or the up), not its own copy: a
   device's points name few metrics, so each name is copied once per write, not per point. */
typedef struct iotkit__fleet_hpoint {
  const char *name;
  int64_t ts_ms;
  double value;
} iotkit__fleet_hpoint_t;

/* What changed for one device since the last write (the view's changes, copied out). */
typedef struct iotkit__fleet_up {
  char *id;
  uint32_t what;                    /* IOTKIT__FV_* bits of view.h */
  bool online;                      /* PRESENCE */
  int64_t last_seen_ms;
  char *state_json;                 /* STATE */
  int64_t state_ts;
  iotkit__fleet_metric_t *metrics;  /* METRICS: the changed ones */
  size_t n_metrics;
  iotkit_location_t loc;            /* LOCATION: the latest */
  iotkit_location_t *hist;          /* HISTORY: positions to add */
  size_t n_hist;
  iotkit__fleet_hpoint_t *tel_hist; /* TEL_HISTORY: telemetry points to add */
  size_t n_tel_hist;
  char **tel_names;                 /* TEL_HISTORY: the names tel_hist points to */
  size_t n_tel_names;
} iotkit__fleet_up_t;

/* One write of the live view: every device's changes, one transaction. */
typedef struct iotkit__fleet_ingest {
  iotkit__fleet_up_t *ups;
  size_t n;
  int64_t now_ms;        /* created time of auto-registered records */
  uint32_t history_max;  /* positions kept per device */
  uint32_t tel_history_max;    /* telemetry points kept per device and metric */
  uint64_t tel_history_age_ms; /* and their greatest age (0: none) */
} iotkit__fleet_ingest_t;

/* Rows handed out by the store's load operation (strings valid during the call). */
typedef struct iotkit__fleet_load_cbs {
  void (*device)(void *ctx, const char *id, bool online, int64_t last_seen_ms);
  void (*state)(void *ctx, const char *id, const char *state_json, int64_t ts_ms);
  void (*metric)(void *ctx, const char *id, const iotkit__fleet_metric_t *m);
  void (*location)(void *ctx, const char *id, const iotkit_location_t *loc);
} iotkit__fleet_load_cbs_t;

/* A box of latitudes and up to two ranges of longitudes (two when it crosses the antimeridian). */
typedef struct iotkit__fleet_box {
  double lat_min, lat_max;
  double lon_min[2], lon_max[2];
} iotkit__fleet_box_t;

/* A device's desired state to write: its new version and whole document. */
typedef struct iotkit__fleet_desired {
  const char *id;
  uint64_t version;
  const char *state;
} iotkit__fleet_desired_t;

typedef struct iotkit__fleet_store_ops {
  const char *name;
  /* Open (creating and migrating as needed) into @p *store. Codes of iotkit_fleet_new(). */
  iotkit_err_t (*open)(const iotkit__fleet_store_args_t *args, void **store, char *err, size_t cap);
  /* Close; NULL is a no-op. */
  void (*close)(void *store);

  /* Writes (writer thread only). */
  /* IOTKIT_ERR_EXISTS for a registered id. */
  iotkit_err_t (*insert)(void *store, const iotkit__fleet_rec_t *rec, char *err, size_t cap);
  /* Replace the fields named in @p fields (iotkit_fleet_field_t bits) and set updated_ms;
     IOTKIT_ERR_NOT_FOUND for an unknown id (also with @p fields 0, which changes nothing). */
  iotkit_err_t (*update)(void *store, const iotkit__fleet_rec_t *rec, uint32_t fields, char *err, size_t cap);
  /* IOTKIT_ERR_NOT_FOUND for an unknown id. */
  iotkit_err_t (*remove)(void *store, const char *id, char *err, size_t cap);
  /* Set the online flag and last_seen_ms of a record; IOTKIT_ERR_NOT_FOUND for an unknown id. */
  iotkit_err_t (*presence)(void *store, const char *id, bool online, int64_t seen_ms, char *err, size_t cap);

  /* Reads (any thread). Records are made with iotkit__fleet_device_new(). */
  iotkit_err_t (*get)(void *store, const char *id, iotkit_fleet_device_t **out, char *err, size_t cap);
  /* @p filter is a full-size, validated copy; @p after is "" for the start. */
  iotkit_err_t (*list)(void *store, const iotkit_fleet_filter_t *filter, const char *after, size_t limit,
                       iotkit_fleet_page_t **out, char *err, size_t cap);
  iotkit_err_t (*count)(void *store, const iotkit_fleet_filter_t *filter, uint64_t *count, char *err, size_t cap);

  /* The live view (store_sqlite_live.c). */
  /* Write: apply @p in in one transaction (records of unknown ids are skipped). */
  iotkit_err_t (*ingest)(void *store, const iotkit__fleet_ingest_t *in, char *err, size_t cap);
  /* Read: every device, state, latest metric and latest position. */
  iotkit_err_t (*load)(void *store, const iotkit__fleet_load_cbs_t *cbs, void *ctx, char *err, size_t cap);
  /* Read: a device's positions with t1 <= ts <= t2, oldest first (malloc'd array). */
  iotkit_err_t (*track)(void *store, const char *id, int64_t t1, int64_t t2, iotkit_location_t **out, size_t *count,
                        char *err, size_t cap);
  /* Read: the latest positions inside @p box, through the (lat, lon) index (malloc'd array;
     distance_m left 0). */
  iotkit_err_t (*in_box)(void *store, const iotkit__fleet_box_t *box, iotkit_fleet_near_t **out, size_t *count,
                         char *err, size_t cap);
  /* Read: a metric's history with t1 <= ts <= t2, oldest first: the points (bucket_ms 0) or
     per bucket of bucket_ms from t1 its min, max, mean and count (malloc'd array). */
  iotkit_err_t (*history)(void *store, const char *id, const char *name, int64_t t1, int64_t t2, int64_t bucket_ms,
                          iotkit_fleet_sample_t **out, size_t *count, char *err, size_t cap);

  /* Desired state (store_sqlite_desired.c). Read: a device's document and version
     (IOTKIT_ERR_NOT_FOUND if none; *state malloc'd). Write: the rows, one transaction. */
  iotkit_err_t (*desired_get)(void *store, const char *id, uint64_t *version, char **state, char *err, size_t cap);
  iotkit_err_t (*desired_put)(void *store, const iotkit__fleet_desired_t *rows, size_t n, int64_t now_ms, char *err,
                              size_t cap);
} iotkit__fleet_store_ops_t;

/* The SQLite backend (store_sqlite.c). */
extern const iotkit__fleet_store_ops_t iotkit__fleet_store_sqlite;

/* ----------------------------------- records, for the backends to fill -- */

/* A new, empty record (struct_size set, every pointer NULL), or NULL. */
iotkit_fleet_device_t *iotkit__fleet_device_new(void);
/* Set *field to a copy of @p s (n bytes, NUL added); false on allocation failure. */
bool iotkit__fleet_set_text(char **field, const char *s, size_t n);
/* Append a copy of tag @p s (n bytes); false on allocation failure. */
bool iotkit__fleet_device_add_tag(iotkit_fleet_device_t *dev, const char *s, size_t n);
/* A new, empty page (struct_size set), or NULL. */
iotkit_fleet_page_t *iotkit__fleet_page_new(void);

#endif
