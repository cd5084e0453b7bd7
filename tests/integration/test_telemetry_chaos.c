/* Chaos: `iotkit device simulate` (a separate process, durable queue in a state
   directory, --reconnect) publishes sequenced readings at QoS 1 while the broker
   (persistence on) is stopped and restarted three times and the device process
   is SIGKILLed and restarted once. An independent persistent-session subscriber
   must receive every sequence number the device said it had stored.
   IOTKIT_CHAOS_POINTS overrides the number of readings (default 20000). */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <iotkit/iotkit.h>

#include "mosquitto_server.h"
#include "mqtt_peer.h"
#include "net_util.h"

#define CLI IOTKIT_BINARY_DIR "/tools/iotkit/iotkit"
#define TOPIC "iotkit/v1/chaos-1/telemetry"
#define DEFAULT_POINTS 20000ul
#define STEP_WAIT_MS 20000
#define END_WAIT_MS 90000

static mosq_server_t *srv;
static mqtt_peer_t *peer;
static pid_t pid = -1;
static char dir[] = "/tmp/iotkit-chaos-XXXXXX";
static char state[96], first_log[96], second_log[96];

static void setup(void) {
  cr_assert_not_null(mkdtemp(dir));
  snprintf(state, sizeof(state), "%s/state", dir);
  snprintf(first_log, sizeof(first_log), "%s/device1.log", dir);
  snprintf(second_log, sizeof(second_log), "%s/device2.log", dir);
  srv = mosq_server_new();
  cr_assert_not_null(srv);
  cr_assert(mosq_server_set_persistence(srv, true));
  /* The subscriber's session may hold the whole run while it reconnects. */
  cr_assert(mosq_server_add_config(srv, "max_queued_messages 0"));
  cr_assert(mosq_server_start(srv));
}

static void teardown(void) {
  if (pid > 0) test_kill_wait(pid, SIGKILL);
  mqtt_peer_free(peer);
  mosq_server_free(srv);
  char cmd[160];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  if (!getenv("IOTKIT_TEST_KEEP") && system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
}

TestSuite(telemetry_chaos, .init = setup, .fini = teardown, .timeout = 240);

static unsigned long points(void) {
  const char *e = getenv("IOTKIT_CHAOS_POINTS");
  unsigned long n = e && *e ? strtoul(e, NULL, 10) : DEFAULT_POINTS;
  return n ? n : DEFAULT_POINTS;
}

static pid_t spawn_device(unsigned long count, const char *log) {
  char n[32];
  snprintf(n, sizeof(n), "%lu", count);
  char *const argv[] = {CLI, "device", "simulate", "--uri", (char *)mosq_server_uri(srv), "--id", "chaos-1",
                        "--state-dir", state, "--count", n, "--interval-ms", "0", "--qos", "1", "--reconnect",
                        "--drain-rate", "5000", "--drain-timeout-ms", "90000", NULL};
  pid_t p = test_spawn(argv, log);
  cr_assert_gt(p, 0);
  return p;
}

/* The sequence numbers a device run printed as stored ("queued seq=N"), marked in @p stored. */
static unsigned long read_stored(const char *log, unsigned char *stored, unsigned long cap, unsigned long *max) {
  FILE *f = fopen(log, "r");
  cr_assert_not_null(f, "no log %s", log);
  char line[512];
  unsigned long n = 0;
  while (fgets(line, sizeof(line), f)) {
    unsigned long seq = 0;
    if (sscanf(line, "queued seq=%lu", &seq) != 1 || !strchr(line, '\n')) continue; /* a torn last line */
    cr_assert_lt(seq, cap, "seq %lu beyond the expected range", seq);
    stored[seq] = 1;
    n++;
    if (seq > *max) *max = seq;
  }
  fclose(f);
  return n;
}

static void wait_received(size_t n) {
  if (!mqtt_peer_wait(peer, n, STEP_WAIT_MS))
    fprintf(stderr, "chaos: only %zu of %zu messages after %d ms; going on\n", mqtt_peer_count(peer), n, STEP_WAIT_MS);
}

static void bounce_broker(int which) {
  cr_assert(mosq_server_stop(srv), "broker stop %d", which);
  test_msleep(300);
  cr_assert(mosq_server_restart(srv), "broker restart %d", which);
  fprintf(stderr, "chaos: broker restarted (%d), subscriber has %zu\n", which, mqtt_peer_count(peer));
}

static int wait_exit(pid_t p, int timeout_ms) {
  uint64_t end = test_now_ms() + (uint64_t)timeout_ms;
  int status = 0;
  while (test_now_ms() < end) {
    pid_t r = waitpid(p, &status, WNOHANG);
    if (r == p) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    test_msleep(50);
  }
  return -2;
}

Test(telemetry_chaos, every_stored_reading_arrives_through_restarts_and_a_sigkill) {
  const unsigned long n = points();
  peer = mqtt_peer_new(&(mqtt_peer_opts_t){
      .port = mosq_server_port(srv), .topic = TOPIC, .qos = 1, .client_id = "chaos-sub", .persistent = true});
  cr_assert_not_null(peer);

  pid = spawn_device(n, first_log);
  wait_received(n / 16); /* early: the kill may come while readings are still being stored */
  test_kill_wait(pid, SIGKILL);
  pid = -1;
  /* The store has room for a restart skipping up to 1024 numbers, twice. */
  const unsigned long cap = n + 4096;
  unsigned char *stored = calloc(cap, 1), *seen = calloc(cap, 1);
  cr_assert(stored && seen);
  unsigned long max = 0;
  unsigned long first = read_stored(first_log, stored, cap, &max);
  fprintf(stderr, "chaos: device killed after storing %lu, subscriber has %zu\n", first, mqtt_peer_count(peer));
  unsigned long rest = first < n ? n - first : 1;
  pid = spawn_device(rest, second_log);
  wait_received(n / 4);
  bounce_broker(1);
  wait_received(n / 2);
  bounce_broker(2);
  wait_received(3 * n / 4);
  bounce_broker(3);
  int rc = wait_exit(pid, END_WAIT_MS);
  if (rc != -2) pid = -1;
  cr_assert_eq(rc, 0, "the restarted device ended with %d (log %s)", rc, second_log);
  unsigned long second = read_stored(second_log, stored, cap, &max);
  cr_assert_eq(second, rest);

  /* Every stored number must arrive; count duplicates. */
  unsigned long want = first + second, lost = 0, dups = 0, got = 0;
  uint64_t end = test_now_ms() + 30000;
  size_t done = 0;
  for (;;) {
    size_t count = mqtt_peer_count(peer);
    for (; done < count; done++) {
      const mqtt_peer_msg_t *m = mqtt_peer_get(peer, done);
      iotkit_telemetry_batch_t *b = NULL;
      cr_assert_eq(iotkit_telemetry_decode(IOTKIT_TELEMETRY_FORMAT_JSON, m->payload, m->len, &b), IOTKIT_OK,
                   "not a telemetry message: %s", (const char *)m->payload);
      uint64_t seq = iotkit_telemetry_batch_seq(b);
      iotkit_telemetry_batch_free(b);
      cr_assert(seq > 0 && seq < cap, "seq %llu out of range", (unsigned long long)seq);
      if (seen[seq]) dups++;
      got += stored[seq] && !seen[seq];
      seen[seq] = 1;
    }
    if (got >= want || test_now_ms() > end) break;
    test_msleep(100);
  }
  for (unsigned long s = 1; s < cap; s++) lost += stored[s] && !seen[s];
  fprintf(stderr, "chaos: points %lu (stored %lu + %lu), received %zu messages, lost %lu, duplicates %lu\n", n,
          first, second, mqtt_peer_count(peer), lost, dups);
  printf("chaos: points %lu, lost %lu, duplicates %lu\n", want, lost, dups);
  free(stored);
  free(seen);
  cr_assert_eq(lost, 0, "%lu stored readings never arrived", lost);
}
