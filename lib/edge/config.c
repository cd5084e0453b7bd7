/* Configuration as data: the JSON document of docs/edge.md compiled into a plan.
   Everything is checked before the plan is used; the first fault refuses the
   whole document with the JSON pointer of the field at fault. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "edge/edge_config.h"
#include "protocol/json.h"

iotkit_err_t iotkit__edge_refuse(edge_refusal *why, iotkit_err_t code, const char *message, const char *ptr_fmt, ...) {
  why->code = code;
  va_list ap;
  va_start(ap, ptr_fmt);
  (void)vsnprintf(why->pointer, sizeof(why->pointer), ptr_fmt, ap);
  va_end(ap);
  iotkit__fmt(why->message, sizeof(why->message), "%s", message);
  return code;
}

/* ------------------------------------------------------------- helpers -- */

iotkit_err_t iotkit__edge_keys(edge_refusal *why, const cJSON *obj, const char *const *allowed, const char *at) {
  for (const cJSON *k = obj->child; k; k = k->next) {
    bool ok = false;
    for (const char *const *a = allowed; *a && !ok; a++) ok = strcmp(*a, k->string) == 0;
    if (!ok) return iotkit__edge_refuse(why, IOTKIT_ERR_INVALID_ARG, "unknown field", "%s/%s", at, k->string);
  }
  return IOTKIT_OK;
}

/* A finite number @p key of @p obj into @p out, within [lo, hi]; absent: @p out unchanged
   (or refused when @p required). */
iotkit_err_t iotkit__edge_num(edge_refusal *why, const cJSON *obj, const char *key, const char *at, double lo,
                              double hi, bool required, double *out) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (!v && !required) return IOTKIT_OK;
  if (!v) return iotkit__edge_refuse(why, IOTKIT_ERR_INVALID_ARG, "required field missing", "%s/%s", at, key);
  if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
    return iotkit__edge_refuse(why, IOTKIT_ERR_INVALID_ARG, "must be a finite number", "%s/%s", at, key);
  if (v->valuedouble < lo || v->valuedouble > hi) {
    char msg[128];
    iotkit__fmt(msg, sizeof(msg), "out of range [%g, %g]", lo, hi);
    return iotkit__edge_refuse(why, IOTKIT_ERR_INVALID_ARG, msg, "%s/%s", at, key);
  }
  *out = v->valuedouble;
  return IOTKIT_OK;
}

/* As iotkit__edge_num, for a whole number. */
iotkit_err_t iotkit__edge_uint(edge_refusal *why, const cJSON *obj, const char *key, const char *at, uint64_t lo,
                               uint64_t hi, bool required, uint64_t *out) {
  double d = (double)*out;
  iotkit_err_t err = iotkit__edge_num(why, obj, key, at, (double)lo, (double)hi, required, &d);
  if (err != IOTKIT_OK) return err;
  if (d != floor(d)) return iotkit__edge_refuse(why, IOTKIT_ERR_INVALID_ARG, "must be a whole number", "%s/%s", at, key);
  *out = (uint64_t)d;
  return IOTKIT_OK;
}

/* The point names of docs/protocol.md: 1..128 of [A-Za-z0-9-:./_], starting with a letter or digit. */
bool iotkit__edge_name_ok(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > IOTKIT_TELEMETRY_MAX_NAME) return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || !strchr("-:./_", c))) return false;
  }
  return true;
}

uint32_t iotkit__edge_signal_find(const edge_plan *plan, const char *name) {
  for (uint32_t i = 0; i < plan->n_sigs; i++)
    if (strcmp(plan->sigs[i].name, name) == 0) return i;
  return UINT32_MAX;
}

static uint32_t hash(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

uint32_t iotkit__edge_stream_find(const edge_plan *plan, const char *metric) {
  if (!plan->table) {
    for (uint32_t i = 0; i < plan->n_streams; i++)
      if (strcmp(plan->streams[i].metric, metric) == 0) return i;
    return UINT32_MAX;
  }
  for (uint32_t i = hash(metric) & plan->table_mask;; i = (i + 1u) & plan->table_mask) {
    uint32_t e = plan->table[i];
    if (!e) return UINT32_MAX;
    if (strcmp(plan->streams[e - 1u].metric, metric) == 0) return e - 1u;
  }
}

static iotkit_err_t build_table(edge_plan *plan) {
  uint32_t size = 8;
  while (size < 2u * plan->n_streams) size *= 2u;
  plan->table = iotkit__edge_alloc(&plan->arena, size * sizeof(uint32_t));
  if (!plan->table) return IOTKIT_ERR_NOMEM;
  plan->table_mask = size - 1u;
  for (uint32_t s = 0; s < plan->n_streams; s++) {
    uint32_t i = hash(plan->streams[s].metric) & plan->table_mask;
    while (plan->table[i]) i = (i + 1u) & plan->table_mask;
    plan->table[i] = s + 1u;
  }
  return IOTKIT_OK;
}

/* A new signal named @p name for stream @p stream; refused if the name is taken. */
iotkit_err_t iotkit__edge_signal_add(edge_plan *plan, edge_refusal *why, const char *name, uint32_t stream,
                                     const char *at, uint32_t *out) {
  if (iotkit__edge_signal_find(plan, name) != UINT32_MAX)
    return iotkit__edge_refuse(why, IOTKIT_ERR_INVALID_ARG, "name already used by another metric or aggregate", "%s", at);
  edge_signal *g = &plan->sigs[plan->n_sigs];
  if (!(g->name = iotkit__edge_strdup(&plan->arena, name))) return IOTKIT_ERR_NOMEM;
  g->stream = stream;
  *out = plan->n_sigs++;
  return IOTKIT_OK;
}

/* A stream for @p metric with no processors (rules name metrics that need no filter). */
iotkit_err_t iotkit__edge_stream_add(edge_plan *plan, edge_refusal *why, const char *metric, const char *at,
                                     uint32_t *out) {
  edge_stream *s = &plan->streams[plan->n_streams];
  if (!(s->metric = iotkit__edge_strdup(&plan->arena, metric))) return IOTKIT_ERR_NOMEM;
  iotkit_err_t err = iotkit__edge_signal_add(plan, why, metric, plan->n_streams, at, &s->sig);
  if (err != IOTKIT_OK) return err;
  s->first_win = plan->n_wins;
  s->first_det = plan->n_dets;
  *out = plan->n_streams++;
  return IOTKIT_OK;
}

/* -------------------------------------------------------------- streams -- */

static iotkit_err_t compile_stream(edge_plan *plan, edge_refusal *why, const cJSON *js, uint32_t i,
                                   size_t max_bytes) {
  char at[64];
  iotkit__fmt(at, sizeof(at), "/streams/%u", (unsigned)i);
  if (!cJSON_IsObject(js)) return iotkit__edge_refuse(why, IOTKIT_ERR_INVALID_ARG, "must be an object", "%s", at);
  static const char *const keys[] = {"metric", "processors", NULL};
  iotkit_err_t err = iotkit__edge_keys(why, js, keys, at);
  if (err != IOTKIT_OK) return err;
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(js, "metric");
  if (!m) return iotkit__edge_refuse(why, IOTKIT_ERR_INVALID_ARG, "required field missing", "%s/metric", at);
  if (!cJSON_IsString(m) || !iotkit__edge_name_ok(m->valuestring))
    return iotkit__edge_refuse(why, IOTKIT_ERR_INVALID_ARG, "not a valid metric name", "%s/metric", at);
  char mat[80];
  iotkit__fmt(mat, sizeof(mat), "%s/metric", at);
  uint32_t si = 0;
  if ((err = iotkit__edge_stream_add(plan, why, m->valuestring, mat, &si)) != IOTKIT_OK) return err;
  const cJSON *procs = cJSON_GetObjectItemCaseSensitive(js, "processors");
  if (procs && !cJSON_IsArray(procs))
    return iotkit__edge_refuse(why, IOTKIT_ERR_INVALID_ARG, "must be an array", "%s/processors", at);
  uint32_t j = 0;
  for (const cJSON *p = procs ? procs->child : NULL; p; p = p->next, j++) {
    char pat[96];
    iotkit__fmt(pat, sizeof(pat), "%s/processors/%u", at, (unsigned)j);
    if ((err = iotkit__edge_compile_processor(plan, why, p, si, pat, max_bytes)) != IOTKIT_OK) return err;
  }
  edge_stream *s = &plan->streams[si];
  s->n_win = plan->n_wins - s->first_win;
  s->n_det = plan->n_dets - s->first_det;
  return IOTKIT_OK;
}

/* Upper bounds of what the document can need, to size the plan's arrays once. */
static size_t count_key(const cJSON *item, const char *key) {
  size_t n = 0;
  for (const cJSON *c = item ? item->child : NULL; c; c = c->next) {
    if (c->string && strcmp(c->string, key) == 0) n++;
    n += count_key(c, key);
  }
  return n;
}

static size_t count_items(const cJSON *item) {
  size_t n = 0;
  for (const cJSON *c = item ? item->child : NULL; c; c = c->next) n += 1u + count_items(c);
  return n;
}

static iotkit_err_t size_plan(edge_plan *plan, const cJSON *streams, const cJSON *rules) {
  size_t ns = (size_t)cJSON_GetArraySize(streams) + count_key(rules, "metric");
  size_t nproc = count_key(streams, "type");
  size_t nout = count_items(streams); /* every aggregate is an item of the document */
  size_t nrules = (size_t)cJSON_GetArraySize(rules), nconds = count_items(rules);
  edge_arena *a = &plan->arena;
  plan->streams = iotkit__edge_alloc(a, (ns + 1u) * sizeof(edge_stream));
  plan->sigs = iotkit__edge_alloc(a, (ns + nout + 1u) * sizeof(edge_signal));
  plan->wins = iotkit__edge_alloc(a, (nproc + 1u) * sizeof(edge_window));
  plan->dets = iotkit__edge_alloc(a, (nproc + 1u) * sizeof(edge_detector));
  plan->rules = iotkit__edge_alloc(a, (nrules + 1u) * sizeof(edge_rule));
  plan->conds = iotkit__edge_alloc(a, (nconds + 1u) * sizeof(edge_cond));
  bool ok = plan->streams && plan->sigs && plan->wins && plan->dets && plan->rules && plan->conds;
  return ok ? IOTKIT_OK : IOTKIT_ERR_NOMEM;
}

static iotkit_err_t compile_doc(edge_plan *plan, const cJSON *doc, size_t max_bytes, size_t max_actions,
                                edge_refusal *why) {
  if (!cJSON_IsObject(doc)) return iotkit__edge_refuse(why, IOTKIT_ERR_INVALID_ARG, "must be a JSON object", "%s", "");
  static const char *const keys[] = {"version", "description", "streams", "rules", NULL};
  iotkit_err_t err = iotkit__edge_keys(why, doc, keys, "");
  if (err != IOTKIT_OK) return err;
  double version = 1;
  if ((err = iotkit__edge_num(why, doc, "version", "", 1, 1, false, &version)) != IOTKIT_OK) return err;
  const cJSON *streams = cJSON_GetObjectItemCaseSensitive(doc, "streams");
  const cJSON *rules = cJSON_GetObjectItemCaseSensitive(doc, "rules");
  if (streams && !cJSON_IsArray(streams))
    return iotkit__edge_refuse(why, IOTKIT_ERR_INVALID_ARG, "must be an array", "%s", "/streams");
  if (rules && !cJSON_IsArray(rules))
    return iotkit__edge_refuse(why, IOTKIT_ERR_INVALID_ARG, "must be an array", "%s", "/rules");
  if ((err = size_plan(plan, streams, rules)) != IOTKIT_OK) return err;
  uint32_t i = 0;
  for (const cJSON *s = streams ? streams->child : NULL; s; s = s->next, i++)
    if ((err = compile_stream(plan, why, s, i, max_bytes)) != IOTKIT_OK) return err;
  if (rules && (err = iotkit__edge_compile_rules(plan, rules, why)) != IOTKIT_OK) return err;
  if ((err = build_table(plan)) != IOTKIT_OK) return err;
  plan->pend_cap = (uint32_t)max_actions;
  plan->pending = iotkit__edge_alloc(&plan->arena, max_actions * sizeof(edge_pending));
  return plan->pending ? IOTKIT_OK : IOTKIT_ERR_NOMEM;
}

iotkit_err_t iotkit__edge_compile(const char *json, size_t len, size_t max_bytes, size_t max_actions,
                                  edge_plan **out, edge_refusal *why) {
  memset(why, 0, sizeof(*why));
  cJSON *doc = iotkit__json_parse(json, len);
  if (!doc) return iotkit__edge_refuse(why, IOTKIT_ERR_BAD_ENCODING, "not a JSON document", "%s", "");
  edge_plan *plan = calloc(1, sizeof(*plan));
  iotkit_err_t err = plan ? compile_doc(plan, doc, max_bytes, max_actions, why) : IOTKIT_ERR_NOMEM;
  cJSON_Delete(doc);
  if (err == IOTKIT_ERR_NOMEM && !why->code) iotkit__edge_refuse(why, err, "out of memory", "%s", "");
  if (err != IOTKIT_OK) {
    iotkit__edge_plan_free(plan);
    return err;
  }
  *out = plan;
  return IOTKIT_OK;
}

void iotkit__edge_plan_free(edge_plan *plan) {
  if (!plan) return;
  iotkit__edge_arena_free(&plan->arena);
  free(plan);
}
