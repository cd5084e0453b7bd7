/*
 * iotkit.batch(): the telemetry batch userdata (telemetry.h), and the
 * conversion of Lua tables to points used by device:send_telemetry().
 *
 * A point table is {name=, value=, unit=, ts_ms=, type=, tags={k=v}}; a
 * telemetry table is either a map name -> value (or name -> point table
 * without name) or a list of point tables. Values: a Lua integer (5.3+) is an
 * integer point, any other number a double (type="int" forces an integer in
 * 5.1 and LuaJIT), a boolean a boolean point, a string a string point.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lua_iotkit.h"

typedef struct lk_batch {
  iotkit_telemetry_batch_t *batch;
} lk_batch_t;

static lk_batch_t *check_open(lua_State *L, int idx) {
  lk_batch_t *b = (lk_batch_t *)luaL_checkudata(L, idx, LK_BATCH_MT);
  if (!b->batch) luaL_argerror(L, idx, "the batch is closed");
  return b;
}

iotkit_telemetry_batch_t *lk_batch_test(lua_State *L, int idx, int arg) {
  if (lua_type(L, idx) != LUA_TUSERDATA || !lua_getmetatable(L, idx)) return NULL;
  luaL_getmetatable(L, LK_BATCH_MT);
  int same = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  if (!same) return NULL;
  lk_batch_t *b = (lk_batch_t *)lua_touserdata(L, idx);
  if (!b->batch) luaL_argerror(L, arg, "the batch is closed");
  return b->batch;
}

iotkit_telemetry_format_t lk_check_format(lua_State *L, int idx) {
  const char *name = luaL_optstring(L, idx, "json");
  iotkit_telemetry_format_t f;
  if (iotkit_telemetry_format_parse(name, &f) != IOTKIT_OK)
    luaL_argerror(L, idx, lua_pushfstring(L, "unknown format '%s' (json, senml-json, senml-cbor)", name));
  return f;
}

/* Fill @p pt from the value at @p v (a scalar, or a point table). Misuse raises. */
static void point_value(lua_State *L, int v, int arg, const char *forced, iotkit_telemetry_point_t *pt) {
  switch (lua_type(L, v)) {
    case LUA_TNUMBER:
#if LK_HAVE_INTEGERS
      if (lua_isinteger(L, v) && !(forced && strcmp(forced, "double") == 0)) {
        pt->type = IOTKIT_TELEMETRY_INT;
        pt->value.i = (int64_t)lua_tointeger(L, v);
        return;
      }
#endif
      if (forced && strcmp(forced, "int") == 0) {
        lua_Number n = lua_tonumber(L, v);
        if (n != floor(n) || fabs(n) > 9.2e18) luaL_argerror(L, arg, "type 'int' needs an integral value");
        pt->type = IOTKIT_TELEMETRY_INT;
        pt->value.i = (int64_t)n;
        return;
      }
      pt->type = IOTKIT_TELEMETRY_DOUBLE;
      pt->value.d = (double)lua_tonumber(L, v);
      return;
    case LUA_TBOOLEAN:
      pt->type = IOTKIT_TELEMETRY_BOOL;
      pt->value.b = lua_toboolean(L, v) != 0;
      return;
    case LUA_TSTRING:
      pt->type = IOTKIT_TELEMETRY_STRING;
      pt->value.s = lua_tostring(L, v);
      return;
    default:
      luaL_argerror(L, arg, lua_pushfstring(L, "a point value must be a number, boolean or string, not %s",
                                            luaL_typename(L, v)));
  }
}

/* Add the point described by @p name and the value or point table at @p v. */
static iotkit_err_t add_point(lua_State *L, iotkit_telemetry_batch_t *batch, const char *name, int v, int arg,
                              int64_t ts_default) {
  iotkit_telemetry_point_t pt;
  iotkit_telemetry_tag_t tags[IOTKIT_TELEMETRY_MAX_TAGS];
  memset(&pt, 0, sizeof pt);
  pt.name = name;
  pt.ts_ms = ts_default;
  int top = lua_gettop(L);
  if (lua_type(L, v) == LUA_TTABLE) {
    if (!pt.name) pt.name = lk_field_string(L, v, "name", arg);
    if (!pt.name) luaL_argerror(L, arg, "a point table needs a name");
    pt.unit = lk_field_string(L, v, "unit", arg);
    int has_ts;
    lua_Number ts = lk_field_number(L, v, "ts_ms", arg, &has_ts);
    if (has_ts) pt.ts_ms = (int64_t)ts;
    const char *forced = lk_field_string(L, v, "type", arg);
    lua_getfield(L, v, "value");
    point_value(L, lua_gettop(L), arg, forced, &pt);
    lua_getfield(L, v, "tags");
    if (!lua_isnil(L, -1)) {
      if (!lua_istable(L, -1)) luaL_argerror(L, arg, "field 'tags' must be a table key -> value");
      int t = lua_gettop(L);
      lua_pushnil(L);
      while (lua_next(L, t)) {
        if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
          luaL_argerror(L, arg, "tags are string keys with string values");
        if (pt.tag_count == IOTKIT_TELEMETRY_MAX_TAGS) {
          lua_settop(L, top);
          return IOTKIT_ERR_TOO_LARGE;
        }
        tags[pt.tag_count].key = lua_tostring(L, -2);
        tags[pt.tag_count].value = lua_tostring(L, -1);
        pt.tag_count++;
        lua_pop(L, 1);
      }
      pt.tags = tags;
    }
  } else {
    point_value(L, v, arg, NULL, &pt);
  }
  iotkit_err_t rc = iotkit_telemetry_batch_add(batch, &pt); /* copies everything before the stack is cut */
  lua_settop(L, top);
  return rc;
}

iotkit_err_t lk_batch_from_table(lua_State *L, int idx, int arg, iotkit_telemetry_batch_t *batch, int64_t ts_default) {
  luaL_checkstack(L, 8, "iotkit: telemetry");
  size_t n = (size_t)lk_rawlen(L, idx);
  if (n > 0) { /* a list of point tables */
    for (size_t i = 1; i <= n; i++) {
      lua_rawgeti(L, idx, (int)i);
      if (!lua_istable(L, -1)) luaL_argerror(L, arg, "a list of telemetry points holds point tables");
      iotkit_err_t rc = add_point(L, batch, NULL, lua_gettop(L), arg, ts_default);
      lua_pop(L, 1);
      if (rc != IOTKIT_OK) return rc;
    }
    return IOTKIT_OK;
  }
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (lua_type(L, -2) != LUA_TSTRING) luaL_argerror(L, arg, "telemetry tables map point names (strings) to values");
    iotkit_err_t rc = add_point(L, batch, lua_tostring(L, -2), lua_gettop(L), arg, ts_default);
    lua_pop(L, 1);
    if (rc != IOTKIT_OK) {
      lua_pop(L, 1);
      return rc;
    }
  }
  return IOTKIT_OK;
}

void lk_batch_push_points(lua_State *L, const iotkit_telemetry_batch_t *batch) {
  size_t n = iotkit_telemetry_batch_count(batch);
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    const iotkit_telemetry_point_t *p;
    if (iotkit_telemetry_batch_get(batch, i, &p) != IOTKIT_OK) break;
    lua_createtable(L, 0, 5);
    lua_pushstring(L, p->name);
    lua_setfield(L, -2, "name");
    if (p->unit) {
      lua_pushstring(L, p->unit);
      lua_setfield(L, -2, "unit");
    }
    lk_pushint64(L, p->ts_ms);
    lua_setfield(L, -2, "ts_ms");
    switch (p->type) {
      case IOTKIT_TELEMETRY_INT: lua_pushinteger(L, (lua_Integer)p->value.i); break;
      case IOTKIT_TELEMETRY_BOOL: lua_pushboolean(L, p->value.b); break;
      case IOTKIT_TELEMETRY_STRING: lua_pushstring(L, p->value.s); break;
      default: lua_pushnumber(L, (lua_Number)p->value.d);
    }
    lua_setfield(L, -2, "value");
    if (p->tag_count) {
      lua_createtable(L, 0, (int)p->tag_count);
      for (size_t t = 0; t < p->tag_count; t++) {
        lua_pushstring(L, p->tags[t].value);
        lua_setfield(L, -2, p->tags[t].key);
      }
      lua_setfield(L, -2, "tags");
    }
    lua_rawseti(L, -2, (int)i + 1);
  }
}

iotkit_err_t lk_batch_push_new(lua_State *L, const iotkit_hal_t *hal, iotkit_telemetry_batch_t **out) {
  lk_batch_t *b = (lk_batch_t *)lk_newuserdata(L, sizeof *b);
  b->batch = NULL;
  lk_setmetatable(L, LK_BATCH_MT);
  iotkit_err_t rc = iotkit_telemetry_batch_new(hal, &b->batch);
  *out = b->batch;
  return rc;
}

void lk_batch_close_top(lua_State *L) {
  lk_batch_t *b = (lk_batch_t *)lua_touserdata(L, -1);
  iotkit_telemetry_batch_free(b->batch);
  b->batch = NULL;
  lua_pop(L, 1);
}

/* ------------------------------------------------------------- methods -- */

static int b_new(lua_State *L) {
  iotkit_telemetry_batch_t *batch;
  if (!lua_isnoneornil(L, 1)) luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  iotkit_err_t rc = lk_batch_push_new(L, NULL, &batch);
  lk_batch_t *b = (lk_batch_t *)lua_touserdata(L, -1);
  if (rc != IOTKIT_OK) return lk_fail(L, rc, "batch", NULL);
  if (!lua_isnil(L, 1)) {
    rc = lk_batch_from_table(L, 1, 1, b->batch, 0);
    if (rc != IOTKIT_OK) {
      iotkit_telemetry_batch_free(b->batch);
      b->batch = NULL;
      return lk_fail(L, rc, "batch", "a point was refused");
    }
  }
  return 1;
}

static int b_add(lua_State *L) {
  lk_batch_t *b = check_open(L, 1);
  iotkit_err_t rc;
  if (lua_istable(L, 2)) {
    rc = add_point(L, b->batch, NULL, 2, 2, 0);
  } else {
    const char *name = luaL_checkstring(L, 2);
    luaL_checkany(L, 3);
    if (!lua_isnoneornil(L, 4)) { /* options: unit, ts_ms, type, tags */
      luaL_checktype(L, 4, LUA_TTABLE);
      lua_pushvalue(L, 3);
      lua_setfield(L, 4, "value");
      rc = add_point(L, b->batch, name, 4, 4, 0);
    } else {
      rc = add_point(L, b->batch, name, 3, 3, 0);
    }
  }
  if (rc != IOTKIT_OK) return lk_fail(L, rc, "batch:add", "the point was refused");
  lua_settop(L, 1);
  return 1;
}

static int b_count(lua_State *L) {
  lk_batch_t *b = check_open(L, 1);
  lua_pushinteger(L, (lua_Integer)iotkit_telemetry_batch_count(b->batch));
  return 1;
}

static int b_points(lua_State *L) {
  lk_batch_t *b = check_open(L, 1);
  lk_batch_push_points(L, b->batch);
  return 1;
}

static int b_seq(lua_State *L) {
  lk_batch_t *b = check_open(L, 1);
  lk_pushint64(L, iotkit_telemetry_batch_seq(b->batch));
  return 1;
}

static int b_encode(lua_State *L) {
  lk_batch_t *b = check_open(L, 1);
  iotkit_telemetry_format_t f = lk_check_format(L, 2);
  uint8_t *out = NULL;
  size_t len = 0;
  iotkit_err_t rc = iotkit_telemetry_encode(b->batch, f, &out, &len);
  if (rc != IOTKIT_OK) return lk_fail(L, rc, "batch:encode", NULL);
  lua_pushlstring(L, (const char *)out, len);
  iotkit_free(out);
  return 1;
}

static int b_decode(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  iotkit_telemetry_format_t f = lk_check_format(L, 2);
  lk_batch_t *b = (lk_batch_t *)lk_newuserdata(L, sizeof *b);
  b->batch = NULL;
  lk_setmetatable(L, LK_BATCH_MT);
  iotkit_err_t rc = iotkit_telemetry_decode(f, s, len, &b->batch);
  if (rc != IOTKIT_OK) return lk_fail(L, rc, "batch_decode", NULL);
  return 1;
}

static int b_close(lua_State *L) {
  lk_batch_t *b = (lk_batch_t *)luaL_checkudata(L, 1, LK_BATCH_MT);
  iotkit_telemetry_batch_free(b->batch);
  b->batch = NULL;
  return 0;
}

static int b_tostring(lua_State *L) {
  lk_batch_t *b = (lk_batch_t *)luaL_checkudata(L, 1, LK_BATCH_MT);
  if (b->batch)
    lua_pushfstring(L, "iotkit.batch (%d points)", (int)iotkit_telemetry_batch_count(b->batch));
  else
    lua_pushliteral(L, "iotkit.batch (closed)");
  return 1;
}

static const luaL_Reg b_methods[] = {
  {"add", b_add},
  {"count", b_count},
  {"points", b_points},
  {"seq", b_seq},
  {"encode", b_encode},
  {"close", b_close},
  {"__gc", b_close},
#if LUA_VERSION_NUM >= 504
  {"__close", b_close},
#endif
  {"__len", b_count},
  {"__tostring", b_tostring},
  {NULL, NULL},
};

void lk_batch_open(lua_State *L) {
  lk_newclass(L, LK_BATCH_MT, b_methods);
  lua_pop(L, 1);
  lua_pushcfunction(L, b_new);
  lua_setfield(L, -2, "batch");
  lua_pushcfunction(L, b_decode);
  lua_setfield(L, -2, "batch_decode");
}
