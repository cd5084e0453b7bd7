/* SenML (RFC 8428): fields and record resolution shared by the JSON and CBOR representations. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "telemetry/telemetry_internal.h"

#define SENML_VERSION 10 /* the version RFC 8428 defines; higher ones must not be used */

double iotkit__senml_seconds(int64_t ts_ms) { return (double)ts_ms / 1000.0; }

iotkit_err_t iotkit__senml_set_base(char **slot, const char *value) {
  char *copy = iotkit__strdup(value);
  if (!copy) return IOTKIT_ERR_NOMEM;
  free(*slot);
  *slot = copy;
  return IOTKIT_OK;
}

void iotkit__senml_base_free(iotkit__senml_base_t *base) {
  free(base->bn);
  free(base->bu);
  memset(base, 0, sizeof(*base));
}

/* Milliseconds of @seconds, rounded; false if out of range. */
static bool to_ms(double seconds, int64_t *ms) {
  double v = seconds * 1000.0;
  if (!(v > -9.2e18 && v < 9.2e18)) return false;
  *ms = (int64_t)(v >= 0 ? v + 0.5 : v - 0.5);
  return true;
}

/* The record's value into @p; BAD_ENCODING / UNSUPPORTED by RFC 8428 section 4.2 ("exactly one Value"). */
static iotkit_err_t resolve_value(const iotkit__senml_base_t *base, const iotkit__senml_record_t *r,
                                  iotkit_telemetry_point_t *p) {
  int values = r->has_v + r->has_vs + r->has_vb + r->has_vd;
  if (values > 1) return IOTKIT_ERR_BAD_ENCODING;
  if (r->has_vd) return IOTKIT_ERR_UNSUPPORTED; /* binary data values have no point type */
  if (values == 0) return r->has_s ? IOTKIT_ERR_UNSUPPORTED : IOTKIT_ERR_BAD_ENCODING;
  if (r->has_vs) {
    p->type = IOTKIT_TELEMETRY_STRING;
    p->value.s = r->vs;
  } else if (r->has_vb) {
    p->type = IOTKIT_TELEMETRY_BOOL;
    p->value.b = r->vb;
  } else if (r->v_is_int && !base->has_bv) {
    p->type = IOTKIT_TELEMETRY_INT;
    p->value.i = r->vi;
  } else {
    p->type = IOTKIT_TELEMETRY_DOUBLE;
    p->value.d = base->has_bv ? base->bv + r->v : r->v; /* not 0.0 + v, which would turn -0.0 into 0.0 */
    if (!isfinite(p->value.d)) return IOTKIT_ERR_UNSUPPORTED;
  }
  return IOTKIT_OK;
}

iotkit_err_t iotkit__senml_resolve_add(const iotkit__senml_base_t *base, const iotkit__senml_record_t *r,
                                       iotkit_telemetry_batch_t *b) {
  if (b->count == 0 && r->seq) b->seq = r->seq;
  bool base_only = !r->has_v && !r->has_vs && !r->has_vb && !r->has_vd && !r->has_s && !r->n && !r->u && !r->has_t;
  if (base_only) return IOTKIT_OK;
  if (b->count >= IOTKIT_TELEMETRY_MAX_POINTS) return IOTKIT_ERR_TOO_LARGE;
  iotkit_telemetry_point_t p = {0};
  iotkit_err_t rc = resolve_value(base, r, &p);
  if (rc != IOTKIT_OK) return rc;
  size_t bn = base->bn ? strlen(base->bn) : 0, n = r->n ? strlen(r->n) : 0;
  if (bn + n == 0 || bn + n > IOTKIT_TELEMETRY_MAX_NAME) return IOTKIT_ERR_BAD_ENCODING;
  char name[IOTKIT_TELEMETRY_MAX_NAME + 1];
  memcpy(name, base->bn ? base->bn : "", bn);
  memcpy(name + bn, r->n ? r->n : "", n);
  name[bn + n] = '\0';
  p.name = name;
  p.unit = r->u ? r->u : base->bu;
  if (!to_ms(base->bt + (r->has_t ? r->t : 0.0), &p.ts_ms) || p.ts_ms == IOTKIT_TELEMETRY_NOW)
    return IOTKIT_ERR_BAD_ENCODING;
  p.tags = r->tags;
  p.tag_count = r->tag_count;
  return iotkit__telemetry_decode_err(iotkit_telemetry_batch_add(b, &p));
}

static bool is_count(const iotkit__senml_value_t *v, uint64_t max, uint64_t *out) {
  if (v->kind == IOTKIT__SV_INT && v->i >= 0 && (uint64_t)v->i <= max) {
    *out = (uint64_t)v->i;
    return true;
  }
  if (v->kind != IOTKIT__SV_NUM || !(v->d >= 0 && v->d <= (double)max) || v->d != (double)(uint64_t)v->d) return false;
  *out = (uint64_t)v->d;
  return true;
}

iotkit_err_t iotkit__senml_field(const char *k, const iotkit__senml_value_t *f, iotkit__senml_base_t *base,
                                 iotkit__senml_record_t *r) {
  bool str = f->kind == IOTKIT__SV_STR, num = f->kind == IOTKIT__SV_NUM || f->kind == IOTKIT__SV_INT;
  uint64_t u = 0;
#define NEED(cond)                                \
  do {                                            \
    if (!(cond)) return IOTKIT_ERR_BAD_ENCODING; \
  } while (0)
  if (strcmp(k, "bn") == 0) {
    NEED(str);
    return iotkit__senml_set_base(&base->bn, f->s);
  } else if (strcmp(k, "bu") == 0) {
    NEED(str);
    return iotkit__senml_set_base(&base->bu, f->s);
  } else if (strcmp(k, "bt") == 0) {
    NEED(num);
    base->bt = f->d;
  } else if (strcmp(k, "bv") == 0) {
    NEED(num);
    base->bv = f->d;
    base->has_bv = true;
  } else if (strcmp(k, "bs") == 0 || strcmp(k, "s") == 0 || strcmp(k, "ut") == 0) {
    NEED(num);
    r->has_s |= k[0] == 's';
  } else if (strcmp(k, "bver") == 0) {
    NEED(is_count(f, UINT32_MAX, &u));
    if (u > SENML_VERSION) return IOTKIT_ERR_UNSUPPORTED;
  } else if (strcmp(k, "n") == 0 || strcmp(k, "u") == 0 || strcmp(k, "vs") == 0) {
    NEED(str);
    if (k[0] == 'n') r->n = f->s;
    if (k[0] == 'u') r->u = f->s;
    if (k[0] == 'v') r->vs = f->s, r->has_vs = true;
  } else if (strcmp(k, "vd") == 0) {
    r->has_vd = true; /* a string in JSON, a byte string in CBOR: either way not representable */
  } else if (strcmp(k, "v") == 0) {
    NEED(num);
    r->v = f->d;
    r->vi = f->i;
    r->v_is_int = f->kind == IOTKIT__SV_INT;
    r->has_v = true;
  } else if (strcmp(k, "t") == 0) {
    NEED(num);
    r->t = f->d;
    r->has_t = true;
  } else if (strcmp(k, "vb") == 0) {
    NEED(f->kind == IOTKIT__SV_BOOL);
    r->vb = f->b;
    r->has_vb = true;
  } else if (strcmp(k, "seq") == 0) {
    NEED(is_count(f, IOTKIT__TELEMETRY_MAX_SEQ, &r->seq));
  } else if (k[0] && k[strlen(k) - 1] == '_') {
    return IOTKIT_ERR_UNSUPPORTED; /* a "must understand" extension (RFC 8428 section 4.4) */
  }
#undef NEED
  return IOTKIT_OK;
}
