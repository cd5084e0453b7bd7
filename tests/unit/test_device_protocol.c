/* docs/protocol.md is exact: every marked example is compared byte for byte
   with what the device sends (or, for the delta, hands to the application),
   with the manual clock of the memory HAL making every ts deterministic. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_fixture.h"
#include "protocol_examples.h"

static model_fixture_t fx;
static void setup(void) { model_fixture_init(&fx); }
static void teardown(void) { model_fixture_fini(&fx); }
TestSuite(device_protocol, .init = setup, .fini = teardown);

static void expect_sent(const char *name) {
  example_t ex = protocol_example(name);
  const capture_msg_t *m = capture_last_on(ex.channel);
  cr_assert_not_null(m, "nothing sent on %s for example %s", ex.channel, name);
  cr_assert_str_eq(m->payload, ex.json, "example %s:\n sent     %s\n document %s", name, m->payload, ex.json);
  free(ex.json);
}

static void inject_example(const char *name) {
  example_t ex = protocol_example(name);
  capture_inject(ex.channel, ex.json, strlen(ex.json));
  free(ex.json);
  model_fixture_pump(&fx);
}

static char last_delta[512];
static void on_desired(iotkit_device_t *dev, void *user, const char *delta, uint64_t version) {
  (void)dev, (void)user, (void)version;
  snprintf(last_delta, sizeof(last_delta), "%s", delta);
}

static void set_interval(iotkit_device_t *dev, void *user, const char *id, const char *name, const char *params,
                         iotkit_command_t *cmd) {
  (void)dev, (void)user, (void)id, (void)name;
  cr_assert_eq(iotkit_command_complete(cmd, params), IOTKIT_OK);
}

static iotkit_command_t *slow_cmd;
static void slow(iotkit_device_t *dev, void *user, const char *id, const char *name, const char *params,
                 iotkit_command_t *cmd) {
  (void)dev, (void)user, (void)id, (void)name, (void)params;
  slow_cmd = cmd;
}

Test(device_protocol, every_example_matches_what_the_device_sends) {
  cr_assert_eq(iotkit_device_new(&fx.cfg, &fx.dev), IOTKIT_OK);
  iotkit_device_on_desired(fx.dev, on_desired, NULL);
  iotkit_device_command_register(fx.dev, "set_interval", set_interval, NULL);
  iotkit_device_command_register(fx.dev, "slow", slow, NULL);
  model_fixture_connect(&fx);
  expect_sent("status-online");

  example_t will = protocol_example("status-will");
  cr_assert_str_eq(capture_will_channel(), will.channel);
  cr_assert_str_eq(capture_will_payload(), will.json);
  cr_assert(capture_will_retained());
  free(will.json);

  cr_assert_eq(iotkit_device_report(fx.dev, "{\"firmware\":\"1.4.2\",\"interval_ms\":1000,\"location\":{\"room\":\"lab\"}}"),
               IOTKIT_OK);
  expect_sent("reported-first");
  cr_assert_eq(iotkit_device_event(fx.dev, "overheat", "{\"temperature\":85.5}", NULL), IOTKIT_OK);
  expect_sent("event");

  inject_example("desired");
  cr_assert_str_eq(last_delta, "{\"interval_ms\":5000,\"led\":\"on\"}");
  inject_example("command-request");
  expect_sent("command-response");
  model_fixture_inject(&fx, "commands/request", "{\"id\":\"43\",\"name\":\"self_destruct\"}");
  expect_sent("command-unknown");
  model_fixture_inject(&fx, "commands/request", "{\"id\":\"44\",\"name\":\"slow\"}");
  cr_assert_not_null(slow_cmd);

  model_fixture_advance(&fx, 1000);
  cr_assert_eq(iotkit_device_report(fx.dev, "{\"interval_ms\":5000,\"location\":null}"), IOTKIT_OK);
  expect_sent("reported-merged");

  model_fixture_advance(&fx, 29000); /* the slow command's deadline */
  model_fixture_pump(&fx);
  expect_sent("command-timeout");
  cr_assert_eq(iotkit_command_complete(slow_cmd, "{}"), IOTKIT_ERR_TIMEOUT);

  model_fixture_inject(&fx, "state/desired", "{\"version\":8,\"state\":{\"interval_ms\":5000,\"led\":\"off\",\"mode\":\"eco\"}}");
  example_t delta = protocol_example("desired-delta");
  cr_assert_str_eq(last_delta, delta.json);
  free(delta.json);

  model_fixture_advance(&fx, 30000);
  cr_assert_eq(iotkit_device_disconnect(fx.dev), IOTKIT_OK);
  expect_sent("status-offline");
}

/* What the table of channels says about QoS and retain. */
Test(device_protocol, qos_and_retain_follow_the_channel_table) {
  model_fixture_connect(&fx);
  cr_assert_eq(iotkit_device_report(fx.dev, "{\"a\":1}"), IOTKIT_OK);
  cr_assert_eq(iotkit_device_event(fx.dev, "x", NULL, NULL), IOTKIT_OK);
  model_fixture_inject(&fx, "commands/request", "{\"id\":\"1\",\"name\":\"nope\"}");
  const struct {
    const char *suffix;
    bool retain;
  } want[] = {{"status", true}, {"state/reported", true}, {"events/x", false}, {"commands/response", false}};
  for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
    char ch[128];
    snprintf(ch, sizeof(ch), "iotkit/v1/sensor-1/%s", want[i].suffix);
    const capture_msg_t *m = capture_last_on(ch);
    cr_assert_not_null(m, "%s", ch);
    cr_assert_eq(m->qos, 1, "%s", ch);
    cr_assert_eq(m->retain, want[i].retain, "%s", ch);
  }
  cr_assert(capture_subscribed("iotkit/v1/sensor-1/state/desired"));
  cr_assert(capture_subscribed("iotkit/v1/sensor-1/commands/request"));
  cr_assert_str_eq(model_fixture_last("events/x"), "{\"type\":\"x\",\"ts\":1767225600000,\"data\":{}}");
}
