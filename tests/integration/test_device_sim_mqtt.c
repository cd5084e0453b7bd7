/* `iotkit device simulate` as the device process against a real mosquitto:
   its last will when it is SIGKILLed, its reported state, desired interval and
   built-in commands, followed by an independent subscriber. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <iotkit/iotkit.h>

#include "mosquitto_server.h"
#include "mqtt_peer.h"
#include "peer_wait.h"

#define CLI IOTKIT_BINARY_DIR "/tools/iotkit/iotkit"
#define T(suffix) "iotkit/v1/sim-1/" suffix
#define WAIT_MS 10000

static mosq_server_t *srv;
static mqtt_peer_t *peer;
static pid_t pid = -1;

static void setup(void) {
  srv = mosq_server_new();
  cr_assert_not_null(srv);
  cr_assert(mosq_server_start(srv));
  peer = mqtt_peer_new(&(mqtt_peer_opts_t){.port = mosq_server_port(srv), .topic = "iotkit/v1/sim-1/#", .qos = 1});
  cr_assert_not_null(peer);
}

static void teardown(void) {
  if (pid > 0) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
  }
  mqtt_peer_free(peer);
  mosq_server_free(srv);
}
TestSuite(device_sim_mqtt, .init = setup, .fini = teardown, .timeout = 60);

/* Run the simulated device "sim-1", output discarded. */
static void spawn_sim_with(const char *interval_ms, const char *extra) {
  pid = fork();
  cr_assert_neq(pid, -1);
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    if (null < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0) _exit(127);
    execl(CLI, CLI, "device", "simulate", "--uri", mosq_server_uri(srv), "--id", "sim-1", "--interval-ms",
          interval_ms, extra, (char *)NULL);
    _exit(127);
  }
  cr_assert_not_null(peer_wait_for(peer, 0, T("status"), "\"online\"", WAIT_MS, NULL), "the simulator did not come online");
}

static void spawn_sim(const char *interval_ms) { spawn_sim_with(interval_ms, NULL); }

static void publish(const char *topic, const char *json, bool retain) {
  cr_assert(mqtt_peer_publish(peer, topic, json, strlen(json), 1, retain));
}

static void expect_response(size_t from, const char *want) {
  const mqtt_peer_msg_t *m = peer_next_on(peer, from, T("commands/response"), WAIT_MS);
  cr_assert_not_null(m, "no response");
  cr_assert_str_eq((const char *)m->payload, want);
}

Test(device_sim_mqtt, sigkill_publishes_the_offline_last_will) {
  spawn_sim("100");
  size_t from = mqtt_peer_count(peer);
  cr_assert_eq(kill(pid, SIGKILL), 0);
  cr_assert_eq(waitpid(pid, NULL, 0), pid);
  pid = -1;
  const mqtt_peer_msg_t *m = peer_next_on(peer, from, T("status"), WAIT_MS);
  cr_assert_not_null(m, "no last will");
  cr_assert_str_eq((const char *)m->payload, "{\"status\":\"offline\",\"reason\":\"connection_lost\"}");
  /* ... and it is retained: a later subscriber sees the device offline. */
  mqtt_peer_t *late = mqtt_peer_new(&(mqtt_peer_opts_t){.port = mosq_server_port(srv), .topic = T("status"), .qos = 1});
  cr_assert_not_null(late);
  cr_assert(mqtt_peer_wait(late, 1, WAIT_MS));
  cr_assert_str_eq((const char *)mqtt_peer_get(late, 0)->payload, "{\"status\":\"offline\",\"reason\":\"connection_lost\"}");
  cr_assert(mqtt_peer_get(late, 0)->retain);
  mqtt_peer_free(late);
}

Test(device_sim_mqtt, sigterm_publishes_offline_disconnect) {
  spawn_sim("100");
  size_t from = mqtt_peer_count(peer);
  cr_assert_eq(kill(pid, SIGTERM), 0);
  int status = 0;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  pid = -1;
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  const mqtt_peer_msg_t *m = peer_next_on(peer, from, T("status"), WAIT_MS);
  cr_assert_not_null(m);
  cr_assert_not_null(strstr((const char *)m->payload, "{\"status\":\"offline\",\"reason\":\"disconnect\",\"ts\":"));
}

Test(device_sim_mqtt, reports_its_state_and_answers_ping) {
  spawn_sim("100");
  const mqtt_peer_msg_t *rep = peer_next_on(peer, 0, T("state/reported"), WAIT_MS);
  cr_assert_not_null(rep);
  char want[128];
  snprintf(want, sizeof(want), "{\"state\":{\"model\":\"iotkit-sim-th\",\"firmware\":\"%d.%d.%d\",\"interval_ms\":100},",
           IOTKIT_VERSION_MAJOR, IOTKIT_VERSION_MINOR, IOTKIT_VERSION_PATCH);
  cr_assert_eq(strncmp((const char *)rep->payload, want, strlen(want)), 0, "%s", (const char *)rep->payload);
  size_t from = mqtt_peer_count(peer);
  publish(T("commands/request"), "{\"id\":\"1\",\"name\":\"ping\"}", false);
  expect_response(from, "{\"id\":\"1\",\"status\":\"ok\",\"result\":{\"pong\":true}}");
}

Test(device_sim_mqtt, set_interval_command) {
  spawn_sim("100");
  size_t from = mqtt_peer_count(peer);
  publish(T("commands/request"), "{\"id\":\"2\",\"name\":\"set_interval\",\"params\":{\"interval_ms\":5}}", false);
  expect_response(from, "{\"id\":\"2\",\"status\":\"error\",\"error\":{\"code\":\"invalid_params\","
                        "\"message\":\"interval_ms must be a whole number from 10 to 86400000\"}}");
  from = mqtt_peer_count(peer);
  publish(T("commands/request"), "{\"id\":\"3\",\"name\":\"set_interval\",\"params\":{\"interval_ms\":700}}", false);
  expect_response(from, "{\"id\":\"3\",\"status\":\"ok\",\"result\":{\"interval_ms\":700}}");
  cr_assert_not_null(peer_wait_for(peer, from, T("state/reported"), "\"interval_ms\":700", WAIT_MS, NULL));
}

Test(device_sim_mqtt, obeys_the_desired_interval) {
  spawn_sim("100");
  publish(T("state/desired"), "{\"version\":1,\"state\":{\"interval_ms\":250}}", true);
  cr_assert_not_null(peer_wait_for(peer, 0, T("state/reported"), "\"interval_ms\":250", WAIT_MS, NULL));
}

Test(device_sim_mqtt, reboot_answers_then_comes_back) {
  spawn_sim("100");
  size_t from = mqtt_peer_count(peer);
  publish(T("commands/request"), "{\"id\":\"r\",\"name\":\"reboot\"}", false);
  expect_response(from, "{\"id\":\"r\",\"status\":\"ok\",\"result\":{\"rebooting\":true}}");
  size_t at = 0;
  cr_assert_not_null(peer_wait_for(peer, from, T("status"), "\"reason\":\"disconnect\"", WAIT_MS, &at));
  cr_assert_not_null(peer_wait_for(peer, at, T("status"), "\"online\"", WAIT_MS, NULL));
}

Test(device_sim_mqtt, reconnect_option_rides_out_a_broker_restart) {
  spawn_sim_with("50", "--reconnect");
  mqtt_peer_free(peer);
  peer = NULL;
  cr_assert(mosq_server_stop(srv));
  cr_assert(mosq_server_restart(srv));
  peer = mqtt_peer_new(&(mqtt_peer_opts_t){.port = mosq_server_port(srv), .topic = "iotkit/v1/sim-1/#", .qos = 1});
  cr_assert_not_null(peer);
  /* The restarted broker kept nothing: the retained online status is the device's new session. */
  cr_assert_not_null(peer_wait_for(peer, 0, T("status"), "\"online\"", WAIT_MS, NULL));
  cr_assert_not_null(peer_next_on(peer, 0, T("telemetry"), WAIT_MS));
  int status = 0;
  cr_assert_eq(waitpid(pid, &status, WNOHANG), 0, "the simulator exited");
}
