/* Shared set-up for device-model unit tests. */
#include "model_fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#define CH(buf, suffix) snprintf(buf, sizeof(buf), "iotkit/v1/sensor-1/%s", suffix)

void model_fixture_init(model_fixture_t *f) {
  memset(f, 0, sizeof(*f));
  iotkit_hal_memory_config_t mc;
  iotkit_hal_memory_config_init(&mc);
  mc.manual_clock = true;
  cr_assert_eq(iotkit_hal_memory_new(&mc, &f->hal), IOTKIT_OK);
  iotkit_device_config_init(&f->cfg);
  f->cfg.device_id = "sensor-1";
  f->cfg.uri = "cap://local";
  f->cfg.hal = f->hal;
  f->cfg.transports = capture_registry();
  cr_assert_not_null(f->cfg.transports);
}

iotkit_device_t *model_fixture_connect(model_fixture_t *f) {
  if (!f->dev) cr_assert_eq(iotkit_device_new(&f->cfg, &f->dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_connect(f->dev), IOTKIT_OK);
  model_fixture_pump(f);
  return f->dev;
}

void model_fixture_pump(model_fixture_t *f) {
  for (int i = 0; i < 4; i++) (void)iotkit_device_poll(f->dev, 0);
}

void model_fixture_advance(model_fixture_t *f, uint64_t ms) {
  cr_assert_eq(iotkit_hal_memory_advance(f->hal, ms), IOTKIT_OK);
}

void model_fixture_inject(model_fixture_t *f, const char *suffix, const char *json) {
  char ch[256];
  CH(ch, suffix);
  capture_inject(ch, json, strlen(json));
  model_fixture_pump(f);
}

const char *model_fixture_last(const char *suffix) {
  char ch[256];
  CH(ch, suffix);
  const capture_msg_t *m = capture_last_on(ch);
  return m ? m->payload : NULL;
}

size_t model_fixture_count(const char *suffix) {
  char ch[256];
  CH(ch, suffix);
  return capture_count_on(ch);
}

bool model_fixture_log_has(model_fixture_t *f, const char *needle) {
  return strstr(iotkit_hal_memory_log(f->hal), needle) != NULL;
}

void model_fixture_fini(model_fixture_t *f) {
  iotkit_device_free(f->dev);
  iotkit_hal_free(f->hal);
  memset(f, 0, sizeof(*f));
}
