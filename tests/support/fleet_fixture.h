/* Fleet registry tests: a temporary directory, a memory HAL with a manual clock, a fleet on a file in it. */
#ifndef IOTKIT_TEST_FLEET_FIXTURE_H
#define IOTKIT_TEST_FLEET_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

#include "iotkit/iotkit.h"

typedef struct fleet_fixture {
  char dir[256];    /* temporary directory ("" for a :memory: fixture) */
  char path[320];   /* <dir>/fleet.db, or ":memory:" */
  iotkit_hal_t *hal; /* memory HAL, manual clock (wall clock 2026-01-01T00:00:00Z) */
  iotkit_fleet_t *fleet;
  char err[IOTKIT_ERROR_TEXT_SIZE]; /* error_buf of the last fleet_fixture_open() */
} fleet_fixture_t;

/* Wall clock of the manual memory HAL at start, ms. */
#define FLEET_FIXTURE_T0_MS 1767225600000LL

/* Make the directory and HAL, and open fx->fleet on a file (asserts on failure). */
void fleet_fixture_setup(fleet_fixture_t *fx);
/* The same on ":memory:". */
void fleet_fixture_setup_memory(fleet_fixture_t *fx);
/* Open a fleet on @p path with fx->hal, busy_timeout_ms 200 and fx->err as error_buf. */
iotkit_err_t fleet_fixture_open(fleet_fixture_t *fx, const char *path, iotkit_fleet_t **out);
/* Free fx->fleet and open it again on the same path (asserts). */
void fleet_fixture_reopen(fleet_fixture_t *fx);
/* Free the fleet (if any), the HAL and the directory. */
void fleet_fixture_teardown(fleet_fixture_t *fx);

/* Create a record with the given id, type (NULL: none) and tags. */
iotkit_err_t fleet_fixture_create(iotkit_fleet_t *fleet, const char *id, const char *type, const char *const *tags,
                                  size_t tag_count);

/* Path of the fleet_peer helper program (tests/fleet_peer.c). */
const char *fleet_fixture_peer(void);

/* If running as root, become an unprivileged user (nobody) for the rest of this test process,
   so that file modes bind; false if that is not possible. */
bool fleet_fixture_drop_root(void);

#endif
