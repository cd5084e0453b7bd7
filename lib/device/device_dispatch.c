/* Callback dispatch: a replaced callback is not running once its setter has returned,
   and a callback cannot pull its own device away from under the thread running it.

   Every call of a user callback is bracketed by iotkit__device_cb_enter() and
   iotkit__device_cb_leave(), which hold the device's dispatch mutex (cb_lock) for the
   length of the call; the dispatcher reads the callback and user pointers only after
   enter. A setter swaps the pointers under lock, then takes and releases cb_lock: once
   it has had it, the call that was running with the old pointers (if any) has ended,
   and every later dispatch reads the new ones. That is what lets a binding free the
   old user pointer as soon as the setter returns.

   A callback may call the setters, send, report... of its own device: the thread
   holding cb_lock is recorded (cb_owner, cb_depth, under lock), so a nested dispatch
   does not take cb_lock again (a HAL mutex need not be recursive) and a setter called
   from inside a callback returns at once instead of waiting for itself. cb_lock is
   the device's outermost lock: it is taken with no other device lock held, and the
   code inside a callback takes the others as it always did.

   Without the HAL's optional thread_self no thread can be told from another, so
   cb_lock is not used (a setter from inside a callback would wait for itself): the
   setters then return without waiting, and only the polling-mode case of
   iotkit__device_in_callback() is detected. */
#include "device/device_internal.h"

/* The calling thread's id, or 0 when the HAL cannot tell. */
static uint64_t self_id(const iotkit_device_t *dev) {
  const iotkit_hal_t *hal = dev->hal;
  return hal->thread_self ? hal->thread_self(hal->ctx) : 0;
}

iotkit_err_t iotkit__device_dispatch_init(iotkit_device_t *dev) {
  dev->fd = -1;
  return dev->hal->mutex_new(dev->hal->ctx, &dev->cb_lock);
}

void iotkit__device_dispatch_free(iotkit_device_t *dev) {
  if (dev->hal && dev->cb_lock) dev->hal->mutex_free(dev->hal->ctx, dev->cb_lock);
  dev->cb_lock = NULL;
}

void iotkit__device_cb_enter(iotkit_device_t *dev) {
  uint64_t self = self_id(dev);
  iotkit__device_lock(dev);
  bool nested = dev->cb_depth > 0 && dev->cb_owner == self;
  if (nested || self == 0) {
    dev->cb_depth++;
    iotkit__device_unlock(dev);
    return;
  }
  iotkit__device_unlock(dev);
  dev->hal->mutex_lock(dev->hal->ctx, dev->cb_lock);
  iotkit__device_lock(dev);
  dev->cb_owner = self;
  dev->cb_depth = 1;
  iotkit__device_unlock(dev);
}

void iotkit__device_cb_leave(iotkit_device_t *dev) {
  iotkit__device_lock(dev);
  bool release = false;
  if (dev->cb_depth > 0 && --dev->cb_depth == 0 && dev->cb_owner != 0) {
    dev->cb_owner = 0;
    release = true;
  }
  iotkit__device_unlock(dev);
  if (release) dev->hal->mutex_unlock(dev->hal->ctx, dev->cb_lock);
}

void iotkit__device_cb_wait(iotkit_device_t *dev) {
  uint64_t self = self_id(dev);
  if (self == 0) return;
  iotkit__device_lock(dev);
  bool inside = dev->cb_depth > 0 && dev->cb_owner == self;
  iotkit__device_unlock(dev);
  /* From inside a callback the one running is the caller itself. */
  if (inside) return;
  dev->hal->mutex_lock(dev->hal->ctx, dev->cb_lock);
  dev->hal->mutex_unlock(dev->hal->ctx, dev->cb_lock);
}

bool iotkit__device_in_callback(const iotkit_device_t *dev) {
  uint64_t self = self_id(dev);
  iotkit__device_lock(dev);
  /* Without thread ids: with no background loop only the controlling thread dispatches,
     and only it may call the functions that ask, so a callback running is its own. */
  bool in = dev->cb_depth > 0 && (self != 0 ? dev->cb_owner == self : !dev->running);
  iotkit__device_unlock(dev);
  return in;
}
