/* Device handle: configuration, creation and release, callbacks, last error. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "device/device_internal.h"
#include "iotkit/protocol.h"

void iotkit_device_config_init(iotkit_device_config_t *cfg) {
  if (!cfg) return;
  memset(cfg, 0, sizeof(*cfg));
  cfg->struct_size = sizeof(*cfg);
  cfg->keepalive_s = IOTKIT_KEEPALIVE_DEFAULT_S;
  cfg->clean_session = true;
  cfg->mqtt_version = 311;
  cfg->connect_timeout_ms = IOTKIT_CONNECT_TIMEOUT_DEFAULT_MS;
  cfg->max_payload = IOTKIT_MAX_PAYLOAD_DEFAULT;
  cfg->topic_prefix = IOTKIT_TOPIC_PREFIX_DEFAULT;
  cfg->telemetry_qos = 1;
  cfg->tls.verify_peer = true;
  cfg->auto_reconnect = true;
  cfg->reconnect_min_ms = IOTKIT_RECONNECT_MIN_DEFAULT_MS;
  cfg->reconnect_max_ms = IOTKIT_RECONNECT_MAX_DEFAULT_MS;
  cfg->command_timeout_ms = IOTKIT_COMMAND_TIMEOUT_DEFAULT_MS;
  cfg->telemetry_durable = true;
  cfg->telemetry_full_policy = IOTKIT_TELEMETRY_DROP_OLDEST;
  cfg->telemetry_sync_policy = IOTKIT_TELEMETRY_SYNC_INTERVAL;
  cfg->telemetry_drain_rate = IOTKIT_TELEMETRY_DRAIN_RATE_DEFAULT;
}

/* ------------------------------------------------------------- locking -- */

/* Mutex operations are required HAL operations (iotkit_hal_validate checks them). */
void iotkit__device_lock(const iotkit_device_t *dev) { dev->hal->mutex_lock(dev->hal->ctx, dev->lock); }

void iotkit__device_unlock(const iotkit_device_t *dev) { dev->hal->mutex_unlock(dev->hal->ctx, dev->lock); }

void iotkit__device_send_lock(const iotkit_device_t *dev) { dev->hal->mutex_lock(dev->hal->ctx, dev->send_lock); }

void iotkit__device_send_unlock(const iotkit_device_t *dev) {
  dev->hal->mutex_unlock(dev->hal->ctx, dev->send_lock);
}

void iotkit__device_set_error(iotkit_device_t *dev, const char *fmt, ...) {
  char text[IOTKIT_ERROR_TEXT_SIZE];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(text, sizeof(text), fmt, ap);
  va_end(ap);
  if (n < 0) text[0] = '\0';
  iotkit__device_lock(dev);
  memcpy(dev->last_error, text, sizeof(text));
  iotkit__device_unlock(dev);
}

void iotkit__device_endpoint(const iotkit_device_t *dev, char *buf, size_t cap) {
  const char *host = dev->uri.host ? dev->uri.host : "";
  if (strchr(host, ':'))
    iotkit__fmt(buf, cap, "[%s]:%u", host, (unsigned)dev->uri.port);
  else
    iotkit__fmt(buf, cap, "%s:%u", host, (unsigned)dev->uri.port);
}

const char *iotkit__device_trim_detail(const iotkit_device_t *dev, const char *detail) {
  char ep[300];
  iotkit__device_endpoint(dev, ep, sizeof(ep));
  size_t n = strlen(ep);
  const char *at = strstr(detail, ep);
  /* "mqtt: cannot connect to 127.0.0.1:1: Connection refused" -> "Connection refused":
     our own text already names the endpoint. */
  if (at && at[n] == ':' && at[n + 1] == ' ' && at[n + 2]) return at + n + 2;
  return detail;
}

/* ------------------------------------------------------- create / free -- */

static void device_release(iotkit_device_t *dev) {
  iotkit__device_ota_free(dev);
  free(dev->device_id);
  free(dev->username);
  iotkit__free_secret(dev->password);
  free(dev->topic_prefix);
  free(dev->telemetry_channel);
  free(dev->status_channel);
  free(dev->reported_channel);
  free(dev->response_channel);
  free(dev->desired_channel);
  free(dev->request_channel);
  free(dev->channel_base);
  iotkit__device_commands_free(dev);
  iotkit__device_subs_free(dev);
  iotkit__device_state_free(dev);
  iotkit__device_e2e_free(dev);
  iotkit__device_telemetry_free(dev);
  iotkit__device_edge_free(dev);
  free(dev->ca_file);
  free(dev->ca_dir);
  free(dev->cert_file);
  free(dev->key_file);
  free(dev->psk_identity);
  iotkit__free_secret(dev->psk_key_hex);
  iotkit_uri_clear(&dev->uri);
  if (dev->hal) {
    if (dev->lock) dev->hal->mutex_free(dev->hal->ctx, dev->lock);
    if (dev->send_lock) dev->hal->mutex_free(dev->hal->ctx, dev->send_lock);
    if (dev->ids_lock) dev->hal->mutex_free(dev->hal->ctx, dev->ids_lock);
    if (dev->report_lock) dev->hal->mutex_free(dev->hal->ctx, dev->report_lock);
  }
  iotkit__device_dispatch_free(dev);
  iotkit_hal_free(dev->own_hal);
  iotkit__memzero(dev, sizeof(*dev));
  free(dev);
}

static iotkit_err_t check_config(const iotkit_device_config_t *cfg) {
  if (!iotkit__is_safe_name(cfg->device_id, IOTKIT_MAX_DEVICE_ID)) return IOTKIT_ERR_INVALID_ARG;
  if (!cfg->uri) return IOTKIT_ERR_INVALID_ARG;
  if (cfg->telemetry_qos < 0 || cfg->telemetry_qos > 2) return IOTKIT_ERR_INVALID_ARG;
  if (cfg->mqtt_version != 0 && cfg->mqtt_version != 311 && cfg->mqtt_version != 5) return IOTKIT_ERR_INVALID_ARG;
  if (cfg->topic_prefix && !iotkit__device_suffix_ok(cfg->topic_prefix, false)) return IOTKIT_ERR_INVALID_ARG;
  if (!cfg->hal && !cfg->state_dir) return IOTKIT_ERR_INVALID_ARG;
  return IOTKIT_OK;
}

/* Copy every string of the configuration; false on allocation failure. */
static bool copy_strings(iotkit_device_t *dev, const iotkit_device_config_t *cfg) {
  const char *user = cfg->username ? cfg->username : dev->uri.user;
  const char *pass = cfg->password ? cfg->password : dev->uri.password;
  const char *prefix = cfg->topic_prefix ? cfg->topic_prefix : IOTKIT_TOPIC_PREFIX_DEFAULT;
  const iotkit_tls_config_t *tls = &cfg->tls;
  dev->device_id = iotkit__strdup(cfg->device_id);
  dev->username = iotkit__strdup(user);
  dev->password = iotkit__strdup(pass);
  dev->topic_prefix = iotkit__strdup(prefix);
  dev->ca_file = iotkit__strdup(tls->ca_file);
  dev->ca_dir = iotkit__strdup(tls->ca_dir);
  dev->cert_file = iotkit__strdup(tls->cert_file);
  dev->key_file = iotkit__strdup(tls->key_file);
  dev->psk_identity = iotkit__strdup(tls->psk_identity);
  dev->psk_key_hex = iotkit__strdup(tls->psk_key_hex);
  if (!dev->device_id || !dev->topic_prefix || (user && !dev->username) || (pass && !dev->password) ||
      (tls->ca_file && !dev->ca_file) || (tls->ca_dir && !dev->ca_dir) || (tls->cert_file && !dev->cert_file) ||
      (tls->key_file && !dev->key_file) || (tls->psk_identity && !dev->psk_identity) ||
      (tls->psk_key_hex && !dev->psk_key_hex))
    return false;
  dev->telemetry_channel = iotkit__device_channel(dev, iotkit_channel_name(IOTKIT_CHANNEL_TELEMETRY));
  dev->status_channel = iotkit__device_channel(dev, iotkit_channel_name(IOTKIT_CHANNEL_STATUS));
  dev->reported_channel = iotkit__device_channel(dev, iotkit_channel_name(IOTKIT_CHANNEL_STATE_REPORTED));
  dev->desired_channel = iotkit__device_channel(dev, iotkit_channel_name(IOTKIT_CHANNEL_STATE_DESIRED));
  dev->response_channel = iotkit__device_channel(dev, iotkit_channel_name(IOTKIT_CHANNEL_COMMANDS_RESPONSE));
  dev->request_channel = iotkit__device_channel(dev, iotkit_channel_name(IOTKIT_CHANNEL_COMMANDS_REQUEST));
  dev->channel_base = iotkit__device_channel(dev, "");
  return dev->telemetry_channel && dev->status_channel && dev->reported_channel && dev->desired_channel &&
         dev->response_channel && dev->request_channel && dev->channel_base;
}

static iotkit_err_t setup_hal(iotkit_device_t *dev, const iotkit_device_config_t *cfg) {
  if (cfg->hal) {
    if (iotkit_hal_validate(cfg->hal) != IOTKIT_OK) return IOTKIT_ERR_INVALID_ARG;
    dev->hal = iotkit__hal_view(cfg->hal, &dev->hal_view);
  } else {
    iotkit_hal_posix_config_t pc;
    iotkit_hal_posix_config_init(&pc);
    pc.state_dir = cfg->state_dir;
    iotkit_err_t err = iotkit_hal_posix_new(&pc, &dev->own_hal);
    if (err != IOTKIT_OK) return err;
    dev->hal = dev->own_hal;
  }
  iotkit_err_t err = iotkit_hal_validate(dev->hal);
  if (err != IOTKIT_OK) return err;
  err = dev->hal->mutex_new(dev->hal->ctx, &dev->lock);
  if (err == IOTKIT_OK) err = dev->hal->mutex_new(dev->hal->ctx, &dev->send_lock);
  if (err == IOTKIT_OK) err = dev->hal->mutex_new(dev->hal->ctx, &dev->ids_lock);
  if (err == IOTKIT_OK) err = dev->hal->mutex_new(dev->hal->ctx, &dev->report_lock);
  if (err == IOTKIT_OK) err = iotkit__device_dispatch_init(dev);
  return err;
}

iotkit_err_t iotkit_device_new(const iotkit_device_config_t *user_cfg, iotkit_device_t **out) {
  if (!user_cfg || !out) return IOTKIT_ERR_INVALID_ARG;
  /* Only the prefix the caller knows is read; the rest keeps the defaults. */
  iotkit_device_config_t full;
  if (IOTKIT__STRUCT_IN(full, iotkit_device_config_init, user_cfg, IOTKIT__DEVICE_CONFIG) != IOTKIT_OK)
    return IOTKIT_ERR_INVALID_ARG;
  const iotkit_device_config_t *cfg = &full;
  iotkit_err_t err = check_config(cfg);
  if (err != IOTKIT_OK) return err;
  iotkit_device_t *dev = calloc(1, sizeof(*dev));
  if (!dev) return IOTKIT_ERR_NOMEM;
  err = iotkit_uri_parse(cfg->uri, &dev->uri);
  if (err == IOTKIT_OK) err = iotkit_transport_find(cfg->transports, dev->uri.scheme, &dev->ops);
  if (err == IOTKIT_OK && !copy_strings(dev, cfg)) err = IOTKIT_ERR_NOMEM;
  if (err == IOTKIT_OK) err = setup_hal(dev, cfg);
  if (err == IOTKIT_OK) err = iotkit__device_state_init(dev);
  if (err == IOTKIT_OK) err = iotkit__device_e2e_init(dev, cfg);
  if (err == IOTKIT_OK) err = iotkit__device_telemetry_init(dev, cfg);
  if (err != IOTKIT_OK) {
    device_release(dev);
    return err;
  }
  dev->verify_peer = cfg->tls.verify_peer;
  dev->keepalive_s = cfg->keepalive_s;
  dev->clean_session = cfg->clean_session;
  dev->mqtt_version = cfg->mqtt_version ? cfg->mqtt_version : 311;
  dev->connect_timeout_ms = cfg->connect_timeout_ms ? cfg->connect_timeout_ms : IOTKIT_CONNECT_TIMEOUT_DEFAULT_MS;
  dev->max_payload = cfg->max_payload ? cfg->max_payload : IOTKIT_MAX_PAYLOAD_DEFAULT;
  dev->telemetry_qos = cfg->telemetry_qos;
  dev->auto_reconnect = cfg->auto_reconnect;
  dev->reconnect_min_ms = cfg->reconnect_min_ms ? cfg->reconnect_min_ms : IOTKIT_RECONNECT_MIN_DEFAULT_MS;
  dev->reconnect_max_ms = cfg->reconnect_max_ms ? cfg->reconnect_max_ms : IOTKIT_RECONNECT_MAX_DEFAULT_MS;
  if (dev->reconnect_max_ms < dev->reconnect_min_ms) dev->reconnect_max_ms = dev->reconnect_min_ms;
  dev->command_timeout_ms = cfg->command_timeout_ms ? cfg->command_timeout_ms : IOTKIT_COMMAND_TIMEOUT_DEFAULT_MS;
  /* Last: restoring a persisted edge configuration reports its state. */
  err = iotkit__device_edge_init(dev);
  if (err != IOTKIT_OK) {
    device_release(dev);
    return err;
  }
  *out = dev;
  return IOTKIT_OK;
}

iotkit_err_t iotkit_device_free(iotkit_device_t *dev) {
  if (!dev) return IOTKIT_OK;
  /* The callback's caller still uses the device when the callback returns (and the
     loop thread cannot join itself): refuse before touching anything. */
  if (iotkit__device_in_callback(dev)) return IOTKIT_ERR_STATE;
  /* Order matters: no thread may poll while the transport goes away, and no
     user callback may run once free has started. */
  iotkit__device_loop_halt(dev);
  dev->closing = true;
  iotkit__device_goodbye(dev);
  iotkit__device_close_transport(dev);
  device_release(dev);
  return IOTKIT_OK;
}

/* ----------------------------------------------------------- callbacks -- */

/* The setters differ only in the callback's type and field. After the swap, the wait
   ends an in-flight call of the old callback on another thread (device_dispatch.c). */
#define IOTKIT__DEVICE_SETTER(fn, type, field)                     \
  iotkit_err_t fn(iotkit_device_t *dev, type cb, void *user) {     \
    if (!dev) return IOTKIT_ERR_INVALID_ARG;                       \
    iotkit__device_lock(dev);                                      \
    dev->field = cb;                                               \
    dev->field##_user = cb ? user : NULL;                          \
    iotkit__device_unlock(dev);                                    \
    iotkit__device_cb_wait(dev);                                   \
    return IOTKIT_OK;                                              \
  }

IOTKIT__DEVICE_SETTER(iotkit_device_on_connection, iotkit_connection_cb, on_connection)
IOTKIT__DEVICE_SETTER(iotkit_device_on_delivery, iotkit_delivery_cb, on_delivery)
IOTKIT__DEVICE_SETTER(iotkit_device_on_message, iotkit_message_cb, on_message)
IOTKIT__DEVICE_SETTER(iotkit_device_on_credentials, iotkit_credentials_cb, on_credentials)
IOTKIT__DEVICE_SETTER(iotkit_device_on_desired, iotkit_desired_cb, on_desired)
IOTKIT__DEVICE_SETTER(iotkit_device_on_fd, iotkit_fd_cb, on_fd)

/* ------------------------------------------------------------- queries -- */

bool iotkit_device_is_connected(const iotkit_device_t *dev) {
  if (!dev) return false;
  iotkit__device_lock(dev);
  bool up = dev->connected;
  iotkit__device_unlock(dev);
  return up;
}

const char *iotkit_device_id(const iotkit_device_t *dev) { return dev ? dev->device_id : NULL; }

const iotkit_hal_t *iotkit_device_hal(const iotkit_device_t *dev) { return dev ? dev->hal : NULL; }

const char *iotkit_device_last_error(const iotkit_device_t *dev, char *buf, size_t cap) {
  if (!dev || !buf || cap == 0) return "";
  iotkit__device_lock(dev);
  iotkit__fmt(buf, cap, "%s", dev->last_error);
  iotkit__device_unlock(dev);
  return buf;
}
