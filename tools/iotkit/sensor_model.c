/* A simulated sensor driven by the HAL's random source. */
#include <stdint.h>

#include "sensor_model.h"

#define TEMP_MEAN 21.5
#define HUMIDITY_MEAN 45.0

/* Uniform in [-0.5, 0.5). */
static iotkit_err_t noise(const iotkit_hal_t *hal, double *out) {
  uint32_t r;
  iotkit_err_t err = hal->random(hal->ctx, &r, sizeof(r));
  if (err == IOTKIT_OK) *out = (double)r / 4294967296.0 - 0.5;
  return err;
}

static double clamp(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

iotkit_err_t sensor_model_init(sensor_model_t *m, const iotkit_hal_t *hal) {
  double a = 0, b = 0;
  iotkit_err_t err = noise(hal, &a);
  if (err == IOTKIT_OK) err = noise(hal, &b);
  if (err != IOTKIT_OK) return err;
  m->hal = hal;
  m->temperature = TEMP_MEAN + 2.0 * a;
  m->humidity = HUMIDITY_MEAN + 10.0 * b;
  return IOTKIT_OK;
}

iotkit_err_t sensor_model_step(sensor_model_t *m) {
  double a = 0, b = 0;
  iotkit_err_t err = noise(m->hal, &a);
  if (err == IOTKIT_OK) err = noise(m->hal, &b);
  if (err != IOTKIT_OK) return err;
  /* A small random step plus a pull towards the mean keeps the walk smooth and bounded. */
  m->temperature = clamp(m->temperature + 0.4 * a + 0.05 * (TEMP_MEAN - m->temperature), -40.0, 85.0);
  m->humidity = clamp(m->humidity + 1.0 * b + 0.05 * (HUMIDITY_MEAN - m->humidity), 0.0, 100.0);
  return IOTKIT_OK;
}
