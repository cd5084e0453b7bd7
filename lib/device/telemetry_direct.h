/* Following telemetry sent without a durable queue, so that its confirmations are
   counted: the ids in flight, and the confirmations that come before the sender
   has filed the id (the send is not done under the telemetry lock: the sender and
   the polling thread's delivery handler would take turns on it for every message).

   The caller holds the telemetry lock around each call:
     gen = direct_begin(d);           (lock) ... send(), no lock ... (lock)
     direct_end(d, id, gen, &status)  true: it was confirmed already, with status
     direct_delivered(d, id, status)  in the delivery handler: true if it is one of ours
*/
#ifndef IOTKIT__DEVICE_TELEMETRY_DIRECT_H
#define IOTKIT__DEVICE_TELEMETRY_DIRECT_H

#include <stdbool.h>
#include <stdint.h>

#include "device/id_set.h"
#include "iotkit/error.h"

/* Most confirmations kept for sends in progress (one each, and the unrelated ones
   that come meanwhile); the oldest goes first. */
#define IOTKIT__TEL_EARLY_MAX 32u

typedef struct iotkit__tel_direct {
  iotkit__id_set_t ids; /* sent and filed, not yet confirmed or failed */
  uint32_t sending;     /* sends between begin and end */
  uint64_t gen;         /* sends begun so far */
  struct {
    uint32_t id;
    iotkit_err_t status;
    uint64_t gen; /* the gen when it came: a send begun at or before it may own it */
  } early[IOTKIT__TEL_EARLY_MAX];
  uint32_t n_early;
} iotkit__tel_direct_t;

/* A send begins; its number, for direct_end(). */
uint64_t iotkit__tel_direct_begin(iotkit__tel_direct_t *d);
/* The send numbered @p gen ended (@p sent: with id @p id). True if its confirmation
   came already (its status in @p status); false if it is filed to wait for it (or was
   not sent). False also without memory to file it: then it is never counted. */
bool iotkit__tel_direct_end(iotkit__tel_direct_t *d, bool sent, uint32_t id, uint64_t gen, iotkit_err_t *status);
/* A send under the telemetry lock: filed at once (false without memory). */
bool iotkit__tel_direct_file(iotkit__tel_direct_t *d, uint32_t id);
/* A confirmation: true if @p id is one of ours (and forgotten); kept for a send in
   progress otherwise. */
bool iotkit__tel_direct_delivered(iotkit__tel_direct_t *d, uint32_t id, iotkit_err_t status);
/* The session ended: what is in flight is never confirmed. */
void iotkit__tel_direct_forget(iotkit__tel_direct_t *d);
/* Ids filed and not yet confirmed. */
size_t iotkit__tel_direct_in_flight(const iotkit__tel_direct_t *d);

#endif
