/* Internal parts of the MQTT backend on libmosquitto shared by its files. */
#ifndef IOTKIT__TRANSPORT_MQTT_MOSQUITTO_H
#define IOTKIT__TRANSPORT_MQTT_MOSQUITTO_H

#include <mosquitto.h>

#include "transport/common.h"

/* Trusted CA directory when a secure endpoint names no CA (a port may override). */
#ifndef IOTKIT_TLS_SYSTEM_CA_DIR
#define IOTKIT_TLS_SYSTEM_CA_DIR "/etc/ssl/certs"
#endif

/* Apply the TLS options of @p cfg to @p mosq (secure schemes only). On failure
   @p err receives a detail line. */
iotkit_err_t iotkit__transport_mqtt_tls_apply(struct mosquitto *mosq, const iotkit_transport_config_t *cfg,
                                              char *err, size_t cap);

#endif
