/* The device's position, reported on its "location" channel (docs/protocol.md, "Location"). */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "device/device_internal.h"
#include "iotkit/protocol.h"

iotkit_err_t iotkit_device_report_location(iotkit_device_t *dev, const iotkit_location_t *loc) {
  if (!dev || iotkit_location_check(loc) != IOTKIT_OK) return IOTKIT_ERR_INVALID_ARG;
  iotkit_location_t l = *loc;
  if (l.ts_ms == 0) l.ts_ms = dev->hal->wall_ms(dev->hal->ctx);
  char *json = NULL;
  iotkit_err_t err = iotkit_protocol_location_build(&l, &json);
  if (err != IOTKIT_OK) return err;
  char *channel = iotkit__device_channel(dev, iotkit_channel_name(IOTKIT_CHANNEL_LOCATION));
  /* Retained, like the status and the reported state: the latest position is what a
     fleet that connects later wants first. */
  err = channel ? iotkit__device_send_own(dev, channel, json, true) : IOTKIT_ERR_NOMEM;
  free(channel);
  free(json);
  return err;
}
