/* A set of message ids (uint32, any value) that grows as needed: the telemetry
   messages in flight without a durable queue, whose confirmations come in any
   number and order (the in-flight window of the durable queue is bounded, this
   is not: nothing limits how many the application sends before the first
   confirmation). Not thread-safe: the caller locks. */
#ifndef IOTKIT__DEVICE_ID_SET_H
#define IOTKIT__DEVICE_ID_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct iotkit__id_set {
  uint32_t *slots; /* open addressing, linear probing; 0 marks an empty slot */
  size_t cap;      /* a power of two (2^bits, bits <= 32), or 0 before the first add */
  unsigned bits;
  size_t n;        /* ids held, id 0 included */
  bool has_zero;   /* id 0, which cannot sit in a slot */
} iotkit__id_set_t;

/* Add @p id (already there: nothing changes); false only without memory. */
bool iotkit__id_set_add(iotkit__id_set_t *s, uint32_t id);
/* Remove @p id; whether it was there. */
bool iotkit__id_set_take(iotkit__id_set_t *s, uint32_t id);
/* Forget every id and release the memory (the set stays usable). */
void iotkit__id_set_clear(iotkit__id_set_t *s);

#endif
