// requires: mqtt
/* 2,000 MQTT device handles in one process, driven by one thread through
 * their descriptors under poll(2) (the external-loop API), against a real
 * mosquitto on 127.0.0.1. With about three descriptors per device, most of
 * them are above 1023, where libmosquitto's own select() loop refuses to
 * work; every device must still connect, send its telemetry and have it
 * confirmed, and a subscriber must see one message from each. */
#include <criterion/criterion.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "iotkit/iotkit.h"
#include "mosquitto_server.h"
#include "mqtt_peer.h"
#include "net_util.h"

#define N_DEVICES 2000
/* descriptors needed: per device an epoll set, an eventfd and a socket, the
   broker's side of each connection (same process limit: it is our child), and slack */
#define FDS_WANTED (N_DEVICES * 5 + 256)

static mosq_server_t *srv;
static mqtt_peer_t *peer;
static iotkit_hal_t *hals[N_DEVICES];
static iotkit_device_t *devs[N_DEVICES];
static struct pollfd pfds[N_DEVICES];
static int delivered[N_DEVICES];

static void raise_fd_limit(void) {
  struct rlimit rl;
  cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
  if (rl.rlim_cur < FDS_WANTED) {
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= FDS_WANTED ? FDS_WANTED : rl.rlim_max;
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
  }
  cr_assert_geq(rl.rlim_cur, (rlim_t)FDS_WANTED, "RLIMIT_NOFILE hard limit %llu is below the %d this test needs",
                (unsigned long long)rl.rlim_max, FDS_WANTED);
}

static void start(void) {
  raise_fd_limit(); /* before the broker starts: it inherits the limit */
  srv = mosq_server_new();
  cr_assert(srv);
  cr_assert(mosq_server_add_config(srv, "max_connections -1"));
  /* the subscriber gets 2,000 QoS 1 messages at once: queue them all (default: drop beyond 1,000) */
  cr_assert(mosq_server_add_config(srv, "max_queued_messages 0"));
  cr_assert(mosq_server_start(srv));
}

static void stop(void) {
  for (int i = 0; i < N_DEVICES; i++) {
    if (devs[i]) iotkit_device_free(devs[i]);
    if (hals[i]) iotkit_hal_free(hals[i]);
    devs[i] = NULL;
    hals[i] = NULL;
  }
  mqtt_peer_free(peer);
  peer = NULL;
  mosq_server_free(srv);
  srv = NULL;
}

static void on_delivery(iotkit_device_t *dev, void *user, uint32_t msg_id, iotkit_err_t status) {
  (void)dev, (void)msg_id;
  if (status == IOTKIT_OK) (*(int *)user)++;
}

/* One round of the external loop over every device: poll(2) on all
   descriptors for the shortest next_timeout_ms() (at most 100 ms), then
   poll each device whose descriptor is ready or whose time has come. */
static void loop_once(void) {
  int wait = 100;
  for (int i = 0; i < N_DEVICES; i++) {
    int ev = iotkit_device_fd_events(devs[i]);
    pfds[i] = (struct pollfd){.fd = iotkit_device_fd(devs[i]),
                              .events = (short)((ev & IOTKIT_FD_READ ? POLLIN : 0) | (ev & IOTKIT_FD_WRITE ? POLLOUT : 0))};
    int t = iotkit_device_next_timeout_ms(devs[i]);
    if (t >= 0 && t < wait) wait = t;
  }
  cr_assert_geq(poll(pfds, N_DEVICES, wait), 0);
  for (int i = 0; i < N_DEVICES; i++) {
    if (pfds[i].revents || iotkit_device_next_timeout_ms(devs[i]) == 0) {
      cr_assert_eq(iotkit_device_poll(devs[i], 0), IOTKIT_OK);
    }
  }
}

static int count_delivered(void) {
  int n = 0;
  for (int i = 0; i < N_DEVICES; i++) n += delivered[i] > 0;
  return n;
}

Test(many, two_thousand_devices_in_one_process, .init = start, .fini = stop, .timeout = 280) {
  char uri[64];
  snprintf(uri, sizeof uri, "mqtt://127.0.0.1:%u", (unsigned)mosq_server_port(srv));
  peer = mqtt_peer_new(&(mqtt_peer_opts_t){.port = mosq_server_port(srv), .topic = "iotkit/v1/+/telemetry", .qos = 1});
  cr_assert(peer);
  int max_fd = -1, above_1023 = 0;
  for (int i = 0; i < N_DEVICES; i++) {
    char id[32];
    snprintf(id, sizeof id, "many-%04d", i);
    cr_assert_eq(iotkit_hal_memory_new(NULL, &hals[i]), IOTKIT_OK);
    iotkit_device_config_t cfg;
    iotkit_device_config_init(&cfg);
    cfg.device_id = id;
    cfg.uri = uri;
    cfg.hal = hals[i];
    cfg.keepalive_s = 300; /* the one thread connects 2,000 devices before it polls the first again */
    cr_assert_eq(iotkit_device_new(&cfg, &devs[i]), IOTKIT_OK, "device %d", i);
    cr_assert_eq(iotkit_device_on_delivery(devs[i], on_delivery, &delivered[i]), IOTKIT_OK);
    iotkit_err_t rc = iotkit_device_connect(devs[i]);
    char why[IOTKIT_ERROR_TEXT_SIZE];
    cr_assert_eq(rc, IOTKIT_OK, "device %d: %s: %s", i, iotkit_err_name(rc),
                 iotkit_device_last_error(devs[i], why, sizeof why));
    int fd = iotkit_device_fd(devs[i]);
    cr_assert_geq(fd, 0);
    if (fd > max_fd) max_fd = fd;
    above_1023 += fd > 1023;
  }
  cr_assert_gt(max_fd, 1023, "descriptors stayed below 1024 (%d): the test proves nothing", max_fd);
  cr_assert_gt(above_1023, N_DEVICES / 2, "only %d devices above 1023", above_1023);

  for (int i = 0; i < N_DEVICES; i++) {
    char payload[48];
    int n = snprintf(payload, sizeof payload, "{\"n\":%d}", i);
    cr_assert_eq(iotkit_device_send_telemetry(devs[i], payload, (size_t)n, NULL), IOTKIT_OK, "device %d", i);
  }
  uint64_t end = test_now_ms() + 120000;
  while (count_delivered() < N_DEVICES && test_now_ms() < end) loop_once();
  cr_assert_eq(count_delivered(), N_DEVICES, "telemetry confirmed for %d of %d devices", count_delivered(), N_DEVICES);
  for (int i = 0; i < N_DEVICES; i++) cr_assert(iotkit_device_is_connected(devs[i]), "device %d dropped", i);

  /* The subscriber saw every device's message, once each device at least. */
  cr_assert(mqtt_peer_wait(peer, N_DEVICES, 60000), "subscriber got %zu of %d", mqtt_peer_count(peer), N_DEVICES);
  static bool seen[N_DEVICES];
  int distinct = 0;
  for (size_t k = 0; k < mqtt_peer_count(peer); k++) {
    int i = -1;
    cr_assert_eq(sscanf(mqtt_peer_get(peer, k)->topic, "iotkit/v1/many-%d/telemetry", &i), 1);
    cr_assert(i >= 0 && i < N_DEVICES);
    if (!seen[i]) distinct++;
    seen[i] = true;
  }
  cr_assert_eq(distinct, N_DEVICES);
}
