/* JSON helpers of the device model: strict parsing, merge patches (RFC 7396). */
#include "device/device_json.h"

#include <string.h>

#include "iotkit/error.h"

cJSON *iotkit__json_parse(const void *buf, size_t len) {
  if (!buf || len == 0 || memchr(buf, '\0', len)) return NULL;
  const char *end = NULL;
  cJSON *v = cJSON_ParseWithLengthOpts(buf, len, &end, false);
  if (!v) return NULL;
  /* cJSON stops after the value and any whitespace: anything else left is not JSON. */
  if (end != (const char *)buf + len) {
    cJSON_Delete(v);
    return NULL;
  }
  return v;
}

bool iotkit__json_merge(cJSON *target, const cJSON *patch) {
  for (const cJSON *p = patch->child; p; p = p->next) {
    cJSON *cur = cJSON_GetObjectItemCaseSensitive(target, p->string);
    if (cJSON_IsNull(p)) {
      if (cur) cJSON_DeleteItemFromObjectCaseSensitive(target, p->string);
      continue;
    }
    if (cJSON_IsObject(p) && cJSON_IsObject(cur)) {
      if (!iotkit__json_merge(cur, p)) return false;
      continue;
    }
    cJSON *copy;
    if (cJSON_IsObject(p)) {
      /* A patch object that replaces a non-object merges into an empty object: nulls vanish. */
      copy = cJSON_CreateObject();
      if (copy && !iotkit__json_merge(copy, p)) {
        cJSON_Delete(copy);
        copy = NULL;
      }
    } else {
      copy = cJSON_Duplicate(p, true);
    }
    if (!copy) return false;
    /* Replacing keeps the key where it was, so documents keep a stable order. */
    bool ok = cur ? cJSON_ReplaceItemInObjectCaseSensitive(target, p->string, copy)
                  : cJSON_AddItemToObject(target, p->string, copy);
    if (!ok) {
      cJSON_Delete(copy);
      return false;
    }
  }
  return true;
}

static bool add_copy(cJSON *obj, const char *key, const cJSON *v) {
  cJSON *copy = v ? cJSON_Duplicate(v, true) : cJSON_CreateNull();
  if (copy && cJSON_AddItemToObject(obj, key, copy)) return true;
  cJSON_Delete(copy);
  return false;
}

cJSON *iotkit__json_diff(const cJSON *from, const cJSON *to) {
  cJSON *d = cJSON_CreateObject();
  if (!d) return NULL;
  bool ok = true;
  for (const cJSON *t = to->child; t && ok; t = t->next) {
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(from, t->string);
    if (f && cJSON_Compare(f, t, true)) continue;
    if (f && cJSON_IsObject(f) && cJSON_IsObject(t)) {
      cJSON *sub = iotkit__json_diff(f, t);
      ok = sub && cJSON_AddItemToObject(d, t->string, sub);
      if (!ok) cJSON_Delete(sub);
    } else {
      ok = add_copy(d, t->string, t);
    }
  }
  for (const cJSON *f = from->child; f && ok; f = f->next) {
    if (!cJSON_GetObjectItemCaseSensitive(to, f->string)) ok = add_copy(d, f->string, NULL);
  }
  if (!ok) {
    cJSON_Delete(d);
    return NULL;
  }
  return d;
}

bool iotkit__json_uint(const cJSON *item, uint64_t *out) {
  if (!cJSON_IsNumber(item)) return false;
  double v = item->valuedouble;
  if (!(v >= 0.0 && v <= 9007199254740992.0) || v != (double)(uint64_t)v) return false;
  *out = (uint64_t)v;
  return true;
}

char *iotkit__json_print(const cJSON *item) { return cJSON_PrintUnformatted(item); }

int iotkit__json_from_api(const char *text, cJSON **out) {
  cJSON *v = text ? iotkit__json_parse(text, strlen(text)) : cJSON_CreateObject();
  if (!v) return text ? IOTKIT_ERR_BAD_ENCODING : IOTKIT_ERR_NOMEM;
  *out = v;
  return IOTKIT_OK;
}
