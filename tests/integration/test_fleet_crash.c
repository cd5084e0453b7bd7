// requires: mqtt fleet
/* A fleet process SIGKILLed while it ingests: `fleet_peer ingest` (a separate
 * process: a fleet on its own thread, auto-registration, telemetry history on,
 * no sync of its own) follows a real mosquitto while this test publishes
 * numbered telemetry (message k: device k % DEVICES, point "k" = k at time
 * T0 + k, QoS 1 from one client, so the fleet receives them in order). Once the
 * fleet's batched flushes have put part of the stream in the file, more is
 * published and the process is killed without warning, mid-stream. Then:
 * SQLite's integrity check passes; the fleet opens the file; nothing that was
 * committed before the kill is lost; and what is there is exactly the first N
 * messages, with each device's latest value the newest of its points: every
 * flush was one whole transaction, so the loss is the tail since the last
 * commit began (the window documented in fleet_monitor.h), never a hole. */
#include <criterion/criterion.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fleet_fixture.h"
#include "mosquitto_server.h"
#include "mqtt_peer.h"
#include "net_util.h"

#define DEVICES 20
#define FIRST 3000  /* messages before the kill is prepared */
#define SECOND 3000 /* messages published just before the kill */
#define TOTAL (FIRST + SECOND)
#define HISTORY 1000000u

static fleet_fixture_t fx;
static mosq_server_t *srv;
static mqtt_peer_t *pub;
static pid_t peer = -1;
static int peer_out = -1;
static char line[256];
static size_t line_len;
static unsigned long long seen; /* the last "seen N" of the peer */
static int64_t t0;

static void setup(void) {
  fleet_fixture_setup(&fx);
  iotkit_fleet_free(fx.fleet); /* the file is the peer's until it dies */
  fx.fleet = NULL;
  srv = mosq_server_new();
  cr_assert(srv);
  /* mosquitto drops QoS 1 messages past 1,000 queued for a client by default: a slow
     (loaded) fleet would then see holes in the stream that are the broker's, not its own. */
  cr_assert(mosq_server_add_config(srv, "max_queued_messages 0"));
  cr_assert(mosq_server_start(srv));
}

static void teardown(void) {
  if (peer > 0) {
    kill(peer, SIGKILL);
    waitpid(peer, NULL, 0);
  }
  if (peer_out >= 0) close(peer_out);
  mqtt_peer_free(pub);
  mosq_server_free(srv);
  fleet_fixture_teardown(&fx);
}

/* Read what the peer printed within @p timeout_ms; true when a line "ready" was among it. */
static bool drain(int timeout_ms) {
  bool ready = false;
  struct pollfd p = {.fd = peer_out, .events = POLLIN};
  while (poll(&p, 1, timeout_ms) > 0) {
    char buf[4096];
    ssize_t n = read(peer_out, buf, sizeof buf);
    if (n <= 0) break;
    for (ssize_t i = 0; i < n; i++) {
      if (buf[i] != '\n') {
        if (line_len < sizeof line - 1) line[line_len++] = buf[i];
        continue;
      }
      line[line_len] = '\0';
      line_len = 0;
      if (strcmp(line, "ready") == 0) ready = true;
      else if (strncmp(line, "seen ", 5) == 0) seen = strtoull(line + 5, NULL, 10);
    }
    timeout_ms = 0;
  }
  return ready;
}

static void start_peer(void) {
  int out[2];
  cr_assert_eq(pipe(out), 0);
  peer = fork();
  cr_assert_geq(peer, 0);
  if (peer == 0) {
    dup2(out[1], 1);
    close(out[0]), close(out[1]);
    execl(fleet_fixture_peer(), "fleet_peer", "ingest", fx.path, mosq_server_uri(srv), (char *)NULL);
    _exit(127);
  }
  close(out[1]);
  peer_out = out[0];
  uint64_t end = test_now_ms() + 20000;
  bool ready = false;
  while (!ready && test_now_ms() < end) ready = drain(100);
  cr_assert(ready, "the peer did not come up");
}

static void publish(int from, int to) {
  for (int k = from; k < to; k++) {
    char topic[64], payload[160];
    snprintf(topic, sizeof topic, "iotkit/v1/crash-%02d/telemetry", k % DEVICES);
    int n = snprintf(payload, sizeof payload, "{\"ver\":1,\"seq\":%d,\"points\":[{\"n\":\"k\",\"ts\":%lld,\"i\":%d}]}",
                     k + 1, (long long)(t0 + k), k);
    cr_assert(mqtt_peer_publish(pub, topic, payload, (size_t)n, 1, false));
  }
}

/* Points committed to the file so far, read by a connection of our own (readers see commits only). */
static long long committed(void) {
  sqlite3 *db = NULL;
  long long n = -1;
  sqlite3_stmt *st = NULL;
  if (sqlite3_open_v2(fx.path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 5000);
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM telemetry_history", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
      n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return n;
}

static void integrity_ok(void) {
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  /* Read-write, as the next fleet opens it: SQLite recovers the write-ahead log first. */
  cr_assert_eq(sqlite3_open_v2(fx.path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
  cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
  cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
  cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "ok");
  cr_assert_eq(sqlite3_step(st), SQLITE_DONE, "one line: ok");
  sqlite3_finalize(st);
  cr_assert_eq(sqlite3_close(db), SQLITE_OK);
}

Test(fleet_crash, sigkill_while_ingesting_keeps_every_commit_and_the_file_intact, .init = setup, .fini = teardown,
     .timeout = 120) {
  start_peer();
  pub = mqtt_peer_new(&(mqtt_peer_opts_t){.port = mosq_server_port(srv)});
  cr_assert(pub);
  t0 = fx.hal->wall_ms(fx.hal->ctx);
  publish(0, FIRST);
  /* The fleet writes on its own (batched flushes, no sync asked): wait for part of it in the file. */
  uint64_t end = test_now_ms() + 60000;
  long long before = 0;
  while ((before = committed()) < FIRST / 4 && test_now_ms() < end) drain(20);
  cr_assert_geq(before, FIRST / 4, "only %lld points reached the file", before);
  publish(FIRST, TOTAL);
  drain(0);
  before = committed();
  unsigned long long seen_at_kill = seen;
  cr_assert_eq(kill(peer, SIGKILL), 0);
  int status = 0;
  cr_assert_eq(waitpid(peer, &status, 0), peer);
  peer = -1;
  cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

  integrity_ok();
  char err[IOTKIT_ERROR_TEXT_SIZE] = "";
  iotkit_fleet_config_t cfg;
  iotkit_fleet_config_init(&cfg);
  cfg.db_path = fx.path;
  cfg.hal = fx.hal;
  cfg.integrity_check = true;
  cfg.history_max_points = HISTORY;
  cfg.error_buf = err;
  cfg.error_buf_size = sizeof err;
  cr_assert_eq(iotkit_fleet_new(&cfg, &fx.fleet), IOTKIT_OK, "%s", err);

  static bool have[TOTAL];
  long long stored = 0;
  for (int d = 0; d < DEVICES; d++) {
    char id[32];
    snprintf(id, sizeof id, "crash-%02d", d);
    iotkit_fleet_sample_t *v = NULL;
    size_t n = 0;
    iotkit_err_t rc = iotkit_fleet_history(fx.fleet, id, "k", t0, t0 + TOTAL, 0, &v, &n);
    if (rc == IOTKIT_ERR_NOT_FOUND) continue; /* not registered yet when it died */
    cr_assert_eq(rc, IOTKIT_OK, "%s", id);
    int newest = -1;
    for (size_t i = 0; i < n; i++) {
      int k = (int)v[i].mean;
      cr_assert(k >= 0 && k < TOTAL && k % DEVICES == d && v[i].ts_ms == t0 + k, "%s: point %d", id, k);
      cr_assert(!have[k]);
      have[k] = true;
      if (k > newest) newest = k;
    }
    stored += (long long)n;
    iotkit_free(v);
    iotkit_telemetry_batch_t *b = NULL;
    rc = iotkit_fleet_latest(fx.fleet, id, "k", &b);
    if (newest < 0) {
      cr_assert(rc == IOTKIT_ERR_NOT_FOUND || iotkit_telemetry_batch_count(b) == 0, "%s: a latest value, no history",
                id);
    } else {
      cr_assert_eq(rc, IOTKIT_OK, "%s", id);
      const iotkit_telemetry_point_t *p = NULL;
      cr_assert_eq(iotkit_telemetry_batch_get(b, 0, &p), IOTKIT_OK, "%s", id);
      cr_assert(p && p->type == IOTKIT_TELEMETRY_INT && p->value.i == newest, "%s: latest %lld, newest point %d", id,
                p ? (long long)p->value.i : -1LL, newest);
    }
    iotkit_telemetry_batch_free(b);
  }
  cr_assert_geq(stored, before, "committed before the kill: %lld, kept: %lld", before, stored);
  for (long long k = 0; k < stored; k++) cr_assert(have[k], "a hole at message %lld of the %lld kept", k, stored);
  printf("fleet crash: killed with %llu of %d messages decoded and %lld points committed; kept after reopening: %lld "
         "(lost: the %lld received since the last commit began)\n",
         seen_at_kill, TOTAL, before, stored, (long long)seen_at_kill > stored ? (long long)seen_at_kill - stored : 0);
  fflush(stdout);
}
