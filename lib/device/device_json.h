/* JSON helpers of the device model: they live in the protocol layer
   (lib/protocol/json.h), shared with the public documents of iotkit/protocol.h. */
#ifndef IOTKIT__DEVICE_JSON_H
#define IOTKIT__DEVICE_JSON_H

#include "protocol/json.h"

#endif
