/* Replacing callbacks while they run, and what a callback may not do to its own device
   (issue 21, "Replacing a callback" and the refusals in include/iotkit/device.h):
   - a setter called from another thread while the old callback runs waits for it (the
     old callback is held at a gate the test opens), and the old callback is never called
     again once the setter has returned;
   - a setter called from inside a callback returns at once and takes effect;
   - free, stop, connect, disconnect and poll called from a callback of the device return
     IOTKIT_ERR_STATE and leave it working;
   - iotkit_device_free(NULL) is IOTKIT_OK.
   On the loopback transport (it echoes sends on subscribed channels and confirms every
   send on the next poll), driven by a polling thread of the test or by the device's own
   background loop. A deadlock fails the test through the suite's timeout. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "device_fixture.h"

static device_fixture_t fx;
static iotkit_device_t *dev;

static void setup(void) { device_fixture_init(&fx, "loop://local"); }
static void teardown(void) { device_fixture_fini(&fx); }
TestSuite(device_callbacks, .init = setup, .fini = teardown, .timeout = 60);

/* Generous budget of every wait for something the device must do (a failure, not a hang). */
#define BUDGET_MS 10000u
/* Messages driven through a callback after it has been replaced. */
#define AFTER 20

/* -------------------------------------------------------------- the gate -- */

/* The first call of a gated callback says it has begun, then waits until the test opens the gate. */
static struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool entered, open;
} gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false};

static void gate_pass(void) {
  pthread_mutex_lock(&gate.mu);
  gate.entered = true;
  pthread_cond_broadcast(&gate.cv);
  while (!gate.open) pthread_cond_wait(&gate.cv, &gate.mu);
  pthread_mutex_unlock(&gate.mu);
}

static bool gate_entered(void *arg) {
  (void)arg;
  pthread_mutex_lock(&gate.mu);
  bool entered = gate.entered;
  pthread_mutex_unlock(&gate.mu);
  return entered;
}

static void gate_open(void) {
  pthread_mutex_lock(&gate.mu);
  gate.open = true;
  pthread_cond_broadcast(&gate.cv);
  pthread_mutex_unlock(&gate.mu);
}

/* ------------------------------------------------- callbacks and slots -- */

/* The user state of one installed callback. */
typedef struct slot {
  atomic_int calls;
  atomic_int late;     /* calls begun after the setter that replaced this callback had returned */
  atomic_bool retired; /* set right after that setter returned */
  bool gated;          /* the first call waits at the gate */
} slot_t;

static void slot_call(slot_t *s) {
  if (atomic_load(&s->retired)) atomic_fetch_add(&s->late, 1);
  if (atomic_fetch_add(&s->calls, 1) == 0 && s->gated) gate_pass();
}

static void on_cmd(iotkit_device_t *d, void *user, const char *id, const char *name, const char *params,
                   iotkit_command_t *cmd) {
  (void)d, (void)id, (void)name, (void)params;
  slot_call(user);
  (void)iotkit_command_complete(cmd, NULL);
}

static void on_msg(iotkit_device_t *d, void *user, const char *channel, const void *payload, size_t len) {
  (void)d, (void)channel, (void)payload, (void)len;
  slot_call(user);
}

static void on_dlv(iotkit_device_t *d, void *user, uint32_t msg_id, iotkit_err_t status) {
  (void)d, (void)msg_id, (void)status;
  slot_call(user);
}

static void on_conn(iotkit_device_t *d, void *user, bool up, iotkit_err_t reason, const char *detail) {
  (void)d, (void)up, (void)reason, (void)detail;
  slot_call(user);
}

static void on_des(iotkit_device_t *d, void *user, const char *delta_json, uint64_t version) {
  (void)d, (void)delta_json, (void)version;
  slot_call(user);
}

static iotkit_err_t on_cred(iotkit_device_t *d, void *user, char *username, size_t username_cap, char *password,
                            size_t password_cap) {
  (void)d, (void)username, (void)username_cap, (void)password, (void)password_cap;
  slot_call(user);
  return IOTKIT_OK;
}

typedef struct at_least {
  atomic_int *n;
  int want;
} at_least_t;

static bool reached(void *arg) {
  const at_least_t *a = arg;
  return atomic_load(a->n) >= a->want;
}

/* Wait (without polling: a thread of the test or the loop drives the device) until *n >= want. */
static bool wait_for(atomic_int *n, int want) {
  at_least_t a = {n, want};
  return device_fixture_wait(&fx, NULL, reached, &a, BUDGET_MS);
}

/* The callbacks of the tests: each kind is installed by its setter and made to run by a send. */
typedef enum { KIND_COMMAND, KIND_MESSAGE, KIND_DELIVERY, KIND_DESIRED, KIND_CONNECTION, KIND_CREDENTIALS } kind_t;

/* Install (or with NULL remove) the callback of @p kind with @p s as user pointer. */
static iotkit_err_t set_cb(kind_t kind, slot_t *s) {
  switch (kind) {
    case KIND_COMMAND: return iotkit_device_command_register(dev, "work", s ? on_cmd : NULL, s);
    case KIND_MESSAGE: return iotkit_device_on_message(dev, s ? on_msg : NULL, s);
    case KIND_DELIVERY: return iotkit_device_on_delivery(dev, s ? on_dlv : NULL, s);
    case KIND_DESIRED: return iotkit_device_on_desired(dev, s ? on_des : NULL, s);
    case KIND_CONNECTION: return iotkit_device_on_connection(dev, s ? on_conn : NULL, s);
    case KIND_CREDENTIALS: return iotkit_device_on_credentials(dev, s ? on_cred : NULL, s);
  }
  return IOTKIT_ERR_INTERNAL;
}

/* Send what makes the callback of @p kind run once on a later poll (every send also has a
   delivery, which the loopback reports after the echo of the same send). */
static void trigger(kind_t kind, int n) {
  char json[64];
  switch (kind) {
    case KIND_COMMAND:
      snprintf(json, sizeof json, "{\"id\":\"r%d\",\"name\":\"work\"}", n);
      cr_assert_eq(iotkit_device_publish(dev, "commands/request", json, strlen(json), 1, false, NULL), IOTKIT_OK);
      break;
    case KIND_MESSAGE:
      cr_assert_eq(iotkit_device_publish(dev, "app/x", "1", 1, 1, false, NULL), IOTKIT_OK);
      break;
    case KIND_DELIVERY:
      cr_assert_eq(iotkit_device_send_telemetry(dev, "1", 1, NULL), IOTKIT_OK);
      break;
    case KIND_DESIRED: /* a newer version each time, so that every one is applied */
      snprintf(json, sizeof json, "{\"version\":%d,\"state\":{\"n\":%d}}", n + 1, n);
      cr_assert_eq(iotkit_device_publish(dev, "state/desired", json, strlen(json), 1, false, NULL), IOTKIT_OK);
      break;
    case KIND_CONNECTION:
    case KIND_CREDENTIALS:
      cr_assert_fail("no send makes this callback run");
  }
}

/* ------------------------------------------------------------- driving -- */

/* Who polls the device: a thread of the test (polling mode) or the device's background loop. */
typedef enum { DRIVE_POLL, DRIVE_LOOP } drive_t;

static pthread_t poller;
static atomic_bool poller_stop;
static atomic_int poll_errors;

static void *poller_main(void *arg) {
  (void)arg;
  while (!atomic_load(&poller_stop)) {
    iotkit_err_t err = iotkit_device_poll(dev, 10);
    if (err != IOTKIT_OK) atomic_fetch_add(&poll_errors, 1);
  }
  return NULL;
}

static void drive_begin(drive_t drive) {
  if (drive == DRIVE_LOOP) {
    cr_assert_eq(iotkit_device_start(dev), IOTKIT_OK);
  } else {
    cr_assert_eq(pthread_create(&poller, NULL, poller_main, NULL), 0);
  }
}

/* Stop driving: the loop must still run (stop succeeds), the poller must have seen no failure. */
static void drive_end(drive_t drive) {
  if (drive == DRIVE_LOOP) {
    cr_assert_eq(iotkit_device_stop(dev), IOTKIT_OK, "the background loop no longer ran");
  } else {
    atomic_store(&poller_stop, true);
    pthread_join(poller, NULL);
    cr_assert_eq(atomic_load(&poll_errors), 0);
  }
}

/* A connected device with a subscription that echoes "app/..." back to it. */
static void connect_device(void) {
  dev = device_fixture_connect(&fx);
  cr_assert_eq(iotkit_device_subscribe(dev, "app/#", 1), IOTKIT_OK);
}

static void free_device(void) {
  cr_assert_eq(iotkit_device_free(dev), IOTKIT_OK);
  dev = NULL;
}

/* ------------------------------------ replacing from another thread -- */

typedef struct setter_job {
  kind_t kind;
  slot_t *old, *fresh; /* fresh NULL: remove the callback */
  iotkit_err_t err;
  atomic_bool returned;
} setter_job_t;

static void *setter_main(void *arg) {
  setter_job_t *job = arg;
  job->err = set_cb(job->kind, job->fresh);
  atomic_store(&job->old->retired, true);
  atomic_store(&job->returned, true);
  return NULL;
}

/* The callback of @p kind is held at the gate in the polling thread while another thread
   replaces it (or removes it, @p clear): the setter must not return before the gate opens,
   and once it has, the old callback must never be called again while AFTER more sends go
   through. With @p clear, the delivery callback (a proxy) shows that they went through. */
static void replace_while_running(kind_t kind, drive_t drive, bool clear) {
  slot_t old = {.gated = true}, fresh = {0}, proxy = {0};
  connect_device();
  if (clear) cr_assert_neq(kind, KIND_DELIVERY);
  if (kind != KIND_DELIVERY) cr_assert_eq(iotkit_device_on_delivery(dev, on_dlv, &proxy), IOTKIT_OK);
  cr_assert_eq(set_cb(kind, &old), IOTKIT_OK);
  drive_begin(drive);
  trigger(kind, 0);
  cr_assert(device_fixture_wait(&fx, NULL, gate_entered, NULL, BUDGET_MS), "the old callback was never called");

  setter_job_t job = {.kind = kind, .old = &old, .fresh = clear ? NULL : &fresh};
  pthread_t th;
  cr_assert_eq(pthread_create(&th, NULL, setter_main, &job), 0);
  /* Not a timing assertion: the old callback cannot leave the gate before it opens, so
     however long we wait here, a setter that keeps its promise has not returned yet. */
  fx.hal->sleep_ms(fx.hal->ctx, 200);
  bool early = atomic_load(&job.returned);
  gate_open();
  pthread_join(th, NULL);
  cr_assert_not(early, "the setter returned while the old callback was still running");
  cr_assert_eq(job.err, IOTKIT_OK);

  for (int i = 1; i <= AFTER; i++) trigger(kind, i);
  if (clear)
    cr_assert(wait_for(&proxy.calls, 1 + AFTER), "the sends after the removal were not all confirmed");
  else
    cr_assert(wait_for(&fresh.calls, AFTER), "the new callback got %d of %d calls", atomic_load(&fresh.calls), AFTER);
  drive_end(drive);
  cr_assert_eq(atomic_load(&old.late), 0, "the old callback ran %d times after its setter returned",
               atomic_load(&old.late));
  cr_assert_eq(atomic_load(&old.calls), 1);
  if (!clear) cr_assert_eq(atomic_load(&fresh.calls), AFTER);
  free_device();
}

Test(device_callbacks, command_handler_replaced_while_running) { replace_while_running(KIND_COMMAND, DRIVE_POLL, false); }
Test(device_callbacks, command_handler_removed_while_running) { replace_while_running(KIND_COMMAND, DRIVE_POLL, true); }
Test(device_callbacks, message_callback_replaced_while_running) { replace_while_running(KIND_MESSAGE, DRIVE_POLL, false); }
Test(device_callbacks, message_callback_cleared_while_running) { replace_while_running(KIND_MESSAGE, DRIVE_POLL, true); }
Test(device_callbacks, delivery_callback_replaced_while_running) { replace_while_running(KIND_DELIVERY, DRIVE_POLL, false); }
Test(device_callbacks, desired_callback_replaced_while_running) { replace_while_running(KIND_DESIRED, DRIVE_POLL, false); }
Test(device_callbacks, command_handler_replaced_while_the_loop_runs_it) {
  replace_while_running(KIND_COMMAND, DRIVE_LOOP, false);
}
Test(device_callbacks, message_callback_cleared_while_the_loop_runs_it) {
  replace_while_running(KIND_MESSAGE, DRIVE_LOOP, true);
}

/* Callbacks that run inside a call of the controlling thread, made here by a thread of the
   test: the connection callback inside iotkit_device_disconnect(), the credentials callback
   inside iotkit_device_connect(). */
static void *disconnect_main(void *arg) {
  (void)arg;
  return (void *)(intptr_t)iotkit_device_disconnect(dev);
}

static void *connect_main(void *arg) {
  (void)arg;
  return (void *)(intptr_t)iotkit_device_connect(dev);
}

/* The callback of @p kind is held at the gate inside that call while another thread
   clears it; a later connect and disconnect (which run both callbacks) do not reach it. */
static void clear_during_call(kind_t kind) {
  slot_t old = {.gated = true};
  cr_assert_eq(iotkit_device_new(&fx.cfg, &dev), IOTKIT_OK);
  if (kind == KIND_CONNECTION) cr_assert_eq(iotkit_device_connect(dev), IOTKIT_OK);
  cr_assert_eq(set_cb(kind, &old), IOTKIT_OK);
  pthread_t call;
  cr_assert_eq(pthread_create(&call, NULL, kind == KIND_CONNECTION ? disconnect_main : connect_main, NULL), 0);
  cr_assert(device_fixture_wait(&fx, NULL, gate_entered, NULL, BUDGET_MS), "the callback was never called");

  setter_job_t job = {.kind = kind, .old = &old, .fresh = NULL};
  pthread_t th;
  cr_assert_eq(pthread_create(&th, NULL, setter_main, &job), 0);
  fx.hal->sleep_ms(fx.hal->ctx, 200); /* as in replace_while_running: a logic check */
  bool early = atomic_load(&job.returned);
  gate_open();
  pthread_join(th, NULL);
  void *rc = NULL;
  pthread_join(call, &rc);
  cr_assert_not(early, "the setter returned while the old callback was still running");
  cr_assert_eq(job.err, IOTKIT_OK);
  cr_assert_eq((iotkit_err_t)(intptr_t)rc, IOTKIT_OK);

  if (kind == KIND_CREDENTIALS) cr_assert_eq(iotkit_device_disconnect(dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_disconnect(dev), IOTKIT_OK);
  cr_assert_eq(atomic_load(&old.late), 0, "the old callback ran %d times after its setter returned",
               atomic_load(&old.late));
  cr_assert_eq(atomic_load(&old.calls), 1);
  free_device();
}

Test(device_callbacks, connection_callback_cleared_while_running) { clear_during_call(KIND_CONNECTION); }
Test(device_callbacks, credentials_callback_cleared_while_running) { clear_during_call(KIND_CREDENTIALS); }

/* --------------------------------------------- replacing from inside -- */

static slot_t inside_old, inside_new;
static atomic_int inside_err = 1; /* not an iotkit_err_t: 0 or negative once set */

/* The command handler replaces itself, then answers. */
static void on_cmd_replacing_itself(iotkit_device_t *d, void *user, const char *id, const char *name,
                                    const char *params, iotkit_command_t *cmd) {
  (void)id, (void)name, (void)params;
  slot_call(user);
  atomic_store(&inside_err, iotkit_device_command_register(d, "work", on_cmd, &inside_new));
  atomic_store(&inside_old.retired, true);
  (void)iotkit_command_complete(cmd, NULL);
}

/* The message callback replaces itself. */
static void on_msg_replacing_itself(iotkit_device_t *d, void *user, const char *channel, const void *payload,
                                    size_t len) {
  (void)channel, (void)payload, (void)len;
  slot_call(user);
  atomic_store(&inside_err, iotkit_device_on_message(d, on_msg, &inside_new));
  atomic_store(&inside_old.retired, true);
}

/* The message callback replaces the command handler (another callback of the same device). */
static void on_msg_replacing_handler(iotkit_device_t *d, void *user, const char *channel, const void *payload,
                                     size_t len) {
  (void)user, (void)channel, (void)payload, (void)len;
  atomic_store(&inside_err, iotkit_device_command_register(d, "work", on_cmd, &inside_new));
  atomic_store(&inside_old.retired, true);
}

static bool inside_done(void *arg) {
  (void)arg;
  return atomic_load(&inside_err) != 1;
}

/* One send reaches the callback that replaces @p kind's callback from inside (a deadlock
   there is caught by the suite's timeout); AFTER more sends reach the new one only. */
static void replace_from_inside(kind_t kind, drive_t drive, kind_t first) {
  connect_device();
  if (kind == KIND_COMMAND && first == KIND_COMMAND)
    cr_assert_eq(iotkit_device_command_register(dev, "work", on_cmd_replacing_itself, &inside_old), IOTKIT_OK);
  else if (kind == KIND_COMMAND)
    cr_assert_eq(iotkit_device_command_register(dev, "work", on_cmd, &inside_old), IOTKIT_OK);
  if (first == KIND_MESSAGE)
    cr_assert_eq(iotkit_device_on_message(dev, kind == KIND_MESSAGE ? on_msg_replacing_itself : on_msg_replacing_handler,
                                          &inside_old),
                 IOTKIT_OK);
  drive_begin(drive);
  trigger(first, 0);
  cr_assert(device_fixture_wait(&fx, NULL, inside_done, NULL, BUDGET_MS), "the callback never ran");
  cr_assert_eq(atomic_load(&inside_err), IOTKIT_OK);
  for (int i = 1; i <= AFTER; i++) trigger(kind, i);
  cr_assert(wait_for(&inside_new.calls, AFTER), "the new callback got %d of %d calls", atomic_load(&inside_new.calls),
            AFTER);
  drive_end(drive);
  cr_assert_eq(atomic_load(&inside_old.late), 0, "the replaced callback ran %d times afterwards",
               atomic_load(&inside_old.late));
  cr_assert_eq(atomic_load(&inside_new.calls), AFTER);
  free_device();
}

Test(device_callbacks, command_handler_replaces_itself) { replace_from_inside(KIND_COMMAND, DRIVE_POLL, KIND_COMMAND); }
Test(device_callbacks, message_callback_replaces_itself) { replace_from_inside(KIND_MESSAGE, DRIVE_POLL, KIND_MESSAGE); }
Test(device_callbacks, message_callback_replaces_the_command_handler) {
  replace_from_inside(KIND_COMMAND, DRIVE_POLL, KIND_MESSAGE);
}
Test(device_callbacks, command_handler_replaces_itself_in_the_loop) {
  replace_from_inside(KIND_COMMAND, DRIVE_LOOP, KIND_COMMAND);
}
Test(device_callbacks, message_callback_replaces_itself_in_the_loop) {
  replace_from_inside(KIND_MESSAGE, DRIVE_LOOP, KIND_MESSAGE);
}

/* ------------------------------------------ refusals from a callback -- */

typedef iotkit_err_t (*dev_call_t)(iotkit_device_t *d);

static iotkit_err_t call_free(iotkit_device_t *d) { return iotkit_device_free(d); }
static iotkit_err_t call_stop(iotkit_device_t *d) { return iotkit_device_stop(d); }
static iotkit_err_t call_connect(iotkit_device_t *d) { return iotkit_device_connect(d); }
static iotkit_err_t call_disconnect(iotkit_device_t *d) { return iotkit_device_disconnect(d); }
static iotkit_err_t call_poll(iotkit_device_t *d) { return iotkit_device_poll(d, 0); }

static dev_call_t refused_call;
static atomic_int refused_rc = 1; /* not an iotkit_err_t: 0 or negative once set */
static atomic_int msgs, ups, downs;

static bool refused_done(void *arg) {
  (void)arg;
  return atomic_load(&refused_rc) != 1;
}

/* The first message makes the call under test from inside the message callback. */
static void on_msg_calling(iotkit_device_t *d, void *user, const char *channel, const void *payload, size_t len) {
  (void)user, (void)channel, (void)payload, (void)len;
  if (atomic_fetch_add(&msgs, 1) == 0) atomic_store(&refused_rc, refused_call(d));
}

/* The first lost session makes the call under test from inside the connection callback. */
static void on_conn_calling(iotkit_device_t *d, void *user, bool up, iotkit_err_t reason, const char *detail) {
  (void)user, (void)reason, (void)detail;
  if (up) {
    atomic_fetch_add(&ups, 1);
  } else if (atomic_fetch_add(&downs, 1) == 0) {
    atomic_store(&refused_rc, refused_call(d));
  }
}

static void on_msg_counting(iotkit_device_t *d, void *user, const char *channel, const void *payload, size_t len) {
  (void)d, (void)user, (void)channel, (void)payload, (void)len;
  atomic_fetch_add(&msgs, 1);
}

/* @p call, made from the message callback, returns exactly IOTKIT_ERR_STATE; the device
   goes on: a later message arrives through the same driver, which still runs, and free
   from outside succeeds. */
static void refused_from_message_callback(dev_call_t call, drive_t drive) {
  refused_call = call;
  connect_device();
  cr_assert_eq(iotkit_device_on_message(dev, on_msg_calling, NULL), IOTKIT_OK);
  drive_begin(drive);
  trigger(KIND_MESSAGE, 0);
  cr_assert(device_fixture_wait(&fx, NULL, refused_done, NULL, BUDGET_MS), "the message callback never ran");
  cr_assert_eq(atomic_load(&refused_rc), IOTKIT_ERR_STATE, "got %s",
               iotkit_err_name((iotkit_err_t)atomic_load(&refused_rc)));
  cr_assert(iotkit_device_is_connected(dev));
  trigger(KIND_MESSAGE, 1);
  cr_assert(wait_for(&msgs, 2), "no message arrived after the refused call");
  drive_end(drive);
  free_device();
}

Test(device_callbacks, free_from_a_callback_is_refused) { refused_from_message_callback(call_free, DRIVE_POLL); }
Test(device_callbacks, disconnect_from_a_callback_is_refused) {
  refused_from_message_callback(call_disconnect, DRIVE_POLL);
}
Test(device_callbacks, poll_from_a_callback_is_refused) { refused_from_message_callback(call_poll, DRIVE_POLL); }
Test(device_callbacks, free_from_a_loop_callback_is_refused) { refused_from_message_callback(call_free, DRIVE_LOOP); }
Test(device_callbacks, stop_from_a_loop_callback_is_refused) { refused_from_message_callback(call_stop, DRIVE_LOOP); }
Test(device_callbacks, disconnect_from_a_loop_callback_is_refused) {
  refused_from_message_callback(call_disconnect, DRIVE_LOOP);
}
Test(device_callbacks, poll_from_a_loop_callback_is_refused) { refused_from_message_callback(call_poll, DRIVE_LOOP); }
Test(device_callbacks, connect_from_a_loop_callback_is_refused) {
  refused_from_message_callback(call_connect, DRIVE_LOOP);
}

/* Connect needs a device that is not connected: made from the connection callback of a lost
   session (the loopback drops it after the second send: the online status, then ours).
   Refused, it leaves supervision alone: the device reconnects by itself and a later
   message arrives. */
static void connect_refused_when_the_session_is_lost(drive_t drive) {
  refused_call = call_connect;
  fx.cfg.uri = "loop://local?drop_after=2";
  fx.cfg.reconnect_min_ms = 10;
  fx.cfg.reconnect_max_ms = 20;
  connect_device();
  cr_assert_eq(iotkit_device_on_connection(dev, on_conn_calling, NULL), IOTKIT_OK);
  cr_assert_eq(iotkit_device_on_message(dev, on_msg_counting, NULL), IOTKIT_OK);
  drive_begin(drive);
  trigger(KIND_MESSAGE, 0);
  cr_assert(device_fixture_wait(&fx, NULL, refused_done, NULL, BUDGET_MS), "the session was never lost");
  cr_assert_eq(atomic_load(&refused_rc), IOTKIT_ERR_STATE, "got %s",
               iotkit_err_name((iotkit_err_t)atomic_load(&refused_rc)));
  cr_assert(wait_for(&ups, 1), "the device did not reconnect after the refused call");
  cr_assert(wait_for(&msgs, 1));
  int before = atomic_load(&msgs);
  trigger(KIND_MESSAGE, 1); /* the first send of the new session after its status: echoed */
  cr_assert(wait_for(&msgs, before + 1), "no message arrived after the reconnection");
  drive_end(drive);
  free_device();
}

Test(device_callbacks, connect_from_a_callback_is_refused) { connect_refused_when_the_session_is_lost(DRIVE_POLL); }
Test(device_callbacks, connect_from_a_loop_callback_when_down_is_refused) {
  connect_refused_when_the_session_is_lost(DRIVE_LOOP);
}

/* ---------------------------------------------------------------- free -- */

Test(device_callbacks, free_null_is_ok) { cr_assert_eq(iotkit_device_free(NULL), IOTKIT_OK); }
