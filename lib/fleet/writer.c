/*
 * The fleet's writer: one HAL thread that owns the store's write path and
 * drains a FIFO of jobs, one transaction each.
 *
 * A synchronous job (iotkit__fleet_write) lives on the submitter's stack; the
 * submitter waits on wq_done until the writer marks it done. An asynchronous
 * one (iotkit__fleet_write_async) is heap-allocated and released by the writer;
 * its failure is logged and counted, since nobody waits for it. The queue holds
 * at most IOTKIT__FLEET_QUEUE_MAX asynchronous jobs, so that a flood of
 * messages cannot grow it without bound.
 *
 * Waiting uses the HAL's condition variables; a HAL without them (older than
 * 0.3.0) is polled with sleep_ms(1), which costs latency, not correctness.
 * Stopping drains the queue first: every job queued before
 * iotkit_fleet_free() runs.
 *
 * A deferred job (iotkit__fleet_write_deferred: the live view's flush) waits
 * at the head of the queue until its time, unless another job is queued
 * behind it or the writer is stopping: then it runs at once, so that it never
 * delays a synchronous call and iotkit__fleet_flush() still means "everything
 * before has run".
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "fleet/fleet_internal.h"

static void wq_lock(iotkit_fleet_t *f) { f->hal->mutex_lock(f->hal->ctx, f->wq_lock); }
static void wq_unlock(iotkit_fleet_t *f) { f->hal->mutex_unlock(f->hal->ctx, f->wq_lock); }

/* Wait for @p cond with wq_lock held (released meanwhile). */
static void wq_wait(iotkit_fleet_t *f, void *cond) {
  if (cond) {
    (void)f->hal->cond_wait(f->hal->ctx, cond, f->wq_lock, IOTKIT_HAL_WAIT_FOREVER);
  } else {
    wq_unlock(f);
    f->hal->sleep_ms(f->hal->ctx, 1);
    wq_lock(f);
  }
}

/* Wait for @p cond at most @p ms (wq_lock held, released meanwhile). */
static void wq_wait_ms(iotkit_fleet_t *f, void *cond, uint64_t ms) {
  if (cond) {
    (void)f->hal->cond_wait(f->hal->ctx, cond, f->wq_lock, ms >= IOTKIT_HAL_WAIT_FOREVER ? IOTKIT_HAL_WAIT_FOREVER - 1 : (uint32_t)ms);
  } else {
    wq_unlock(f);
    f->hal->sleep_ms(f->hal->ctx, 1);
    wq_lock(f);
  }
}

static void wq_wake(iotkit_fleet_t *f, void *cond) {
  if (cond) f->hal->cond_broadcast(f->hal->ctx, cond);
}

static void run_job(iotkit_fleet_t *f, iotkit__fleet_job_t *job) {
  job->err[0] = '\0';
  job->rc = job->run(f, job->arg, job->err, sizeof(job->err));
  if (job->async) {
    if (job->rc != IOTKIT_OK) {
      iotkit_hal_logf(f->hal, IOTKIT_LOG_WARN, "fleet: queued write failed: %s (%s)", job->err,
                      iotkit_err_name(job->rc));
      iotkit__fleet_set_error(f, "%s", job->err);
    }
    if (job->drop) job->drop(job->arg);
  }
}

static void writer_main(void *arg) {
  iotkit_fleet_t *f = arg;
  wq_lock(f);
  if (f->hal->thread_self) f->writer_id = f->hal->thread_self(f->hal->ctx);
  for (;;) {
    while (!f->head && !f->stop) wq_wait(f, f->wq_work);
    iotkit__fleet_job_t *job = f->head;
    if (!job) break; /* stop, and nothing left */
    if (job->not_before && !job->next && !f->stop) {
      uint64_t now = iotkit__fleet_mono(f);
      if (now < job->not_before) {
        wq_wait_ms(f, f->wq_work, job->not_before - now);
        continue; /* look again: its time, another job, or stop */
      }
    }
    f->head = job->next;
    if (!f->head) f->tail = NULL;
    if (job->async) f->queued_async--;
    wq_unlock(f);
    run_job(f, job);
    wq_lock(f);
    if (job->async) {
      if (job->rc != IOTKIT_OK) f->async_failures++;
      free(job);
    } else {
      job->done = true; /* the submitter may release it as soon as the lock is dropped */
      wq_wake(f, f->wq_done);
    }
  }
  wq_unlock(f);
}

iotkit_err_t iotkit__fleet_writer_start(iotkit_fleet_t *f, char *err, size_t cap) {
  const iotkit_hal_t *hal = f->hal;
  if (hal->mutex_new(hal->ctx, &f->wq_lock) != IOTKIT_OK) return IOTKIT_ERR_NOMEM;
  if (hal->cond_new && hal->cond_wait && hal->cond_broadcast && hal->cond_free) {
    if (hal->cond_new(hal->ctx, &f->wq_work) != IOTKIT_OK || hal->cond_new(hal->ctx, &f->wq_done) != IOTKIT_OK)
      return IOTKIT_ERR_NOMEM;
  }
  iotkit_err_t rc = hal->thread_start(hal->ctx, writer_main, f, &f->thread);
  if (rc != IOTKIT_OK) {
    f->thread = NULL;
    iotkit__fmt(err, cap, "cannot start the writer thread: %s", iotkit_strerror(rc));
  }
  return rc;
}

void iotkit__fleet_writer_stop(iotkit_fleet_t *f) {
  const iotkit_hal_t *hal = f->hal;
  if (f->thread) {
    wq_lock(f);
    f->stop = true;
    wq_wake(f, f->wq_work);
    wq_unlock(f);
    (void)hal->thread_join(hal->ctx, f->thread);
    f->thread = NULL;
  }
  if (f->wq_work) hal->cond_free(hal->ctx, f->wq_work);
  if (f->wq_done) hal->cond_free(hal->ctx, f->wq_done);
  if (f->wq_lock) hal->mutex_free(hal->ctx, f->wq_lock);
  f->wq_work = f->wq_done = f->wq_lock = NULL;
}

/* With wq_lock held. */
static void enqueue(iotkit_fleet_t *f, iotkit__fleet_job_t *job) {
  job->next = NULL;
  if (f->tail)
    f->tail->next = job;
  else
    f->head = job;
  f->tail = job;
  wq_wake(f, f->wq_work);
}

static bool on_writer(iotkit_fleet_t *f) {
  if (!f->hal->thread_self) return false;
  uint64_t self = f->hal->thread_self(f->hal->ctx);
  wq_lock(f);
  bool mine = f->writer_id != 0 && f->writer_id == self;
  wq_unlock(f);
  return mine;
}

iotkit_err_t iotkit__fleet_write(iotkit_fleet_t *f, iotkit__fleet_job_fn fn, void *arg) {
  /* The writer would wait for itself. */
  if (on_writer(f)) return IOTKIT_ERR_STATE;
  iotkit__fleet_job_t job;
  memset(&job, 0, sizeof(job));
  job.run = fn;
  job.arg = arg;
  wq_lock(f);
  enqueue(f, &job);
  while (!job.done) wq_wait(f, f->wq_done);
  wq_unlock(f);
  if (job.rc != IOTKIT_OK) iotkit__fleet_set_error(f, "%s", job.err);
  return job.rc;
}

static iotkit_err_t queue_async(iotkit_fleet_t *f, iotkit__fleet_job_fn fn, void *arg, void (*drop)(void *arg),
                                uint64_t not_before) {
  iotkit__fleet_job_t *job = calloc(1, sizeof(*job));
  if (!job) {
    if (drop) drop(arg);
    return IOTKIT_ERR_NOMEM;
  }
  job->run = fn;
  job->arg = arg;
  job->drop = drop;
  job->async = true;
  job->not_before = not_before;
  wq_lock(f);
  if (f->queued_async >= IOTKIT__FLEET_QUEUE_MAX) {
    wq_unlock(f);
    free(job);
    if (drop) drop(arg);
    iotkit__fleet_set_error(f, "the fleet's write queue is full (%u writes waiting)", IOTKIT__FLEET_QUEUE_MAX);
    return IOTKIT_ERR_QUEUE_FULL;
  }
  f->queued_async++;
  enqueue(f, job);
  wq_unlock(f);
  return IOTKIT_OK;
}

iotkit_err_t iotkit__fleet_write_async(iotkit_fleet_t *f, iotkit__fleet_job_fn fn, void *arg,
                                       void (*drop)(void *arg)) {
  return queue_async(f, fn, arg, drop, 0);
}

iotkit_err_t iotkit__fleet_write_deferred(iotkit_fleet_t *f, iotkit__fleet_job_fn fn, void *arg,
                                          void (*drop)(void *arg), uint32_t delay_ms) {
  return queue_async(f, fn, arg, drop, delay_ms ? iotkit__fleet_mono(f) + delay_ms : 0);
}

static iotkit_err_t nothing(iotkit_fleet_t *f, void *arg, char *err, size_t cap) {
  (void)f, (void)arg, (void)err, (void)cap;
  return IOTKIT_OK;
}

iotkit_err_t iotkit__fleet_flush(iotkit_fleet_t *f) {
  /* The queue is FIFO: once an empty job has run, everything before it has too. */
  return iotkit__fleet_write(f, nothing, NULL);
}
