/* The MQTT backend with a switch that makes a device die like a crashed one:
 * once a client id is armed, its sends and its disconnect fail, so that
 * iotkit_device_free() drops the connection without the offline status and
 * without DISCONNECT, and the broker publishes the device's last will.
 *
 *   cfg.transports = crash_transport_registry();  // serves "mqtt"
 *   ... iotkit_device_new(&cfg, &dev); connect ...
 *   crash_transport_arm("dev-1"); iotkit_device_free(dev);   // last will follows
 */
#ifndef IOTKIT_TEST_CRASH_TRANSPORT_H
#define IOTKIT_TEST_CRASH_TRANSPORT_H

#include "iotkit/iotkit.h"

/* A registry (made once, never freed) whose "mqtt" backend is the wrapper. */
const iotkit_transport_registry_t *crash_transport_registry(void);

/* From now on the contexts of @p client_id refuse to send and to disconnect. */
void crash_transport_arm(const char *client_id);

#endif
