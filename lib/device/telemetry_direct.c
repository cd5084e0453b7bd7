/* Confirmations of telemetry sent without a durable queue (telemetry_direct.h). */
#include "device/telemetry_direct.h"

#include <string.h>

uint64_t iotkit__tel_direct_begin(iotkit__tel_direct_t *d) {
  d->sending++;
  return ++d->gen;
}

bool iotkit__tel_direct_file(iotkit__tel_direct_t *d, uint32_t id) { return iotkit__id_set_add(&d->ids, id); }

bool iotkit__tel_direct_end(iotkit__tel_direct_t *d, bool sent, uint32_t id, uint64_t gen, iotkit_err_t *status) {
  bool early = false;
  for (uint32_t i = 0; sent && !early && i < d->n_early; i++) {
    /* Kept before this send began: another message's, whatever its id. */
    if (d->early[i].id != id || d->early[i].gen < gen) continue;
    *status = d->early[i].status;
    memmove(&d->early[i], &d->early[i + 1], (d->n_early - i - 1u) * sizeof d->early[0]);
    d->n_early--;
    early = true;
  }
  if (--d->sending == 0) d->n_early = 0; /* nobody left to claim them */
  if (!sent || early) return early;
  (void)iotkit__id_set_add(&d->ids, id);
  return false;
}

bool iotkit__tel_direct_delivered(iotkit__tel_direct_t *d, uint32_t id, iotkit_err_t status) {
  if (iotkit__id_set_take(&d->ids, id)) return true;
  if (!d->sending) return false; /* not telemetry (or of a session forgotten) */
  if (d->n_early == IOTKIT__TEL_EARLY_MAX) {
    memmove(&d->early[0], &d->early[1], (IOTKIT__TEL_EARLY_MAX - 1u) * sizeof d->early[0]);
    d->n_early--;
  }
  d->early[d->n_early].id = id;
  d->early[d->n_early].status = status;
  d->early[d->n_early].gen = d->gen;
  d->n_early++;
  return false;
}

void iotkit__tel_direct_forget(iotkit__tel_direct_t *d) {
  iotkit__id_set_clear(&d->ids);
  d->n_early = 0;
}

size_t iotkit__tel_direct_in_flight(const iotkit__tel_direct_t *d) { return d->ids.n; }
