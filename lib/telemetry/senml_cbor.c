/* SenML CBOR (RFC 8428 section 6) on libcbor: integer labels, definite arrays and maps. */
#include <cbor.h>
#include <stdlib.h>
#include <string.h>

#include "telemetry/telemetry_internal.h"

/* CBOR labels of RFC 8428 table 4, and the JSON labels they stand for. */
static const struct {
  int label;
  const char *name;
} g_labels[] = {
    {-1, "bver"}, {-2, "bn"}, {-3, "bt"}, {-4, "bu"}, {-5, "bv"}, {-6, "bs"}, {0, "n"}, {1, "u"},
    {2, "v"},     {3, "vs"},  {4, "vb"},  {5, "s"},   {6, "t"},   {7, "ut"},  {8, "vd"},
};

enum { L_BT = -3, L_N = 0, L_U = 1, L_V = 2, L_VS = 3, L_VB = 4, L_T = 6 };

/* -------------------------------------------------------------- encode -- */

static cbor_item_t *label(int l) {
  return l >= 0 ? cbor_build_uint8((uint8_t)l) : cbor_build_negint8((uint8_t)(-1 - l));
}

/* The shortest head for @n, as deterministic CBOR wants (RFC 8949 section 4.2.1). */
static cbor_item_t *build_head(uint64_t n, bool neg) {
  if (n <= UINT8_MAX) return neg ? cbor_build_negint8((uint8_t)n) : cbor_build_uint8((uint8_t)n);
  if (n <= UINT16_MAX) return neg ? cbor_build_negint16((uint16_t)n) : cbor_build_uint16((uint16_t)n);
  if (n <= UINT32_MAX) return neg ? cbor_build_negint32((uint32_t)n) : cbor_build_uint32((uint32_t)n);
  return neg ? cbor_build_negint64(n) : cbor_build_uint64(n);
}

static cbor_item_t *build_int(int64_t v) {
  return v >= 0 ? build_head((uint64_t)v, false) : build_head((uint64_t)(-(v + 1)), true);
}

/* The smallest float that holds @d exactly (RFC 8428: the value must convert back unchanged). */
static cbor_item_t *build_number(double d) {
  float f = (float)d;
  return (double)f == d ? cbor_build_float4(f) : cbor_build_float8(d);
}

/* Add k: v to @map, taking both items (NULL items mean an allocation failed). */
static bool put(cbor_item_t *map, cbor_item_t *k, cbor_item_t *v) {
  bool ok = k && v && cbor_map_add(map, (struct cbor_pair){.key = k, .value = v});
  if (k) cbor_decref(&k);
  if (v) cbor_decref(&v);
  return ok;
}

static cbor_item_t *build_tags(const iotkit_telemetry_point_t *p) {
  cbor_item_t *m = cbor_new_definite_map(p->tag_count);
  bool ok = m != NULL;
  for (size_t i = 0; ok && i < p->tag_count; i++)
    ok = put(m, cbor_build_string(p->tags[i].key), cbor_build_string(p->tags[i].value));
  if (!ok && m) cbor_decref(&m);
  return m;
}

static cbor_item_t *build_record(const iotkit_telemetry_batch_t *b, size_t i) {
  const iotkit_telemetry_point_t *p = &b->pts[i];
  int64_t base = b->pts[0].ts_ms;
  bool bt = i == 0 && base != 0, seq = i == 0 && b->seq, t = p->ts_ms != base;
  size_t fields = 2 + bt + seq + t + (p->unit != NULL) + (p->tag_count > 0);
  cbor_item_t *m = cbor_new_definite_map(fields);
  if (!m) return NULL;
  bool ok = true;
  if (bt) ok = put(m, label(L_BT), cbor_build_float8(iotkit__senml_seconds(base)));
  if (ok && seq) ok = put(m, cbor_build_string("seq"), build_head(b->seq, false));
  if (ok) ok = put(m, label(L_N), cbor_build_string(p->name));
  if (ok && p->unit) ok = put(m, label(L_U), cbor_build_string(p->unit));
  if (ok && t) ok = put(m, label(L_T), build_number(((double)p->ts_ms - (double)base) / 1000.0));
  if (ok) {
    if (p->type == IOTKIT_TELEMETRY_DOUBLE) {
      ok = put(m, label(L_V), build_number(p->value.d));
    } else if (p->type == IOTKIT_TELEMETRY_INT) {
      ok = put(m, label(L_V), build_int(p->value.i));
    } else if (p->type == IOTKIT_TELEMETRY_BOOL) {
      ok = put(m, label(L_VB), cbor_build_bool(p->value.b));
    } else {
      ok = put(m, label(L_VS), cbor_build_string(p->value.s));
    }
  }
  if (ok && p->tag_count) ok = put(m, cbor_build_string("tags"), build_tags(p));
  if (!ok) cbor_decref(&m);
  return m;
}

iotkit_err_t iotkit__telemetry_senml_cbor_encode(const iotkit_telemetry_batch_t *b, uint8_t **out, size_t *len) {
  cbor_item_t *arr = cbor_new_definite_array(b->count);
  bool ok = arr != NULL;
  for (size_t i = 0; ok && i < b->count; i++) {
    cbor_item_t *rec = build_record(b, i);
    ok = rec && cbor_array_push(arr, rec);
    if (rec) cbor_decref(&rec);
  }
  unsigned char *buf = NULL;
  size_t cap = 0, n = ok ? cbor_serialize_alloc(arr, &buf, &cap) : 0;
  if (arr) cbor_decref(&arr);
  /* Copied so that the caller releases it with iotkit_free, whatever allocator libcbor uses. */
  uint8_t *copy = n ? malloc(n) : NULL;
  if (copy) memcpy(copy, buf, n);
  free(buf);
  if (!copy) return IOTKIT_ERR_NOMEM;
  *out = copy;
  *len = n;
  return IOTKIT_OK;
}

/* -------------------------------------------------------------- decode -- */

/* NUL-terminated copies of the strings of one record, released together. */
typedef struct str_pool {
  char *s[2 * IOTKIT_TELEMETRY_MAX_TAGS + 32];
  size_t n;
} str_pool_t;

static void pool_free(str_pool_t *p) {
  for (size_t i = 0; i < p->n; i++) free(p->s[i]);
  p->n = 0;
}

/* A definite UTF-8 text string as a C string, or BAD_ENCODING. */
static iotkit_err_t text(const cbor_item_t *it, str_pool_t *pool, const char **out) {
  if (!cbor_isa_string(it) || !cbor_string_is_definite(it)) return IOTKIT_ERR_BAD_ENCODING;
  size_t n = cbor_string_length(it);
  const char *s = (const char *)cbor_string_handle(it);
  if (n > IOTKIT_TELEMETRY_MAX_TEXT) return IOTKIT_ERR_TOO_LARGE;
  if (!iotkit__telemetry_utf8_ok(s, n)) return IOTKIT_ERR_BAD_ENCODING;
  if (pool->n == sizeof(pool->s) / sizeof(pool->s[0])) return IOTKIT_ERR_TOO_LARGE;
  char *c = malloc(n + 1);
  if (!c) return IOTKIT_ERR_NOMEM;
  if (n) memcpy(c, s, n);
  c[n] = '\0';
  pool->s[pool->n++] = c;
  *out = c;
  return IOTKIT_OK;
}

static iotkit_err_t to_value(const cbor_item_t *it, str_pool_t *pool, iotkit__senml_value_t *v) {
  memset(v, 0, sizeof(*v));
  v->kind = IOTKIT__SV_OTHER;
  if (cbor_isa_uint(it) || cbor_isa_negint(it)) {
    uint64_t n = cbor_get_int(it);
    bool neg = cbor_isa_negint(it);
    if (n > (uint64_t)INT64_MAX) {
      v->kind = IOTKIT__SV_NUM;
      v->d = neg ? -1.0 - (double)n : (double)n;
    } else {
      v->kind = IOTKIT__SV_INT;
      v->i = neg ? -1 - (int64_t)n : (int64_t)n;
      v->d = (double)v->i;
    }
  } else if (cbor_isa_float_ctrl(it) && !cbor_float_ctrl_is_ctrl(it)) {
    v->kind = IOTKIT__SV_NUM;
    v->d = cbor_float_get_float(it);
  } else if (cbor_is_bool(it)) {
    v->kind = IOTKIT__SV_BOOL;
    v->b = cbor_get_bool(it);
  } else if (cbor_isa_string(it)) {
    v->kind = IOTKIT__SV_STR;
    return text(it, pool, &v->s);
  } else if (cbor_isa_tag(it) && cbor_tag_value(it) == 4) {
    return IOTKIT_ERR_UNSUPPORTED; /* decimal fractions */
  }
  return IOTKIT_OK;
}

static iotkit_err_t read_tags(const cbor_item_t *m, str_pool_t *pool, iotkit_telemetry_tag_t *tags, size_t *count) {
  if (!cbor_isa_map(m)) return IOTKIT_ERR_BAD_ENCODING;
  size_t n = cbor_map_size(m);
  if (n > IOTKIT_TELEMETRY_MAX_TAGS) return IOTKIT_ERR_TOO_LARGE;
  struct cbor_pair *pairs = cbor_map_handle(m);
  for (size_t i = 0; i < n; i++) {
    iotkit_err_t rc = text(pairs[i].key, pool, &tags[i].key);
    if (rc == IOTKIT_OK) rc = text(pairs[i].value, pool, &tags[i].value);
    if (rc != IOTKIT_OK) return rc;
  }
  *count = n;
  return IOTKIT_OK;
}

/* The JSON label of a map key: an integer of table 4 or a text string. NULL for an unknown integer. */
static iotkit_err_t key_name(const cbor_item_t *k, str_pool_t *pool, const char **name) {
  *name = NULL;
  if (cbor_isa_string(k)) return text(k, pool, name);
  if (!cbor_isa_uint(k) && !cbor_isa_negint(k)) return IOTKIT_ERR_BAD_ENCODING;
  uint64_t n = cbor_get_int(k);
  if (n > 16) return IOTKIT_OK;
  int l = cbor_isa_negint(k) ? -1 - (int)n : (int)n;
  for (size_t i = 0; i < sizeof(g_labels) / sizeof(g_labels[0]); i++)
    if (g_labels[i].label == l) *name = g_labels[i].name;
  return IOTKIT_OK;
}

static iotkit_err_t read_record(const cbor_item_t *m, iotkit__senml_base_t *base, iotkit_telemetry_batch_t *b) {
  if (!cbor_isa_map(m)) return IOTKIT_ERR_BAD_ENCODING;
  str_pool_t pool = {.n = 0};
  iotkit__senml_record_t r = {0};
  iotkit_telemetry_tag_t tags[IOTKIT_TELEMETRY_MAX_TAGS];
  struct cbor_pair *pairs = cbor_map_handle(m);
  iotkit_err_t rc = IOTKIT_OK;
  for (size_t i = 0; rc == IOTKIT_OK && i < cbor_map_size(m); i++) {
    const char *name = NULL;
    rc = key_name(pairs[i].key, &pool, &name);
    if (rc != IOTKIT_OK || !name) continue; /* unknown integer labels are ignored */
    if (strcmp(name, "tags") == 0) {
      r.tags = tags;
      rc = read_tags(pairs[i].value, &pool, tags, &r.tag_count);
      continue;
    }
    iotkit__senml_value_t v = {.kind = IOTKIT__SV_OTHER};
    /* A byte string is the right type only for "vd", whose presence alone matters. */
    rc = cbor_isa_bytestring(pairs[i].value) ? IOTKIT_OK : to_value(pairs[i].value, &pool, &v);
    if (rc == IOTKIT_OK) rc = iotkit__senml_field(name, &v, base, &r);
  }
  if (rc == IOTKIT_OK) rc = iotkit__senml_resolve_add(base, &r, b);
  pool_free(&pool);
  return rc;
}

iotkit_err_t iotkit__telemetry_senml_cbor_decode(const uint8_t *buf, size_t len, iotkit_telemetry_batch_t *b) {
  if (len == 0) return IOTKIT_ERR_BAD_ENCODING;
  iotkit_err_t checked = iotkit__cbor_check(buf, len); /* before libcbor allocates what a header claims */
  if (checked != IOTKIT_OK) return checked;
  struct cbor_load_result res;
  cbor_item_t *root = cbor_load(buf, len, &res);
  if (!root) return res.error.code == CBOR_ERR_MEMERROR ? IOTKIT_ERR_NOMEM : IOTKIT_ERR_BAD_ENCODING;
  iotkit_err_t rc = IOTKIT_OK;
  if (res.read != len || !cbor_isa_array(root)) {
    rc = IOTKIT_ERR_BAD_ENCODING;
  } else if (cbor_array_size(root) > IOTKIT_TELEMETRY_MAX_POINTS) {
    rc = IOTKIT_ERR_TOO_LARGE;
  } else {
    iotkit__senml_base_t base = {0};
    cbor_item_t **items = cbor_array_handle(root);
    for (size_t i = 0; rc == IOTKIT_OK && i < cbor_array_size(root); i++) rc = read_record(items[i], &base, b);
    iotkit__senml_base_free(&base);
  }
  cbor_decref(&root);
  return rc;
}
