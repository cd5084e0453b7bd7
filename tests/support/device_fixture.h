/* Shared set-up for device tests: a memory HAL and a filled device config. */
#ifndef IOTKIT_DEVICE_FIXTURE_H
#define IOTKIT_DEVICE_FIXTURE_H

#include <stdatomic.h>
#include <stdbool.h>

#include "iotkit/iotkit.h"

typedef struct device_fixture {
  iotkit_hal_t *hal;          /* memory HAL (real clock, pthreads) */
  iotkit_device_config_t cfg; /* device_id "dev-1", the given uri, the memory HAL */
} device_fixture_t;

/* Fill @p f for @p uri; asserts on failure. */
void device_fixture_init(device_fixture_t *f, const char *uri);

/* Create a device from f->cfg and connect it; asserts on failure. */
iotkit_device_t *device_fixture_connect(device_fixture_t *f);

/* Poll @p dev until @p done(arg) or @p budget_ms passes (the device must not run its own loop;
   with @p dev NULL it only sleeps between checks). Returns done(arg). */
bool device_fixture_wait(device_fixture_t *f, iotkit_device_t *dev, bool (*done)(void *arg), void *arg,
                         unsigned budget_ms);

/* True if the device's last error contains @p needle. */
bool device_fixture_error_has(const iotkit_device_t *dev, const char *needle);

/* Counters moved by the callbacks below (from any thread). */
typedef struct device_counts {
  atomic_int delivered, failed, ups, downs;
  int want; /* for device_counts_settled() */
} device_counts_t;

/* Callbacks that count into the device_counts_t given as user pointer. */
void device_counts_on_delivery(iotkit_device_t *dev, void *user, uint32_t msg_id, iotkit_err_t status);
void device_counts_on_connection(iotkit_device_t *dev, void *user, bool up, iotkit_err_t reason,
                                 const char *detail);

/* True once delivered + failed >= want (arg: device_counts_t *), for device_fixture_wait(). */
bool device_counts_settled(void *arg);

/* Send @p per_thread telemetry messages from each of @p threads new threads; asserts every send succeeds. */
void device_fixture_send_from_threads(iotkit_device_t *dev, int threads, int per_thread);

/* Release the HAL. */
void device_fixture_fini(device_fixture_t *f);

#endif
