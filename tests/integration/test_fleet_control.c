// requires: mqtt fleet
/* Commands from the fleet to real device handles through a real mosquitto:
   round trip (blocking and with a callback), a device's own error
   (unknown_command), a timeout and the late answer that follows it (counted,
   dropped), unknown and offline devices refused at once with their codes,
   groups by list and by filter with a result per device, and the blocking call
   when no fleet thread runs (the caller's thread, or a poll loop beside it). */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "fleet_live.h"
#include "net_util.h"

static fleet_live_t fx;
static void setup(void) { fleet_live_setup(&fx, false); }
static void teardown(void) { fleet_live_teardown(&fx); }
TestSuite(fleet_control, .init = setup, .fini = teardown, .timeout = 120);

/* ------------------------------------------------- the device's side -- */

static atomic_int handled; /* commands any handler saw */
static pthread_mutex_t held_mu = PTHREAD_MUTEX_INITIALIZER;
static iotkit_command_t *held; /* a "slow" command, answered later by the test */

static void echo(iotkit_device_t *dev, void *user, const char *rid, const char *name, const char *params,
                 iotkit_command_t *cmd) {
  (void)dev, (void)user, (void)rid, (void)name;
  atomic_fetch_add(&handled, 1);
  cr_assert_eq(iotkit_command_complete(cmd, params), IOTKIT_OK);
}

static void whoami(iotkit_device_t *dev, void *user, const char *rid, const char *name, const char *params,
                   iotkit_command_t *cmd) {
  (void)user, (void)rid, (void)name, (void)params;
  atomic_fetch_add(&handled, 1);
  char out[200];
  snprintf(out, sizeof out, "{\"id\":\"%s\"}", iotkit_device_id(dev));
  cr_assert_eq(iotkit_command_complete(cmd, out), IOTKIT_OK);
}

static void slow(iotkit_device_t *dev, void *user, const char *rid, const char *name, const char *params,
                 iotkit_command_t *cmd) {
  (void)dev, (void)user, (void)rid, (void)name, (void)params;
  atomic_fetch_add(&handled, 1);
  pthread_mutex_lock(&held_mu);
  held = cmd;
  pthread_mutex_unlock(&held_mu);
}

static void refuse(iotkit_device_t *dev, void *user, const char *rid, const char *name, const char *params,
                   iotkit_command_t *cmd) {
  (void)dev, (void)user, (void)rid, (void)name, (void)params;
  cr_assert_eq(iotkit_command_fail(cmd, "invalid_params", "interval_ms out of range"), IOTKIT_OK);
}

/* A registered, online device with the handlers above. */
static iotkit_device_t *device(const char *id, const char *type, const char *tag) {
  iotkit_fleet_device_spec_t spec;
  iotkit_fleet_device_spec_init(&spec);
  spec.id = id;
  spec.type = type;
  const char *tags[] = {tag};
  spec.tags = tags;
  spec.tag_count = tag ? 1 : 0;
  cr_assert_eq(iotkit_fleet_device_create(fx.fleet, &spec), IOTKIT_OK);
  iotkit_device_t *d = fleet_live_device(&fx, id);
  cr_assert_eq(iotkit_device_command_register(d, "set_interval", echo, NULL), IOTKIT_OK);
  cr_assert_eq(iotkit_device_command_register(d, "whoami", whoami, NULL), IOTKIT_OK);
  cr_assert_eq(iotkit_device_command_register(d, "slow", slow, NULL), IOTKIT_OK);
  cr_assert_eq(iotkit_device_command_register(d, "refuse", refuse, NULL), IOTKIT_OK);
  cr_assert(fleet_live_wait_online(&fx, id, true), "%s online", id);
  return d;
}

static iotkit_fleet_control_stats_t stats(void) {
  iotkit_fleet_control_stats_t st;
  cr_assert_eq(iotkit_fleet_control_stats(fx.fleet, &st), IOTKIT_OK);
  return st;
}

/* ------------------------------------------------ results, callbacks -- */

typedef struct seen {
  pthread_mutex_t mu;
  int n;
  char ids[16][IOTKIT_MAX_DEVICE_ID + 1];
  iotkit_err_t errs[16];
  char results[16][128];
  bool in_cb_call_refused;
} seen_t;

static void record(iotkit_fleet_t *f, void *user, const iotkit_fleet_result_t *r) {
  (void)f;
  seen_t *s = user;
  pthread_mutex_lock(&s->mu);
  if (s->n < 16) {
    snprintf(s->ids[s->n], sizeof s->ids[0], "%s", r->device_id);
    s->errs[s->n] = r->err;
    snprintf(s->results[s->n], sizeof s->results[0], "%s", r->result_json ? r->result_json : "");
    s->n++;
  }
  pthread_mutex_unlock(&s->mu);
}

static int seen_n(seen_t *s) {
  pthread_mutex_lock(&s->mu);
  int n = s->n;
  pthread_mutex_unlock(&s->mu);
  return n;
}

static bool wait_seen(seen_t *s, int n) {
  uint64_t end = test_now_ms() + FLEET_LIVE_WAIT_MS;
  while (seen_n(s) < n && test_now_ms() < end) test_msleep(5);
  return seen_n(s) >= n;
}

/* --------------------------------------------------------------- tests -- */

Test(fleet_control, round_trip) {
  fleet_live_open(&fx);
  device("d1", NULL, NULL);
  iotkit_fleet_results_t *res = NULL;
  iotkit_err_t rc = iotkit_fleet_command_call(fx.fleet, "d1", "set_interval", "{\"interval_ms\":5000}", 5000, &res);
  cr_assert_eq(rc, IOTKIT_OK, "%s", iotkit_err_name(rc));
  cr_assert_eq(res->count, 1);
  cr_assert_str_eq(res->items[0].device_id, "d1");
  cr_assert_eq(res->items[0].err, IOTKIT_OK);
  cr_assert_str_eq(res->items[0].result_json, "{\"interval_ms\":5000}");
  cr_assert_null(res->items[0].error_code);
  cr_assert_gt(strlen(res->items[0].request_id), 0);
  iotkit_fleet_results_free(res);

  /* The same with a callback, from the fleet's thread; the id given back is the one answered. */
  seen_t s = {.mu = PTHREAD_MUTEX_INITIALIZER};
  char rid[IOTKIT_MAX_REQUEST_ID + 1] = "";
  cr_assert_eq(iotkit_fleet_command_send(fx.fleet, "d1", "set_interval", NULL, 5000, record, &s, rid, sizeof rid),
               IOTKIT_OK);
  cr_assert_gt(strlen(rid), 0);
  cr_assert(wait_seen(&s, 1));
  cr_assert_eq(s.errs[0], IOTKIT_OK);
  cr_assert_str_eq(s.results[0], "{}"); /* no params: the device read {} */
  test_msleep(100);
  cr_assert_eq(seen_n(&s), 1, "exactly one result");

  iotkit_fleet_control_stats_t st = stats();
  cr_assert_eq(st.commands_sent, 2);
  cr_assert_eq(st.responses, 2);
  cr_assert_eq(st.remote_errors, 0);
  cr_assert_eq(st.timeouts, 0);
  cr_assert_eq(st.late_responses, 0);
  cr_assert_eq(atomic_load(&handled), 2);
}

Test(fleet_control, device_errors) {
  fleet_live_open(&fx);
  device("d1", NULL, NULL);
  iotkit_fleet_results_t *res = NULL;
  iotkit_err_t rc = iotkit_fleet_command_call(fx.fleet, "d1", "self_destruct", NULL, 5000, &res);
  cr_assert_eq(rc, IOTKIT_ERR_REMOTE, "%s", iotkit_err_name(rc));
  cr_assert_eq(res->items[0].err, IOTKIT_ERR_REMOTE);
  cr_assert_str_eq(res->items[0].error_code, "unknown_command");
  cr_assert_str_eq(res->items[0].error_message, "no handler for command 'self_destruct'");
  cr_assert_null(res->items[0].result_json);
  iotkit_fleet_results_free(res);
  rc = iotkit_fleet_command_call(fx.fleet, "d1", "refuse", "{\"interval_ms\":1}", 5000, &res);
  cr_assert_eq(rc, IOTKIT_ERR_REMOTE);
  cr_assert_str_eq(res->items[0].error_code, "invalid_params");
  cr_assert_str_eq(res->items[0].error_message, "interval_ms out of range");
  iotkit_fleet_results_free(res);
  iotkit_fleet_control_stats_t st = stats();
  cr_assert_eq(st.responses, 2);
  cr_assert_eq(st.remote_errors, 2);
}

static bool late_one(void *arg) {
  (void)arg;
  return stats().late_responses >= 1;
}

static iotkit_command_t *take_held(void) {
  uint64_t end = test_now_ms() + FLEET_LIVE_WAIT_MS;
  for (;;) {
    pthread_mutex_lock(&held_mu);
    iotkit_command_t *c = held;
    held = NULL;
    pthread_mutex_unlock(&held_mu);
    if (c || test_now_ms() >= end) return c;
    test_msleep(5);
  }
}

Test(fleet_control, timeout_then_late_answer) {
  fleet_live_open(&fx);
  device("d1", NULL, NULL);
  iotkit_fleet_results_t *res = NULL;
  iotkit_err_t rc = iotkit_fleet_command_call(fx.fleet, "d1", "slow", NULL, 300, &res);
  cr_assert_eq(rc, IOTKIT_ERR_TIMEOUT, "%s", iotkit_err_name(rc));
  cr_assert_eq(res->items[0].err, IOTKIT_ERR_TIMEOUT);
  cr_assert_null(res->items[0].result_json);
  cr_assert_gt(strlen(res->items[0].request_id), 0);
  iotkit_fleet_results_free(res);
  cr_assert_eq(stats().timeouts, 1);
  /* The device answers now: the fleet counts it as late and drops it. */
  iotkit_command_t *c = take_held();
  cr_assert_not_null(c);
  cr_assert_eq(iotkit_command_complete(c, "{\"late\":true}"), IOTKIT_OK);
  cr_assert(fleet_live_wait(late_one, NULL, FLEET_LIVE_WAIT_MS));
  iotkit_fleet_control_stats_t st = stats();
  cr_assert_eq(st.late_responses, 1);
  cr_assert_eq(st.responses, 0);
  cr_assert_eq(st.unmatched_responses, 0);

  /* With a callback: the fleet's thread notices the deadline; the late answer is dropped again. */
  seen_t s = {.mu = PTHREAD_MUTEX_INITIALIZER};
  cr_assert_eq(iotkit_fleet_command_send(fx.fleet, "d1", "slow", NULL, 200, record, &s, NULL, 0), IOTKIT_OK);
  cr_assert(wait_seen(&s, 1));
  cr_assert_eq(s.errs[0], IOTKIT_ERR_TIMEOUT);
  c = take_held();
  cr_assert_not_null(c);
  cr_assert_eq(iotkit_command_complete(c, "{}"), IOTKIT_OK);
  uint64_t end = test_now_ms() + FLEET_LIVE_WAIT_MS;
  while (stats().late_responses < 2 && test_now_ms() < end) test_msleep(5);
  st = stats();
  cr_assert_eq(st.late_responses, 2);
  cr_assert_eq(st.timeouts, 2);
  cr_assert_eq(seen_n(&s), 1, "no second result for the late answer");
}

Test(fleet_control, unknown_and_offline_devices) {
  fleet_live_open(&fx);
  seen_t s = {.mu = PTHREAD_MUTEX_INITIALIZER};
  iotkit_fleet_results_t *res = NULL;
  /* Not in the registry: NOT_FOUND at once. */
  cr_assert_eq(iotkit_fleet_command_call(fx.fleet, "nobody", "ping", NULL, 5000, &res), IOTKIT_ERR_NOT_FOUND);
  cr_assert_eq(iotkit_fleet_command_send(fx.fleet, "nobody", "ping", NULL, 5000, record, &s, NULL, 0),
               IOTKIT_ERR_NOT_FOUND);
  /* Registered but never connected: OFFLINE at once. */
  fleet_live_register(&fx, "d2");
  cr_assert_eq(iotkit_fleet_command_call(fx.fleet, "d2", "ping", NULL, 60000, &res), IOTKIT_ERR_OFFLINE);
  cr_assert_eq(iotkit_fleet_command_send(fx.fleet, "d2", "ping", NULL, 5000, record, &s, NULL, 0),
               IOTKIT_ERR_OFFLINE);
  cr_assert_null(res);
  /* Online, then gone: OFFLINE again. */
  iotkit_device_t *d = device("d3", NULL, NULL);
  cr_assert_eq(iotkit_fleet_command_call(fx.fleet, "d3", "whoami", NULL, 5000, &res), IOTKIT_OK);
  iotkit_fleet_results_free(res);
  res = NULL;
  fleet_live_drop(&fx, d, false);
  cr_assert(fleet_live_wait_online(&fx, "d3", false));
  cr_assert_eq(iotkit_fleet_command_call(fx.fleet, "d3", "whoami", NULL, 5000, &res), IOTKIT_ERR_OFFLINE);
  cr_assert_null(res);
  test_msleep(50);
  cr_assert_eq(seen_n(&s), 0, "a refused command has no callback");
  cr_assert_eq(stats().commands_sent, 1);
}

Test(fleet_control, group_by_filter_and_list) {
  fleet_live_open(&fx);
  device("g1", "lamp", "grp");
  device("g2", "lamp", "grp");
  device("g3", "lamp", "grp");
  device("other", "lamp", NULL);
  iotkit_fleet_device_spec_t spec;
  iotkit_fleet_device_spec_init(&spec);
  spec.id = "g4";
  const char *tags[] = {"grp"};
  spec.tags = tags;
  spec.tag_count = 1;
  cr_assert_eq(iotkit_fleet_device_create(fx.fleet, &spec), IOTKIT_OK); /* never online */
  int before = atomic_load(&handled);

  iotkit_fleet_filter_t flt;
  iotkit_fleet_filter_init(&flt);
  flt.tag = "grp";
  iotkit_fleet_target_t t;
  iotkit_fleet_target_init(&t);
  t.filter = &flt;
  iotkit_fleet_results_t *res = NULL;
  cr_assert_eq(iotkit_fleet_command_group_call(fx.fleet, &t, "whoami", NULL, 5000, &res), IOTKIT_OK);
  cr_assert_eq(res->count, 4);
  const char *order[] = {"g1", "g2", "g3", "g4"};
  for (size_t i = 0; i < 4; i++) {
    cr_assert_str_eq(res->items[i].device_id, order[i]);
    if (i < 3) {
      cr_assert_eq(res->items[i].err, IOTKIT_OK, "%s: %s", order[i], iotkit_err_name(res->items[i].err));
      char want[200];
      snprintf(want, sizeof want, "{\"id\":\"%s\"}", order[i]);
      cr_assert_str_eq(res->items[i].result_json, want);
    } else {
      cr_assert_eq(res->items[i].err, IOTKIT_ERR_OFFLINE);
      cr_assert_str_eq(res->items[i].request_id, "");
    }
  }
  iotkit_fleet_results_free(res);
  cr_assert_eq(atomic_load(&handled) - before, 3, "only the online members of the group ran it");

  /* A list, with an unknown id among them, and one that times out. */
  const char *ids[] = {"g3", "nobody", "g1", "g4"};
  t.filter = NULL;
  t.ids = ids;
  t.id_count = 4;
  cr_assert_eq(iotkit_fleet_command_group_call(fx.fleet, &t, "whoami", NULL, 5000, &res), IOTKIT_OK);
  cr_assert_eq(res->count, 4);
  cr_assert_str_eq(res->items[0].device_id, "g3");
  cr_assert_eq(res->items[0].err, IOTKIT_OK);
  cr_assert_str_eq(res->items[0].result_json, "{\"id\":\"g3\"}");
  cr_assert_eq(res->items[1].err, IOTKIT_ERR_NOT_FOUND);
  cr_assert_eq(res->items[2].err, IOTKIT_OK);
  cr_assert_str_eq(res->items[2].result_json, "{\"id\":\"g1\"}");
  cr_assert_eq(res->items[3].err, IOTKIT_ERR_OFFLINE);
  iotkit_fleet_results_free(res);

  /* Asynchronous: one callback per device, refusals included. */
  seen_t s = {.mu = PTHREAD_MUTEX_INITIALIZER};
  size_t count = 0;
  t.ids = NULL;
  t.id_count = 0;
  t.filter = &flt;
  cr_assert_eq(iotkit_fleet_command_group(fx.fleet, &t, "whoami", NULL, 5000, record, &s, &count), IOTKIT_OK);
  cr_assert_eq(count, 4);
  cr_assert(wait_seen(&s, 4));
  test_msleep(100);
  cr_assert_eq(seen_n(&s), 4);
  int ok = 0, offline = 0;
  for (int i = 0; i < 4; i++) {
    if (s.errs[i] == IOTKIT_OK) {
      ok++;
      char want[200];
      snprintf(want, sizeof want, "{\"id\":\"%s\"}", s.ids[i]);
      cr_assert_str_eq(s.results[i], want);
    }
    if (s.errs[i] == IOTKIT_ERR_OFFLINE) {
      offline++;
      cr_assert_str_eq(s.ids[i], "g4");
    }
  }
  cr_assert_eq(ok, 3);
  cr_assert_eq(offline, 1);
  /* A group in which one device is slow: it times out, the others answer. */
  const char *two[] = {"g1", "g2"};
  t.filter = NULL;
  t.ids = two;
  t.id_count = 2;
  cr_assert_eq(iotkit_device_command_register(fx.devs[1], "whoami", slow, NULL), IOTKIT_OK); /* g2 */
  cr_assert_eq(iotkit_fleet_command_group_call(fx.fleet, &t, "whoami", NULL, 3000, &res), IOTKIT_OK);
  cr_assert_eq(res->items[0].err, IOTKIT_OK);
  cr_assert_eq(res->items[1].err, IOTKIT_ERR_TIMEOUT);
  iotkit_fleet_results_free(res);
  iotkit_command_t *c = take_held();
  cr_assert_not_null(c);
  cr_assert_eq(iotkit_command_fail(c, "gone", "too late"), IOTKIT_OK);
}

/* A blocking call from inside a result callback is refused. */
static void call_inside(iotkit_fleet_t *f, void *user, const iotkit_fleet_result_t *r) {
  (void)r;
  iotkit_fleet_results_t *res = NULL;
  seen_t *s = user;
  iotkit_err_t rc = iotkit_fleet_command_call(f, "d1", "whoami", NULL, 1000, &res);
  pthread_mutex_lock(&s->mu);
  s->in_cb_call_refused = rc == IOTKIT_ERR_STATE && res == NULL;
  s->n++;
  pthread_mutex_unlock(&s->mu);
}

Test(fleet_control, blocking_call_inside_a_callback) {
  fleet_live_open(&fx);
  device("d1", NULL, NULL);
  seen_t s = {.mu = PTHREAD_MUTEX_INITIALIZER};
  cr_assert_eq(iotkit_fleet_command_send(fx.fleet, "d1", "whoami", NULL, 5000, call_inside, &s, NULL, 0), IOTKIT_OK);
  cr_assert(wait_seen(&s, 1));
  cr_assert(s.in_cb_call_refused);
}

/* ---------------------------------------------- without a fleet thread -- */

static void open_unstarted(void) {
  cr_assert_eq(iotkit_fleet_new(&fx.cfg, &fx.fleet), IOTKIT_OK);
  cr_assert_eq(iotkit_fleet_connect(fx.fleet), IOTKIT_OK);
}

static bool online_polled(const char *id) {
  uint64_t end = test_now_ms() + FLEET_LIVE_WAIT_MS;
  while (!fleet_live_online(&fx, id)) {
    if (test_now_ms() >= end) return false;
    cr_assert_eq(iotkit_fleet_poll(fx.fleet, 10), IOTKIT_OK);
  }
  return true;
}

static atomic_bool stop_polling;
static void *poller(void *arg) {
  (void)arg;
  while (!atomic_load(&stop_polling)) (void)iotkit_fleet_poll(fx.fleet, 50);
  return NULL;
}

Test(fleet_control, blocking_call_drives_or_shares_the_poll) {
  open_unstarted();
  fleet_live_register(&fx, "d1");
  iotkit_device_t *d = fleet_live_device(&fx, "d1");
  cr_assert_eq(iotkit_device_command_register(d, "whoami", whoami, NULL), IOTKIT_OK);
  cr_assert(online_polled("d1"));
  /* The caller's thread, nobody else polling: the call drives the session itself. */
  iotkit_fleet_results_t *res = NULL;
  cr_assert_eq(iotkit_fleet_command_call(fx.fleet, "d1", "whoami", NULL, 5000, &res), IOTKIT_OK);
  cr_assert_str_eq(res->items[0].result_json, "{\"id\":\"d1\"}");
  iotkit_fleet_results_free(res);
  /* An asynchronous one: its callback comes from the caller's next polls. */
  seen_t s = {.mu = PTHREAD_MUTEX_INITIALIZER};
  cr_assert_eq(iotkit_fleet_command_send(fx.fleet, "d1", "whoami", NULL, 5000, record, &s, NULL, 0), IOTKIT_OK);
  uint64_t end = test_now_ms() + FLEET_LIVE_WAIT_MS;
  while (seen_n(&s) < 1 && test_now_ms() < end) cr_assert_eq(iotkit_fleet_poll(fx.fleet, 10), IOTKIT_OK);
  cr_assert_eq(seen_n(&s), 1);
  cr_assert_eq(s.errs[0], IOTKIT_OK);
  /* A poll loop in another thread: the blocking calls take turns with it. */
  atomic_store(&stop_polling, false);
  pthread_t th;
  cr_assert_eq(pthread_create(&th, NULL, poller, NULL), 0);
  for (int i = 0; i < 5; i++) {
    cr_assert_eq(iotkit_fleet_command_call(fx.fleet, "d1", "whoami", NULL, 5000, &res), IOTKIT_OK);
    iotkit_fleet_results_free(res);
  }
  /* ... and a timeout is noticed there too. */
  cr_assert_eq(iotkit_device_command_register(d, "whoami", slow, NULL), IOTKIT_OK);
  cr_assert_eq(iotkit_fleet_command_call(fx.fleet, "d1", "whoami", NULL, 200, &res), IOTKIT_ERR_TIMEOUT);
  iotkit_fleet_results_free(res);
  atomic_store(&stop_polling, true);
  pthread_join(th, NULL);
  iotkit_command_t *c = take_held();
  cr_assert_not_null(c);
  cr_assert_eq(iotkit_command_complete(c, "{}"), IOTKIT_OK);
  iotkit_fleet_control_stats_t st = stats();
  cr_assert_eq(st.commands_sent, 8);
  cr_assert_eq(st.responses, 7);
  cr_assert_eq(st.timeouts, 1);
}

/* The external loop's timeout includes a command's deadline. */
Test(fleet_control, next_timeout_includes_the_deadline) {
  open_unstarted();
  fleet_live_register(&fx, "d1");
  iotkit_device_t *d = fleet_live_device(&fx, "d1");
  cr_assert_eq(iotkit_device_command_register(d, "slow", slow, NULL), IOTKIT_OK);
  cr_assert(online_polled("d1"));
  seen_t s = {.mu = PTHREAD_MUTEX_INITIALIZER};
  cr_assert_eq(iotkit_fleet_command_send(fx.fleet, "d1", "slow", NULL, 150, record, &s, NULL, 0), IOTKIT_OK);
  int t = iotkit_fleet_next_timeout_ms(fx.fleet);
  cr_assert(t >= 0 && t <= 150, "next timeout %d", t);
  uint64_t end = test_now_ms() + FLEET_LIVE_WAIT_MS;
  while (seen_n(&s) < 1 && test_now_ms() < end) {
    int w = iotkit_fleet_next_timeout_ms(fx.fleet);
    cr_assert_eq(iotkit_fleet_poll(fx.fleet, w < 0 || w > 50 ? 50 : w), IOTKIT_OK);
  }
  cr_assert_eq(s.errs[0], IOTKIT_ERR_TIMEOUT);
  iotkit_command_t *c = take_held();
  cr_assert_not_null(c);
  cr_assert_eq(iotkit_command_complete(c, "{}"), IOTKIT_OK);
}
