/* SenML JSON (RFC 8428 section 5). */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "telemetry/telemetry_internal.h"

/* ----------------------------------------------------------- encoding -- */

static bool add_raw_int(cJSON *o, const char *key, int64_t v) {
  char text[32];
  snprintf(text, sizeof(text), "%" PRId64, v);
  return cJSON_AddRawToObject(o, key, text) != NULL;
}

static bool add_record(cJSON *arr, const iotkit_telemetry_batch_t *b, size_t i) {
  const iotkit_telemetry_point_t *p = &b->pts[i];
  int64_t base = b->pts[0].ts_ms;
  cJSON *o = cJSON_CreateObject();
  if (!o || !cJSON_AddItemToArray(arr, o)) {
    cJSON_Delete(o);
    return false;
  }
  bool ok = true;
  if (i == 0 && base != 0) ok = iotkit__telemetry_json_add_double(o, "bt", iotkit__senml_seconds(base));
  if (ok && i == 0 && b->seq) ok = add_raw_int(o, "seq", (int64_t)b->seq);
  if (ok) ok = cJSON_AddStringToObject(o, "n", p->name) != NULL;
  if (ok && p->unit) ok = cJSON_AddStringToObject(o, "u", p->unit) != NULL;
  if (ok && p->ts_ms != base)
    ok = iotkit__telemetry_json_add_double(o, "t", ((double)p->ts_ms - (double)base) / 1000.0);
  if (ok) {
    if (p->type == IOTKIT_TELEMETRY_DOUBLE) {
      ok = iotkit__telemetry_json_add_double(o, "v", p->value.d);
    } else if (p->type == IOTKIT_TELEMETRY_INT) {
      ok = add_raw_int(o, "v", p->value.i);
    } else if (p->type == IOTKIT_TELEMETRY_BOOL) {
      ok = cJSON_AddBoolToObject(o, "vb", p->value.b) != NULL;
    } else {
      ok = cJSON_AddStringToObject(o, "vs", p->value.s) != NULL;
    }
  }
  return ok && iotkit__telemetry_json_add_tags(o, p);
}

iotkit_err_t iotkit__telemetry_senml_json_encode(const iotkit_telemetry_batch_t *b, uint8_t **out, size_t *len) {
  cJSON *arr = cJSON_CreateArray();
  bool ok = arr != NULL;
  for (size_t i = 0; ok && i < b->count; i++) ok = add_record(arr, b, i);
  iotkit_err_t rc = ok ? iotkit__telemetry_json_print(arr, out, len) : IOTKIT_ERR_NOMEM;
  cJSON_Delete(arr);
  return rc;
}

/* ----------------------------------------------------------- decoding -- */

static iotkit_err_t read_field(const cJSON *f, iotkit__senml_base_t *base, iotkit__senml_record_t *r,
                               iotkit_telemetry_tag_t *tags) {
  if (strcmp(f->string, "tags") == 0) {
    r->tags = tags;
    return iotkit__telemetry_json_read_tags(f, tags, &r->tag_count);
  }
  iotkit__senml_value_t v = {.kind = IOTKIT__SV_OTHER};
  if (cJSON_IsString(f)) {
    v.kind = IOTKIT__SV_STR;
    v.s = f->valuestring;
  } else if (cJSON_IsNumber(f)) {
    v.kind = IOTKIT__SV_NUM;
    v.d = f->valuedouble;
  } else if (cJSON_IsBool(f)) {
    v.kind = IOTKIT__SV_BOOL;
    v.b = cJSON_IsTrue(f);
  }
  return iotkit__senml_field(f->string, &v, base, r);
}

iotkit_err_t iotkit__telemetry_senml_json_decode(const char *buf, size_t len, iotkit_telemetry_batch_t *b) {
  cJSON *root = iotkit__telemetry_json_parse(buf, len);
  if (!root) return IOTKIT_ERR_BAD_ENCODING;
  iotkit_err_t rc = cJSON_IsArray(root) ? IOTKIT_OK : IOTKIT_ERR_BAD_ENCODING;
  iotkit__senml_base_t base = {0};
  const cJSON *rec;
  cJSON_ArrayForEach(rec, root) {
    if (rc != IOTKIT_OK) break;
    if (!cJSON_IsObject(rec)) {
      rc = IOTKIT_ERR_BAD_ENCODING;
      break;
    }
    iotkit__senml_record_t r = {0};
    iotkit_telemetry_tag_t tags[IOTKIT_TELEMETRY_MAX_TAGS];
    const cJSON *f;
    cJSON_ArrayForEach(f, rec) {
      rc = read_field(f, &base, &r, tags);
      if (rc != IOTKIT_OK) break;
    }
    if (rc == IOTKIT_OK) rc = iotkit__senml_resolve_add(&base, &r, b);
  }
  iotkit__senml_base_free(&base);
  cJSON_Delete(root);
  return rc;
}
