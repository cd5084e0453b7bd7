/* iotkit device simulate: a simulated sensor publishing JSON telemetry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "device_sim.h"
#include "sensor_model.h"

#define SLICE_MS 100u
#define CONFIRM_WAIT_MS 10000u     /* how long to wait for outstanding confirmations */
#define CONFIRM_WAIT_STOP_MS 2000u /* the same after SIGINT/SIGTERM */
#define DRAIN_TIMEOUT_MS 60000ul   /* default --drain-timeout-ms: the queue must empty within it */

static int parse(sim_t *s, int argc, char **argv) {
  const char *count = "0", *interval = "1000", *qos = "1", *rate = NULL, *drain = NULL, *format = "json";
  const char *trial = NULL, *location = NULL, *keepalive = NULL;
  const cli_opt_t opts[] = {
      {"uri", &s->uri, NULL},           {"id", &s->id, NULL},
      {"count", &count, NULL},          {"interval-ms", &interval, NULL},
      {"state-dir", &s->state_dir, NULL}, {"qos", &qos, NULL},
      {"username", &s->username, NULL}, {"password", &s->password, NULL},
      {"quiet", NULL, &s->quiet},       {"reconnect", NULL, &s->reconnect},
      {"trust-key", &s->trust_key, NULL}, {"trust-key-id", &s->trust_key_id, NULL},
      {"fw-version", &s->fw_version, NULL}, {"device-type", &s->device_type, NULL},
      {"no-confirm", NULL, &s->no_confirm}, {"trial-timeout", &trial, NULL},
      {"drain-rate", &rate, NULL},      {"drain-timeout-ms", &drain, NULL},
      {"format", &format, NULL},        {"prefix", &s->prefix, NULL},
      {"edge", &s->edge, NULL},         {"location", &location, NULL},
      {"keepalive", &keepalive, NULL},
  };
  s->trust_key_id = "iotkit";
  s->fw_version = "1.0.0";
  s->device_type = "iotkit-sim";
  int rc = cli_parse_opts(argc, argv, opts, sizeof(opts) / sizeof(opts[0]));
  if (rc != CLI_EXIT_OK) return rc;
  if (!s->uri) return cli_usage_error("device simulate: --uri is required");
  if (!s->id) return cli_usage_error("device simulate: --id is required");
  if (s->prefix && !iotkit_protocol_prefix_valid(s->prefix))
    return cli_usage_error("device simulate: --prefix wants a channel prefix such as %s", IOTKIT_TOPIC_PREFIX_DEFAULT);
  if (!cli_parse_num("count", count, 0, 0xFFFFFFFFul, &s->count) ||
      !cli_parse_num("interval-ms", interval, 0, 86400000ul, &s->interval_ms) ||
      !cli_parse_num("qos", qos, 0, 2, &s->qos) || !sim_parse_format(s, format))
    return CLI_EXIT_USAGE;
  if (location && !sim_location_parse(s, location)) return CLI_EXIT_USAGE;
  s->keepalive_s = IOTKIT_KEEPALIVE_DEFAULT_S;
  if (keepalive && !cli_parse_num("keepalive", keepalive, 0, 65535ul, &s->keepalive_s)) return CLI_EXIT_USAGE;
  s->trial_timeout_s = IOTKIT_OTA_TRIAL_TIMEOUT_S;
  if (trial && !cli_parse_num("trial-timeout", trial, 0, 86400ul, &s->trial_timeout_s)) return CLI_EXIT_USAGE;
  s->drain_rate = IOTKIT_TELEMETRY_DRAIN_RATE_DEFAULT;
  s->drain_timeout_ms = DRAIN_TIMEOUT_MS;
  if ((rate && !cli_parse_num("drain-rate", rate, 0, 1000000ul, &s->drain_rate)) ||
      (drain && !cli_parse_num("drain-timeout-ms", drain, 0, 86400000ul, &s->drain_timeout_ms)))
    return CLI_EXIT_USAGE;
  if (!s->state_dir && (rate || drain || strcmp(format, "json") != 0 || s->edge))
    return cli_usage_error("device simulate: --drain-rate, --drain-timeout-ms, --format and --edge need --state-dir");
  return CLI_EXIT_OK;
}

static void on_delivery(iotkit_device_t *dev, void *user, uint32_t msg_id, iotkit_err_t status) {
  (void)dev;
  sim_t *s = user;
  if (s->state_dir) return; /* durable: a failed delivery is re-sent; the queue's statistics count */
  if (status == IOTKIT_OK) {
    s->confirmed++;
  } else {
    s->failed++;
    fprintf(stderr, "iotkit: message %u failed: %s (%s)\n", (unsigned)msg_id, iotkit_strerror(status),
            iotkit_err_name(status));
  }
}

static void on_connection(iotkit_device_t *dev, void *user, bool up, iotkit_err_t reason, const char *detail) {
  (void)dev;
  sim_t *s = user;
  if (!up && reason != IOTKIT_OK) {
    s->lost = !s->reconnect;
    fprintf(stderr, "iotkit: connection lost: %s (%s)\n", detail, iotkit_err_name(reason));
  }
}

void sim_report_error(const sim_t *s, iotkit_err_t err) {
  char detail[IOTKIT_ERROR_TEXT_SIZE];
  const char *d = iotkit_device_last_error(s->dev, detail, sizeof(detail));
  fprintf(stderr, "iotkit: %s (%s)\n", *d ? d : iotkit_strerror(err), iotkit_err_name(err));
}

/* With --state-dir, the POSIX HAL keeps state there; without, the memory HAL keeps
   nothing on disk and its generator is seeded from the clock and pid so that two
   simulated devices do not report the same readings. Either way only warnings
   and errors are logged (to stderr for the POSIX HAL). */
static iotkit_err_t make_hal(const sim_t *s, iotkit_hal_t **out) {
  if (s->state_dir) {
    iotkit_hal_posix_config_t pc;
    iotkit_hal_posix_config_init(&pc);
    pc.state_dir = s->state_dir;
    pc.log_level = IOTKIT_LOG_WARN;
    return iotkit_hal_posix_new(&pc, out);
  }
  iotkit_hal_memory_config_t mc;
  iotkit_hal_memory_config_init(&mc);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  mc.seed = ((uint64_t)ts.tv_sec * 1000000007u) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
  mc.log_level = IOTKIT_LOG_WARN;
  return iotkit_hal_memory_new(&mc, out);
}

static uint64_t now_ms(const sim_t *s) {
  const iotkit_hal_t *hal = iotkit_device_hal(s->dev);
  return hal->monotonic_ms(hal->ctx);
}

/* Poll for @p ms, or less if @p until_done says so or a stop signal comes. */
static void pump(sim_t *s, uint64_t ms, bool (*until_done)(const sim_t *), bool stop_on_signal) {
  uint64_t start = now_ms(s);
  /* A new interval ends the wait between readings (stop_on_signal marks that wait). */
  while (!s->lost && !(stop_on_signal && (cli_stop_requested() || s->interval_changed)) &&
         !(until_done && until_done(s))) {
    uint64_t spent = now_ms(s) - start;
    if (spent >= ms) break;
    uint64_t left = ms - spent;
    iotkit_err_t err = iotkit_device_poll(s->dev, (int)(left < SLICE_MS ? left : SLICE_MS));
    if (err != IOTKIT_OK && !iotkit_device_is_connected(s->dev) && !s->reconnect) s->lost = true;
    if (s->reboot_requested) sim_reboot(s);
    sim_ota_step(s, s->hal);
  }
}

static bool all_settled(const sim_t *s) { return s->confirmed + s->failed >= s->sent; }

static char *reading_json(const sim_t *s, unsigned long seq, const sensor_model_t *m) {
  const iotkit_hal_t *hal = iotkit_device_hal(s->dev);
  char t[32], h[32];
  snprintf(t, sizeof(t), "%.2f", m->temperature); /* round to what a real sensor reports */
  snprintf(h, sizeof(h), "%.1f", m->humidity);
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  char *text = NULL;
  if (cJSON_AddNumberToObject(o, "seq", (double)seq) &&
      cJSON_AddNumberToObject(o, "ts", (double)hal->wall_ms(hal->ctx)) &&
      cJSON_AddNumberToObject(o, "temperature", strtod(t, NULL)) &&
      cJSON_AddNumberToObject(o, "humidity", strtod(h, NULL)))
    text = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return text;
}

/* Publish until --count is reached, a signal comes, or something fails. */
static void publish_loop(sim_t *s) {
  sensor_model_t model;
  iotkit_err_t err = sensor_model_init(&model, iotkit_device_hal(s->dev));
  for (unsigned long seq = 1; err == IOTKIT_OK && !s->lost && !cli_stop_requested(); seq++) {
    s->interval_changed = false;
    if (seq > 1) err = sensor_model_step(&model);
    sim_location_step(s, seq == 1);
    char *json = err == IOTKIT_OK ? reading_json(s, seq, &model) : NULL;
    if (!json) {
      fprintf(stderr, "iotkit: cannot build the reading: %s\n", iotkit_strerror(err ? err : IOTKIT_ERR_NOMEM));
      s->failed++;
      return;
    }
    uint32_t msg_id = 0;
    if (s->state_dir) {
      /* Durable: stored first, sent when possible, offline or not. */
      err = sim_publish_batch(s, model.temperature, model.humidity);
      cJSON_free(json);
      if (err != IOTKIT_OK) {
        sim_report_error(s, err);
        s->failed++;
        return;
      }
      s->sent++;
      if (s->count && seq >= s->count) return;
      if (s->interval_ms == 0) (void)iotkit_device_poll(s->dev, 0); /* confirmations, reconnects, drain */
      pump(s, s->interval_ms, NULL, true);
      continue;
    }
    if (s->reconnect && !iotkit_device_is_connected(s->dev)) {
      /* Offline with --reconnect: this reading is skipped, not failed. */
      if (!s->quiet) printf("offline: skipped seq=%lu\n", seq);
      cJSON_free(json);
      if (s->count && seq >= s->count) return;
      pump(s, s->interval_ms, NULL, true);
      continue;
    }
    err = iotkit_device_send_telemetry(s->dev, json, strlen(json), &msg_id);
    if (err == IOTKIT_OK) {
      s->sent++;
      if (!s->quiet) printf("published seq=%lu msg_id=%u %s\n", seq, (unsigned)msg_id, json);
      fflush(stdout);
    } else {
      sim_report_error(s, err);
      s->lost = !iotkit_device_is_connected(s->dev);
      s->failed++;
    }
    cJSON_free(json);
    if (err != IOTKIT_OK || (s->count && seq >= s->count)) return;
    pump(s, s->interval_ms, NULL, true);
  }
}

/* With the durable queue: wait until every accepted reading is confirmed, at
   most --drain-timeout-ms (exit 3 if not), print the statistics, disconnect. */
static int finish_durable(sim_t *s, iotkit_hal_t *hal) {
  uint64_t wait = cli_stop_requested() ? CONFIRM_WAIT_STOP_MS : s->drain_timeout_ms;
  pump(s, wait, sim_queue_drained, false);
  bool drained = sim_print_stats(s);
  if (!drained) fprintf(stderr, "iotkit: not every reading was confirmed within %lu ms\n", (unsigned long)wait);
  if (iotkit_device_is_connected(s->dev)) (void)iotkit_device_disconnect(s->dev);
  iotkit_device_telemetry_stats_t st;
  (void)iotkit_device_telemetry_stats(s->dev, &st);
  /* Confirmed counts this run's confirmations, a recovered backlog included. */
  printf("sent %lu, confirmed %llu, failed %lu\n", s->sent, (unsigned long long)st.confirmed, s->failed);
  iotkit_device_free(s->dev);
  sim_ota_free(s);
  iotkit_hal_free(hal);
  return drained && s->failed == 0 ? CLI_EXIT_OK : CLI_EXIT_DELIVERY;
}

int cmd_device_simulate(int argc, char **argv) {
  sim_t s;
  memset(&s, 0, sizeof(s));
  int rc = parse(&s, argc, argv);
  if (rc != CLI_EXIT_OK) return rc;
  s.argv = argv - 2; /* "iotkit device simulate ...": main() and cmd_device() each dropped one */

  iotkit_hal_t *hal = NULL;
  iotkit_device_config_t cfg;
  iotkit_device_config_init(&cfg);
  cfg.device_id = s.id;
  if (s.prefix) cfg.topic_prefix = s.prefix;
  cfg.uri = s.uri;
  cfg.username = s.username;
  cfg.password = s.password;
  cfg.telemetry_qos = (int)s.qos;
  cfg.keepalive_s = (uint16_t)s.keepalive_s;
  /* Without --reconnect a lost connection ends the run (exit code 3). */
  cfg.auto_reconnect = s.reconnect;
  cfg.reconnect_min_ms = 200;
  cfg.reconnect_max_ms = 5000;
  /* The durable queue only with --state-dir (the memory HAL would keep it in RAM). */
  cfg.telemetry_durable = s.state_dir != NULL;
  cfg.telemetry_drain_rate = (uint32_t)s.drain_rate;
  iotkit_err_t err = make_hal(&s, &hal);
  if (err != IOTKIT_OK) {
    fprintf(stderr, "iotkit: cannot set up the %s HAL%s%s: %s (%s)\n", s.state_dir ? "POSIX" : "memory",
            s.state_dir ? " in " : "", s.state_dir ? s.state_dir : "", iotkit_strerror(err), iotkit_err_name(err));
    return CLI_EXIT_USAGE;
  }
  cfg.hal = hal;
  s.hal = hal;
  rc = sim_ota_boot(&s, hal);
  if (rc != CLI_EXIT_OK) {
    sim_ota_free(&s);
    iotkit_hal_free(hal);
    return rc;
  }
  err = iotkit_device_new(&cfg, &s.dev);
  if (err != IOTKIT_OK) {
    sim_ota_free(&s);
    iotkit_hal_free(hal);
    fprintf(stderr, "iotkit: cannot create device '%s' for '%s': %s (%s)\n", s.id, s.uri, iotkit_strerror(err),
            iotkit_err_name(err));
    return CLI_EXIT_USAGE;
  }
  iotkit_device_on_delivery(s.dev, on_delivery, &s);
  iotkit_device_on_connection(s.dev, on_connection, &s);
  err = sim_model_attach(&s);
  if (err == IOTKIT_OK) err = sim_ota_attach(&s);
  if (err == IOTKIT_OK && s.edge) err = sim_edge_load(&s);
  if (err != IOTKIT_OK) {
    sim_report_error(&s, err);
    iotkit_device_free(s.dev);
    sim_ota_free(&s);
    iotkit_hal_free(hal);
    return CLI_EXIT_USAGE;
  }
  cli_catch_stop_signals();

  err = iotkit_device_connect(s.dev);
  if (err != IOTKIT_OK) {
    sim_report_error(&s, err);
    iotkit_device_free(s.dev);
    sim_ota_free(&s);
    iotkit_hal_free(hal);
    return CLI_EXIT_CONNECT;
  }
  if (!s.quiet) {
    char topic[512];
    if (iotkit_protocol_topic(s.prefix, s.id, iotkit_channel_name(IOTKIT_CHANNEL_TELEMETRY), topic, sizeof topic) !=
        IOTKIT_OK)
      snprintf(topic, sizeof topic, "(a topic too long to show)");
    printf("connected as %s, publishing on %s\n", s.id, topic);
  }

  publish_loop(&s);
  if (s.state_dir) return finish_durable(&s, hal);
  pump(&s, cli_stop_requested() ? CONFIRM_WAIT_STOP_MS : CONFIRM_WAIT_MS, all_settled, false);
  unsigned long unconfirmed = s.sent - (s.confirmed + s.failed < s.sent ? s.confirmed + s.failed : s.sent);
  if (unconfirmed) fprintf(stderr, "iotkit: %lu message(s) not confirmed in time\n", unconfirmed);
  if (!s.lost && iotkit_device_is_connected(s.dev)) {
    err = iotkit_device_disconnect(s.dev);
    if (err != IOTKIT_OK) sim_report_error(&s, err);
  }
  printf("sent %lu, confirmed %lu, failed %lu\n", s.sent, s.confirmed, s.failed);
  bool ok = !s.lost && s.failed == 0 && s.confirmed == s.sent;
  iotkit_device_free(s.dev);
  sim_ota_free(&s);
  iotkit_hal_free(hal);
  return ok ? CLI_EXIT_OK : CLI_EXIT_DELIVERY;
}
