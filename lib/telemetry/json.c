/* libiotkit's own JSON form of a batch (docs/protocol.md, "Telemetry encodings"). */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "telemetry/telemetry_internal.h"

#define JSON_VERSION 1
#define EXACT_LIMIT 9007199254740992.0 /* 2^53: JSON numbers above it are not exact in a double */
#define EXACT_INT (INT64_C(1) << 53)

/* Integers within +-2^53 are written as numbers, others as decimal strings, so that every int64 is exact. */
static bool add_int(cJSON *obj, const char *key, int64_t v) {
  char text[32];
  snprintf(text, sizeof(text), "%" PRId64, v);
  bool exact = v <= EXACT_INT && v >= -EXACT_INT;
  return (exact ? cJSON_AddRawToObject(obj, key, text) : cJSON_AddStringToObject(obj, key, text)) != NULL;
}

static bool parse_decimal(const char *s, int64_t *out) {
  bool neg = *s == '-';
  if (neg) s++;
  if (!*s || strlen(s) > 19) return false;
  uint64_t v = 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return false;
    uint64_t d = (uint64_t)(*s - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  if (v > (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX)) return false;
  *out = neg ? (int64_t)(0 - v) : (int64_t)v;
  return true;
}

static bool get_int(const cJSON *item, int64_t *out) {
  if (cJSON_IsString(item)) return parse_decimal(item->valuestring, out);
  if (!cJSON_IsNumber(item)) return false;
  double d = item->valuedouble;
  if (!(d >= -EXACT_LIMIT && d <= EXACT_LIMIT) || d != (double)(int64_t)d) return false;
  *out = (int64_t)d;
  return true;
}

static bool add_point(cJSON *arr, const iotkit_telemetry_point_t *p) {
  cJSON *o = cJSON_CreateObject();
  if (!o || !cJSON_AddItemToArray(arr, o)) {
    cJSON_Delete(o);
    return false;
  }
  bool ok = cJSON_AddStringToObject(o, "n", p->name) != NULL;
  if (ok && p->unit) ok = cJSON_AddStringToObject(o, "u", p->unit) != NULL;
  if (ok && p->ts_ms != 0) ok = add_int(o, "ts", p->ts_ms);
  if (ok) {
    switch (p->type) {
      case IOTKIT_TELEMETRY_DOUBLE:
        ok = iotkit__telemetry_json_add_double(o, "d", p->value.d);
        break;
      case IOTKIT_TELEMETRY_INT:
        ok = add_int(o, "i", p->value.i);
        break;
      case IOTKIT_TELEMETRY_BOOL:
        ok = cJSON_AddBoolToObject(o, "b", p->value.b) != NULL;
        break;
      default:
        ok = cJSON_AddStringToObject(o, "s", p->value.s) != NULL;
        break;
    }
  }
  return ok && iotkit__telemetry_json_add_tags(o, p);
}

iotkit_err_t iotkit__telemetry_json_encode(const iotkit_telemetry_batch_t *b, uint8_t **out, size_t *len) {
  cJSON *root = cJSON_CreateObject();
  bool ok = root && cJSON_AddNumberToObject(root, "ver", JSON_VERSION);
  if (ok && b->seq) ok = add_int(root, "seq", (int64_t)b->seq);
  cJSON *arr = ok ? cJSON_AddArrayToObject(root, "points") : NULL;
  ok = arr != NULL;
  for (size_t i = 0; ok && i < b->count; i++) ok = add_point(arr, &b->pts[i]);
  iotkit_err_t rc = ok ? iotkit__telemetry_json_print(root, out, len) : IOTKIT_ERR_NOMEM;
  cJSON_Delete(root);
  return rc;
}

/* The one value member of a point; BAD_ENCODING if there is none, more than one, or a wrong type. */
static iotkit_err_t read_value(const cJSON *o, iotkit_telemetry_point_t *p) {
  static const char *const keys[] = {"d", "i", "b", "s"};
  int found = -1;
  for (int k = 0; k < 4; k++) {
    if (!cJSON_GetObjectItemCaseSensitive(o, keys[k])) continue;
    if (found >= 0) return IOTKIT_ERR_BAD_ENCODING;
    found = k;
  }
  const cJSON *v = found >= 0 ? cJSON_GetObjectItemCaseSensitive(o, keys[found]) : NULL;
  switch (found) {
    case 0:
      if (!cJSON_IsNumber(v)) return IOTKIT_ERR_BAD_ENCODING;
      p->type = IOTKIT_TELEMETRY_DOUBLE;
      p->value.d = v->valuedouble;
      return IOTKIT_OK;
    case 1:
      p->type = IOTKIT_TELEMETRY_INT;
      return get_int(v, &p->value.i) ? IOTKIT_OK : IOTKIT_ERR_BAD_ENCODING;
    case 2:
      if (!cJSON_IsBool(v)) return IOTKIT_ERR_BAD_ENCODING;
      p->type = IOTKIT_TELEMETRY_BOOL;
      p->value.b = cJSON_IsTrue(v);
      return IOTKIT_OK;
    case 3:
      if (!cJSON_IsString(v)) return IOTKIT_ERR_BAD_ENCODING;
      p->type = IOTKIT_TELEMETRY_STRING;
      p->value.s = v->valuestring;
      return IOTKIT_OK;
    default:
      return IOTKIT_ERR_BAD_ENCODING;
  }
}

static iotkit_err_t read_point(const cJSON *o, iotkit_telemetry_batch_t *b) {
  if (!cJSON_IsObject(o)) return IOTKIT_ERR_BAD_ENCODING;
  iotkit_telemetry_point_t p = {0};
  iotkit_telemetry_tag_t tags[IOTKIT_TELEMETRY_MAX_TAGS];
  const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, "n");
  const cJSON *u = cJSON_GetObjectItemCaseSensitive(o, "u");
  const cJSON *ts = cJSON_GetObjectItemCaseSensitive(o, "ts");
  const cJSON *tg = cJSON_GetObjectItemCaseSensitive(o, "tags");
  if (!cJSON_IsString(n) || (u && !cJSON_IsString(u))) return IOTKIT_ERR_BAD_ENCODING;
  if (ts && !get_int(ts, &p.ts_ms)) return IOTKIT_ERR_BAD_ENCODING;
  if (p.ts_ms == IOTKIT_TELEMETRY_NOW) return IOTKIT_ERR_BAD_ENCODING;
  p.name = n->valuestring;
  p.unit = u ? u->valuestring : NULL;
  iotkit_err_t rc = read_value(o, &p);
  if (rc != IOTKIT_OK) return rc;
  if (tg) {
    rc = iotkit__telemetry_json_read_tags(tg, tags, &p.tag_count);
    if (rc != IOTKIT_OK) return rc;
    p.tags = tags;
  }
  return iotkit__telemetry_decode_err(iotkit_telemetry_batch_add(b, &p));
}

iotkit_err_t iotkit__telemetry_json_decode_tree(const cJSON *root, iotkit_telemetry_batch_t *b) {
  iotkit_err_t rc = IOTKIT_OK;
  const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "ver");
  const cJSON *seq = cJSON_GetObjectItemCaseSensitive(root, "seq");
  const cJSON *pts = cJSON_GetObjectItemCaseSensitive(root, "points");
  int64_t v = 0, s = 0;
  if (!cJSON_IsObject(root) || !ver || !get_int(ver, &v) || !cJSON_IsArray(pts) || (seq && !get_int(seq, &s)) ||
      s < 0 || (uint64_t)s > IOTKIT__TELEMETRY_MAX_SEQ) {
    rc = IOTKIT_ERR_BAD_ENCODING;
  } else if (v != JSON_VERSION) {
    rc = IOTKIT_ERR_UNSUPPORTED;
  } else if ((size_t)cJSON_GetArraySize(pts) > IOTKIT_TELEMETRY_MAX_POINTS) {
    rc = IOTKIT_ERR_TOO_LARGE;
  } else {
    b->seq = (uint64_t)s;
    const cJSON *p;
    cJSON_ArrayForEach(p, pts) {
      rc = read_point(p, b);
      if (rc != IOTKIT_OK) break;
    }
  }
  return rc;
}

iotkit_err_t iotkit__telemetry_json_decode(const char *buf, size_t len, iotkit_telemetry_batch_t *b) {
  cJSON *root = iotkit__telemetry_json_parse(buf, len);
  if (!root) return IOTKIT_ERR_BAD_ENCODING;
  iotkit_err_t rc = iotkit__telemetry_json_decode_tree(root, b);
  cJSON_Delete(root);
  return rc;
}
