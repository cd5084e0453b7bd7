/* The retained cloud -> device channels: state/desired and ota/manifest. The
 * hub subscribes to <prefix>/+/<channel> and keeps, per device, the latest
 * document of each (what the broker retains), served by the CoAP front
 * (GET + Observe) and the HTTP front (long poll with an ETag). */
#include <stdlib.h>
#include <string.h>

#include "hub.h"

static const struct {
  iotkit_channel_t channel;
  size_t max; /* largest document kept, or 0: no limit of its own */
} k_retained[HUB_RET_COUNT] = {
    [HUB_RET_DESIRED] = {IOTKIT_CHANNEL_STATE_DESIRED, 0},
    [HUB_RET_MANIFEST] = {IOTKIT_CHANNEL_OTA_MANIFEST, HUB_OTA_MANIFEST_MAX},
};

int hub_retained_find(const char *name) {
  for (int i = 0; i < HUB_RET_COUNT; i++) {
    if (strcmp(name, iotkit_channel_name(k_retained[i].channel)) == 0) return i;
  }
  return -1;
}

const char *hub_retained_name(hub_ret_t which) { return iotkit_channel_name(k_retained[which].channel); }

void hub_device_set_retained(hub_t *hub, hub_device_t *dev, hub_ret_t which, const void *doc, size_t len) {
  hub_retained_t *r = &dev->retained[which];
  const char *name = hub_retained_name(which);
  size_t max = k_retained[which].max;
  if (max && len > max) {
    /* The broker now retains this one: forget the one before, as a device
       connecting to the broker would never see it either. */
    hub_log(HUB_LOG_WARN, "device %s: %s from MQTT of %zu bytes is larger than %zu bytes: dropped%s", dev->id, name,
            len, max, r->len ? " (and the one kept before forgotten)" : "");
    len = 0;
  }
  char *copy = malloc(len ? len : 1);
  if (!copy) {
    hub_log(HUB_LOG_ERROR, "device %s: out of memory for its %s", dev->id, name);
    return;
  }
  if (len) memcpy(copy, doc, len);
  free(r->doc);
  r->doc = copy;
  r->len = len;
  r->seq++;
  hub_log(HUB_LOG_INFO, "device %s: %s from MQTT (%zu bytes): notifying its observers", dev->id, name, len);
  hub_coap_notify(hub, r->res);
  hub_http_wake(hub, dev);
}

void hub_device_clear_retained(hub_device_t *dev) {
  for (int i = 0; i < HUB_RET_COUNT; i++) {
    free(dev->retained[i].doc);
    dev->retained[i].doc = NULL;
    dev->retained[i].len = 0;
  }
}
