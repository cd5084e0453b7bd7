/* Semantic versions (semver.org 2.0.0): validation and precedence. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "iotkit/ota.h"
#include "ota/internal.h"

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_ident(char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-'; }

/* A numeric field: digits, no leading zero, fits in uint64. Advances @p. */
static bool parse_num(const char **p, uint64_t *out) {
  const char *s = *p;
  if (!is_digit(*s) || (s[0] == '0' && is_digit(s[1]))) return false;
  uint64_t v = 0;
  for (; is_digit(*s); s++) {
    if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10) return false;
    v = v * 10 + (uint64_t)(*s - '0');
  }
  *p = s;
  *out = v;
  return true;
}

/* Dot-separated identifiers up to @end; numeric ones without leading zeros when @numeric_rule. */
static bool valid_idents(const char *s, const char *end, bool numeric_rule) {
  if (s == end) return false;
  while (s < end) {
    const char *e = s;
    bool all_digits = true;
    while (e < end && *e != '.') {
      if (!is_ident(*e)) return false;
      all_digits = all_digits && is_digit(*e);
      e++;
    }
    if (e == s) return false;
    if (numeric_rule && all_digits && e - s > 1 && *s == '0') return false;
    if (e < end && e + 1 == end) return false; /* trailing dot */
    s = e < end ? e + 1 : e;
  }
  return true;
}

bool iotkit__ota_semver_parse(const char *v, iotkit__semver_t *out) {
  if (!v || strlen(v) > IOTKIT_OTA_MAX_VERSION) return false;
  iotkit__semver_t r = {0};
  const char *p = v;
  if (!parse_num(&p, &r.major) || *p++ != '.' || !parse_num(&p, &r.minor) || *p++ != '.' ||
      !parse_num(&p, &r.patch))
    return false;
  const char *plus = strchr(p, '+');
  const char *end = plus ? plus : p + strlen(p);
  if (*p == '-') {
    r.pre = p + 1;
    r.pre_len = (size_t)(end - r.pre);
    if (!valid_idents(r.pre, end, true)) return false;
  } else if (p != end) {
    return false;
  }
  if (plus && !valid_idents(plus + 1, plus + strlen(plus), false)) return false;
  *out = r;
  return true;
}

static int cmp_u64(uint64_t a, uint64_t b) { return a < b ? -1 : a > b; }

/* One pre-release identifier each: numeric < alphanumeric; numbers by value, others in ASCII order. */
static int cmp_ident(const char *a, size_t na, const char *b, size_t nb) {
  bool da = true, db = true;
  for (size_t i = 0; i < na; i++) da = da && is_digit(a[i]);
  for (size_t i = 0; i < nb; i++) db = db && is_digit(b[i]);
  if (da && db) {
    if (na != nb) return na < nb ? -1 : 1; /* no leading zeros: longer is larger */
    int c = memcmp(a, b, na);
    return c < 0 ? -1 : c > 0;
  }
  if (da != db) return da ? -1 : 1;
  int c = memcmp(a, b, na < nb ? na : nb);
  if (c != 0) return c < 0 ? -1 : 1;
  return cmp_u64(na, nb);
}

int iotkit__ota_semver_cmp(const iotkit__semver_t *a, const iotkit__semver_t *b) {
  int c = cmp_u64(a->major, b->major);
  if (!c) c = cmp_u64(a->minor, b->minor);
  if (!c) c = cmp_u64(a->patch, b->patch);
  if (c) return c;
  if (!a->pre || !b->pre) return a->pre ? -1 : (b->pre ? 1 : 0);
  const char *pa = a->pre, *ea = a->pre + a->pre_len, *pb = b->pre, *eb = b->pre + b->pre_len;
  while (pa < ea && pb < eb) {
    const char *xa = memchr(pa, '.', (size_t)(ea - pa)), *xb = memchr(pb, '.', (size_t)(eb - pb));
    if (!xa) xa = ea;
    if (!xb) xb = eb;
    c = cmp_ident(pa, (size_t)(xa - pa), pb, (size_t)(xb - pb));
    if (c) return c;
    pa = xa < ea ? xa + 1 : ea;
    pb = xb < eb ? xb + 1 : eb;
  }
  return pa < ea ? 1 : (pb < eb ? -1 : 0);
}

iotkit_err_t iotkit_ota_version_compare(const char *a, const char *b, int *cmp) {
  iotkit__semver_t va, vb;
  if (!cmp || !iotkit__ota_semver_parse(a, &va) || !iotkit__ota_semver_parse(b, &vb)) return IOTKIT_ERR_INVALID_ARG;
  *cmp = iotkit__ota_semver_cmp(&va, &vb);
  return IOTKIT_OK;
}
