/*
 * The fleet's live view (internal): one entry per registered device, in a
 * hash table keyed by id, with what the fleet knows of it now (presence,
 * latest state, latest metrics, latest position) and which of that is not yet
 * in the database (dirty bits; dirty entries are also on a list, so that a
 * write visits only them). Every function here expects the fleet's lock held.
 */
#ifndef IOTKIT__FLEET_VIEW_H
#define IOTKIT__FLEET_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fleet/store.h"

/* Most telemetry-history points one device may have waiting for the writer. */
#define IOTKIT__FLEET_TEL_PENDING 65536u

/* What of an entry is not yet written (iotkit__fleet_up_t::what). */
#define IOTKIT__FV_REGISTER 1u  /* auto-registered: the record is to be created */
#define IOTKIT__FV_PRESENCE 2u  /* online, last_seen_ms */
#define IOTKIT__FV_STATE 4u     /* state_json, state_ts */
#define IOTKIT__FV_METRICS 8u   /* the metrics marked dirty */
#define IOTKIT__FV_LOCATION 16u /* loc (the latest position) */
#define IOTKIT__FV_HISTORY 32u  /* hist: positions to add to the history */
#define IOTKIT__FV_TEL_HISTORY 64u /* tel_hist: telemetry points to add to the telemetry history */

typedef struct iotkit__fleet_entry {
  char *id;
  struct iotkit__fleet_entry *next;       /* hash chain */
  struct iotkit__fleet_entry *dirty_next; /* dirty list, when dirty != 0 */
  uint32_t dirty;

  bool online;
  bool stale;
  int64_t last_seen_ms; /* 0: never */
  int64_t status_ts;    /* ts of the deciding status, IOTKIT_PROTOCOL_NO_TS if none */

  char *state_json; /* latest reported state, or NULL */
  int64_t state_ts;

  iotkit__fleet_metric_t *metrics; /* sorted by name */
  size_t n_metrics, cap_metrics;

  bool has_loc;
  iotkit_location_t loc;  /* latest position */
  iotkit_location_t *hist; /* positions not yet in the history table */
  size_t n_hist, cap_hist;

  iotkit__fleet_hpoint_t *tel_hist; /* telemetry points not yet in the telemetry history */
  size_t n_tel_hist, cap_tel_hist;
  char **tel_names; /* the distinct names of tel_hist (at most IOTKIT_FLEET_MAX_METRICS) */
  size_t n_tel_names, cap_tel_names;

  /* Reconciliation (presence.c). */
  uint32_t live_epoch; /* session epoch of the latest live status */
  uint32_t ret_epoch;  /* session epoch of the retained status held below */
  bool ret_online;
  int64_t ret_ts;
  char ret_reason[32];
} iotkit__fleet_entry_t;

typedef struct iotkit__fleet_view {
  iotkit__fleet_entry_t **buckets;
  size_t nbuckets; /* a power of two */
  size_t count;
  iotkit__fleet_entry_t *dirty; /* list of entries with dirty != 0 */
} iotkit__fleet_view_t;

iotkit_err_t iotkit__fleet_view_init(iotkit__fleet_view_t *v);
void iotkit__fleet_view_free(iotkit__fleet_view_t *v);
iotkit__fleet_entry_t *iotkit__fleet_view_find(const iotkit__fleet_view_t *v, const char *id);
/* The entry of @p id, made (offline, never seen) if missing; NULL on allocation failure. */
iotkit__fleet_entry_t *iotkit__fleet_view_add(iotkit__fleet_view_t *v, const char *id);
/* Forget @p id (and its pending changes). */
void iotkit__fleet_view_remove(iotkit__fleet_view_t *v, const char *id);
/* Mark @p bits of @p e as not yet written. */
void iotkit__fleet_view_touch(iotkit__fleet_view_t *v, iotkit__fleet_entry_t *e, uint32_t bits);
/* Call @p fn for every entry. */
void iotkit__fleet_view_each(iotkit__fleet_view_t *v, void (*fn)(iotkit__fleet_entry_t *e, void *ctx), void *ctx);
/* Move every pending change into @p in (each up owns copies); the entries become clean.
   IOTKIT_ERR_NOMEM leaves the view as it was. */
iotkit_err_t iotkit__fleet_view_take(iotkit__fleet_view_t *v, iotkit__fleet_ingest_t *in);
void iotkit__fleet_ingest_free(iotkit__fleet_ingest_t *in);

/* Keep point @p p (time @p ts) as the latest of its metric if it is not older than the
   one held: 1 kept, 0 older (ignored), IOTKIT_ERR_TOO_LARGE (too many metric names),
   IOTKIT_ERR_NOMEM. */
int iotkit__fleet_entry_metric(iotkit__fleet_entry_t *e, const iotkit_telemetry_point_t *p, int64_t ts);
/* Copy a metric (strings too) into @p dst; false on allocation failure. */
bool iotkit__fleet_metric_copy(iotkit__fleet_metric_t *dst, const iotkit__fleet_metric_t *src);
void iotkit__fleet_metric_clear(iotkit__fleet_metric_t *m);
/* Queue a numeric telemetry point for the telemetry history (at most IOTKIT__FLEET_TEL_PENDING
   per device wait; beyond, false and the point is dropped). */
bool iotkit__fleet_entry_tel_hist(iotkit__fleet_entry_t *e, const char *name, int64_t ts, double value);
void iotkit__fleet_hpoints_free(iotkit__fleet_hpoint_t *v, char **names, size_t n_names);
/* Queue a position for the history (at most the @p keep newest stay pending). */
bool iotkit__fleet_entry_hist(iotkit__fleet_entry_t *e, const iotkit_location_t *loc, uint32_t keep);

#endif
