/*
 * iotkit.device{...}: the device userdata (device.h).
 *
 * Callbacks. The library's callbacks of a device run in the thread that
 * polls it: this module never starts the background loop, so that is the
 * script's thread, inside device:connect(), :poll() or :disconnect(). They do
 * not touch Lua: each one copies its arguments into an event queued in C, and
 * device:poll() runs the queued events' Lua callbacks after the library call
 * has returned, one at a time, each under a protected call (an error is
 * reported with its traceback and goes no further). So no Lua code ever runs
 * inside the library, and a callback may call any method of its device,
 * close() included.
 *
 * The Lua callbacks live in the userdata's user value (a table), not in the
 * registry, so that a device referred to only by its own callbacks is still
 * collected.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua_iotkit.h"

enum ev_kind { EV_CONNECTION, EV_MESSAGE, EV_DELIVERY, EV_DESIRED, EV_COMMAND };

typedef struct lk_device {
  iotkit_device_t *dev;
  iotkit_hal_t *hal;
  lk_queue_t queue;
  char id[IOTKIT_MAX_DEVICE_ID + 1];
} lk_device_t;

/* Make an event of @p d and queue it once filled by the caller (ev_queue). */
static lk_event_t *ev_new(lk_device_t *d, enum ev_kind kind, const char *a, const char *b, size_t blen,
                          const char *c) {
  (void)d;
  return lk_event_new(kind, a, b, blen, c);
}

static void ev_queue(lk_device_t *d, lk_event_t *e) {
  if (e) lk_queue_append(&d->queue, e);
}

/* ------------------------------------------- the library's callbacks -- */

static void c_connection(iotkit_device_t *dev, void *user, bool connected, iotkit_err_t reason, const char *detail) {
  (void)dev;
  lk_event_t *e = ev_new((lk_device_t *)user, EV_CONNECTION, detail ? detail : "", NULL, 0, NULL);
  if (e) {
    e->flag = connected;
    e->code = reason;
  }
  ev_queue((lk_device_t *)user, e);
}

static void c_message(iotkit_device_t *dev, void *user, const char *channel, const void *payload, size_t len) {
  (void)dev;
  ev_queue((lk_device_t *)user,
           ev_new((lk_device_t *)user, EV_MESSAGE, channel, payload ? (const char *)payload : "", len, NULL));
}

static void c_delivery(iotkit_device_t *dev, void *user, uint32_t msg_id, iotkit_err_t status) {
  (void)dev;
  lk_event_t *e = ev_new((lk_device_t *)user, EV_DELIVERY, NULL, NULL, 0, NULL);
  if (e) {
    e->u = msg_id;
    e->code = status;
  }
  ev_queue((lk_device_t *)user, e);
}

static void c_desired(iotkit_device_t *dev, void *user, const char *delta_json, uint64_t version) {
  (void)dev;
  lk_event_t *e = ev_new((lk_device_t *)user, EV_DESIRED, delta_json, NULL, 0, NULL);
  if (e) e->u = version;
  ev_queue((lk_device_t *)user, e);
}

static void c_command(iotkit_device_t *dev, void *user, const char *request_id, const char *name,
                      const char *params_json, iotkit_command_t *cmd) {
  (void)dev;
  lk_event_t *e = ev_new((lk_device_t *)user, EV_COMMAND, request_id, name, strlen(name), params_json);
  if (e) e->ptr = cmd;
  else iotkit_command_fail(cmd, "busy", "out of memory in the Lua binding");
  ev_queue((lk_device_t *)user, e);
}

/* ------------------------------------------------------------ helpers -- */

static lk_device_t *check_dev(lua_State *L, int idx) {
  lk_device_t *d = (lk_device_t *)luaL_checkudata(L, idx, LK_DEVICE_MT);
  if (!d->dev) luaL_argerror(L, idx, "the device is closed");
  return d;
}

static int dev_fail(lua_State *L, lk_device_t *d, iotkit_err_t rc, const char *what) {
  char buf[IOTKIT_ERROR_TEXT_SIZE];
  return lk_fail(L, rc, what, d->dev ? iotkit_device_last_error(d->dev, buf, sizeof buf) : NULL);
}

/* true, or the runtime-failure return for @p rc */
static int dev_done(lua_State *L, lk_device_t *d, iotkit_err_t rc, const char *what) {
  if (rc != IOTKIT_OK) return dev_fail(L, d, rc, what);
  lua_pushboolean(L, 1);
  return 1;
}

/* Push the user value's field @p key (nil when absent). */
static void get_cb(lua_State *L, int idx, const char *key) {
  lk_getuservalue(L, idx);
  lua_getfield(L, -1, key);
  lua_remove(L, -2);
}

static void set_cb(lua_State *L, int idx, const char *key, int fn) {
  lk_getuservalue(L, idx);
  lua_pushvalue(L, fn);
  lua_setfield(L, -2, key);
  lua_pop(L, 1);
}

static void opt_function(lua_State *L, int idx) {
  if (!lua_isnil(L, idx)) luaL_checktype(L, idx, LUA_TFUNCTION);
}

static void close_device(lk_device_t *d) {
  if (!d->dev) return;
  if (iotkit_device_is_connected(d->dev)) (void)iotkit_device_disconnect(d->dev);
  (void)iotkit_device_free(d->dev); /* never from one of its callbacks: those only queue */
  d->dev = NULL;
  lk_queue_destroy(&d->queue); /* the commands they held were released by iotkit_device_free() */
  iotkit_hal_free(d->hal);
  d->hal = NULL;
}

/* ------------------------------------------------------------ dispatch -- */

static int encode_result(lua_State *L) {
  lk_json_encode(L, 1, 1);
  return 1;
}

static void run_command(lua_State *L, int self, lk_device_t *d, lk_event_t *e) {
  get_cb(L, self, "commands");
  lua_getfield(L, -1, e->b);
  lua_remove(L, -2);
  if (!lua_isfunction(L, -1)) {
    lua_pop(L, 1);
    iotkit_command_fail((iotkit_command_t *)e->ptr, "unknown_command", "no Lua handler for this command");
    return;
  }
  if (!lk_json_decode(L, e->c, strlen(e->c))) lua_pushstring(L, e->c);
  lua_pushstring(L, e->a);
  lua_pushstring(L, e->b);
  int ok = lk_pcall(L, 3, 3, "command");
  if (!d->dev) { /* the handler closed the device, which released the command */
    lua_pop(L, 3);
    return;
  }
  if (!ok) {
    iotkit_command_fail((iotkit_command_t *)e->ptr, "error", "the Lua handler raised an error");
  } else if (lua_isnil(L, -3) && lua_type(L, -2) == LUA_TSTRING) { /* nil, code, message */
    iotkit_command_fail((iotkit_command_t *)e->ptr, lua_tostring(L, -2), lua_tostring(L, -1));
  } else if (lua_isnil(L, -3)) {
    iotkit_command_complete((iotkit_command_t *)e->ptr, NULL);
  } else {
    lua_pushcfunction(L, encode_result);
    lua_pushvalue(L, -4);
    if (lua_pcall(L, 1, 1, 0) != 0) {
      lk_report(L, "command", lua_tostring(L, -1));
      iotkit_command_fail((iotkit_command_t *)e->ptr, "error", "the result has no JSON form");
    } else if (iotkit_command_complete((iotkit_command_t *)e->ptr, lua_tostring(L, -1)) != IOTKIT_OK) {
      iotkit_command_fail((iotkit_command_t *)e->ptr, "error", "the result could not be sent");
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 3);
}

/* Run the queued events' callbacks; stops when a callback closes the device. */
static int dispatch(lua_State *L, int self, lk_device_t *d) {
  int ran = 0;
  lk_event_t *e;
  while (d->dev && (e = lk_queue_pop(&d->queue)) != NULL) {
    ran++;
    switch (e->kind) {
      case EV_COMMAND: run_command(L, self, d, e); break;
      case EV_CONNECTION:
        get_cb(L, self, "on_connection");
        if (lua_isfunction(L, -1)) {
          lua_pushboolean(L, e->flag);
          lua_pushinteger(L, e->code);
          lua_pushstring(L, e->a);
          lk_pcall(L, 3, 0, "connection");
        } else {
          lua_pop(L, 1);
        }
        break;
      case EV_MESSAGE:
        get_cb(L, self, "on_message");
        if (lua_isfunction(L, -1)) {
          lua_pushstring(L, e->a);
          lua_pushlstring(L, e->b, e->blen);
          lk_pcall(L, 2, 0, "message");
        } else {
          lua_pop(L, 1);
        }
        break;
      case EV_DELIVERY:
        get_cb(L, self, "on_delivery");
        if (lua_isfunction(L, -1)) {
          lk_pushint64(L, e->u);
          lua_pushinteger(L, e->code);
          lk_pcall(L, 2, 0, "delivery");
        } else {
          lua_pop(L, 1);
        }
        break;
      case EV_DESIRED:
        get_cb(L, self, "on_desired");
        if (lua_isfunction(L, -1)) {
          if (!lk_json_decode(L, e->a, strlen(e->a))) lua_pushstring(L, e->a);
          lk_pushint64(L, e->u);
          lk_pcall(L, 2, 0, "desired");
        } else {
          lua_pop(L, 1);
        }
        break;
    }
    free(e);
  }
  return ran;
}

/* ---------------------------------------------------------- constructor -- */

static int l_device(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  iotkit_device_config_t cfg;
  iotkit_device_config_init(&cfg);
  cfg.device_id = lk_field_string(L, 1, "id", 1);
  cfg.uri = lk_field_string(L, 1, "uri", 1);
  if (!cfg.device_id) luaL_argerror(L, 1, "field 'id' (the device id) is required");
  if (!cfg.uri) luaL_argerror(L, 1, "field 'uri' is required");
  cfg.username = lk_field_string(L, 1, "username", 1);
  cfg.password = lk_field_string(L, 1, "password", 1);
  cfg.topic_prefix = lk_field_string(L, 1, "topic_prefix", 1);
  const char *state_dir = lk_field_string(L, 1, "state_dir", 1);
  int has;
  lua_Number v;
  if ((v = lk_field_number(L, 1, "keepalive", 1, &has)), has) cfg.keepalive_s = (uint16_t)(v > 65535 ? 65535 : v);
  if ((v = lk_field_number(L, 1, "qos", 1, &has)), has) cfg.telemetry_qos = (int)v;
  if ((v = lk_field_number(L, 1, "mqtt_version", 1, &has)), has) cfg.mqtt_version = (int)v;
  if ((v = lk_field_number(L, 1, "max_payload", 1, &has)), has) cfg.max_payload = (size_t)v;
  if ((v = lk_field_number(L, 1, "connect_timeout", 1, &has)), has) cfg.connect_timeout_ms = (uint32_t)(v * 1000);
  if ((v = lk_field_number(L, 1, "command_timeout", 1, &has)), has) cfg.command_timeout_ms = (uint32_t)(v * 1000);
  if ((v = lk_field_number(L, 1, "reconnect_min", 1, &has)), has) cfg.reconnect_min_ms = (uint32_t)(v * 1000);
  if ((v = lk_field_number(L, 1, "reconnect_max", 1, &has)), has) cfg.reconnect_max_ms = (uint32_t)(v * 1000);
  if ((v = lk_field_number(L, 1, "queue_max_bytes", 1, &has)), has) cfg.telemetry_queue_max_bytes = (uint64_t)v;
  if ((v = lk_field_number(L, 1, "drain_rate", 1, &has)), has) cfg.telemetry_drain_rate = (uint32_t)v;
  cfg.clean_session = lk_field_bool(L, 1, "clean_session", 1, cfg.clean_session);
  cfg.auto_reconnect = lk_field_bool(L, 1, "auto_reconnect", 1, cfg.auto_reconnect);
  cfg.telemetry_durable = lk_field_bool(L, 1, "durable", 1, cfg.telemetry_durable);
  lua_getfield(L, 1, "edge");
  int edge = lua_gettop(L);
  if (!lua_isnil(L, edge) && !lua_istable(L, edge) && lua_type(L, edge) != LUA_TSTRING)
    luaL_argerror(L, 1, "field 'edge' must be a table or JSON text");

  lk_device_t *d = (lk_device_t *)lk_newuserdata(L, sizeof *d);
  memset(d, 0, sizeof *d);
  lk_setmetatable(L, LK_DEVICE_MT);
  int self = lua_gettop(L);
  lua_newtable(L);
  lua_newtable(L);
  lua_setfield(L, -2, "commands");
  lk_setuservalue(L, self);

  iotkit_err_t rc = lk_make_hal(L, 1, 1, state_dir, &d->hal);
  if (rc != IOTKIT_OK) return lk_fail(L, rc, "device", state_dir);
  cfg.hal = d->hal;
  rc = iotkit_device_new(&cfg, &d->dev);
  if (rc != IOTKIT_OK) {
    iotkit_hal_free(d->hal);
    d->hal = NULL;
    return lk_fail(L, rc, "device", NULL);
  }
  lk_queue_init(&d->queue);
  snprintf(d->id, sizeof d->id, "%s", cfg.device_id);
  iotkit_device_on_connection(d->dev, c_connection, d);
  iotkit_device_on_message(d->dev, c_message, d);
  iotkit_device_on_delivery(d->dev, c_delivery, d);
  iotkit_device_on_desired(d->dev, c_desired, d);
  if (!lua_isnil(L, edge)) {
    char *json = lua_istable(L, edge) ? lk_json_encode_c(L, edge, 1) : NULL;
    rc = iotkit_device_edge_load(d->dev, json ? json : lua_tostring(L, edge));
    free(json);
    if (rc != IOTKIT_OK) {
      int n = dev_fail(L, d, rc, "device: edge rules");
      close_device(d);
      return n;
    }
  }
  lua_pushvalue(L, self);
  return 1;
}

/* -------------------------------------------------------------- methods -- */

static int m_connect(lua_State *L) {
  lk_device_t *d = check_dev(L, 1);
  iotkit_err_t rc = iotkit_device_connect(d->dev);
  return dev_done(L, d, rc, "connect");
}

static int m_disconnect(lua_State *L) {
  lk_device_t *d = check_dev(L, 1);
  iotkit_err_t rc = iotkit_device_disconnect(d->dev);
  return dev_done(L, d, rc, "disconnect");
}

static int m_poll(lua_State *L) {
  lk_device_t *d = check_dev(L, 1);
  int ms = lk_opt_ms(L, 2, 0);
  lua_settop(L, 1);
  iotkit_err_t rc = IOTKIT_OK;
  if (!lk_queue_pending(&d->queue)) rc = iotkit_device_poll(d->dev, ms); /* queued events are run first, without waiting */
  else if ((rc = iotkit_device_poll(d->dev, 0)) == IOTKIT_ERR_NOT_CONNECTED) rc = IOTKIT_OK;
  if (rc != IOTKIT_OK) {
    dispatch(L, 1, d);
    if (!d->dev) { lua_pushboolean(L, 1); return 1; }
    return dev_fail(L, d, rc, "poll");
  }
  dispatch(L, 1, d);
  lua_pushboolean(L, 1);
  return 1;
}

static int m_close(lua_State *L) {
  lk_device_t *d = (lk_device_t *)luaL_checkudata(L, 1, LK_DEVICE_MT);
  close_device(d);
  return 0;
}

static int m_send_telemetry(lua_State *L) {
  lk_device_t *d = check_dev(L, 1);
  uint32_t msg_id = 0;
  uint64_t seq = 0;
  iotkit_err_t rc;
  if (lua_type(L, 2) == LUA_TSTRING) {
    if (!lua_isnoneornil(L, 3)) luaL_argerror(L, 3, "a string is sent as it is: no format");
    size_t len;
    const char *s = lua_tolstring(L, 2, &len);
    rc = iotkit_device_send_telemetry(d->dev, s, len, &msg_id);
    if (rc != IOTKIT_OK) return dev_fail(L, d, rc, "send_telemetry");
    lk_pushint64(L, msg_id);
    return 1;
  }
  iotkit_telemetry_format_t f = lk_check_format(L, 3);
  iotkit_telemetry_batch_t *batch = lk_batch_test(L, 2, 2);
  if (batch) {
    rc = iotkit_device_send_batch(d->dev, batch, f, &seq, &msg_id);
  } else {
    if (!lua_istable(L, 2))
      luaL_argerror(L, 2, lua_pushfstring(L, "telemetry is a table, a batch or a string, not %s",
                                          luaL_typename(L, 2)));
    /* a batch userdata on the stack: a point that raises leaves nothing behind */
    rc = lk_batch_push_new(L, iotkit_device_hal(d->dev), &batch);
    if (rc == IOTKIT_OK) rc = lk_batch_from_table(L, 2, 2, batch, IOTKIT_TELEMETRY_NOW);
    if (rc == IOTKIT_OK) rc = iotkit_device_send_batch(d->dev, batch, f, &seq, &msg_id);
    lk_batch_close_top(L);
  }
  if (rc != IOTKIT_OK) return dev_fail(L, d, rc, "send_telemetry");
  lk_pushint64(L, msg_id);
  lk_pushint64(L, seq);
  return 2;
}

static int m_publish(lua_State *L) {
  lk_device_t *d = check_dev(L, 1);
  const char *suffix = luaL_checkstring(L, 2);
  size_t len;
  const char *payload;
  if (lua_istable(L, 3)) {
    lk_json_encode(L, 3, 3);
    lua_replace(L, 3);
  }
  payload = luaL_checklstring(L, 3, &len);
  int qos = (int)luaL_optinteger(L, 4, 1);
  int retain = lua_toboolean(L, 5);
  uint32_t msg_id = 0;
  iotkit_err_t rc = iotkit_device_publish(d->dev, suffix, payload, len, qos, retain != 0, &msg_id);
  if (rc != IOTKIT_OK) return dev_fail(L, d, rc, "publish");
  lk_pushint64(L, msg_id);
  return 1;
}

static int m_subscribe(lua_State *L) {
  lk_device_t *d = check_dev(L, 1);
  const char *suffix = luaL_checkstring(L, 2);
  int qos = (int)luaL_optinteger(L, 3, 1);
  iotkit_err_t rc = iotkit_device_subscribe(d->dev, suffix, qos);
  return dev_done(L, d, rc, "subscribe");
}

static int m_report(lua_State *L) {
  lk_device_t *d = check_dev(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  lk_json_encode(L, 2, 2);
  iotkit_err_t rc = iotkit_device_report(d->dev, lua_tostring(L, -1));
  return dev_done(L, d, rc, "report");
}

static int m_reported(lua_State *L) {
  lk_device_t *d = check_dev(L, 1);
  char *json = NULL;
  iotkit_err_t rc = iotkit_device_reported(d->dev, &json);
  if (rc != IOTKIT_OK) return dev_fail(L, d, rc, "reported");
  int ok = lk_json_decode(L, json, strlen(json));
  iotkit_free(json);
  if (!ok) return lk_fail(L, IOTKIT_ERR_INTERNAL, "reported", "the document did not decode");
  return 1;
}

static int m_desired(lua_State *L) {
  lk_device_t *d = check_dev(L, 1);
  char *json = NULL;
  uint64_t version = 0;
  iotkit_err_t rc = iotkit_device_desired(d->dev, &json, &version);
  if (rc != IOTKIT_OK) return dev_fail(L, d, rc, "desired");
  int ok = lk_json_decode(L, json, strlen(json));
  iotkit_free(json);
  if (!ok) return lk_fail(L, IOTKIT_ERR_INTERNAL, "desired", "the document did not decode");
  lk_pushint64(L, version);
  return 2;
}

static int m_event(lua_State *L) {
  lk_device_t *d = check_dev(L, 1);
  const char *type = luaL_checkstring(L, 2);
  char *json = lua_isnoneornil(L, 3) ? NULL : lk_json_encode_c(L, 3, 3);
  uint32_t msg_id = 0;
  iotkit_err_t rc = iotkit_device_event(d->dev, type, json, &msg_id);
  free(json);
  if (rc != IOTKIT_OK) return dev_fail(L, d, rc, "event");
  lk_pushint64(L, msg_id);
  return 1;
}

/* device:report_location{latitude=, longitude=[, altitude=][, accuracy=][, ts_ms=]} */
static int m_report_location(lua_State *L) {
  lk_device_t *d = check_dev(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  iotkit_location_t loc;
  memset(&loc, 0, sizeof loc);
  lua_getfield(L, 2, "latitude");
  lua_getfield(L, 2, "longitude");
  if (lua_type(L, -2) != LUA_TNUMBER || lua_type(L, -1) != LUA_TNUMBER)
    luaL_argerror(L, 2, "fields 'latitude' and 'longitude' (numbers) are required");
  loc.latitude = (double)lua_tonumber(L, -2);
  loc.longitude = (double)lua_tonumber(L, -1);
  lua_pop(L, 2);
  lua_getfield(L, 2, "altitude");
  if (lua_type(L, -1) == LUA_TNUMBER) {
    loc.altitude = (double)lua_tonumber(L, -1);
    loc.has_altitude = true;
  } else if (!lua_isnil(L, -1)) {
    luaL_argerror(L, 2, "field 'altitude' must be a number");
  }
  lua_getfield(L, 2, "accuracy");
  if (lua_type(L, -1) == LUA_TNUMBER) {
    loc.accuracy_m = (double)lua_tonumber(L, -1);
    loc.has_accuracy = true;
  } else if (!lua_isnil(L, -1)) {
    luaL_argerror(L, 2, "field 'accuracy' must be a number");
  }
  lua_pop(L, 2);
  int has;
  lua_Number ts = lk_field_number(L, 2, "ts_ms", 2, &has);
  if (has) loc.ts_ms = (int64_t)ts;
  iotkit_err_t rc = iotkit_device_report_location(d->dev, &loc);
  return dev_done(L, d, rc, "report_location");
}

static int set_named_cb(lua_State *L, const char *key) {
  check_dev(L, 1);
  luaL_checkany(L, 2);
  opt_function(L, 2);
  set_cb(L, 1, key, 2);
  lua_settop(L, 1);
  return 1;
}

static int m_on_connection(lua_State *L) { return set_named_cb(L, "on_connection"); }
static int m_on_message(lua_State *L) { return set_named_cb(L, "on_message"); }
static int m_on_delivery(lua_State *L) { return set_named_cb(L, "on_delivery"); }
static int m_on_desired(lua_State *L) { return set_named_cb(L, "on_desired"); }

static int m_on_command(lua_State *L) {
  lk_device_t *d = check_dev(L, 1);
  const char *name = luaL_checkstring(L, 2);
  luaL_checkany(L, 3);
  opt_function(L, 3);
  iotkit_err_t rc = iotkit_device_command_register(d->dev, name, lua_isnil(L, 3) ? NULL : c_command, d);
  if (rc != IOTKIT_OK) return dev_fail(L, d, rc, "on_command");
  get_cb(L, 1, "commands");
  lua_pushvalue(L, 3);
  lua_setfield(L, -2, name);
  lua_settop(L, 1);
  return 1;
}

static int m_fd(lua_State *L) {
  lk_device_t *d = (lk_device_t *)luaL_checkudata(L, 1, LK_DEVICE_MT);
  lua_pushinteger(L, d->dev ? iotkit_device_fd(d->dev) : -1);
  return 1;
}

static int m_fd_events(lua_State *L) {
  lk_device_t *d = check_dev(L, 1);
  int ev = iotkit_device_fd_events(d->dev);
  lua_pushboolean(L, (ev & IOTKIT_FD_READ) != 0);
  lua_pushboolean(L, (ev & IOTKIT_FD_WRITE) != 0);
  return 2;
}

static int m_next_timeout(lua_State *L) {
  lk_device_t *d = check_dev(L, 1);
  int ms = lk_queue_pending(&d->queue) ? 0 : iotkit_device_next_timeout_ms(d->dev);
  if (ms < 0) lua_pushnil(L);
  else lua_pushnumber(L, (lua_Number)ms / 1000.0);
  return 1;
}

/* luasocket's protocol: true when poll() has work without waiting for the descriptor. */
static int m_dirty(lua_State *L) {
  lk_device_t *d = (lk_device_t *)luaL_checkudata(L, 1, LK_DEVICE_MT);
  lua_pushboolean(L, d->dev && (lk_queue_pending(&d->queue) || iotkit_device_next_timeout_ms(d->dev) == 0));
  return 1;
}

static int m_connected(lua_State *L) {
  lk_device_t *d = (lk_device_t *)luaL_checkudata(L, 1, LK_DEVICE_MT);
  lua_pushboolean(L, d->dev && iotkit_device_is_connected(d->dev));
  return 1;
}

static int m_closed(lua_State *L) {
  lk_device_t *d = (lk_device_t *)luaL_checkudata(L, 1, LK_DEVICE_MT);
  lua_pushboolean(L, d->dev == NULL);
  return 1;
}

static int m_id(lua_State *L) {
  lk_device_t *d = (lk_device_t *)luaL_checkudata(L, 1, LK_DEVICE_MT);
  lua_pushstring(L, d->id);
  return 1;
}

static int m_last_error(lua_State *L) {
  lk_device_t *d = check_dev(L, 1);
  char buf[IOTKIT_ERROR_TEXT_SIZE];
  lua_pushstring(L, iotkit_device_last_error(d->dev, buf, sizeof buf));
  return 1;
}

static int m_edge_load(lua_State *L) {
  lk_device_t *d = check_dev(L, 1);
  char *json = NULL;
  if (lua_istable(L, 2)) json = lk_json_encode_c(L, 2, 2);
  else if (!lua_isnoneornil(L, 2)) luaL_checkstring(L, 2);
  iotkit_err_t rc = iotkit_device_edge_load(d->dev, json ? json : lua_tostring(L, 2));
  free(json);
  return dev_done(L, d, rc, "edge_load");
}

static int m_edge_stats(lua_State *L) {
  lk_device_t *d = check_dev(L, 1);
  iotkit_edge_stats_t st;
  memset(&st, 0, sizeof st);
  iotkit_err_t rc = iotkit_device_edge_stats(d->dev, &st);
  if (rc != IOTKIT_OK) return dev_fail(L, d, rc, "edge_stats");
  lua_newtable(L);
#define LK_STAT(f) lk_pushint64(L, st.f), lua_setfield(L, -2, #f)
  LK_STAT(points_in);
  LK_STAT(points_sent);
  LK_STAT(points_held);
  LK_STAT(points_emitted);
  LK_STAT(actions);
  LK_STAT(actions_dropped);
  LK_STAT(loads);
  LK_STAT(refusals);
#undef LK_STAT
  return 1;
}

static int m_telemetry_stats(lua_State *L) {
  lk_device_t *d = check_dev(L, 1);
  iotkit_device_telemetry_stats_t st;
  memset(&st, 0, sizeof st);
  iotkit_err_t rc = iotkit_device_telemetry_stats(d->dev, &st);
  if (rc != IOTKIT_OK) return dev_fail(L, d, rc, "telemetry_stats");
  lua_newtable(L);
  lua_pushboolean(L, st.durable);
  lua_setfield(L, -2, "durable");
#define LK_STAT(f) lk_pushint64(L, st.f), lua_setfield(L, -2, #f)
  LK_STAT(accepted);
  LK_STAT(sent_live);
  LK_STAT(sent_backlog);
  LK_STAT(confirmed);
  LK_STAT(failed);
#undef LK_STAT
  lk_pushint64(L, st.queue.pending);
  lua_setfield(L, -2, "pending");
  return 1;
}

static int m_tostring(lua_State *L) {
  lk_device_t *d = (lk_device_t *)luaL_checkudata(L, 1, LK_DEVICE_MT);
  lua_pushfstring(L, "iotkit.device (%s, %s)", d->id,
                  !d->dev ? "closed" : iotkit_device_is_connected(d->dev) ? "connected" : "not connected");
  return 1;
}

static const luaL_Reg d_methods[] = {
  {"connect", m_connect},
  {"disconnect", m_disconnect},
  {"poll", m_poll},
  {"close", m_close},
  {"send_telemetry", m_send_telemetry},
  {"publish", m_publish},
  {"subscribe", m_subscribe},
  {"report", m_report},
  {"reported", m_reported},
  {"desired", m_desired},
  {"event", m_event},
  {"report_location", m_report_location},
  {"on_connection", m_on_connection},
  {"on_message", m_on_message},
  {"on_delivery", m_on_delivery},
  {"on_desired", m_on_desired},
  {"on_command", m_on_command},
  {"fd", m_fd},
  {"getfd", m_fd},
  {"fd_events", m_fd_events},
  {"dirty", m_dirty},
  {"next_timeout", m_next_timeout},
  {"connected", m_connected},
  {"closed", m_closed},
  {"id", m_id},
  {"last_error", m_last_error},
  {"edge_load", m_edge_load},
  {"edge_stats", m_edge_stats},
  {"telemetry_stats", m_telemetry_stats},
  {"__gc", m_close},
#if LUA_VERSION_NUM >= 504
  {"__close", m_close},
#endif
  {"__tostring", m_tostring},
  {NULL, NULL},
};

void lk_device_open(lua_State *L) {
  lk_newclass(L, LK_DEVICE_MT, d_methods);
  lua_pop(L, 1);
  lua_pushcfunction(L, l_device);
  lua_setfield(L, -2, "device");
}
