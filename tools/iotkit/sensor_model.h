/* A simulated temperature/humidity sensor: a smooth, bounded random walk. */
#ifndef IOTKIT_CLI_SENSOR_MODEL_H
#define IOTKIT_CLI_SENSOR_MODEL_H

#include <iotkit/iotkit.h>

typedef struct sensor_model {
  const iotkit_hal_t *hal; /* random source */
  double temperature;      /* degrees Celsius */
  double humidity;         /* percent relative humidity */
} sensor_model_t;

/* Start near room conditions, with a random offset. */
iotkit_err_t sensor_model_init(sensor_model_t *m, const iotkit_hal_t *hal);

/* Move one step; readings drift back towards the start values. */
iotkit_err_t sensor_model_step(sensor_model_t *m);

#endif
