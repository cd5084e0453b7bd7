/* State of `iotkit device simulate`, shared by its files. */
#ifndef IOTKIT_CLI_DEVICE_SIM_H
#define IOTKIT_CLI_DEVICE_SIM_H

#include <stdbool.h>

#include <iotkit/iotkit.h>

typedef struct sim {
  const char *uri, *id, *state_dir, *username, *password;
  unsigned long count, interval_ms, qos;
  bool quiet;
  bool reconnect;        /* --reconnect: keep going through lost connections */
  unsigned long sent, confirmed, failed;
  bool lost;             /* the connection went down (without --reconnect) */
  bool interval_changed; /* a command or the desired state set a new interval */
  bool reboot_requested; /* the reboot command was answered: restart the session */
  iotkit_device_t *dev;
} sim_t;

/* Print the device's last error for @p err to stderr. */
void sim_report_error(const sim_t *s, iotkit_err_t err);

/* cmd_device_model.c: reported state, the desired-state handler and the
   built-in commands (ping, set_interval, reboot). Before connecting. */
iotkit_err_t sim_model_attach(sim_t *s);

/* End the session cleanly and connect again, as a rebooted device would. */
void sim_reboot(sim_t *s);

#endif
