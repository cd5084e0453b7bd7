/* RFC 7396 JSON merge patches: apply and diff, on cJSON trees and on JSON text. */
#include <stdlib.h>
#include <string.h>

#include "iotkit/core.h"
#include "iotkit/protocol.h"
#include "protocol/json.h"

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

/* Parse NUL-terminated API text; *err says why on NULL. */
static cJSON *parse_text(const char *text, iotkit_err_t *err) {
  cJSON *v = iotkit__json_parse(text, strlen(text));
  if (!v) *err = IOTKIT_ERR_BAD_ENCODING;
  return v;
}

static iotkit_err_t give(cJSON *doc, char **out) {
  char *text = doc ? iotkit__json_print_malloc(doc) : NULL;
  cJSON_Delete(doc);
  if (!text) return IOTKIT_ERR_NOMEM;
  *out = text;
  return IOTKIT_OK;
}

iotkit_err_t iotkit_json_merge_patch(const char *target, const char *patch, char **out) {
  if (!patch || !out) return IOTKIT_ERR_INVALID_ARG;
  iotkit_err_t err = IOTKIT_ERR_NOMEM;
  cJSON *p = parse_text(patch, &err);
  cJSON *t = target ? parse_text(target, &err) : cJSON_CreateObject();
  if (!p || !t) {
    cJSON_Delete(p);
    cJSON_Delete(t);
    return err;
  }
  if (!cJSON_IsObject(p)) {
    cJSON_Delete(t);
    return give(p, out); /* a non-object patch is the result */
  }
  if (!cJSON_IsObject(t)) {
    cJSON_Delete(t);
    t = cJSON_CreateObject();
  }
  bool ok = t && iotkit__json_merge(t, p);
  cJSON_Delete(p);
  if (!ok) {
    cJSON_Delete(t);
    return IOTKIT_ERR_NOMEM;
  }
  return give(t, out);
}

iotkit_err_t iotkit_json_diff(const char *from, const char *to, char **patch) {
  if (!from || !to || !patch) return IOTKIT_ERR_INVALID_ARG;
  iotkit_err_t err = IOTKIT_ERR_NOMEM;
  cJSON *f = parse_text(from, &err);
  cJSON *t = f ? parse_text(to, &err) : NULL;
  if (!f || !t) {
    cJSON_Delete(f);
    return err;
  }
  cJSON *d;
  if (cJSON_IsObject(f) && cJSON_IsObject(t)) {
    d = iotkit__json_diff(f, t);
    cJSON_Delete(t);
  } else {
    d = t; /* replacing the whole document */
  }
  cJSON_Delete(f);
  return give(d, patch);
}
