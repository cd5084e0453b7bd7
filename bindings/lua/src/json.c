/*
 * JSON conversion between Lua values and text, in C (the mapping is in
 * bindings/lua/README.md, "Tables and JSON"):
 *   Lua -> JSON: a table with the iotkit.array metatable, or whose keys are
 *   exactly 1..n (n > 0), is an array; an empty table without that metatable
 *   is an object ({}); a table with string keys is an object; integers
 *   (Lua 5.3+ integer subtype; in 5.1 and LuaJIT, integral numbers below 2^53)
 *   are written without a fraction, floats always with one (1.0), so that the
 *   type survives a round trip; iotkit.null is null.
 *   JSON -> Lua: objects are plain tables, arrays are sequences carrying the
 *   iotkit.array metatable (so that [] stays an array), null is iotkit.null,
 *   numbers without fraction or exponent that fit in 64 bits are integers
 *   (5.3+), every other number a float.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua_iotkit.h"

#define LK_JSON_MAX_DEPTH 64

/* ------------------------------------------------------------ encoder -- */

/* A growing buffer owned by a userdata on the stack, so that an error raised
   half-way (luaL_argerror) leaves nothing behind: its __gc frees the bytes. */
typedef struct lk_buf {
  char *p;
  size_t len, cap;
} lk_buf_t;

static int buf_gc(lua_State *L) {
  lk_buf_t *b = (lk_buf_t *)lua_touserdata(L, 1);
  free(b->p);
  b->p = NULL;
  return 0;
}

static lk_buf_t *buf_push(lua_State *L) {
  lk_buf_t *b = (lk_buf_t *)lua_newuserdata(L, sizeof *b);
  b->p = NULL;
  b->len = b->cap = 0;
  if (luaL_newmetatable(L, "iotkit.jsonbuf")) {
    lua_pushcfunction(L, buf_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  return b;
}

static void buf_add(lua_State *L, lk_buf_t *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1) cap *= 2;
    char *p = (char *)realloc(b->p, cap);
    if (!p) luaL_error(L, "iotkit: out of memory encoding JSON");
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

#define BUF_LIT(L, b, s) buf_add((L), (b), (s), sizeof(s) - 1)

static void enc_string(lua_State *L, lk_buf_t *b, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  BUF_LIT(L, b, "\"");
  size_t run = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    buf_add(L, b, s + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': BUF_LIT(L, b, "\\\""); break;
      case '\\': BUF_LIT(L, b, "\\\\"); break;
      case '\n': BUF_LIT(L, b, "\\n"); break;
      case '\r': BUF_LIT(L, b, "\\r"); break;
      case '\t': BUF_LIT(L, b, "\\t"); break;
      default: {
        char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        buf_add(L, b, u, sizeof u);
      }
    }
  }
  buf_add(L, b, s + run, n - run);
  BUF_LIT(L, b, "\"");
}

static void enc_number(lua_State *L, lk_buf_t *b, int idx, int arg) {
  char tmp[64];
#if LK_HAVE_INTEGERS
  if (lua_isinteger(L, idx)) {
    int n = snprintf(tmp, sizeof tmp, "%lld", (long long)lua_tointeger(L, idx));
    buf_add(L, b, tmp, (size_t)n);
    return;
  }
#endif
  double d = (double)lua_tonumber(L, idx);
  if (!isfinite(d)) luaL_argerror(L, arg, "NaN and infinity have no JSON form");
#if !LK_HAVE_INTEGERS
  if (d == floor(d) && fabs(d) <= 9007199254740992.0) {
    int n = snprintf(tmp, sizeof tmp, "%.0f", d);
    buf_add(L, b, tmp, (size_t)n);
    return;
  }
#endif
  int n = snprintf(tmp, sizeof tmp, "%.17g", d);
  /* shortest text that reads back the same double */
  for (int prec = 1; prec < 17; prec++) {
    char t[64];
    int m = snprintf(t, sizeof t, "%.*g", prec, d);
    if (strtod(t, NULL) == d) {
      memcpy(tmp, t, (size_t)m + 1);
      n = m;
      break;
    }
  }
  buf_add(L, b, tmp, (size_t)n);
  if (!strpbrk(tmp, ".eE")) BUF_LIT(L, b, ".0");
}

static void enc_value(lua_State *L, lk_buf_t *b, int idx, int arg, int depth);

static int is_array_mt(lua_State *L, int idx) {
  if (!lua_getmetatable(L, idx)) return 0;
  luaL_getmetatable(L, LK_ARRAY_MT);
  int same = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return same;
}

static void enc_array(lua_State *L, lk_buf_t *b, int idx, int arg, int depth, size_t n) {
  BUF_LIT(L, b, "[");
  for (size_t i = 1; i <= n; i++) {
    if (i > 1) BUF_LIT(L, b, ",");
    lua_rawgeti(L, idx, (int)i);
    enc_value(L, b, lua_gettop(L), arg, depth + 1);
    lua_pop(L, 1);
  }
  BUF_LIT(L, b, "]");
}

static void enc_table(lua_State *L, lk_buf_t *b, int idx, int arg, int depth) {
  if (depth > LK_JSON_MAX_DEPTH) luaL_argerror(L, arg, "tables nested too deep (or a cycle) for JSON");
  luaL_checkstack(L, 6, "iotkit: JSON nesting");
  if (is_array_mt(L, idx)) {
    enc_array(L, b, idx, arg, depth, (size_t)lk_rawlen(L, idx));
    return;
  }
  /* classify: string keys (object), keys 1..n (array), anything else refused */
  size_t strings = 0, ints = 0;
  lua_Number max = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TSTRING) {
      strings++;
    } else if (lua_type(L, -1) == LUA_TNUMBER) {
      lua_Number k = lua_tonumber(L, -1);
      if (k < 1 || k != floor(k)) luaL_argerror(L, arg, "a table key that is neither a string nor 1..n");
      ints++;
      if (k > max) max = k;
    } else {
      luaL_argerror(L, arg, "a table key that is neither a string nor 1..n");
    }
  }
  if (strings && ints) luaL_argerror(L, arg, "a table mixing string and integer keys has no JSON form");
  if (ints) {
    if ((lua_Number)ints != max) luaL_argerror(L, arg, "a sparse array (holes) has no JSON form");
    enc_array(L, b, idx, arg, depth, ints);
    return;
  }
  BUF_LIT(L, b, "{");
  int first = 1;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (!first) BUF_LIT(L, b, ",");
    first = 0;
    size_t kn;
    const char *k = lua_tolstring(L, -2, &kn); /* a string key: no conversion in place */
    enc_string(L, b, k, kn);
    BUF_LIT(L, b, ":");
    enc_value(L, b, lua_gettop(L), arg, depth + 1);
    lua_pop(L, 1);
  }
  BUF_LIT(L, b, "}");
}

static void enc_value(lua_State *L, lk_buf_t *b, int idx, int arg, int depth) {
  switch (lua_type(L, idx)) {
    case LUA_TNIL: BUF_LIT(L, b, "null"); break;
    case LUA_TBOOLEAN:
      if (lua_toboolean(L, idx)) BUF_LIT(L, b, "true");
      else BUF_LIT(L, b, "false");
      break;
    case LUA_TNUMBER: enc_number(L, b, idx, arg); break;
    case LUA_TSTRING: {
      size_t n;
      const char *s = lua_tolstring(L, idx, &n);
      enc_string(L, b, s, n);
      break;
    }
    case LUA_TTABLE: enc_table(L, b, idx, arg, depth); break;
    case LUA_TLIGHTUSERDATA:
      if (lk_isnull(L, idx)) {
        BUF_LIT(L, b, "null");
        break;
      }
      /* fall through */
    default: {
      const char *msg = lua_pushfstring(L, "a %s has no JSON form", luaL_typename(L, idx));
      luaL_argerror(L, arg, msg);
    }
  }
}

static lk_buf_t *encode_to_buf(lua_State *L, int idx, int arg) {
  idx = idx < 0 ? lua_gettop(L) + idx + 1 : idx;
  lk_buf_t *b = buf_push(L);
  enc_value(L, b, idx, arg, 0);
  return b;
}

void lk_json_encode(lua_State *L, int idx, int arg) {
  lk_buf_t *b = encode_to_buf(L, idx, arg);
  lua_pushlstring(L, b->p ? b->p : "", b->len);
  lua_remove(L, -2); /* the buffer: collected later */
}

char *lk_json_encode_c(lua_State *L, int idx, int arg) {
  lk_buf_t *b = encode_to_buf(L, idx, arg);
  char *out = b->p;
  b->p = NULL; /* ownership passes to the caller */
  lua_pop(L, 1);
  if (!out) out = (char *)calloc(1, 1);
  if (!out) luaL_error(L, "iotkit: out of memory encoding JSON");
  return out;
}

/* ------------------------------------------------------------ decoder -- */

typedef struct dec {
  lua_State *L;
  const char *p, *end;
  int depth;
} dec_t;

static void skip_ws(dec_t *d) {
  while (d->p < d->end && (*d->p == ' ' || *d->p == '\t' || *d->p == '\n' || *d->p == '\r')) d->p++;
}

static int hex4(const char *s, unsigned *out) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = s[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
    else return 0;
  }
  *out = v;
  return 1;
}

static void put_utf8(luaL_Buffer *lb, unsigned cp) {
  char u[4];
  size_t n;
  if (cp < 0x80) { u[0] = (char)cp; n = 1; }
  else if (cp < 0x800) { u[0] = (char)(0xC0 | (cp >> 6)); u[1] = (char)(0x80 | (cp & 0x3F)); n = 2; }
  else if (cp < 0x10000) {
    u[0] = (char)(0xE0 | (cp >> 12)); u[1] = (char)(0x80 | ((cp >> 6) & 0x3F)); u[2] = (char)(0x80 | (cp & 0x3F)); n = 3;
  } else {
    u[0] = (char)(0xF0 | (cp >> 18)); u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); u[3] = (char)(0x80 | (cp & 0x3F)); n = 4;
  }
  luaL_addlstring(lb, u, n);
}

/* Pushes the string on success. The luaL_Buffer lives on the stack: nothing else is pushed meanwhile. */
static int dec_string(dec_t *d) {
  luaL_Buffer lb;
  d->p++; /* the quote */
  luaL_buffinit(d->L, &lb);
  while (d->p < d->end) {
    const char *run = d->p;
    while (d->p < d->end && *d->p != '"' && *d->p != '\\' && (unsigned char)*d->p >= 0x20) d->p++;
    luaL_addlstring(&lb, run, (size_t)(d->p - run));
    if (d->p >= d->end) break;
    char c = *d->p++;
    if (c == '"') {
      luaL_pushresult(&lb);
      return 1;
    }
    if (c != '\\' || d->p >= d->end) break; /* a control character, or a lone backslash */
    char e = *d->p++;
    switch (e) {
      case '"': luaL_addchar(&lb, '"'); break;
      case '\\': luaL_addchar(&lb, '\\'); break;
      case '/': luaL_addchar(&lb, '/'); break;
      case 'b': luaL_addchar(&lb, '\b'); break;
      case 'f': luaL_addchar(&lb, '\f'); break;
      case 'n': luaL_addchar(&lb, '\n'); break;
      case 'r': luaL_addchar(&lb, '\r'); break;
      case 't': luaL_addchar(&lb, '\t'); break;
      case 'u': {
        unsigned cp, lo;
        if (d->end - d->p < 4 || !hex4(d->p, &cp)) goto bad;
        d->p += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          if (d->end - d->p < 6 || d->p[0] != '\\' || d->p[1] != 'u' || !hex4(d->p + 2, &lo) || lo < 0xDC00 ||
              lo > 0xDFFF)
            goto bad;
          d->p += 6;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          goto bad;
        }
        put_utf8(&lb, cp);
        break;
      }
      default: goto bad;
    }
  }
bad:
  luaL_pushresult(&lb);
  lua_pop(d->L, 1);
  return 0;
}

static int dec_number(dec_t *d) {
  const char *s = d->p;
  int integral = 1;
  if (d->p < d->end && *d->p == '-') d->p++;
  if (d->p >= d->end || *d->p < '0' || *d->p > '9') return 0;
  if (*d->p == '0') d->p++;
  else while (d->p < d->end && *d->p >= '0' && *d->p <= '9') d->p++;
  if (d->p < d->end && *d->p == '.') {
    integral = 0;
    d->p++;
    if (d->p >= d->end || *d->p < '0' || *d->p > '9') return 0;
    while (d->p < d->end && *d->p >= '0' && *d->p <= '9') d->p++;
  }
  if (d->p < d->end && (*d->p == 'e' || *d->p == 'E')) {
    integral = 0;
    d->p++;
    if (d->p < d->end && (*d->p == '+' || *d->p == '-')) d->p++;
    if (d->p >= d->end || *d->p < '0' || *d->p > '9') return 0;
    while (d->p < d->end && *d->p >= '0' && *d->p <= '9') d->p++;
  }
  char tmp[400];
  size_t n = (size_t)(d->p - s);
  if (n >= sizeof tmp) return 0;
  memcpy(tmp, s, n);
  tmp[n] = '\0';
#if LK_HAVE_INTEGERS
  if (integral) {
    errno = 0;
    long long v = strtoll(tmp, NULL, 10);
    if (errno == 0) {
      lua_pushinteger(d->L, (lua_Integer)v);
      return 1;
    }
  }
#else
  (void)integral;
#endif
  lua_pushnumber(d->L, (lua_Number)strtod(tmp, NULL));
  return 1;
}

static int dec_value(dec_t *d);

static int dec_lit(dec_t *d, const char *lit, size_t n) {
  if ((size_t)(d->end - d->p) < n || memcmp(d->p, lit, n) != 0) return 0;
  d->p += n;
  return 1;
}

static int dec_container(dec_t *d, int object) {
  lua_State *L = d->L;
  if (++d->depth > 200 || !lua_checkstack(L, 4)) return 0;
  d->p++;
  lua_newtable(L);
  int t = lua_gettop(L);
  if (!object) {
    luaL_getmetatable(L, LK_ARRAY_MT);
    lua_setmetatable(L, t);
  }
  int i = 0;
  skip_ws(d);
  if (d->p < d->end && *d->p == (object ? '}' : ']')) {
    d->p++;
    d->depth--;
    return 1;
  }
  for (;;) {
    skip_ws(d);
    if (object) {
      if (d->p >= d->end || *d->p != '"' || !dec_string(d)) return 0;
      skip_ws(d);
      if (d->p >= d->end || *d->p != ':') return 0;
      d->p++;
      skip_ws(d);
      if (!dec_value(d)) return 0;
      lua_rawset(L, t);
    } else {
      if (!dec_value(d)) return 0;
      lua_rawseti(L, t, ++i);
    }
    skip_ws(d);
    if (d->p < d->end && *d->p == ',') {
      d->p++;
      continue;
    }
    if (d->p < d->end && *d->p == (object ? '}' : ']')) {
      d->p++;
      d->depth--;
      return 1;
    }
    return 0;
  }
}

static int dec_value(dec_t *d) {
  skip_ws(d);
  if (d->p >= d->end) return 0;
  switch (*d->p) {
    case '{': return dec_container(d, 1);
    case '[': return dec_container(d, 0);
    case '"': return dec_string(d);
    case 't':
      if (!dec_lit(d, "true", 4)) return 0;
      lua_pushboolean(d->L, 1);
      return 1;
    case 'f':
      if (!dec_lit(d, "false", 5)) return 0;
      lua_pushboolean(d->L, 0);
      return 1;
    case 'n':
      if (!dec_lit(d, "null", 4)) return 0;
      lk_pushnull(d->L);
      return 1;
    default: return dec_number(d);
  }
}

int lk_json_decode(lua_State *L, const char *text, size_t len) {
  int top = lua_gettop(L);
  dec_t d = {L, text, text + len, 0};
  if (dec_value(&d)) {
    skip_ws(&d);
    if (d.p == d.end) return 1;
  }
  lua_settop(L, top);
  return 0;
}
