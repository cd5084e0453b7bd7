/* End-to-end payload protection of the device on the capture transport:
   configuration errors, max_payload on the plaintext, what a drop logs. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "model_fixture.h"

static const uint8_t KEY[32] = {7, 7, 7, 7};
static model_fixture_t f;

static void setup(void) {
  model_fixture_init(&f);
  f.cfg.e2e_key = KEY;
  f.cfg.e2e_key_id = "k1";
}
static void teardown(void) { model_fixture_fini(&f); }
TestSuite(device_e2e, .init = setup, .fini = teardown, .timeout = 30);

static iotkit_err_t make(void) { return iotkit_device_new(&f.cfg, &f.dev); }

Test(device_e2e, key_without_key_id_is_invalid) {
  f.cfg.e2e_key_id = NULL;
  cr_assert_eq(make(), IOTKIT_ERR_INVALID_ARG);
  cr_assert_null(f.dev);
}

Test(device_e2e, key_id_without_key_is_invalid) {
  f.cfg.e2e_key = NULL;
  cr_assert_eq(make(), IOTKIT_ERR_INVALID_ARG);
  cr_assert_null(f.dev);
}

Test(device_e2e, unsafe_key_id_is_invalid) {
  f.cfg.e2e_key_id = "k/1";
  cr_assert_eq(make(), IOTKIT_ERR_INVALID_ARG);
}

Test(device_e2e, overlong_key_id_is_invalid) {
  f.cfg.e2e_key_id = "k23456789012345678901234567890123"; /* 33 bytes */
  cr_assert_eq(make(), IOTKIT_ERR_INVALID_ARG);
}

Test(device_e2e, rejected_count_of_null_is_zero) { cr_assert_eq(iotkit_device_e2e_rejected(NULL), 0); }

Test(device_e2e, max_payload_applies_to_the_plaintext) {
  f.cfg.max_payload = 64;
  model_fixture_connect(&f);
  uint8_t buf[65];
  memset(buf, 'a', sizeof(buf));
  cr_assert_eq(iotkit_device_send_telemetry(f.dev, buf, 64, NULL), IOTKIT_OK);
  const capture_msg_t *m = capture_last_on("iotkit/v1/sensor-1/telemetry");
  cr_assert_not_null(m);
  cr_assert_eq(m->len, 64 + IOTKIT_ENVELOPE_OVERHEAD(2));
  cr_assert_eq((uint8_t)m->payload[0], IOTKIT_ENVELOPE_V1);
  cr_assert_eq(iotkit_device_send_telemetry(f.dev, buf, 65, NULL), IOTKIT_ERR_TOO_LARGE);
}

Test(device_e2e, the_nonce_counter_is_kept_in_the_hal_store) {
  model_fixture_connect(&f);
  cr_assert_eq(iotkit_device_send_telemetry(f.dev, "1", 1, NULL), IOTKIT_OK);
  uint8_t ctr[8];
  size_t n = 0;
  cr_assert_eq(f.hal->kv_get(f.hal->ctx, "iotkit.envelope.k1", ctr, sizeof(ctr), &n), IOTKIT_OK);
  cr_assert_eq(n, 8);
}

Test(device_e2e, status_and_last_will_stay_plain) {
  model_fixture_connect(&f);
  cr_assert_str_eq(capture_will_payload(), "{\"status\":\"offline\",\"reason\":\"connection_lost\"}");
  const char *status = model_fixture_last("status");
  cr_assert_not_null(status);
  cr_assert_eq(status[0], '{');
}

Test(device_e2e, a_dropped_message_is_logged_without_its_payload) {
  model_fixture_connect(&f);
  model_fixture_inject(&f, "commands/request", "{\"id\":\"x\",\"name\":\"secret-marker\"}");
  cr_assert_eq(iotkit_device_e2e_rejected(f.dev), 1);
  cr_assert(model_fixture_log_has(&f, "dropped a message"));
  cr_assert_not(model_fixture_log_has(&f, "secret-marker"));
  cr_assert_eq(model_fixture_count("commands/response"), 0);
}

Test(device_e2e, a_nonce_store_failure_sends_nothing_and_returns_the_hal_error) {
  /* Telemetry sent directly, so that the next HAL write is the nonce store's (the
     durable queue would otherwise write its record first). */
  f.cfg.telemetry_durable = false;
  model_fixture_connect(&f);
  cr_assert_eq(iotkit_hal_memory_fail_write(f.hal, 1), IOTKIT_OK);
  cr_assert_eq(iotkit_device_send_telemetry(f.dev, "1", 1, NULL), IOTKIT_ERR_INJECTED);
  cr_assert_eq(model_fixture_count("telemetry"), 0);
  char err[256];
  cr_assert(strstr(iotkit_device_last_error(f.dev, err, sizeof err), "publish on iotkit/v1/sensor-1/telemetry failed"));
  cr_assert_eq(iotkit_device_send_telemetry(f.dev, "1", 1, NULL), IOTKIT_OK);
  cr_assert_eq(model_fixture_count("telemetry"), 1);
}

static char app_seen[64];
static void on_message(iotkit_device_t *d, void *user, const char *channel, const void *payload, size_t len) {
  (void)d, (void)user, (void)channel;
  snprintf(app_seen, sizeof app_seen, "%.*s", (int)len, (const char *)payload);
}

Test(device_e2e, a_sealed_message_on_an_application_channel_reaches_on_message_opened) {
  model_fixture_connect(&f);
  iotkit_device_on_message(f.dev, on_message, NULL);
  iotkit_envelope_config_t ec;
  iotkit_envelope_config_init(&ec);
  ec.key = KEY;
  ec.key_id = "k1";
  ec.device_id = "sensor-1";
  iotkit_hal_t *fleet_hal = NULL; /* the fleet side keeps its own counter */
  cr_assert_eq(iotkit_hal_memory_new(NULL, &fleet_hal), IOTKIT_OK);
  ec.hal = fleet_hal;
  ec.sender = 1;
  iotkit_envelope_t *fleet = NULL;
  cr_assert_eq(iotkit_envelope_new(&ec, &fleet), IOTKIT_OK);
  uint8_t env[128];
  size_t n = 0;
  cr_assert_eq(iotkit_envelope_seal(fleet, "app/x", "hello", 5, env, sizeof env, &n), IOTKIT_OK);
  iotkit_envelope_free(fleet);
  iotkit_hal_free(fleet_hal);
  capture_inject("iotkit/v1/sensor-1/app/x", env, n);
  model_fixture_pump(&f);
  cr_assert_str_eq(app_seen, "hello");
  cr_assert_eq(iotkit_device_e2e_rejected(f.dev), 0);
}
