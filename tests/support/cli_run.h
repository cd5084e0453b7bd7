/* Running the built `iotkit` tool from a test, its output captured. */
#ifndef IOTKIT_TEST_CLI_RUN_H
#define IOTKIT_TEST_CLI_RUN_H

#include <stddef.h>
#include <sys/types.h>

/* What one run printed and how it ended. */
typedef struct cli_result {
  int status;      /* exit status, or -1 if it did not exit normally */
  char out[16384]; /* stdout, NUL-terminated (truncated) */
  char err[16384]; /* stderr, NUL-terminated (truncated) */
} cli_result_t;

/*
 * Run @p program with the NULL-terminated @p args (args[0] is the first
 * argument, not the program), stdout and stderr going through files in @p dir
 * (removed after). Fills @p r; asserts if it cannot start.
 */
void cli_run(const char *program, const char *dir, const char *const *args, cli_result_t *r);

/* Start @p program with @p args (as cli_run()), stdout and stderr to the given files; its pid. Asserts if fork fails. */
pid_t cli_spawn(const char *program, const char *const *args, const char *out_path, const char *err_path);

/* Read the file @p path into @p buf, NUL-terminated (truncated); "" if it cannot be read. */
void cli_slurp(const char *path, char *buf, size_t cap);

#endif
