/* Shared set-up for device tests. */
#include "device_fixture.h"

#include <criterion/criterion.h>
#include <string.h>

void device_fixture_init(device_fixture_t *f, const char *uri) {
  memset(f, 0, sizeof(*f));
  cr_assert_eq(iotkit_hal_memory_new(NULL, &f->hal), IOTKIT_OK);
  iotkit_device_config_init(&f->cfg);
  f->cfg.device_id = "dev-1";
  f->cfg.uri = uri;
  f->cfg.hal = f->hal;
}

iotkit_device_t *device_fixture_connect(device_fixture_t *f) {
  iotkit_device_t *dev = NULL;
  cr_assert_eq(iotkit_device_new(&f->cfg, &dev), IOTKIT_OK);
  iotkit_err_t err = iotkit_device_connect(dev);
  char why[IOTKIT_ERROR_TEXT_SIZE];
  cr_assert_eq(err, IOTKIT_OK, "connect: %s: %s", iotkit_err_name(err), iotkit_device_last_error(dev, why, sizeof(why)));
  return dev;
}

bool device_fixture_wait(device_fixture_t *f, iotkit_device_t *dev, bool (*done)(void *arg), void *arg,
                         unsigned budget_ms) {
  uint64_t start = f->hal->monotonic_ms(f->hal->ctx);
  while (!done(arg)) {
    if (f->hal->monotonic_ms(f->hal->ctx) - start >= budget_ms) return false;
    if (dev)
      (void)iotkit_device_poll(dev, 50);
    else
      f->hal->sleep_ms(f->hal->ctx, 5);
  }
  return true;
}

bool device_fixture_error_has(const iotkit_device_t *dev, const char *needle) {
  char buf[IOTKIT_ERROR_TEXT_SIZE];
  return strstr(iotkit_device_last_error(dev, buf, sizeof(buf)), needle) != NULL;
}

void device_fixture_fini(device_fixture_t *f) {
  iotkit_hal_free(f->hal);
  f->hal = NULL;
}
