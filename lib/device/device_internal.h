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
/* How long past connect_timeout_ms an attempt may stay unsettled before the
   supervisor gives up on it (the transport normally reports the timeout itself). */
#define IOTKIT__DEVICE_ATTEMPT_GRACE_MS 1000u
/* How long iotkit_device_free() waits for a clean end of the session, at most. */
#define IOTKIT__DEVICE_GOODBYE_MS 1000u
/* How many of its own messages the device tracks awaiting confirmation. */
#define IOTKIT__DEVICE_OWN_IDS 64u
/* Key of the persisted desired document in the HAL key-value store. */
#define IOTKIT__DEVICE_DESIRED_KEY "iotkit.desired"

struct cJSON;

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
  iotkit_hal_t hal_view; /* full-size copy of a HAL whose struct_size is older (iotkit__hal_view) */
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

  iotkit_credentials_cb on_credentials;
  void *on_credentials_user;
  iotkit_desired_cb on_desired;
  void *on_desired_user;
  iotkit_fd_cb on_fd;
  void *on_fd_user;
  int fd; /* the descriptor last announced to on_fd (-1: none); written by the polling thread */

  /* Callback dispatch (device_dispatch.c). cb_lock is held around every user callback
     call and is the outermost lock of the device; cb_owner (the HAL thread id of the
     thread holding it, 0 if none) and cb_depth (its nesting) are guarded by lock. */
  void *cb_lock;
  uint64_t cb_owner;
  unsigned cb_depth;

  /* The device model, also guarded by lock (device_state.c, device_commands.c). */
  struct cJSON *reported;     /* reported document (an object), never NULL */
  int64_t reported_ts;        /* wall time of its last change */
  struct cJSON *desired;      /* last applied desired state (an object), never NULL */
  uint64_t desired_version;   /* its version; 0 = none */
  bool desired_restore;       /* loaded from the HAL, not yet delivered */
  struct iotkit__handler *handlers;  /* command handlers */
  struct iotkit_command *commands;   /* commands handed to handlers and not yet released */
  unsigned pending_commands;         /* of those, the ones not yet answered nor timed out */
  unsigned local_commands;           /* commands called by edge rules, for their ids */
  struct iotkit__sub *subs;          /* the application's subscriptions, renewed on every session */

  /* Ids of the library's own messages (status, reported, responses): their
     confirmations are not the application's. Guarded by ids_lock, which is held
     across send() as the transport contract asks of id trackers. */
  void *ids_lock;
  void *report_lock; /* makes merging and sending a report one step (taken before the others) */
  uint32_t own_ids[IOTKIT__DEVICE_OWN_IDS];
  size_t n_own_ids;

  /* Channels and the last will, made once. */
  char *status_channel, *reported_channel, *response_channel, *desired_channel, *request_channel;
  char *channel_base; /* "<prefix>/<device id>/" */

  /* Configuration of the model. */
  bool auto_reconnect;
  uint32_t reconnect_min_ms, reconnect_max_ms, command_timeout_ms;

  /* Touched only by the controlling thread (the loop is stopped whenever it
     reads or writes them, and events then run in that same thread) or, while
     the loop runs, only by the loop thread. */
  bool running;
  void *thread;
  bool connecting;        /* an attempt is under way: connection-down events become its result */
  iotkit_err_t conn_fail; /* failure seen while connecting */
  bool closing;           /* inside iotkit_device_free(): events are dropped */
  int sup;                /* supervisor state, iotkit__sup_t */
  uint32_t attempts;      /* failed attempts since the last session */
  uint64_t next_attempt;  /* monotonic ms of the next attempt (IOTKIT__SUP_WAIT) */
  uint64_t attempt_started;
  uint32_t sessions;      /* sessions that came up, counted by the connected event */

  /* End-to-end protection (device_e2e.c): NULL without e2e_key. Sealing moves the
     nonce counter, so it happens under send_lock; e2e_rejected is guarded by lock. */
  struct iotkit_envelope *e2e;
  size_t e2e_overhead;   /* bytes an envelope adds */
  uint64_t e2e_rejected; /* incoming messages dropped because they did not open */
  struct iotkit__device_ota *ota; /* attached OTA client (device_ota.c), or NULL */
  struct iotkit__tel *tel; /* telemetry: sequence numbers, durable queue (device_telemetry.c) */
  struct iotkit__device_edge *edge; /* edge pipeline over send_batch (device_edge.c) */
};

/* Supervisor states. */
typedef enum {
  IOTKIT__SUP_IDLE,       /* not supervising: never connected, or disconnected on request */
  IOTKIT__SUP_WAIT,       /* down; next attempt at next_attempt */
  IOTKIT__SUP_CONNECTING, /* an attempt is under way */
  IOTKIT__SUP_UP          /* session up */
} iotkit__sup_t;

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

/* device_dispatch.c */
/* Make cb_lock and set the dispatch state (from iotkit_device_new). */
iotkit_err_t iotkit__device_dispatch_init(iotkit_device_t *dev);
void iotkit__device_dispatch_free(iotkit_device_t *dev);
/* Bracket every call of a user callback: read the callback pointer and its user
   pointer under lock AFTER enter, call it with no device lock held, then leave. */
void iotkit__device_cb_enter(iotkit_device_t *dev);
void iotkit__device_cb_leave(iotkit_device_t *dev);
/* After a setter has swapped a callback under lock: wait until no callback of @p dev runs
   on another thread (returns at once when called from inside one on this thread). */
void iotkit__device_cb_wait(iotkit_device_t *dev);
/* True if the calling thread is inside a callback of @p dev. */
bool iotkit__device_in_callback(const iotkit_device_t *dev);

/* device_fd.c */
/* Announce a change of the transport's descriptor to the fd callback (polling thread). */
void iotkit__device_fd_update(iotkit_device_t *dev);

/* device_channel.c */
/* Check a channel suffix; wildcards ('+' and '#' as whole segments, '#' last) only if allowed. */
bool iotkit__device_suffix_ok(const char *suffix, bool allow_wildcards);
/* "<prefix>/<device id>/<suffix>" (malloc'd), or NULL on allocation failure. */
char *iotkit__device_channel(const iotkit_device_t *dev, const char *suffix);

/* device_ota.c */
bool iotkit__device_ota_channel(const iotkit_device_t *dev, const char *channel);
void iotkit__device_ota_in(iotkit_device_t *dev, const void *payload, size_t len);
void iotkit__device_ota_session_up(iotkit_device_t *dev);
void iotkit__device_ota_free(iotkit_device_t *dev);
/* In the application's thread: enforce the attached client's trial time limit (iotkit_ota_poll). */
void iotkit__device_ota_poll(iotkit_device_t *dev);
/* Milliseconds until the attached client's trial time limit is due, or -1 if none. */
int iotkit__device_ota_timeout_ms(const iotkit_device_t *dev, uint64_t now);

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

/* device_io.c */
/* Send one of the library's own messages (QoS 1): its confirmation is not passed on. */
iotkit_err_t iotkit__device_send_own(iotkit_device_t *dev, const char *channel, const char *payload, bool retain);
/* Poll the transport until done(dev), a transport failure or budget_ms. */
bool iotkit__device_poll_until(iotkit_device_t *dev, bool (*done)(iotkit_device_t *), uint32_t budget_ms,
                               iotkit_err_t *poll_err);
uint64_t iotkit__device_now(const iotkit_device_t *dev);
/* True (and forgotten) if @p id is one of the device's own messages. */
bool iotkit__device_own_id_take(iotkit_device_t *dev, uint32_t id);

/* device_supervisor.c */
/* Start a connection attempt: fresh transport (credentials callback, last will), connect(). */
iotkit_err_t iotkit__device_attempt(iotkit_device_t *dev);
/* Schedule the next attempt after a failure or a loss (full-jitter exponential backoff). */
void iotkit__device_backoff(iotkit_device_t *dev);
/* One step of supervision and network work, at most about @p timeout_ms. */
void iotkit__device_supervise(iotkit_device_t *dev, int timeout_ms);
/* Work after a session came up: subscriptions, online status, reported state. */
void iotkit__device_session_up(iotkit_device_t *dev);
/* Make the application's subscriptions that this session does not have yet. */
void iotkit__device_apply_subs(iotkit_device_t *dev);
void iotkit__device_subs_reset(iotkit_device_t *dev);
void iotkit__device_subs_free(iotkit_device_t *dev);

/* device_status.c */
/* Payload of the online / offline status and of the last will (malloc'd, or NULL). */
char *iotkit__device_status_json(const iotkit_device_t *dev, bool online);
extern const char iotkit__device_will_json[];
/* Publish the retained offline status before a clean disconnect. */
void iotkit__device_say_offline(iotkit_device_t *dev);

/* device_state.c */
iotkit_err_t iotkit__device_state_init(iotkit_device_t *dev);
void iotkit__device_state_free(iotkit_device_t *dev);
/* Publish the reported document (after a (re)connection), if it has anything. */
void iotkit__device_state_resend(iotkit_device_t *dev);
/* A message arrived on state/desired. */
void iotkit__device_desired_in(iotkit_device_t *dev, const void *payload, size_t len);
/* Deliver a desired state restored from the HAL, once. */
void iotkit__device_desired_restore(iotkit_device_t *dev);

/* device_edge.c */
iotkit_err_t iotkit__device_edge_init(iotkit_device_t *dev); /* restores the persisted configuration */
void iotkit__device_edge_free(iotkit_device_t *dev);
/* A desired state was applied: load its "edge" value if @p delta names it. */
void iotkit__device_edge_desired(iotkit_device_t *dev, const struct cJSON *delta, const struct cJSON *state,
                                 uint64_t version);
/* The points of @p in the pipeline lets through, and its aggregates, in a new batch
   (*out NULL: no pipeline, send @p in as it is). */
iotkit_err_t iotkit__device_edge_filter(iotkit_device_t *dev, const iotkit_telemetry_batch_t *in,
                                        iotkit_telemetry_batch_t **out);
/* Run the actions the pipeline's rules queued (polling thread). */
void iotkit__device_edge_run(iotkit_device_t *dev);

/* device_commands.c */
/* Call the handler of @p name as a request from the cloud would, with a local id; the
   result is logged, not sent. */
iotkit_err_t iotkit__device_command_local(iotkit_device_t *dev, const char *name, const char *params_json);
/* A message arrived on commands/request. */
void iotkit__device_command_in(iotkit_device_t *dev, const void *payload, size_t len);
/* Send timeout responses for commands past their deadline. */
void iotkit__device_commands_sweep(iotkit_device_t *dev);
void iotkit__device_commands_free(iotkit_device_t *dev);
/* Milliseconds until the earliest open command's deadline (0 if past), or -1 if none. */
int iotkit__device_commands_timeout_ms(const iotkit_device_t *dev, uint64_t now);

/* device_e2e.c */
iotkit_err_t iotkit__device_e2e_init(iotkit_device_t *dev, const iotkit_device_config_t *cfg);
void iotkit__device_e2e_free(iotkit_device_t *dev);
/* With e2e on and a sealed channel, point msg at a new envelope (free *sealed after the send). */
iotkit_err_t iotkit__device_e2e_seal(iotkit_device_t *dev, iotkit_message_t *msg, void **sealed);
/* An incoming message: on a sealed channel, open it and pass the plaintext to @p deliver, or
   drop it (counted, logged without the payload) if it does not open; on any other channel
   (status, not the device's, too large) pass it to @p deliver as it is. */
void iotkit__device_e2e_message(iotkit_device_t *dev, const char *channel, const void *payload, size_t len,
                                void (*deliver)(void *dev, const char *channel, const void *payload, size_t len));
/* device_io.c: send telemetry bytes now (no queue); NOT_CONNECTED when down. */
iotkit_err_t iotkit__device_send_telemetry_now(iotkit_device_t *dev, const void *payload, size_t len,
                                               uint32_t *msg_id);

/* device_telemetry.c */
iotkit_err_t iotkit__device_telemetry_init(iotkit_device_t *dev, const iotkit_device_config_t *cfg);
void iotkit__device_telemetry_free(iotkit_device_t *dev);
bool iotkit__device_telemetry_durable(const iotkit_device_t *dev);
/* Store, then send if possible (iotkit_device_send_telemetry() with a durable queue). */
iotkit_err_t iotkit__device_telemetry_send(iotkit_device_t *dev, const void *payload, size_t len, uint32_t *msg_id);
/* Send now, without a queue, counting it in the stats (iotkit_device_send_telemetry() then). */
iotkit_err_t iotkit__device_telemetry_send_direct(iotkit_device_t *dev, const void *payload, size_t len,
                                                  uint32_t *msg_id);
/* A delivery event: a confirmed telemetry message leaves the queue (or, without one, is counted). */
void iotkit__device_telemetry_delivered(iotkit_device_t *dev, uint32_t msg_id, iotkit_err_t status);
/* In the polling thread: re-queue after a loss, drain the backlog at the configured rate, sync. */
void iotkit__device_telemetry_pump(iotkit_device_t *dev);
/* Milliseconds until the pump has work (the next drain credit while a backlog waits, the
   next interval sync of unsynced appends), or -1 if none. */
int iotkit__device_telemetry_timeout_ms(const iotkit_device_t *dev, uint64_t now);

#endif
