/* See fleet_live.h. */
#include "fleet_live.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "crash_transport.h"
#include "hal_tmpdir.h"
#include "net_util.h"

static void on_status(iotkit_fleet_t *f, void *user, const char *id, bool online, const char *reason, int64_t ts) {
  (void)f, (void)ts;
  fleet_live_t *fx = user;
  pthread_mutex_lock(&fx->mu);
  if (fx->n_statuses < (int)(sizeof fx->statuses / sizeof fx->statuses[0])) {
    fleet_live_status_t *s = &fx->statuses[fx->n_statuses++];
    snprintf(s->id, sizeof s->id, "%s", id);
    s->online = online;
    snprintf(s->reason, sizeof s->reason, "%s", reason ? reason : "");
  }
  pthread_mutex_unlock(&fx->mu);
}

static void bump(fleet_live_t *fx, int *counter) {
  pthread_mutex_lock(&fx->mu);
  (*counter)++;
  pthread_mutex_unlock(&fx->mu);
}

static void on_telemetry(iotkit_fleet_t *f, void *user, const char *id, const iotkit_telemetry_batch_t *b) {
  (void)f, (void)id, (void)b;
  bump(user, &((fleet_live_t *)user)->telemetry);
}

static void on_state(iotkit_fleet_t *f, void *user, const char *id, const char *state, int64_t ts) {
  (void)f, (void)id, (void)ts;
  fleet_live_t *fx = user;
  pthread_mutex_lock(&fx->mu);
  fx->states++;
  snprintf(fx->last_state, sizeof fx->last_state, "%s", state);
  pthread_mutex_unlock(&fx->mu);
}

static void on_event(iotkit_fleet_t *f, void *user, const char *id, const char *type, int64_t ts, const char *data) {
  (void)f, (void)ts;
  fleet_live_t *fx = user;
  pthread_mutex_lock(&fx->mu);
  fx->events++;
  snprintf(fx->last_event, sizeof fx->last_event, "%s %s %s", id, type, data);
  pthread_mutex_unlock(&fx->mu);
}

static void on_location(iotkit_fleet_t *f, void *user, const char *id, const iotkit_location_t *loc) {
  (void)f, (void)id, (void)loc;
  bump(user, &((fleet_live_t *)user)->locations);
}

static void on_stale(iotkit_fleet_t *f, void *user, const char *id, bool stale, int64_t seen) {
  (void)f, (void)id, (void)seen;
  fleet_live_t *fx = user;
  bump(fx, stale ? &fx->stale_on : &fx->stale_off);
}

static void on_connection(iotkit_fleet_t *f, void *user, bool up, iotkit_err_t reason, const char *detail) {
  (void)f, (void)reason, (void)detail;
  if (up) bump(user, &((fleet_live_t *)user)->connections);
}

void fleet_live_setup(fleet_live_t *fx, bool persistence) {
  memset(fx, 0, sizeof *fx);
  pthread_mutex_init(&fx->mu, NULL);
  fx->srv = mosq_server_new();
  cr_assert_not_null(fx->srv);
  cr_assert(mosq_server_add_config(fx->srv, "sys_interval 1"));
  cr_assert(mosq_server_add_config(fx->srv, "max_queued_messages 0"));
  if (persistence) cr_assert(mosq_server_set_persistence(fx->srv, true));
  cr_assert(mosq_server_start(fx->srv));
  hal_tmpdir_make(fx->dir, sizeof fx->dir);
  snprintf(fx->db, sizeof fx->db, "%s/fleet.db", fx->dir);
  cr_assert_eq(iotkit_hal_memory_new(NULL, &fx->hal), IOTKIT_OK);
  iotkit_fleet_config_init(&fx->cfg);
  fx->cfg.db_path = fx->db;
  fx->cfg.hal = fx->hal;
  fx->cfg.uri = mosq_server_uri(fx->srv);
  fx->cfg.reconnect_min_ms = 100;
  fx->cfg.reconnect_max_ms = 500;
  fx->cfg.broker_uptime_interval_s = 1;
}

void fleet_live_open(fleet_live_t *fx) {
  iotkit_err_t rc = iotkit_fleet_new(&fx->cfg, &fx->fleet);
  cr_assert_eq(rc, IOTKIT_OK, "fleet_new: %s", iotkit_err_name(rc));
  iotkit_fleet_t *f = fx->fleet;
  cr_assert_eq(iotkit_fleet_on_status(f, on_status, fx), IOTKIT_OK);
  cr_assert_eq(iotkit_fleet_on_telemetry(f, on_telemetry, fx), IOTKIT_OK);
  cr_assert_eq(iotkit_fleet_on_state(f, on_state, fx), IOTKIT_OK);
  cr_assert_eq(iotkit_fleet_on_event(f, on_event, fx), IOTKIT_OK);
  cr_assert_eq(iotkit_fleet_on_location(f, on_location, fx), IOTKIT_OK);
  cr_assert_eq(iotkit_fleet_on_stale(f, on_stale, fx), IOTKIT_OK);
  cr_assert_eq(iotkit_fleet_on_connection(f, on_connection, fx), IOTKIT_OK);
  char why[IOTKIT_ERROR_TEXT_SIZE];
  rc = iotkit_fleet_connect(f);
  cr_assert_eq(rc, IOTKIT_OK, "fleet_connect: %s: %s", iotkit_err_name(rc), iotkit_fleet_last_error(f, why, sizeof why));
  cr_assert_eq(iotkit_fleet_start(f), IOTKIT_OK);
}

void fleet_live_close(fleet_live_t *fx) {
  iotkit_fleet_free(fx->fleet);
  fx->fleet = NULL;
}

void fleet_live_teardown(fleet_live_t *fx) {
  for (int i = 0; i < FLEET_LIVE_MAX_DEVICES; i++) {
    if (fx->devs[i]) iotkit_device_free(fx->devs[i]);
    iotkit_hal_free(fx->dev_hals[i]);
  }
  fleet_live_close(fx);
  iotkit_hal_free(fx->hal);
  mosq_server_free(fx->srv);
  if (fx->dir[0]) hal_tmpdir_remove(fx->dir);
  pthread_mutex_destroy(&fx->mu);
  memset(fx, 0, sizeof *fx);
}

void fleet_live_register(fleet_live_t *fx, const char *id) {
  iotkit_fleet_device_spec_t spec;
  iotkit_fleet_device_spec_init(&spec);
  spec.id = id;
  iotkit_err_t rc = iotkit_fleet_device_create(fx->fleet, &spec);
  cr_assert_eq(rc, IOTKIT_OK, "create %s: %s", id, iotkit_err_name(rc));
}

iotkit_device_t *fleet_live_device(fleet_live_t *fx, const char *id) { return fleet_live_device_e2e(fx, id, NULL, NULL); }

iotkit_device_t *fleet_live_device_e2e(fleet_live_t *fx, const char *id, const uint8_t *key, const char *key_id) {
  int slot = -1;
  for (int i = 0; i < FLEET_LIVE_MAX_DEVICES && slot < 0; i++)
    if (!fx->devs[i]) slot = i;
  cr_assert_geq(slot, 0, "too many devices");
  if (!fx->dev_hals[slot]) cr_assert_eq(iotkit_hal_memory_new(NULL, &fx->dev_hals[slot]), IOTKIT_OK);
  iotkit_device_config_t cfg;
  iotkit_device_config_init(&cfg);
  cfg.device_id = id;
  cfg.uri = mosq_server_uri(fx->srv);
  cfg.hal = fx->dev_hals[slot];
  cfg.transports = crash_transport_registry();
  cfg.reconnect_min_ms = 100;
  cfg.reconnect_max_ms = 500;
  cfg.telemetry_durable = false;
  cfg.e2e_key = key;
  cfg.e2e_key_id = key_id;
  iotkit_device_t *dev = NULL;
  cr_assert_eq(iotkit_device_new(&cfg, &dev), IOTKIT_OK);
  iotkit_err_t rc = iotkit_device_connect(dev);
  char why[IOTKIT_ERROR_TEXT_SIZE];
  cr_assert_eq(rc, IOTKIT_OK, "device %s: %s", id, iotkit_device_last_error(dev, why, sizeof why));
  cr_assert_eq(iotkit_device_start(dev), IOTKIT_OK);
  fx->devs[slot] = dev;
  return dev;
}

void fleet_live_drop(fleet_live_t *fx, iotkit_device_t *dev, bool crash) {
  for (int i = 0; i < FLEET_LIVE_MAX_DEVICES; i++) {
    if (fx->devs[i] != dev) continue;
    if (crash) crash_transport_arm(iotkit_device_id(dev));
    iotkit_device_free(dev);
    fx->devs[i] = NULL;
    return;
  }
  cr_assert_fail("not a device of the fixture");
}

bool fleet_live_wait(bool (*done)(void *arg), void *arg, int ms) {
  uint64_t end = test_now_ms() + (uint64_t)ms;
  while (!done(arg)) {
    if (test_now_ms() >= end) return false;
    test_msleep(5);
  }
  return true;
}

bool fleet_live_online(fleet_live_t *fx, const char *id) {
  iotkit_fleet_presence_t p;
  return iotkit_fleet_presence(fx->fleet, id, &p) == IOTKIT_OK && p.online;
}

bool fleet_live_wait_online(fleet_live_t *fx, const char *id, bool online) {
  uint64_t end = test_now_ms() + FLEET_LIVE_WAIT_MS;
  while (fleet_live_online(fx, id) != online) {
    if (test_now_ms() >= end) return false;
    test_msleep(5);
  }
  return true;
}

int fleet_live_transitions(fleet_live_t *fx, const char *id) {
  pthread_mutex_lock(&fx->mu);
  int n = 0;
  for (int i = 0; i < fx->n_statuses; i++) n += !id || strcmp(fx->statuses[i].id, id) == 0;
  pthread_mutex_unlock(&fx->mu);
  return n;
}

/* The callback runs after the presence view has changed, so the reason is waited for. */
const char *fleet_live_last_reason(fleet_live_t *fx, const char *id) {
  static char reason[32];
  uint64_t end = test_now_ms() + FLEET_LIVE_WAIT_MS;
  for (;;) {
    bool offline = false;
    reason[0] = '\0';
    pthread_mutex_lock(&fx->mu);
    for (int i = 0; i < fx->n_statuses; i++)
      if (strcmp(fx->statuses[i].id, id) == 0) {
        offline = !fx->statuses[i].online;
        if (offline) snprintf(reason, sizeof reason, "%s", fx->statuses[i].reason);
      }
    pthread_mutex_unlock(&fx->mu);
    if (offline || test_now_ms() >= end) return reason;
    test_msleep(5);
  }
}

int fleet_live_count(fleet_live_t *fx, const int *counter) {
  pthread_mutex_lock(&fx->mu);
  int n = *counter;
  pthread_mutex_unlock(&fx->mu);
  return n;
}
