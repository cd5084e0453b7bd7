// requires: fleet
/* Remote control's bad inputs, each with its exact code, on a fleet without a
   broker (so nothing can be sent): commands, groups, desired state, targets,
   and the codes that need no session (unknown device, not connected). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "fleet_fixture.h"

static fleet_fixture_t fx;

static void setup(void) {
  fleet_fixture_setup(&fx);
  cr_assert_eq(fleet_fixture_create(fx.fleet, "d1", NULL, NULL, 0), IOTKIT_OK);
}
static void teardown(void) { fleet_fixture_teardown(&fx); }
TestSuite(fleet_control_args, .init = setup, .fini = teardown, .timeout = 60);

static int calls;
static void never(iotkit_fleet_t *f, void *user, const iotkit_fleet_result_t *r) {
  (void)f, (void)user, (void)r;
  calls++;
}

/* Send and call, with the same arguments: both must give @p want. */
static void both(iotkit_err_t want, iotkit_fleet_t *f, const char *id, const char *name, const char *params,
                 uint32_t timeout_ms) {
  iotkit_err_t rc = iotkit_fleet_command_send(f, id, name, params, timeout_ms, never, NULL, NULL, 0);
  cr_assert_eq(rc, want, "send: %s, want %s", iotkit_err_name(rc), iotkit_err_name(want));
  iotkit_fleet_results_t *res = NULL;
  rc = iotkit_fleet_command_call(f, id, name, params, timeout_ms, &res);
  cr_assert_eq(rc, want, "call: %s, want %s", iotkit_err_name(rc), iotkit_err_name(want));
  cr_assert_null(res);
}

Test(fleet_control_args, null_arguments) {
  both(IOTKIT_ERR_INVALID_ARG, NULL, "d1", "ping", NULL, 0);
  both(IOTKIT_ERR_INVALID_ARG, fx.fleet, NULL, "ping", NULL, 0);
  both(IOTKIT_ERR_INVALID_ARG, fx.fleet, "d1", NULL, NULL, 0);
  cr_assert_eq(iotkit_fleet_command_send(fx.fleet, "d1", "ping", NULL, 0, NULL, NULL, NULL, 0),
               IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_command_call(fx.fleet, "d1", "ping", NULL, 0, NULL), IOTKIT_ERR_INVALID_ARG);
  char rid[4];
  cr_assert_eq(iotkit_fleet_command_send(fx.fleet, "d1", "ping", NULL, 0, never, NULL, rid, 0),
               IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_control_stats_sized(fx.fleet, NULL, 8), IOTKIT_ERR_INVALID_ARG);
  iotkit_fleet_control_stats_t st;
  cr_assert_eq(iotkit_fleet_control_stats_sized(NULL, &st, sizeof st), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_control_stats_sized(fx.fleet, &st, 0), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(calls, 0);
}

Test(fleet_control_args, bad_device_ids) {
  char long_id[IOTKIT_MAX_DEVICE_ID + 2];
  memset(long_id, 'a', sizeof long_id - 1);
  long_id[sizeof long_id - 1] = '\0';
  const char *bad[] = {"", "a/b", "a+b", "a#", "sp ace", "quo\"te", "..", long_id};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    both(IOTKIT_ERR_INVALID_ARG, fx.fleet, bad[i], "ping", NULL, 0);
    cr_assert_eq(iotkit_fleet_desired_set(fx.fleet, bad[i], "{}", NULL), IOTKIT_ERR_INVALID_ARG, "%s", bad[i]);
    cr_assert_eq(iotkit_fleet_desired_get(fx.fleet, bad[i], NULL, NULL), IOTKIT_ERR_INVALID_ARG, "%s", bad[i]);
  }
  cr_assert_eq(calls, 0);
}

Test(fleet_control_args, bad_names) {
  char long_name[IOTKIT_MAX_NAME + 2];
  memset(long_name, 'n', sizeof long_name - 1);
  long_name[sizeof long_name - 1] = '\0';
  both(IOTKIT_ERR_TOO_LARGE, fx.fleet, "d1", long_name, NULL, 0);
  long_name[IOTKIT_MAX_NAME] = '\0'; /* exactly the limit: fine as a name (then NOT_CONNECTED) */
  both(IOTKIT_ERR_NOT_CONNECTED, fx.fleet, "d1", long_name, NULL, 0);
  const char *bad[] = {"", "a b", "a/b", "x;DROP TABLE devices", "caf\xc3\xa9"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) both(IOTKIT_ERR_INVALID_ARG, fx.fleet, "d1", bad[i], NULL, 0);
}

Test(fleet_control_args, bad_params) {
  both(IOTKIT_ERR_BAD_ENCODING, fx.fleet, "d1", "ping", "{", 0);
  both(IOTKIT_ERR_BAD_ENCODING, fx.fleet, "d1", "ping", "{\"a\":}", 0);
  both(IOTKIT_ERR_BAD_ENCODING, fx.fleet, "d1", "ping", "", 0);
  both(IOTKIT_ERR_INVALID_ARG, fx.fleet, "d1", "ping", "[1,2]", 0);
  both(IOTKIT_ERR_INVALID_ARG, fx.fleet, "d1", "ping", "\"text\"", 0);
  both(IOTKIT_ERR_INVALID_ARG, fx.fleet, "d1", "ping", "42", 0);
  size_t n = IOTKIT_FLEET_MAX_CONTROL_JSON + 16;
  char *big = malloc(n + 1);
  cr_assert_not_null(big);
  memset(big, ' ', n);
  memcpy(big, "{\"a\":1}", 7);
  big[n] = '\0';
  both(IOTKIT_ERR_TOO_LARGE, fx.fleet, "d1", "ping", big, 0);
  cr_assert_eq(iotkit_fleet_desired_set(fx.fleet, "d1", big, NULL), IOTKIT_ERR_TOO_LARGE);
  free(big);
}

Test(fleet_control_args, bad_timeouts) {
  both(IOTKIT_ERR_INVALID_ARG, fx.fleet, "d1", "ping", NULL, IOTKIT_FLEET_COMMAND_TIMEOUT_MAX_MS + 1);
  both(IOTKIT_ERR_NOT_CONNECTED, fx.fleet, "d1", "ping", NULL, IOTKIT_FLEET_COMMAND_TIMEOUT_MAX_MS);
}

Test(fleet_control_args, unknown_device_and_no_session) {
  /* Unknown before anything else that needs the session. */
  both(IOTKIT_ERR_NOT_FOUND, fx.fleet, "nobody", "ping", "{}", 0);
  both(IOTKIT_ERR_NOT_CONNECTED, fx.fleet, "d1", "ping", "{}", 0);
  cr_assert_eq(iotkit_fleet_desired_set(fx.fleet, "d1", "{\"a\":1}", NULL), IOTKIT_ERR_NOT_CONNECTED);
  /* Nothing was written: no desired state for d1. */
  cr_assert_eq(iotkit_fleet_desired_get(fx.fleet, "d1", NULL, NULL), IOTKIT_ERR_NOT_FOUND);
  iotkit_fleet_control_stats_t st;
  cr_assert_eq(iotkit_fleet_control_stats(fx.fleet, &st), IOTKIT_OK);
  cr_assert_eq(st.commands_sent, 0);
  cr_assert_eq(st.desired_published, 0);
  cr_assert_eq(calls, 0);
}

Test(fleet_control_args, bad_patches) {
  cr_assert_eq(iotkit_fleet_desired_set(NULL, "d1", "{}", NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_desired_set(fx.fleet, NULL, "{}", NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_desired_set(fx.fleet, "d1", NULL, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_desired_set(fx.fleet, "d1", "{\"a\":", NULL), IOTKIT_ERR_BAD_ENCODING);
  cr_assert_eq(iotkit_fleet_desired_set(fx.fleet, "d1", "not json", NULL), IOTKIT_ERR_BAD_ENCODING);
  cr_assert_eq(iotkit_fleet_desired_set(fx.fleet, "d1", "[]", NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_desired_set(fx.fleet, "d1", "null", NULL), IOTKIT_ERR_INVALID_ARG);
  iotkit_fleet_target_t t;
  iotkit_fleet_target_init(&t);
  const char *ids[] = {"d1"};
  t.ids = ids;
  t.id_count = 1;
  cr_assert_eq(iotkit_fleet_desired_group(fx.fleet, &t, "[1]", NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_desired_group(fx.fleet, &t, "{", NULL), IOTKIT_ERR_BAD_ENCODING);
  cr_assert_eq(iotkit_fleet_desired_group(fx.fleet, &t, NULL, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_desired_group(NULL, &t, "{}", NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_desired_get(NULL, "d1", NULL, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_desired_get(fx.fleet, NULL, NULL, NULL), IOTKIT_ERR_INVALID_ARG);
}

/* Each bad target gives @p want for the four group calls. */
static void bad_target(iotkit_err_t want, const iotkit_fleet_target_t *t) {
  iotkit_fleet_results_t *res = NULL;
  size_t count = 99;
  cr_assert_eq(iotkit_fleet_command_group(fx.fleet, t, "ping", NULL, 0, never, NULL, &count), want);
  cr_assert_eq(count, 99);
  cr_assert_eq(iotkit_fleet_command_group_call(fx.fleet, t, "ping", NULL, 0, &res), want);
  cr_assert_null(res);
  cr_assert_eq(iotkit_fleet_desired_group(fx.fleet, t, "{}", &res), want);
  cr_assert_null(res);
}

Test(fleet_control_args, bad_targets) {
  bad_target(IOTKIT_ERR_INVALID_ARG, NULL);
  iotkit_fleet_target_t t;
  iotkit_fleet_target_init(&t);
  bad_target(IOTKIT_ERR_INVALID_ARG, &t); /* neither ids nor filter */
  iotkit_fleet_filter_t flt;
  iotkit_fleet_filter_init(&flt);
  const char *ids[] = {"d1", "d2", "d1"};
  t.ids = ids;
  t.id_count = 1;
  t.filter = &flt;
  bad_target(IOTKIT_ERR_INVALID_ARG, &t); /* both */
  t.filter = NULL;
  t.id_count = 3;
  bad_target(IOTKIT_ERR_INVALID_ARG, &t); /* d1 repeated */
  const char *badids[] = {"d1", "x/y"};
  t.ids = badids;
  t.id_count = 2;
  bad_target(IOTKIT_ERR_INVALID_ARG, &t);
  const char *nullid[] = {"d1", NULL};
  t.ids = nullid;
  bad_target(IOTKIT_ERR_INVALID_ARG, &t);
  t.ids = NULL;
  bad_target(IOTKIT_ERR_INVALID_ARG, &t); /* a count without ids */
  t.id_count = IOTKIT_FLEET_MAX_TARGETS + 1;
  t.ids = ids;
  bad_target(IOTKIT_ERR_TOO_LARGE, &t);
  iotkit_fleet_target_init(&t);
  flt.online = (iotkit_fleet_online_t)7;
  t.filter = &flt;
  bad_target(IOTKIT_ERR_INVALID_ARG, &t); /* a bad filter */
  t.struct_size = 1;
  iotkit_fleet_filter_init(&flt);
  bad_target(IOTKIT_ERR_INVALID_ARG, &t); /* struct_size below the fields */
  /* A good target, a bad command: the command's code. */
  iotkit_fleet_target_init(&t);
  t.filter = &flt;
  iotkit_fleet_results_t *res = NULL;
  cr_assert_eq(iotkit_fleet_command_group_call(fx.fleet, &t, "", NULL, 0, &res), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_command_group_call(fx.fleet, &t, "ping", "{", 0, &res), IOTKIT_ERR_BAD_ENCODING);
  /* ... and a good one without a session. */
  cr_assert_eq(iotkit_fleet_command_group_call(fx.fleet, &t, "ping", NULL, 0, &res), IOTKIT_ERR_NOT_CONNECTED);
  cr_assert_eq(iotkit_fleet_desired_group(fx.fleet, &t, "{}", &res), IOTKIT_ERR_NOT_CONNECTED);
  cr_assert_eq(calls, 0);
}

Test(fleet_control_args, results_free_null) {
  iotkit_fleet_results_free(NULL);
  iotkit_fleet_target_init(NULL);
}
