/* Output of `iotkit fleet ...`: times, values, JSON pieces and the human table. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fleet_cli.h"

const char *fleet_cli_time(int64_t ms, char *buf, size_t cap) {
  if (ms <= 0) {
    snprintf(buf, cap, "never");
    return buf;
  }
  time_t s = (time_t)(ms / 1000);
  struct tm tm;
  if (!gmtime_r(&s, &tm)) {
    snprintf(buf, cap, "%" PRId64, ms);
    return buf;
  }
  snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
           tm.tm_min, tm.tm_sec, (int)(ms % 1000));
  return buf;
}

const char *fleet_cli_value(const iotkit_telemetry_point_t *p, char *buf, size_t cap) {
  switch (p->type) {
  case IOTKIT_TELEMETRY_DOUBLE: snprintf(buf, cap, "%.15g", p->value.d); break;
  case IOTKIT_TELEMETRY_INT: snprintf(buf, cap, "%" PRId64, p->value.i); break;
  case IOTKIT_TELEMETRY_BOOL: snprintf(buf, cap, "%s", p->value.b ? "true" : "false"); break;
  default: snprintf(buf, cap, "%s", p->value.s ? p->value.s : ""); break;
  }
  return buf;
}

void fleet_cli_values(const iotkit_telemetry_batch_t *b, char *buf, size_t cap) {
  size_t used = 0;
  buf[0] = '\0';
  size_t n = b ? iotkit_telemetry_batch_count(b) : 0;
  for (size_t i = 0; i < n && used + 1 < cap; i++) {
    const iotkit_telemetry_point_t *pp = NULL;
    if (iotkit_telemetry_batch_get(b, i, &pp) != IOTKIT_OK) continue;
    iotkit_telemetry_point_t p = *pp;
    char v[128];
    int w = snprintf(buf + used, cap - used, "%s%s=%s%s%s", used ? " " : "", p.name, fleet_cli_value(&p, v, sizeof v),
                     p.unit ? " " : "", p.unit ? p.unit : "");
    if (w < 0) break;
    used += (size_t)w < cap - used ? (size_t)w : cap - used - 1;
  }
}

void fleet_cli_join_tags(const iotkit_fleet_device_t *d, char *buf, size_t cap) {
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < d->tag_count && used + 1 < cap; i++) {
    int w = snprintf(buf + used, cap - used, "%s%s", i ? "," : "", d->tags[i]);
    if (w < 0) break;
    used += (size_t)w < cap - used ? (size_t)w : cap - used - 1;
  }
}

/* -------------------------------------------------------------- JSON -- */

/* cJSON prints a double with 15 digits when that reads back within an epsilon, which can
   change its last bit (48.870000000000005 becomes 48.87): write the shortest text that reads
   back exactly instead. */
cJSON *fleet_cli_number(double v) {
  if (!isfinite(v)) return cJSON_CreateNull();
  char buf[40];
  for (int digits = 15; digits <= 17; digits++) {
    snprintf(buf, sizeof buf, "%.*g", digits, v);
    if (strtod(buf, NULL) == v) break;
  }
  return cJSON_CreateRaw(buf);
}

cJSON *fleet_cli_add_number(cJSON *o, const char *name, double v) {
  cJSON *n = fleet_cli_number(v);
  if (n && cJSON_AddItemToObject(o, name, n)) return n;
  cJSON_Delete(n);
  return NULL;
}

cJSON *fleet_cli_device_json(const iotkit_fleet_device_t *d) {
  cJSON *o = cJSON_CreateObject();
  cJSON *tags = NULL;
  bool ok = o && cJSON_AddStringToObject(o, "id", d->id) && cJSON_AddStringToObject(o, "name", d->name) &&
            cJSON_AddStringToObject(o, "type", d->type) && (tags = cJSON_AddArrayToObject(o, "tags")) != NULL &&
            /* Stored as given and checked to be one JSON object when it was: kept byte for byte. */
            cJSON_AddRawToObject(o, "attributes", d->attributes) &&
            fleet_cli_add_number(o, "created_ms", (double)d->created_ms) &&
            fleet_cli_add_number(o, "updated_ms", (double)d->updated_ms) &&
            fleet_cli_add_number(o, "last_seen_ms", (double)d->last_seen_ms) &&
            cJSON_AddBoolToObject(o, "online", d->online);
  for (size_t i = 0; ok && i < d->tag_count; i++) {
    cJSON *t = cJSON_CreateString(d->tags[i]);
    ok = t && cJSON_AddItemToArray(tags, t);
  }
  if (ok) return o;
  cJSON_Delete(o);
  return NULL;
}

cJSON *fleet_cli_location_json(const iotkit_location_t *loc) {
  cJSON *o = cJSON_CreateObject();
  bool ok = o && fleet_cli_add_number(o, "lat", loc->latitude) && fleet_cli_add_number(o, "lon", loc->longitude) &&
            (!loc->has_altitude || fleet_cli_add_number(o, "alt", loc->altitude)) &&
            (!loc->has_accuracy || fleet_cli_add_number(o, "acc", loc->accuracy_m)) &&
            fleet_cli_add_number(o, "ts_ms", (double)loc->ts_ms);
  if (ok) return o;
  cJSON_Delete(o);
  return NULL;
}

static cJSON *point_value_json(const iotkit_telemetry_point_t *p) {
  switch (p->type) {
  case IOTKIT_TELEMETRY_DOUBLE: return fleet_cli_number(p->value.d);
  case IOTKIT_TELEMETRY_INT: return fleet_cli_number((double)p->value.i);
  case IOTKIT_TELEMETRY_BOOL: return cJSON_CreateBool(p->value.b);
  default: return cJSON_CreateString(p->value.s ? p->value.s : "");
  }
}

cJSON *fleet_cli_points_json(const iotkit_telemetry_batch_t *b) {
  cJSON *a = cJSON_CreateArray();
  size_t n = b ? iotkit_telemetry_batch_count(b) : 0;
  for (size_t i = 0; a && i < n; i++) {
    const iotkit_telemetry_point_t *pp = NULL;
    if (iotkit_telemetry_batch_get(b, i, &pp) != IOTKIT_OK) continue;
    iotkit_telemetry_point_t p = *pp;
    cJSON *o = cJSON_CreateObject();
    cJSON *v = point_value_json(&p);
    bool ok = o && v && cJSON_AddStringToObject(o, "name", p.name) && cJSON_AddItemToObject(o, "value", v);
    if (!ok) cJSON_Delete(v);
    ok = ok && (p.unit ? cJSON_AddStringToObject(o, "unit", p.unit) != NULL : cJSON_AddNullToObject(o, "unit") != NULL) &&
         fleet_cli_add_number(o, "ts_ms", (double)p.ts_ms) && cJSON_AddItemToArray(a, o);
    if (!ok) {
      cJSON_Delete(o);
      cJSON_Delete(a);
      return NULL;
    }
  }
  return a;
}

int fleet_cli_print_json(cJSON *o) {
  char *text = o ? cJSON_PrintUnformatted(o) : NULL;
  cJSON_Delete(o);
  if (!text) {
    fprintf(stderr, "iotkit: out of memory\n");
    return CLI_EXIT_USAGE;
  }
  puts(text);
  cJSON_free(text);
  return CLI_EXIT_OK;
}

/* ------------------------------------------------------------- table -- */

void fleet_table_init(fleet_table_t *t, size_t cols, const char *const *header) {
  memset(t, 0, sizeof *t);
  t->cols = cols < FLEET_TABLE_MAX_COLS ? cols : FLEET_TABLE_MAX_COLS;
  fleet_table_row(t, header);
}

void fleet_cli_sanitize(char *s) {
  for (char *p = s; p && *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
}

static char *cell_copy(const char *s) {
  char *c = strdup(s ? s : "");
  fleet_cli_sanitize(c);
  return c;
}

/* Display width of UTF-8 text: its code points (continuation bytes do not count). */
static size_t text_width(const char *s) {
  size_t w = 0;
  for (; *s; s++) w += ((unsigned char)*s & 0xc0) != 0x80;
  return w;
}

void fleet_table_row(fleet_table_t *t, const char *const *cells) {
  if (t->rows == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 16;
    char **more = realloc(t->cells, cap * t->cols * sizeof *more);
    if (!more) return;
    t->cells = more;
    t->cap = cap;
  }
  for (size_t i = 0; i < t->cols; i++) {
    char *c = cell_copy(cells[i]);
    t->cells[t->rows * t->cols + i] = c;
    size_t w = c ? text_width(c) : 0;
    if (w > t->width[i]) t->width[i] = w;
  }
  t->rows++;
}

void fleet_table_print_fit(const fleet_table_t *t, const char *eol, size_t max_rows, size_t max_width) {
  size_t n = max_rows && max_rows < t->rows ? max_rows : t->rows;
  for (size_t r = 0; r < n; r++) {
    size_t width = 0; /* code points written on this line */
    for (size_t i = 0; i < t->cols; i++) {
      const char *c = t->cells[r * t->cols + i] ? t->cells[r * t->cols + i] : "";
      size_t pad = i + 1 == t->cols ? 0 : t->width[i] + 2 - text_width(c);
      for (const char *p = c; *p; p++) {
        bool starts = ((unsigned char)*p & 0xc0) != 0x80;
        if (starts && max_width && width >= max_width) break;
        width += starts;
        putchar(*p);
      }
      for (; pad > 0 && (!max_width || width < max_width); pad--, width++) putchar(' ');
    }
    fputs(eol, stdout);
  }
}

void fleet_table_print(const fleet_table_t *t, const char *eol, size_t max_rows) {
  fleet_table_print_fit(t, eol, max_rows, 0);
}

void fleet_table_free(fleet_table_t *t) {
  for (size_t i = 0; i < t->rows * t->cols; i++) free(t->cells[i]);
  free(t->cells);
  memset(t, 0, sizeof *t);
}
