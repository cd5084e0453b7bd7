/* iotkit_fleet_history(): a metric's telemetry history, raw or downsampled, from the database. */
#include "core/util.h"
#include "fleet/fleet_internal.h"
#include "fleet/registry.h"
#include "telemetry/telemetry_internal.h"

iotkit_err_t iotkit_fleet_history(iotkit_fleet_t *f, const char *id, const char *metric, int64_t t1, int64_t t2,
                                  int64_t bucket_ms, iotkit_fleet_sample_t **out, size_t *count) {
  if (!f || !out || !count) return IOTKIT_ERR_INVALID_ARG;
  if (!iotkit__fleet_id_ok(id) || !metric || !iotkit__telemetry_name_ok(metric) || t1 > t2 || bucket_ms < 0) {
    iotkit__fleet_set_error(f, "history: a bad device id, metric name, time range or bucket width");
    return IOTKIT_ERR_INVALID_ARG;
  }
  iotkit__fleet_lock(f);
  bool known = iotkit__fleet_view_find(&f->view, id) != NULL;
  iotkit__fleet_unlock(f);
  if (!known) {
    iotkit__fleet_set_error(f, "no device %s", id);
    return IOTKIT_ERR_NOT_FOUND;
  }
  if (!f->tel_history_max) {
    iotkit__fleet_set_error(f, "the fleet keeps no telemetry history (history_max_points is 0)");
    return IOTKIT_ERR_UNSUPPORTED;
  }
  iotkit_err_t rc = iotkit__fleet_settle(f);
  if (rc != IOTKIT_OK) return rc;
  char err[IOTKIT_ERROR_TEXT_SIZE] = "";
  rc = f->store_ops->history(f->store, id, metric, t1, t2, bucket_ms, out, count, err, sizeof err);
  if (rc != IOTKIT_OK) iotkit__fleet_set_error(f, "%s", err);
  return rc;
}
