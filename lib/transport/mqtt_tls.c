/* TLS of the MQTT backend (scheme mqtts): checking and applying the options,
 * and naming the cause when a handshake fails.
 *
 * libmosquitto does the handshake and says why it failed only through its log
 * callback ("Error: host name verification failed.", "OpenSSL Error[0]:
 * error:0A000086:SSL routines::certificate verify failed"). The backend
 * routes that log to the HAL and keeps those lines as the cause, so that the
 * transport needs no OpenSSL call of its own (only lib/crypto touches OpenSSL).
 */
#include "transport/mqtt_mosquitto.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"

/* A file the TLS options name must be readable now: libmosquitto would only
   say "invalid arguments" without naming it. */
static bool readable(const char *what, const char *path, char *err, size_t cap) {
  FILE *f = fopen(path, "rb");
  if (f) {
    (void)getc(f); /* a directory opens, but does not read */
    bool ok = !ferror(f);
    int saved = errno;
    fclose(f);
    if (ok) return true;
    errno = saved;
  }
  iotkit__fmt(err, cap, "mqtt: TLS %s '%s' cannot be read: %s", what, path, strerror(errno));
  return false;
}

static bool dir_readable(const char *path, char *err, size_t cap) {
  DIR *d = opendir(path);
  if (d) {
    closedir(d);
    return true;
  }
  iotkit__fmt(err, cap, "mqtt: TLS CA directory '%s' cannot be read: %s", path, strerror(errno));
  return false;
}

iotkit_err_t iotkit__transport_mqtt_tls_apply(struct mosquitto *mosq, const iotkit_transport_config_t *cfg,
                                              char *err, size_t cap) {
  const iotkit_tls_config_t *tls = &cfg->tls;
  if ((tls->cert_file == NULL) != (tls->key_file == NULL)) {
    iotkit__fmt(err, cap, "mqtt: TLS client %s given without its %s: mutual TLS needs both",
                tls->cert_file ? "certificate" : "key", tls->cert_file ? "key" : "certificate");
    return IOTKIT_ERR_INVALID_ARG;
  }
  if ((tls->ca_file && !readable("CA file", tls->ca_file, err, cap)) ||
      (tls->ca_dir && !dir_readable(tls->ca_dir, err, cap)) ||
      (tls->cert_file && !readable("client certificate", tls->cert_file, err, cap)) ||
      (tls->key_file && !readable("client key", tls->key_file, err, cap))) {
    return IOTKIT_ERR_TLS;
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

/* The reason part of a libmosquitto error line, or NULL if the line is not
   about TLS. "OpenSSL Error[0]: error:0A000086:SSL routines::certificate
   verify failed" gives "certificate verify failed". */
static const char *tls_reason(const char *line, size_t *len) {
  const char *r = NULL;
  if (strncmp(line, "OpenSSL Error", 13) == 0) {
    r = strrchr(line, ':');
    r = r ? r + 1 : line;
  } else if (strstr(line, "host name verification failed") || strstr(line, "certificate/key are inconsistent") ||
             strstr(line, "Unable to load")) {
    r = strncmp(line, "Error: ", 7) == 0 ? line + 7 : line;
  }
  if (!r) return NULL;
  while (*r == ' ') r++;
  *len = strlen(r);
  while (*len > 0 && (r[*len - 1] == '.' || r[*len - 1] == ' ')) (*len)--;
  return *len ? r : NULL;
}

static void keep_cause(iotkit__mqtt_ctx_t *c, const char *reason, size_t len) {
  char one[IOTKIT__TRANSPORT_ERR_MAX];
  iotkit__fmt(one, sizeof one, "%.*s", (int)len, reason);
  iotkit__transport_lock_acquire(&c->lock);
  size_t used = strlen(c->tls_cause);
  /* libmosquitto prints the OpenSSL queue twice; keep each reason once */
  if (!strstr(c->tls_cause, one) && used + strlen(one) + 3 < sizeof c->tls_cause) {
    iotkit__fmt(c->tls_cause + used, sizeof c->tls_cause - used, "%s%s", used ? "; " : "", one);
  }
  iotkit__transport_lock_release(&c->lock);
}

void iotkit__transport_mqtt_on_log(struct mosquitto *mosq, void *obj, int level, const char *line) {
  (void)mosq;
  iotkit__mqtt_ctx_t *c = obj;
  if (!line) return;
  size_t len = 0;
  const char *reason = (level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING)) ? tls_reason(line, &len) : NULL;
  if (reason) keep_cause(c, reason, len);
  /* Our own lines say what matters at INFO and above; libmosquitto's are detail. */
  iotkit__transport_logf(c->hal, level == MOSQ_LOG_DEBUG ? IOTKIT_LOG_TRACE : IOTKIT_LOG_DEBUG,
                         "mqtt: libmosquitto: %s", line);
}

/* A TLS failure is one libmosquitto calls so, one it logged a TLS cause for,
   or a read that failed in the TLS layer (EPROTO): a server that requires a
   client certificate refuses it after the client's side of the handshake,
   and may close the socket before the client reads its alert. */
bool iotkit__transport_mqtt_tls_failure(iotkit__mqtt_ctx_t *c, int rc, int errnum, char *detail, size_t cap) {
  if (!c->secure) return false;
  char cause[IOTKIT__TRANSPORT_ERR_MAX];
  iotkit__transport_lock_acquire(&c->lock);
  iotkit__fmt(cause, sizeof cause, "%s", c->tls_cause);
  iotkit__transport_lock_release(&c->lock);
  bool tls_rc = rc == MOSQ_ERR_TLS || rc == MOSQ_ERR_TLS_HANDSHAKE || (rc == MOSQ_ERR_ERRNO && errnum == EPROTO);
  /* A server that refuses the client certificate sends an alert and closes; if
     the client's CONNECT is still unread there, the close is a reset, which
     discards the alert before it is read: then only a reset while connecting is left. */
  bool reset_connecting = c->client_cert && rc == MOSQ_ERR_ERRNO && errnum == ECONNRESET &&
                          iotkit__transport_mqtt_state(c) == IOTKIT__MQTT_CONNECTING;
  if (!cause[0] && !tls_rc && !reset_connecting) return false;
  if (strstr(cause, "host name verification failed")) {
    iotkit__fmt(detail, cap, "mqtt: TLS with %s:%u failed: the server certificate does not name %s (%s)", c->host,
                c->port, c->host, cause);
  } else if (strstr(cause, "certificate required")) {
    iotkit__fmt(detail, cap, "mqtt: TLS with %s:%u failed: the server requires a client certificate (%s)", c->host,
                c->port, cause);
  } else if (!cause[0] && c->client_cert) {
    iotkit__fmt(detail, cap,
                "mqtt: TLS with %s:%u failed: the server ended the TLS session before CONNACK (%s); did it refuse "
                "the client certificate?", c->host, c->port,
                rc == MOSQ_ERR_ERRNO ? strerror(errnum) : mosquitto_strerror(rc));
  } else if (!cause[0]) {
    iotkit__fmt(detail, cap,
                "mqtt: TLS with %s:%u failed: the server ended the TLS session (%s); does it require a client "
                "certificate?", c->host, c->port, rc == MOSQ_ERR_ERRNO ? strerror(errnum) : mosquitto_strerror(rc));
  } else {
    iotkit__fmt(detail, cap, "mqtt: TLS with %s:%u failed: %s", c->host, c->port,
                cause[0] ? cause : rc == MOSQ_ERR_ERRNO ? strerror(errnum) : mosquitto_strerror(rc));
  }
  return true;
}

void iotkit__transport_mqtt_tls_cause_clear(iotkit__mqtt_ctx_t *c) {
  iotkit__transport_lock_acquire(&c->lock);
  c->tls_cause[0] = '\0';
  iotkit__transport_lock_release(&c->lock);
}
