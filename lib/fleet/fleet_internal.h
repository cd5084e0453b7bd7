/* The fleet handle and its writer queue (internal). */
#ifndef IOTKIT__FLEET_INTERNAL_H
#define IOTKIT__FLEET_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fleet/store.h"
#include "fleet/view.h"
#include "iotkit/fleet.h"
#include "iotkit/transport.h"

/* Most asynchronous writes waiting for the writer; more are refused with IOTKIT_ERR_QUEUE_FULL. */
#define IOTKIT__FLEET_QUEUE_MAX 65536u

/* One piece of work for the writer thread. */
typedef struct iotkit__fleet_job iotkit__fleet_job_t;
/* Runs in the writer thread; writes a sentence into @p err on failure. */
typedef iotkit_err_t (*iotkit__fleet_job_fn)(iotkit_fleet_t *fleet, void *arg, char *err, size_t cap);

struct iotkit__fleet_job {
  iotkit__fleet_job_t *next;
  iotkit__fleet_job_fn run;
  void *arg;
  void (*drop)(void *arg); /* asynchronous jobs: releases arg after the run */
  bool async;
  bool done;               /* synchronous jobs: set by the writer, under wq_lock */
  uint64_t not_before;     /* deferred jobs: monotonic ms before which it waits (0: none) */
  iotkit_err_t rc;
  char err[IOTKIT_ERROR_TEXT_SIZE];
};

struct iotkit_fleet {
  const iotkit_hal_t *hal; /* the caller's, or hal_view when it is older than the library */
  iotkit_hal_t hal_view;
  char *db_path;

  const iotkit__fleet_store_ops_t *store_ops;
  void *store;

  /* The broker session's configuration (copied). */
  char *uri;
  char *client_id;
  char *username;
  char *password;
  char *topic_prefix;
  char *ca_file;
  char *ca_dir;
  char *cert_file;
  char *key_file;
  bool verify_peer;
  bool auto_register;
  iotkit_fleet_register_cb auto_register_cb;
  void *auto_register_user;
  const iotkit_transport_registry_t *transports;
  int mqtt_version;
  uint16_t keepalive_s;
  uint32_t connect_timeout_ms, reconnect_min_ms, reconnect_max_ms, heartbeat_ms, history_max;
  uint32_t tel_history_max;    /* telemetry history points per device and metric; 0: off */
  uint64_t tel_history_age_ms; /* 0: no age limit */
  char *uptime_topic;      /* NULL: none */
  uint32_t uptime_interval_s;

  /* The session (session.c, loop.c). The transport and the supervisor fields are
     touched only by the polling thread (the caller of connect/poll, or the fleet's
     thread after start); connected, fd and the stats are also read by others, under lock. */
  iotkit_uri_t parsed_uri;
  bool uri_parsed;
  const iotkit_transport_ops_t *ops;
  void *tctx;
  iotkit_transport_events_t events;
  char *session_id;        /* the client id in use */
  char *sync_topic;        /* "<prefix>/~fleet/<client id>/sync" */
  int sup;                 /* iotkit__fleet_sup_t */
  bool connecting;
  iotkit_err_t conn_fail;
  uint32_t attempts;
  uint64_t next_attempt, attempt_started;
  bool closing;            /* inside free: no callbacks */
  bool running;
  void *loop_thread;       /* the fleet's own polling thread (start/stop) */
  uint64_t next_stale_check;
  /* Reconciliation of the retained statuses (presence.c): one epoch per session. */
  uint32_t epoch;
  bool syncing;
  uint64_t sync_deadline;
  int64_t broker_start_ms; /* the earliest the broker can have started (uptime topic); 0 if unknown */
  int64_t session_up_ms;   /* wall time the current (or last) session came up */
  int64_t prev_up_ms;      /* ... and the one before it; 0 if none in this process */
  int64_t loss_ms;         /* wall time the last session ended */

  /* Shared state under lock: the live view, the counters, the callbacks' pointers. */
  void *lock;
  bool connected;
  bool stop_requested;
  int fd;
  iotkit__fleet_view_t view;
  bool flush_queued;       /* a flush job waits in the writer's queue */
  bool flush_running;      /* a flush job is writing what it took from the view */
  iotkit_fleet_stats_t stats;
  iotkit_fleet_connection_cb on_connection;
  void *on_connection_user;
  iotkit_fleet_status_cb on_status;
  void *on_status_user;
  iotkit_fleet_telemetry_cb on_telemetry;
  void *on_telemetry_user;
  iotkit_fleet_state_cb on_state;
  void *on_state_user;
  iotkit_fleet_event_cb on_event;
  void *on_event_user;
  iotkit_fleet_location_cb on_location;
  void *on_location_user;
  iotkit_fleet_stale_cb on_stale;
  void *on_stale_user;

  /* Callback dispatch (callbacks.c): cb_lock is held around every user callback;
     cb_owner (thread_self of its holder, 0 if none) and cb_depth are under lock. */
  void *cb_lock;
  uint64_t cb_owner;
  unsigned cb_depth;

  /* The writer: a queue of jobs under wq_lock, drained by one HAL thread. */
  void *wq_lock;
  void *wq_work;           /* condition: a job was queued, or stop (NULL: poll with sleep_ms) */
  void *wq_done;           /* condition: a synchronous job is done */
  iotkit__fleet_job_t *head;
  iotkit__fleet_job_t *tail;
  size_t queued_async;
  bool stop;
  void *thread;
  uint64_t writer_id;      /* thread_self() of the writer, 0 if unknown */
  uint64_t async_failures; /* asynchronous writes that failed (logged) */

  void *err_lock;
  char last_error[IOTKIT_ERROR_TEXT_SIZE];

  /* Remote control and protection (control.h): commands, desired state, keys. */
  struct iotkit__fleet_ctl *ctl;
  iotkit_fleet_key_cb key_cb;
  void *key_user;
  struct iotkit__rollouts *rollouts; /* OTA rollouts (rollout*.c), under lock */
};

/* Record the detail of a failure for iotkit_fleet_last_error(). */
void iotkit__fleet_set_error(iotkit_fleet_t *fleet, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* ------------------------------------------------------------ writer.c -- */

/* Create the queue's locks and start the writer thread. */
iotkit_err_t iotkit__fleet_writer_start(iotkit_fleet_t *fleet, char *err, size_t cap);
/* Run the queued jobs, stop the thread, release the locks. Safe on a half-started writer. */
void iotkit__fleet_writer_stop(iotkit_fleet_t *fleet);
/* Run @p fn(@p arg) in the writer thread and wait for it; its failure text goes to the
   last error. IOTKIT_ERR_STATE when called from the writer thread itself. */
iotkit_err_t iotkit__fleet_write(iotkit_fleet_t *fleet, iotkit__fleet_job_fn fn, void *arg);
/* Queue @p fn(@p arg) without waiting; @p drop(@p arg) runs after it (or at once if it
   cannot be queued: IOTKIT_ERR_QUEUE_FULL, IOTKIT_ERR_NOMEM). A failure is logged and counted. */
iotkit_err_t iotkit__fleet_write_async(iotkit_fleet_t *fleet, iotkit__fleet_job_fn fn, void *arg,
                                       void (*drop)(void *arg));
/* iotkit__fleet_write_async(), but the job waits until @p delay_ms from now while it is
   alone in the queue (another job behind it, or stop, runs it at once). */
iotkit_err_t iotkit__fleet_write_deferred(iotkit_fleet_t *fleet, iotkit__fleet_job_fn fn, void *arg,
                                          void (*drop)(void *arg), uint32_t delay_ms);
/* Wait until every job queued before the call has run. */
iotkit_err_t iotkit__fleet_flush(iotkit_fleet_t *fleet);

/* ---------------------------------------------------------- registry.c -- */

/*
 * Set a record's online flag and last-seen time (ms) through the writer,
 * without waiting (a test aid; the live view's own writes go through flush.c).
 * The view's entry takes the same values. IOTKIT_ERR_INVALID_ARG for a bad id
 * or a negative time. An unknown id is found by the writer: logged and
 * counted, not reported here.
 */
iotkit_err_t iotkit__fleet_presence(iotkit_fleet_t *fleet, const char *id, bool online, int64_t seen_ms);

/* ------------------------------------------------------------- flush.c -- */

/* After a change of the view (lock NOT held): make sure a flush job is queued. */
void iotkit__fleet_flush_kick(iotkit_fleet_t *fleet);
/* In the writer thread: write every pending change of the view in one transaction. */
iotkit_err_t iotkit__fleet_flush_now(iotkit_fleet_t *fleet, char *err, size_t cap);
/* The writer job that runs iotkit__fleet_flush_now (arg unused). */
iotkit_err_t iotkit__fleet_flush_job(iotkit_fleet_t *fleet, void *arg, char *err, size_t cap);
/* Before a read of the database: wait for the pending changes, if there are any. */
iotkit_err_t iotkit__fleet_settle(iotkit_fleet_t *fleet);
/* Load the view from the database (at creation). */
iotkit_err_t iotkit__fleet_view_load(iotkit_fleet_t *fleet, char *err, size_t cap);

/* --------------------------------------------------------- callbacks.c -- */

void iotkit__fleet_cb_enter(iotkit_fleet_t *fleet);
void iotkit__fleet_cb_leave(iotkit_fleet_t *fleet);
bool iotkit__fleet_in_callback(const iotkit_fleet_t *fleet);
/* Callers of user callbacks (each reads the pointer inside the dispatch bracket). */
void iotkit__fleet_notify_connection(iotkit_fleet_t *fleet, bool up, iotkit_err_t reason, const char *detail);
void iotkit__fleet_notify_status(iotkit_fleet_t *fleet, const char *id, bool online, const char *reason, int64_t ts);
void iotkit__fleet_notify_stale(iotkit_fleet_t *fleet, const char *id, bool stale, int64_t last_seen);
void iotkit__fleet_notify_telemetry(iotkit_fleet_t *fleet, const char *id, const iotkit_telemetry_batch_t *batch);
void iotkit__fleet_notify_state(iotkit_fleet_t *fleet, const char *id, const char *state, int64_t ts);
void iotkit__fleet_notify_event(iotkit_fleet_t *fleet, const char *id, const char *type, int64_t ts, const char *data);
void iotkit__fleet_notify_location(iotkit_fleet_t *fleet, const char *id, const iotkit_location_t *loc);
/* Ask auto_register_cb (true without one). */
bool iotkit__fleet_ask_register(iotkit_fleet_t *fleet, const char *id, const char *channel);

/* ----------------------------------------------------- session / loop -- */

typedef enum {
  IOTKIT__FLEET_SUP_IDLE,       /* not supervising: never connected, or disconnected on request */
  IOTKIT__FLEET_SUP_WAIT,       /* down; next attempt at next_attempt */
  IOTKIT__FLEET_SUP_CONNECTING, /* an attempt is under way */
  IOTKIT__FLEET_SUP_UP          /* session up */
} iotkit__fleet_sup_t;

/* How often the fleet's own thread comes back from the transport to look at its stop flag. */
#define IOTKIT__FLEET_LOOP_POLL_MS 100
/* How long past connect_timeout_ms an attempt may stay unsettled. */
#define IOTKIT__FLEET_ATTEMPT_GRACE_MS 1000u

uint64_t iotkit__fleet_mono(const iotkit_fleet_t *fleet);
int64_t iotkit__fleet_wall(const iotkit_fleet_t *fleet);
void iotkit__fleet_lock(const iotkit_fleet_t *fleet);
void iotkit__fleet_unlock(const iotkit_fleet_t *fleet);
/* session.c: start an attempt (a new transport context, connect()). */
iotkit_err_t iotkit__fleet_attempt(iotkit_fleet_t *fleet);
void iotkit__fleet_backoff(iotkit_fleet_t *fleet);
void iotkit__fleet_close_transport(iotkit_fleet_t *fleet);
/* One step of supervision and network work, at most about @p timeout_ms. */
void iotkit__fleet_supervise(iotkit_fleet_t *fleet, int timeout_ms);
/* free: stop the thread, end the session, drop the transport. */
void iotkit__fleet_session_end(iotkit_fleet_t *fleet);
void iotkit__fleet_session_free(iotkit_fleet_t *fleet);

/* ingest.c: a message from the transport. */
void iotkit__fleet_message(iotkit_fleet_t *fleet, const iotkit_transport_msg_t *msg);

/* presence.c */
/* A session came up: a new epoch; retained statuses are held until the reconciliation. */
void iotkit__fleet_presence_session(iotkit_fleet_t *fleet);
/* A status document of a registered device. */
void iotkit__fleet_status_in(iotkit_fleet_t *fleet, const char *id, bool online, const char *reason, int64_t ts,
                             bool retained);
/* The marker came back, or the deadline passed: reconcile the view with the retained statuses. */
void iotkit__fleet_reconcile(iotkit_fleet_t *fleet);
/* The broker's uptime ("<seconds> seconds"). */
void iotkit__fleet_uptime_in(iotkit_fleet_t *fleet, const void *payload, size_t len, bool retained);
/* A live message from a registered device: last seen now, no longer stale. */
void iotkit__fleet_seen(iotkit_fleet_t *fleet, const char *id, int64_t now_ms);
/* Mark online devices silent longer than heartbeat_ms as stale (when the check is due). */
void iotkit__fleet_stale_check(iotkit_fleet_t *fleet);

/* ingest_data.c: the other channels of a registered device. */
void iotkit__fleet_telemetry_in(iotkit_fleet_t *fleet, const char *id, const iotkit_transport_msg_t *msg,
                                int64_t now_ms);
void iotkit__fleet_reported_in(iotkit_fleet_t *fleet, const char *id, const iotkit_transport_msg_t *msg);
void iotkit__fleet_event_in(iotkit_fleet_t *fleet, const char *id, const iotkit_transport_msg_t *msg);
void iotkit__fleet_location_in(iotkit_fleet_t *fleet, const char *id, const iotkit_transport_msg_t *msg);
/* Count and log a message that could not be decoded (never its payload). */
void iotkit__fleet_undecodable(iotkit_fleet_t *fleet, const char *id, const char *channel, size_t len,
                               iotkit_err_t why);

#endif
