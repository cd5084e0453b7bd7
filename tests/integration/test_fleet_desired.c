// requires: mqtt fleet
/* Desired state from the fleet to real device handles through a real
   mosquitto: a filtered group gets it and no other device does (checked on the
   devices), merge patches and versions, versions that keep growing across a
   fleet restart and a re-registration, an offline device that gets the
   retained document when it connects, and per-device results. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet_live.h"
#include "net_util.h"

static fleet_live_t fx;
static void setup(void) { fleet_live_setup(&fx, false); }
static void teardown(void) { fleet_live_teardown(&fx); }
TestSuite(fleet_desired, .init = setup, .fini = teardown, .timeout = 120);

static void create(const char *id, const char *type) {
  iotkit_fleet_device_spec_t spec;
  iotkit_fleet_device_spec_init(&spec);
  spec.id = id;
  spec.type = type;
  cr_assert_eq(iotkit_fleet_device_create(fx.fleet, &spec), IOTKIT_OK);
}

static iotkit_device_t *online(const char *id) {
  iotkit_device_t *d = fleet_live_device(&fx, id);
  cr_assert(fleet_live_wait_online(&fx, id, true), "%s online", id);
  return d;
}

/* The device's applied desired version (0 if none) and, optionally, its state. */
static uint64_t applied(iotkit_device_t *d, char *state, size_t cap) {
  char *s = NULL;
  uint64_t v = 0;
  if (iotkit_device_desired(d, &s, &v) != IOTKIT_OK) v = 0;
  if (state) snprintf(state, cap, "%s", s ? s : "");
  iotkit_free(s);
  return v;
}

static void wait_applied(iotkit_device_t *d, uint64_t version, const char *state) {
  uint64_t end = test_now_ms() + FLEET_LIVE_WAIT_MS;
  char got[512] = "";
  while (applied(d, got, sizeof got) < version && test_now_ms() < end) test_msleep(5);
  cr_assert_eq(applied(d, got, sizeof got), version, "%s: version", iotkit_device_id(d));
  cr_assert_str_eq(got, state);
}

Test(fleet_desired, filtered_group_reaches_exactly_that_group) {
  fleet_live_open(&fx);
  create("a1", "lamp");
  create("a2", "lamp");
  create("a3", "lamp"); /* offline: gets it when it connects */
  create("b1", "sensor");
  create("b2", "sensor");
  iotkit_device_t *a1 = online("a1"), *a2 = online("a2"), *b1 = online("b1"), *b2 = online("b2");

  iotkit_fleet_filter_t flt;
  iotkit_fleet_filter_init(&flt);
  flt.type = "lamp";
  iotkit_fleet_target_t t;
  iotkit_fleet_target_init(&t);
  t.filter = &flt;
  iotkit_fleet_results_t *res = NULL;
  cr_assert_eq(iotkit_fleet_desired_group(fx.fleet, &t, "{\"led\":\"on\"}", &res), IOTKIT_OK);
  cr_assert_eq(res->count, 3);
  const char *order[] = {"a1", "a2", "a3"};
  for (size_t i = 0; i < 3; i++) {
    cr_assert_str_eq(res->items[i].device_id, order[i]);
    cr_assert_eq(res->items[i].err, IOTKIT_OK);
    cr_assert_eq(res->items[i].version, 1);
  }
  iotkit_fleet_results_free(res);
  wait_applied(a1, 1, "{\"led\":\"on\"}");
  wait_applied(a2, 1, "{\"led\":\"on\"}");
  /* The other devices: nothing now, and their own first document later is version 1 with
     only its own keys, so they never applied the group's (a device ignores version <= applied). */
  cr_assert_eq(applied(b1, NULL, 0), 0);
  cr_assert_eq(applied(b2, NULL, 0), 0);
  cr_assert_eq(iotkit_fleet_desired_get(fx.fleet, "b1", NULL, NULL), IOTKIT_ERR_NOT_FOUND);
  uint64_t v = 0;
  cr_assert_eq(iotkit_fleet_desired_set(fx.fleet, "b1", "{\"rate\":2}", &v), IOTKIT_OK);
  cr_assert_eq(v, 1);
  wait_applied(b1, 1, "{\"rate\":2}");
  cr_assert_eq(applied(b2, NULL, 0), 0);
  /* The offline member gets the retained document when it comes online. */
  iotkit_device_t *a3 = online("a3");
  wait_applied(a3, 1, "{\"led\":\"on\"}");
  iotkit_fleet_control_stats_t st;
  cr_assert_eq(iotkit_fleet_control_stats(fx.fleet, &st), IOTKIT_OK);
  cr_assert_eq(st.desired_published, 4);
}

Test(fleet_desired, merge_patches_and_versions) {
  fleet_live_open(&fx);
  create("d1", NULL);
  iotkit_device_t *d = online("d1");
  uint64_t v = 0;
  cr_assert_eq(iotkit_fleet_desired_set(fx.fleet, "d1", "{\"a\":1,\"cfg\":{\"x\":1,\"y\":2}}", &v), IOTKIT_OK);
  cr_assert_eq(v, 1);
  cr_assert_eq(iotkit_fleet_desired_set(fx.fleet, "d1", "{\"b\":2,\"cfg\":{\"y\":null}}", &v), IOTKIT_OK);
  cr_assert_eq(v, 2);
  cr_assert_eq(iotkit_fleet_desired_set(fx.fleet, "d1", "{\"a\":null}", &v), IOTKIT_OK);
  cr_assert_eq(v, 3);
  wait_applied(d, 3, "{\"cfg\":{\"x\":1},\"b\":2}");
  char *state = NULL;
  cr_assert_eq(iotkit_fleet_desired_get(fx.fleet, "d1", &state, &v), IOTKIT_OK);
  cr_assert_str_eq(state, "{\"cfg\":{\"x\":1},\"b\":2}");
  cr_assert_eq(v, 3);
  iotkit_free(state);
  /* Unknown devices: NOT_FOUND, alone or in a list (per device). */
  cr_assert_eq(iotkit_fleet_desired_set(fx.fleet, "nobody", "{}", NULL), IOTKIT_ERR_NOT_FOUND);
  const char *ids[] = {"nobody", "d1"};
  iotkit_fleet_target_t t;
  iotkit_fleet_target_init(&t);
  t.ids = ids;
  t.id_count = 2;
  iotkit_fleet_results_t *res = NULL;
  cr_assert_eq(iotkit_fleet_desired_group(fx.fleet, &t, "{\"c\":3}", &res), IOTKIT_OK);
  cr_assert_eq(res->items[0].err, IOTKIT_ERR_NOT_FOUND);
  cr_assert_eq(res->items[0].version, 0);
  cr_assert_eq(res->items[1].err, IOTKIT_OK);
  cr_assert_eq(res->items[1].version, 4);
  iotkit_fleet_results_free(res);
  wait_applied(d, 4, "{\"cfg\":{\"x\":1},\"b\":2,\"c\":3}");
}

Test(fleet_desired, versions_grow_across_a_fleet_restart) {
  fleet_live_open(&fx);
  create("d1", NULL);
  iotkit_device_t *d = online("d1");
  uint64_t v = 0;
  cr_assert_eq(iotkit_fleet_desired_set(fx.fleet, "d1", "{\"n\":1}", &v), IOTKIT_OK);
  cr_assert_eq(iotkit_fleet_desired_set(fx.fleet, "d1", "{\"n\":2}", &v), IOTKIT_OK);
  cr_assert_eq(v, 2);
  wait_applied(d, 2, "{\"n\":2}");
  fleet_live_close(&fx);
  fleet_live_open(&fx); /* the same database */
  cr_assert(fleet_live_wait_online(&fx, "d1", true));
  cr_assert_eq(iotkit_fleet_desired_set(fx.fleet, "d1", "{\"m\":3}", &v), IOTKIT_OK);
  cr_assert_eq(v, 3, "a restarted fleet goes on from the stored version");
  wait_applied(d, 3, "{\"n\":2,\"m\":3}");
  /* Deleting the record and registering the id again keeps the versions too. */
  cr_assert_eq(iotkit_fleet_device_delete(fx.fleet, "d1"), IOTKIT_OK);
  cr_assert_eq(iotkit_fleet_desired_set(fx.fleet, "d1", "{\"m\":4}", &v), IOTKIT_ERR_NOT_FOUND);
  create("d1", NULL);
  cr_assert_eq(iotkit_fleet_desired_set(fx.fleet, "d1", "{\"m\":4}", &v), IOTKIT_OK);
  cr_assert_eq(v, 4);
  wait_applied(d, 4, "{\"n\":2,\"m\":4}");
}
