/* Rules: a condition over signals, detectors and other rules, optionally held
   "for at least N ms" or true in "N of the last M" evaluations; when a rule
   becomes active its actions are queued. Evaluation follows the order computed
   at load (dependencies first), so a rule that names another sees its new state. */
#include "edge/edge_internal.h"

static bool compare(double a, int op, double b) {
  switch (op) {
  case EDGE_OP_LT: return a < b;
  case EDGE_OP_LE: return a <= b;
  case EDGE_OP_GT: return a > b;
  case EDGE_OP_GE: return a >= b;
  case EDGE_OP_EQ: return a == b;
  default: return a != b;
  }
}

static bool eval(const edge_plan *plan, uint32_t ci) {
  const edge_cond *c = &plan->conds[ci];
  switch (c->kind) {
  case EDGE_C_METRIC: return plan->sigs[c->ref].has && compare(plan->sigs[c->ref].value, c->op, c->value);
  case EDGE_C_DETECTOR: return plan->dets[c->ref].active;
  case EDGE_C_RULE: return plan->rules[c->ref].active;
  case EDGE_C_NOT: return !eval(plan, c->kids[0]);
  case EDGE_C_ALL:
    for (uint32_t i = 0; i < c->n_kids; i++)
      if (!eval(plan, c->kids[i])) return false;
    return true;
  default:
    for (uint32_t i = 0; i < c->n_kids; i++)
      if (eval(plan, c->kids[i])) return true;
    return false;
  }
}

void iotkit__edge_queue(iotkit_edge_t *edge, const edge_pending *p) {
  edge_plan *plan = edge->plan;
  if (plan->pend_n == plan->pend_cap) {
    edge->st.actions_dropped++;
    return;
  }
  plan->pending[(plan->pend_head + plan->pend_n) % plan->pend_cap] = *p;
  plan->pend_n++;
  edge->st.actions++;
}

static bool step(edge_rule *r, bool h, int64_t ts) {
  if (r->of_m) {
    uint64_t mask = r->of_m >= 64 ? UINT64_MAX : ((UINT64_C(1) << r->of_m) - 1u);
    r->hist = ((r->hist << 1) | (h ? 1u : 0u)) & mask;
    return (uint32_t)__builtin_popcountll(r->hist) >= r->of_n;
  }
  if (r->for_ms) {
    if (h && !r->holds) r->since = ts;
    r->holds = h;
    return h && ts - r->since >= (int64_t)r->for_ms;
  }
  return h;
}

void iotkit__edge_rules_run(iotkit_edge_t *edge, uint32_t si, int64_t ts, double v) {
  edge_plan *plan = edge->plan;
  const edge_stream *s = &plan->streams[si];
  for (uint32_t k = 0; k < s->n_rules; k++) {
    uint32_t ri = s->rules[k];
    edge_rule *r = &plan->rules[ri];
    bool was = r->active;
    r->active = step(r, eval(plan, r->cond), ts);
    if (!r->active || was) continue;
    for (uint32_t a = 0; a < r->n_acts; a++) {
      edge_pending p = {.kind = r->acts[a].kind, .src = ri, .act = a, .stream = si, .ts = ts, .value = v, .active = true};
      iotkit__edge_queue(edge, &p);
    }
  }
}
