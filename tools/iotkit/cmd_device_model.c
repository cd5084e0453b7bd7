/* The simulated device's model: it reports its firmware and interval, obeys
   "interval_ms" in its desired state, and answers ping, set_interval and reboot. */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "device_sim.h"

#define MIN_INTERVAL_MS 10ul
#define MAX_INTERVAL_MS 86400000ul

static void report_interval(sim_t *s) {
  char json[64];
  snprintf(json, sizeof(json), "{\"interval_ms\":%lu}", s->interval_ms);
  iotkit_err_t err = iotkit_device_report(s->dev, json);
  if (err != IOTKIT_OK && err != IOTKIT_ERR_NOT_CONNECTED) sim_report_error(s, err);
}

/* interval_ms of @p obj if it is a whole number in range. */
static bool interval_of(const cJSON *obj, unsigned long *out) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "interval_ms");
  if (!cJSON_IsNumber(v)) return false;
  double d = v->valuedouble;
  if (d < (double)MIN_INTERVAL_MS || d > (double)MAX_INTERVAL_MS || d != (double)(unsigned long)d) return false;
  *out = (unsigned long)d;
  return true;
}

static void set_interval(sim_t *s, unsigned long ms, const char *why) {
  s->interval_ms = ms;
  s->interval_changed = true;
  if (!s->quiet) printf("%s: interval_ms=%lu\n", why, ms);
  fflush(stdout);
  report_interval(s);
}

static void on_desired(iotkit_device_t *dev, void *user, const char *delta, uint64_t version) {
  (void)dev;
  sim_t *s = user;
  cJSON *d = cJSON_Parse(delta);
  unsigned long ms = 0;
  char why[64];
  snprintf(why, sizeof(why), "desired version %llu", (unsigned long long)version);
  if (interval_of(d, &ms)) {
    set_interval(s, ms, why);
  } else if (cJSON_GetObjectItemCaseSensitive(d, "interval_ms")) {
    fprintf(stderr, "iotkit: %s: interval_ms must be a whole number from %lu to %lu; ignored\n", why,
            MIN_INTERVAL_MS, MAX_INTERVAL_MS);
  }
  cJSON_Delete(d);
}

static void cmd_ping(iotkit_device_t *dev, void *user, const char *id, const char *name, const char *params,
                     iotkit_command_t *cmd) {
  (void)dev, (void)user, (void)id, (void)name, (void)params;
  iotkit_command_complete(cmd, "{\"pong\":true}");
}

static void cmd_set_interval(iotkit_device_t *dev, void *user, const char *id, const char *name, const char *params,
                             iotkit_command_t *cmd) {
  (void)dev, (void)name;
  sim_t *s = user;
  cJSON *p = cJSON_Parse(params);
  unsigned long ms = 0;
  if (interval_of(p, &ms)) {
    char why[96];
    snprintf(why, sizeof(why), "command %.64s", id);
    set_interval(s, ms, why);
    char result[64];
    snprintf(result, sizeof(result), "{\"interval_ms\":%lu}", ms);
    iotkit_command_complete(cmd, result);
  } else {
    iotkit_command_fail(cmd, "invalid_params", "interval_ms must be a whole number from 10 to 86400000");
  }
  cJSON_Delete(p);
}

static void cmd_reboot(iotkit_device_t *dev, void *user, const char *id, const char *name, const char *params,
                       iotkit_command_t *cmd) {
  (void)dev, (void)id, (void)name, (void)params;
  sim_t *s = user;
  iotkit_command_complete(cmd, "{\"rebooting\":true}");
  s->reboot_requested = true; /* after this poll, so that the response goes out first */
}

void sim_reboot(sim_t *s) {
  s->reboot_requested = false;
  const iotkit_hal_t *hal = iotkit_device_hal(s->dev);
  if (hal->reboot) (void)hal->reboot(hal->ctx, "reboot command");
  if (!s->quiet) printf("rebooting: reconnecting\n");
  fflush(stdout);
  iotkit_err_t err = iotkit_device_disconnect(s->dev);
  if (err == IOTKIT_OK) err = iotkit_device_connect(s->dev);
  if (err != IOTKIT_OK) {
    sim_report_error(s, err);
    s->lost = !s->reconnect;
  }
}

iotkit_err_t sim_model_attach(sim_t *s) {
  char reported[160];
  snprintf(reported, sizeof(reported), "{\"model\":\"iotkit-sim-th\",\"firmware\":\"%s\",\"interval_ms\":%lu}",
           iotkit_version(), s->interval_ms);
  iotkit_err_t err = iotkit_device_report(s->dev, reported);
  if (err == IOTKIT_OK) err = iotkit_device_on_desired(s->dev, on_desired, s);
  if (err == IOTKIT_OK) err = iotkit_device_command_register(s->dev, "ping", cmd_ping, s);
  if (err == IOTKIT_OK) err = iotkit_device_command_register(s->dev, "set_interval", cmd_set_interval, s);
  if (err == IOTKIT_OK) err = iotkit_device_command_register(s->dev, "reboot", cmd_reboot, s);
  return err;
}
