// requires: mqtt coap http
/* Faults of a device on HTTP through iotkit-hub, checked from the MQTT side by
   an independent persistent-session subscriber:
   - the hub is stopped (SIGTERM) and restarted on the same port twice (http://
     and https://) while a
     device with a durable queue and its background loop sends numbered
     telemetry: every number arrives (duplicates are printed, not counted as
     failures: delivery is at least once);
   - the device's bearer token comes from the credentials hook; the hub comes
     back with a key file where the token changed ("revocation"): the device
     sees 401 as a session ending with IOTKIT_ERR_AUTH, calls the hook again,
     which then returns the new token, and nothing sent across it is lost;
   - the hub is stopped while the broker has not yet acknowledged (or even read) what
     the hub accepted from a device: the hub waits for the acknowledgements before it
     disconnects, and every accepted message arrives. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iotkit/iotkit.h>

#include "hal_tmpdir.h"
#include "hub_fixture.h"
#include "iotkit/transport.h"
#include "net_util.h"
#include "transport_client.h"

#define HUB_BIN IOTKIT_BINARY_DIR "/tools/iotkit-hub/iotkit-hub"
#define DEV_ID "sensor-1"
#define TOPIC "iotkit/v1/" DEV_ID "/telemetry"
#define WAIT_MS 30000

static mosq_server_t *mq;
static hub_srv_t *hub;
static mqtt_peer_t *peer;
static iotkit_device_t *dev;
static char state[256];
static char uri[128];

/* What the callbacks saw; the background loop writes, the test reads. */
static struct {
  pthread_mutex_t lock;
  const char *tokens[2]; /* the token of each generation */
  int generation;        /* index into tokens the hook returns */
  bool refresh;          /* set by an AUTH session end: the next hook call moves on */
  unsigned hook_calls, ups, downs, auth_downs;
  unsigned hook_calls_at_auth; /* hook calls when the (first) AUTH end came */
  unsigned hook_calls_at_up;   /* hook calls when the first session after it came up */
  iotkit_err_t last_reason;
} seen = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void setup(void) {
  mq = mosq_server_new();
  cr_assert_not_null(mq);
  cr_assert(mosq_server_add_config(mq, "max_queued_messages 0"));
  cr_assert(mosq_server_start(mq));
  peer = mqtt_peer_new(&(mqtt_peer_opts_t){
      .port = mosq_server_port(mq), .topic = TOPIC, .qos = 1, .client_id = "faults-sub", .persistent = true});
  cr_assert_not_null(peer);
  hub = hub_srv_new(HUB_BIN, mosq_server_uri(mq));
  cr_assert_not_null(hub);
  hal_tmpdir_make(state, sizeof state);
  pthread_mutex_lock(&seen.lock);
  seen.tokens[0] = HUB_FX_KEY1_HEX;
  seen.tokens[1] = HUB_FX_KEY2_HEX;
  seen.generation = 0;
  seen.refresh = false;
  seen.hook_calls = seen.ups = seen.downs = seen.auth_downs = 0;
  seen.hook_calls_at_auth = seen.hook_calls_at_up = 0;
  seen.last_reason = IOTKIT_OK;
  pthread_mutex_unlock(&seen.lock);
}

static void teardown(void) {
  if (dev) {
    iotkit_device_stop(dev);
    iotkit_device_free(dev);
    dev = NULL;
  }
  hub_srv_free(hub);
  mqtt_peer_free(peer);
  mosq_server_free(mq);
  if (!getenv("IOTKIT_TEST_KEEP")) hal_tmpdir_remove(state);
}

TestSuite(hub_http_faults, .init = setup, .fini = teardown, .timeout = 120);

static void on_connection(iotkit_device_t *d, void *user, bool connected, iotkit_err_t reason, const char *detail) {
  (void)d, (void)user;
  pthread_mutex_lock(&seen.lock);
  if (connected) {
    seen.ups++;
    if (seen.auth_downs && !seen.hook_calls_at_up) seen.hook_calls_at_up = seen.hook_calls;
  } else {
    seen.downs++;
    seen.last_reason = reason;
    if (reason == IOTKIT_ERR_AUTH) {
      if (!seen.auth_downs) seen.hook_calls_at_auth = seen.hook_calls;
      seen.auth_downs++;
      seen.refresh = true;
    }
  }
  pthread_mutex_unlock(&seen.lock);
  fprintf(stderr, "faults: session %s (%s) %s\n", connected ? "up" : "down", iotkit_strerror(reason),
          detail ? detail : "");
}

/* The token of the current generation; an AUTH refusal since the last call moves to the next. */
static iotkit_err_t on_credentials(iotkit_device_t *d, void *user, char *username, size_t ucap, char *password,
                                   size_t pcap) {
  (void)d, (void)user, (void)username, (void)ucap;
  pthread_mutex_lock(&seen.lock);
  seen.hook_calls++;
  if (seen.refresh && seen.generation < 1) seen.generation++;
  seen.refresh = false;
  snprintf(password, pcap, "%s", seen.tokens[seen.generation]);
  pthread_mutex_unlock(&seen.lock);
  return IOTKIT_OK;
}

/* A device on the hub's HTTP front, durable queue on a POSIX HAL, background loop running. */
static void start_device(bool token_from_hook, bool tls) {
  iotkit_device_config_t cfg;
  iotkit_device_config_init(&cfg);
  cfg.device_id = DEV_ID;
  /* Few, quick retries per request, so that an outage of a second outlasts them. */
  snprintf(uri, sizeof uri, "%s?attempts=2&backoff_ms=50", hub_srv_http_uri(hub));
  cfg.uri = uri;
  cfg.password = token_from_hook ? NULL : HUB_FX_KEY1_HEX;
  if (tls) cfg.tls.ca_file = hub_srv_ca_file(hub);
  cfg.state_dir = state;
  cfg.auto_reconnect = true;
  cfg.reconnect_min_ms = 50;
  cfg.reconnect_max_ms = 400;
  cfg.telemetry_drain_rate = 0;
  cr_assert_eq(iotkit_device_new(&cfg, &dev), IOTKIT_OK);
  iotkit_device_telemetry_stats_t st;
  cr_assert_eq(iotkit_device_telemetry_stats(dev, &st), IOTKIT_OK);
  cr_assert(st.durable, "the POSIX HAL gives the device a durable queue");
  cr_assert_eq(iotkit_device_on_connection(dev, on_connection, NULL), IOTKIT_OK);
  if (token_from_hook) cr_assert_eq(iotkit_device_on_credentials(dev, on_credentials, NULL), IOTKIT_OK);
  cr_assert_eq(iotkit_device_start(dev), IOTKIT_OK);
}

static uint64_t send_one(unsigned i) {
  iotkit_telemetry_batch_t *b = NULL;
  cr_assert_eq(iotkit_telemetry_batch_new(NULL, &b), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_batch_add_int(b, "n", NULL, 1700000000000 + i, (int64_t)i), IOTKIT_OK);
  uint64_t seq = 0;
  iotkit_err_t rc = iotkit_device_send_batch(dev, b, IOTKIT_TELEMETRY_FORMAT_JSON, &seq, NULL);
  iotkit_telemetry_batch_free(b);
  cr_assert_eq(rc, IOTKIT_OK, "message %u: %s", i, iotkit_strerror(rc));
  return seq;
}

static bool device_drained(void) {
  iotkit_device_telemetry_stats_t st;
  return iotkit_device_telemetry_stats(dev, &st) == IOTKIT_OK && st.queue.pending == 0;
}

static void wait_drained(void) {
  uint64_t end = test_now_ms() + WAIT_MS;
  while (!device_drained() && test_now_ms() < end) test_msleep(50);
  cr_assert(device_drained(), "the device queue never drained");
}

/* Wait until the subscriber has every sequence number 1..n; print and return lost and duplicates. */
static unsigned long check_all_arrived(uint64_t n, const char *what) {
  unsigned char *got = calloc(n + 1, 1);
  cr_assert_not_null(got);
  unsigned long have = 0, dups = 0;
  size_t done = 0;
  uint64_t end = test_now_ms() + WAIT_MS;
  while (have < n && test_now_ms() < end) {
    for (size_t count = mqtt_peer_count(peer); done < count; done++) {
      const mqtt_peer_msg_t *m = mqtt_peer_get(peer, done);
      iotkit_telemetry_batch_t *b = NULL;
      cr_assert_eq(iotkit_telemetry_decode(IOTKIT_TELEMETRY_FORMAT_JSON, m->payload, m->len, &b), IOTKIT_OK,
                   "not telemetry: %s", (const char *)m->payload);
      uint64_t seq = iotkit_telemetry_batch_seq(b);
      iotkit_telemetry_batch_free(b);
      cr_assert(seq >= 1 && seq <= n, "seq %llu out of range", (unsigned long long)seq);
      if (got[seq]) dups++;
      else have++;
      got[seq] = 1;
    }
    if (have < n) test_msleep(50);
  }
  unsigned long lost = (unsigned long)(n - have);
  printf("%s: sent %llu, lost %lu, duplicates %lu\n", what, (unsigned long long)n, lost, dups);
  fprintf(stderr, "%s: sent %llu, lost %lu, duplicates %lu\n", what, (unsigned long long)n, lost, dups);
  free(got);
  return lost;
}

static uint64_t send_one(unsigned i);

/* Stop the hub, send @p offline more messages (from @p *next) over about
   100 ms each while it is away, start it again on the same port. */
static void restart_hub(int which, unsigned offline, unsigned *next) {
  cr_assert(hub_srv_stop(hub), "hub stop %d (log %s)", which, hub_srv_log_path(hub));
  test_msleep(100);
  for (unsigned k = 0; k < offline; k++, (*next)++) {
    cr_assert_eq(send_one(*next), *next);
    test_msleep(100);
  }
  cr_assert(hub_srv_start(hub), "hub restart %d (log %s)", which, hub_srv_log_path(hub));
  fprintf(stderr, "faults: hub restarted (%d), subscriber has %zu\n", which, mqtt_peer_count(peer));
}

#define POINTS 300u

static void restarts_lose_nothing(bool tls) {
  cr_assert(hub_srv_enable_http(hub, tls));
  cr_assert(hub_srv_add_device(hub, DEV_ID, HUB_FX_KEY1_HEX));
  cr_assert(hub_srv_start(hub));
  start_device(false, tls);
  uint64_t last = 0;
  unsigned i = 1;
  while (i <= POINTS) {
    last = send_one(i);
    cr_assert_eq(last, i, "the sequence numbers of a fresh queue count from 1");
    i++;
    /* a short outage, then one past every retry of a request: the session is lost */
    if (i == POINTS / 3) restart_hub(1, 1, &i);
    if (i == 2 * POINTS / 3) restart_hub(2, 15, &i);
    test_msleep(2);
  }
  last = i - 1;
  wait_drained();
  cr_assert_eq(check_all_arrived(last, "hub restarts"), 0);
  pthread_mutex_lock(&seen.lock);
  unsigned ups = seen.ups, downs = seen.downs, auth = seen.auth_downs;
  pthread_mutex_unlock(&seen.lock);
  fprintf(stderr, "hub restarts (%s): sessions up %u, down %u\n", tls ? "https" : "http", ups, downs);
  cr_assert_geq(ups, 2, "the long outage ended the session and the device came back");
  cr_assert_eq(auth, 0, "a restart is not an authentication failure");
}

Test(hub_http_faults, hub_restarted_twice_mid_run_loses_nothing) { restarts_lose_nothing(false); }

Test(hub_http_faults, https_hub_restarted_twice_mid_run_loses_nothing) { restarts_lose_nothing(true); }

Test(hub_http_faults, revoked_token_is_refreshed_through_the_credentials_hook) {
  cr_assert(hub_srv_enable_http(hub, false));
  cr_assert(hub_srv_add_device(hub, DEV_ID, HUB_FX_KEY1_HEX));
  cr_assert(hub_srv_start(hub));
  start_device(true, false);
  uint64_t last = 0;
  for (unsigned i = 1; i <= 50; i++) last = send_one(i);
  wait_drained();
  pthread_mutex_lock(&seen.lock);
  cr_assert_eq(seen.hook_calls, 1, "one connection, one hook call (got %u)", seen.hook_calls);
  cr_assert_eq(seen.ups, 1);
  pthread_mutex_unlock(&seen.lock);

  /* Revoke: the hub comes back knowing the device by its second token only. */
  cr_assert(hub_srv_stop(hub));
  FILE *f = fopen(hub_srv_file(hub, "keys"), "w");
  cr_assert_not_null(f);
  fprintf(f, "%s %s\n", DEV_ID, HUB_FX_KEY2_HEX);
  cr_assert_eq(fclose(f), 0);
  cr_assert(hub_srv_start(hub));
  for (unsigned i = 51; i <= 100; i++) {
    last = send_one(i);
    test_msleep(5);
  }
  wait_drained();
  cr_assert_eq(check_all_arrived(last, "token refresh"), 0);

  pthread_mutex_lock(&seen.lock);
  unsigned calls = seen.hook_calls, at_auth = seen.hook_calls_at_auth, at_up = seen.hook_calls_at_up;
  unsigned auth = seen.auth_downs, gen = (unsigned)seen.generation, ups = seen.ups;
  pthread_mutex_unlock(&seen.lock);
  fprintf(stderr, "token refresh: hook calls %u (at the 401: %u, at the next session: %u), sessions %u, auth ends %u\n",
          calls, at_auth, at_up, ups, auth);
  iotkit_device_telemetry_stats_t st;
  cr_assert_eq(iotkit_device_telemetry_stats(dev, &st), IOTKIT_OK);
  fprintf(stderr, "token refresh: delivery failures %llu, re-sent from the queue %llu\n",
          (unsigned long long)st.failed, (unsigned long long)st.sent_backlog);
  /* A refused token ends the session at once: each message sent after the revocation
     fails at most twice (in a session lost to the restart, in the refused one), instead
     of being re-sent into the refusal until a long poll happens to end the session. */
  cr_assert_leq(st.failed, 2 * 50, "%llu delivery failures", (unsigned long long)st.failed);
  cr_assert_eq(auth, 1, "exactly one session ended with IOTKIT_ERR_AUTH (got %u)", auth);
  cr_assert_eq(gen, 1, "the hook moved to the new token");
  cr_assert_eq(at_up, at_auth + 1, "the first hook call after the 401 gave a working session");
}

/* Large enough together that a frozen broker's socket cannot take them all: when the
   hub is told to stop, the last of them are still in libmosquitto's queue in the hub. */
#define BIG_LEN 200000u
#define BIG_COUNT 48

/* The got[] flags of the subscriber's big messages ("NNNN:xxx..."); how many are set. */
static int big_arrived(bool got[BIG_COUNT]) {
  int have = 0;
  memset(got, 0, BIG_COUNT * sizeof got[0]);
  for (size_t k = 0, n = mqtt_peer_count(peer); k < n; k++) {
    const mqtt_peer_msg_t *m = mqtt_peer_get(peer, k);
    int i = -1;
    if (m->len == BIG_LEN && sscanf((const char *)m->payload, "%4d:", &i) == 1 && i >= 0 && i < BIG_COUNT &&
        !got[i]) {
      got[i] = true;
      have++;
    }
  }
  return have;
}

/* libmosquitto 2.0 drops its unwritten queue when a PUBACK comes after
   mosquitto_disconnect(): the hub used to disconnect at once on SIGTERM and lost what it
   had answered 204 for but not yet written to the broker. */
Test(hub_http_faults, a_stopping_hub_delivers_what_it_accepted_before_the_broker_acknowledged_it) {
  cr_assert(hub_srv_enable_http(hub, false));
  cr_assert(hub_srv_add_device(hub, DEV_ID, HUB_FX_KEY1_HEX));
  cr_assert(hub_srv_start(hub));
  tclient_t *c = tclient_new(&(tclient_opts_t){
      .uri = hub_srv_http_uri(hub), .ops = iotkit_transport_http(), .client_id = DEV_ID, .password = HUB_FX_KEY1_HEX});
  cr_assert_not_null(c);
  cr_assert_eq(tclient_connect(c), IOTKIT_OK, "%s", tclient_last_error(c));
  char *payload = malloc(BIG_LEN);
  cr_assert_not_null(payload);
  memset(payload, 'x', BIG_LEN);

  /* The broker frozen: the hub accepts each message (204) and can only queue it. */
  cr_assert(mosq_server_pause(mq, true));
  for (int i = 0; i < BIG_COUNT; i++) {
    char head[8];
    snprintf(head, sizeof head, "%04d:", i);
    memcpy(payload, head, 5);
    uint32_t id = 0;
    cr_assert_eq(tclient_send(c, TOPIC, payload, BIG_LEN, 1, &id), IOTKIT_OK, "%s", tclient_last_error(c));
    iotkit_err_t rc = tclient_wait_delivery(c, id);
    cr_assert_eq(rc, IOTKIT_OK, "message %d: %s: %s", i, iotkit_err_name(rc), tclient_last_error(c));
  }
  tclient_free(c);
  free(payload);

  /* Told to stop with none of it acknowledged; the broker wakes up once the hub is stopping. */
  cr_assert(hub_srv_term(hub));
  uint64_t end = test_now_ms() + WAIT_MS;
  while (!hub_srv_log_contains(hub, "INFO stopping:") && test_now_ms() < end) test_msleep(20);
  cr_assert(hub_srv_log_contains(hub, "INFO stopping:"), "the hub did not stop (log %s)", hub_srv_log_path(hub));
  cr_assert(mosq_server_pause(mq, false));
  cr_assert(hub_srv_stop(hub), "the hub exits cleanly (log %s)", hub_srv_log_path(hub));

  bool got[BIG_COUNT];
  end = test_now_ms() + WAIT_MS;
  while (big_arrived(got) < BIG_COUNT && test_now_ms() < end) test_msleep(50);
  int have = big_arrived(got);
  for (int i = 0; i < BIG_COUNT; i++)
    if (!got[i]) fprintf(stderr, "stop with a lagging broker: message %d lost\n", i);
  cr_assert_eq(have, BIG_COUNT, "%d of %d accepted messages arrived (hub log %s)", have, BIG_COUNT,
               hub_srv_log_path(hub));
}
