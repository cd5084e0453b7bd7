/* Telemetry batches: typed points with copied strings and tags. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "telemetry/telemetry_internal.h"

bool iotkit__telemetry_name_ok(const char *s) {
  if (!s) return false;
  size_t n = strlen(s);
  if (n == 0 || n > IOTKIT_TELEMETRY_MAX_NAME) return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || !strchr("-:./_", c))) return false;
  }
  return true;
}

bool iotkit__telemetry_utf8_ok(const char *s, size_t len) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  while (i < len) {
    unsigned c = p[i];
    size_t more;
    unsigned min;
    if (c == 0) return false;
    if (c < 0x80) {
      i++;
      continue;
    }
    if (c >= 0xc2 && c <= 0xdf) {
      more = 1, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
      more = 2, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
      more = 3, min = 0x10000;
    } else {
      return false;
    }
    if (len - i <= more) return false;
    unsigned cp = c & (0x3fu >> more);
    for (size_t k = 1; k <= more; k++) {
      if ((p[i + k] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3fu);
    }
    /* Overlong forms, UTF-16 surrogates and code points beyond U+10FFFF are not UTF-8. */
    if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return false;
    i += more + 1;
  }
  return true;
}

/* OK, INVALID_ARG (NULL or bad UTF-8) or TOO_LARGE. */
static iotkit_err_t check_text(const char *s) {
  if (!s) return IOTKIT_ERR_INVALID_ARG;
  size_t n = strlen(s);
  if (n > IOTKIT_TELEMETRY_MAX_TEXT) return IOTKIT_ERR_TOO_LARGE;
  return iotkit__telemetry_utf8_ok(s, n) ? IOTKIT_OK : IOTKIT_ERR_INVALID_ARG;
}

static iotkit_err_t check_tag(const iotkit_telemetry_tag_t *t) {
  if (!t->key || !iotkit__is_safe_name(t->key, 64) || strcmp(t->key, ".") == 0 || strcmp(t->key, "..") == 0)
    return IOTKIT_ERR_INVALID_ARG;
  return check_text(t->value);
}

static iotkit_err_t check_point(const iotkit_telemetry_batch_t *b, const iotkit_telemetry_point_t *p) {
  if (!iotkit__telemetry_name_ok(p->name)) return IOTKIT_ERR_INVALID_ARG;
  if (p->unit) {
    iotkit_err_t rc = check_text(p->unit);
    if (rc != IOTKIT_OK) return rc;
  }
  if (p->ts_ms == IOTKIT_TELEMETRY_NOW && (!b->hal || !b->hal->wall_ms)) return IOTKIT_ERR_INVALID_ARG;
  switch (p->type) {
    case IOTKIT_TELEMETRY_DOUBLE:
      if (!isfinite(p->value.d)) return IOTKIT_ERR_INVALID_ARG;
      break;
    case IOTKIT_TELEMETRY_INT:
    case IOTKIT_TELEMETRY_BOOL:
      break;
    case IOTKIT_TELEMETRY_STRING: {
      iotkit_err_t rc = check_text(p->value.s);
      if (rc != IOTKIT_OK) return rc;
      break;
    }
    default:
      return IOTKIT_ERR_INVALID_ARG;
  }
  if (p->tag_count > 0 && !p->tags) return IOTKIT_ERR_INVALID_ARG;
  if (p->tag_count > IOTKIT_TELEMETRY_MAX_TAGS) return IOTKIT_ERR_TOO_LARGE;
  for (size_t i = 0; i < p->tag_count; i++) {
    iotkit_err_t rc = check_tag(&p->tags[i]);
    if (rc != IOTKIT_OK) return rc;
    for (size_t j = 0; j < i; j++)
      if (strcmp(p->tags[i].key, p->tags[j].key) == 0) return IOTKIT_ERR_INVALID_ARG;
  }
  if (b->count >= IOTKIT_TELEMETRY_MAX_POINTS) return IOTKIT_ERR_TOO_LARGE;
  return IOTKIT_OK;
}

static void free_tags(iotkit_telemetry_tag_t *tags, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free((char *)tags[i].key);
    free((char *)tags[i].value);
  }
  free(tags);
}

static void free_point(iotkit_telemetry_point_t *p) {
  free((char *)p->name);
  free((char *)p->unit);
  if (p->type == IOTKIT_TELEMETRY_STRING) free((char *)p->value.s);
  free_tags((iotkit_telemetry_tag_t *)p->tags, p->tag_count);
}

/* A deep copy of @src into @dst (NOMEM, and nothing to free, on failure). */
static iotkit_err_t copy_point(iotkit_telemetry_point_t *dst, const iotkit_telemetry_point_t *src) {
  iotkit_telemetry_point_t p = *src;
  p.name = iotkit__strdup(src->name);
  p.unit = iotkit__strdup(src->unit);
  if (src->type == IOTKIT_TELEMETRY_STRING) p.value.s = iotkit__strdup(src->value.s);
  p.tags = NULL;
  p.tag_count = 0;
  bool ok = p.name && (p.unit || !src->unit) && (src->type != IOTKIT_TELEMETRY_STRING || p.value.s);
  iotkit_telemetry_tag_t *tags = src->tag_count ? calloc(src->tag_count, sizeof(*tags)) : NULL;
  if (src->tag_count && !tags) ok = false;
  for (size_t i = 0; ok && i < src->tag_count; i++) {
    tags[i].key = iotkit__strdup(src->tags[i].key);
    tags[i].value = iotkit__strdup(src->tags[i].value);
    ok = tags[i].key && tags[i].value;
  }
  p.tags = tags;
  p.tag_count = tags ? src->tag_count : 0;
  if (!ok) {
    free_point(&p);
    return IOTKIT_ERR_NOMEM;
  }
  *dst = p;
  return IOTKIT_OK;
}

iotkit_err_t iotkit_telemetry_batch_new(const iotkit_hal_t *hal, iotkit_telemetry_batch_t **out) {
  if (!out || (hal && !hal->wall_ms)) return IOTKIT_ERR_INVALID_ARG;
  iotkit_telemetry_batch_t *b = calloc(1, sizeof(*b));
  if (!b) return IOTKIT_ERR_NOMEM;
  b->hal = hal;
  *out = b;
  return IOTKIT_OK;
}

void iotkit_telemetry_batch_free(iotkit_telemetry_batch_t *batch) {
  if (!batch) return;
  for (size_t i = 0; i < batch->count; i++) free_point(&batch->pts[i]);
  free(batch->pts);
  free(batch);
}

iotkit_err_t iotkit_telemetry_batch_add(iotkit_telemetry_batch_t *batch, const iotkit_telemetry_point_t *point) {
  if (!batch || !point) return IOTKIT_ERR_INVALID_ARG;
  iotkit_err_t rc = check_point(batch, point);
  if (rc != IOTKIT_OK) return rc;
  if (batch->count == batch->cap) {
    size_t cap = batch->cap ? batch->cap * 2 : 8;
    iotkit_telemetry_point_t *pts = realloc(batch->pts, cap * sizeof(*pts));
    if (!pts) return IOTKIT_ERR_NOMEM;
    batch->pts = pts;
    batch->cap = cap;
  }
  iotkit_telemetry_point_t *dst = &batch->pts[batch->count];
  rc = copy_point(dst, point);
  if (rc != IOTKIT_OK) return rc;
  if (dst->ts_ms == IOTKIT_TELEMETRY_NOW) dst->ts_ms = batch->hal->wall_ms(batch->hal->ctx);
  batch->count++;
  return IOTKIT_OK;
}

static iotkit_err_t add_simple(iotkit_telemetry_batch_t *b, const char *name, const char *unit, int64_t ts_ms,
                               iotkit_telemetry_point_t *p) {
  p->name = name;
  p->unit = unit;
  p->ts_ms = ts_ms;
  return iotkit_telemetry_batch_add(b, p);
}

iotkit_err_t iotkit_telemetry_batch_add_double(iotkit_telemetry_batch_t *batch, const char *name, const char *unit,
                                               int64_t ts_ms, double value) {
  iotkit_telemetry_point_t p = {.type = IOTKIT_TELEMETRY_DOUBLE, .value.d = value};
  return add_simple(batch, name, unit, ts_ms, &p);
}

iotkit_err_t iotkit_telemetry_batch_add_int(iotkit_telemetry_batch_t *batch, const char *name, const char *unit,
                                            int64_t ts_ms, int64_t value) {
  iotkit_telemetry_point_t p = {.type = IOTKIT_TELEMETRY_INT, .value.i = value};
  return add_simple(batch, name, unit, ts_ms, &p);
}

iotkit_err_t iotkit_telemetry_batch_add_bool(iotkit_telemetry_batch_t *batch, const char *name, const char *unit,
                                             int64_t ts_ms, bool value) {
  iotkit_telemetry_point_t p = {.type = IOTKIT_TELEMETRY_BOOL, .value.b = value};
  return add_simple(batch, name, unit, ts_ms, &p);
}

iotkit_err_t iotkit_telemetry_batch_add_string(iotkit_telemetry_batch_t *batch, const char *name, const char *unit,
                                               int64_t ts_ms, const char *value) {
  iotkit_telemetry_point_t p = {.type = IOTKIT_TELEMETRY_STRING, .value.s = value};
  return add_simple(batch, name, unit, ts_ms, &p);
}

iotkit_err_t iotkit_telemetry_batch_tag(iotkit_telemetry_batch_t *batch, const char *key, const char *value) {
  if (!batch) return IOTKIT_ERR_INVALID_ARG;
  iotkit_telemetry_tag_t tag = {key, value};
  iotkit_err_t rc = check_tag(&tag);
  if (rc != IOTKIT_OK) return rc;
  if (batch->count == 0) return IOTKIT_ERR_STATE;
  iotkit_telemetry_point_t *p = &batch->pts[batch->count - 1];
  for (size_t i = 0; i < p->tag_count; i++)
    if (strcmp(p->tags[i].key, key) == 0) return IOTKIT_ERR_INVALID_ARG;
  if (p->tag_count >= IOTKIT_TELEMETRY_MAX_TAGS) return IOTKIT_ERR_TOO_LARGE;
  char *k = iotkit__strdup(key), *v = iotkit__strdup(value);
  iotkit_telemetry_tag_t *tags = k && v ? realloc((void *)p->tags, (p->tag_count + 1) * sizeof(*tags)) : NULL;
  if (!tags) {
    free(k);
    free(v);
    return IOTKIT_ERR_NOMEM;
  }
  tags[p->tag_count].key = k;
  tags[p->tag_count].value = v;
  p->tags = tags;
  p->tag_count++;
  return IOTKIT_OK;
}

size_t iotkit_telemetry_batch_count(const iotkit_telemetry_batch_t *batch) { return batch ? batch->count : 0; }

iotkit_err_t iotkit_telemetry_batch_get(const iotkit_telemetry_batch_t *batch, size_t index,
                                        const iotkit_telemetry_point_t **point) {
  if (!batch || !point) return IOTKIT_ERR_INVALID_ARG;
  if (index >= batch->count) return IOTKIT_ERR_NOT_FOUND;
  *point = &batch->pts[index];
  return IOTKIT_OK;
}

iotkit_err_t iotkit_telemetry_batch_set_seq(iotkit_telemetry_batch_t *batch, uint64_t seq) {
  if (!batch || seq > IOTKIT__TELEMETRY_MAX_SEQ) return IOTKIT_ERR_INVALID_ARG;
  batch->seq = seq;
  return IOTKIT_OK;
}

uint64_t iotkit_telemetry_batch_seq(const iotkit_telemetry_batch_t *batch) { return batch ? batch->seq : 0; }
