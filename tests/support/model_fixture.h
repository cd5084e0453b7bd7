/* Shared set-up for device-model unit tests: a device "sensor-1" on the capture
   transport, with a memory HAL whose clock only moves when the test says so. */
#ifndef IOTKIT_MODEL_FIXTURE_H
#define IOTKIT_MODEL_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

#include "capture_transport.h"
#include "iotkit/iotkit.h"

typedef struct model_fixture {
  iotkit_hal_t *hal;          /* memory HAL, manual clock */
  iotkit_device_config_t cfg; /* "sensor-1" on cap://local */
  iotkit_device_t *dev;       /* made by model_fixture_connect() */
} model_fixture_t;

/* Fill @p f (asserts on failure). */
void model_fixture_init(model_fixture_t *f);
/* Create f->dev from f->cfg and connect it (asserts). */
iotkit_device_t *model_fixture_connect(model_fixture_t *f);
/* Poll f->dev a few times (the capture delivers on poll). */
void model_fixture_pump(model_fixture_t *f);
/* Move the manual clock. */
void model_fixture_advance(model_fixture_t *f, uint64_t ms);
/* Inject @p json on "iotkit/v1/sensor-1/<suffix>" and pump. */
void model_fixture_inject(model_fixture_t *f, const char *suffix, const char *json);
/* Payload of the latest message on "iotkit/v1/sensor-1/<suffix>", or NULL. */
const char *model_fixture_last(const char *suffix);
/* Number of messages on "iotkit/v1/sensor-1/<suffix>". */
size_t model_fixture_count(const char *suffix);
/* True if the memory HAL's log contains @p needle. */
bool model_fixture_log_has(model_fixture_t *f, const char *needle);
/* Free the device (if any) and the HAL. */
void model_fixture_fini(model_fixture_t *f);

#endif
