/* iotkit fleet ...: the subcommand table, opening the registry, errors and exit codes. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fleet_cli.h"

static const cli_command_t fleet_commands[] = {
    {"list", cmd_fleet_list, "list devices (filters, paging)"},
    {"show", cmd_fleet_show, "one device: record, presence, state, latest values, position"},
    {"create", cmd_fleet_create, "register a device"},
    {"update", cmd_fleet_update, "change a device's name, type, tags or attributes"},
    {"delete", cmd_fleet_delete, "remove a device"},
    {"locate", cmd_fleet_locate, "a device's latest position"},
    {"track", cmd_fleet_track, "a device's positions over a time range"},
    {"within", cmd_fleet_within, "devices within a radius of a point"},
    {"history", cmd_fleet_history, "a metric's telemetry history"},
    {"watch", cmd_fleet_watch, "live table of the fleet (broker session)"},
    {"cmd", cmd_fleet_cmd, "send a command to a device or a group, print the results"},
    {"desired", cmd_fleet_desired, "set (merge patch) or show a device's desired state"},
    {"rollout", cmd_fleet_rollout, "staged OTA rollouts: create, start, pause, resume, cancel, show, list, watch"},
    {NULL, NULL, NULL},
};

int cmd_fleet(int argc, char **argv) {
  if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
    cli_print_help();
    return CLI_EXIT_OK;
  }
  return cli_dispatch("fleet", fleet_commands, argc - 1, argv + 1);
}

/* ------------------------------------------------------------ opening -- */

void fleet_cli_init(fleet_cli_t *c, const char *cmd) {
  memset(c, 0, sizeof *c);
  c->cmd = cmd;
  iotkit_fleet_config_init(&c->cfg);
}

static iotkit_err_t make_hal(iotkit_hal_t **out) {
  iotkit_hal_memory_config_t mc;
  iotkit_hal_memory_config_init(&mc);
  /* The fleet's random numbers pick its client id and reconnection jitter only. */
  mc.seed = (uint64_t)getpid() ^ (uint64_t)time(NULL);
  mc.log_level = IOTKIT_LOG_WARN;
  return iotkit_hal_memory_new(&mc, out);
}

int fleet_cli_open(fleet_cli_t *c, const char *db, bool create) {
#ifndef IOTKIT_CLI_WITH_FLEET
  fprintf(stderr, "iotkit: %s: not available in this build (libiotkit was built without the fleet)\n", c->cmd);
  return CLI_EXIT_NOT_AVAILABLE;
#endif
  if (db && !*db) return cli_usage_error("%s: --db wants a path (or :memory:)", c->cmd);
  if (!db) db = getenv(FLEET_CLI_DB_ENV);
  if (!db || !*db) db = FLEET_CLI_DEFAULT_DB;
  c->db = db;
  struct stat st;
  if (!create && strcmp(db, ":memory:") != 0 && stat(db, &st) != 0) {
    fprintf(stderr, "iotkit: %s: no registry database at '%s' (%s); give --db PATH (default $%s, else ./%s)\n",
            c->cmd, db, strerror(errno), FLEET_CLI_DB_ENV, FLEET_CLI_DEFAULT_DB);
    return CLI_EXIT_DATABASE;
  }
  if (make_hal(&c->hal) != IOTKIT_OK) {
    fprintf(stderr, "iotkit: %s: cannot set up a HAL\n", c->cmd);
    return CLI_EXIT_USAGE;
  }
  c->cfg.db_path = db;
  c->cfg.hal = c->hal;
  c->cfg.integrity_check = true; /* a damaged file is refused at open, not half-way through a listing */
  c->cfg.error_buf = c->err;
  c->cfg.error_buf_size = sizeof c->err;
  iotkit_err_t rc = iotkit_fleet_new(&c->cfg, &c->fleet);
  if (rc == IOTKIT_OK) return CLI_EXIT_OK;
  fprintf(stderr, "iotkit: %s: %s (%s)\n", c->cmd, *c->err ? c->err : iotkit_strerror(rc), iotkit_err_name(rc));
  iotkit_hal_free(c->hal);
  c->hal = NULL;
  /* The options that reach the config are checked before: a failed open is about the database file
     (INVALID_ARG: an SQLite database of another application). */
  return CLI_EXIT_DATABASE;
}

void fleet_cli_close(fleet_cli_t *c) {
  iotkit_fleet_free(c->fleet);
  iotkit_hal_free(c->hal);
  c->fleet = NULL;
  c->hal = NULL;
}

int fleet_cli_exit_code(iotkit_err_t rc) {
  switch (rc) {
  case IOTKIT_OK: return CLI_EXIT_OK;
  case IOTKIT_ERR_NOT_FOUND: return CLI_EXIT_NOT_FOUND;
  case IOTKIT_ERR_REMOTE: return CLI_EXIT_REMOTE;
  case IOTKIT_ERR_OFFLINE: return CLI_EXIT_OFFLINE;
  case IOTKIT_ERR_STATE: return CLI_EXIT_STATE;
  case IOTKIT_ERR_OTA_MANIFEST:
  case IOTKIT_ERR_OTA_UNKNOWN_KEY:
  case IOTKIT_ERR_OTA_SIGNATURE: return CLI_EXIT_REFUSED;
  case IOTKIT_ERR_NOT_CONNECTED:
  case IOTKIT_ERR_EXISTS: return CLI_EXIT_EXISTS;
  case IOTKIT_ERR_BUSY:
  case IOTKIT_ERR_IO:
  case IOTKIT_ERR_CORRUPT: return CLI_EXIT_DATABASE;
  case IOTKIT_ERR_UNSUPPORTED: return CLI_EXIT_NOT_AVAILABLE;
  case IOTKIT_ERR_CONNECT:
  case IOTKIT_ERR_AUTH:
  case IOTKIT_ERR_TLS: return CLI_EXIT_CONNECT;
  case IOTKIT_ERR_TIMEOUT: return CLI_EXIT_TIMEOUT;
  default: return CLI_EXIT_USAGE; /* INVALID_ARG, TOO_LARGE, BAD_ENCODING, BAD_URI, ... */
  }
}

int fleet_cli_fail(fleet_cli_t *c, iotkit_err_t rc) {
  char detail[IOTKIT_ERROR_TEXT_SIZE];
  iotkit_fleet_last_error(c->fleet, detail, sizeof detail);
  fprintf(stderr, "iotkit: %s: %s (%s)\n", c->cmd, *detail ? detail : iotkit_strerror(rc), iotkit_err_name(rc));
  return fleet_cli_exit_code(rc);
}

/* ------------------------------------------------------------ parsing -- */

bool fleet_cli_check_id(const char *cmd, const char *id) {
  if (iotkit_protocol_device_id_valid(id)) return true;
  cli_usage_error("%s: '%s' is not a device id (1..%d of [A-Za-z0-9._-])", cmd, id, IOTKIT_MAX_DEVICE_ID);
  return false;
}

bool fleet_cli_parse_double(const char *cmd, const char *opt, const char *text, double min, double max, double *out) {
  char *end = NULL;
  errno = 0;
  double v = text && *text ? strtod(text, &end) : NAN;
  if (!end || *end || errno || !isfinite(v) || v < min || v > max) {
    cli_usage_error("%s: --%s wants a number from %g to %g, not '%s'", cmd, opt, min, max, text ? text : "");
    return false;
  }
  *out = v;
  return true;
}

static bool all_digits(const char *s) {
  if (!*s) return false;
  for (; *s; s++)
    if (*s < '0' || *s > '9') return false;
  return true;
}

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool fleet_cli_parse_time(const char *cmd, const char *opt, const char *text, int64_t *out) {
  if (all_digits(text) && strlen(text) <= 15) {
    *out = (int64_t)strtoll(text, NULL, 10);
    return true;
  }
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, ms = 0, used = 0, used_ms = 0;
  if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &used) == 6 && used == 19) {
    const char *rest = text + used;
    if (*rest == '.' && sscanf(rest, ".%3d%n", &ms, &used_ms) == 1 && used_ms == 4) rest += used_ms;
    if (strcmp(rest, "Z") == 0 && y >= 1970 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 && mi <= 59 &&
        sec <= 60 && ms >= 0) {
      *out = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000 + (int64_t)sec * 1000 + ms;
      return true;
    }
  }
  cli_usage_error("%s: --%s wants ms since the Unix epoch or a UTC time such as 2026-01-01T12:00:00Z, not '%s'", cmd,
                  opt, text);
  return false;
}
