/*
 * The store's rollout operations (internal), beside the table of store.h:
 * written through the writer thread, read at creation. A backend fills one of
 * these tables (store_sqlite_rollout.c for SQLite).
 */
#ifndef IOTKIT__FLEET_STORE_ROLLOUT_H
#define IOTKIT__FLEET_STORE_ROLLOUT_H

#include <stddef.h>

#include "fleet/rollout.h"

typedef struct iotkit__fleet_rollout_store_ops {
  /* Writer thread, one transaction. @p list: rollouts chained by next, each with its
     row's fields, every group, and the devices to write (devs, n_devs; pos is their place).
     @p create: @p list is one new rollout with its manifest (IOTKIT_ERR_EXISTS if its id is
     taken); otherwise the rows exist and are updated. */
  iotkit_err_t (*save)(void *store, const iotkit__ro_t *list, bool create, char *err, size_t cap);
  /* Read every rollout, oldest first; @p one takes ownership of each (built complete: groups,
     devices in their order, by_id index). */
  iotkit_err_t (*load)(void *store, void (*one)(void *ctx, iotkit__ro_t *ro), void *ctx, char *err, size_t cap);
  /* Read every rollout's state as stored now (any thread; a read transaction): what another
     process may have changed (rollout_refresh.c). */
  iotkit_err_t (*states)(void *store, void (*one)(void *ctx, const char *id, uint8_t state, int32_t error_group,
                                                  const char *reason),
                         void *ctx, char *err, size_t cap);
} iotkit__fleet_rollout_store_ops_t;

extern const iotkit__fleet_rollout_store_ops_t iotkit__fleet_rollout_store_sqlite;

#endif
