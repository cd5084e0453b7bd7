/* A bounded walk over CBOR (RFC 8949 section 3) before libcbor sees it.
 *
 * libcbor's cbor_load() allocates an array or a map of the size its head
 * declares before it reads the items, so a 9-byte input can ask for an array
 * of 2^32 items (tens of gigabytes, or hundreds of seconds of memset). This
 * walk refuses, in time linear in the input and without allocating, any
 * definite array, map or string that declares more than the remaining bytes
 * could hold (each item takes at least one byte), and any nesting deeper than
 * IOTKIT_TELEMETRY_MAX_CBOR_DEPTH (its recursion is bounded by that too). */
#include "telemetry/telemetry_internal.h"

typedef struct walk {
  const uint8_t *p;
  size_t len, pos;
} walk_t;

/* The head of the next item: major type, argument, indefinite length. */
static iotkit_err_t head(walk_t *w, unsigned *major, uint64_t *arg, bool *indef) {
  if (w->pos >= w->len) return IOTKIT_ERR_BAD_ENCODING;
  uint8_t ib = w->p[w->pos++];
  unsigned ai = ib & 31u;
  *major = ib >> 5;
  *indef = false;
  *arg = ai;
  if (ai < 24) return IOTKIT_OK;
  if (ai == 31) {
    /* Indefinite strings, arrays and maps; for major 7 it is a break, which only ends an indefinite item. */
    if (*major < 2 || *major == 6 || *major == 7) return IOTKIT_ERR_BAD_ENCODING;
    *indef = true;
    return IOTKIT_OK;
  }
  if (ai > 27) return IOTKIT_ERR_BAD_ENCODING; /* 28-30 are reserved */
  size_t n = (size_t)1 << (ai - 24);
  if (n > w->len - w->pos) return IOTKIT_ERR_BAD_ENCODING;
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++) v = v << 8 | w->p[w->pos++];
  *arg = v;
  return IOTKIT_OK;
}

static bool at_break(walk_t *w) {
  if (w->pos < w->len && w->p[w->pos] == 0xff) {
    w->pos++;
    return true;
  }
  return false;
}

static iotkit_err_t item(walk_t *w, unsigned depth) {
  unsigned major = 0;
  uint64_t arg = 0;
  bool indef = false;
  iotkit_err_t rc = head(w, &major, &arg, &indef);
  if (rc != IOTKIT_OK) return rc;
  size_t left = w->len - w->pos;
  switch (major) {
    case 0: /* unsigned and negative integers */
    case 1:
    case 7: return IOTKIT_OK; /* simple values and floats: head() read their bytes */
    case 2: /* byte and text strings; an indefinite one is definite chunks of its type */
    case 3:
      if (!indef) {
        if (arg > left) return IOTKIT_ERR_BAD_ENCODING;
        w->pos += (size_t)arg;
        return IOTKIT_OK;
      }
      while (!at_break(w)) {
        unsigned cmajor = 0;
        bool cindef = false;
        rc = head(w, &cmajor, &arg, &cindef);
        if (rc != IOTKIT_OK) return rc;
        if (cmajor != major || cindef || arg > w->len - w->pos) return IOTKIT_ERR_BAD_ENCODING;
        w->pos += (size_t)arg;
      }
      return IOTKIT_OK;
    case 4: /* arrays and maps (a map holds 2 items per entry) */
    case 5:
      if (depth >= IOTKIT_TELEMETRY_MAX_CBOR_DEPTH) return IOTKIT_ERR_TOO_LARGE;
      if (!indef) {
        if (arg > left || (major == 5 && arg > left / 2)) return IOTKIT_ERR_BAD_ENCODING;
        uint64_t items = major == 5 ? 2 * arg : arg;
        for (uint64_t i = 0; rc == IOTKIT_OK && i < items; i++) rc = item(w, depth + 1);
        return rc;
      }
      for (uint64_t i = 0; rc == IOTKIT_OK && !at_break(w); i++) {
        if (w->pos >= w->len) return IOTKIT_ERR_BAD_ENCODING;
        rc = item(w, depth + 1);
        if (rc == IOTKIT_OK && major == 5) rc = item(w, depth + 1);
      }
      return rc;
    default: /* 6: a tag on one item */
      if (depth >= IOTKIT_TELEMETRY_MAX_CBOR_DEPTH) return IOTKIT_ERR_TOO_LARGE;
      return item(w, depth + 1);
  }
}

iotkit_err_t iotkit__cbor_check(const uint8_t *buf, size_t len) {
  walk_t w = {.p = buf, .len = len, .pos = 0};
  iotkit_err_t rc = item(&w, 0);
  if (rc == IOTKIT_OK && w.pos != len) rc = IOTKIT_ERR_BAD_ENCODING; /* trailing bytes */
  return rc;
}
