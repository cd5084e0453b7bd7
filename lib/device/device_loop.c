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
  const iotkit_hal_t *hal = dev->hal;
  while (!stop_requested(dev)) {
    /* tctx cannot change while the loop runs: connect, disconnect and free
       refuse to run (or stop the loop first). */
    iotkit_err_t err = dev->tctx ? dev->ops->poll(dev->tctx, IOTKIT__DEVICE_LOOP_POLL_MS) : IOTKIT_ERR_NOT_CONNECTED;
    if (err != IOTKIT_OK || !iotkit_device_is_connected(dev)) {
      /* Without a connection poll() returns at once: do not spin. */
      hal->sleep_ms(hal->ctx, IOTKIT__DEVICE_LOOP_POLL_MS);
    }
  }
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
