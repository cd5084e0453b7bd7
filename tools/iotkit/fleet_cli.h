/* Shared pieces of `iotkit fleet ...`: opening the registry, errors and exit
   codes, times, values, and the human table. */
#ifndef IOTKIT_FLEET_CLI_H
#define IOTKIT_FLEET_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "cli.h"

/* The database used without --db: $IOTKIT_FLEET_DB, else this file in the current directory. */
#define FLEET_CLI_DEFAULT_DB "fleet.db"
#define FLEET_CLI_DB_ENV "IOTKIT_FLEET_DB"

/* One fleet command's session with the registry. */
typedef struct fleet_cli {
  const char *cmd; /* "fleet list", for messages */
  const char *db;  /* the path opened */
  iotkit_hal_t *hal;
  iotkit_fleet_t *fleet;
  iotkit_fleet_config_t cfg; /* filled by fleet_cli_init(); the caller may change it before fleet_cli_open() */
  char err[IOTKIT_ERROR_TEXT_SIZE];
} fleet_cli_t;

/* Fill @p c (config defaults, the HAL made later). */
void fleet_cli_init(fleet_cli_t *c, const char *cmd);
/*
 * Open the registry at @p db (NULL: the default). Unless @p create, a path
 * that does not exist is refused (so that a typo does not make an empty
 * registry). Prints the problem; returns an exit code.
 */
int fleet_cli_open(fleet_cli_t *c, const char *db, bool create);
/* Free the fleet and the HAL. */
void fleet_cli_close(fleet_cli_t *c);
/* Print "iotkit: <cmd>: <detail> (<NAME>)" for a failed call and return its exit code. */
int fleet_cli_fail(fleet_cli_t *c, iotkit_err_t rc);
/* The exit code of a library error. */
int fleet_cli_exit_code(iotkit_err_t rc);

/* Options every fleet command takes. */
#define FLEET_CLI_COMMON_OPTS(dbp, jsonp) {"db", (dbp), NULL}, {"json", NULL, (jsonp)}

/* A time given on the command line: ms since the Unix epoch, or UTC "YYYY-MM-DDTHH:MM:SS[.mmm]Z". Prints the problem. */
bool fleet_cli_parse_time(const char *cmd, const char *opt, const char *text, int64_t *out);
/* A finite number in [min, max]. Prints the problem. */
bool fleet_cli_parse_double(const char *cmd, const char *opt, const char *text, double min, double max, double *out);
/* A device id argument: checked with the protocol's rule. Prints the problem. */
bool fleet_cli_check_id(const char *cmd, const char *id);

/* Parse the options and the one device ID argument (checked) of show, delete, locate, ... Prints the problem. */
int fleet_cli_args_id(const char *cmd, int argc, char **argv, const cli_opt_t *opts, size_t n, const char **id);

/* "2026-01-01T00:00:00.000Z", or "never" for 0. */
const char *fleet_cli_time(int64_t ms, char *buf, size_t cap);
/* A point's value as text (strings as they are). */
const char *fleet_cli_value(const iotkit_telemetry_point_t *p, char *buf, size_t cap);
/* "name=value unit, ..." of a batch, for a table cell or a line. */
void fleet_cli_values(const iotkit_telemetry_batch_t *b, char *buf, size_t cap);

/* The tags joined with ','. */
void fleet_cli_join_tags(const iotkit_fleet_device_t *d, char *buf, size_t cap);

/* Control characters (which could move a terminal's cursor or recolour it) become '?', in place. */
void fleet_cli_sanitize(char *s);

/* JSON pieces (NULL on allocation failure). A number written so that it reads back exactly (null if not finite). */
cJSON *fleet_cli_number(double v);
cJSON *fleet_cli_add_number(cJSON *o, const char *name, double v);
cJSON *fleet_cli_device_json(const iotkit_fleet_device_t *d);
cJSON *fleet_cli_location_json(const iotkit_location_t *loc);
cJSON *fleet_cli_points_json(const iotkit_telemetry_batch_t *b);
/* Print @p o (freed) on stdout, one line; CLI_EXIT_OK, or 1 if it is NULL. */
int fleet_cli_print_json(cJSON *o);

/* A human table: add cells row by row, then print with aligned columns. Control characters are shown as '?'. */
#define FLEET_TABLE_MAX_COLS 8
typedef struct fleet_table {
  size_t cols;
  size_t rows, cap;
  char **cells; /* rows * cols */
  size_t width[FLEET_TABLE_MAX_COLS];
} fleet_table_t;
void fleet_table_init(fleet_table_t *t, size_t cols, const char *const *header);
/* Add one row of t->cols cells (copied). */
void fleet_table_row(fleet_table_t *t, const char *const *cells);
/* Print the rows, each line ending with @p eol ("\n", or "\033[K\n" for a redraw), at most @p max_rows (0: all). */
void fleet_table_print(const fleet_table_t *t, const char *eol, size_t max_rows);
/* The same, each line cut at @p max_width code points (0: no limit) so that a terminal does not wrap it. */
void fleet_table_print_fit(const fleet_table_t *t, const char *eol, size_t max_rows, size_t max_width);
void fleet_table_free(fleet_table_t *t);

/* The subcommands. */
int cmd_fleet_list(int argc, char **argv);
int cmd_fleet_show(int argc, char **argv);
int cmd_fleet_create(int argc, char **argv);
int cmd_fleet_update(int argc, char **argv);
int cmd_fleet_delete(int argc, char **argv);
int cmd_fleet_locate(int argc, char **argv);
int cmd_fleet_track(int argc, char **argv);
int cmd_fleet_within(int argc, char **argv);
int cmd_fleet_history(int argc, char **argv);
int cmd_fleet_watch(int argc, char **argv);
int cmd_fleet_cmd(int argc, char **argv);     /* cmd_fleet_control.c */
int cmd_fleet_desired(int argc, char **argv); /* cmd_fleet_control.c */
int cmd_fleet_rollout(int argc, char **argv); /* cmd_fleet_rollout.c */
int cmd_fleet_rollout_watch(int argc, char **argv); /* cmd_fleet_rollout_watch.c */

/* Check --uri (required), open the registry and connect to the broker as the fleet (driven by this
   thread: iotkit_fleet_poll() or the blocking calls). Prints the problem; returns an exit code. */
int fleet_cli_connect(fleet_cli_t *c, const char *db, const char *uri);
/* The target of a group operation from --type / --tag / --all (filter) or ids. Prints the problem. */
int fleet_cli_target(const char *cmd, const char *type, const char *tag, bool all, const char *const *ids,
                     size_t n_ids, iotkit_fleet_filter_t *filter, iotkit_fleet_target_t *t);
/* A rollout's state, then one line per group with its progress bar; each line ends with @p eol. */
void fleet_cli_rollout_print(const iotkit_fleet_rollout_info_t *in, const char *eol);
/* "[#####-----]" of @p done out of @p total, @p width cells inside the brackets. */
void fleet_cli_bar(size_t done, size_t total, size_t width, char *buf, size_t cap);

#endif
