/* The rollouts of a fleet: made and loaded from the database at creation, freed at release. */
#include <stdlib.h>

#include "fleet/fleet_internal.h"
#include "fleet/rollout.h"
#include "fleet/store_rollout.h"

static void add(void *ctx, iotkit__ro_t *ro) {
  iotkit__rollouts_t *r = ctx;
  if (r->tail)
    r->tail->next = ro;
  else
    r->head = ro;
  r->tail = ro;
  ro->stored_state = ro->state;
  if (ro->wire) r->wire = true;
}

iotkit_err_t iotkit__fleet_rollouts_load(iotkit_fleet_t *f, char *err, size_t cap) {
  f->rollouts = calloc(1, sizeof *f->rollouts);
  if (!f->rollouts) return IOTKIT_ERR_NOMEM;
  iotkit_err_t rc = iotkit__fleet_rollout_store_sqlite.load(f->store, add, f->rollouts, err, cap);
  if (rc != IOTKIT_OK) return rc;
  /* A fleet restarted mid-rollout: every new session publishes again to the devices that
     were sent the manifest and have not reported on it (rollout_wire.c); nothing else to do. */
  return IOTKIT_OK;
}

void iotkit__fleet_rollouts_free(iotkit_fleet_t *f) {
  if (!f->rollouts) return;
  iotkit__ro_t *ro = f->rollouts->head;
  while (ro) {
    iotkit__ro_t *next = ro->next;
    iotkit__ro_free_one(ro);
    ro = next;
  }
  free(f->rollouts);
  f->rollouts = NULL;
}
