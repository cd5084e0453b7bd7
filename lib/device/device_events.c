/* Events from the transport, turned into device state and user callbacks.
   They run inside a transport call (poll, connect, disconnect) in the thread
   that made it; user callbacks are called with no device lock held, inside the
   dispatch bracket of device_dispatch.c (the pointers are read inside it). */
#include <string.h>

#include "core/util.h"
#include "device/device_internal.h"

static void notify_connection(iotkit_device_t *dev, bool up, iotkit_err_t reason, const char *detail) {
  iotkit__device_cb_enter(dev);
  iotkit__device_lock(dev);
  iotkit_connection_cb cb = dev->closing ? NULL : dev->on_connection;
  void *cb_user = dev->on_connection_user;
  iotkit__device_unlock(dev);
  if (cb) cb(dev, cb_user, up, reason, detail);
  iotkit__device_cb_leave(dev);
}

static void ev_connected(void *user) {
  iotkit_device_t *dev = user;
  iotkit__device_lock(dev);
  dev->connected = true;
  iotkit__device_unlock(dev);
  dev->connecting = false;
  dev->sup = IOTKIT__SUP_UP;
  dev->attempts = 0;
  dev->sessions++;
  iotkit_hal_logf(dev->hal, IOTKIT_LOG_INFO, "device %s: connected", dev->device_id);
  /* The model's subscriptions, status and state go out before the application hears of the session. */
  if (!dev->closing) iotkit__device_session_up(dev);
  notify_connection(dev, true, IOTKIT_OK, "");
}

static void ev_disconnected(void *user, iotkit_err_t reason, const char *detail) {
  iotkit_device_t *dev = user;
  char ep[300];
  iotkit__device_endpoint(dev, ep, sizeof(ep));
  if (!detail || !*detail) detail = iotkit_strerror(reason);
  const char *why = iotkit__device_trim_detail(dev, detail);
  if (dev->connecting) {
    /* The failure becomes iotkit_device_connect()'s result, not a callback. */
    dev->conn_fail = reason != IOTKIT_OK ? reason : IOTKIT_ERR_CONNECT;
    iotkit__device_set_error(dev, "cannot connect to %s: %s", ep, why);
    iotkit__device_lock(dev);
    dev->connected = false;
    iotkit__device_unlock(dev);
    return;
  }
  if (reason != IOTKIT_OK) iotkit__device_set_error(dev, "connection to %s lost: %s", ep, why);
  if (reason != IOTKIT_OK && dev->sup == IOTKIT__SUP_UP && dev->auto_reconnect && !dev->closing)
    iotkit__device_backoff(dev);
  else
    dev->sup = IOTKIT__SUP_IDLE;
  iotkit__device_lock(dev);
  dev->connected = false;
  iotkit__device_unlock(dev);
  if (reason == IOTKIT_OK)
    iotkit_hal_logf(dev->hal, IOTKIT_LOG_INFO, "device %s: disconnected", dev->device_id);
  else
    iotkit_hal_logf(dev->hal, IOTKIT_LOG_WARN, "device %s: connection to %s lost: %s", dev->device_id, ep, why);
  notify_connection(dev, false, reason, reason == IOTKIT_OK ? "" : detail);
}

static void ev_message(void *user, const char *channel, const void *payload, size_t len) {
  iotkit_device_t *dev = user;
  if (dev->closing) return;
  if (len > dev->max_payload) {
    iotkit_hal_logf(dev->hal, IOTKIT_LOG_WARN, "device %s: ignored a message of %zu bytes on %s (max_payload %zu)",
                    dev->device_id, len, channel, dev->max_payload);
    return;
  }
  size_t base = strlen(dev->channel_base);
  if (strncmp(channel, dev->channel_base, base) != 0) {
    iotkit_hal_logf(dev->hal, IOTKIT_LOG_WARN, "device %s: ignored a message on %s: not a channel of this device",
                    dev->device_id, channel);
    return;
  }
  if (strcmp(channel, dev->desired_channel) == 0) {
    iotkit__device_desired_in(dev, payload, len);
    return;
  }
  if (strcmp(channel, dev->request_channel) == 0) {
    iotkit__device_command_in(dev, payload, len);
    return;
  }
  if (iotkit__device_ota_channel(dev, channel)) {
    iotkit__device_ota_in(dev, payload, len);
    return;
  }
  iotkit__device_cb_enter(dev);
  iotkit__device_lock(dev);
  iotkit_message_cb cb = dev->closing ? NULL : dev->on_message;
  void *cb_user = dev->on_message_user;
  iotkit__device_unlock(dev);
  if (cb) cb(dev, cb_user, channel, payload, len);
  iotkit__device_cb_leave(dev);
}

static void ev_delivery(void *user, uint32_t msg_id, iotkit_err_t status) {
  iotkit_device_t *dev = user;
  iotkit__device_lock(dev);
  if (dev->outstanding > 0) dev->outstanding--;
  iotkit__device_unlock(dev);
  if (iotkit__device_own_id_take(dev, msg_id)) return; /* the library's own message */
  iotkit__device_telemetry_delivered(dev, msg_id, status);
  iotkit__device_cb_enter(dev);
  iotkit__device_lock(dev);
  iotkit_delivery_cb cb = dev->closing ? NULL : dev->on_delivery;
  void *cb_user = dev->on_delivery_user;
  iotkit__device_unlock(dev);
  if (cb) cb(dev, cb_user, msg_id, status);
  iotkit__device_cb_leave(dev);
}

/* With e2e_key: messages are opened (or dropped) before the dispatch above sees them. */
static void ev_sealed_message(void *user, const char *channel, const void *payload, size_t len) {
  iotkit__device_e2e_message(user, channel, payload, len, ev_message);
}

iotkit_err_t iotkit__device_transport(iotkit_device_t *dev) {
  if (dev->tctx) return IOTKIT_OK;
  dev->events = (iotkit_transport_events_t){
      .user = dev,
      .connected = ev_connected,
      .disconnected = ev_disconnected,
      .message = dev->e2e ? ev_sealed_message : ev_message,
      .delivery = ev_delivery,
  };
  iotkit_transport_config_t tc;
  iotkit_transport_config_init(&tc);
  tc.uri = &dev->uri;
  tc.hal = dev->hal;
  tc.client_id = dev->device_id;
  tc.username = dev->username;
  tc.password = dev->password;
  tc.keepalive_s = dev->keepalive_s;
  tc.clean_session = dev->clean_session;
  tc.protocol_version = dev->mqtt_version;
  tc.connect_timeout_ms = dev->connect_timeout_ms;
  tc.max_payload = dev->max_payload + dev->e2e_overhead; /* the envelope of a max_payload payload */
  tc.will = (iotkit_will_t){.channel = dev->status_channel,
                            .payload = iotkit__device_will_json,
                            .payload_len = strlen(iotkit__device_will_json),
                            .qos = 1,
                            .retain = true};
  tc.tls = (iotkit_tls_config_t){
      .ca_file = dev->ca_file,
      .ca_dir = dev->ca_dir,
      .cert_file = dev->cert_file,
      .key_file = dev->key_file,
      .psk_identity = dev->psk_identity,
      .psk_key_hex = dev->psk_key_hex,
      .verify_peer = dev->verify_peer,
  };
  void *tctx = NULL;
  iotkit_err_t err = dev->ops->create(&tc, &dev->events, &tctx);
  if (err == IOTKIT_OK) {
    iotkit__device_send_lock(dev);
    dev->tctx = tctx;
    iotkit__device_send_unlock(dev);
    iotkit__device_fd_update(dev);
  } else {
    char ep[300];
    iotkit__device_endpoint(dev, ep, sizeof(ep));
    iotkit__device_set_error(dev, "cannot set up transport %s for %s: %s", dev->ops->name, ep,
                             iotkit_strerror(err));
  }
  return err;
}

void iotkit__device_close_transport(iotkit_device_t *dev) {
  if (!dev->tctx) return;
  iotkit__device_lock(dev);
  dev->connected = false;
  dev->outstanding = 0;
  iotkit__device_unlock(dev);
  dev->hal->mutex_lock(dev->hal->ctx, dev->ids_lock);
  dev->n_own_ids = 0; /* ids start again with the next transport */
  dev->hal->mutex_unlock(dev->hal->ctx, dev->ids_lock);
  /* Under send_lock: a sender that saw the device connected may still be on its way to send(). */
  iotkit__device_send_lock(dev);
  /* destroy() disconnects without events, so no callback can run from here. */
  dev->ops->destroy(dev->tctx);
  dev->tctx = NULL;
  iotkit__device_send_unlock(dev);
  iotkit__device_fd_update(dev);
}
