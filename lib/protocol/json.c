/* JSON helpers: strict parsing, printing into malloc'd memory. */
#include "protocol/json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "iotkit/error.h"

static int by_name(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* True if no two members of object @p o share a name (sorted, so O(n log n) for a
   payload-sized object). cJSON keeps both and finds the first, while a merge applies
   them in order so the last wins: two readers of one document would disagree. */
static bool unique_names(const cJSON *o) {
  size_t n = 0;
  for (const cJSON *c = o->child; c; c = c->next) n++;
  if (n < 2) return true;
  const char **names = malloc(n * sizeof *names);
  if (!names) return false;
  size_t i = 0;
  for (const cJSON *c = o->child; c; c = c->next) names[i++] = c->string ? c->string : "";
  qsort(names, n, sizeof *names, by_name);
  bool ok = true;
  for (i = 1; ok && i < n; i++) ok = strcmp(names[i - 1], names[i]) != 0;
  free(names);
  return ok;
}

/* What cJSON accepts but JSON documents of the protocol may not hold: a number beyond
   the double range (1e999: cJSON reads infinity and prints null, which in a merge patch
   deletes the member) and an object with a name twice. The recursion is bounded by
   cJSON's nesting limit (CJSON_NESTING_LIMIT). */
static bool well_formed(const cJSON *v) {
  for (; v; v = v->next) {
    if (cJSON_IsNumber(v) && !isfinite(v->valuedouble)) return false;
    if (cJSON_IsObject(v) && !unique_names(v)) return false;
    if (v->child && !well_formed(v->child)) return false;
  }
  return true;
}

cJSON *iotkit__json_parse(const void *buf, size_t len) {
  if (!buf || len == 0 || memchr(buf, '\0', len)) return NULL;
  const char *end = NULL;
  cJSON *v = cJSON_ParseWithLengthOpts(buf, len, &end, false);
  if (!v) return NULL;
  /* cJSON stops right after the value: trailing JSON whitespace is allowed, anything else is not JSON. */
  const char *stop = (const char *)buf + len;
  while (end < stop && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')) end++;
  if (end != stop || !well_formed(v)) {
    cJSON_Delete(v);
    return NULL;
  }
  return v;
}

bool iotkit__json_uint(const cJSON *item, uint64_t *out) {
  if (!cJSON_IsNumber(item)) return false;
  double v = item->valuedouble;
  if (!(v >= 0.0 && v <= 9007199254740992.0) || v != (double)(uint64_t)v) return false;
  *out = (uint64_t)v;
  return true;
}

char *iotkit__json_print(const cJSON *item) { return cJSON_PrintUnformatted(item); }

char *iotkit__json_print_malloc(const cJSON *item) { return iotkit__json_wrap("", item, ""); }

char *iotkit__json_wrap(const char *head, const cJSON *value, const char *tail) {
  char *v = cJSON_PrintUnformatted(value);
  if (!v) return NULL;
  size_t a = strlen(head), b = strlen(v), c = strlen(tail);
  char *out = malloc(a + b + c + 1);
  if (out) {
    memcpy(out, head, a);
    memcpy(out + a, v, b);
    memcpy(out + a + b, tail, c + 1);
  }
  cJSON_free(v);
  return out;
}

int iotkit__json_from_api(const char *text, cJSON **out) {
  cJSON *v = text ? iotkit__json_parse(text, strlen(text)) : cJSON_CreateObject();
  if (!v) return text ? IOTKIT_ERR_BAD_ENCODING : IOTKIT_ERR_NOMEM;
  *out = v;
  return IOTKIT_OK;
}
