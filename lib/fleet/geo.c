/* Great-circle distance: pure arithmetic, so it is built with or without the fleet. */
#include <math.h>

#include "iotkit/fleet.h"

#define PI 3.14159265358979323846

/* Haversine: accurate to rounding at every distance, small ones included (unlike the
   spherical law of cosines). */
double iotkit_fleet_distance_m(double lat1, double lon1, double lat2, double lon2) {
  const double rad = PI / 180.0;
  double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
  double a = sin(dlat / 2) * sin(dlat / 2) + cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
  if (a > 1.0) a = 1.0;
  return 2.0 * IOTKIT_FLEET_EARTH_RADIUS_M * asin(sqrt(a));
}
