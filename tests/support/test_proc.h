/* Running a command-line tool from a test helper. */
#ifndef IOTKIT_TEST_PROC_H
#define IOTKIT_TEST_PROC_H

#include <stdbool.h>

/* Run argv[0] (an absolute path) with @p argv, its output appended to
   @p log_path; wait for it. True if it exited with status 0. */
bool test_proc_run(const char *log_path, char *const argv[]);

#endif
