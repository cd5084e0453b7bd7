// requires: fleet
/* OTA rollouts without a broker: hawkBit's threshold arithmetic at its edges,
   every bad input with its exact code, the grouping, the evaluation driven by
   ota/status reports handed to the fleet's message path, pause, resume,
   cancel, the callback, and a reopened database carrying on. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet/fleet_internal.h"
#include "fleet/rollout.h"
#include "fleet_fixture.h"
#include "ota_fixture.h"

#define KEY_ID "fleet-key"
#define VERSION "2.0.0"

static fleet_fixture_t fx;
static iotkit_key_t *key;
static iotkit_ota_trust_t *trust;
static char *manifest;

static void setup(void) {
  fleet_fixture_setup(&fx);
  key = ota_fx_key(fx.hal, IOTKIT_KEY_ED25519);
  cr_assert_eq(iotkit_ota_trust_new(&trust), IOTKIT_OK);
  cr_assert_eq(iotkit_ota_trust_add(trust, KEY_ID, key), IOTKIT_OK);
  uint8_t img[64] = {1, 2, 3};
  manifest = ota_fx_manifest(key, KEY_ID, OTA_FX_DEVICE_TYPE, VERSION, img, sizeof img, "https://u.example/fw.bin");
  cr_assert_eq(iotkit_fleet_set_ota_trust(fx.fleet, trust), IOTKIT_OK);
}

static void teardown(void) {
  fleet_fixture_teardown(&fx);
  iotkit_free(manifest);
  iotkit_ota_trust_free(trust);
  iotkit_key_free(key);
}
TestSuite(fleet_rollout, .init = setup, .fini = teardown, .timeout = 60);

/* -------------------------------------------------------- arithmetic -- */

#define V(total, fin, err, s, e) iotkit__ro_verdict(total, fin, err, s, e)

Test(fleet_rollout, verdict_empty_group_is_a_success) {
  cr_assert_eq(V(0, 0, 0, 100, 0), IOTKIT__RO_SUCCESS);
  cr_assert_eq(V(0, 0, 0, 50, 50), IOTKIT__RO_SUCCESS);
}

Test(fleet_rollout, verdict_success_at_exact_equality) {
  cr_assert_eq(V(10, 5, 0, 50, 50), IOTKIT__RO_SUCCESS, "5/10 >= 50 %");
  cr_assert_eq(V(10, 4, 0, 50, 50), IOTKIT__RO_GO_ON);
  cr_assert_eq(V(3, 1, 0, 33, 50), IOTKIT__RO_SUCCESS, "1/3 >= 33 %");
  cr_assert_eq(V(3, 1, 0, 34, 50), IOTKIT__RO_GO_ON, "1/3 < 34 %");
}

Test(fleet_rollout, verdict_error_strictly_greater) {
  cr_assert_eq(V(10, 0, 2, 50, 20), IOTKIT__RO_GO_ON, "2/10 is not > 20 %");
  cr_assert_eq(V(10, 0, 3, 50, 20), IOTKIT__RO_ERROR);
  cr_assert_eq(V(3, 0, 1, 50, 33), IOTKIT__RO_ERROR, "1/3 > 33 %");
  cr_assert_eq(V(3, 0, 1, 50, 34), IOTKIT__RO_GO_ON);
}

Test(fleet_rollout, verdict_zero_percent) {
  cr_assert_eq(V(10, 0, 0, 0, 50), IOTKIT__RO_SUCCESS, "0 % success: at once");
  cr_assert_eq(V(10, 0, 1, 50, 0), IOTKIT__RO_ERROR, "0 % errors: the first one");
  cr_assert_eq(V(10, 0, 0, 50, 0), IOTKIT__RO_GO_ON);
  cr_assert_eq(V(10, 0, 1, 0, 0), IOTKIT__RO_ERROR, "the error condition is checked first");
}

Test(fleet_rollout, verdict_hundred_percent) {
  cr_assert_eq(V(10, 9, 0, 100, 50), IOTKIT__RO_GO_ON);
  cr_assert_eq(V(10, 10, 0, 100, 50), IOTKIT__RO_SUCCESS);
  cr_assert_eq(V(10, 0, 10, 100, 100), IOTKIT__RO_GO_ON, "errors can never pass 100 %");
}

Test(fleet_rollout, default_thresholds_are_fifty_fifty) {
  iotkit_fleet_group_spec_t g;
  iotkit_fleet_group_spec_init(&g);
  cr_assert_eq(g.success_pct, 50);
  cr_assert_eq(g.error_pct, 50);
  cr_assert_eq(g.count, 0);
  cr_assert_eq(g.percent, 0);
}

/* ------------------------------------------------------------ helpers -- */

static const char *ids[20];
static char id_buf[20][24];

static void devices(size_t n) {
  for (size_t i = 0; i < n; i++) {
    snprintf(id_buf[i], sizeof id_buf[i], "d%02u", (unsigned)i);
    ids[i] = id_buf[i];
    cr_assert_eq(fleet_fixture_create(fx.fleet, ids[i], OTA_FX_DEVICE_TYPE, NULL, 0), IOTKIT_OK);
  }
}

static iotkit_fleet_group_spec_t groups[IOTKIT_FLEET_ROLLOUT_MAX_GROUPS + 1];

static void pct_group(size_t i, unsigned pct, unsigned s, unsigned e) {
  iotkit_fleet_group_spec_init(&groups[i]);
  groups[i].percent = pct;
  groups[i].success_pct = s;
  groups[i].error_pct = e;
}

static void count_group(size_t i, size_t count, unsigned s, unsigned e) {
  iotkit_fleet_group_spec_init(&groups[i]);
  groups[i].count = count;
  groups[i].success_pct = s;
  groups[i].error_pct = e;
}

static iotkit_fleet_rollout_spec_t spec_of(const char *id, size_t n_devices, size_t n_groups) {
  iotkit_fleet_rollout_spec_t s;
  iotkit_fleet_rollout_spec_init(&s);
  s.id = id;
  s.manifest = manifest;
  s.manifest_len = strlen(manifest);
  s.device_ids = ids;
  s.device_count = n_devices;
  s.groups = groups;
  s.group_count = n_groups;
  return s;
}

static iotkit_err_t create(const char *id, size_t n_devices, size_t n_groups) {
  iotkit_fleet_rollout_spec_t s = spec_of(id, n_devices, n_groups);
  return iotkit_fleet_rollout_create(fx.fleet, &s);
}

static iotkit_fleet_rollout_info_t *info(const char *id) {
  iotkit_fleet_rollout_info_t *in = NULL;
  cr_assert_eq(iotkit_fleet_rollout_get(fx.fleet, id, &in), IOTKIT_OK);
  return in;
}

static int state_of(const char *id) {
  iotkit_fleet_rollout_info_t *in = info(id);
  int s = in->state;
  iotkit_fleet_rollout_info_free(in);
  return s;
}

/* A device's ota/status report, through the fleet's message path. */
static void report(const char *dev, const char *state, const char *target, const char *error, unsigned pct) {
  char topic[128], doc[512], err[80];
  snprintf(topic, sizeof topic, "iotkit/v1/%s/ota/status", dev);
  if (error)
    snprintf(err, sizeof err, "\"%s\"", error);
  else
    snprintf(err, sizeof err, "null");
  snprintf(doc, sizeof doc,
           "{\"state\":\"%s\",\"bytes\":%u,\"total\":100,\"percent\":%u,\"error\":%s,\"reason\":null,"
           "\"running_version\":\"1.0.0\",\"target_version\":\"%s\"}",
           state, pct, pct, err, target);
  iotkit_transport_msg_t m = {.struct_size = sizeof m, .channel = topic, .payload = doc, .len = strlen(doc), .qos = 1};
  iotkit__fleet_message(fx.fleet, &m);
}

static void confirm(const char *dev) { report(dev, "confirmed", VERSION, NULL, 100); }
static void fail(const char *dev) { report(dev, "failed", VERSION, "IOTKIT_ERR_OTA_DEVICE_TYPE", 0); }

static iotkit_fleet_rollout_device_t target(const char *rid, const char *dev) {
  iotkit_fleet_rollout_device_t t;
  cr_assert_eq(iotkit_fleet_rollout_target(fx.fleet, rid, dev, &t), IOTKIT_OK);
  return t;
}

/* --------------------------------------------------------- bad inputs -- */

Test(fleet_rollout, bad_arguments) {
  devices(2);
  count_group(0, 2, 50, 50);
  iotkit_fleet_rollout_spec_t s = spec_of("r", 2, 1);
  cr_assert_eq(iotkit_fleet_rollout_create(NULL, &s), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_rollout_create(fx.fleet, NULL), IOTKIT_ERR_INVALID_ARG);
  s.struct_size = 8;
  cr_assert_eq(iotkit_fleet_rollout_create(fx.fleet, &s), IOTKIT_ERR_INVALID_ARG, "struct_size below manifest_len");
  s = spec_of(NULL, 2, 1);
  cr_assert_eq(iotkit_fleet_rollout_create(fx.fleet, &s), IOTKIT_ERR_INVALID_ARG, "no id");
  s = spec_of("bad id", 2, 1);
  cr_assert_eq(iotkit_fleet_rollout_create(fx.fleet, &s), IOTKIT_ERR_INVALID_ARG, "id characters");
  s = spec_of("r", 2, 1);
  s.manifest = NULL;
  cr_assert_eq(iotkit_fleet_rollout_create(fx.fleet, &s), IOTKIT_ERR_INVALID_ARG, "no manifest");
}

Test(fleet_rollout, unsigned_manifest_is_refused) {
  devices(2);
  count_group(0, 2, 50, 50);
  /* The signed manifest without its signature member. */
  char *unsigned_m = strdup(manifest);
  char *sig = strstr(unsigned_m, ",\"signature\"");
  cr_assert_not_null(sig);
  strcpy(sig, "}");
  iotkit_fleet_rollout_spec_t s = spec_of("r", 2, 1);
  s.manifest = unsigned_m;
  s.manifest_len = strlen(unsigned_m);
  cr_assert_eq(iotkit_fleet_rollout_create(fx.fleet, &s), IOTKIT_ERR_OTA_MANIFEST);
  s.manifest = "not json";
  s.manifest_len = 8;
  cr_assert_eq(iotkit_fleet_rollout_create(fx.fleet, &s), IOTKIT_ERR_OTA_MANIFEST);
  free(unsigned_m);
  char **out = NULL;
  size_t n = 9;
  cr_assert_eq(iotkit_fleet_rollout_list(fx.fleet, &out, &n), IOTKIT_OK);
  cr_assert_eq(n, 0, "nothing was created");
  iotkit_fleet_rollout_ids_free(out, n);
}

Test(fleet_rollout, manifest_signed_by_another_key_is_refused) {
  devices(2);
  count_group(0, 2, 50, 50);
  iotkit_key_t *other = ota_fx_key(fx.hal, IOTKIT_KEY_ED25519);
  uint8_t img[64] = {1, 2, 3};
  char *forged = ota_fx_manifest(other, KEY_ID, OTA_FX_DEVICE_TYPE, VERSION, img, sizeof img, "https://u.example/f");
  char *rogue = ota_fx_manifest(other, "rogue", OTA_FX_DEVICE_TYPE, VERSION, img, sizeof img, "https://u.example/f");
  iotkit_fleet_rollout_spec_t s = spec_of("r", 2, 1);
  s.manifest = forged;
  s.manifest_len = strlen(forged);
  cr_assert_eq(iotkit_fleet_rollout_create(fx.fleet, &s), IOTKIT_ERR_OTA_SIGNATURE);
  s.manifest = rogue;
  s.manifest_len = strlen(rogue);
  cr_assert_eq(iotkit_fleet_rollout_create(fx.fleet, &s), IOTKIT_ERR_OTA_UNKNOWN_KEY);
  iotkit_free(forged);
  iotkit_free(rogue);
  iotkit_key_free(other);
}

Test(fleet_rollout, without_a_trust_store_every_manifest_is_refused) {
  devices(2);
  count_group(0, 2, 50, 50);
  cr_assert_eq(iotkit_fleet_set_ota_trust(fx.fleet, NULL), IOTKIT_OK);
  cr_assert_eq(create("r", 2, 1), IOTKIT_ERR_OTA_UNKNOWN_KEY);
  cr_assert_eq(iotkit_fleet_set_ota_trust(NULL, trust), IOTKIT_ERR_INVALID_ARG);
}

Test(fleet_rollout, thresholds_out_of_range) {
  devices(2);
  count_group(0, 2, 101, 50);
  cr_assert_eq(create("r", 2, 1), IOTKIT_ERR_INVALID_ARG, "success 101 %%");
  count_group(0, 2, 50, 101);
  cr_assert_eq(create("r", 2, 1), IOTKIT_ERR_INVALID_ARG, "error 101 %%");
  count_group(0, 2, (unsigned)-1, 50);
  cr_assert_eq(create("r", 2, 1), IOTKIT_ERR_INVALID_ARG, "success -1");
  count_group(0, 2, 0, 100);
  cr_assert_eq(create("r", 2, 1), IOTKIT_OK, "0 %% and 100 %% are in range");
}

Test(fleet_rollout, bad_groups) {
  devices(4);
  cr_assert_eq(create("r", 4, 0), IOTKIT_ERR_INVALID_ARG, "no group");
  for (size_t i = 0; i <= IOTKIT_FLEET_ROLLOUT_MAX_GROUPS; i++) count_group(i, 1, 50, 50);
  cr_assert_eq(create("r", 4, IOTKIT_FLEET_ROLLOUT_MAX_GROUPS + 1), IOTKIT_ERR_INVALID_ARG, "too many groups");
  pct_group(0, 0, 50, 50);
  cr_assert_eq(create("r", 4, 1), IOTKIT_ERR_INVALID_ARG, "neither count nor percent");
  pct_group(0, 101, 50, 50);
  cr_assert_eq(create("r", 4, 1), IOTKIT_ERR_INVALID_ARG, "percent 101");
  pct_group(0, 60, 50, 50);
  pct_group(1, 41, 50, 50);
  cr_assert_eq(create("r", 4, 2), IOTKIT_ERR_INVALID_ARG, "101 %% in all");
  iotkit_fleet_rollout_spec_t s = spec_of("r", 4, 1);
  s.groups = NULL;
  cr_assert_eq(iotkit_fleet_rollout_create(fx.fleet, &s), IOTKIT_ERR_INVALID_ARG, "NULL groups");
}

Test(fleet_rollout, bad_targets) {
  devices(3);
  count_group(0, 3, 50, 50);
  iotkit_fleet_filter_t filter;
  iotkit_fleet_filter_init(&filter);
  iotkit_fleet_rollout_spec_t s = spec_of("r", 3, 1);
  s.filter = &filter;
  cr_assert_eq(iotkit_fleet_rollout_create(fx.fleet, &s), IOTKIT_ERR_INVALID_ARG, "both ids and a filter");
  s.filter = NULL;
  s.device_ids = NULL;
  cr_assert_eq(iotkit_fleet_rollout_create(fx.fleet, &s), IOTKIT_ERR_INVALID_ARG, "neither");
  const char *dup[] = {"d00", "d01", "d00"};
  s = spec_of("r", 3, 1);
  s.device_ids = dup;
  cr_assert_eq(iotkit_fleet_rollout_create(fx.fleet, &s), IOTKIT_ERR_INVALID_ARG, "a device twice");
  const char *unknown[] = {"d00", "nobody"};
  s.device_ids = unknown;
  s.device_count = 2;
  cr_assert_eq(iotkit_fleet_rollout_create(fx.fleet, &s), IOTKIT_ERR_NOT_FOUND, "unregistered");
  const char *bad[] = {"d00", "no;way"};
  s.device_ids = bad;
  cr_assert_eq(iotkit_fleet_rollout_create(fx.fleet, &s), IOTKIT_ERR_INVALID_ARG, "id characters");
  const char *null_id[] = {"d00", NULL};
  s.device_ids = null_id;
  cr_assert_eq(iotkit_fleet_rollout_create(fx.fleet, &s), IOTKIT_ERR_INVALID_ARG, "NULL id");
  filter.struct_size = 3;
  s = spec_of("r", 0, 1);
  s.device_ids = NULL;
  s.filter = &filter;
  cr_assert_eq(iotkit_fleet_rollout_create(fx.fleet, &s), IOTKIT_ERR_INVALID_ARG, "a filter list() refuses");
}

Test(fleet_rollout, duplicate_id_and_busy_device) {
  devices(3);
  count_group(0, 3, 50, 50);
  cr_assert_eq(create("r1", 2, 1), IOTKIT_OK);
  cr_assert_eq(create("r1", 2, 1), IOTKIT_ERR_EXISTS);
  cr_assert_eq(create("r2", 3, 1), IOTKIT_ERR_BUSY, "d00 and d01 are in r1 (READY)");
  cr_assert_eq(iotkit_fleet_rollout_cancel(fx.fleet, "r1"), IOTKIT_OK);
  cr_assert_eq(create("r2", 3, 1), IOTKIT_OK, "r1 ended");
}

Test(fleet_rollout, wrong_states_and_unknown_rollouts) {
  devices(2);
  count_group(0, 2, 50, 50);
  cr_assert_eq(create("r", 2, 1), IOTKIT_OK);
  cr_assert_eq(iotkit_fleet_rollout_pause(fx.fleet, "r"), IOTKIT_ERR_STATE, "READY");
  cr_assert_eq(iotkit_fleet_rollout_resume(fx.fleet, "r"), IOTKIT_ERR_STATE, "READY");
  cr_assert_eq(iotkit_fleet_rollout_start(fx.fleet, "r"), IOTKIT_OK);
  cr_assert_eq(iotkit_fleet_rollout_start(fx.fleet, "r"), IOTKIT_ERR_STATE, "started already");
  cr_assert_eq(iotkit_fleet_rollout_resume(fx.fleet, "r"), IOTKIT_ERR_STATE, "RUNNING");
  cr_assert_eq(iotkit_fleet_rollout_cancel(fx.fleet, "r"), IOTKIT_OK);
  cr_assert_eq(iotkit_fleet_rollout_cancel(fx.fleet, "r"), IOTKIT_ERR_STATE, "CANCELED");
  cr_assert_eq(iotkit_fleet_rollout_start(fx.fleet, "nope"), IOTKIT_ERR_NOT_FOUND);
  cr_assert_eq(iotkit_fleet_rollout_pause(fx.fleet, NULL), IOTKIT_ERR_INVALID_ARG);
  iotkit_fleet_rollout_info_t *in = NULL;
  cr_assert_eq(iotkit_fleet_rollout_get(fx.fleet, "nope", &in), IOTKIT_ERR_NOT_FOUND);
  iotkit_fleet_rollout_device_t t;
  cr_assert_eq(iotkit_fleet_rollout_target(fx.fleet, "r", "d09", &t), IOTKIT_ERR_NOT_FOUND);
  iotkit_fleet_rollout_device_t *arr = NULL;
  size_t n = 0;
  cr_assert_eq(iotkit_fleet_rollout_targets(fx.fleet, "r", 1, &arr, &n), IOTKIT_ERR_INVALID_ARG, "group 1 of 1");
  cr_assert_eq(iotkit_fleet_rollout_targets(fx.fleet, "r", -2, &arr, &n), IOTKIT_ERR_INVALID_ARG);
}

/* ----------------------------------------------------------- grouping -- */

Test(fleet_rollout, percentages_round_up_and_the_rest_joins_the_last_group) {
  devices(10);
  pct_group(0, 33, 50, 50);
  pct_group(1, 33, 50, 50);
  pct_group(2, 10, 50, 50);
  cr_assert_eq(create("r", 10, 3), IOTKIT_OK);
  iotkit_fleet_rollout_info_t *in = info("r");
  cr_assert_eq(in->group_count, 3);
  cr_assert_eq(in->groups[0].counts.total, 4, "33 %% of 10, rounded up");
  cr_assert_eq(in->groups[1].counts.total, 4);
  cr_assert_eq(in->groups[2].counts.total, 2, "1 by its share, 1 left over");
  cr_assert_eq(in->counts.total, 10);
  cr_assert_eq(in->counts.pending, 10);
  cr_assert_eq(in->state, IOTKIT_FLEET_ROLLOUT_READY);
  cr_assert_str_eq(in->version, VERSION);
  cr_assert_str_eq(in->device_type, OTA_FX_DEVICE_TYPE);
  cr_assert_eq(in->error_group, -1);
  iotkit_fleet_rollout_info_free(in);
  iotkit_fleet_rollout_device_t *arr = NULL;
  size_t n = 0;
  cr_assert_eq(iotkit_fleet_rollout_targets(fx.fleet, "r", 2, &arr, &n), IOTKIT_OK);
  cr_assert_eq(n, 2);
  cr_assert_str_eq(arr[0].device_id, "d08", "the list's order");
  cr_assert_eq(arr[1].group, 2);
  iotkit_free(arr);
}

Test(fleet_rollout, a_filter_targets_matching_records_in_id_order) {
  devices(4);
  cr_assert_eq(fleet_fixture_create(fx.fleet, "other", "another-type", NULL, 0), IOTKIT_OK);
  count_group(0, 1, 50, 50);
  count_group(1, 10, 50, 50);
  iotkit_fleet_filter_t filter;
  iotkit_fleet_filter_init(&filter);
  filter.type = OTA_FX_DEVICE_TYPE;
  iotkit_fleet_rollout_spec_t s = spec_of("r", 0, 2);
  s.device_ids = NULL;
  s.filter = &filter;
  cr_assert_eq(iotkit_fleet_rollout_create(fx.fleet, &s), IOTKIT_OK);
  iotkit_fleet_rollout_device_t *arr = NULL;
  size_t n = 0;
  cr_assert_eq(iotkit_fleet_rollout_targets(fx.fleet, "r", -1, &arr, &n), IOTKIT_OK);
  cr_assert_eq(n, 4);
  cr_assert_str_eq(arr[0].device_id, "d00");
  cr_assert_eq(arr[0].group, 0);
  cr_assert_str_eq(arr[3].device_id, "d03");
  cr_assert_eq(arr[3].group, 1);
  iotkit_free(arr);
}

/* --------------------------------------------------------- evaluation -- */

Test(fleet_rollout, success_threshold_starts_the_next_group) {
  devices(6);
  count_group(0, 2, 100, 50);
  count_group(1, 2, 50, 50);
  count_group(2, 2, 50, 50);
  cr_assert_eq(create("r", 6, 3), IOTKIT_OK);
  cr_assert_eq(iotkit_fleet_rollout_start(fx.fleet, "r"), IOTKIT_OK);
  iotkit_fleet_rollout_info_t *in = info("r");
  cr_assert_eq(in->state, IOTKIT_FLEET_ROLLOUT_RUNNING);
  cr_assert_eq(in->started_groups, 1);
  cr_assert_eq(in->groups[0].counts.running, 2);
  cr_assert_eq(in->groups[1].counts.pending, 2);
  iotkit_fleet_rollout_info_free(in);
  /* A report of a device whose group has not started changes nothing. */
  confirm("d02");
  cr_assert_eq(target("r", "d02").state, IOTKIT_FLEET_TARGET_PENDING);
  report("d00", "downloading", VERSION, NULL, 40);
  iotkit_fleet_rollout_device_t t = target("r", "d00");
  cr_assert_eq(t.state, IOTKIT_FLEET_TARGET_RUNNING);
  cr_assert_eq(t.percent, 40);
  confirm("d00");
  in = info("r");
  cr_assert_eq(in->started_groups, 1, "1/2 < 100 %%");
  iotkit_fleet_rollout_info_free(in);
  /* A report about another version is not the rollout's. */
  report("d01", "confirmed", "1.5.0", NULL, 100);
  cr_assert_eq(target("r", "d01").state, IOTKIT_FLEET_TARGET_RUNNING);
  confirm("d01");
  in = info("r");
  cr_assert_eq(in->started_groups, 2);
  cr_assert_eq(in->groups[0].state, IOTKIT_FLEET_GROUP_SUCCESS);
  cr_assert_eq(in->groups[1].state, IOTKIT_FLEET_GROUP_RUNNING);
  cr_assert_eq(in->groups[0].counts.finished, 2);
  iotkit_fleet_rollout_info_free(in);
  confirm("d02"); /* 1/2 >= 50 % */
  in = info("r");
  cr_assert_eq(in->started_groups, 3);
  cr_assert_eq(in->groups[1].state, IOTKIT_FLEET_GROUP_SUCCESS);
  iotkit_fleet_rollout_info_free(in);
  confirm("d04");
  cr_assert_eq(state_of("r"), IOTKIT_FLEET_ROLLOUT_RUNNING, "d03 and d05 still running");
  confirm("d03");
  confirm("d05");
  in = info("r");
  cr_assert_eq(in->state, IOTKIT_FLEET_ROLLOUT_FINISHED);
  cr_assert_eq(in->counts.finished, 6);
  iotkit_fleet_rollout_info_free(in);
}

Test(fleet_rollout, error_threshold_pauses_and_resume_goes_on) {
  devices(8);
  count_group(0, 4, 50, 25); /* more than 1 error of 4 */
  count_group(1, 4, 50, 25);
  cr_assert_eq(create("r", 8, 2), IOTKIT_OK);
  cr_assert_eq(iotkit_fleet_rollout_start(fx.fleet, "r"), IOTKIT_OK);
  fail("d00");
  cr_assert_eq(state_of("r"), IOTKIT_FLEET_ROLLOUT_RUNNING, "1/4 is not > 25 %%");
  iotkit_fleet_rollout_device_t t = target("r", "d00");
  cr_assert_eq(t.state, IOTKIT_FLEET_TARGET_ERROR);
  cr_assert_str_eq(t.error, "IOTKIT_ERR_OTA_DEVICE_TYPE");
  fail("d01");
  iotkit_fleet_rollout_info_t *in = info("r");
  cr_assert_eq(in->state, IOTKIT_FLEET_ROLLOUT_PAUSED, "2/4 > 25 %%");
  cr_assert_eq(in->error_group, 0);
  cr_assert_eq(in->groups[0].state, IOTKIT_FLEET_GROUP_ERROR);
  cr_assert_eq(in->started_groups, 1);
  cr_assert_str_eq(in->reason, "error threshold passed of group 0");
  iotkit_fleet_rollout_info_free(in);
  /* Paused: reports are still recorded, no group starts. */
  confirm("d02");
  confirm("d03");
  in = info("r");
  cr_assert_eq(in->groups[0].counts.finished, 2);
  cr_assert_eq(in->started_groups, 1);
  iotkit_fleet_rollout_info_free(in);
  cr_assert_eq(iotkit_fleet_rollout_resume(fx.fleet, "r"), IOTKIT_OK);
  in = info("r");
  cr_assert_eq(in->state, IOTKIT_FLEET_ROLLOUT_RUNNING);
  cr_assert_eq(in->started_groups, 2, "resumed past the error: the next group starts");
  cr_assert_eq(in->groups[0].state, IOTKIT_FLEET_GROUP_ERROR);
  cr_assert_eq(in->error_group, -1);
  iotkit_fleet_rollout_info_free(in);
  for (int i = 4; i < 8; i++) confirm(id_buf[i]);
  in = info("r");
  cr_assert_eq(in->state, IOTKIT_FLEET_ROLLOUT_FINISHED);
  cr_assert_eq(in->counts.finished, 6);
  cr_assert_eq(in->counts.error, 2);
  iotkit_fleet_rollout_info_free(in);
}

Test(fleet_rollout, a_group_that_succeeded_can_still_fail) {
  devices(4);
  count_group(0, 4, 25, 25);
  cr_assert_eq(create("r", 4, 1), IOTKIT_OK);
  cr_assert_eq(iotkit_fleet_rollout_start(fx.fleet, "r"), IOTKIT_OK);
  confirm("d00");
  iotkit_fleet_rollout_info_t *in = info("r");
  cr_assert_eq(in->groups[0].state, IOTKIT_FLEET_GROUP_SUCCESS);
  cr_assert_eq(in->state, IOTKIT_FLEET_ROLLOUT_RUNNING, "devices still running");
  iotkit_fleet_rollout_info_free(in);
  fail("d01");
  fail("d02");
  in = info("r");
  cr_assert_eq(in->state, IOTKIT_FLEET_ROLLOUT_PAUSED);
  cr_assert_eq(in->groups[0].state, IOTKIT_FLEET_GROUP_ERROR);
  iotkit_fleet_rollout_info_free(in);
}

Test(fleet_rollout, success_out_of_reach_pauses) {
  devices(4);
  count_group(0, 4, 100, 50);
  cr_assert_eq(create("r", 4, 1), IOTKIT_OK);
  cr_assert_eq(iotkit_fleet_rollout_start(fx.fleet, "r"), IOTKIT_OK);
  confirm("d00");
  confirm("d01");
  confirm("d02");
  cr_assert_eq(state_of("r"), IOTKIT_FLEET_ROLLOUT_RUNNING);
  fail("d03"); /* 1/4 is not > 50 %, but 100 % can no longer be reached */
  iotkit_fleet_rollout_info_t *in = info("r");
  cr_assert_eq(in->state, IOTKIT_FLEET_ROLLOUT_PAUSED);
  cr_assert_str_eq(in->reason, "success threshold out of reach of group 0");
  iotkit_fleet_rollout_info_free(in);
  cr_assert_eq(iotkit_fleet_rollout_resume(fx.fleet, "r"), IOTKIT_OK);
  cr_assert_eq(state_of("r"), IOTKIT_FLEET_ROLLOUT_FINISHED);
}

Test(fleet_rollout, zero_percent_success_starts_every_group_at_once) {
  devices(6);
  count_group(0, 2, 0, 50);
  count_group(1, 2, 0, 50);
  count_group(2, 2, 0, 50);
  cr_assert_eq(create("r", 6, 3), IOTKIT_OK);
  cr_assert_eq(iotkit_fleet_rollout_start(fx.fleet, "r"), IOTKIT_OK);
  iotkit_fleet_rollout_info_t *in = info("r");
  cr_assert_eq(in->started_groups, 3);
  cr_assert_eq(in->counts.running, 6);
  iotkit_fleet_rollout_info_free(in);
}

Test(fleet_rollout, zero_percent_errors_pause_at_the_first) {
  devices(4);
  count_group(0, 4, 50, 0);
  cr_assert_eq(create("r", 4, 1), IOTKIT_OK);
  cr_assert_eq(iotkit_fleet_rollout_start(fx.fleet, "r"), IOTKIT_OK);
  fail("d03");
  cr_assert_eq(state_of("r"), IOTKIT_FLEET_ROLLOUT_PAUSED);
}

Test(fleet_rollout, empty_groups_count_as_success) {
  devices(2);
  count_group(0, 2, 100, 50);
  pct_group(1, 50, 100, 0); /* nothing left for it */
  cr_assert_eq(create("r", 2, 2), IOTKIT_OK);
  iotkit_fleet_rollout_info_t *in = info("r");
  cr_assert_eq(in->groups[1].counts.total, 0);
  iotkit_fleet_rollout_info_free(in);
  cr_assert_eq(iotkit_fleet_rollout_start(fx.fleet, "r"), IOTKIT_OK);
  confirm("d00");
  confirm("d01");
  in = info("r");
  cr_assert_eq(in->state, IOTKIT_FLEET_ROLLOUT_FINISHED);
  cr_assert_eq(in->groups[1].state, IOTKIT_FLEET_GROUP_SUCCESS);
  iotkit_fleet_rollout_info_free(in);
}

Test(fleet_rollout, an_empty_target_set_finishes_at_start) {
  count_group(0, 1, 100, 0);
  iotkit_fleet_filter_t filter;
  iotkit_fleet_filter_init(&filter);
  filter.tag = "none-has-it";
  iotkit_fleet_rollout_spec_t s = spec_of("r", 0, 1);
  s.device_ids = NULL;
  s.filter = &filter;
  cr_assert_eq(iotkit_fleet_rollout_create(fx.fleet, &s), IOTKIT_OK);
  cr_assert_eq(iotkit_fleet_rollout_start(fx.fleet, "r"), IOTKIT_OK);
  cr_assert_eq(state_of("r"), IOTKIT_FLEET_ROLLOUT_FINISHED);
}

Test(fleet_rollout, pause_holds_the_next_group) {
  devices(4);
  count_group(0, 2, 50, 50);
  count_group(1, 2, 50, 50);
  cr_assert_eq(create("r", 4, 2), IOTKIT_OK);
  cr_assert_eq(iotkit_fleet_rollout_start(fx.fleet, "r"), IOTKIT_OK);
  cr_assert_eq(iotkit_fleet_rollout_pause(fx.fleet, "r"), IOTKIT_OK);
  confirm("d00");
  iotkit_fleet_rollout_info_t *in = info("r");
  cr_assert_eq(in->state, IOTKIT_FLEET_ROLLOUT_PAUSED);
  cr_assert_eq(in->started_groups, 1);
  cr_assert_eq(in->error_group, -1);
  cr_assert_str_eq(in->reason, "paused by a call");
  cr_assert_eq(in->groups[0].counts.finished, 1, "recorded while paused");
  iotkit_fleet_rollout_info_free(in);
  cr_assert_eq(iotkit_fleet_rollout_resume(fx.fleet, "r"), IOTKIT_OK);
  in = info("r");
  cr_assert_eq(in->started_groups, 2);
  iotkit_fleet_rollout_info_free(in);
}

Test(fleet_rollout, cancel_ends_every_device_not_finished) {
  devices(6);
  count_group(0, 3, 100, 50);
  count_group(1, 3, 50, 50);
  cr_assert_eq(create("r", 6, 2), IOTKIT_OK);
  cr_assert_eq(iotkit_fleet_rollout_start(fx.fleet, "r"), IOTKIT_OK);
  confirm("d00");
  fail("d01");
  cr_assert_eq(iotkit_fleet_rollout_cancel(fx.fleet, "r"), IOTKIT_OK);
  iotkit_fleet_rollout_info_t *in = info("r");
  cr_assert_eq(in->state, IOTKIT_FLEET_ROLLOUT_CANCELED);
  cr_assert_eq(in->counts.finished, 1);
  cr_assert_eq(in->counts.error, 1);
  cr_assert_eq(in->counts.canceled, 4, "d02 running, d03..d05 pending");
  iotkit_fleet_rollout_info_free(in);
  confirm("d02");
  cr_assert_eq(target("r", "d02").state, IOTKIT_FLEET_TARGET_CANCELED, "no longer recorded");
}

/* ----------------------------------------------------------- callback -- */

static int n_events, n_device_events, last_state = -1;

static void on_rollout(iotkit_fleet_t *f, void *user, const iotkit_fleet_rollout_event_t *ev) {
  (void)f;
  cr_assert_eq(user, &n_events);
  cr_assert_str_eq(ev->rollout_id, "r");
  n_events++;
  if (ev->device_id) n_device_events++;
  last_state = ev->state;
}

Test(fleet_rollout, callback_sees_devices_groups_and_the_rollout) {
  devices(2);
  count_group(0, 2, 50, 50);
  cr_assert_eq(iotkit_fleet_on_rollout(fx.fleet, on_rollout, &n_events), IOTKIT_OK);
  cr_assert_eq(create("r", 2, 1), IOTKIT_OK);
  cr_assert_eq(iotkit_fleet_rollout_start(fx.fleet, "r"), IOTKIT_OK);
  cr_assert_geq(n_events, 2, "the rollout and its first group");
  report("d00", "downloading", VERSION, NULL, 10);
  report("d00", "downloading", VERSION, NULL, 10); /* no change: no event */
  report("d00", "downloading", VERSION, NULL, 60);
  confirm("d00");
  confirm("d01");
  cr_assert_eq(n_device_events, 4);
  cr_assert_eq(last_state, IOTKIT_FLEET_ROLLOUT_FINISHED);
  cr_assert_eq(iotkit_fleet_on_rollout(fx.fleet, NULL, NULL), IOTKIT_OK);
}

/* -------------------------------------------------------- persistence -- */

Test(fleet_rollout, a_reopened_fleet_carries_on) {
  devices(6);
  count_group(0, 2, 100, 50);
  count_group(1, 2, 100, 50);
  count_group(2, 2, 100, 50);
  cr_assert_eq(create("r", 6, 3), IOTKIT_OK);
  cr_assert_eq(iotkit_fleet_rollout_start(fx.fleet, "r"), IOTKIT_OK);
  confirm("d00");
  confirm("d01");
  report("d02", "downloading", VERSION, NULL, 30);
  fleet_fixture_reopen(&fx);
  cr_assert_eq(iotkit_fleet_set_ota_trust(fx.fleet, trust), IOTKIT_OK);
  iotkit_fleet_rollout_info_t *in = info("r");
  cr_assert_eq(in->state, IOTKIT_FLEET_ROLLOUT_RUNNING);
  cr_assert_eq(in->started_groups, 2);
  cr_assert_eq(in->groups[0].state, IOTKIT_FLEET_GROUP_SUCCESS);
  cr_assert_eq(in->groups[1].state, IOTKIT_FLEET_GROUP_RUNNING);
  cr_assert_eq(in->groups[0].counts.finished, 2);
  cr_assert_eq(in->groups[2].counts.pending, 2);
  cr_assert_str_eq(in->version, VERSION);
  iotkit_fleet_rollout_info_free(in);
  iotkit_fleet_rollout_device_t t = target("r", "d02");
  cr_assert_eq(t.percent, 30);
  cr_assert_eq(t.state, IOTKIT_FLEET_TARGET_RUNNING);
  confirm("d02");
  confirm("d03");
  confirm("d04");
  confirm("d05");
  cr_assert_eq(state_of("r"), IOTKIT_FLEET_ROLLOUT_FINISHED);
  fleet_fixture_reopen(&fx);
  cr_assert_eq(state_of("r"), IOTKIT_FLEET_ROLLOUT_FINISHED);
  cr_assert_eq(create("r", 2, 1), IOTKIT_ERR_OTA_UNKNOWN_KEY, "the trust store is not persisted");
}
