/* Commands: dispatch, responses (now, later, from another thread), deadlines,
   bad requests; events; what is not for this device. On the capture transport. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_fixture.h"

static model_fixture_t fx;
static void setup(void) { model_fixture_init(&fx); }
static void teardown(void) { model_fixture_fini(&fx); }
TestSuite(device_commands, .init = setup, .fini = teardown);

static iotkit_command_t *held[32];
static int nheld;
static char last_params[128];

static void hold(iotkit_device_t *dev, void *user, const char *id, const char *name, const char *params,
                 iotkit_command_t *cmd) {
  (void)dev, (void)user, (void)id, (void)name;
  snprintf(last_params, sizeof(last_params), "%s", params);
  held[nheld++] = cmd;
}

static void echo(iotkit_device_t *dev, void *user, const char *id, const char *name, const char *params,
                 iotkit_command_t *cmd) {
  (void)dev, (void)user, (void)id, (void)name;
  cr_assert_eq(iotkit_command_complete(cmd, params), IOTKIT_OK);
}

static void connected_with_handlers(void) {
  cr_assert_eq(iotkit_device_new(&fx.cfg, &fx.dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_command_register(fx.dev, "hold", hold, NULL), IOTKIT_OK);
  cr_assert_eq(iotkit_device_command_register(fx.dev, "echo", echo, NULL), IOTKIT_OK);
  model_fixture_connect(&fx);
}

static void request(const char *json) { model_fixture_inject(&fx, "commands/request", json); }
static const char *response(void) { return model_fixture_last("commands/response"); }

Test(device_commands, synchronous_result) {
  connected_with_handlers();
  request("{\"id\":\"a1\",\"name\":\"echo\",\"params\":{\"x\":[1,2]}}");
  cr_assert_str_eq(response(), "{\"id\":\"a1\",\"status\":\"ok\",\"result\":{\"x\":[1,2]}}");
}

Test(device_commands, missing_params_are_an_empty_object) {
  connected_with_handlers();
  request("{\"id\":\"a2\",\"name\":\"hold\"}");
  cr_assert_str_eq(last_params, "{}");
  cr_assert_eq(iotkit_command_complete(held[0], NULL), IOTKIT_OK);
  cr_assert_str_eq(response(), "{\"id\":\"a2\",\"status\":\"ok\",\"result\":{}}");
}

Test(device_commands, handler_error) {
  connected_with_handlers();
  request("{\"id\":\"e\",\"name\":\"hold\"}");
  cr_assert_eq(iotkit_command_fail(held[0], "invalid_params", "x \"quoted\""), IOTKIT_OK);
  cr_assert_str_eq(response(),
                   "{\"id\":\"e\",\"status\":\"error\",\"error\":{\"code\":\"invalid_params\",\"message\":\"x \\\"quoted\\\"\"}}");
}

static void *complete_later(void *arg) {
  cr_assert_eq(iotkit_command_complete(arg, "42"), IOTKIT_OK);
  return NULL;
}

Test(device_commands, result_from_another_thread) {
  connected_with_handlers();
  request("{\"id\":\"t\",\"name\":\"hold\"}");
  pthread_t th;
  cr_assert_eq(pthread_create(&th, NULL, complete_later, held[0]), 0);
  pthread_join(th, NULL);
  cr_assert_str_eq(response(), "{\"id\":\"t\",\"status\":\"ok\",\"result\":42}");
}

Test(device_commands, unknown_command) {
  connected_with_handlers();
  request("{\"id\":\"u\",\"name\":\"nope\"}");
  cr_assert_str_eq(response(),
                   "{\"id\":\"u\",\"status\":\"error\",\"error\":{\"code\":\"unknown_command\",\"message\":\"no handler for command 'nope'\"}}");
}

Test(device_commands, removed_handler_is_unknown) {
  connected_with_handlers();
  cr_assert_eq(iotkit_device_command_register(fx.dev, "echo", NULL, NULL), IOTKIT_OK);
  request("{\"id\":\"r\",\"name\":\"echo\"}");
  cr_assert_not_null(strstr(response(), "unknown_command"));
}

Test(device_commands, timeout_response_and_late_result) {
  fx.cfg.command_timeout_ms = 500;
  connected_with_handlers();
  request("{\"id\":\"s\",\"name\":\"hold\"}");
  model_fixture_advance(&fx, 499);
  model_fixture_pump(&fx);
  cr_assert_eq(model_fixture_count("commands/response"), 0);
  model_fixture_advance(&fx, 1);
  model_fixture_pump(&fx);
  cr_assert_str_eq(response(),
                   "{\"id\":\"s\",\"status\":\"error\",\"error\":{\"code\":\"timeout\",\"message\":\"no result within 500 ms\"}}");
  cr_assert_eq(iotkit_command_complete(held[0], "{}"), IOTKIT_ERR_TIMEOUT);
  cr_assert_eq(model_fixture_count("commands/response"), 1);
}

Test(device_commands, busy_when_too_many_are_pending) {
  connected_with_handlers();
  char json[64];
  for (unsigned i = 0; i < IOTKIT_MAX_PENDING_COMMANDS; i++) {
    snprintf(json, sizeof(json), "{\"id\":\"%u\",\"name\":\"hold\"}", i);
    request(json);
  }
  cr_assert_eq(model_fixture_count("commands/response"), 0);
  request("{\"id\":\"over\",\"name\":\"hold\"}");
  cr_assert_not_null(strstr(response(), "{\"id\":\"over\",\"status\":\"error\",\"error\":{\"code\":\"busy\""));
  cr_assert_eq(iotkit_command_complete(held[0], NULL), IOTKIT_OK); /* one slot free again */
  request("{\"id\":\"next\",\"name\":\"echo\"}");
  cr_assert_str_eq(response(), "{\"id\":\"next\",\"status\":\"ok\",\"result\":{}}");
  /* the others are released by free */
}

Test(device_commands, bad_result_json_keeps_the_command_open) {
  connected_with_handlers();
  request("{\"id\":\"b\",\"name\":\"hold\"}");
  cr_assert_eq(iotkit_command_complete(held[0], "{oops"), IOTKIT_ERR_BAD_ENCODING);
  cr_assert_eq(iotkit_command_fail(held[0], "", "x"), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_command_fail(held[0], NULL, "x"), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(model_fixture_count("commands/response"), 0);
  cr_assert_eq(iotkit_command_fail(held[0], "internal", NULL), IOTKIT_OK);
  cr_assert_str_eq(response(), "{\"id\":\"b\",\"status\":\"error\",\"error\":{\"code\":\"internal\",\"message\":\"\"}}");
}

Test(device_commands, result_over_max_payload_keeps_the_command_open) {
  fx.cfg.max_payload = 80;
  connected_with_handlers();
  request("{\"id\":\"big\",\"name\":\"hold\"}");
  cr_assert_eq(iotkit_command_complete(held[0], "\"0123456789012345678901234567890123456789012345678901234567890\""),
               IOTKIT_ERR_TOO_LARGE);
  cr_assert_eq(iotkit_command_complete(held[0], "1"), IOTKIT_OK);
}

Test(device_commands, complete_null) { cr_assert_eq(iotkit_command_complete(NULL, "{}"), IOTKIT_ERR_INVALID_ARG); }
Test(device_commands, fail_null) { cr_assert_eq(iotkit_command_fail(NULL, "x", "y"), IOTKIT_ERR_INVALID_ARG); }

Test(device_commands, register_bad_name) {
  connected_with_handlers();
  cr_assert_eq(iotkit_device_command_register(fx.dev, "a/b", echo, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_device_command_register(fx.dev, "", echo, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_device_command_register(fx.dev, NULL, echo, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_device_command_register(NULL, "x", echo, NULL), IOTKIT_ERR_INVALID_ARG);
}

Test(device_commands, unregister_unknown) {
  connected_with_handlers();
  cr_assert_eq(iotkit_device_command_register(fx.dev, "never", NULL, NULL), IOTKIT_ERR_NOT_FOUND);
}

/* ------------------------------------------------------- bad requests -- */

static void expect_ignored(const char *json, const char *why) {
  connected_with_handlers();
  request(json);
  cr_assert_eq(model_fixture_count("commands/response"), 0);
  char line[160];
  snprintf(line, sizeof(line), "ignored a command request: %s", why);
  cr_assert(model_fixture_log_has(&fx, line), "log: %s", iotkit_hal_memory_log(fx.hal));
  request("{\"id\":\"after\",\"name\":\"echo\"}"); /* it keeps answering */
  cr_assert_str_eq(response(), "{\"id\":\"after\",\"status\":\"ok\",\"result\":{}}");
}

Test(device_commands, malformed_json_is_ignored) {
  expect_ignored("{\"id\":\"1\",\"name\":\"echo\",\"params\":{bad}}", "not JSON");
}
Test(device_commands, not_an_object_is_ignored) { expect_ignored("\"ping\"", "not a JSON object"); }
Test(device_commands, missing_id_is_ignored) {
  expect_ignored("{\"name\":\"echo\"}", "no id (a string of 1..64 bytes)");
}
Test(device_commands, numeric_id_is_ignored) {
  expect_ignored("{\"id\":7,\"name\":\"echo\"}", "no id (a string of 1..64 bytes)");
}
Test(device_commands, overlong_id_is_ignored) {
  expect_ignored("{\"id\":\"01234567890123456789012345678901234567890123456789012345678901234\",\"name\":\"echo\"}",
                 "no id (a string of 1..64 bytes)");
}

Test(device_commands, params_not_an_object_is_bad_request) {
  connected_with_handlers();
  request("{\"id\":\"p\",\"name\":\"echo\",\"params\":[1]}");
  cr_assert_str_eq(response(),
                   "{\"id\":\"p\",\"status\":\"error\",\"error\":{\"code\":\"bad_request\",\"message\":\"params must be a JSON object\"}}");
}

Test(device_commands, missing_name_is_bad_request) {
  connected_with_handlers();
  request("{\"id\":\"n\"}");
  cr_assert_str_eq(response(),
                   "{\"id\":\"n\",\"status\":\"error\",\"error\":{\"code\":\"bad_request\",\"message\":\"no command name\"}}");
}

Test(device_commands, request_for_another_device_is_ignored) {
  connected_with_handlers();
  const char *json = "{\"id\":\"x\",\"name\":\"echo\"}";
  capture_inject("iotkit/v1/sensor-2/commands/request", json, strlen(json));
  model_fixture_pump(&fx);
  cr_assert_eq(capture_count_on("iotkit/v1/sensor-2/commands/response"), 0);
  cr_assert_eq(model_fixture_count("commands/response"), 0);
  cr_assert(model_fixture_log_has(&fx, "ignored a message on iotkit/v1/sensor-2/commands/request: not a channel of this device"));
}

Test(device_commands, request_over_max_payload_is_ignored) {
  fx.cfg.max_payload = 40;
  connected_with_handlers();
  request("{\"id\":\"1\",\"name\":\"echo\",\"params\":{\"pad\":\"0123456789\"}}");
  cr_assert_eq(model_fixture_count("commands/response"), 0);
  cr_assert(model_fixture_log_has(&fx, "ignored a message of 54 bytes on iotkit/v1/sensor-1/commands/request (max_payload 40)"));
  request("{\"id\":\"2\",\"name\":\"echo\"}");
  cr_assert_str_eq(response(), "{\"id\":\"2\",\"status\":\"ok\",\"result\":{}}");
}

/* -------------------------------------------------------------- events -- */

Test(device_commands, event_bad_type) {
  connected_with_handlers();
  cr_assert_eq(iotkit_device_event(fx.dev, "a/b", NULL, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_device_event(fx.dev, "", NULL, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_device_event(fx.dev, NULL, NULL, NULL), IOTKIT_ERR_INVALID_ARG);
}

Test(device_commands, event_bad_data) {
  connected_with_handlers();
  cr_assert_eq(iotkit_device_event(fx.dev, "alarm", "{", NULL), IOTKIT_ERR_BAD_ENCODING);
}

Test(device_commands, event_while_offline) {
  cr_assert_eq(iotkit_device_new(&fx.cfg, &fx.dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_event(fx.dev, "alarm", NULL, NULL), IOTKIT_ERR_NOT_CONNECTED);
}

static int deliveries;
static uint32_t delivered_id;
static void on_delivery(iotkit_device_t *dev, void *user, uint32_t id, iotkit_err_t status) {
  (void)dev, (void)user, (void)status;
  deliveries++;
  delivered_id = id;
}

/* Status, reported state and responses are the library's: only the event's confirmation is passed on. */
Test(device_commands, only_the_applications_messages_are_confirmed_to_it) {
  cr_assert_eq(iotkit_device_new(&fx.cfg, &fx.dev), IOTKIT_OK);
  iotkit_device_on_delivery(fx.dev, on_delivery, NULL);
  iotkit_device_command_register(fx.dev, "echo", echo, NULL);
  model_fixture_connect(&fx);
  cr_assert_eq(iotkit_device_report(fx.dev, "{\"a\":1}"), IOTKIT_OK);
  request("{\"id\":\"1\",\"name\":\"echo\"}");
  uint32_t id = 0;
  cr_assert_eq(iotkit_device_event(fx.dev, "alarm", NULL, &id), IOTKIT_OK);
  model_fixture_pump(&fx);
  cr_assert_eq(deliveries, 1);
  cr_assert_eq(delivered_id, id);
}
