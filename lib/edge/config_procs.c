/* The processors of a stream: filters, windows and detectors (docs/edge.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "edge/edge_config.h"

#define EDGE_MAX_POINTS 100000000u
#define EDGE_MAX_BINS 1000000u

static iotkit_err_t deadband(edge_stream *s, edge_refusal *why, const cJSON *p, const char *at) {
  static const char *const keys[] = {"type", "absolute", "percent", NULL};
  iotkit_err_t err = iotkit__edge_keys(why, p, keys, at);
  if (err != IOTKIT_OK) return err;
  if (s->deadband) return iotkit__edge_refuse(why, IOTKIT_ERR_INVALID_ARG, "a second deadband", "%s/type", at);
  bool a = cJSON_HasObjectItem(p, "absolute"), pc = cJSON_HasObjectItem(p, "percent");
  if (a == pc) return iotkit__edge_refuse(why, IOTKIT_ERR_INVALID_ARG, "give absolute or percent", "%s", at);
  s->deadband = true;
  s->percent = pc;
  return iotkit__edge_num(why, p, pc ? "percent" : "absolute", at, 0, pc ? 1000 : 1e300, true, &s->band);
}

static iotkit_err_t interval(uint64_t *ms, edge_refusal *why, const cJSON *p, const char *at) {
  static const char *const keys[] = {"type", "ms", NULL};
  iotkit_err_t err = iotkit__edge_keys(why, p, keys, at);
  if (err != IOTKIT_OK) return err;
  if (*ms) return iotkit__edge_refuse(why, IOTKIT_ERR_INVALID_ARG, "a second interval of this type", "%s/type", at);
  return iotkit__edge_uint(why, p, "ms", at, 1, UINT32_MAX, true, ms);
}

/* "count", "sum", "mean", "min", "max", "std" or "p<q>" with 0 < q < 100. */
static bool aggregate(const char *s, int *agg, double *q) {
  static const char *const names[] = {"count", "sum", "mean", "min", "max", "std"};
  for (int i = 0; i < 6; i++)
    if (strcmp(s, names[i]) == 0) return (*agg = i), true;
  if (s[0] != 'p' || !s[1]) return false;
  char *end = NULL;
  double v = strtod(s + 1, &end);
  if (*end || !(v > 0 && v < 100)) return false;
  *agg = EDGE_AGG_PCT;
  *q = v;
  return true;
}

static iotkit_err_t outputs(edge_plan *plan, edge_window *w, edge_refusal *why, const cJSON *p, uint32_t si,
                            const char *at) {
  const cJSON *aggs = cJSON_GetObjectItemCaseSensitive(p, "aggregates");
  if (!aggs) return iotkit__edge_refuse(why, IOTKIT_ERR_INVALID_ARG, "required field missing", "%s/aggregates", at);
  if (!cJSON_IsArray(aggs) || !aggs->child)
    return iotkit__edge_refuse(why, IOTKIT_ERR_INVALID_ARG, "must be a non-empty array", "%s/aggregates", at);
  const cJSON *prefix = cJSON_GetObjectItemCaseSensitive(p, "name");
  if (prefix && !cJSON_IsString(prefix))
    return iotkit__edge_refuse(why, IOTKIT_ERR_INVALID_ARG, "must be a string", "%s/name", at);
  const char *base = prefix ? prefix->valuestring : plan->streams[si].metric;
  w->outs = iotkit__edge_alloc(&plan->arena, (size_t)cJSON_GetArraySize(aggs) * sizeof(edge_output));
  if (!w->outs) return IOTKIT_ERR_NOMEM;
  uint32_t k = 0;
  for (const cJSON *a = aggs->child; a; a = a->next, k++) {
    char aat[128], name[IOTKIT_TELEMETRY_MAX_NAME + 2];
    iotkit__fmt(aat, sizeof(aat), "%s/aggregates/%u", at, (unsigned)k);
    edge_output *o = &w->outs[w->n_outs];
    if (!cJSON_IsString(a) || !aggregate(a->valuestring, &o->agg, &o->q))
      return iotkit__edge_refuse(why, IOTKIT_ERR_INVALID_ARG, "unknown aggregate", "%s", aat);
    (void)snprintf(name, sizeof(name), "%s.%s", base, a->valuestring);
    if (!iotkit__edge_name_ok(name))
      return iotkit__edge_refuse(why, IOTKIT_ERR_INVALID_ARG, "the output name is not a valid metric name", "%s", aat);
    if (!(o->name = iotkit__edge_strdup(&plan->arena, name))) return IOTKIT_ERR_NOMEM;
    iotkit_err_t err = iotkit__edge_signal_add(plan, why, name, si, aat, &o->sig);
    if (err != IOTKIT_OK) return err;
    w->want_minmax |= o->agg == EDGE_AGG_MIN || o->agg == EDGE_AGG_MAX;
    w->want_hist |= o->agg == EDGE_AGG_PCT;
    w->n_outs++;
  }
  return IOTKIT_OK;
}

static iotkit_err_t range(edge_window *w, edge_refusal *why, const cJSON *p, const char *at) {
  const cJSON *r = cJSON_GetObjectItemCaseSensitive(p, "range");
  if (!w->want_hist) {
    if (r || cJSON_HasObjectItem(p, "bins"))
      return iotkit__edge_refuse(why, IOTKIT_ERR_INVALID_ARG, "only with a percentile aggregate", "%s/%s", at,
                                 r ? "range" : "bins");
    return IOTKIT_OK;
  }
  if (!r) return iotkit__edge_refuse(why, IOTKIT_ERR_INVALID_ARG, "percentiles need a range [lo, hi]", "%s/range", at);
  const cJSON *lo = cJSON_GetArrayItem(r, 0), *hi = cJSON_GetArrayItem(r, 1);
  if (!cJSON_IsArray(r) || cJSON_GetArraySize(r) != 2 || !cJSON_IsNumber(lo) || !cJSON_IsNumber(hi) ||
      !isfinite(lo->valuedouble) || !isfinite(hi->valuedouble) || !(lo->valuedouble < hi->valuedouble))
    return iotkit__edge_refuse(why, IOTKIT_ERR_INVALID_ARG, "must be [lo, hi] with lo < hi", "%s/range", at);
  w->lo = lo->valuedouble;
  w->hi = hi->valuedouble;
  uint64_t bins = 100;
  iotkit_err_t err = iotkit__edge_uint(why, p, "bins", at, 1, EDGE_MAX_BINS, false, &bins);
  w->bins = (uint32_t)bins;
  return err;
}

static iotkit_err_t window(edge_plan *plan, edge_refusal *why, const cJSON *p, uint32_t si, const char *at,
                           size_t max_bytes) {
  static const char *const keys[] = {"type", "mode", "ms", "points", "every", "aggregates", "name", "range", "bins", NULL};
  iotkit_err_t err = iotkit__edge_keys(why, p, keys, at);
  if (err != IOTKIT_OK) return err;
  edge_window *w = &plan->wins[plan->n_wins];
  const cJSON *mode = cJSON_GetObjectItemCaseSensitive(p, "mode");
  if (mode && !(cJSON_IsString(mode) && (!strcmp(mode->valuestring, "tumbling") || !strcmp(mode->valuestring, "sliding"))))
    return iotkit__edge_refuse(why, IOTKIT_ERR_INVALID_ARG, "must be \"tumbling\" or \"sliding\"", "%s/mode", at);
  w->sliding = mode && !strcmp(mode->valuestring, "sliding");
  bool ms = cJSON_HasObjectItem(p, "ms"), pts = cJSON_HasObjectItem(p, "points");
  if (w->sliding && ms)
    return iotkit__edge_refuse(why, IOTKIT_ERR_UNSUPPORTED, "sliding windows by time are not implemented yet", "%s/ms", at);
  if (ms == pts) return iotkit__edge_refuse(why, IOTKIT_ERR_INVALID_ARG, "give ms or points", "%s", at);
  uint64_t v = 0, every = 1;
  if (ms && (err = iotkit__edge_uint(why, p, "ms", at, 1, UINT32_MAX, true, &v)) != IOTKIT_OK) return err;
  if (ms) w->ms = v;
  /* The size is checked against the budget below, so an absurd one reads "too large". */
  if (pts && (err = iotkit__edge_uint(why, p, "points", at, 1, UINT32_MAX, true, &v)) != IOTKIT_OK) return err;
  if (pts) w->points = (uint32_t)v;
  if (cJSON_HasObjectItem(p, "every") && !w->sliding)
    return iotkit__edge_refuse(why, IOTKIT_ERR_INVALID_ARG, "only for sliding windows", "%s/every", at);
  if ((err = iotkit__edge_uint(why, p, "every", at, 1, w->points ? w->points : 1, false, &every)) != IOTKIT_OK) return err;
  w->every = (uint32_t)every;
  if ((err = outputs(plan, w, why, p, si, at)) != IOTKIT_OK) return err;
  if ((err = range(w, why, p, at)) != IOTKIT_OK) return err;
  size_t need = iotkit__edge_window_bytes(w);
  if (w->points > EDGE_MAX_POINTS || plan->arena.state_bytes + need > max_bytes) {
    char msg[160];
    iotkit__fmt(msg, sizeof(msg), "the window needs %zu bytes; %zu of the %zu allowed are left", need,
                max_bytes - plan->arena.state_bytes, max_bytes);
    return iotkit__edge_refuse(why, IOTKIT_ERR_TOO_LARGE, msg, "%s/%s", at, w->sliding || !w->want_hist ? "points" : "bins");
  }
  if ((err = iotkit__edge_window_alloc(&plan->arena, w)) != IOTKIT_OK) return err;
  plan->n_wins++;
  return IOTKIT_OK;
}

static iotkit_err_t detector(edge_plan *plan, edge_refusal *why, const cJSON *p, uint32_t si, const char *at,
                             int kind) {
  static const char *const keys[][7] = {
      {"type", "name", "above", "below", "hysteresis", NULL},
      {"type", "name", "max_per_s", NULL},
      {"type", "name", "alpha", "z", "warmup", NULL},
      {"type", "name", "points", "epsilon", NULL},
  };
  iotkit_err_t err = iotkit__edge_keys(why, p, keys[kind], at);
  if (err != IOTKIT_OK) return err;
  edge_detector *d = &plan->dets[plan->n_dets];
  d->kind = kind;
  d->stream = si;
  const cJSON *name = cJSON_GetObjectItemCaseSensitive(p, "name");
  if (!name) return iotkit__edge_refuse(why, IOTKIT_ERR_INVALID_ARG, "required field missing", "%s/name", at);
  if (!cJSON_IsString(name) || !iotkit__is_safe_name(name->valuestring, 64))
    return iotkit__edge_refuse(why, IOTKIT_ERR_INVALID_ARG, "1..64 of [A-Za-z0-9._-]", "%s/name", at);
  for (uint32_t k = 0; k < plan->n_dets; k++)
    if (!strcmp(plan->dets[k].name, name->valuestring))
      return iotkit__edge_refuse(why, IOTKIT_ERR_INVALID_ARG, "another detector has this name", "%s/name", at);
  if (!(d->name = iotkit__edge_strdup(&plan->arena, name->valuestring))) return IOTKIT_ERR_NOMEM;
  uint64_t u = 0;
  switch (kind) {
  case EDGE_DET_THRESHOLD: {
    bool above = cJSON_HasObjectItem(p, "above");
    if (above == cJSON_HasObjectItem(p, "below"))
      return iotkit__edge_refuse(why, IOTKIT_ERR_INVALID_ARG, "give above or below", "%s", at);
    d->above = above;
    err = iotkit__edge_num(why, p, above ? "above" : "below", at, -1e300, 1e300, true, &d->level);
    if (err == IOTKIT_OK) err = iotkit__edge_num(why, p, "hysteresis", at, 0, 1e300, false, &d->hyst);
    break;
  }
  case EDGE_DET_RATE: err = iotkit__edge_num(why, p, "max_per_s", at, 0, 1e300, true, &d->max_rate); break;
  case EDGE_DET_EWMA:
    d->alpha = 0.1;
    d->z = 3;
    u = 10;
    err = iotkit__edge_num(why, p, "alpha", at, 1e-9, 1, false, &d->alpha);
    if (err == IOTKIT_OK) err = iotkit__edge_num(why, p, "z", at, 1e-9, 1e300, false, &d->z);
    if (err == IOTKIT_OK) err = iotkit__edge_uint(why, p, "warmup", at, 1, UINT32_MAX, false, &u);
    d->warmup = (uint32_t)u;
    break;
  default:
    err = iotkit__edge_uint(why, p, "points", at, 2, UINT32_MAX, true, &u);
    d->run_points = (uint32_t)u;
    if (err == IOTKIT_OK) err = iotkit__edge_num(why, p, "epsilon", at, 0, 1e300, false, &d->eps);
    break;
  }
  if (err == IOTKIT_OK) plan->n_dets++;
  return err;
}

iotkit_err_t iotkit__edge_compile_processor(edge_plan *plan, edge_refusal *why, const cJSON *p, uint32_t si,
                                            const char *at, size_t max_bytes) {
  if (!cJSON_IsObject(p)) return iotkit__edge_refuse(why, IOTKIT_ERR_INVALID_ARG, "must be an object", "%s", at);
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(p, "type");
  if (!t) return iotkit__edge_refuse(why, IOTKIT_ERR_INVALID_ARG, "required field missing", "%s/type", at);
  const char *type = cJSON_IsString(t) ? t->valuestring : "";
  edge_stream *s = &plan->streams[si];
  if (!strcmp(type, "deadband")) return deadband(s, why, p, at);
  if (!strcmp(type, "min_interval")) return interval(&s->min_ms, why, p, at);
  if (!strcmp(type, "max_interval")) return interval(&s->max_ms, why, p, at);
  if (!strcmp(type, "window")) return window(plan, why, p, si, at, max_bytes);
  if (!strcmp(type, "threshold")) return detector(plan, why, p, si, at, EDGE_DET_THRESHOLD);
  if (!strcmp(type, "rate")) return detector(plan, why, p, si, at, EDGE_DET_RATE);
  if (!strcmp(type, "ewma_z")) return detector(plan, why, p, si, at, EDGE_DET_EWMA);
  if (!strcmp(type, "stuck")) return detector(plan, why, p, si, at, EDGE_DET_STUCK);
  return iotkit__edge_refuse(why, IOTKIT_ERR_INVALID_ARG, "unknown processor type", "%s/type", at);
}
