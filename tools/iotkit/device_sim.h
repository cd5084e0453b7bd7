/* State of `iotkit device simulate`, shared by its files. */
#ifndef IOTKIT_CLI_DEVICE_SIM_H
#define IOTKIT_CLI_DEVICE_SIM_H

#include <stdbool.h>

#include <iotkit/iotkit.h>

typedef struct sim {
  const char *uri, *id, *state_dir, *username, *password;
  const char *prefix; /* --prefix: the channel prefix (NULL: the library's default) */
  const char *edge;   /* --edge: an edge configuration file (needs --state-dir: batches) */
  unsigned long count, interval_ms, qos;
  unsigned long keepalive_s; /* --keepalive (default IOTKIT_KEEPALIVE_DEFAULT_S) */
  unsigned long drain_rate, drain_timeout_ms; /* durable queue (--state-dir) */
  iotkit_telemetry_format_t format;
  bool quiet;
  bool reconnect;        /* --reconnect: keep going through lost connections */
  unsigned long sent, confirmed, failed;
  bool lost;             /* the connection went down (without --reconnect) */
  bool interval_changed; /* a command or the desired state set a new interval */
  bool reboot_requested; /* the reboot command was answered: restart the session */
  iotkit_device_t *dev;
  iotkit_hal_t *hal;
  /* OTA (sim_ota.c) */
  const char *trust_key, *trust_key_id, *fw_version, *device_type;
  bool no_confirm;
  unsigned long trial_timeout_s; /* --trial-timeout (default IOTKIT_OTA_TRIAL_TIMEOUT_S) */
  char **argv; /* the whole command line, for the simulated reboot */
  /* --location (sim_location.c): the start and the current position */
  bool has_location;
  double lat0, lon0, lat, lon;
  struct sim_ota *ota;
} sim_t;

/* sim_durable.c: with --state-dir, readings go through the durable queue as
   batches (seq in the payload). Publish one reading; print "queued seq=N". */
iotkit_err_t sim_publish_batch(sim_t *s, double temperature, double humidity);
/* True once every accepted reading is confirmed (nothing pending in the queue). */
bool sim_queue_drained(const sim_t *s);
/* Print the telemetry statistics line; true if nothing is left pending. */
bool sim_print_stats(const sim_t *s);
/* Parse --format; prints a usage error. */
bool sim_parse_format(sim_t *s, const char *text);

/* sim_durable.c: load --edge into the device's pipeline (the refusal printed). */
iotkit_err_t sim_edge_load(sim_t *s);

/* sim_location.c: parse --location LAT,LON (prints a usage error). */
bool sim_location_parse(sim_t *s, const char *text);
/* With --location, move a little (not for the @p first report) and report the
   position (connected only: positions are not queued). */
void sim_location_step(sim_t *s, bool first);

/* Print the device's last error for @p err to stderr. */
void sim_report_error(const sim_t *s, iotkit_err_t err);

/* cmd_device_model.c: reported state, the desired-state handler and the
   built-in commands (ping, set_interval, reboot). Before connecting. */
iotkit_err_t sim_model_attach(sim_t *s);

/* End the session cleanly and connect again, as a rebooted device would. */
void sim_reboot(sim_t *s);

/* sim_ota.c: the boot step and the OTA client (a no-op without --trust-key);
   an exit code. After the HAL is made, before the device. */
int sim_ota_boot(sim_t *s, iotkit_hal_t *hal);
/* Attach the OTA client to the device (before connecting). */
iotkit_err_t sim_ota_attach(sim_t *s);
/* Drive an accepted update; reboots (executes the program again) once it is pending. */
void sim_ota_step(sim_t *s, iotkit_hal_t *hal);
void sim_ota_free(sim_t *s);

#endif
