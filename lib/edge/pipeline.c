/* The pipeline handle: loading a configuration as a whole, running points
   through it, and handing out what it decided. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "edge/edge_internal.h"

void iotkit_edge_config_init(iotkit_edge_config_t *cfg) {
  if (!cfg) return;
  memset(cfg, 0, sizeof(*cfg));
  cfg->struct_size = sizeof(*cfg);
  cfg->max_bytes = IOTKIT_EDGE_MAX_BYTES_DEFAULT;
  cfg->max_actions = IOTKIT_EDGE_MAX_ACTIONS_DEFAULT;
}

iotkit_err_t iotkit_edge_new(const iotkit_edge_config_t *cfg, iotkit_edge_t **out) {
  if (!out) return IOTKIT_ERR_INVALID_ARG;
  iotkit_edge_config_t c;
  iotkit_edge_config_init(&c);
  if (cfg && iotkit__struct_copy(&c, sizeof(c), cfg, IOTKIT__EDGE_CONFIG_SIZE_0_3, IOTKIT__EDGE_CONFIG_REQUIRED) !=
                 IOTKIT_OK)
    return IOTKIT_ERR_INVALID_ARG;
  if (!c.max_bytes) c.max_bytes = IOTKIT_EDGE_MAX_BYTES_DEFAULT;
  if (!c.max_actions) c.max_actions = IOTKIT_EDGE_MAX_ACTIONS_DEFAULT;
  iotkit_edge_t *e = calloc(1, sizeof(*e));
  if (!e) return IOTKIT_ERR_NOMEM;
  e->cfg = c;
  *out = e;
  return IOTKIT_OK;
}

void iotkit_edge_free(iotkit_edge_t *edge) {
  if (!edge) return;
  iotkit__edge_plan_free(edge->plan);
  free(edge);
}

iotkit_err_t iotkit_edge_load(iotkit_edge_t *edge, const char *json, size_t len) {
  if (!edge || !json) return IOTKIT_ERR_INVALID_ARG;
  edge_plan *plan = NULL;
  edge_refusal why;
  iotkit_err_t err = iotkit__edge_compile(json, len, edge->cfg.max_bytes, edge->cfg.max_actions, &plan, &why);
  if (err != IOTKIT_OK) {
    edge->st.refusals++;
    iotkit__fmt(edge->pointer, sizeof(edge->pointer), "%s", why.pointer);
    iotkit__fmt(edge->error, sizeof(edge->error), "%s", why.message);
    return err;
  }
  iotkit__edge_plan_free(edge->plan);
  edge->plan = plan;
  edge->st.loads++;
  edge->pointer[0] = edge->error[0] = '\0';
  return IOTKIT_OK;
}

void iotkit_edge_clear(iotkit_edge_t *edge) {
  if (!edge) return;
  iotkit__edge_plan_free(edge->plan);
  edge->plan = NULL;
}

iotkit_err_t iotkit_edge_check(const char *json, size_t len, size_t max_bytes, char *pointer, size_t pointer_cap,
                               char *message, size_t message_cap) {
  if (!json) return IOTKIT_ERR_INVALID_ARG;
  edge_plan *plan = NULL;
  edge_refusal why;
  iotkit_err_t err = iotkit__edge_compile(json, len, max_bytes ? max_bytes : IOTKIT_EDGE_MAX_BYTES_DEFAULT, 1,
                                          &plan, &why);
  iotkit__edge_plan_free(plan);
  if (pointer && pointer_cap) iotkit__fmt(pointer, pointer_cap, "%s", err ? why.pointer : "");
  if (message && message_cap) iotkit__fmt(message, message_cap, "%s", err ? why.message : "");
  return err;
}

const char *iotkit_edge_error_pointer(const iotkit_edge_t *edge) { return edge ? edge->pointer : ""; }
const char *iotkit_edge_last_error(const iotkit_edge_t *edge) { return edge ? edge->error : ""; }
bool iotkit_edge_active(const iotkit_edge_t *edge) { return edge && edge->plan; }

/* The point's value as a number, and whether it is a boolean; false for a string. */
static bool numeric(const iotkit_telemetry_point_t *p, double *v, bool *is_bool) {
  *is_bool = p->type == IOTKIT_TELEMETRY_BOOL;
  switch (p->type) {
  case IOTKIT_TELEMETRY_DOUBLE: *v = p->value.d; return true;
  case IOTKIT_TELEMETRY_INT: *v = (double)p->value.i; return true;
  case IOTKIT_TELEMETRY_BOOL: *v = p->value.b ? 1.0 : 0.0; return true;
  default: return false;
  }
}

static bool run(iotkit_edge_t *edge, edge_plan *plan, uint32_t si, const iotkit_telemetry_point_t *p, double v,
                int64_t ts) {
  edge_stream *s = &plan->streams[si];
  plan->sigs[s->sig].value = v;
  plan->sigs[s->sig].has = true;
  bool send = iotkit__edge_filter(s, v, ts);
  for (uint32_t w = 0; w < s->n_win; w++) iotkit__edge_window_add(edge, &plan->wins[s->first_win + w], v, ts, p->unit);
  for (uint32_t d = 0; d < s->n_det; d++) {
    uint32_t di = s->first_det + d;
    if (!iotkit__edge_detector_update(&plan->dets[di], v, ts)) continue;
    edge_pending q = {.kind = IOTKIT_EDGE_ACTION_DETECTOR, .src = di, .stream = si, .ts = ts, .value = v,
                      .active = plan->dets[di].active};
    iotkit__edge_queue(edge, &q);
  }
  if (s->n_rules) iotkit__edge_rules_run(edge, si, ts, v);
  return send;
}

iotkit_err_t iotkit_edge_process(iotkit_edge_t *edge, const iotkit_telemetry_point_t *point, bool *send) {
  if (!edge || !point || !point->name || !send) return IOTKIT_ERR_INVALID_ARG;
  edge->st.points_in++;
  edge_plan *plan = edge->plan;
  uint32_t si = plan ? iotkit__edge_stream_find(plan, point->name) : UINT32_MAX;
  bool out = true;
  double v = 0;
  bool is_bool = false;
  if (si == UINT32_MAX) {
    edge->st.unconfigured += plan != NULL;
  } else if (!numeric(point, &v, &is_bool)) {
    edge->st.not_numeric++;
  } else {
    edge_stream *s = &plan->streams[si];
    int64_t ts = point->ts_ms ? point->ts_ms : s->last_ts;
    if (s->seen && is_bool != s->is_bool) {
      edge->st.type_changed++;
    } else if (!isfinite(v)) {
      edge->st.non_finite++;
      out = false;
    } else if (s->seen && point->ts_ms && ts < s->last_ts) {
      edge->st.out_of_order++;
    } else if (s->seen && point->ts_ms && ts == s->last_ts) {
      edge->st.duplicates++;
      out = false;
    } else {
      if (!s->seen) s->is_bool = is_bool;
      s->seen = true;
      s->last_ts = ts;
      out = run(edge, plan, si, point, v, ts);
      if (!out) edge->st.points_held++;
    }
  }
  if (out) edge->st.points_sent++;
  *send = out;
  return IOTKIT_OK;
}

iotkit_err_t iotkit_edge_flush(iotkit_edge_t *edge) {
  if (!edge) return IOTKIT_ERR_INVALID_ARG;
  for (uint32_t w = 0; edge->plan && w < edge->plan->n_wins; w++) iotkit__edge_window_flush(edge, &edge->plan->wins[w]);
  return IOTKIT_OK;
}

iotkit_err_t iotkit_edge_next_action_sized(iotkit_edge_t *edge, iotkit_edge_action_t *action, size_t size) {
  if (!edge || !action || !size) return IOTKIT_ERR_INVALID_ARG;
  edge_plan *plan = edge->plan;
  if (!plan || !plan->pend_n) return IOTKIT_ERR_NOT_FOUND;
  const edge_pending *p = &plan->pending[plan->pend_head];
  plan->pend_head = (plan->pend_head + 1u) % plan->pend_cap;
  plan->pend_n--;
  iotkit_edge_action_t a = {.kind = p->kind, .metric = plan->streams[p->stream].metric, .ts_ms = p->ts,
                            .value = p->value, .active = p->active};
  if (p->kind == IOTKIT_EDGE_ACTION_DETECTOR) {
    a.source = plan->dets[p->src].name;
  } else {
    const edge_rule *r = &plan->rules[p->src];
    a.source = r->name;
    a.name = r->acts[p->act].name;
    a.json = r->acts[p->act].json;
  }
  memcpy(action, &a, size < sizeof(a) ? size : sizeof(a));
  return IOTKIT_OK;
}

iotkit_err_t iotkit_edge_stats_sized(const iotkit_edge_t *edge, iotkit_edge_stats_t *stats, size_t size) {
  if (!edge || !stats || !size) return IOTKIT_ERR_INVALID_ARG;
  memcpy(stats, &edge->st, size < sizeof(edge->st) ? size : sizeof(edge->st));
  return IOTKIT_OK;
}

iotkit_err_t iotkit_edge_detector(const iotkit_edge_t *edge, const char *name, bool *active, double *score) {
  if (!edge || !name) return IOTKIT_ERR_INVALID_ARG;
  for (uint32_t i = 0; edge->plan && i < edge->plan->n_dets; i++) {
    const edge_detector *d = &edge->plan->dets[i];
    if (strcmp(d->name, name) != 0) continue;
    if (active) *active = d->active;
    if (score) *score = d->score;
    return IOTKIT_OK;
  }
  return IOTKIT_ERR_NOT_FOUND;
}
