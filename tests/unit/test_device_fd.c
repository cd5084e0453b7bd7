/* Driving a device from an external loop: iotkit_device_fd(), _fd_events(),
   _next_timeout_ms() and the fd callback, with a scripted backend (scheme "fk",
   with timeout_ms and fd_events; "fk0" without them) and a memory HAL whose clock
   moves only when the test says so. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "iotkit/iotkit.h"

/* The backend's script and what it saw. One per test process. */
static struct {
  const iotkit_transport_events_t *ev;
  int next_fd;        /* descriptor of the next context made */
  int cur_fd;         /* the live context's descriptor */
  bool fd_when_up;    /* fd() is -1 until the session is up (a backend with a late descriptor) */
  bool no_fd;         /* fd() is always -1 */
  int timeout;        /* timeout_ms() */
  int events;         /* fd_events() */
  bool connecting, up;
  int hold_connect;   /* polls that pass before connected() */
  bool drop;          /* the next poll loses the session */
  char inject_channel[128];
  char inject[256];   /* the next poll delivers this message, if any */
  int creates;
  uint32_t next_id;
  uint32_t confirmed; /* ids up to this one have had their delivery event */
} fk;

static iotkit_err_t fk_create(const iotkit_transport_config_t *cfg, const iotkit_transport_events_t *ev, void **ctx) {
  (void)cfg;
  fk.ev = ev;
  fk.cur_fd = fk.next_fd++;
  fk.creates++;
  fk.connecting = fk.up = false;
  *ctx = &fk;
  return IOTKIT_OK;
}

static void fk_destroy(void *ctx) {
  (void)ctx;
  fk.up = fk.connecting = false;
  fk.confirmed = fk.next_id; /* a dropped context confirms nothing more */
}

static iotkit_err_t fk_connect(void *ctx) {
  (void)ctx;
  fk.connecting = true;
  return IOTKIT_OK;
}

static iotkit_err_t fk_disconnect(void *ctx) {
  (void)ctx;
  fk.up = false;
  fk.ev->disconnected(fk.ev->user, IOTKIT_OK, "");
  return IOTKIT_OK;
}

static iotkit_err_t fk_send(void *ctx, const iotkit_message_t *msg, uint32_t *id) {
  (void)ctx, (void)msg;
  *id = ++fk.next_id;
  return IOTKIT_OK;
}

static iotkit_err_t fk_subscribe(void *ctx, const char *channel, int qos) {
  (void)ctx, (void)channel, (void)qos;
  return IOTKIT_OK;
}

static iotkit_err_t fk_poll(void *ctx, int timeout_ms) {
  (void)ctx, (void)timeout_ms;
  if (fk.connecting && fk.hold_connect > 0) {
    fk.hold_connect--;
  } else if (fk.connecting) {
    fk.connecting = false;
    fk.up = true;
    fk.ev->connected(fk.ev->user);
  }
  /* Confirm what was sent, as a broker would: free() and disconnect() wait for it, and
     the memory HAL's manual clock never ends that wait by itself. */
  while (fk.up && fk.confirmed < fk.next_id) fk.ev->delivery(fk.ev->user, ++fk.confirmed, IOTKIT_OK);
  if (fk.up && fk.inject[0]) {
    char payload[sizeof fk.inject];
    memcpy(payload, fk.inject, sizeof payload);
    fk.inject[0] = '\0';
    fk.ev->message(fk.ev->user, fk.inject_channel, payload, strlen(payload));
  }
  if (fk.up && fk.drop) {
    fk.drop = false;
    fk.up = false;
    fk.ev->disconnected(fk.ev->user, IOTKIT_ERR_CONNECTION_LOST, "fk: dropped");
  }
  return IOTKIT_OK;
}

static int fk_fd(void *ctx) {
  (void)ctx;
  if (fk.no_fd || (fk.fd_when_up && !fk.up)) return -1;
  return fk.cur_fd;
}

static const char *fk_last_error(void *ctx) {
  (void)ctx;
  return "";
}

static int fk_timeout_ms(void *ctx) {
  (void)ctx;
  return fk.timeout;
}

static int fk_fd_events(void *ctx) {
  (void)ctx;
  return fk.events;
}

static const char *const fk_schemes[] = {"fk", NULL};
static const iotkit_transport_ops_t fk_ops = {
    .struct_size = sizeof(iotkit_transport_ops_t),
    .name = "fk",
    .schemes = fk_schemes,
    .create = fk_create,
    .destroy = fk_destroy,
    .connect = fk_connect,
    .disconnect = fk_disconnect,
    .send = fk_send,
    .subscribe = fk_subscribe,
    .poll = fk_poll,
    .fd = fk_fd,
    .last_error = fk_last_error,
    .timeout_ms = fk_timeout_ms,
    .fd_events = fk_fd_events,
};

/* The same backend without the optional timeout_ms and fd_events. */
static const char *const fk0_schemes[] = {"fk0", NULL};
static const iotkit_transport_ops_t fk0_ops = {
    .struct_size = sizeof(iotkit_transport_ops_t),
    .name = "fk0",
    .schemes = fk0_schemes,
    .create = fk_create,
    .destroy = fk_destroy,
    .connect = fk_connect,
    .disconnect = fk_disconnect,
    .send = fk_send,
    .subscribe = fk_subscribe,
    .poll = fk_poll,
    .fd = fk_fd,
    .last_error = fk_last_error,
};

static iotkit_hal_t *hal;
static iotkit_transport_registry_t *reg;
static iotkit_device_config_t cfg;

static void setup(void) {
  memset(&fk, 0, sizeof fk);
  fk.next_fd = 100;
  fk.timeout = -1;
  fk.events = IOTKIT_FD_READ;
  iotkit_hal_memory_config_t mc;
  iotkit_hal_memory_config_init(&mc);
  mc.manual_clock = true;
  cr_assert_eq(iotkit_hal_memory_new(&mc, &hal), IOTKIT_OK);
  cr_assert_eq(iotkit_transport_registry_new(&reg), IOTKIT_OK);
  cr_assert_eq(iotkit_transport_register(reg, &fk_ops), IOTKIT_OK);
  cr_assert_eq(iotkit_transport_register(reg, &fk0_ops), IOTKIT_OK);
  iotkit_device_config_init(&cfg);
  cfg.device_id = "fd-1";
  cfg.uri = "fk://broker.test:1";
  cfg.hal = hal;
  cfg.transports = reg;
  cfg.telemetry_durable = false; /* the queue has its own test below */
  cfg.connect_timeout_ms = 2000;
  cfg.reconnect_min_ms = 60000;
  cfg.reconnect_max_ms = 60000;
  cfg.command_timeout_ms = 3000;
}

static void teardown(void) {
  iotkit_transport_registry_free(reg);
  iotkit_hal_free(hal);
}
TestSuite(device_fd, .init = setup, .fini = teardown);

/* The fd callback's calls, in order. */
static struct {
  int n;
  int old_fd[16], new_fd[16];
} seen;

static void on_fd(iotkit_device_t *dev, void *user, int old_fd, int new_fd) {
  (void)dev;
  cr_assert_eq(user, &seen);
  cr_assert_lt(seen.n, 16);
  seen.old_fd[seen.n] = old_fd;
  seen.new_fd[seen.n] = new_fd;
  seen.n++;
}

static void assert_change(int i, int old_fd, int new_fd) {
  cr_assert_gt(seen.n, i, "fd change %d not announced", i);
  cr_assert_eq(seen.old_fd[i], old_fd, "change %d: old %d, want %d", i, seen.old_fd[i], old_fd);
  cr_assert_eq(seen.new_fd[i], new_fd, "change %d: new %d, want %d", i, seen.new_fd[i], new_fd);
}

static iotkit_device_t *make(void) {
  iotkit_device_t *dev = NULL;
  cr_assert_eq(iotkit_device_new(&cfg, &dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_on_fd(dev, on_fd, &seen), IOTKIT_OK);
  return dev;
}

static iotkit_device_t *make_up(void) {
  iotkit_device_t *dev = make();
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_poll(dev, 0), IOTKIT_OK);
  return dev;
}

/* Lose the session (poll) and return the backoff reported while waiting. */
static int lose(iotkit_device_t *dev) {
  fk.drop = true;
  cr_assert_eq(iotkit_device_poll(dev, 0), IOTKIT_OK);
  cr_assert_not(iotkit_device_is_connected(dev));
  return iotkit_device_next_timeout_ms(dev);
}

Test(device_fd, null_arguments) {
  cr_assert_eq(iotkit_device_fd(NULL), -1);
  cr_assert_eq(iotkit_device_fd_events(NULL), 0);
  cr_assert_eq(iotkit_device_next_timeout_ms(NULL), -1);
  cr_assert_eq(iotkit_device_on_fd(NULL, on_fd, NULL), IOTKIT_ERR_INVALID_ARG);
}

Test(device_fd, idle_device_has_nothing_due) {
  iotkit_device_t *dev = make();
  cr_assert_eq(iotkit_device_fd(dev), -1);
  cr_assert_eq(iotkit_device_fd_events(dev), 0);
  cr_assert_eq(iotkit_device_next_timeout_ms(dev), -1);
  cr_assert_eq(seen.n, 0);
  cr_assert_eq(iotkit_device_free(dev), IOTKIT_OK);
}

Test(device_fd, connect_announces_the_descriptor) {
  iotkit_device_t *dev = make_up();
  cr_assert_eq(iotkit_device_fd(dev), 100);
  cr_assert_eq(seen.n, 1);
  assert_change(0, -1, 100);
  cr_assert_eq(iotkit_device_free(dev), IOTKIT_OK);
  cr_assert_eq(seen.n, 1, "free calls no callback");
}

Test(device_fd, fd_events_come_from_the_backend) {
  iotkit_device_t *dev = make_up();
  cr_assert_eq(iotkit_device_fd_events(dev), IOTKIT_FD_READ);
  fk.events = IOTKIT_FD_READ | IOTKIT_FD_WRITE;
  cr_assert_eq(iotkit_device_fd_events(dev), IOTKIT_FD_READ | IOTKIT_FD_WRITE);
  fk.events = 0;
  cr_assert_eq(iotkit_device_fd_events(dev), 0);
  iotkit_device_free(dev);
}

Test(device_fd, fd_events_default_to_read) {
  cfg.uri = "fk0://broker.test:1";
  fk.events = IOTKIT_FD_WRITE; /* not asked: fk0 has no fd_events */
  iotkit_device_t *dev = make_up();
  cr_assert_eq(iotkit_device_fd(dev), 100);
  cr_assert_eq(iotkit_device_fd_events(dev), IOTKIT_FD_READ);
  iotkit_device_free(dev);
}

Test(device_fd, no_events_without_a_descriptor) {
  fk.no_fd = true;
  iotkit_device_t *dev = make_up();
  cr_assert_eq(iotkit_device_fd(dev), -1);
  cr_assert_eq(iotkit_device_fd_events(dev), 0);
  cr_assert_eq(seen.n, 0, "no change: the descriptor stayed -1");
  iotkit_device_free(dev);
}

Test(device_fd, loss_and_reconnect_announce_each_context) {
  fk.hold_connect = 0;
  iotkit_device_t *dev = make_up();
  int wait = lose(dev);
  cr_assert_eq(iotkit_device_fd(dev), -1, "no transport while waiting for the next attempt");
  cr_assert_eq(iotkit_device_fd_events(dev), 0);
  assert_change(1, 100, -1);
  cr_assert_eq(seen.n, 2);
  iotkit_hal_memory_advance(hal, (uint64_t)wait);
  fk.hold_connect = 1; /* the attempt stays under way for one poll */
  cr_assert_eq(iotkit_device_poll(dev, 0), IOTKIT_OK);
  cr_assert_eq(fk.creates, 2);
  cr_assert_eq(iotkit_device_fd(dev), 101, "the new context's descriptor, already while connecting");
  assert_change(2, -1, 101);
  cr_assert_eq(iotkit_device_poll(dev, 0), IOTKIT_OK);
  cr_assert(iotkit_device_is_connected(dev));
  cr_assert_eq(iotkit_device_fd(dev), 101);
  cr_assert_eq(seen.n, 3);
  iotkit_device_free(dev);
}

Test(device_fd, a_late_descriptor_is_announced) {
  fk.fd_when_up = true; /* like a backend that has a socket only once connected */
  iotkit_device_t *dev = make_up();
  cr_assert_eq(iotkit_device_fd(dev), 100);
  cr_assert_eq(seen.n, 1);
  assert_change(0, -1, 100);
  iotkit_device_free(dev);
}

Test(device_fd, disconnect_leaves_nothing_due) {
  fk.timeout = 5000;
  iotkit_device_t *dev = make_up();
  cr_assert_eq(iotkit_device_disconnect(dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_next_timeout_ms(dev), -1);
  iotkit_device_free(dev);
}

Test(device_fd, cleared_callback_is_not_called) {
  iotkit_device_t *dev = make();
  cr_assert_eq(iotkit_device_on_fd(dev, NULL, NULL), IOTKIT_OK);
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_fd(dev), 100);
  cr_assert_eq(seen.n, 0);
  iotkit_device_free(dev);
}

Test(device_fd, session_up_uses_the_backend_timeout) {
  fk.timeout = 5000;
  iotkit_device_t *dev = make_up();
  cr_assert_eq(iotkit_device_next_timeout_ms(dev), 5000);
  fk.timeout = 0;
  cr_assert_eq(iotkit_device_next_timeout_ms(dev), 0);
  iotkit_device_free(dev);
}

Test(device_fd, session_up_with_only_descriptor_work) {
  fk.timeout = -1;
  iotkit_device_t *dev = make_up();
  cr_assert_eq(iotkit_device_next_timeout_ms(dev), -1);
  iotkit_device_free(dev);
}

Test(device_fd, backend_without_timeout_op_is_polled_every_100_ms) {
  cfg.uri = "fk0://broker.test:1";
  iotkit_device_t *dev = make_up();
  cr_assert_eq(iotkit_device_next_timeout_ms(dev), 100);
  iotkit_device_free(dev);
}

Test(device_fd, backend_without_descriptor_is_polled_every_100_ms) {
  fk.no_fd = true;
  fk.timeout = 5000;
  iotkit_device_t *dev = make_up();
  cr_assert_eq(iotkit_device_next_timeout_ms(dev), 100);
  iotkit_device_free(dev);
}

Test(device_fd, waiting_reports_the_backoff_left) {
  iotkit_device_t *dev = make_up();
  int wait = lose(dev);
  cr_assert_gt(wait, 1, "the seeded jitter gives a delay");
  cr_assert_leq(wait, 60000);
  iotkit_hal_memory_advance(hal, (uint64_t)wait - 1);
  cr_assert_eq(iotkit_device_next_timeout_ms(dev), 1);
  cr_assert_eq(iotkit_device_poll(dev, 0), IOTKIT_OK);
  cr_assert_eq(fk.creates, 1, "no attempt before the time");
  iotkit_hal_memory_advance(hal, 1);
  cr_assert_eq(iotkit_device_next_timeout_ms(dev), 0);
  cr_assert_eq(iotkit_device_poll(dev, 0), IOTKIT_OK);
  cr_assert_eq(fk.creates, 2, "the attempt is made when the time says so");
  iotkit_device_free(dev);
}

Test(device_fd, connecting_reports_the_attempt_deadline) {
  iotkit_device_t *dev = make_up();
  int wait = lose(dev);
  iotkit_hal_memory_advance(hal, (uint64_t)wait);
  fk.hold_connect = 1000; /* no CONNACK */
  cr_assert_eq(iotkit_device_poll(dev, 0), IOTKIT_OK);
  /* connect_timeout_ms 2000 plus the supervisor's one second of grace. */
  cr_assert_eq(iotkit_device_next_timeout_ms(dev), 3001);
  fk.timeout = 250; /* the backend's own need is shorter */
  cr_assert_eq(iotkit_device_next_timeout_ms(dev), 250);
  fk.timeout = -1;
  iotkit_hal_memory_advance(hal, 3000);
  cr_assert_eq(iotkit_device_next_timeout_ms(dev), 1);
  iotkit_hal_memory_advance(hal, 1);
  cr_assert_eq(iotkit_device_next_timeout_ms(dev), 0);
  cr_assert_eq(iotkit_device_poll(dev, 0), IOTKIT_OK);
  cr_assert_eq(iotkit_device_fd(dev), -1, "the attempt was given up");
  cr_assert_gt(iotkit_device_next_timeout_ms(dev), 0, "back to waiting");
  iotkit_device_free(dev);
}

static iotkit_command_t *held;
static void keep(iotkit_device_t *dev, void *user, const char *id, const char *name, const char *params,
                 iotkit_command_t *cmd) {
  (void)dev, (void)user, (void)id, (void)name, (void)params;
  held = cmd;
}

Test(device_fd, open_command_reports_its_deadline) {
  iotkit_device_t *dev = make_up();
  cr_assert_eq(iotkit_device_command_register(dev, "slow", keep, NULL), IOTKIT_OK);
  snprintf(fk.inject_channel, sizeof fk.inject_channel, "iotkit/v1/fd-1/commands/request");
  snprintf(fk.inject, sizeof fk.inject, "{\"id\":\"r1\",\"name\":\"slow\"}");
  cr_assert_eq(iotkit_device_poll(dev, 0), IOTKIT_OK);
  cr_assert_not_null(held);
  cr_assert_eq(iotkit_device_next_timeout_ms(dev), 3000);
  iotkit_hal_memory_advance(hal, 1000);
  cr_assert_eq(iotkit_device_next_timeout_ms(dev), 2000);
  iotkit_hal_memory_advance(hal, 2000);
  cr_assert_eq(iotkit_device_next_timeout_ms(dev), 0);
  cr_assert_eq(iotkit_device_poll(dev, 0), IOTKIT_OK); /* sends the timeout response */
  cr_assert_eq(iotkit_device_next_timeout_ms(dev), -1, "an expired command has nothing more due");
  cr_assert_eq(iotkit_command_complete(held, NULL), IOTKIT_ERR_TIMEOUT);
  iotkit_device_free(dev);
}

Test(device_fd, answered_command_has_nothing_due) {
  iotkit_device_t *dev = make_up();
  cr_assert_eq(iotkit_device_command_register(dev, "slow", keep, NULL), IOTKIT_OK);
  snprintf(fk.inject_channel, sizeof fk.inject_channel, "iotkit/v1/fd-1/commands/request");
  snprintf(fk.inject, sizeof fk.inject, "{\"id\":\"r1\",\"name\":\"slow\"}");
  cr_assert_eq(iotkit_device_poll(dev, 0), IOTKIT_OK);
  cr_assert_eq(iotkit_device_next_timeout_ms(dev), 3000);
  cr_assert_eq(iotkit_command_complete(held, "{}"), IOTKIT_OK);
  cr_assert_eq(iotkit_device_next_timeout_ms(dev), -1);
  iotkit_device_free(dev);
}

Test(device_fd, telemetry_backlog_reports_the_drain_pace) {
  cfg.telemetry_durable = true;
  cfg.telemetry_drain_rate = 10; /* one message every 100 ms */
  cfg.telemetry_sync_policy = IOTKIT_TELEMETRY_SYNC_EVERY_RECORD;
  iotkit_device_t *dev = make();
  for (int i = 0; i < 3; i++) cr_assert_eq(iotkit_device_send_telemetry(dev, "{}", 2, NULL), IOTKIT_OK);
  cr_assert_eq(iotkit_device_next_timeout_ms(dev), -1, "idle: the backlog waits for a connect");
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_next_timeout_ms(dev), 0, "a new session: the pump has to look");
  cr_assert_eq(iotkit_device_poll(dev, 0), IOTKIT_OK); /* drains one */
  cr_assert_eq(iotkit_device_next_timeout_ms(dev), 100);
  iotkit_hal_memory_advance(hal, 40);
  cr_assert_eq(iotkit_device_next_timeout_ms(dev), 60);
  iotkit_hal_memory_advance(hal, 60);
  cr_assert_eq(iotkit_device_poll(dev, 0), IOTKIT_OK); /* the second */
  cr_assert_eq(iotkit_device_next_timeout_ms(dev), 100);
  iotkit_hal_memory_advance(hal, 100);
  cr_assert_eq(iotkit_device_poll(dev, 0), IOTKIT_OK); /* the third: the backlog is empty */
  cr_assert_eq(iotkit_device_next_timeout_ms(dev), -1);
  iotkit_device_telemetry_stats_t st;
  cr_assert_eq(iotkit_device_telemetry_stats(dev, &st), IOTKIT_OK);
  cr_assert_eq(st.sent_backlog, 3);
  iotkit_device_free(dev);
}

Test(device_fd, unsynced_telemetry_reports_the_sync_interval) {
  cfg.telemetry_durable = true;
  cfg.telemetry_sync_policy = IOTKIT_TELEMETRY_SYNC_INTERVAL;
  cfg.telemetry_sync_interval_ms = 500;
  iotkit_device_t *dev = make_up();
  iotkit_hal_memory_advance(hal, 100);
  cr_assert_eq(iotkit_device_poll(dev, 0), IOTKIT_OK);
  cr_assert_eq(iotkit_device_next_timeout_ms(dev), -1);
  cr_assert_eq(iotkit_device_send_telemetry(dev, "{}", 2, NULL), IOTKIT_OK); /* live, not yet synced */
  cr_assert_eq(iotkit_device_next_timeout_ms(dev), 400);
  iotkit_hal_memory_advance(hal, 400);
  cr_assert_eq(iotkit_device_next_timeout_ms(dev), 0);
  cr_assert_eq(iotkit_device_poll(dev, 0), IOTKIT_OK);
  cr_assert_eq(iotkit_device_next_timeout_ms(dev), -1, "synced");
  iotkit_device_free(dev);
}

/* Nothing of this applies while the background loop owns the transport. */
Test(device_fd, background_loop_drives_itself) {
  cfg.uri = "fk0://broker.test:1";
  iotkit_device_t *dev = make_up();
  cr_assert_eq(iotkit_device_start(dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_next_timeout_ms(dev), -1);
  cr_assert_eq(iotkit_device_fd_events(dev), 0);
  cr_assert_eq(iotkit_device_stop(dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_next_timeout_ms(dev), 100);
  iotkit_device_free(dev);
}
