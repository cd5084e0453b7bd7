/* The "rules" of a configuration: conditions, actions, and the order of
   evaluation. References are resolved by name; a reference to nothing, or rules
   that name each other in a cycle, refuse the document. */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "iotkit/options.h"
#include "edge/edge_config.h"
#include "protocol/json.h"

#define EDGE_MAX_DEPTH 32

typedef struct rule_ctx {
  edge_plan *plan;
  edge_refusal *why;
  const cJSON *rules;
} rule_ctx;

static uint32_t rule_find(const edge_plan *plan, const char *name) {
  for (uint32_t i = 0; i < plan->n_rules; i++)
    if (!strcmp(plan->rules[i].name, name)) return i;
  return UINT32_MAX;
}

static int op_of(const char *s) {
  static const char *const ops[] = {"<", "<=", ">", ">=", "==", "!="};
  for (int i = 0; i < 6; i++)
    if (!strcmp(s, ops[i])) return i;
  return -1;
}

static iotkit_err_t cond(rule_ctx *c, const cJSON *j, const char *at, int depth, uint32_t *out);

static iotkit_err_t cond_list(rule_ctx *c, edge_cond *n, const cJSON *list, const char *at, int depth) {
  edge_plan *plan = c->plan;
  n->n_kids = cJSON_IsArray(list) ? (uint32_t)cJSON_GetArraySize(list) : 1u;
  if (cJSON_IsArray(list) && !n->n_kids)
    return iotkit__edge_refuse(c->why, IOTKIT_ERR_INVALID_ARG, "must not be empty", "%s", at);
  if (!(n->kids = iotkit__edge_alloc(&plan->arena, n->n_kids * sizeof(uint32_t)))) return IOTKIT_ERR_NOMEM;
  if (!cJSON_IsArray(list)) return cond(c, list, at, depth + 1, &n->kids[0]);
  uint32_t k = 0;
  for (const cJSON *e = list->child; e; e = e->next, k++) {
    char kat[IOTKIT_EDGE_POINTER_SIZE];
    iotkit__fmt(kat, sizeof(kat), "%s/%u", at, (unsigned)k);
    uint32_t idx = 0;
    iotkit_err_t err = cond(c, e, kat, depth + 1, &idx);
    if (err != IOTKIT_OK) return err;
    n->kids[k] = idx;
  }
  return IOTKIT_OK;
}

static iotkit_err_t cond_metric(rule_ctx *c, edge_cond *n, const cJSON *j, const cJSON *m, const char *at) {
  static const char *const keys[] = {"metric", "op", "value", NULL};
  iotkit_err_t err = iotkit__edge_keys(c->why, j, keys, at);
  if (err != IOTKIT_OK) return err;
  if (!cJSON_IsString(m) || !iotkit__edge_name_ok(m->valuestring))
    return iotkit__edge_refuse(c->why, IOTKIT_ERR_INVALID_ARG, "not a valid metric name", "%s/metric", at);
  const cJSON *op = cJSON_GetObjectItemCaseSensitive(j, "op");
  if (!op) return iotkit__edge_refuse(c->why, IOTKIT_ERR_INVALID_ARG, "required field missing", "%s/op", at);
  if (!cJSON_IsString(op) || (n->op = op_of(op->valuestring)) < 0)
    return iotkit__edge_refuse(c->why, IOTKIT_ERR_INVALID_ARG, "one of < <= > >= == !=", "%s/op", at);
  if ((err = iotkit__edge_num(c->why, j, "value", at, -1e300, 1e300, true, &n->value)) != IOTKIT_OK) return err;
  n->kind = EDGE_C_METRIC;
  n->ref = iotkit__edge_signal_find(c->plan, m->valuestring);
  if (n->ref != UINT32_MAX) return IOTKIT_OK;
  /* A metric with no stream of its own: follow its values without filters. */
  uint32_t si = 0;
  char mat[IOTKIT_EDGE_POINTER_SIZE];
  iotkit__fmt(mat, sizeof(mat), "%s/metric", at);
  if ((err = iotkit__edge_stream_add(c->plan, c->why, m->valuestring, mat, &si)) != IOTKIT_OK) return err;
  n->ref = c->plan->streams[si].sig;
  return IOTKIT_OK;
}

static iotkit_err_t cond_ref(rule_ctx *c, edge_cond *n, const cJSON *j, const char *key, const char *at) {
  const char *const keys[] = {key, NULL};
  iotkit_err_t err = iotkit__edge_keys(c->why, j, keys, at);
  if (err != IOTKIT_OK) return err;
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
  if (!cJSON_IsString(v)) return iotkit__edge_refuse(c->why, IOTKIT_ERR_INVALID_ARG, "must be a name", "%s/%s", at, key);
  bool det = !strcmp(key, "detector");
  n->kind = det ? EDGE_C_DETECTOR : EDGE_C_RULE;
  n->ref = UINT32_MAX;
  if (det) {
    for (uint32_t i = 0; i < c->plan->n_dets && n->ref == UINT32_MAX; i++)
      if (!strcmp(c->plan->dets[i].name, v->valuestring)) n->ref = i;
  } else {
    n->ref = rule_find(c->plan, v->valuestring);
  }
  if (n->ref == UINT32_MAX)
    return iotkit__edge_refuse(c->why, IOTKIT_ERR_INVALID_ARG, det ? "no detector has this name" : "no rule has this name",
                               "%s/%s", at, key);
  return IOTKIT_OK;
}

static iotkit_err_t cond(rule_ctx *c, const cJSON *j, const char *at, int depth, uint32_t *out) {
  if (depth > EDGE_MAX_DEPTH) return iotkit__edge_refuse(c->why, IOTKIT_ERR_INVALID_ARG, "conditions nested too deep", "%s", at);
  if (!cJSON_IsObject(j)) return iotkit__edge_refuse(c->why, IOTKIT_ERR_INVALID_ARG, "a condition must be an object", "%s", at);
  edge_plan *plan = c->plan;
  uint32_t idx = plan->n_conds++;
  edge_cond *n = &plan->conds[idx];
  *out = idx;
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "metric");
  if (m) return cond_metric(c, n, j, m, at);
  if (cJSON_HasObjectItem(j, "detector")) return cond_ref(c, n, j, "detector", at);
  if (cJSON_HasObjectItem(j, "rule")) return cond_ref(c, n, j, "rule", at);
  static const char *const logic[] = {"all", "any", "not"};
  for (int k = 0; k < 3; k++) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, logic[k]);
    if (!v) continue;
    const char *const keys[] = {logic[k], NULL};
    iotkit_err_t err = iotkit__edge_keys(c->why, j, keys, at);
    if (err != IOTKIT_OK) return err;
    char kat[IOTKIT_EDGE_POINTER_SIZE];
    iotkit__fmt(kat, sizeof(kat), "%s/%s", at, logic[k]);
    if ((k < 2) != cJSON_IsArray(v))
      return iotkit__edge_refuse(c->why, IOTKIT_ERR_INVALID_ARG, k < 2 ? "must be an array" : "must be an object", "%s", kat);
    n->kind = k == 0 ? EDGE_C_ALL : k == 1 ? EDGE_C_ANY : EDGE_C_NOT;
    return cond_list(c, n, v, kat, depth);
  }
  return iotkit__edge_refuse(c->why, IOTKIT_ERR_INVALID_ARG, "needs metric, detector, rule, all, any or not", "%s", at);
}

static iotkit_err_t action(rule_ctx *c, edge_action *a, const cJSON *j, const char *at) {
  if (!cJSON_IsObject(j)) return iotkit__edge_refuse(c->why, IOTKIT_ERR_INVALID_ARG, "an action must be an object", "%s", at);
  edge_arena *ar = &c->plan->arena;
  static const char *const kinds[] = {"event", "command", "report", "send_window"};
  static const char *const extra[] = {"data", "params", NULL, NULL};
  for (int k = 0; k < 4; k++) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, kinds[k]);
    if (!v) continue;
    const char *const keys[] = {kinds[k], extra[k], NULL};
    iotkit_err_t err = iotkit__edge_keys(c->why, j, keys, at);
    if (err != IOTKIT_OK) return err;
    if (k == 3)
      return iotkit__edge_refuse(c->why, IOTKIT_ERR_UNSUPPORTED, "the send_window action is not implemented yet",
                                 "%s/send_window", at);
    if (k == 2 && !cJSON_IsObject(v))
      return iotkit__edge_refuse(c->why, IOTKIT_ERR_INVALID_ARG, "must be an object (a merge patch)", "%s/report", at);
    if (k < 2 && (!cJSON_IsString(v) || !iotkit__is_safe_name(v->valuestring, IOTKIT_MAX_NAME)))
      return iotkit__edge_refuse(c->why, IOTKIT_ERR_INVALID_ARG, "1..64 of [A-Za-z0-9._-]", "%s/%s", at, kinds[k]);
    const cJSON *body = k == 2 ? v : extra[k] ? cJSON_GetObjectItemCaseSensitive(j, extra[k]) : NULL;
    if (k == 1 && body && !cJSON_IsObject(body))
      return iotkit__edge_refuse(c->why, IOTKIT_ERR_INVALID_ARG, "must be an object", "%s/params", at);
    a->kind = k == 0 ? IOTKIT_EDGE_ACTION_EVENT : k == 1 ? IOTKIT_EDGE_ACTION_COMMAND : IOTKIT_EDGE_ACTION_REPORT;
    if (k < 2 && !(a->name = iotkit__edge_strdup(ar, v->valuestring))) return IOTKIT_ERR_NOMEM;
    char *text = body ? iotkit__json_print(body) : NULL;
    if (body && !text) return IOTKIT_ERR_NOMEM;
    a->json = iotkit__edge_strdup(ar, text ? text : "{}");
    cJSON_free(text);
    return a->json ? IOTKIT_OK : IOTKIT_ERR_NOMEM;
  }
  return iotkit__edge_refuse(c->why, IOTKIT_ERR_INVALID_ARG, "needs event, command or report", "%s", at);
}

static iotkit_err_t rule(rule_ctx *c, edge_rule *r, const cJSON *j, const char *at) {
  static const char *const keys[] = {"name", "when", "for_ms", "of", "actions", NULL};
  iotkit_err_t err = iotkit__edge_keys(c->why, j, keys, at);
  if (err != IOTKIT_OK) return err;
  const cJSON *when = cJSON_GetObjectItemCaseSensitive(j, "when");
  if (!when) return iotkit__edge_refuse(c->why, IOTKIT_ERR_INVALID_ARG, "required field missing", "%s/when", at);
  char wat[IOTKIT_EDGE_POINTER_SIZE];
  iotkit__fmt(wat, sizeof(wat), "%s/when", at);
  if ((err = cond(c, when, wat, 0, &r->cond)) != IOTKIT_OK) return err;
  if ((err = iotkit__edge_uint(c->why, j, "for_ms", at, 1, UINT32_MAX, false, &r->for_ms)) != IOTKIT_OK) return err;
  const cJSON *of = cJSON_GetObjectItemCaseSensitive(j, "of");
  if (of && r->for_ms) return iotkit__edge_refuse(c->why, IOTKIT_ERR_INVALID_ARG, "give for_ms or of, not both", "%s/of", at);
  if (of) {
    char oat[IOTKIT_EDGE_POINTER_SIZE];
    iotkit__fmt(oat, sizeof(oat), "%s/of", at);
    static const char *const okeys[] = {"n", "m", NULL};
    if (!cJSON_IsObject(of)) return iotkit__edge_refuse(c->why, IOTKIT_ERR_INVALID_ARG, "must be {\"n\":N,\"m\":M}", "%s", oat);
    uint64_t m = 0, n = 0;
    if ((err = iotkit__edge_keys(c->why, of, okeys, oat)) != IOTKIT_OK) return err;
    if ((err = iotkit__edge_uint(c->why, of, "m", oat, 1, 64, true, &m)) != IOTKIT_OK) return err;
    if ((err = iotkit__edge_uint(c->why, of, "n", oat, 1, m, true, &n)) != IOTKIT_OK) return err;
    r->of_m = (uint32_t)m;
    r->of_n = (uint32_t)n;
  }
  const cJSON *acts = cJSON_GetObjectItemCaseSensitive(j, "actions");
  if (!acts) return iotkit__edge_refuse(c->why, IOTKIT_ERR_INVALID_ARG, "required field missing", "%s/actions", at);
  if (!cJSON_IsArray(acts) || !acts->child)
    return iotkit__edge_refuse(c->why, IOTKIT_ERR_INVALID_ARG, "must be a non-empty array", "%s/actions", at);
  r->acts = iotkit__edge_alloc(&c->plan->arena, (size_t)cJSON_GetArraySize(acts) * sizeof(edge_action));
  if (!r->acts) return IOTKIT_ERR_NOMEM;
  for (const cJSON *a = acts->child; a; a = a->next, r->n_acts++) {
    char aat[IOTKIT_EDGE_POINTER_SIZE];
    iotkit__fmt(aat, sizeof(aat), "%s/actions/%u", at, (unsigned)r->n_acts);
    if ((err = action(c, &r->acts[r->n_acts], a, aat)) != IOTKIT_OK) return err;
  }
  return IOTKIT_OK;
}

/* ---------------------------------------------------- order of evaluation -- */

typedef struct order_ctx {
  edge_plan *plan;
  edge_refusal *why;
  uint8_t *color;   /* 0 new, 1 on the path, 2 done */
  uint8_t *streams; /* n_rules x n_streams: the streams a rule depends on */
  uint32_t *order, n_order;
  uint32_t *path, n_path;
} order_ctx;

static iotkit_err_t visit(order_ctx *o, uint32_t ri);

/* Mark in @p row the streams condition @p ci depends on, visiting the rules it names. */
static iotkit_err_t deps(order_ctx *o, uint32_t ci, uint8_t *row) {
  const edge_plan *plan = o->plan;
  const edge_cond *c = &plan->conds[ci];
  switch (c->kind) {
  case EDGE_C_METRIC: row[plan->sigs[c->ref].stream] = 1; return IOTKIT_OK;
  case EDGE_C_DETECTOR: row[plan->dets[c->ref].stream] = 1; return IOTKIT_OK;
  case EDGE_C_RULE: {
    iotkit_err_t err = visit(o, c->ref);
    if (err != IOTKIT_OK) return err;
    const uint8_t *other = o->streams + (size_t)c->ref * plan->n_streams;
    for (uint32_t s = 0; s < plan->n_streams; s++) row[s] |= other[s];
    return IOTKIT_OK;
  }
  default:
    for (uint32_t k = 0; k < c->n_kids; k++) {
      iotkit_err_t err = deps(o, c->kids[k], row);
      if (err != IOTKIT_OK) return err;
    }
    return IOTKIT_OK;
  }
}

static iotkit_err_t visit(order_ctx *o, uint32_t ri) {
  if (o->color[ri] == 2) return IOTKIT_OK;
  if (o->color[ri] == 1) {
    char msg[256] = "rules form a cycle:";
    size_t k = 0;
    while (k < o->n_path && o->path[k] != ri) k++;
    for (; k < o->n_path; k++) {
      size_t l = strlen(msg);
      iotkit__fmt(msg + l, sizeof(msg) - l, " %s ->", o->plan->rules[o->path[k]].name);
    }
    size_t l = strlen(msg);
    iotkit__fmt(msg + l, sizeof(msg) - l, " %s", o->plan->rules[ri].name);
    return iotkit__edge_refuse(o->why, IOTKIT_ERR_INVALID_ARG, msg, "/rules/%u/when", (unsigned)ri);
  }
  o->color[ri] = 1;
  o->path[o->n_path++] = ri;
  iotkit_err_t err = deps(o, o->plan->rules[ri].cond, o->streams + (size_t)ri * o->plan->n_streams);
  if (err != IOTKIT_OK) return err;
  o->n_path--;
  o->color[ri] = 2;
  o->order[o->n_order++] = ri;
  return IOTKIT_OK;
}

static iotkit_err_t order_rules(edge_plan *plan, edge_refusal *why) {
  size_t nr = plan->n_rules, ns = plan->n_streams;
  order_ctx o = {.plan = plan, .why = why};
  o.color = calloc(nr + 1u, 1);
  o.streams = calloc(nr * ns + 1u, 1);
  o.order = calloc(nr + 1u, sizeof(uint32_t));
  o.path = calloc(nr + 1u, sizeof(uint32_t));
  iotkit_err_t err = o.color && o.streams && o.order && o.path ? IOTKIT_OK : IOTKIT_ERR_NOMEM;
  for (uint32_t r = 0; r < nr && err == IOTKIT_OK; r++) err = visit(&o, r);
  for (uint32_t s = 0; s < ns && err == IOTKIT_OK; s++) {
    edge_stream *st = &plan->streams[s];
    for (uint32_t k = 0; k < nr; k++) st->n_rules += o.streams[(size_t)o.order[k] * ns + s];
    if (!st->n_rules) continue;
    if (!(st->rules = iotkit__edge_alloc(&plan->arena, st->n_rules * sizeof(uint32_t)))) err = IOTKIT_ERR_NOMEM;
    for (uint32_t k = 0, n = 0; k < nr && err == IOTKIT_OK; k++)
      if (o.streams[(size_t)o.order[k] * ns + s]) st->rules[n++] = o.order[k];
  }
  free(o.color);
  free(o.streams);
  free(o.order);
  free(o.path);
  return err;
}

iotkit_err_t iotkit__edge_compile_rules(edge_plan *plan, const cJSON *rules, edge_refusal *why) {
  rule_ctx c = {.plan = plan, .why = why, .rules = rules};
  uint32_t i = 0;
  /* Names first, so that a rule may name one defined after it. */
  for (const cJSON *j = rules->child; j; j = j->next, i++) {
    if (!cJSON_IsObject(j)) return iotkit__edge_refuse(why, IOTKIT_ERR_INVALID_ARG, "must be an object", "/rules/%u", (unsigned)i);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "name");
    if (!name) return iotkit__edge_refuse(why, IOTKIT_ERR_INVALID_ARG, "required field missing", "/rules/%u/name", (unsigned)i);
    if (!cJSON_IsString(name) || !iotkit__is_safe_name(name->valuestring, 64))
      return iotkit__edge_refuse(why, IOTKIT_ERR_INVALID_ARG, "1..64 of [A-Za-z0-9._-]", "/rules/%u/name", (unsigned)i);
    if (rule_find(plan, name->valuestring) != UINT32_MAX)
      return iotkit__edge_refuse(why, IOTKIT_ERR_INVALID_ARG, "another rule has this name", "/rules/%u/name", (unsigned)i);
    if (!(plan->rules[i].name = iotkit__edge_strdup(&plan->arena, name->valuestring))) return IOTKIT_ERR_NOMEM;
    plan->n_rules++;
  }
  i = 0;
  for (const cJSON *j = rules->child; j; j = j->next, i++) {
    char at[32];
    iotkit__fmt(at, sizeof(at), "/rules/%u", (unsigned)i);
    iotkit_err_t err = rule(&c, &plan->rules[i], j, at);
    if (err != IOTKIT_OK) return err;
  }
  return order_rules(plan, why);
}
