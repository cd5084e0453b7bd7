/* Waiting for a particular message in what an mqtt_peer received. */
#ifndef IOTKIT_TEST_PEER_WAIT_H
#define IOTKIT_TEST_PEER_WAIT_H

#include <stddef.h>

#include "mqtt_peer.h"

/* The first message from index @p from on @p topic whose payload contains @p needle
   (NULL: any), waiting up to @p timeout_ms; NULL if none came. *index (may be NULL)
   receives its index. */
const mqtt_peer_msg_t *peer_wait_for(mqtt_peer_t *p, size_t from, const char *topic, const char *needle,
                                     int timeout_ms, size_t *index);

/* The first message on @p topic from index @p from, waiting up to @p timeout_ms. */
const mqtt_peer_msg_t *peer_next_on(mqtt_peer_t *p, size_t from, const char *topic, int timeout_ms);

#endif
