/* The background loop: a HAL thread that polls the transport until told to stop. */
#include "device/device_internal.h"

static bool stop_requested(iotkit_device_t *dev) {
  iotkit__device_lock(dev);
  bool stop = dev->stop_requested;
  iotkit__device_unlock(dev);
  return stop;
}

static void loop_main(void *arg) {
  iotkit_device_t *dev = arg;
  /* While the loop runs it is the only thread that touches the transport and
     the supervisor: connect, disconnect, subscribe and free refuse, defer, or
     stop the loop first. */
  while (!stop_requested(dev)) iotkit__device_supervise(dev, IOTKIT__DEVICE_LOOP_POLL_MS);
}

iotkit_err_t iotkit_device_start(iotkit_device_t *dev) {
  if (!dev) return IOTKIT_ERR_INVALID_ARG;
  if (dev->running) return IOTKIT_ERR_STATE;
  const iotkit_hal_t *hal = dev->hal;
  /* Without a sleep the loop would spin while disconnected. */
  if (!hal->thread_start || !hal->thread_join || !hal->sleep_ms) return IOTKIT_ERR_UNSUPPORTED;
  iotkit__device_lock(dev);
  dev->stop_requested = false;
  iotkit__device_unlock(dev);
  /* A device not yet connected (or disconnected) is connected by the loop. */
  if (dev->sup == IOTKIT__SUP_IDLE && !iotkit_device_is_connected(dev)) {
    dev->sup = IOTKIT__SUP_WAIT;
    dev->next_attempt = iotkit__device_now(dev);
  }
  dev->running = true;
  void *thread = NULL;
  iotkit_err_t err = hal->thread_start(hal->ctx, loop_main, dev, &thread);
  if (err != IOTKIT_OK) {
    dev->running = false;
    iotkit__device_set_error(dev, "cannot start the background loop: %s", iotkit_strerror(err));
    return err;
  }
  dev->thread = thread;
  return IOTKIT_OK;
}

iotkit_err_t iotkit_device_stop(iotkit_device_t *dev) {
  if (!dev) return IOTKIT_ERR_INVALID_ARG;
  /* From the loop's own callback: the loop cannot join itself, and a stop flag set
     here would end it behind the application's back. Nothing is changed. */
  if (iotkit__device_in_callback(dev)) return IOTKIT_ERR_STATE;
  if (!dev->running) return IOTKIT_ERR_STATE;
  iotkit__device_lock(dev);
  dev->stop_requested = true;
  iotkit__device_unlock(dev);
  iotkit_err_t err = dev->hal->thread_join(dev->hal->ctx, dev->thread);
  dev->thread = NULL;
  dev->running = false;
  return err;
}

void iotkit__device_loop_halt(iotkit_device_t *dev) {
  if (dev->running) (void)iotkit_device_stop(dev);
}
