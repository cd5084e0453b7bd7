/*
 * Queries of the live view (presence, latest state, latest metrics, latest
 * position, counters), answered from memory under the fleet's lock, and the
 * location queries that need the database (track, within).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "fleet/fleet_internal.h"
#include "fleet/registry.h"

#define PI 3.14159265358979323846

static iotkit_err_t bad_id(iotkit_fleet_t *f, const char *id) {
  if (iotkit__fleet_id_ok(id)) return IOTKIT_OK;
  iotkit__fleet_set_error(f, "invalid id");
  return IOTKIT_ERR_INVALID_ARG;
}

/* The entry of @p id with the lock held, or NULL (lock released, NOT_FOUND recorded). */
static iotkit__fleet_entry_t *entry(iotkit_fleet_t *f, const char *id) {
  iotkit__fleet_lock(f);
  iotkit__fleet_entry_t *e = iotkit__fleet_view_find(&f->view, id);
  if (!e) {
    iotkit__fleet_unlock(f);
    iotkit__fleet_set_error(f, "no device %s", id);
  }
  return e;
}

iotkit_err_t iotkit_fleet_presence_sized(iotkit_fleet_t *f, const char *id, iotkit_fleet_presence_t *out,
                                         size_t size) {
  if (!f || !out || size == 0) return IOTKIT_ERR_INVALID_ARG;
  if (bad_id(f, id)) return IOTKIT_ERR_INVALID_ARG;
  iotkit__fleet_entry_t *e = entry(f, id);
  if (!e) return IOTKIT_ERR_NOT_FOUND;
  iotkit_fleet_presence_t p = {
      .online = e->online, .stale = e->stale, .last_seen_ms = e->last_seen_ms, .status_ts_ms = e->status_ts};
  iotkit__fleet_unlock(f);
  memcpy(out, &p, size < sizeof p ? size : sizeof p);
  return IOTKIT_OK;
}

iotkit_err_t iotkit_fleet_state(iotkit_fleet_t *f, const char *id, char **state_json, int64_t *ts_ms) {
  if (!f || !state_json) return IOTKIT_ERR_INVALID_ARG;
  if (bad_id(f, id)) return IOTKIT_ERR_INVALID_ARG;
  iotkit__fleet_entry_t *e = entry(f, id);
  if (!e) return IOTKIT_ERR_NOT_FOUND;
  char *copy = e->state_json ? iotkit__strdup(e->state_json) : NULL;
  bool nomem = e->state_json && !copy;
  int64_t ts = e->state_json ? e->state_ts : 0;
  iotkit__fleet_unlock(f);
  if (nomem) return IOTKIT_ERR_NOMEM;
  *state_json = copy;
  if (ts_ms) *ts_ms = ts;
  return IOTKIT_OK;
}

static iotkit_err_t add_metric(iotkit_telemetry_batch_t *b, const iotkit__fleet_metric_t *m) {
  iotkit_telemetry_point_t p = {.name = m->name, .unit = m->unit, .ts_ms = m->ts_ms, .type = m->type};
  switch (m->type) {
    case IOTKIT_TELEMETRY_DOUBLE: p.value.d = m->v.d; break;
    case IOTKIT_TELEMETRY_INT: p.value.i = m->v.i; break;
    case IOTKIT_TELEMETRY_BOOL: p.value.b = m->v.b; break;
    default: p.value.s = m->v.s; break;
  }
  return iotkit_telemetry_batch_add(b, &p);
}

iotkit_err_t iotkit_fleet_latest(iotkit_fleet_t *f, const char *id, const char *name, iotkit_telemetry_batch_t **out) {
  if (!f || !out) return IOTKIT_ERR_INVALID_ARG;
  if (bad_id(f, id)) return IOTKIT_ERR_INVALID_ARG;
  iotkit_telemetry_batch_t *b = NULL;
  iotkit_err_t rc = iotkit_telemetry_batch_new(NULL, &b);
  if (rc != IOTKIT_OK) return rc;
  iotkit__fleet_entry_t *e = entry(f, id);
  if (!e) {
    iotkit_telemetry_batch_free(b);
    return IOTKIT_ERR_NOT_FOUND;
  }
  bool found = false;
  for (size_t i = 0; rc == IOTKIT_OK && i < e->n_metrics; i++) {
    if (name && strcmp(e->metrics[i].name, name) != 0) continue;
    found = true;
    rc = add_metric(b, &e->metrics[i]);
  }
  iotkit__fleet_unlock(f);
  if (rc == IOTKIT_OK && name && !found) {
    iotkit__fleet_set_error(f, "device %s has no metric %s", id, name);
    rc = IOTKIT_ERR_NOT_FOUND;
  }
  if (rc != IOTKIT_OK) {
    iotkit_telemetry_batch_free(b);
    return rc;
  }
  *out = b;
  return IOTKIT_OK;
}

iotkit_err_t iotkit_fleet_stats_sized(iotkit_fleet_t *f, iotkit_fleet_stats_t *stats, size_t size) {
  if (!f || !stats || size == 0) return IOTKIT_ERR_INVALID_ARG;
  iotkit__fleet_lock(f);
  iotkit_fleet_stats_t s = f->stats;
  iotkit__fleet_unlock(f);
  f->hal->mutex_lock(f->hal->ctx, f->wq_lock);
  s.write_failures += f->async_failures; /* queued writes that failed, counted by the writer */
  f->hal->mutex_unlock(f->hal->ctx, f->wq_lock);
  memcpy(stats, &s, size < sizeof s ? size : sizeof s);
  return IOTKIT_OK;
}

/* ----------------------------------------------------------- location -- */

iotkit_err_t iotkit_fleet_locate(iotkit_fleet_t *f, const char *id, iotkit_location_t *out) {
  if (!f || !out) return IOTKIT_ERR_INVALID_ARG;
  if (bad_id(f, id)) return IOTKIT_ERR_INVALID_ARG;
  iotkit__fleet_entry_t *e = entry(f, id);
  if (!e) return IOTKIT_ERR_NOT_FOUND;
  bool has = e->has_loc;
  iotkit_location_t loc = e->loc;
  iotkit__fleet_unlock(f);
  if (!has) {
    iotkit__fleet_set_error(f, "device %s has reported no position", id);
    return IOTKIT_ERR_NOT_FOUND;
  }
  *out = loc;
  return IOTKIT_OK;
}

iotkit_err_t iotkit_fleet_track(iotkit_fleet_t *f, const char *id, int64_t t1, int64_t t2, iotkit_location_t **out,
                                size_t *count) {
  if (!f || !out || !count) return IOTKIT_ERR_INVALID_ARG;
  if (bad_id(f, id)) return IOTKIT_ERR_INVALID_ARG;
  if (t1 > t2) {
    iotkit__fleet_set_error(f, "track: t1 is after t2");
    return IOTKIT_ERR_INVALID_ARG;
  }
  iotkit__fleet_entry_t *e = entry(f, id);
  if (!e) return IOTKIT_ERR_NOT_FOUND;
  iotkit__fleet_unlock(f);
  iotkit_err_t rc = iotkit__fleet_settle(f);
  if (rc != IOTKIT_OK) return rc;
  char err[IOTKIT_ERROR_TEXT_SIZE] = "";
  rc = f->store_ops->track(f->store, id, t1, t2, out, count, err, sizeof err);
  if (rc != IOTKIT_OK) iotkit__fleet_set_error(f, "%s", err);
  return rc;
}


/*
 * The bounding box of a spherical cap (J. P. Matuschek, "Finding points within a
 * distance of a latitude/longitude using bounding coordinates"): latitudes within
 * the angular radius r of the centre; longitudes within asin(sin r / cos lat) of
 * it, unless the cap holds a pole (then every longitude). A box that crosses the
 * antimeridian becomes two longitude ranges. Widened by a hair so that rounding
 * never drops a point the haversine test would keep: the box only prefilters.
 */
static void cap_box(double lat, double lon, double radius_m, iotkit__fleet_box_t *b) {
  const double rad = PI / 180.0, eps = 1e-9;
  double r = radius_m / IOTKIT_FLEET_EARTH_RADIUS_M + eps;
  double la = lat * rad, lo = lon * rad;
  double lat_min = la - r, lat_max = la + r;
  double lon_min = -PI, lon_max = PI;
  if (r < PI && lat_min > -PI / 2 && lat_max < PI / 2) {
    double d = asin(fmin(1.0, sin(r) / cos(la)));
    lon_min = lo - d;
    lon_max = lo + d;
  } else {
    lat_min = fmax(lat_min, -PI / 2);
    lat_max = fmin(lat_max, PI / 2);
  }
  b->lat_min = lat_min / rad;
  b->lat_max = lat_max / rad;
  b->lon_min[0] = b->lon_min[1] = lon_min / rad;
  b->lon_max[0] = b->lon_max[1] = lon_max / rad;
  if (lon_min < -PI) { /* [lon_min + 360, 180] and [-180, lon_max] */
    b->lon_min[0] = (lon_min + 2 * PI) / rad;
    b->lon_max[0] = 180.0;
    b->lon_min[1] = -180.0;
  } else if (lon_max > PI) { /* [lon_min, 180] and [-180, lon_max - 360] */
    b->lon_max[0] = 180.0;
    b->lon_min[1] = -180.0;
    b->lon_max[1] = (lon_max - 2 * PI) / rad;
  }
}

static int by_distance(const void *a, const void *b) {
  double x = ((const iotkit_fleet_near_t *)a)->distance_m, y = ((const iotkit_fleet_near_t *)b)->distance_m;
  if (x != y) return x < y ? -1 : 1;
  return strcmp(((const iotkit_fleet_near_t *)a)->device_id, ((const iotkit_fleet_near_t *)b)->device_id);
}

iotkit_err_t iotkit_fleet_within(iotkit_fleet_t *f, double lat, double lon, double radius_m, iotkit_fleet_near_t **out,
                                 size_t *count) {
  if (!f || !out || !count) return IOTKIT_ERR_INVALID_ARG;
  if (!(lat >= -90.0 && lat <= 90.0) || !(lon >= -180.0 && lon <= 180.0) ||
      !(radius_m >= 0.0 && isfinite(radius_m))) {
    iotkit__fleet_set_error(f, "within: latitude, longitude or radius out of range");
    return IOTKIT_ERR_INVALID_ARG;
  }
  iotkit_err_t rc = iotkit__fleet_settle(f);
  if (rc != IOTKIT_OK) return rc;
  iotkit__fleet_box_t box;
  cap_box(lat, lon, radius_m, &box);
  iotkit_fleet_near_t *v = NULL;
  size_t n = 0;
  char err[IOTKIT_ERROR_TEXT_SIZE] = "";
  rc = f->store_ops->in_box(f->store, &box, &v, &n, err, sizeof err);
  if (rc != IOTKIT_OK) {
    iotkit__fleet_set_error(f, "%s", err);
    return rc;
  }
  size_t kept = 0;
  for (size_t i = 0; i < n; i++) {
    double d = iotkit_fleet_distance_m(lat, lon, v[i].location.latitude, v[i].location.longitude);
    if (d > radius_m) continue;
    v[kept] = v[i];
    v[kept++].distance_m = d;
  }
  if (kept) qsort(v, kept, sizeof *v, by_distance);
  if (!kept) {
    free(v);
    v = NULL;
  }
  *out = v;
  *count = kept;
  return IOTKIT_OK;
}
