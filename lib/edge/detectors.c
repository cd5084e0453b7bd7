/* Anomaly detectors: threshold with hysteresis, rate of change, EWMA z-score and
   stuck-at-constant. Each keeps a few numbers of state and says when it changes. */
#include <float.h>
#include <math.h>

#include "edge/edge_internal.h"

static bool threshold(edge_detector *d, double v) {
  d->score = v;
  if (d->above) return d->active ? !(v < d->level - d->hyst) : v > d->level;
  return d->active ? !(v > d->level + d->hyst) : v < d->level;
}

static bool rate(edge_detector *d, double v, int64_t ts) {
  bool had = d->n > 0;
  double prev = d->prev;
  int64_t prev_ts = d->prev_ts;
  d->prev = v;
  d->prev_ts = ts;
  d->n++;
  if (!had || ts <= prev_ts) return d->active; /* no time passed: nothing to measure */
  d->score = fabs(v - prev) * 1000.0 / (double)(ts - prev_ts);
  return d->score > d->max_rate;
}

/* Exponentially weighted mean and variance (West's incremental form); the point is
   scored against the statistics before it, then folded in. */
static bool ewma(edge_detector *d, double v) {
  bool on = false;
  if (d->n >= d->warmup && d->n > 0) {
    double sd = sqrt(d->var), dev = fabs(v - d->mean);
    d->score = sd > 0 ? dev / sd : (dev > 0 ? DBL_MAX : 0.0);
    on = d->score > d->z;
  }
  if (d->n++ == 0) {
    d->mean = v;
    d->var = 0;
  } else {
    double diff = v - d->mean;
    d->mean += d->alpha * diff;
    d->var = (1.0 - d->alpha) * (d->var + d->alpha * diff * diff);
  }
  return on;
}

static bool stuck(edge_detector *d, double v) {
  if (d->run == 0 || fabs(v - d->ref) > d->eps) {
    d->ref = v;
    d->run = 1;
  } else if (d->run < UINT32_MAX) {
    d->run++;
  }
  d->score = d->run;
  return d->run >= d->run_points;
}

bool iotkit__edge_detector_update(edge_detector *d, double v, int64_t ts) {
  bool on = d->active;
  switch (d->kind) {
  case EDGE_DET_THRESHOLD: on = threshold(d, v); break;
  case EDGE_DET_RATE: on = rate(d, v, ts); break;
  case EDGE_DET_EWMA: on = ewma(d, v); break;
  case EDGE_DET_STUCK: on = stuck(d, v); break;
  default: break;
  }
  bool changed = on != d->active;
  d->active = on;
  return changed;
}
