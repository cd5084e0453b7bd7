/* iotkit_device_new(): configuration checks, defaults, accessors and release. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "device_fixture.h"

static device_fixture_t fx;
static void setup(void) { device_fixture_init(&fx, "loop://local"); }
static void teardown(void) { device_fixture_fini(&fx); }
TestSuite(device_config, .init = setup, .fini = teardown);

/* Expect iotkit_device_new(&fx.cfg) to fail with @p want and leave the output alone. */
static void expect_new_fails(iotkit_err_t want) {
  iotkit_device_t *sentinel = (iotkit_device_t *)&fx;
  iotkit_device_t *dev = sentinel;
  iotkit_err_t err = iotkit_device_new(&fx.cfg, &dev);
  cr_assert_eq(err, want, "got %s, want %s", iotkit_err_name(err), iotkit_err_name(want));
  cr_assert_eq(dev, sentinel, "output changed on failure");
}

Test(device_config, init_sets_defaults) {
  iotkit_device_config_t c;
  memset(&c, 0xA5, sizeof(c));
  iotkit_device_config_init(&c);
  cr_assert_eq(c.keepalive_s, IOTKIT_KEEPALIVE_DEFAULT_S);
  cr_assert(c.clean_session);
  cr_assert_eq(c.mqtt_version, 311);
  cr_assert_eq(c.connect_timeout_ms, IOTKIT_CONNECT_TIMEOUT_DEFAULT_MS);
  cr_assert_eq(c.max_payload, IOTKIT_MAX_PAYLOAD_DEFAULT);
  cr_assert_str_eq(c.topic_prefix, IOTKIT_TOPIC_PREFIX_DEFAULT);
  cr_assert_eq(c.telemetry_qos, 1);
  cr_assert(c.tls.verify_peer);
  cr_assert_null(c.hal);
  cr_assert_null(c.device_id);
  iotkit_device_config_init(NULL);
}

Test(device_config, valid_config_creates_device) {
  iotkit_device_t *dev = NULL;
  cr_assert_eq(iotkit_device_new(&fx.cfg, &dev), IOTKIT_OK);
  cr_assert_str_eq(iotkit_device_id(dev), "dev-1");
  cr_assert_eq(iotkit_device_hal(dev), fx.hal);
  cr_assert_not(iotkit_device_is_connected(dev));
  cr_assert_eq(iotkit_device_fd(dev), -1);
  char buf[8] = "x";
  cr_assert_str_eq(iotkit_device_last_error(dev, buf, sizeof(buf)), "");
  iotkit_device_free(dev);
}

Test(device_config, null_cfg) {
  iotkit_device_t *dev = NULL;
  cr_assert_eq(iotkit_device_new(NULL, &dev), IOTKIT_ERR_INVALID_ARG);
  cr_assert_null(dev);
}

Test(device_config, null_out) { cr_assert_eq(iotkit_device_new(&fx.cfg, NULL), IOTKIT_ERR_INVALID_ARG); }

Test(device_config, missing_device_id) {
  fx.cfg.device_id = NULL;
  expect_new_fails(IOTKIT_ERR_INVALID_ARG);
}

Test(device_config, empty_device_id) {
  fx.cfg.device_id = "";
  expect_new_fails(IOTKIT_ERR_INVALID_ARG);
}

Test(device_config, device_id_with_slash) {
  fx.cfg.device_id = "dev/1";
  expect_new_fails(IOTKIT_ERR_INVALID_ARG);
}

Test(device_config, device_id_with_wildcard) {
  fx.cfg.device_id = "dev+1";
  expect_new_fails(IOTKIT_ERR_INVALID_ARG);
}

Test(device_config, device_id_dot_dot) {
  fx.cfg.device_id = "..";
  expect_new_fails(IOTKIT_ERR_INVALID_ARG);
}

Test(device_config, device_id_too_long) {
  char id[IOTKIT_MAX_DEVICE_ID + 2];
  memset(id, 'a', IOTKIT_MAX_DEVICE_ID + 1);
  id[IOTKIT_MAX_DEVICE_ID + 1] = '\0';
  fx.cfg.device_id = id;
  expect_new_fails(IOTKIT_ERR_INVALID_ARG);
}

Test(device_config, device_id_of_max_length_is_accepted) {
  char id[IOTKIT_MAX_DEVICE_ID + 1];
  memset(id, 'a', IOTKIT_MAX_DEVICE_ID);
  id[IOTKIT_MAX_DEVICE_ID] = '\0';
  fx.cfg.device_id = id;
  iotkit_device_t *dev = NULL;
  cr_assert_eq(iotkit_device_new(&fx.cfg, &dev), IOTKIT_OK);
  cr_assert_str_eq(iotkit_device_id(dev), id);
  iotkit_device_free(dev);
}

Test(device_config, missing_uri) {
  fx.cfg.uri = NULL;
  expect_new_fails(IOTKIT_ERR_INVALID_ARG);
}

Test(device_config, bad_uri) {
  fx.cfg.uri = "not a uri";
  expect_new_fails(IOTKIT_ERR_BAD_URI);
}

Test(device_config, bad_uri_port) {
  fx.cfg.uri = "mqtt://127.0.0.1:99999";
  expect_new_fails(IOTKIT_ERR_BAD_URI);
}

Test(device_config, unknown_scheme) {
  fx.cfg.uri = "gopher://127.0.0.1:70";
  expect_new_fails(IOTKIT_ERR_UNKNOWN_SCHEME);
}

Test(device_config, no_hal_and_no_state_dir) {
  fx.cfg.hal = NULL;
  fx.cfg.state_dir = NULL;
  expect_new_fails(IOTKIT_ERR_INVALID_ARG);
}

Test(device_config, hal_missing_required_ops) {
  iotkit_hal_t empty;
  iotkit_hal_init(&empty);
  fx.cfg.hal = &empty;
  expect_new_fails(IOTKIT_ERR_INVALID_ARG);
}

Test(device_config, qos_negative) {
  fx.cfg.telemetry_qos = -1;
  expect_new_fails(IOTKIT_ERR_INVALID_ARG);
}

Test(device_config, qos_three) {
  fx.cfg.telemetry_qos = 3;
  expect_new_fails(IOTKIT_ERR_INVALID_ARG);
}

Test(device_config, bad_mqtt_version) {
  fx.cfg.mqtt_version = 4;
  expect_new_fails(IOTKIT_ERR_INVALID_ARG);
}

Test(device_config, topic_prefix_with_wildcard) {
  fx.cfg.topic_prefix = "iotkit/#";
  expect_new_fails(IOTKIT_ERR_INVALID_ARG);
}

Test(device_config, topic_prefix_with_leading_slash) {
  fx.cfg.topic_prefix = "/iotkit";
  expect_new_fails(IOTKIT_ERR_INVALID_ARG);
}

Test(device_config, state_dir_gives_own_posix_hal) {
  char dir[] = "/tmp/iotkit-device-XXXXXX";
  cr_assert_not_null(mkdtemp(dir));
  char state[sizeof(dir) + 8];
  snprintf(state, sizeof(state), "%s/state", dir);
  fx.cfg.hal = NULL;
  fx.cfg.state_dir = state;
  iotkit_device_t *dev = NULL;
  cr_assert_eq(iotkit_device_new(&fx.cfg, &dev), IOTKIT_OK);
  const iotkit_hal_t *hal = iotkit_device_hal(dev);
  cr_assert_not_null(hal);
  cr_assert_neq(hal, fx.hal);
  cr_assert_eq(iotkit_hal_validate(hal), IOTKIT_OK);
  cr_assert_eq(access(state, F_OK), 0, "state dir not created");
  iotkit_device_free(dev); /* frees the POSIX HAL too (ASan checks the leak) */
  char cmd[sizeof(dir) + 16];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  cr_assert_eq(system(cmd), 0);
}

Test(device_config, unusable_state_dir) {
  fx.cfg.hal = NULL;
  fx.cfg.state_dir = "/proc/self/iotkit-cannot-be-here";
  expect_new_fails(IOTKIT_ERR_IO);
}

Test(device_config, strings_are_copied) {
  char id[] = "dev-7";
  char prefix[] = "acme/v2";
  fx.cfg.device_id = id;
  fx.cfg.topic_prefix = prefix;
  iotkit_device_t *dev = NULL;
  cr_assert_eq(iotkit_device_new(&fx.cfg, &dev), IOTKIT_OK);
  memset(id, 'x', sizeof(id) - 1);
  memset(prefix, 'y', sizeof(prefix) - 1);
  cr_assert_str_eq(iotkit_device_id(dev), "dev-7");
  iotkit_device_free(dev);
}

Test(device_config, free_null_is_noop) { iotkit_device_free(NULL); }

Test(device_config, accessors_accept_null) {
  char buf[4] = "x";
  cr_assert_null(iotkit_device_id(NULL));
  cr_assert_null(iotkit_device_hal(NULL));
  cr_assert_not(iotkit_device_is_connected(NULL));
  cr_assert_eq(iotkit_device_fd(NULL), -1);
  cr_assert_str_eq(iotkit_device_last_error(NULL, buf, sizeof(buf)), "");
  cr_assert_eq(iotkit_device_on_connection(NULL, NULL, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_device_on_delivery(NULL, NULL, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_device_on_message(NULL, NULL, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_device_connect(NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_device_poll(NULL, 0), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_device_start(NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_device_stop(NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_device_disconnect(NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_device_send_telemetry(NULL, "x", 1, NULL), IOTKIT_ERR_INVALID_ARG);
}

Test(device_config, last_error_truncates_to_capacity) {
  fx.cfg.uri = "loop://local?refuse=1";
  iotkit_device_t *dev = NULL;
  cr_assert_eq(iotkit_device_new(&fx.cfg, &dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_ERR_CONNECT);
  char small[6];
  cr_assert_eq(strlen(iotkit_device_last_error(dev, small, sizeof(small))), sizeof(small) - 1);
  iotkit_device_free(dev);
}
