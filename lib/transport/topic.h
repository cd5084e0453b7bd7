/* MQTT topic filters for the transports: thin wrappers over the public protocol
   layer (iotkit/protocol.h), kept so that the backends' internal names stay. */
#ifndef IOTKIT__TRANSPORT_TOPIC_H
#define IOTKIT__TRANSPORT_TOPIC_H

#include <stdbool.h>

#include "iotkit/protocol.h"

/* iotkit_topic_filter_valid(). */
static inline bool iotkit__topic_filter_valid(const char *filter) { return iotkit_topic_filter_valid(filter); }

/* iotkit_topic_name_valid(). */
static inline bool iotkit__topic_name_valid(const char *topic) { return iotkit_topic_name_valid(topic); }

/* iotkit_topic_match(). */
static inline bool iotkit__topic_match(const char *filter, const char *topic) {
  return iotkit_topic_match(filter, topic);
}

#endif
