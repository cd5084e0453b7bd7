/* Internal state of a device handle, shared by the files of lib/device/. */
#ifndef IOTKIT__DEVICE_INTERNAL_H
#define IOTKIT__DEVICE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotkit/device.h"
#include "iotkit/options.h"

/* How often the background loop returns from the transport to look at its stop flag. */
#define IOTKIT__DEVICE_LOOP_POLL_MS 100
/* How long iotkit_device_free() waits for a clean end of the session, at most. */
#define IOTKIT__DEVICE_GOODBYE_MS 1000u

struct iotkit_device {
  /* Copied configuration. */
  char *device_id;
  char *username;
  char *password;
  char *topic_prefix;
  char *telemetry_channel;
  char *ca_file, *ca_dir, *cert_file, *key_file, *psk_identity, *psk_key_hex;
  bool verify_peer;
  iotkit_uri_t uri;
  uint16_t keepalive_s;
  bool clean_session;
  int mqtt_version;
  uint32_t connect_timeout_ms;
  size_t max_payload;
  int telemetry_qos;

  const iotkit_hal_t *hal;
  iotkit_hal_t *own_hal; /* made from state_dir; freed with the device */
  const iotkit_transport_ops_t *ops;
  void *tctx; /* transport context, made by connect; written under send_lock */
  iotkit_transport_events_t events; /* kept here: a backend may keep the pointer */

  /* lock guards the fields below it. send_lock only serializes transport
     send() calls: it is never taken by an event handler, so a transport that
     holds its own lock while delivering events cannot deadlock against it. */
  void *lock;
  void *send_lock;
  bool connected;
  uint32_t outstanding; /* sends not yet confirmed or failed */
  bool stop_requested;
  char last_error[IOTKIT_ERROR_TEXT_SIZE];
  iotkit_connection_cb on_connection;
  void *on_connection_user;
  iotkit_delivery_cb on_delivery;
  void *on_delivery_user;
  iotkit_message_cb on_message;
  void *on_message_user;

  /* Touched only by the controlling thread (the loop is stopped whenever it
     reads or writes them, and events then run in that same thread). */
  bool running;
  void *thread;
  bool connecting;        /* inside iotkit_device_connect(): connection-down events become its result */
  iotkit_err_t conn_fail; /* failure seen while connecting */
  bool closing;           /* inside iotkit_device_free(): events are dropped */
};

/* device.c */
void iotkit__device_lock(const iotkit_device_t *dev);
void iotkit__device_unlock(const iotkit_device_t *dev);
void iotkit__device_send_lock(const iotkit_device_t *dev);
void iotkit__device_send_unlock(const iotkit_device_t *dev);
void iotkit__device_set_error(iotkit_device_t *dev, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* "host:port", with brackets around an IPv6 address. */
void iotkit__device_endpoint(const iotkit_device_t *dev, char *buf, size_t cap);
/* The part of a transport's @p detail after "<host:port>: ", if it has one, else @p detail. */
const char *iotkit__device_trim_detail(const iotkit_device_t *dev, const char *detail);

/* device_channel.c */
/* Check a channel suffix; wildcards ('+' and '#' as whole segments, '#' last) only if allowed. */
bool iotkit__device_suffix_ok(const char *suffix, bool allow_wildcards);
/* "<prefix>/<device id>/<suffix>" (malloc'd), or NULL on allocation failure. */
char *iotkit__device_channel(const iotkit_device_t *dev, const char *suffix);

/* device_io.c */
/* Create the transport context if it does not exist yet. */
iotkit_err_t iotkit__device_transport(iotkit_device_t *dev);
/* End a live session cleanly (so no last will is published), waiting a little;
   callers set dev->closing first so that no user callback runs. */
void iotkit__device_goodbye(iotkit_device_t *dev);
/* Destroy the transport without running user callbacks. */
void iotkit__device_close_transport(iotkit_device_t *dev);

/* device_loop.c */
/* Stop the background loop if it runs (used by free). */
void iotkit__device_loop_halt(iotkit_device_t *dev);

#endif
