/*
 * luaopen_iotkit: the module table (constructors, error codes, iotkit.null,
 * iotkit.array, JSON helpers, the callback error handler) and the helpers the
 * other files share: runtime failures as nil, message, code; the protected
 * call that runs every Lua callback.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lua_iotkit.h"

#define LK_ONERROR_KEY "iotkit.on_error"

/* Its address is iotkit.null: a constant, not state. */
static const char lk_null_tag = 0;

void lk_pushnull(lua_State *L) { lua_pushlightuserdata(L, (void *)&lk_null_tag); }

int lk_isnull(lua_State *L, int idx) {
  return lua_type(L, idx) == LUA_TLIGHTUSERDATA && lua_touserdata(L, idx) == (void *)&lk_null_tag;
}

int lk_fail(lua_State *L, iotkit_err_t code, const char *what, const char *detail) {
  lua_pushnil(L);
  if (detail && *detail)
    lua_pushfstring(L, "%s: %s: %s", what, iotkit_strerror(code), detail);
  else
    lua_pushfstring(L, "%s: %s", what, iotkit_strerror(code));
  lua_pushinteger(L, (lua_Integer)code);
  return 3;
}

void lk_newclass(lua_State *L, const char *name, const luaL_Reg *methods) {
  luaL_newmetatable(L, name);
  lk_setfuncs(L, methods);
  lua_pushvalue(L, -1);
  lua_setfield(L, -2, "__index");
  lua_pushstring(L, name);
  lua_setfield(L, -2, "__name");
}

int lk_opt_ms(lua_State *L, int idx, int def_ms) {
  if (lua_isnoneornil(L, idx)) return def_ms;
  lua_Number s = luaL_checknumber(L, idx);
  if (!(s >= 0) || s * 1000.0 > (lua_Number)INT_MAX) luaL_argerror(L, idx, "a timeout in seconds, 0 or more");
  return (int)ceil(s * 1000.0);
}

const char *lk_field_string(lua_State *L, int idx, const char *key, int arg) {
  lua_getfield(L, idx, key);
  const char *s = NULL;
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TSTRING) {
      luaL_argerror(L, arg, lua_pushfstring(L, "field '%s' must be a string, not %s", key, luaL_typename(L, -1)));
    }
    s = lua_tostring(L, -1); /* anchored by the table */
  }
  lua_pop(L, 1);
  return s;
}

lua_Number lk_field_number(lua_State *L, int idx, const char *key, int arg, int *present) {
  lua_getfield(L, idx, key);
  lua_Number v = 0;
  *present = !lua_isnil(L, -1);
  if (*present) {
    if (lua_type(L, -1) != LUA_TNUMBER)
      luaL_argerror(L, arg, lua_pushfstring(L, "field '%s' must be a number, not %s", key, luaL_typename(L, -1)));
    v = lua_tonumber(L, -1);
    if (!(v >= 0)) luaL_argerror(L, arg, lua_pushfstring(L, "field '%s' must be 0 or more", key));
  }
  lua_pop(L, 1);
  return v;
}

int lk_field_bool(lua_State *L, int idx, const char *key, int arg, int def) {
  lua_getfield(L, idx, key);
  int v = def;
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TBOOLEAN)
      luaL_argerror(L, arg, lua_pushfstring(L, "field '%s' must be a boolean, not %s", key, luaL_typename(L, -1)));
    v = lua_toboolean(L, -1);
  }
  lua_pop(L, 1);
  return v;
}

/* ----------------------------------------------------------------- HAL -- */

static void log_to_stderr(void *user, iotkit_log_level_t level, const char *line) {
  (void)user;
  fprintf(stderr, "iotkit[%s] %s\n", iotkit_log_level_name(level), line);
}

iotkit_err_t lk_make_hal(lua_State *L, int opts, int arg, const char *state_dir, iotkit_hal_t **out) {
  static const char *const levels[] = {"error", "warn", "info", "debug", "trace", NULL};
  int level = IOTKIT_LOG_WARN;
  const char *name = lk_field_string(L, opts, "log_level", arg);
  if (name) {
    for (level = 0; levels[level] && strcmp(levels[level], name) != 0; level++) {
    }
    if (!levels[level]) luaL_argerror(L, arg, "log_level is one of error, warn, info, debug, trace");
  }
  if (state_dir) {
    iotkit_hal_posix_config_t pc;
    iotkit_hal_posix_config_init(&pc);
    pc.state_dir = state_dir;
    pc.log_level = (iotkit_log_level_t)level;
    return iotkit_hal_posix_new(&pc, out);
  }
  iotkit_hal_memory_config_t mc;
  iotkit_hal_memory_config_init(&mc);
  /* jitter only: the address and the clock are enough to keep handles apart */
  mc.seed = ((uint64_t)(uintptr_t)out ^ ((uint64_t)time(NULL) << 20) ^ (uint64_t)clock()) | 1u;
  mc.log_level = (iotkit_log_level_t)level;
  mc.log_cb = log_to_stderr;
  return iotkit_hal_memory_new(&mc, out);
}

/* ------------------------------------------------- callback protection -- */

static int traceback(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (!msg) msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
#if LUA_VERSION_NUM >= 502 || defined(LUAJIT_VERSION_NUM)
  luaL_traceback(L, L, msg, 1);
#else
  lua_getglobal(L, "debug");
  if (lua_istable(L, -1)) {
    lua_getfield(L, -1, "traceback");
    if (lua_isfunction(L, -1)) {
      lua_pushstring(L, msg);
      lua_pushinteger(L, 2);
      lua_call(L, 2, 1);
      return 1;
    }
  }
  lua_pushstring(L, msg);
#endif
  return 1;
}

void lk_report(lua_State *L, const char *where, const char *text) {
  lua_getfield(L, LUA_REGISTRYINDEX, LK_ONERROR_KEY);
  if (lua_isfunction(L, -1)) {
    lua_pushstring(L, where);
    lua_pushstring(L, text);
    if (lua_pcall(L, 2, 0, 0) == 0) return;
    fprintf(stderr, "iotkit: the error handler failed: %s\n", lua_tostring(L, -1));
    lua_pop(L, 1);
  } else {
    lua_pop(L, 1);
  }
  fprintf(stderr, "iotkit: error in %s callback: %s\n", where, text);
}

int lk_pcall(lua_State *L, int nargs, int nres, const char *where) {
  int fn = lua_gettop(L) - nargs;
  lua_pushcfunction(L, traceback);
  lua_insert(L, fn);
  int rc = lua_pcall(L, nargs, nres, fn);
  lua_remove(L, fn);
  if (rc == 0) return 1;
  lk_report(L, where, lua_tostring(L, -1) ? lua_tostring(L, -1) : "(no message)");
  lua_pop(L, 1);
  for (int i = 0; i < nres; i++) lua_pushnil(L);
  return 0;
}

/* ------------------------------------------------------------ functions -- */

static int l_on_error(lua_State *L) {
  if (!lua_isnoneornil(L, 1)) luaL_checktype(L, 1, LUA_TFUNCTION);
  lua_settop(L, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, LK_ONERROR_KEY);
  return 0;
}

static int l_strerror(lua_State *L) {
  lua_pushstring(L, iotkit_strerror((iotkit_err_t)luaL_checkinteger(L, 1)));
  return 1;
}

static int l_err_name(lua_State *L) {
  lua_pushstring(L, iotkit_err_name((iotkit_err_t)luaL_checkinteger(L, 1)));
  return 1;
}

static int l_array(lua_State *L) {
  if (lua_isnoneornil(L, 1)) {
    lua_settop(L, 0);
    lua_newtable(L);
  } else {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
  }
  luaL_getmetatable(L, LK_ARRAY_MT);
  lua_setmetatable(L, 1);
  return 1;
}

static int l_json_encode(lua_State *L) {
  luaL_checkany(L, 1);
  lk_json_encode(L, 1, 1);
  return 1;
}

static int l_json_decode(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  if (lk_json_decode(L, s, n)) return 1;
  return lk_fail(L, IOTKIT_ERR_BAD_ENCODING, "json_decode", "not one JSON value");
}

static const luaL_Reg lk_functions[] = {
  {"on_error", l_on_error},
  {"strerror", l_strerror},
  {"err_name", l_err_name},
  {"array", l_array},
  {"json_encode", l_json_encode},
  {"json_decode", l_json_decode},
  {NULL, NULL},
};

#if defined(__GNUC__)
__attribute__((visibility("default")))
#endif
int luaopen_iotkit(lua_State *L);

int luaopen_iotkit(lua_State *L) {
  luaL_newmetatable(L, LK_ARRAY_MT);
  lua_pop(L, 1);

  lua_newtable(L);
  lk_setfuncs(L, lk_functions);
  lk_device_open(L);
  lk_batch_open(L);
  lk_fleet_open(L);

  lk_pushnull(L);
  lua_setfield(L, -2, "null");

  /* Error codes: iotkit.OK, iotkit.ERR_INVALID_ARG, ... and iotkit.errors[name]. */
  lua_newtable(L);
#define LK_ERR(name, value, msg)              \
  lua_pushinteger(L, (lua_Integer)(value));   \
  lua_setfield(L, -3, #name);                 \
  lua_pushinteger(L, (lua_Integer)(value));   \
  lua_setfield(L, -2, #name);
  IOTKIT_ERRNO_MAP(LK_ERR)
#undef LK_ERR
  lua_setfield(L, -2, "errors");

  lua_pushstring(L, iotkit_version());
  lua_setfield(L, -2, "version");
  lua_pushstring(L, LUA_VERSION);
  lua_setfield(L, -2, "lua_version");
  lua_pushboolean(L, LUA_VERSION_NUM >= 504);
  lua_setfield(L, -2, "have_close");
  return 1;
}
