/* Online status, the last will, and events. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "device/device_internal.h"
#include "device/device_json.h"
#include "iotkit/protocol.h"
#include "protocol/documents.h"

/* Published by the server if the connection is lost without a goodbye. It has no
   time: it is fixed when the session starts. */
const char iotkit__device_will_json[] = "{\"status\":\"offline\",\"reason\":\"connection_lost\"}";

static int64_t wall_ms(const iotkit_device_t *dev) { return dev->hal->wall_ms(dev->hal->ctx); }

char *iotkit__device_status_json(const iotkit_device_t *dev, bool online) {
  char *json = NULL;
  (void)iotkit_protocol_status_build(online, online ? NULL : "disconnect", wall_ms(dev), &json);
  return json;
}

void iotkit__device_say_offline(iotkit_device_t *dev) {
  char *json = iotkit__device_status_json(dev, false);
  if (json && iotkit__device_send_own(dev, dev->status_channel, json, true) != IOTKIT_OK)
    iotkit_hal_logf(dev->hal, IOTKIT_LOG_WARN, "device %s: could not publish the offline status", dev->device_id);
  free(json);
}

iotkit_err_t iotkit_device_event(iotkit_device_t *dev, const char *type, const char *data_json, uint32_t *msg_id) {
  /* type is a safe name, so it needs no JSON escaping and is one channel segment. */
  if (!dev || !iotkit_protocol_name_valid(type)) return IOTKIT_ERR_INVALID_ARG;
  cJSON *data = NULL;
  iotkit_err_t err = (iotkit_err_t)iotkit__json_from_api(data_json, &data);
  if (err != IOTKIT_OK) return err;
  char *json = iotkit__event_json(type, wall_ms(dev), data);
  cJSON_Delete(data);
  if (!json) return IOTKIT_ERR_NOMEM;
  char suffix[IOTKIT_MAX_NAME + 8];
  iotkit__fmt(suffix, sizeof(suffix), "%s/%s", iotkit_channel_name(IOTKIT_CHANNEL_EVENTS), type);
  err = iotkit_device_publish(dev, suffix, json, strlen(json), 1, false, msg_id);
  free(json);
  return err;
}
