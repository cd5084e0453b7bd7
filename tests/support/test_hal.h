/* A minimal hand-filled HAL for tests: real clocks, pthread mutexes, urandom,
   and a log captured in memory (and echoed to stderr when IOTKIT_TEST_LOG is set). */
#ifndef IOTKIT_TEST_HAL_H
#define IOTKIT_TEST_HAL_H

#include <stdbool.h>

#include "iotkit/hal.h"

/* How many log lines a test HAL keeps. */
#define TEST_HAL_LOG_MAX 4096

typedef struct test_hal test_hal_t;

/* Create a test HAL; NULL on allocation failure. */
test_hal_t *test_hal_new(void);

/* The HAL to pass to the library; valid until test_hal_free(). */
const iotkit_hal_t *test_hal_get(test_hal_t *th);

/* True if some captured log line contains @p needle. */
bool test_hal_log_contains(test_hal_t *th, const char *needle);

/* True if every line logged so far was captured (at most TEST_HAL_LOG_MAX). */
bool test_hal_log_complete(test_hal_t *th);

/* Number of captured log lines at exactly @p level. */
unsigned test_hal_log_count(test_hal_t *th, iotkit_log_level_t level);

/* Free the HAL and its log. NULL is a no-op. */
void test_hal_free(test_hal_t *th);

#endif
