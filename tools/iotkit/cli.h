/* Shared pieces of the iotkit command-line tool. */
#ifndef IOTKIT_CLI_H
#define IOTKIT_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include <iotkit/iotkit.h>

/* Exit codes; `iotkit help` documents them. */
enum {
  CLI_EXIT_OK = 0,
  CLI_EXIT_USAGE = 1,    /* bad command line or configuration */
  CLI_EXIT_CONNECT = 2,  /* could not connect */
  CLI_EXIT_DELIVERY = 3, /* a message was not confirmed (failed, timed out, connection lost) */
  CLI_EXIT_REFUSED = 4,  /* a token or signature was refused (jwt verify); the error name is printed */
  CLI_EXIT_UPDATE = 5,   /* the device reported the update failed or rolled back (ota push) */
  CLI_EXIT_NOT_FOUND = 6, /* fleet: no such device (or it has no position, no such metric) */
  CLI_EXIT_EXISTS = 7,    /* fleet: the device id is registered already */
  CLI_EXIT_DATABASE = 8,  /* fleet: the registry database is missing, unreadable, locked, corrupt or newer */
  CLI_EXIT_NOT_AVAILABLE = 9, /* the command is not available in this build (yet) */
  CLI_EXIT_REMOTE = 10,       /* fleet cmd: the device answered with an error (its code and message printed) */
  CLI_EXIT_TIMEOUT = 11,      /* fleet cmd: the device did not answer in time */
  CLI_EXIT_OFFLINE = 12,      /* fleet cmd: the device is offline (nothing was sent) */
  CLI_EXIT_STATE = 13,        /* fleet rollout: not in a state that allows it, or a device is in another rollout */
};

/* A command: argv[0] is the command's own name. Returns an exit code. */
typedef int (*cli_command_fn)(int argc, char **argv);

/* An entry of a command table. */
typedef struct cli_command {
  const char *name;
  cli_command_fn run;
  const char *summary; /* one line for `iotkit help` */
} cli_command_t;

/* Run the entry of @p table named argv[0]; unknown or missing names are usage errors. */
int cli_dispatch(const char *group, const cli_command_t *table, int argc, char **argv);

/* An option: "--name VALUE", "--name=VALUE", or a flag "--name". */
typedef struct cli_opt {
  const char *name;   /* without the dashes */
  const char **value; /* receives the value; NULL for a flag */
  bool *flag;         /* set for a flag; NULL for an option with a value */
} cli_opt_t;

/* Parse argv[1..] against @p opts. Prints the problem and returns CLI_EXIT_USAGE, or CLI_EXIT_OK. */
int cli_parse_opts(int argc, char **argv, const cli_opt_t *opts, size_t n);

/* cli_parse_opts() with up to @p max_pos other arguments (anywhere) into @p pos; an exit code (printed). */
int cli_parse_positional(int argc, char **argv, const cli_opt_t *opts, size_t n_opts, const char **pos, size_t max_pos,
                         size_t *n_pos);

/* Parse a decimal number in [min, max] given for option @p name; prints the problem. */
bool cli_parse_num(const char *name, const char *text, unsigned long min, unsigned long max, unsigned long *out);

/* Print "iotkit: <message>" and a hint to stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* SIGINT/SIGTERM set a flag instead of killing the process. */
void cli_catch_stop_signals(void);
bool cli_stop_requested(void);

/* The commands. */
int cmd_help(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_device(int argc, char **argv);
int cmd_device_simulate(int argc, char **argv);

int cmd_keygen(int argc, char **argv);
int cmd_telemetry(int argc, char **argv);
int cmd_edge(int argc, char **argv); /* cmd_edge.c */
/* An edge configuration file (at most 1 MiB), NUL-terminated; NULL (printed) on failure. Free with free(). */
char *cli_edge_read_config(const char *path, size_t *len);
int cmd_jwt(int argc, char **argv);
int cmd_jwt_make(int argc, char **argv);
int cmd_jwt_verify(int argc, char **argv);

int cmd_fleet(int argc, char **argv);

int cmd_ota(int argc, char **argv);
int cmd_ota_sign(int argc, char **argv);
int cmd_ota_verify(int argc, char **argv);
int cmd_ota_push(int argc, char **argv);
/* Read a manifest file (at most 8 KiB, trailing newlines dropped); NULL (printed) on failure. Free with free(). */
char *cli_read_manifest(const char *path, size_t *len);

/* Crypto commands (cli_crypto.c): a HAL with the kernel's random generator and the wall clock. */
void cli_crypto_hal(iotkit_hal_t *hal);
/* "EdDSA", "ES256" or "RS256"; prints a usage error otherwise. */
bool cli_parse_jwt_alg(const char *text, iotkit_jwt_alg_t *alg);
/* Print "iotkit: <what>: <message> (<NAME>)" and return @p code. */
int cli_crypto_error(const char *what, iotkit_err_t err, int code);
/* Load a PEM/DER key file given as --<option>; prints the error and returns CLI_EXIT_USAGE on failure. */
int cli_load_key(const char *option, const char *path, iotkit_key_t **key);

/* Print the full help to stdout. */
void cli_print_help(void);

#endif
