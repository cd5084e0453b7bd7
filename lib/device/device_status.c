/* Online status, the last will, and events. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "device/device_internal.h"
#include "device/device_json.h"

/* Published by the server if the connection is lost without a goodbye. It has no
   time: it is fixed when the session starts. */
const char iotkit__device_will_json[] = "{\"status\":\"offline\",\"reason\":\"connection_lost\"}";

static int64_t wall_ms(const iotkit_device_t *dev) { return dev->hal->wall_ms(dev->hal->ctx); }

char *iotkit__device_status_json(const iotkit_device_t *dev, bool online) {
  char buf[96];
  if (online)
    iotkit__fmt(buf, sizeof(buf), "{\"status\":\"online\",\"ts\":%" PRId64 "}", wall_ms(dev));
  else
    iotkit__fmt(buf, sizeof(buf), "{\"status\":\"offline\",\"reason\":\"disconnect\",\"ts\":%" PRId64 "}",
                wall_ms(dev));
  return iotkit__strdup(buf);
}

void iotkit__device_say_offline(iotkit_device_t *dev) {
  char *json = iotkit__device_status_json(dev, false);
  if (json && iotkit__device_send_own(dev, dev->status_channel, json, true) != IOTKIT_OK)
    iotkit_hal_logf(dev->hal, IOTKIT_LOG_WARN, "device %s: could not publish the offline status", dev->device_id);
  free(json);
}

/* {"type":T,"ts":N,"data":D}, built by hand so that the key order is the documented one. */
static char *event_json(const iotkit_device_t *dev, const char *type, const cJSON *data) {
  char *d = iotkit__json_print(data);
  if (!d) return NULL;
  char head[IOTKIT_MAX_NAME + 64];
  iotkit__fmt(head, sizeof(head), "{\"type\":\"%s\",\"ts\":%" PRId64 ",\"data\":", type, wall_ms(dev));
  size_t a = strlen(head), b = strlen(d);
  char *out = malloc(a + b + 2);
  if (out) {
    memcpy(out, head, a);
    memcpy(out + a, d, b);
    out[a + b] = '}';
    out[a + b + 1] = '\0';
  }
  cJSON_free(d);
  return out;
}

iotkit_err_t iotkit_device_event(iotkit_device_t *dev, const char *type, const char *data_json, uint32_t *msg_id) {
  /* type is a safe name, so it needs no JSON escaping and is one channel segment. */
  if (!dev || !iotkit__is_safe_name(type, IOTKIT_MAX_NAME)) return IOTKIT_ERR_INVALID_ARG;
  cJSON *data = NULL;
  iotkit_err_t err = (iotkit_err_t)iotkit__json_from_api(data_json, &data);
  if (err != IOTKIT_OK) return err;
  char *json = event_json(dev, type, data);
  cJSON_Delete(data);
  if (!json) return IOTKIT_ERR_NOMEM;
  char suffix[IOTKIT_MAX_NAME + 8];
  iotkit__fmt(suffix, sizeof(suffix), "events/%s", type);
  err = iotkit_device_publish(dev, suffix, json, strlen(json), 1, false, msg_id);
  free(json);
  return err;
}
