/* Shared set-up for device tests: a memory HAL and a filled device config. */
#ifndef IOTKIT_DEVICE_FIXTURE_H
#define IOTKIT_DEVICE_FIXTURE_H

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

/* Release the HAL. */
void device_fixture_fini(device_fixture_t *f);

#endif
