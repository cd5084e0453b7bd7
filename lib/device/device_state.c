/* Reported state (merged and re-sent) and desired state (deltas, versions,
   persisted through the HAL key-value store). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "device/device_internal.h"
#include "device/device_json.h"
#include "protocol/documents.h"

/* ------------------------------------------------------------ reported -- */

/* {"state":S,"ts":N}; the lock is held. */
static char *reported_json(const iotkit_device_t *dev) { return iotkit__reported_json(dev->reported, dev->reported_ts); }

void iotkit__device_state_resend(iotkit_device_t *dev) {
  dev->hal->mutex_lock(dev->hal->ctx, dev->report_lock);
  iotkit__device_lock(dev);
  char *json = dev->reported->child ? reported_json(dev) : NULL;
  iotkit__device_unlock(dev);
  if (json && iotkit__device_send_own(dev, dev->reported_channel, json, true) != IOTKIT_OK)
    iotkit_hal_logf(dev->hal, IOTKIT_LOG_WARN, "device %s: could not re-send the reported state", dev->device_id);
  dev->hal->mutex_unlock(dev->hal->ctx, dev->report_lock);
  free(json);
}

iotkit_err_t iotkit_device_report(iotkit_device_t *dev, const char *json) {
  if (!dev || !json) return IOTKIT_ERR_INVALID_ARG;
  cJSON *patch = iotkit__json_parse(json, strlen(json));
  if (!patch) return IOTKIT_ERR_BAD_ENCODING;
  if (!cJSON_IsObject(patch)) {
    cJSON_Delete(patch);
    return IOTKIT_ERR_INVALID_ARG;
  }
  /* report_lock makes merge and send one step, so that the last document
     published (and retained) is the newest. Patch a copy, so that a refused
     report leaves the document as it was. */
  dev->hal->mutex_lock(dev->hal->ctx, dev->report_lock);
  iotkit__device_lock(dev);
  cJSON *doc = cJSON_Duplicate(dev->reported, true);
  iotkit_err_t err = doc && iotkit__json_merge(doc, patch) ? IOTKIT_OK : IOTKIT_ERR_NOMEM;
  char *msg = NULL;
  if (err == IOTKIT_OK) {
    cJSON *old = dev->reported;
    int64_t old_ts = dev->reported_ts;
    dev->reported = doc;
    dev->reported_ts = dev->hal->wall_ms(dev->hal->ctx);
    msg = reported_json(dev);
    if (!msg || strlen(msg) > dev->max_payload) {
      err = msg ? IOTKIT_ERR_TOO_LARGE : IOTKIT_ERR_NOMEM;
      dev->reported = old;
      dev->reported_ts = old_ts;
      old = doc;
    }
    doc = NULL;
    cJSON_Delete(old);
  }
  iotkit__device_unlock(dev);
  cJSON_Delete(doc);
  cJSON_Delete(patch);
  if (err == IOTKIT_OK && iotkit_device_is_connected(dev)) err = iotkit__device_send_own(dev, dev->reported_channel, msg, true);
  dev->hal->mutex_unlock(dev->hal->ctx, dev->report_lock);
  free(msg);
  return err;
}

iotkit_err_t iotkit_device_reported(const iotkit_device_t *dev, char **out) {
  if (!dev || !out) return IOTKIT_ERR_INVALID_ARG;
  iotkit__device_lock(dev);
  char *text = iotkit__json_print(dev->reported);
  iotkit__device_unlock(dev);
  if (!text) return IOTKIT_ERR_NOMEM;
  char *copy = iotkit__strdup(text); /* released with iotkit_free (free), not cJSON_free */
  cJSON_free(text);
  if (!copy) return IOTKIT_ERR_NOMEM;
  *out = copy;
  return IOTKIT_OK;
}
