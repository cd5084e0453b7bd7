/* Window aggregates. Tumbling windows (by time or by a count of points) keep
   running sums and a Welford mean/M2; sliding windows (by a count of points)
   keep the values in a ring, sums of (x - shift) rebuilt from the ring once per
   window length (so rounding does not drift), and monotonic queues for min and
   max. Percentiles come from a fixed histogram over [lo, hi): the estimate is the
   middle of the bin holding the nearest-rank percentile, so it is within half a
   bin width, (hi - lo) / bins / 2, of the exact value for values inside the range. */
#include <math.h>
#include <string.h>

#include "edge/edge_internal.h"

size_t iotkit__edge_window_bytes(const edge_window *w) {
  size_t b = w->want_hist ? (size_t)w->bins * sizeof(uint32_t) : 0;
  if (w->sliding) b += (size_t)w->points * (sizeof(double) + (w->want_minmax ? 2u * sizeof(uint64_t) : 0));
  return b;
}

iotkit_err_t iotkit__edge_window_alloc(edge_arena *a, edge_window *w) {
  if (w->want_hist && !(w->hist = iotkit__edge_alloc(a, (size_t)w->bins * sizeof(uint32_t)))) return IOTKIT_ERR_NOMEM;
  if (w->sliding && !(w->ring = iotkit__edge_alloc(a, (size_t)w->points * sizeof(double)))) return IOTKIT_ERR_NOMEM;
  if (w->sliding && w->want_minmax) {
    w->dq_min = iotkit__edge_alloc(a, (size_t)w->points * sizeof(uint64_t));
    w->dq_max = iotkit__edge_alloc(a, (size_t)w->points * sizeof(uint64_t));
    if (!w->dq_min || !w->dq_max) return IOTKIT_ERR_NOMEM;
  }
  a->state_bytes += iotkit__edge_window_bytes(w);
  return IOTKIT_OK;
}

static uint32_t bin_of(const edge_window *w, double v) {
  if (!(v > w->lo)) return 0;
  double b = (v - w->lo) / (w->hi - w->lo) * w->bins;
  return b >= w->bins ? w->bins - 1u : (uint32_t)b;
}

static double percentile(const edge_window *w, double q) {
  uint64_t rank = (uint64_t)ceil(q / 100.0 * (double)w->count);
  if (rank < 1) rank = 1;
  uint64_t seen = 0;
  uint32_t b = 0;
  for (; b < w->bins; b++) {
    seen += w->hist[b];
    if (seen >= rank) break;
  }
  if (b == w->bins) b = w->bins - 1u;
  return w->lo + ((double)b + 0.5) * (w->hi - w->lo) / w->bins;
}

static double sliding_var(const edge_window *w) {
  double n = (double)w->count;
  if (w->count < 2) return 0;
  double v = (w->s2 - w->s1 * w->s1 / n) / (n - 1.0);
  return v > 0 ? v : 0;
}

static double value_of(const edge_window *w, const edge_output *o) {
  bool sl = w->sliding;
  double n = (double)w->count;
  switch (o->agg) {
  case EDGE_AGG_COUNT: return n;
  case EDGE_AGG_SUM: return sl ? w->s1 + n * w->shift : w->sum;
  case EDGE_AGG_MEAN: return sl ? w->shift + w->s1 / n : w->sum / n;
  case EDGE_AGG_MIN: return sl ? w->ring[w->dq_min[w->min_h] % w->points] : w->mn;
  case EDGE_AGG_MAX: return sl ? w->ring[w->dq_max[w->max_h] % w->points] : w->mx;
  case EDGE_AGG_STD: return sl ? sqrt(sliding_var(w)) : (w->count > 1 ? sqrt(w->m2 / (n - 1.0)) : 0.0);
  default: return percentile(w, o->q);
  }
}

static void emit(iotkit_edge_t *edge, edge_window *w, int64_t ts, const char *unit) {
  edge_plan *plan = edge->plan;
  for (uint32_t i = 0; i < w->n_outs; i++) {
    const edge_output *o = &w->outs[i];
    double v = value_of(w, o);
    plan->sigs[o->sig].value = v;
    plan->sigs[o->sig].has = true;
    edge->st.points_emitted++;
    if (!edge->cfg.on_point) continue;
    iotkit_telemetry_point_t p = {.name = o->name, .unit = unit, .ts_ms = ts, .type = IOTKIT_TELEMETRY_DOUBLE};
    p.value.d = v;
    edge->cfg.on_point(edge, edge->cfg.user, &p);
  }
}

static void tumbling_reset(edge_window *w) {
  w->count = 0;
  w->sum = w->wmean = w->m2 = 0;
  if (w->want_hist) memset(w->hist, 0, (size_t)w->bins * sizeof(uint32_t));
  w->open = false;
}

static void tumbling_add(edge_window *w, double v) {
  w->count++;
  w->sum += v;
  double d = v - w->wmean;
  w->wmean += d / (double)w->count;
  w->m2 += d * (v - w->wmean);
  if (w->count == 1 || v < w->mn) w->mn = v;
  if (w->count == 1 || v > w->mx) w->mx = v;
  if (w->want_hist) w->hist[bin_of(w, v)]++;
}

/* Positions in a monotonic queue (a ring of `points`): drop the front once it leaves the
   window and the back while it is not better than v, then push v's position. */
static void mono_push(edge_window *w, uint64_t *dq, uint32_t *h, uint32_t *n, uint64_t pos, double v, bool is_min) {
  while (*n && dq[*h] + w->points <= pos) { /* first, so that the queue never holds more than `points` */
    *h = (*h + 1u) % w->points;
    (*n)--;
  }
  while (*n) {
    double back = w->ring[dq[(*h + *n - 1u) % w->points] % w->points];
    if (is_min ? back < v : back > v) break;
    (*n)--;
  }
  dq[(*h + *n) % w->points] = pos;
  (*n)++;
}

static void sliding_rebuild(edge_window *w) {
  double sum = 0;
  for (uint64_t i = 0; i < w->count; i++) sum += w->ring[i];
  w->shift = sum / (double)w->count;
  w->s1 = w->s2 = 0;
  for (uint64_t i = 0; i < w->count; i++) {
    double d = w->ring[i] - w->shift;
    w->s1 += d;
    w->s2 += d * d;
  }
  w->since_rebuild = 0;
}

static void sliding_add(edge_window *w, double v) {
  uint32_t slot = w->slot; /* pos % points, kept rather than divided per point */
  if (w->count == w->points) {
    double old = w->ring[slot], d = old - w->shift;
    w->s1 -= d;
    w->s2 -= d * d;
    if (w->want_hist) w->hist[bin_of(w, old)]--;
  } else {
    if (w->count == 0) w->shift = v;
    w->count++;
  }
  w->ring[slot] = v;
  double d = v - w->shift;
  w->s1 += d;
  w->s2 += d * d;
  if (w->want_hist) w->hist[bin_of(w, v)]++;
  if (w->want_minmax) {
    mono_push(w, w->dq_min, &w->min_h, &w->min_n, w->pos, v, true);
    mono_push(w, w->dq_max, &w->max_h, &w->max_n, w->pos, v, false);
  }
  w->pos++;
  if (++w->slot == w->points) w->slot = 0;
  if (w->count == w->points && ++w->since_rebuild >= w->points) sliding_rebuild(w);
}

static int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

void iotkit__edge_window_add(iotkit_edge_t *edge, edge_window *w, double v, int64_t ts, const char *unit) {
  if (w->sliding) {
    sliding_add(w, v);
    /* Once full, then every `every` points. */
    if (w->count == w->points && (w->pos == w->points || ++w->hop == w->every)) {
      w->hop = 0;
      emit(edge, w, ts, unit);
    }
    return;
  }
  if (w->ms) {
    int64_t idx = floor_div(ts, (int64_t)w->ms);
    if (w->open && idx != w->win_idx) {
      emit(edge, w, w->win_idx * (int64_t)w->ms, unit);
      tumbling_reset(w);
    }
    w->win_idx = idx;
    w->open = true;
    tumbling_add(w, v);
    return;
  }
  w->open = true;
  w->last_ts = ts;
  tumbling_add(w, v);
  if (w->count == w->points) {
    emit(edge, w, ts, unit);
    tumbling_reset(w);
  }
}

void iotkit__edge_window_flush(iotkit_edge_t *edge, edge_window *w) {
  if (w->sliding || !w->open || !w->count) return;
  emit(edge, w, w->ms ? w->win_idx * (int64_t)w->ms : w->last_ts, NULL);
  tumbling_reset(w);
}
