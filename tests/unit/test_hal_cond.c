/* The HAL's optional condition variables (0.3.0) in both shipped HALs: a timed
   wait runs out with IOTKIT_ERR_TIMEOUT, a broadcast from another HAL thread
   wakes the waiter, and a HAL of the 0.2.0 layout has none. */
#include <criterion/criterion.h>
#include <stddef.h>
#include <stdio.h>

#include "hal_tmpdir.h"
#include "iotkit/iotkit.h"

static char g_dir[256];

static iotkit_hal_t *make_hal(bool posix) {
  iotkit_hal_t *hal = NULL;
  if (posix) {
    hal_tmpdir_make(g_dir, sizeof(g_dir));
    iotkit_hal_posix_config_t cfg;
    iotkit_hal_posix_config_init(&cfg);
    cfg.state_dir = g_dir;
    cfg.log_fd = -1;
    cr_assert_eq(iotkit_hal_posix_new(&cfg, &hal), IOTKIT_OK);
  } else {
    cr_assert_eq(iotkit_hal_memory_new(NULL, &hal), IOTKIT_OK);
  }
  return hal;
}

static void drop_hal(iotkit_hal_t *hal, bool posix) {
  iotkit_hal_free(hal);
  if (posix) hal_tmpdir_remove(g_dir);
}

typedef struct {
  const iotkit_hal_t *hal;
  void *mutex;
  void *cond;
  bool flag;
} waker_t;

static void wake_main(void *arg) {
  waker_t *w = arg;
  w->hal->sleep_ms(w->hal->ctx, 20);
  w->hal->mutex_lock(w->hal->ctx, w->mutex);
  w->flag = true;
  w->hal->cond_broadcast(w->hal->ctx, w->cond);
  w->hal->mutex_unlock(w->hal->ctx, w->mutex);
}

static void check_cond(bool posix) {
  iotkit_hal_t *hal = make_hal(posix);
  cr_assert_not_null(hal->cond_new);
  cr_assert_not_null(hal->cond_wait);
  cr_assert_not_null(hal->cond_broadcast);
  cr_assert_not_null(hal->cond_free);
  waker_t w = {.hal = hal};
  cr_assert_eq(hal->mutex_new(hal->ctx, &w.mutex), IOTKIT_OK);
  cr_assert_eq(hal->cond_new(hal->ctx, &w.cond), IOTKIT_OK);
  cr_assert_eq(hal->cond_new(hal->ctx, NULL), IOTKIT_ERR_INVALID_ARG);

  hal->mutex_lock(hal->ctx, w.mutex);
  cr_assert_eq(hal->cond_wait(hal->ctx, w.cond, w.mutex, 10), IOTKIT_ERR_TIMEOUT);
  hal->mutex_unlock(hal->ctx, w.mutex);

  void *thread = NULL;
  cr_assert_eq(hal->thread_start(hal->ctx, wake_main, &w, &thread), IOTKIT_OK);
  hal->mutex_lock(hal->ctx, w.mutex);
  while (!w.flag) cr_assert_eq(hal->cond_wait(hal->ctx, w.cond, w.mutex, IOTKIT_HAL_WAIT_FOREVER), IOTKIT_OK);
  hal->mutex_unlock(hal->ctx, w.mutex);
  cr_assert_eq(hal->thread_join(hal->ctx, thread), IOTKIT_OK);

  hal->cond_free(hal->ctx, w.cond);
  hal->cond_free(hal->ctx, NULL);
  hal->mutex_free(hal->ctx, w.mutex);
  drop_hal(hal, posix);
}

Test(hal_cond, memory_hal_waits_and_wakes, .timeout = 30) { check_cond(false); }

Test(hal_cond, posix_hal_waits_and_wakes, .timeout = 30) { check_cond(true); }

Test(hal_cond, init_leaves_them_null) {
  iotkit_hal_t hal;
  iotkit_hal_init(&hal);
  cr_assert_null(hal.cond_new);
  cr_assert_null(hal.cond_wait);
  cr_assert_null(hal.cond_broadcast);
  cr_assert_null(hal.cond_free);
  cr_assert_eq(hal.struct_size, sizeof(iotkit_hal_t));
  /* They come after the 0.2.0 layout, so a HAL of that size has none. */
  cr_assert_geq(offsetof(iotkit_hal_t, cond_new), offsetof(iotkit_hal_t, thread_self) + sizeof(hal.thread_self));
}
