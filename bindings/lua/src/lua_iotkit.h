/*
 * Internal header of the Lua binding (bindings/lua): the version shims that let
 * one source build against Lua 5.1, LuaJIT and Lua 5.2 to 5.4, and what the
 * module's files share (JSON conversion, error returns, callback dispatch).
 */
#ifndef LUA_IOTKIT_H
#define LUA_IOTKIT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#include <iotkit/iotkit.h>

/* ------------------------------------------------------ version shims -- */
#if LUA_VERSION_NUM < 502
/* Lua 5.1 and LuaJIT: the userdata's environment table is its user value. */
#define lk_newuserdata(L, sz) lua_newuserdata((L), (sz))
#define lk_getuservalue(L, idx) lua_getfenv((L), (idx))
#define lk_setuservalue(L, idx) lua_setfenv((L), (idx))
#define lk_rawlen(L, idx) lua_objlen((L), (idx))
#define lk_setfuncs(L, l) luaL_register((L), NULL, (l))
#define LK_HAVE_INTEGERS 0
#define lk_setmetatable(L, name) (luaL_getmetatable((L), (name)), lua_setmetatable((L), -2))
#elif LUA_VERSION_NUM < 504
#define lk_newuserdata(L, sz) lua_newuserdata((L), (sz))
#define lk_getuservalue(L, idx) ((void)lua_getuservalue((L), (idx)))
#define lk_setuservalue(L, idx) lua_setuservalue((L), (idx))
#define lk_rawlen(L, idx) lua_rawlen((L), (idx))
#define lk_setfuncs(L, l) luaL_setfuncs((L), (l), 0)
#define LK_HAVE_INTEGERS (LUA_VERSION_NUM >= 503)
#else
#define lk_newuserdata(L, sz) lua_newuserdatauv((L), (sz), 1)
#define lk_getuservalue(L, idx) ((void)lua_getiuservalue((L), (idx), 1))
#define lk_setuservalue(L, idx) lua_setiuservalue((L), (idx), 1)
#define lk_rawlen(L, idx) lua_rawlen((L), (idx))
#define lk_setfuncs(L, l) luaL_setfuncs((L), (l), 0)
#define LK_HAVE_INTEGERS 1
#endif

#ifndef lk_setmetatable
#define lk_setmetatable(L, name) luaL_setmetatable((L), (name))
#endif

/* 64-bit counts and ids: integers where Lua has them, else numbers (exact to 2^53). */
#if LK_HAVE_INTEGERS
#define lk_pushint64(L, v) lua_pushinteger((L), (lua_Integer)(v))
#else
#define lk_pushint64(L, v) lua_pushnumber((L), (lua_Number)(v))
#endif

/* Metatable names (the registry keys of luaL_newmetatable). */
#define LK_DEVICE_MT "iotkit.device"
#define LK_BATCH_MT "iotkit.batch"
#define LK_FLEET_MT "iotkit.fleet"
#define LK_ARRAY_MT "iotkit.array"

/* ----------------------------------------------------------- module.c -- */
/** Push nil, "<what>: <strerror>[: detail]", code and return 3 (the runtime-failure return). */
int lk_fail(lua_State *L, iotkit_err_t code, const char *what, const char *detail);
/** Push iotkit.null (a light userdata sentinel). */
void lk_pushnull(lua_State *L);
/** Whether the value at idx is iotkit.null. */
int lk_isnull(lua_State *L, int idx);
/** Register the metatable @p name with methods @p methods (__index to itself). Leaves it on the stack. */
void lk_newclass(lua_State *L, const char *name, const luaL_Reg *methods);
/** Check an optional timeout in seconds at @p idx (default @p def): milliseconds, 0..INT_MAX. */
int lk_opt_ms(lua_State *L, int idx, int def_ms);
/** Read an optional string field of the table at @p idx (type errors raise, naming @p arg). */
const char *lk_field_string(lua_State *L, int idx, const char *key, int arg);
/** Read an optional integer field (0 when absent); negatives and non-integers raise. */
lua_Number lk_field_number(lua_State *L, int idx, const char *key, int arg, int *present);
/** Read an optional boolean field (@p def when absent). */
int lk_field_bool(lua_State *L, int idx, const char *key, int arg, int def);
/**
 * Call the function at the top of the stack with @p nargs arguments below it
 * under a traceback handler; a Lua error is reported (iotkit.on_error's
 * handler, else stderr) and never unwinds further. Leaves @p nres results
 * (nil-filled on error). Returns 1 when the call succeeded.
 */
int lk_pcall(lua_State *L, int nargs, int nres, const char *where);
/** Report an error text through the script's handler or stderr. */
void lk_report(lua_State *L, const char *where, const char *text);

/**
 * Make the HAL a handle owns: the POSIX HAL on @p state_dir, or without one the
 * memory HAL (state in RAM, lost at exit); log lines at or above @p log_level
 * (a name at table field "log_level", default "warn") go to stderr.
 */
iotkit_err_t lk_make_hal(lua_State *L, int opts, int arg, const char *state_dir, iotkit_hal_t **out);

/* ------------------------------------------------------------ queue.c -- */
/** One library callback's arguments, copied (strings in the same allocation). */
typedef struct lk_event {
  struct lk_event *next;
  int kind;
  int code;
  int flag;
  uint64_t u;
  int64_t i;
  double d[4];
  size_t blen;
  char *a, *b, *c;
  void *ptr;
} lk_event_t;

/** A queue of events, filled by library callbacks and emptied by :poll(). */
typedef struct lk_queue {
  lk_event_t *head, *tail;
  pthread_mutex_t lock;
} lk_queue_t;

void lk_queue_init(lk_queue_t *q);
/** A new event (not yet queued) with copies of @p a, @p b (@p blen bytes) and @p c (each may be NULL); NULL without memory. */
lk_event_t *lk_event_new(int kind, const char *a, const char *b, size_t blen, const char *c);
/** Queue an event made by lk_event_new(). */
void lk_queue_append(lk_queue_t *q, lk_event_t *e);
/** Take the oldest event (free() it after use), or NULL. */
lk_event_t *lk_queue_pop(lk_queue_t *q);
/** Whether events wait. */
int lk_queue_pending(lk_queue_t *q);
/** Free every queued event. */
void lk_queue_clear(lk_queue_t *q);
/** Free every queued event and the lock. */
void lk_queue_destroy(lk_queue_t *q);

/* ------------------------------------------------------------- json.c -- */
/**
 * Encode the value at @p idx as JSON into a new Lua string (pushed). Misuse
 * (a value that has no JSON form: a function, NaN, a mixed or sparse table,
 * a cycle) raises through luaL_argerror naming argument @p arg.
 */
void lk_json_encode(lua_State *L, int idx, int arg);
/** Encode to a malloc'd NUL-terminated text (free with free()); raises like lk_json_encode(). */
char *lk_json_encode_c(lua_State *L, int idx, int arg);
/** Decode @p len bytes of JSON and push the value; on malformed text pushes nothing and returns 0. */
int lk_json_decode(lua_State *L, const char *text, size_t len);

/* ------------------------------------------------------------ batch.c -- */
void lk_batch_open(lua_State *L);
/** The batch at @p idx, or NULL if the value is not a batch (raises if it is a closed one). */
iotkit_telemetry_batch_t *lk_batch_test(lua_State *L, int idx, int arg);
/** Fill @p batch from a table name -> value or name -> {value=,unit=,ts=,tags=}. Misuse raises; returns the library's code. */
iotkit_err_t lk_batch_from_table(lua_State *L, int idx, int arg, iotkit_telemetry_batch_t *batch, int64_t ts_default);
/** Push a new batch userdata (closed with lk_batch_close_top() or by the GC); *out receives its batch. */
iotkit_err_t lk_batch_push_new(lua_State *L, const iotkit_hal_t *hal, iotkit_telemetry_batch_t **out);
/** Free the batch of the userdata at the top and pop it. */
void lk_batch_close_top(lua_State *L);
/** Push a batch as a list of point tables. */
void lk_batch_push_points(lua_State *L, const iotkit_telemetry_batch_t *batch);
/** Check a format name at @p idx (default "json"); an unknown name raises. */
iotkit_telemetry_format_t lk_check_format(lua_State *L, int idx);

/* ----------------------------------------------------------- device.c -- */
void lk_device_open(lua_State *L);
/* ------------------------------------------------------------ fleet.c -- */
void lk_fleet_open(lua_State *L);

#endif /* LUA_IOTKIT_H */
