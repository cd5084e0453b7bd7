/* fleet_monitor.h, continued: telemetry history, locations (latest, track,
 * within a radius) and the location callback. iotkit_location_t is
 * protocol.h's (also used by iotkit_device_report_location()). */
typedef struct iotkit_location {
  double latitude;
  double longitude;
  double altitude;
  double accuracy_m;
  int64_t ts_ms;
  bool has_altitude;
  bool has_accuracy;
  ...;
} iotkit_location_t;

iotkit_err_t iotkit_device_report_location(iotkit_device_t *dev, const iotkit_location_t *loc);

typedef struct iotkit_fleet_sample {
  int64_t ts_ms;
  double min;
  double max;
  double mean;
  uint64_t count;
  ...;
} iotkit_fleet_sample_t;

iotkit_err_t iotkit_fleet_history(iotkit_fleet_t *fleet, const char *device_id, const char *metric,
                                  int64_t t1_ms, int64_t t2_ms, int64_t bucket_ms,
                                  iotkit_fleet_sample_t **out, size_t *count);
iotkit_err_t iotkit_fleet_locate(iotkit_fleet_t *fleet, const char *device_id, iotkit_location_t *out);
iotkit_err_t iotkit_fleet_track(iotkit_fleet_t *fleet, const char *device_id, int64_t t1_ms,
                                int64_t t2_ms, iotkit_location_t **out, size_t *count);

typedef struct iotkit_fleet_near {
  char device_id[...];
  double distance_m;
  iotkit_location_t location;
  ...;
} iotkit_fleet_near_t;

iotkit_err_t iotkit_fleet_within(iotkit_fleet_t *fleet, double lat, double lon, double radius_m,
                                 iotkit_fleet_near_t **out, size_t *count);
double iotkit_fleet_distance_m(double lat1, double lon1, double lat2, double lon2);

typedef void (*iotkit_fleet_location_cb)(iotkit_fleet_t *fleet, void *user, const char *device_id,
                                         const iotkit_location_t *location);
iotkit_err_t iotkit_fleet_on_location(iotkit_fleet_t *fleet, iotkit_fleet_location_cb cb, void *user);
extern "Python" void _iotkit_pyfleet_location(iotkit_fleet_t *, void *, const char *, const iotkit_location_t *);
