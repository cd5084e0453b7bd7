/* Remote control of the fleet's devices (internal): commands, desired state, end-to-end protection. */
#ifndef IOTKIT__FLEET_CONTROL_H
#define IOTKIT__FLEET_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotkit/fleet.h"
#include "iotkit/protocol.h"

/* A blocking call's results: slot i of res is filled by the command of slot i. */
typedef struct iotkit__fleet_wait {
  iotkit_fleet_results_t *res;
  size_t left; /* results still to come (under ctl->lock) */
} iotkit__fleet_wait_t;

/* One command waiting for its response, or a result waiting for its callback. */
typedef struct iotkit__fleet_cmd {
  struct iotkit__fleet_cmd *next;
  char device[IOTKIT_MAX_DEVICE_ID + 1];
  char id[IOTKIT_MAX_REQUEST_ID + 1];
  uint64_t deadline; /* monotonic ms */
  iotkit_fleet_result_cb cb;
  void *user;
  iotkit__fleet_wait_t *wait; /* a blocking call's, or NULL */
  size_t slot;
  iotkit_fleet_result_t res; /* ready ones: the result to deliver */
} iotkit__fleet_cmd_t;

typedef struct iotkit__fleet_ctl {
  void *lock;         /* everything below */
  void *cond;         /* broadcast when a blocking call's result is in (NULL: waiters sleep) */
  void *poll_lock;    /* one drive of the session at a time: iotkit_fleet_poll() and blocking calls */
  void *seal_lock;    /* sealing one at a time (the nonce counters in the HAL store) */
  void *desired_lock; /* one desired-state operation at a time: versions written and published in order */
  iotkit__fleet_cmd_t *pending;                /* sent, waiting for a response */
  iotkit__fleet_cmd_t *ready, *ready_tail;     /* results for callbacks, delivered by the driver */
  char prefix[16];    /* "<8 hex>-": this fleet's request ids */
  uint64_t seq;
  iotkit_fleet_control_stats_t stats;
} iotkit__fleet_ctl_t;

/* control.c */
iotkit_err_t iotkit__fleet_control_init(iotkit_fleet_t *fleet);
/* Drops pending commands without callbacks. */
void iotkit__fleet_control_free(iotkit_fleet_t *fleet);
/* The driver (polling thread): expire commands past their deadline and deliver ready results. */
void iotkit__fleet_control_tick(iotkit_fleet_t *fleet);
/* ms until the earliest command deadline (0 if a result is ready), -1 if none. */
int64_t iotkit__fleet_control_next_ms(iotkit_fleet_t *fleet);
/* iotkit_fleet_poll(): one drive of the session at a time. */
void iotkit__fleet_poll_enter(iotkit_fleet_t *fleet);
void iotkit__fleet_poll_leave(iotkit_fleet_t *fleet);
void iotkit__fleet_ctl_count(iotkit_fleet_t *fleet, uint64_t *counter);
/* The ids a target names (validated, resolved; malloc'd array of malloc'd strings). */
iotkit_err_t iotkit__fleet_target_ids(iotkit_fleet_t *fleet, const iotkit_fleet_target_t *target, char ***ids,
                                      size_t *n);
void iotkit__fleet_ids_free(char **ids, size_t n);
/* A results array of @p n entries, each with device_id set and err IOTKIT_OK. */
iotkit_err_t iotkit__fleet_results_new(char *const *ids, size_t n, iotkit_fleet_results_t **out);
void iotkit__fleet_result_clear(iotkit_fleet_result_t *r);
/* A JSON object argument: IOTKIT_OK, TOO_LARGE, BAD_ENCODING, INVALID_ARG. */
iotkit_err_t iotkit__fleet_json_object_check(const char *json);
/* Is the device registered (NOT_FOUND) and online (OFFLINE)? */
iotkit_err_t iotkit__fleet_reachable(iotkit_fleet_t *fleet, const char *id, bool need_online);
/* Publish @p payload on "<prefix>/<id>/<suffix>" (sealed for a device with a key). */
iotkit_err_t iotkit__fleet_publish(iotkit_fleet_t *fleet, const char *id, const char *suffix, const char *payload,
                                   bool retain);

/* command.c: a response from a registered device. */
void iotkit__fleet_response_in(iotkit_fleet_t *fleet, const char *id, const void *payload, size_t len);

/* e2e.c */
/*
 * An incoming message on @p suffix of device @p id: IOTKIT_OK with *plain NULL
 * (use the message as it is) or a malloc'd plaintext in *plain / *plain_len;
 * any other code: drop it (counted and logged here).
 */
iotkit_err_t iotkit__fleet_e2e_in(iotkit_fleet_t *fleet, const char *id, const char *suffix, const void *payload,
                                  size_t len, void **plain, size_t *plain_len);
/* Seal @p len bytes for @p suffix of device @p id: IOTKIT_OK with *out NULL when the device
   has no key (send it plain), or a malloc'd envelope. */
iotkit_err_t iotkit__fleet_e2e_seal(iotkit_fleet_t *fleet, const char *id, const char *suffix, const void *pt,
                                    size_t len, void **out, size_t *out_len);

#endif
