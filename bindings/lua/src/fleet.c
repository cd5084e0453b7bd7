/*
 * iotkit.fleet{...}: the fleet userdata (fleet.h, fleet_monitor.h,
 * fleet_control.h): the registry (create, get, update, delete, list, count),
 * the live view (presence, state, latest, locate), remote control (command,
 * set_desired) and the broker session with its callbacks (watch).
 *
 * As for devices (device.c), the library's callbacks only queue events in C;
 * fleet:poll() runs the Lua callbacks after iotkit_fleet_poll() has returned.
 * The module never starts the fleet's own thread. A blocking
 * fleet:command() drives the session itself while it waits (fleet_control.h),
 * so callbacks arriving meanwhile wait in the queue for the next poll.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua_iotkit.h"

enum fev_kind { FEV_CONNECTION, FEV_STATUS, FEV_TELEMETRY, FEV_STATE, FEV_EVENT, FEV_LOCATION, FEV_STALE, FEV_RESULT };

/* The user pointer of an asynchronous command: which fleet, and the slot of its Lua
   callback in the user value's "pending" list. Kept in a list of the fleet, since
   iotkit_fleet_free() drops pending commands without calling back. */
typedef struct cmd_ctx {
  struct cmd_ctx *next, *prev;
  struct lk_fleet *lf;
  int ref;
} cmd_ctx_t;

typedef struct lk_fleet {
  iotkit_fleet_t *fleet;
  iotkit_hal_t *hal;
  lk_queue_t queue;
  cmd_ctx_t *commands;
  char db[256];
} lk_fleet_t;

static void ctx_unlink(lk_fleet_t *lf, cmd_ctx_t *ctx) {
  pthread_mutex_lock(&lf->queue.lock);
  if (ctx->prev) ctx->prev->next = ctx->next;
  else lf->commands = ctx->next;
  if (ctx->next) ctx->next->prev = ctx->prev;
  pthread_mutex_unlock(&lf->queue.lock);
}

static const char *const watch_kinds[] = {"connection", "status", "telemetry", "state",
                                          "event", "location", "stale", NULL};

/* ------------------------------------------- the library's callbacks -- */

static void queue(void *user, lk_event_t *e) {
  if (e) lk_queue_append(&((lk_fleet_t *)user)->queue, e);
}

static void c_connection(iotkit_fleet_t *f, void *user, bool up, iotkit_err_t reason, const char *detail) {
  (void)f;
  lk_event_t *e = lk_event_new(FEV_CONNECTION, detail ? detail : "", NULL, 0, NULL);
  if (e) {
    e->flag = up;
    e->code = reason;
  }
  queue(user, e);
}

static void c_status(iotkit_fleet_t *f, void *user, const char *id, bool online, const char *reason, int64_t ts) {
  (void)f;
  lk_event_t *e = lk_event_new(FEV_STATUS, id, reason, reason ? strlen(reason) : 0, NULL);
  if (e) {
    e->flag = online;
    e->i = ts;
  }
  queue(user, e);
}

static void c_telemetry(iotkit_fleet_t *f, void *user, const char *id, const iotkit_telemetry_batch_t *batch) {
  (void)f;
  uint8_t *json = NULL;
  size_t len = 0;
  if (iotkit_telemetry_encode(batch, IOTKIT_TELEMETRY_FORMAT_JSON, &json, &len) != IOTKIT_OK) return;
  queue(user, lk_event_new(FEV_TELEMETRY, id, (const char *)json, len, NULL));
  iotkit_free(json);
}

static void c_state(iotkit_fleet_t *f, void *user, const char *id, const char *state_json, int64_t ts) {
  (void)f;
  lk_event_t *e = lk_event_new(FEV_STATE, id, NULL, 0, state_json);
  if (e) e->i = ts;
  queue(user, e);
}

static void c_event(iotkit_fleet_t *f, void *user, const char *id, const char *type, int64_t ts, const char *data) {
  (void)f;
  lk_event_t *e = lk_event_new(FEV_EVENT, id, type, strlen(type), data);
  if (e) e->i = ts;
  queue(user, e);
}

static void c_location(iotkit_fleet_t *f, void *user, const char *id, const iotkit_location_t *loc) {
  (void)f;
  lk_event_t *e = lk_event_new(FEV_LOCATION, id, NULL, 0, NULL);
  if (e) {
    e->d[0] = loc->latitude;
    e->d[1] = loc->longitude;
    e->d[2] = loc->altitude;
    e->d[3] = loc->accuracy_m;
    e->i = loc->ts_ms;
    e->flag = (loc->has_altitude ? 1 : 0) | (loc->has_accuracy ? 2 : 0);
  }
  queue(user, e);
}

static void c_stale(iotkit_fleet_t *f, void *user, const char *id, bool stale, int64_t last_seen_ms) {
  (void)f;
  lk_event_t *e = lk_event_new(FEV_STALE, id, NULL, 0, NULL);
  if (e) {
    e->flag = stale;
    e->i = last_seen_ms;
  }
  queue(user, e);
}

/* The result of an asynchronous command: a = device id, b = request id, c = result JSON or
   "code\nmessage" of a remote error; u = the callback's slot in the user value's "pending". */
static void c_result(iotkit_fleet_t *f, void *user, const iotkit_fleet_result_t *r) {
  (void)f;
  cmd_ctx_t *ctx = (cmd_ctx_t *)user;
  char *remote = NULL;
  const char *c = r->result_json;
  if (r->err == IOTKIT_ERR_REMOTE) {
    size_t lc = strlen(r->error_code ? r->error_code : ""), lm = strlen(r->error_message ? r->error_message : "");
    remote = (char *)malloc(lc + lm + 2);
    if (remote) {
      memcpy(remote, r->error_code ? r->error_code : "", lc);
      remote[lc] = '\n';
      memcpy(remote + lc + 1, r->error_message ? r->error_message : "", lm + 1);
    }
    c = remote;
  }
  lk_event_t *e = lk_event_new(FEV_RESULT, r->device_id, r->request_id, strlen(r->request_id), c);
  if (e) {
    e->code = r->err;
    e->u = (uint64_t)ctx->ref;
  }
  free(remote);
  queue(ctx->lf, e);
  ctx_unlink(ctx->lf, ctx);
  free(ctx);
}

/* ------------------------------------------------------------ helpers -- */

static lk_fleet_t *check_fleet(lua_State *L, int idx) {
  lk_fleet_t *lf = (lk_fleet_t *)luaL_checkudata(L, idx, LK_FLEET_MT);
  if (!lf->fleet) luaL_argerror(L, idx, "the fleet is closed");
  return lf;
}

static int fleet_fail(lua_State *L, lk_fleet_t *lf, iotkit_err_t rc, const char *what) {
  char buf[IOTKIT_ERROR_TEXT_SIZE];
  return lk_fail(L, rc, what, lf->fleet ? iotkit_fleet_last_error(lf->fleet, buf, sizeof buf) : NULL);
}

/* true, or the runtime-failure return for @p rc */
static int fleet_done(lua_State *L, lk_fleet_t *lf, iotkit_err_t rc, const char *what) {
  if (rc != IOTKIT_OK) return fleet_fail(L, lf, rc, what);
  lua_pushboolean(L, 1);
  return 1;
}

static void push_json_or_string(lua_State *L, const char *json) {
  if (!json) lua_pushnil(L);
  else if (!lk_json_decode(L, json, strlen(json))) lua_pushstring(L, json);
}

static void push_record(lua_State *L, const iotkit_fleet_device_t *r) {
  lua_createtable(L, 0, 9);
  lua_pushstring(L, r->id);
  lua_setfield(L, -2, "id");
  lua_pushstring(L, r->name);
  lua_setfield(L, -2, "name");
  lua_pushstring(L, r->type);
  lua_setfield(L, -2, "type");
  lua_createtable(L, (int)r->tag_count, 0);
  for (size_t i = 0; i < r->tag_count; i++) {
    lua_pushstring(L, r->tags[i]);
    lua_rawseti(L, -2, (int)i + 1);
  }
  luaL_getmetatable(L, LK_ARRAY_MT);
  lua_setmetatable(L, -2);
  lua_setfield(L, -2, "tags");
  push_json_or_string(L, r->attributes);
  lua_setfield(L, -2, "attributes");
  lk_pushint64(L, r->created_ms);
  lua_setfield(L, -2, "created_ms");
  lk_pushint64(L, r->updated_ms);
  lua_setfield(L, -2, "updated_ms");
  lk_pushint64(L, r->last_seen_ms);
  lua_setfield(L, -2, "last_seen_ms");
  lua_pushboolean(L, r->online);
  lua_setfield(L, -2, "online");
}

static void push_location(lua_State *L, double lat, double lon, double alt, double acc, int64_t ts, int flags) {
  lua_createtable(L, 0, 5);
  lua_pushnumber(L, lat);
  lua_setfield(L, -2, "latitude");
  lua_pushnumber(L, lon);
  lua_setfield(L, -2, "longitude");
  if (flags & 1) {
    lua_pushnumber(L, alt);
    lua_setfield(L, -2, "altitude");
  }
  if (flags & 2) {
    lua_pushnumber(L, acc);
    lua_setfield(L, -2, "accuracy");
  }
  lk_pushint64(L, ts);
  lua_setfield(L, -2, "ts_ms");
}

/* Tags at field "tags" of the table at @p idx: an array of strings. Pointers into the table. */
static size_t read_tags(lua_State *L, int idx, int arg, const char **tags, size_t cap, int *present) {
  lua_getfield(L, idx, "tags");
  *present = !lua_isnil(L, -1);
  size_t n = 0;
  if (*present) {
    if (!lua_istable(L, -1)) luaL_argerror(L, arg, "field 'tags' must be a list of strings");
    n = (size_t)lk_rawlen(L, -1);
    if (n > cap) n = cap + 1; /* the library says ERR_TOO_LARGE */
    for (size_t i = 0; i < n && i < cap; i++) {
      lua_rawgeti(L, -1, (int)i + 1);
      if (lua_type(L, -1) != LUA_TSTRING) luaL_argerror(L, arg, "field 'tags' must be a list of strings");
      tags[i] = lua_tostring(L, -1);
      lua_pop(L, 1); /* the table keeps the string */
    }
  }
  lua_pop(L, 1);
  return n;
}

#define LK_MAX_TAGS 64

/* Fill @p spec from the options table at @p opts; returns the field mask of the fields given.
   attributes (a table) is encoded into a string pushed on the stack (kept until the call returns). */
static uint32_t read_spec(lua_State *L, int opts, int arg, iotkit_fleet_device_spec_t *spec, const char **tags) {
  uint32_t mask = 0;
  if (lua_isnoneornil(L, opts)) return 0;
  luaL_checktype(L, opts, LUA_TTABLE);
  lua_getfield(L, opts, "name");
  if (!lua_isnil(L, -1)) mask |= IOTKIT_FLEET_FIELD_NAME;
  lua_pop(L, 1);
  lua_getfield(L, opts, "type");
  if (!lua_isnil(L, -1)) mask |= IOTKIT_FLEET_FIELD_TYPE;
  lua_pop(L, 1);
  spec->name = lk_field_string(L, opts, "name", arg);
  spec->type = lk_field_string(L, opts, "type", arg);
  int present;
  spec->tag_count = read_tags(L, opts, arg, tags, LK_MAX_TAGS, &present);
  spec->tags = tags;
  if (present) mask |= IOTKIT_FLEET_FIELD_TAGS;
  lua_getfield(L, opts, "attributes");
  if (lua_istable(L, -1)) {
    lk_json_encode(L, lua_gettop(L), arg);
    lua_remove(L, -2);
    spec->attributes = lua_tostring(L, -1); /* stays on the stack */
    mask |= IOTKIT_FLEET_FIELD_ATTRIBUTES;
  } else if (lua_type(L, -1) == LUA_TSTRING) {
    spec->attributes = lua_tostring(L, -1);
    mask |= IOTKIT_FLEET_FIELD_ATTRIBUTES;
  } else if (!lua_isnil(L, -1)) {
    luaL_argerror(L, arg, "field 'attributes' must be a table or JSON text");
  }
  return mask;
}

/* A filter from the table at @p idx (type, tag, online, last_seen_before_ms, last_seen_after_ms). */
static void read_filter(lua_State *L, int idx, iotkit_fleet_filter_t *f) {
  iotkit_fleet_filter_init(f);
  if (lua_isnoneornil(L, idx)) return;
  luaL_checktype(L, idx, LUA_TTABLE);
  f->type = lk_field_string(L, idx, "type", idx);
  f->tag = lk_field_string(L, idx, "tag", idx);
  lua_getfield(L, idx, "online");
  if (lua_type(L, -1) == LUA_TBOOLEAN) f->online = lua_toboolean(L, -1) ? IOTKIT_FLEET_ONLINE_ONLY : IOTKIT_FLEET_OFFLINE_ONLY;
  else if (!lua_isnil(L, -1)) luaL_argerror(L, idx, "field 'online' must be a boolean");
  lua_pop(L, 1);
  int has;
  lua_Number v = lk_field_number(L, idx, "last_seen_before_ms", idx, &has);
  if (has) f->last_seen_before_ms = (int64_t)v;
  v = lk_field_number(L, idx, "last_seen_after_ms", idx, &has);
  if (has) f->last_seen_after_ms = (int64_t)v;
}

/* --------------------------------------------------------- dispatch -- */

static void get_uv(lua_State *L, int self, const char *key) {
  lk_getuservalue(L, self);
  lua_getfield(L, -1, key);
  lua_remove(L, -2);
}

static void run_result(lua_State *L, int self, lk_event_t *e) {
  lk_getuservalue(L, self);
  lua_getfield(L, -1, "pending");
  lua_rawgeti(L, -1, (int)e->u);
  lua_pushnil(L);
  lua_rawseti(L, -3, (int)e->u); /* the callback is called once */
  lua_remove(L, -2);
  lua_remove(L, -2);
  if (!lua_isfunction(L, -1)) {
    lua_pop(L, 1);
    return;
  }
  lua_createtable(L, 0, 6);
  lua_pushstring(L, e->a);
  lua_setfield(L, -2, "device_id");
  lua_pushstring(L, e->b);
  lua_setfield(L, -2, "request_id");
  lua_pushinteger(L, e->code);
  lua_setfield(L, -2, "code");
  if (e->code == IOTKIT_OK) {
    push_json_or_string(L, e->c);
    lua_setfield(L, -2, "result");
  } else if (e->code == IOTKIT_ERR_REMOTE && e->c) {
    const char *nl = strchr(e->c, '\n');
    lua_pushlstring(L, e->c, nl ? (size_t)(nl - e->c) : strlen(e->c));
    lua_setfield(L, -2, "error_code");
    lua_pushstring(L, nl ? nl + 1 : "");
    lua_setfield(L, -2, "error_message");
  }
  lk_pcall(L, 1, 0, "command result");
}

static void dispatch(lua_State *L, int self, lk_fleet_t *lf) {
  lk_event_t *e;
  while (lf->fleet && (e = lk_queue_pop(&lf->queue)) != NULL) {
    if (e->kind == FEV_RESULT) {
      run_result(L, self, e);
      free(e);
      continue;
    }
    get_uv(L, self, watch_kinds[e->kind]);
    if (!lua_isfunction(L, -1)) {
      lua_pop(L, 1);
      free(e);
      continue;
    }
    int n = 0;
    switch (e->kind) {
      case FEV_CONNECTION:
        lua_pushboolean(L, e->flag);
        lua_pushinteger(L, e->code);
        lua_pushstring(L, e->a);
        n = 3;
        break;
      case FEV_STATUS:
        lua_pushstring(L, e->a);
        lua_pushboolean(L, e->flag);
        if (e->b) lua_pushstring(L, e->b);
        else lua_pushnil(L);
        if (e->i == IOTKIT_PROTOCOL_NO_TS) lua_pushnil(L);
        else lk_pushint64(L, e->i);
        n = 4;
        break;
      case FEV_TELEMETRY: {
        lua_pushstring(L, e->a);
        iotkit_telemetry_batch_t *b = NULL;
        if (iotkit_telemetry_decode(IOTKIT_TELEMETRY_FORMAT_JSON, e->b, e->blen, &b) == IOTKIT_OK) {
          lk_batch_push_points(L, b);
          iotkit_telemetry_batch_free(b);
        } else {
          lua_newtable(L);
        }
        n = 2;
        break;
      }
      case FEV_STATE:
        lua_pushstring(L, e->a);
        push_json_or_string(L, e->c);
        lk_pushint64(L, e->i);
        n = 3;
        break;
      case FEV_EVENT:
        lua_pushstring(L, e->a);
        lua_pushstring(L, e->b);
        push_json_or_string(L, e->c);
        lk_pushint64(L, e->i);
        n = 4;
        break;
      case FEV_LOCATION:
        lua_pushstring(L, e->a);
        push_location(L, e->d[0], e->d[1], e->d[2], e->d[3], e->i, e->flag);
        n = 2;
        break;
      case FEV_STALE:
        lua_pushstring(L, e->a);
        lua_pushboolean(L, e->flag);
        lk_pushint64(L, e->i);
        n = 3;
        break;
    }
    lk_pcall(L, n, 0, watch_kinds[e->kind]);
    free(e);
  }
}

/* ---------------------------------------------------------- constructor -- */

static void close_fleet(lk_fleet_t *lf) {
  if (!lf->fleet) return;
  if (iotkit_fleet_is_connected(lf->fleet)) (void)iotkit_fleet_disconnect(lf->fleet);
  iotkit_fleet_free(lf->fleet); /* pending commands are dropped without their callback */
  lf->fleet = NULL;
  while (lf->commands) {
    cmd_ctx_t *ctx = lf->commands;
    lf->commands = ctx->next;
    free(ctx);
  }
  lk_queue_destroy(&lf->queue);
  iotkit_hal_free(lf->hal);
  lf->hal = NULL;
}

static int l_fleet(lua_State *L) {
  if (lua_isnoneornil(L, 1)) {
    lua_settop(L, 0);
    lua_newtable(L);
  }
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  iotkit_fleet_config_t cfg;
  iotkit_fleet_config_init(&cfg);
  char err[IOTKIT_ERROR_TEXT_SIZE] = "";
  cfg.error_buf = err;
  cfg.error_buf_size = sizeof err;
  cfg.db_path = lk_field_string(L, 1, "db", 1);
  if (!cfg.db_path) cfg.db_path = ":memory:";
  cfg.uri = lk_field_string(L, 1, "uri", 1);
  cfg.client_id = lk_field_string(L, 1, "client_id", 1);
  cfg.username = lk_field_string(L, 1, "username", 1);
  cfg.password = lk_field_string(L, 1, "password", 1);
  cfg.topic_prefix = lk_field_string(L, 1, "topic_prefix", 1);
  cfg.auto_register = lk_field_bool(L, 1, "auto_register", 1, cfg.auto_register);
  int has;
  lua_Number v;
  if ((v = lk_field_number(L, 1, "keepalive", 1, &has)), has) cfg.keepalive_s = (uint16_t)(v > 65535 ? 65535 : v);
  if ((v = lk_field_number(L, 1, "connect_timeout", 1, &has)), has) cfg.connect_timeout_ms = (uint32_t)(v * 1000);
  if ((v = lk_field_number(L, 1, "heartbeat", 1, &has)), has) cfg.heartbeat_ms = (uint32_t)(v * 1000);
  if ((v = lk_field_number(L, 1, "reconnect_min", 1, &has)), has) cfg.reconnect_min_ms = (uint32_t)(v * 1000);
  if ((v = lk_field_number(L, 1, "reconnect_max", 1, &has)), has) cfg.reconnect_max_ms = (uint32_t)(v * 1000);
  if ((v = lk_field_number(L, 1, "history_max_points", 1, &has)), has) cfg.history_max_points = (uint32_t)v;
  if ((v = lk_field_number(L, 1, "mqtt_version", 1, &has)), has) cfg.mqtt_version = (int)v;

  lk_fleet_t *lf = (lk_fleet_t *)lk_newuserdata(L, sizeof *lf);
  memset(lf, 0, sizeof *lf);
  lk_setmetatable(L, LK_FLEET_MT);
  int self = lua_gettop(L);
  lua_newtable(L);
  lua_newtable(L);
  lua_setfield(L, -2, "pending");
  lk_setuservalue(L, self);

  iotkit_err_t rc = lk_make_hal(L, 1, 1, NULL, &lf->hal);
  if (rc != IOTKIT_OK) return lk_fail(L, rc, "fleet", NULL);
  cfg.hal = lf->hal;
  rc = iotkit_fleet_new(&cfg, &lf->fleet);
  if (rc != IOTKIT_OK) {
    iotkit_hal_free(lf->hal);
    lf->hal = NULL;
    return lk_fail(L, rc, "fleet", err);
  }
  lk_queue_init(&lf->queue);
  snprintf(lf->db, sizeof lf->db, "%s", cfg.db_path);
  iotkit_fleet_on_connection(lf->fleet, c_connection, lf);
  iotkit_fleet_on_status(lf->fleet, c_status, lf);
  iotkit_fleet_on_telemetry(lf->fleet, c_telemetry, lf);
  iotkit_fleet_on_state(lf->fleet, c_state, lf);
  iotkit_fleet_on_event(lf->fleet, c_event, lf);
  iotkit_fleet_on_location(lf->fleet, c_location, lf);
  iotkit_fleet_on_stale(lf->fleet, c_stale, lf);
  lua_pushvalue(L, self);
  return 1;
}

/* -------------------------------------------------------- registry -- */

static int f_create(lua_State *L) {
  lk_fleet_t *lf = check_fleet(L, 1);
  iotkit_fleet_device_spec_t spec;
  const char *tags[LK_MAX_TAGS];
  iotkit_fleet_device_spec_init(&spec);
  spec.id = luaL_checkstring(L, 2);
  (void)read_spec(L, 3, 3, &spec, tags);
  iotkit_err_t rc = iotkit_fleet_device_create(lf->fleet, &spec);
  return fleet_done(L, lf, rc, "create");
}

static int f_update(lua_State *L) {
  lk_fleet_t *lf = check_fleet(L, 1);
  iotkit_fleet_device_spec_t spec;
  const char *tags[LK_MAX_TAGS];
  iotkit_fleet_device_spec_init(&spec);
  spec.id = luaL_checkstring(L, 2);
  luaL_checktype(L, 3, LUA_TTABLE);
  uint32_t mask = read_spec(L, 3, 3, &spec, tags);
  iotkit_err_t rc = iotkit_fleet_device_update(lf->fleet, &spec, mask);
  return fleet_done(L, lf, rc, "update");
}

static int f_get(lua_State *L) {
  lk_fleet_t *lf = check_fleet(L, 1);
  iotkit_fleet_device_t *r = NULL;
  iotkit_err_t rc = iotkit_fleet_device_get(lf->fleet, luaL_checkstring(L, 2), &r);
  if (rc != IOTKIT_OK) return fleet_fail(L, lf, rc, "get");
  push_record(L, r);
  iotkit_fleet_device_free(r);
  return 1;
}

static int f_delete(lua_State *L) {
  lk_fleet_t *lf = check_fleet(L, 1);
  iotkit_err_t rc = iotkit_fleet_device_delete(lf->fleet, luaL_checkstring(L, 2));
  return fleet_done(L, lf, rc, "delete");
}

static int f_list(lua_State *L) {
  lk_fleet_t *lf = check_fleet(L, 1);
  iotkit_fleet_filter_t filter;
  read_filter(L, 2, &filter);
  const char *after = NULL;
  size_t limit = (size_t)iotkit_limit(IOTKIT_LIMIT_FLEET_MAX_PAGE);
  if (!lua_isnoneornil(L, 2)) {
    after = lk_field_string(L, 2, "after", 2);
    int has;
    lua_Number v = lk_field_number(L, 2, "limit", 2, &has);
    if (has) limit = (size_t)v;
  }
  iotkit_fleet_page_t *page = NULL;
  iotkit_err_t rc = iotkit_fleet_list(lf->fleet, &filter, after, limit, &page);
  if (rc != IOTKIT_OK) return fleet_fail(L, lf, rc, "list");
  lua_createtable(L, (int)page->count, 0);
  for (size_t i = 0; i < page->count; i++) {
    push_record(L, page->devices[i]);
    lua_rawseti(L, -2, (int)i + 1);
  }
  if (page->next_after) lua_pushstring(L, page->next_after);
  else lua_pushnil(L);
  iotkit_fleet_page_free(page);
  return 2;
}

static int f_count(lua_State *L) {
  lk_fleet_t *lf = check_fleet(L, 1);
  iotkit_fleet_filter_t filter;
  read_filter(L, 2, &filter);
  uint64_t n = 0;
  iotkit_err_t rc = iotkit_fleet_count(lf->fleet, &filter, &n);
  if (rc != IOTKIT_OK) return fleet_fail(L, lf, rc, "count");
  lk_pushint64(L, n);
  return 1;
}

/* --------------------------------------------------------- the view -- */

static int f_presence(lua_State *L) {
  lk_fleet_t *lf = check_fleet(L, 1);
  iotkit_fleet_presence_t p;
  memset(&p, 0, sizeof p);
  iotkit_err_t rc = iotkit_fleet_presence(lf->fleet, luaL_checkstring(L, 2), &p);
  if (rc != IOTKIT_OK) return fleet_fail(L, lf, rc, "presence");
  lua_createtable(L, 0, 3);
  lua_pushboolean(L, p.online);
  lua_setfield(L, -2, "online");
  lua_pushboolean(L, p.stale);
  lua_setfield(L, -2, "stale");
  lk_pushint64(L, p.last_seen_ms);
  lua_setfield(L, -2, "last_seen_ms");
  return 1;
}

static int f_state(lua_State *L) {
  lk_fleet_t *lf = check_fleet(L, 1);
  char *json = NULL;
  int64_t ts = 0;
  iotkit_err_t rc = iotkit_fleet_state(lf->fleet, luaL_checkstring(L, 2), &json, &ts);
  if (rc != IOTKIT_OK) return fleet_fail(L, lf, rc, "state");
  push_json_or_string(L, json); /* nil when nothing was reported yet */
  iotkit_free(json);
  lk_pushint64(L, ts);
  return 2;
}

static int f_latest(lua_State *L) {
  lk_fleet_t *lf = check_fleet(L, 1);
  iotkit_telemetry_batch_t *b = NULL;
  iotkit_err_t rc = iotkit_fleet_latest(lf->fleet, luaL_checkstring(L, 2), luaL_optstring(L, 3, NULL), &b);
  if (rc != IOTKIT_OK) return fleet_fail(L, lf, rc, "latest");
  lk_batch_push_points(L, b);
  iotkit_telemetry_batch_free(b);
  return 1;
}

static int f_locate(lua_State *L) {
  lk_fleet_t *lf = check_fleet(L, 1);
  iotkit_location_t loc;
  memset(&loc, 0, sizeof loc);
  iotkit_err_t rc = iotkit_fleet_locate(lf->fleet, luaL_checkstring(L, 2), &loc);
  if (rc != IOTKIT_OK) return fleet_fail(L, lf, rc, "locate");
  push_location(L, loc.latitude, loc.longitude, loc.altitude, loc.accuracy_m, loc.ts_ms,
                (loc.has_altitude ? 1 : 0) | (loc.has_accuracy ? 2 : 0));
  return 1;
}

/* ------------------------------------------------------------ control -- */

/* fleet:command(id, name[, params[, opts]]): opts.timeout (s), opts.callback (asynchronous). */
static int f_command(lua_State *L) {
  lk_fleet_t *lf = check_fleet(L, 1);
  const char *id = luaL_checkstring(L, 2);
  const char *name = luaL_checkstring(L, 3);
  char *params = NULL;
  uint32_t timeout_ms = 0;
  int cb = 0;
  if (!lua_isnoneornil(L, 5)) {
    luaL_checktype(L, 5, LUA_TTABLE);
    int has;
    lua_Number v = lk_field_number(L, 5, "timeout", 5, &has);
    if (has) timeout_ms = (uint32_t)(v * 1000 > 4e9 ? 4e9 : v * 1000);
    lua_getfield(L, 5, "callback");
    if (!lua_isnil(L, -1)) {
      luaL_checktype(L, -1, LUA_TFUNCTION);
      cb = lua_gettop(L);
    } else {
      lua_pop(L, 1);
    }
  }
  if (!lua_isnoneornil(L, 4)) {
    luaL_checktype(L, 4, LUA_TTABLE);
    params = lk_json_encode_c(L, 4, 4);
  }
  iotkit_err_t rc;
  if (cb) {
    /* the callback waits in the user value's "pending" list until its result is run */
    lk_getuservalue(L, 1);
    lua_getfield(L, -1, "pending");
    int ref = (int)lk_rawlen(L, -1) + 1;
    while (lua_rawgeti(L, -1, ref), !lua_isnil(L, -1)) {
      lua_pop(L, 1);
      ref++;
    }
    lua_pop(L, 1);
    cmd_ctx_t *ctx = (cmd_ctx_t *)malloc(sizeof *ctx);
    if (!ctx) {
      free(params);
      return lk_fail(L, IOTKIT_ERR_NOMEM, "command", NULL);
    }
    ctx->lf = lf;
    ctx->ref = ref;
    ctx->prev = NULL;
    pthread_mutex_lock(&lf->queue.lock);
    ctx->next = lf->commands;
    if (ctx->next) ctx->next->prev = ctx;
    lf->commands = ctx;
    pthread_mutex_unlock(&lf->queue.lock);
    char request_id[IOTKIT_MAX_REQUEST_ID + 1] = "";
    rc = iotkit_fleet_command_send(lf->fleet, id, name, params, timeout_ms, c_result, ctx, request_id,
                                   sizeof request_id);
    free(params);
    if (rc != IOTKIT_OK) { /* never called back */
      ctx_unlink(lf, ctx);
      free(ctx);
      return fleet_fail(L, lf, rc, "command");
    }
    lua_pushvalue(L, cb);
    lua_rawseti(L, -2, ref);
    lua_pushstring(L, request_id);
    return 1;
  }
  iotkit_fleet_results_t *out = NULL;
  rc = iotkit_fleet_command_call(lf->fleet, id, name, params, timeout_ms, &out);
  free(params);
  if (rc == IOTKIT_OK && out && out->count == 1) {
    push_json_or_string(L, out->items[0].result_json);
    iotkit_fleet_results_free(out);
    return 1;
  }
  if (rc == IOTKIT_ERR_REMOTE && out && out->count == 1) {
    const iotkit_fleet_result_t *r = &out->items[0];
    lua_pushnil(L);
    lua_pushfstring(L, "command: %s: %s", r->error_code ? r->error_code : "", r->error_message ? r->error_message : "");
    lua_pushinteger(L, rc);
    lua_pushstring(L, r->error_code ? r->error_code : "");
    iotkit_fleet_results_free(out);
    return 4;
  }
  iotkit_fleet_results_free(out);
  return fleet_fail(L, lf, rc, "command");
}

static int f_set_desired(lua_State *L) {
  lk_fleet_t *lf = check_fleet(L, 1);
  const char *id = luaL_checkstring(L, 2);
  luaL_checktype(L, 3, LUA_TTABLE);
  lk_json_encode(L, 3, 3);
  uint64_t version = 0;
  iotkit_err_t rc = iotkit_fleet_desired_set(lf->fleet, id, lua_tostring(L, -1), &version);
  if (rc != IOTKIT_OK) return fleet_fail(L, lf, rc, "set_desired");
  lk_pushint64(L, version);
  return 1;
}

static int f_desired(lua_State *L) {
  lk_fleet_t *lf = check_fleet(L, 1);
  char *json = NULL;
  uint64_t version = 0;
  iotkit_err_t rc = iotkit_fleet_desired_get(lf->fleet, luaL_checkstring(L, 2), &json, &version);
  if (rc != IOTKIT_OK) return fleet_fail(L, lf, rc, "desired");
  push_json_or_string(L, json);
  iotkit_free(json);
  lk_pushint64(L, version);
  return 2;
}

/* ------------------------------------------------------------ session -- */

static int f_connect(lua_State *L) {
  lk_fleet_t *lf = check_fleet(L, 1);
  iotkit_err_t rc = iotkit_fleet_connect(lf->fleet);
  return fleet_done(L, lf, rc, "connect");
}

static int f_disconnect(lua_State *L) {
  lk_fleet_t *lf = check_fleet(L, 1);
  iotkit_err_t rc = iotkit_fleet_disconnect(lf->fleet);
  return fleet_done(L, lf, rc, "disconnect");
}

static int f_poll(lua_State *L) {
  lk_fleet_t *lf = check_fleet(L, 1);
  int ms = lk_opt_ms(L, 2, 0);
  lua_settop(L, 1);
  iotkit_err_t rc = iotkit_fleet_poll(lf->fleet, lk_queue_pending(&lf->queue) ? 0 : ms);
  dispatch(L, 1, lf);
  if (rc != IOTKIT_OK && lf->fleet) return fleet_fail(L, lf, rc, "poll");
  lua_pushboolean(L, 1);
  return 1;
}

static int f_watch(lua_State *L) {
  check_fleet(L, 1);
  if (lua_istable(L, 2)) { /* fleet:watch{status = fn, telemetry = fn, ...} */
    for (int i = 0; watch_kinds[i]; i++) {
      lua_getfield(L, 2, watch_kinds[i]);
      if (!lua_isnil(L, -1)) {
        luaL_checktype(L, -1, LUA_TFUNCTION);
        lk_getuservalue(L, 1);
        lua_pushvalue(L, -2);
        lua_setfield(L, -2, watch_kinds[i]);
        lua_pop(L, 1);
      }
      lua_pop(L, 1);
    }
    lua_settop(L, 1);
    return 1;
  }
  int kind = luaL_checkoption(L, 2, NULL, watch_kinds);
  luaL_checkany(L, 3);
  if (!lua_isnil(L, 3)) luaL_checktype(L, 3, LUA_TFUNCTION);
  lk_getuservalue(L, 1);
  lua_pushvalue(L, 3);
  lua_setfield(L, -2, watch_kinds[kind]);
  lua_settop(L, 1);
  return 1;
}

static int f_fd(lua_State *L) {
  lk_fleet_t *lf = (lk_fleet_t *)luaL_checkudata(L, 1, LK_FLEET_MT);
  lua_pushinteger(L, lf->fleet ? iotkit_fleet_fd(lf->fleet) : -1);
  return 1;
}

static int f_dirty(lua_State *L) {
  lk_fleet_t *lf = (lk_fleet_t *)luaL_checkudata(L, 1, LK_FLEET_MT);
  lua_pushboolean(L, lf->fleet && (lk_queue_pending(&lf->queue) || iotkit_fleet_next_timeout_ms(lf->fleet) == 0));
  return 1;
}

static int f_next_timeout(lua_State *L) {
  lk_fleet_t *lf = check_fleet(L, 1);
  int ms = lk_queue_pending(&lf->queue) ? 0 : iotkit_fleet_next_timeout_ms(lf->fleet);
  if (ms < 0) lua_pushnil(L);
  else lua_pushnumber(L, (lua_Number)ms / 1000.0);
  return 1;
}

static int f_connected(lua_State *L) {
  lk_fleet_t *lf = (lk_fleet_t *)luaL_checkudata(L, 1, LK_FLEET_MT);
  lua_pushboolean(L, lf->fleet && iotkit_fleet_is_connected(lf->fleet));
  return 1;
}

static int f_closed(lua_State *L) {
  lk_fleet_t *lf = (lk_fleet_t *)luaL_checkudata(L, 1, LK_FLEET_MT);
  lua_pushboolean(L, lf->fleet == NULL);
  return 1;
}

static int f_sync(lua_State *L) {
  lk_fleet_t *lf = check_fleet(L, 1);
  iotkit_err_t rc = iotkit_fleet_sync(lf->fleet);
  return fleet_done(L, lf, rc, "sync");
}

static int f_close(lua_State *L) {
  close_fleet((lk_fleet_t *)luaL_checkudata(L, 1, LK_FLEET_MT));
  return 0;
}

static int f_tostring(lua_State *L) {
  lk_fleet_t *lf = (lk_fleet_t *)luaL_checkudata(L, 1, LK_FLEET_MT);
  lua_pushfstring(L, "iotkit.fleet (%s, %s)", lf->db,
                  !lf->fleet ? "closed" : iotkit_fleet_is_connected(lf->fleet) ? "connected" : "not connected");
  return 1;
}

static const luaL_Reg f_methods[] = {
  {"create", f_create},
  {"get", f_get},
  {"update", f_update},
  {"delete", f_delete},
  {"list", f_list},
  {"count", f_count},
  {"presence", f_presence},
  {"state", f_state},
  {"latest", f_latest},
  {"locate", f_locate},
  {"command", f_command},
  {"set_desired", f_set_desired},
  {"desired", f_desired},
  {"connect", f_connect},
  {"disconnect", f_disconnect},
  {"poll", f_poll},
  {"watch", f_watch},
  {"fd", f_fd},
  {"getfd", f_fd},
  {"dirty", f_dirty},
  {"next_timeout", f_next_timeout},
  {"connected", f_connected},
  {"closed", f_closed},
  {"sync", f_sync},
  {"close", f_close},
  {"__gc", f_close},
#if LUA_VERSION_NUM >= 504
  {"__close", f_close},
#endif
  {"__tostring", f_tostring},
  {NULL, NULL},
};

void lk_fleet_open(lua_State *L) {
  lk_newclass(L, LK_FLEET_MT, f_methods);
  lua_pop(L, 1);
  lua_pushcfunction(L, l_fleet);
  lua_setfield(L, -2, "fleet");
}
