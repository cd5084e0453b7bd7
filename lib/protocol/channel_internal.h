/* Internal channel helpers of the protocol layer, for the transports. */
#ifndef IOTKIT__PROTOCOL_CHANNEL_INTERNAL_H
#define IOTKIT__PROTOCOL_CHANNEL_INTERNAL_H

#include <stdbool.h>

#include "iotkit/protocol.h"

/* True if the last levels of @p topic are the name of @p channel ("state/reported"
   ends "iotkit/v1/d/state/reported" and is "state/reported" itself, not "xstate/reported"). */
bool iotkit__channel_ends_with(const char *topic, iotkit_channel_t channel);

#endif
