/* iotkit-hub: a CoAP (and CoAPs) and HTTP(S) front for libiotkit devices, bridged to an
 * MQTT broker so that a CoAP device lands in the same topic space as an MQTT
 * one (docs/protocol.md, docs/hub.md). Exit status: 0 after a clean stop
 * (SIGTERM or SIGINT), 1 when it cannot run, 2 on a usage or config error. */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>

#include "hub.h"

static volatile sig_atomic_t g_stop; /* set by SIGTERM/SIGINT */

static void on_stop(int sig) {
  (void)sig;
  g_stop = 1;
}

/* The MQTT thread must not take the stop signals: the main thread's poll()
   is what they interrupt. Block them while that thread starts. */
static void block_stop_signals(bool block) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

static void catch_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
}

static int run(hub_t *hub) {
  if (hub->cfg.psk_file && !hub_auth_load(hub, hub->cfg.psk_file)) return 2;
  if (!hub_coap_start(hub)) return 1;
  block_stop_signals(true);
  bool mqtt_ok = hub_mqtt_start(hub);
  block_stop_signals(false);
  if (!mqtt_ok || !hub_http_start(hub)) return 1;
  while (!g_stop) {
    struct pollfd fds[3] = {{.fd = -1, .events = POLLIN}, {.fd = hub_mqtt_wake_fd(hub), .events = POLLIN},
                            {.fd = -1, .events = POLLIN}};
    int wait = hub_coap_prepare(hub, 1000, &fds[0].fd);
    wait = hub_http_prepare(hub, wait, &fds[2].fd);
    poll(fds, 3, wait); /* a stop signal interrupts it */
    hub_coap_process(hub);
    hub_mqtt_drain(hub);
    hub_http_process(hub);
    if (!hub->ready_logged && hub_mqtt_ready(hub)) {
      hub->ready_logged = true;
      const hub_config_t *c = &hub->cfg;
      hub_log(HUB_LOG_INFO, "ready:%s%s%s%s%s%s -> MQTT %s", c->coaps_listen ? " coaps://" : "",
              c->coaps_listen ? c->coaps_listen : "", c->coap_listen ? " coap://" : "",
              c->coap_listen ? c->coap_listen : "", c->http_listen ? (c->https_cert ? " https://" : " http://") : "",
              c->http_listen ? c->http_listen : "", c->mqtt_uri);
    }
  }
  hub_log(HUB_LOG_INFO, "stopping: %lu messages published, %lu duplicates filtered, %lu notifications, "
          "%lu refused (not authorised), %lu bad requests",
          hub->stats.published, hub->stats.duplicates, hub->stats.notified, hub->stats.forbidden, hub->stats.bad);
  return 0;
}

int main(int argc, char **argv) {
  catch_signals();
  hub_t hub;
  memset(&hub, 0, sizeof hub);
  hub_config_init(&hub.cfg);
  int rc = hub_config_from_args(&hub.cfg, argc, argv);
  if (rc == 0) {
    hub_log_set_level(hub.cfg.log_level);
    rc = hub_config_check(&hub.cfg) ? run(&hub) : 2;
    hub_http_stop(&hub);
    hub_coap_stop(&hub);
    hub_mqtt_stop(&hub);
    hub_devices_free(&hub);
  } else {
    rc = rc == 1 ? 0 : 2;
  }
  hub_config_clear(&hub.cfg);
  return rc;
}
