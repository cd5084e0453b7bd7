/* Running the built `iotkit` tool from a test, its output captured. */
#ifndef IOTKIT_TEST_CLI_RUN_H
#define IOTKIT_TEST_CLI_RUN_H

#include <stddef.h>

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

#endif
