// requires: mqtt fleet
/* Scale: 1,000 real device handles in one process, multiplexed with the fleet
 * itself through the external-loop API (one poll(2) over every descriptor),
 * against a real mosquitto. The devices come online (auto-registered), send
 * telemetry in the three encodings, report state and move; 100 disconnect
 * cleanly and 100 die without goodbye (last will). The fleet's final view, in
 * memory and in its database (read again by a new fleet on the same file),
 * must equal the ground truth: online set, last values, last positions,
 * counts. The ingest rate is printed, not asserted. */
#include <criterion/criterion.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "crash_transport.h"
#include "fleet_live.h"
#include "net_util.h"

#define N 1000
#define MSGS 5   /* telemetry messages per device */
#define MOVES 3  /* positions per device */
#define N_CLEAN 100
#define N_CRASH 100
#define FDS_WANTED (N * 5 + 512)

static fleet_live_t fx;
static iotkit_fleet_t *fleet;
static iotkit_hal_t *hals[N];
static iotkit_device_t *devs[N];
static struct pollfd pfds[N + 1];
static int64_t t_base;

static void raise_fd_limit(void) {
  struct rlimit rl;
  cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
  if (rl.rlim_cur < FDS_WANTED) {
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= FDS_WANTED ? FDS_WANTED : rl.rlim_max;
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
  }
  cr_assert_geq(rl.rlim_cur, (rlim_t)FDS_WANTED);
}

static void setup(void) {
  raise_fd_limit();
  fleet_live_setup(&fx, false);
}

static void teardown(void) {
  for (int i = 0; i < N; i++) {
    iotkit_device_free(devs[i]);
    iotkit_hal_free(hals[i]);
    devs[i] = NULL;
    hals[i] = NULL;
  }
  iotkit_fleet_free(fleet);
  fleet = NULL;
  fleet_live_teardown(&fx);
}

static void id_of(int i, char *buf, size_t cap) { snprintf(buf, cap, "scale-%04d", i); }

/* One round of the external loop: every live device and the fleet. */
static void loop_once(void) {
  int wait = 50;
  for (int i = 0; i < N; i++) {
    pfds[i] = (struct pollfd){.fd = -1};
    if (!devs[i]) continue;
    int ev = iotkit_device_fd_events(devs[i]);
    pfds[i].fd = iotkit_device_fd(devs[i]);
    pfds[i].events = (short)((ev & IOTKIT_FD_READ ? POLLIN : 0) | (ev & IOTKIT_FD_WRITE ? POLLOUT : 0));
    int t = iotkit_device_next_timeout_ms(devs[i]);
    if (t >= 0 && t < wait) wait = t;
  }
  pfds[N] = (struct pollfd){.fd = iotkit_fleet_fd(fleet), .events = POLLIN};
  int t = iotkit_fleet_next_timeout_ms(fleet);
  if (t >= 0 && t < wait) wait = t;
  cr_assert_geq(poll(pfds, N + 1, wait), 0);
  /* The fleet is one descriptor among a thousand and each message it takes needs a round
     trip with the broker (QoS 1, at most max_inflight_messages unacknowledged): it gets a turn
     after every hundred devices rather than once per round. */
  bool fleet_ready = pfds[N].revents || iotkit_fleet_next_timeout_ms(fleet) == 0;
  for (int i = 0; i < N; i++) {
    if (devs[i] && (pfds[i].revents || iotkit_device_next_timeout_ms(devs[i]) == 0))
      cr_assert_eq(iotkit_device_poll(devs[i], 0), IOTKIT_OK);
    if (i % 100 == 99 || fleet_ready) {
      cr_assert_eq(iotkit_fleet_poll(fleet, 0), IOTKIT_OK);
      fleet_ready = false;
    }
  }
}

static iotkit_fleet_stats_t stats(void) {
  iotkit_fleet_stats_t s;
  cr_assert_eq(iotkit_fleet_stats(fleet, &s), IOTKIT_OK);
  return s;
}

static uint64_t online_count(iotkit_fleet_t *f) {
  iotkit_fleet_filter_t flt;
  iotkit_fleet_filter_init(&flt);
  flt.online = IOTKIT_FLEET_ONLINE_ONLY;
  uint64_t n = 0;
  cr_assert_eq(iotkit_fleet_count(f, &flt, &n), IOTKIT_OK);
  return n;
}

/* Ground truth. */
static double temp_of(int i, int k) { return i + k / 8.0; }
static int64_t n_of(int i, int k) { return (int64_t)i * 10 + k; }
static iotkit_location_t pos_of(int i, int j) {
  return (iotkit_location_t){.latitude = -60 + (i % 120) + j * 0.001,
                             .longitude = -170 + (i * 7 % 340) + j * 0.001,
                             .ts_ms = t_base + j * 1000};
}
static bool gone(int i) { return i >= N - N_CLEAN - N_CRASH; }

static void send_all(void) {
  static const iotkit_telemetry_format_t fmts[] = {IOTKIT_TELEMETRY_FORMAT_JSON, IOTKIT_TELEMETRY_FORMAT_SENML_JSON,
                                                   IOTKIT_TELEMETRY_FORMAT_SENML_CBOR};
  for (int k = 0; k < MSGS; k++) {
    for (int i = 0; i < N; i++) {
      iotkit_telemetry_batch_t *b = NULL;
      cr_assert_eq(iotkit_telemetry_batch_new(NULL, &b), IOTKIT_OK);
      cr_assert_eq(iotkit_telemetry_batch_add_double(b, "temp", "Cel", t_base + k * 1000, temp_of(i, k)), IOTKIT_OK);
      cr_assert_eq(iotkit_telemetry_batch_add_int(b, "n", NULL, t_base + k * 1000, n_of(i, k)), IOTKIT_OK);
      cr_assert_eq(iotkit_device_send_batch(devs[i], b, fmts[i % 3], NULL, NULL), IOTKIT_OK, "device %d", i);
      iotkit_telemetry_batch_free(b);
      if (k < MOVES) {
        iotkit_location_t l = pos_of(i, k);
        cr_assert_eq(iotkit_device_report_location(devs[i], &l), IOTKIT_OK);
      }
      if (k < 2) {
        char st[48];
        snprintf(st, sizeof st, "{\"round\":%d}", k);
        cr_assert_eq(iotkit_device_report(devs[i], st), IOTKIT_OK);
      }
    }
    for (int r = 0; r < 5; r++) loop_once(); /* let the sends go out */
  }
}

/* The fleet @p f holds exactly the ground truth. */
static void check_view(iotkit_fleet_t *f, bool live) {
  for (int i = 0; i < N; i++) {
    char id[32];
    id_of(i, id, sizeof id);
    iotkit_fleet_presence_t p;
    cr_assert_eq(iotkit_fleet_presence(f, id, &p), IOTKIT_OK, "%s", id);
    cr_assert_eq(p.online, !gone(i), "%s online", id);
    cr_assert_gt(p.last_seen_ms, 0);
    iotkit_telemetry_batch_t *b = NULL;
    cr_assert_eq(iotkit_fleet_latest(f, id, NULL, &b), IOTKIT_OK);
    cr_assert_eq(iotkit_telemetry_batch_count(b), 2, "%s", id);
    const iotkit_telemetry_point_t *n = NULL, *t = NULL;
    cr_assert_eq(iotkit_telemetry_batch_get(b, 0, &n), IOTKIT_OK);
    cr_assert_eq(iotkit_telemetry_batch_get(b, 1, &t), IOTKIT_OK);
    cr_assert_str_eq(n->name, "n");
    double nv = n->type == IOTKIT_TELEMETRY_INT ? (double)n->value.i : n->value.d;
    cr_assert_eq(nv, (double)n_of(i, MSGS - 1), "%s n", id);
    cr_assert_eq(t->value.d, temp_of(i, MSGS - 1), "%s temp", id);
    cr_assert_eq(t->ts_ms, t_base + (MSGS - 1) * 1000);
    iotkit_telemetry_batch_free(b);
    iotkit_location_t at, want = pos_of(i, MOVES - 1);
    cr_assert_eq(iotkit_fleet_locate(f, id, &at), IOTKIT_OK);
    cr_assert_eq(at.latitude, want.latitude, "%s", id);
    cr_assert_eq(at.longitude, want.longitude);
    cr_assert_eq(at.ts_ms, want.ts_ms);
    char *state = NULL;
    cr_assert_eq(iotkit_fleet_state(f, id, &state, NULL), IOTKIT_OK);
    cr_assert_str_eq(state, "{\"round\":1}", "%s", id);
    iotkit_free(state);
    if (i % 97 == 0) {
      iotkit_location_t *tr = NULL;
      size_t cnt = 0;
      cr_assert_eq(iotkit_fleet_track(f, id, 0, INT64_MAX, &tr, &cnt), IOTKIT_OK);
      cr_assert_eq(cnt, MOVES, "%s track", id);
      iotkit_free(tr);
    }
  }
  uint64_t all = 0;
  cr_assert_eq(iotkit_fleet_count(f, NULL, &all), IOTKIT_OK);
  cr_assert_eq(all, N);
  cr_assert_eq(online_count(f), N - N_CLEAN - N_CRASH);
  (void)live;
}

Test(fleet_scale, thousand_devices_and_the_fleet_in_one_loop, .init = setup, .fini = teardown, .timeout = 280) {
  fx.cfg.auto_register = true;
  fx.cfg.keepalive_s = 300;
  cr_assert_eq(iotkit_fleet_new(&fx.cfg, &fleet), IOTKIT_OK);
  cr_assert_eq(iotkit_fleet_connect(fleet), IOTKIT_OK);

  for (int i = 0; i < N; i++) {
    char id[32];
    id_of(i, id, sizeof id);
    cr_assert_eq(iotkit_hal_memory_new(NULL, &hals[i]), IOTKIT_OK);
    iotkit_device_config_t cfg;
    iotkit_device_config_init(&cfg);
    cfg.device_id = id;
    cfg.uri = mosq_server_uri(fx.srv);
    cfg.hal = hals[i];
    cfg.keepalive_s = 300;
    cfg.telemetry_durable = false;
    cfg.transports = crash_transport_registry();
    cr_assert_eq(iotkit_device_new(&cfg, &devs[i]), IOTKIT_OK);
    cr_assert_eq(iotkit_device_connect(devs[i]), IOTKIT_OK, "device %d", i);
    if (i % 50 == 49) loop_once();
  }
  uint64_t end = test_now_ms() + 60000;
  while (online_count(fleet) < N && test_now_ms() < end)
    for (int r = 0; r < 20; r++) loop_once();
  cr_assert_eq(online_count(fleet), N, "online: %llu", (unsigned long long)online_count(fleet));
  cr_assert_eq(stats().auto_registered, N);

  t_base = fx.hal->wall_ms(fx.hal->ctx);
  iotkit_fleet_stats_t s0 = stats();
  uint64_t start = test_now_ms();
  send_all();
  uint64_t sent_at = test_now_ms();
  const uint64_t want_tel = (uint64_t)N * MSGS, want_loc = (uint64_t)N * MOVES, want_states = (uint64_t)N * 2;
  end = test_now_ms() + 120000;
  iotkit_fleet_stats_t s;
  do {
    loop_once();
    s = stats();
  } while ((s.telemetry < want_tel || s.locations < want_loc || s.states < want_states) && test_now_ms() < end);
  uint64_t took = test_now_ms() - start;
  cr_assert_eq(s.telemetry, want_tel);
  cr_assert_eq(s.locations, want_loc);
  cr_assert_eq(s.states, want_states);
  uint64_t msgs = s.messages - s0.messages;
  cr_assert_eq(iotkit_fleet_sync(fleet), IOTKIT_OK);
  uint64_t took_db = test_now_ms() - start;
  printf("fleet ingest: %llu messages from %d devices in %llu ms (the devices' sends took %llu ms of it, in the same "
         "thread): %.0f messages/s; all written to the database after %llu ms: %.0f messages/s\n",
         (unsigned long long)msgs, N, (unsigned long long)took, (unsigned long long)(sent_at - start),
         msgs * 1000.0 / (double)(took ? took : 1), (unsigned long long)took_db,
         msgs * 1000.0 / (double)(took_db ? took_db : 1));
  fflush(stdout);

  for (int i = N - N_CLEAN - N_CRASH; i < N; i++) {
    char id[32];
    id_of(i, id, sizeof id);
    if (i >= N - N_CRASH) crash_transport_arm(id);
    iotkit_device_free(devs[i]);
    devs[i] = NULL;
  }
  end = test_now_ms() + 60000;
  while (online_count(fleet) > N - N_CLEAN - N_CRASH && test_now_ms() < end)
    for (int r = 0; r < 20; r++) loop_once();
  cr_assert_eq(online_count(fleet), N - N_CLEAN - N_CRASH);

  s = stats();
  cr_assert_eq(s.undecodable, 0);
  cr_assert_eq(s.unknown_device, 0);
  cr_assert_eq(s.write_failures, 0);
  cr_assert_eq(s.dropped_metrics, 0);
  check_view(fleet, true);

  /* The database holds the same view: a new fleet on the file, before it connects. */
  iotkit_fleet_free(fleet);
  fleet = NULL;
  cr_assert_eq(iotkit_fleet_new(&fx.cfg, &fleet), IOTKIT_OK);
  check_view(fleet, false);

  /* And "within" agrees with the truth around a few points. */
  for (int q = 0; q < 5; q++) {
    iotkit_location_t c = pos_of(q * 131, MOVES - 1);
    iotkit_fleet_near_t *v = NULL;
    size_t n = 0;
    cr_assert_eq(iotkit_fleet_within(fleet, c.latitude, c.longitude, 500000, &v, &n), IOTKIT_OK);
    size_t want = 0;
    for (int i = 0; i < N; i++) {
      iotkit_location_t p = pos_of(i, MOVES - 1);
      want += iotkit_fleet_distance_m(c.latitude, c.longitude, p.latitude, p.longitude) <= 500000;
    }
    cr_assert_eq(n, want);
    iotkit_free(v);
  }
}
