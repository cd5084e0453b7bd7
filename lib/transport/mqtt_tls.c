/* TLS options of the MQTT backend (scheme mqtts). */
#include "transport/mqtt_mosquitto.h"

#include "core/util.h"

iotkit_err_t iotkit__transport_mqtt_tls_apply(struct mosquitto *mosq, const iotkit_transport_config_t *cfg,
                                              char *err, size_t cap) {
  const iotkit_tls_config_t *tls = &cfg->tls;
  if ((tls->cert_file == NULL) != (tls->key_file == NULL)) {
    iotkit__fmt(err, cap, "mqtt: TLS client certificate and key must be given together");
    return IOTKIT_ERR_INVALID_ARG;
  }
  /* No CA given: trust the system store rather than nothing. Not through
     MOSQ_OPT_TLS_USE_OS_CERTS: libmosquitto 2.0.11 then fails every reconnect
     with MOSQ_ERR_INVAL. */
  const char *ca_dir = tls->ca_file || tls->ca_dir ? tls->ca_dir : IOTKIT_TLS_SYSTEM_CA_DIR;
  int rc = mosquitto_tls_set(mosq, tls->ca_file, ca_dir, tls->cert_file, tls->key_file, NULL);
  if (rc == MOSQ_ERR_SUCCESS && !tls->verify_peer) {
    /* 0 is SSL_VERIFY_NONE: no chain check; insecure_set drops the host name check. */
    rc = mosquitto_tls_opts_set(mosq, 0, NULL, NULL);
    if (rc == MOSQ_ERR_SUCCESS) rc = mosquitto_tls_insecure_set(mosq, true);
  }
  if (rc != MOSQ_ERR_SUCCESS) {
    iotkit__fmt(err, cap, "mqtt: TLS setup failed (CA '%s', CA dir '%s', certificate '%s'): %s",
                tls->ca_file ? tls->ca_file : "-", ca_dir ? ca_dir : "-",
                tls->cert_file ? tls->cert_file : "-", mosquitto_strerror(rc));
    return IOTKIT_ERR_TLS;
  }
  return IOTKIT_OK;
}
