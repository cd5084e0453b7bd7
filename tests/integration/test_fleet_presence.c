// requires: mqtt fleet
/* The fleet's presence view against a real mosquitto and real device handles:
   online and offline from the status channel and the last will, last-seen
   times, the registry record following it, unknown devices ignored or
   auto-registered, and the online set after a fleet restart and after a broker
   restart (with persistence), where the broker still holds the retained
   "online" of a device that died while it was down. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "fleet/fleet_internal.h"
#include "fleet_live.h"
#include "net_util.h"

static fleet_live_t fx;

static void setup(void) { fleet_live_setup(&fx, false); }
static void setup_persistent(void) { fleet_live_setup(&fx, true); }
static void teardown(void) { fleet_live_teardown(&fx); }
TestSuite(fleet_presence, .init = setup, .fini = teardown, .timeout = 60);
/* A test's own .init runs after its suite's: the broker-restart tests have a suite of their own. */
TestSuite(fleet_presence_persistent, .init = setup_persistent, .fini = teardown, .timeout = 60);

static uint64_t count_online(void) {
  iotkit_fleet_filter_t f;
  iotkit_fleet_filter_init(&f);
  f.online = IOTKIT_FLEET_ONLINE_ONLY;
  uint64_t n = 0;
  cr_assert_eq(iotkit_fleet_count(fx.fleet, &f, &n), IOTKIT_OK);
  return n;
}

/* The fleet's online set is exactly @p want (NULL-terminated) among @p all, in memory and in the database. */
static void expect_online_set(const char *const *all, const char *const *want) {
  size_t n_want = 0;
  for (const char *const *w = want; *w; w++) n_want++;
  for (const char *const *id = all; *id; id++) {
    bool should = false;
    for (const char *const *w = want; *w; w++) should = should || strcmp(*w, *id) == 0;
    cr_assert_eq(fleet_live_online(&fx, *id), should, "%s should be %s", *id, should ? "online" : "offline");
    iotkit_fleet_device_t *d = NULL;
    cr_assert_eq(iotkit_fleet_device_get(fx.fleet, *id, &d), IOTKIT_OK);
    cr_assert_eq(d->online, should, "%s in the database", *id);
    iotkit_fleet_device_free(d);
  }
  cr_assert_eq(count_online(), n_want);
}

Test(fleet_presence, online_then_clean_disconnect) {
  fleet_live_open(&fx);
  fleet_live_register(&fx, "d1");
  int64_t before = fx.hal->wall_ms(fx.hal->ctx);
  iotkit_device_t *d1 = fleet_live_device(&fx, "d1");
  cr_assert(fleet_live_wait_online(&fx, "d1", true));
  iotkit_fleet_presence_t p;
  cr_assert_eq(iotkit_fleet_presence(fx.fleet, "d1", &p), IOTKIT_OK);
  cr_assert_geq(p.last_seen_ms, before);
  cr_assert_neq(p.status_ts_ms, IOTKIT_PROTOCOL_NO_TS);
  cr_assert_not(p.stale);
  iotkit_fleet_device_t *rec = NULL;
  cr_assert_eq(iotkit_fleet_device_get(fx.fleet, "d1", &rec), IOTKIT_OK);
  cr_assert(rec->online, "%s", iotkit_hal_memory_log(fx.hal));
  cr_assert_eq(rec->last_seen_ms, p.last_seen_ms, "the registry record follows the live view");
  iotkit_fleet_device_free(rec);

  cr_assert_eq(iotkit_device_stop(d1), IOTKIT_OK);
  cr_assert_eq(iotkit_device_disconnect(d1), IOTKIT_OK);
  cr_assert(fleet_live_wait_online(&fx, "d1", false));
  cr_assert_str_eq(fleet_live_last_reason(&fx, "d1"), "disconnect");
  cr_assert_eq(fleet_live_transitions(&fx, "d1"), 2, "one callback per transition");
  cr_assert_eq(count_online(), 0);
}

Test(fleet_presence, last_will_marks_the_device_offline) {
  fleet_live_open(&fx);
  fleet_live_register(&fx, "d2");
  iotkit_device_t *d2 = fleet_live_device(&fx, "d2");
  cr_assert(fleet_live_wait_online(&fx, "d2", true));
  fleet_live_drop(&fx, d2, true);
  cr_assert(fleet_live_wait_online(&fx, "d2", false));
  cr_assert_str_eq(fleet_live_last_reason(&fx, "d2"), "connection_lost");
  iotkit_fleet_presence_t p;
  cr_assert_eq(iotkit_fleet_presence(fx.fleet, "d2", &p), IOTKIT_OK);
  cr_assert_eq(p.status_ts_ms, IOTKIT_PROTOCOL_NO_TS, "a last will has no ts");
}

Test(fleet_presence, unknown_devices_are_counted_and_ignored) {
  fleet_live_open(&fx);
  iotkit_device_t *x = fleet_live_device(&fx, "stranger");
  cr_assert_eq(iotkit_device_send_telemetry(x, "{\"t\":1}", 7, NULL), IOTKIT_OK);
  iotkit_fleet_stats_t s;
  uint64_t end = test_now_ms() + FLEET_LIVE_WAIT_MS;
  do {
    test_msleep(10);
    cr_assert_eq(iotkit_fleet_stats(fx.fleet, &s), IOTKIT_OK);
  } while (s.unknown_device < 2 && test_now_ms() < end);
  cr_assert_geq(s.unknown_device, 2, "status and telemetry of the stranger");
  cr_assert_eq(s.auto_registered, 0);
  iotkit_fleet_device_t *rec = NULL;
  cr_assert_eq(iotkit_fleet_device_get(fx.fleet, "stranger", &rec), IOTKIT_ERR_NOT_FOUND);
  iotkit_fleet_presence_t p;
  cr_assert_eq(iotkit_fleet_presence(fx.fleet, "stranger", &p), IOTKIT_ERR_NOT_FOUND);
}

static bool refuse_bad(iotkit_fleet_t *f, void *user, const char *id, const char *channel) {
  (void)f, (void)channel;
  ++*(int *)user;
  return strncmp(id, "bad", 3) != 0;
}

Test(fleet_presence, auto_register_asks_the_callback) {
  static int asked;
  fx.cfg.auto_register = true;
  fx.cfg.auto_register_cb = refuse_bad;
  fx.cfg.auto_register_user = &asked;
  fleet_live_open(&fx);
  fleet_live_device(&fx, "good-1");
  fleet_live_device(&fx, "bad-1");
  cr_assert(fleet_live_wait_online(&fx, "good-1", true));
  iotkit_fleet_device_t *rec = NULL;
  cr_assert_eq(iotkit_fleet_device_get(fx.fleet, "good-1", &rec), IOTKIT_OK);
  cr_assert(rec->online);
  cr_assert_str_eq(rec->attributes, "{}");
  iotkit_fleet_device_free(rec);
  iotkit_fleet_stats_t s;
  cr_assert_eq(iotkit_fleet_stats(fx.fleet, &s), IOTKIT_OK);
  cr_assert_eq(s.auto_registered, 1);
  cr_assert_geq(s.refused, 1);
  cr_assert_eq(iotkit_fleet_device_get(fx.fleet, "bad-1", &rec), IOTKIT_ERR_NOT_FOUND);
  /* A registered device is no longer asked about. */
  fleet_live_register(&fx, "bad-2");
  int before = asked;
  fleet_live_device(&fx, "bad-2");
  cr_assert(fleet_live_wait_online(&fx, "bad-2", true));
  cr_assert_eq(asked, before);
}

/* The fleet is down while devices come and go; the new fleet on the same file has the broker's view. */
Test(fleet_presence, fleet_restart_keeps_the_online_set_exact) {
  static const char *const all[] = {"a", "b", "c", "d", "e", NULL};
  fleet_live_open(&fx);
  for (const char *const *id = all; *id; id++) fleet_live_register(&fx, *id);
  iotkit_device_t *a = fleet_live_device(&fx, "a");
  iotkit_device_t *c = fleet_live_device(&fx, "c");
  iotkit_device_t *d = fleet_live_device(&fx, "d");
  cr_assert(fleet_live_wait_online(&fx, "a", true));
  cr_assert(fleet_live_wait_online(&fx, "c", true));
  cr_assert(fleet_live_wait_online(&fx, "d", true));
  fleet_live_close(&fx); /* its database says a, c, d online */

  fleet_live_drop(&fx, a, false); /* clean offline */
  fleet_live_drop(&fx, c, true);  /* last will */
  fleet_live_device(&fx, "b");
  fleet_live_device(&fx, "e");
  test_msleep(300); /* let the broker store what they said */

  fleet_live_open(&fx);
  /* connect() returned after the reconciliation: the view is already the broker's. */
  static const char *const want[] = {"b", "d", "e", NULL};
  expect_online_set(all, want);
  cr_assert_str_eq(fleet_live_last_reason(&fx, "a"), "disconnect");
  cr_assert_str_eq(fleet_live_last_reason(&fx, "c"), "connection_lost");
  (void)d;
}

/* A registered device that never published a status is offline after the reconciliation,
   whatever an older database said. */
Test(fleet_presence, no_retained_status_means_offline) {
  cr_assert_eq(iotkit_fleet_new(&fx.cfg, &fx.fleet), IOTKIT_OK);
  fleet_live_register(&fx, "ghost");
  /* An earlier run left it online in the database (as a crash of that run would). */
  cr_assert_eq(iotkit__fleet_presence(fx.fleet, "ghost", true, fx.hal->wall_ms(fx.hal->ctx)), IOTKIT_OK);
  cr_assert_eq(iotkit_fleet_sync(fx.fleet), IOTKIT_OK);
  fleet_live_close(&fx);
  fleet_live_open(&fx);
  cr_assert_not(fleet_live_online(&fx, "ghost"));
  iotkit_fleet_stats_t s;
  cr_assert_eq(iotkit_fleet_stats(fx.fleet, &s), IOTKIT_OK);
  cr_assert_eq(s.reconciliations, 1);
}

typedef struct {
  const char *const *ids;
  const char *const *want;
} set_arg_t;

static bool set_is(void *arg) {
  set_arg_t *a = arg;
  for (const char *const *id = a->ids; *id; id++) {
    bool should = false;
    for (const char *const *w = a->want; *w; w++) should = should || strcmp(*w, *id) == 0;
    if (fleet_live_online(&fx, *id) != should) return false;
  }
  return true;
}

/* Broker restart with persistence: a and b come back by themselves; c dies while the broker is
   down, so no last will is ever published and the broker's retained status still says online;
   d was offline before and stays so. */
Test(fleet_presence_persistent, broker_restart_keeps_the_online_set_exact) {
  static const char *const all[] = {"a", "b", "c", "d", NULL};
  fleet_live_open(&fx);
  for (const char *const *id = all; *id; id++) fleet_live_register(&fx, *id);
  fleet_live_device(&fx, "a");
  fleet_live_device(&fx, "b");
  iotkit_device_t *c = fleet_live_device(&fx, "c");
  iotkit_device_t *d = fleet_live_device(&fx, "d");
  for (int i = 0; i < 3; i++) cr_assert(fleet_live_wait_online(&fx, all[i], true));
  fleet_live_drop(&fx, d, false);
  cr_assert(fleet_live_wait_online(&fx, "d", false));
  /* The fleet's session must be older than the broker's uptime resolution (1 s refresh, 1 s steps). */
  test_msleep(3000);

  cr_assert(mosq_server_stop(fx.srv));
  fleet_live_drop(&fx, c, true); /* gone for good, and nobody saw it go */
  cr_assert(mosq_server_start(fx.srv));

  static const char *const want[] = {"a", "b", NULL};
  set_arg_t arg = {all, want};
  cr_assert(fleet_live_wait(set_is, &arg, 15000), "a b online, c d offline after the restart");
  test_msleep(1500); /* and it stays so */
  expect_online_set(all, want);
  /* mosquitto publishes the last wills of its clients when it shuts down (to the fleet,
     still connected), though not into its persisted store: either way c is offline. */
  const char *why = fleet_live_last_reason(&fx, "c");
  cr_assert(!strcmp(why, "broker_restart") || !strcmp(why, "connection_lost"), "%s", why);
  cr_assert_geq(fleet_live_count(&fx, &fx.connections), 2, "the fleet reconnected by itself");
}

/* The same after both the broker and the fleet restarted: the new fleet has only the broker's
   uptime to go by, which is enough for a session begun well before the restart. */
Test(fleet_presence_persistent, broker_and_fleet_restart) {
  static const char *const all[] = {"a", "c", NULL};
  fleet_live_open(&fx);
  fleet_live_register(&fx, "a");
  fleet_live_register(&fx, "c");
  fleet_live_device(&fx, "a");
  iotkit_device_t *c = fleet_live_device(&fx, "c");
  cr_assert(fleet_live_wait_online(&fx, "c", true));
  fleet_live_close(&fx);
  test_msleep(3000);
  cr_assert(mosq_server_stop(fx.srv));
  fleet_live_drop(&fx, c, true);
  cr_assert(mosq_server_start(fx.srv));
  test_msleep(1500); /* a is back */
  fleet_live_open(&fx);
  static const char *const want[] = {"a", NULL};
  set_arg_t arg = {all, want};
  cr_assert(fleet_live_wait(set_is, &arg, 15000));
  expect_online_set(all, want);
}

Test(fleet_presence, silent_device_becomes_stale_and_recovers) {
  fx.cfg.heartbeat_ms = 400;
  fleet_live_open(&fx);
  fleet_live_register(&fx, "quiet");
  iotkit_device_t *q = fleet_live_device(&fx, "quiet");
  cr_assert(fleet_live_wait_online(&fx, "quiet", true));
  uint64_t end = test_now_ms() + 5000;
  while (fleet_live_count(&fx, &fx.stale_on) == 0 && test_now_ms() < end) test_msleep(10);
  cr_assert_eq(fleet_live_count(&fx, &fx.stale_on), 1);
  iotkit_fleet_presence_t p;
  cr_assert_eq(iotkit_fleet_presence(fx.fleet, "quiet", &p), IOTKIT_OK);
  cr_assert(p.stale);
  cr_assert(p.online, "stale is not offline");
  cr_assert_eq(iotkit_device_send_telemetry(q, "{\"t\":1}", 7, NULL), IOTKIT_OK);
  end = test_now_ms() + 5000;
  while (fleet_live_count(&fx, &fx.stale_off) == 0 && test_now_ms() < end) test_msleep(10);
  cr_assert_eq(fleet_live_count(&fx, &fx.stale_off), 1);
  cr_assert_eq(iotkit_fleet_presence(fx.fleet, "quiet", &p), IOTKIT_OK);
  cr_assert_not(p.stale);
}
