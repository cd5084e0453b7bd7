/* The fleet handle and its writer queue (internal). */
#ifndef IOTKIT__FLEET_INTERNAL_H
#define IOTKIT__FLEET_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fleet/store.h"
#include "iotkit/fleet.h"

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
  iotkit_err_t rc;
  char err[IOTKIT_ERROR_TEXT_SIZE];
};

struct iotkit_fleet {
  const iotkit_hal_t *hal; /* the caller's, or hal_view when it is older than the library */
  iotkit_hal_t hal_view;
  char *db_path;

  const iotkit__fleet_store_ops_t *store_ops;
  void *store;

  /* The broker session, kept for the connect calls to come. */
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
/* Wait until every job queued before the call has run. */
iotkit_err_t iotkit__fleet_flush(iotkit_fleet_t *fleet);

/* ---------------------------------------------------------- presence.c -- */

/*
 * Set a record's online flag and last-seen time (ms) through the writer,
 * without waiting (the path of the fleet's message callbacks, and of tests).
 * IOTKIT_ERR_INVALID_ARG for a bad id or a negative time. An unknown id is
 * found by the writer: logged and counted, not reported here.
 */
iotkit_err_t iotkit__fleet_presence(iotkit_fleet_t *fleet, const char *id, bool online, int64_t seen_ms);

#endif
