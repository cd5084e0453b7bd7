/* Fleet monitoring tests against a real mosquitto: the broker (sys_interval 1,
 * optional persistence), a fleet on a database file in a temporary directory,
 * driven by its own thread, real device handles (each with its own memory HAL
 * and background loop), and what the fleet's callbacks saw.
 *
 *   fleet_live_t fx; fleet_live_setup(&fx, false);
 *   fleet_live_open(&fx);                      // fx.cfg may be changed before
 *   fleet_live_register(&fx, "d1");
 *   iotkit_device_t *d = fleet_live_device(&fx, "d1");
 *   cr_assert(fleet_live_wait_online(&fx, "d1", true));
 *   fleet_live_teardown(&fx);
 */
#ifndef IOTKIT_TEST_FLEET_LIVE_H
#define IOTKIT_TEST_FLEET_LIVE_H

#include <pthread.h>
#include <stdbool.h>

#include "iotkit/iotkit.h"
#include "mosquitto_server.h"

#define FLEET_LIVE_MAX_DEVICES 64
#define FLEET_LIVE_WAIT_MS 10000

/* One status transition the fleet reported. */
typedef struct fleet_live_status {
  char id[IOTKIT_MAX_DEVICE_ID + 1];
  bool online;
  char reason[32];
} fleet_live_status_t;

typedef struct fleet_live {
  mosq_server_t *srv;
  char dir[256];
  char db[320];
  iotkit_hal_t *hal;          /* the fleet's (memory HAL, real clock) */
  iotkit_fleet_config_t cfg;  /* filled by setup: db, HAL, broker, reconnect 100..500 ms */
  iotkit_fleet_t *fleet;

  iotkit_device_t *devs[FLEET_LIVE_MAX_DEVICES];
  iotkit_hal_t *dev_hals[FLEET_LIVE_MAX_DEVICES];

  /* What the callbacks saw (under mu). */
  pthread_mutex_t mu;
  fleet_live_status_t statuses[1024];
  int n_statuses;
  int telemetry, states, events, locations, stale_on, stale_off, connections;
  char last_event[128];
  char last_state[512];
} fleet_live_t;

/* Start the broker (with @p persistence) and fill fx->cfg. */
void fleet_live_setup(fleet_live_t *fx, bool persistence);
/* Create the fleet from fx->cfg, set the recording callbacks, connect, start its thread (asserts). */
void fleet_live_open(fleet_live_t *fx);
/* Stop and free the fleet (fx->fleet NULL). */
void fleet_live_close(fleet_live_t *fx);
/* Free the devices, the fleet, the broker, the directory. */
void fleet_live_teardown(fleet_live_t *fx);

/* Register @p id (asserts). */
void fleet_live_register(fleet_live_t *fx, const char *id);
/* A device @p id on the broker (crash_transport, reconnect 100..500 ms), connected and
   running its background loop (asserts). Freed by teardown unless freed before. */
iotkit_device_t *fleet_live_device(fleet_live_t *fx, const char *id);
/* The same, sealing with @p key (32 bytes) under @p key_id (end-to-end protection); NULL: plain. */
iotkit_device_t *fleet_live_device_e2e(fleet_live_t *fx, const char *id, const uint8_t *key, const char *key_id);
/* Free device @p dev: cleanly, or (@p crash) without goodbye, so the broker publishes its will. */
void fleet_live_drop(fleet_live_t *fx, iotkit_device_t *dev, bool crash);

/* Poll @p done(arg) every 5 ms up to @p ms. */
bool fleet_live_wait(bool (*done)(void *arg), void *arg, int ms);
/* Wait until the fleet's presence of @p id is @p online. */
bool fleet_live_wait_online(fleet_live_t *fx, const char *id, bool online);
/* The fleet's presence of @p id (false for unknown ids). */
bool fleet_live_online(fleet_live_t *fx, const char *id);
/* Number of status transitions recorded for @p id (NULL: all). */
int fleet_live_transitions(fleet_live_t *fx, const char *id);
/* The reason of the last transition of @p id to offline, waiting (FLEET_LIVE_WAIT_MS) until the
   last callback for @p id says offline, since it runs after the view changed ("" if none came). */
const char *fleet_live_last_reason(fleet_live_t *fx, const char *id);
/* A counter of fx, read under its lock. */
int fleet_live_count(fleet_live_t *fx, const int *counter);

#endif
