/* iotkit device simulate --location LAT,LON: a device that moves a little around
   a starting point and reports its position on the location channel. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "device_sim.h"

#define STEP_DEG 0.00005 /* at most about 5 m per reading in each direction */
#define PULL 0.05        /* drift back towards the start, as the sensor model does */

bool sim_location_parse(sim_t *s, const char *text) {
  char *end = NULL;
  double lat = strtod(text, &end);
  if (end == text || *end != ',') goto bad;
  const char *lon_text = end + 1;
  double lon = strtod(lon_text, &end);
  if (end == lon_text || *end != '\0') goto bad;
  iotkit_location_t loc = {.latitude = lat, .longitude = lon};
  if (iotkit_location_check(&loc) != IOTKIT_OK) goto bad;
  s->has_location = true;
  s->lat0 = s->lat = lat;
  s->lon0 = s->lon = lon;
  return true;
bad:
  (void)cli_usage_error("device simulate: --location wants LAT,LON in degrees (-90..90,-180..180), not '%s'", text);
  return false;
}

/* Uniform in [-0.5, 0.5) from the HAL's random source. */
static double noise(const iotkit_hal_t *hal) {
  uint32_t r = 0;
  if (hal->random(hal->ctx, &r, sizeof(r)) != IOTKIT_OK) return 0.0;
  return (double)r / 4294967296.0 - 0.5;
}

void sim_location_step(sim_t *s, bool first) {
  if (!s->has_location || !iotkit_device_is_connected(s->dev)) return;
  if (!first) {
    const iotkit_hal_t *hal = iotkit_device_hal(s->dev);
    s->lat += 2.0 * STEP_DEG * noise(hal) + PULL * (s->lat0 - s->lat);
    s->lon += 2.0 * STEP_DEG * noise(hal) + PULL * (s->lon0 - s->lon);
  }
  iotkit_location_t loc = {.latitude = s->lat, .longitude = s->lon, .accuracy_m = 5.0, .has_accuracy = true};
  iotkit_err_t err = iotkit_device_report_location(s->dev, &loc);
  if (err != IOTKIT_OK) sim_report_error(s, err);
}
