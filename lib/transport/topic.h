/* MQTT topic filters, shared by the transports and the device layer. */
#ifndef IOTKIT__TRANSPORT_TOPIC_H
#define IOTKIT__TRANSPORT_TOPIC_H

#include <stdbool.h>

/* True if @p filter is a valid MQTT subscription filter: non-empty, '+' fills a
   whole level, '#' fills a whole level and is the last one. */
bool iotkit__topic_filter_valid(const char *filter);

/* True if @p topic is a valid topic to publish on: non-empty, no wildcards. */
bool iotkit__topic_name_valid(const char *topic);

/* True if @p topic matches @p filter by MQTT rules ('+' one level, '#' the rest,
   including the parent level; topics starting with '$' are not matched by a
   leading wildcard). False for NULL or invalid arguments. */
bool iotkit__topic_match(const char *filter, const char *topic);

#endif
