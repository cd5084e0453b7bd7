/* The growable id set of id_set.h: linear probing at a load of at most one
   half, removal by backward shift (no tombstones, so lookups stay short however
   many ids came and went). */
#include "device/id_set.h"

#include <stdlib.h>

#define ID_SET_MIN_CAP 64u

/* Knuth's multiplicative hash: the top bits of the product (the low ones of
   ids that are multiples of a power of two would all be equal). */
static size_t slot_of(const iotkit__id_set_t *s, uint32_t id) {
  return (size_t)((uint32_t)(id * 2654435761u) >> (32u - s->bits));
}

static void put(iotkit__id_set_t *s, uint32_t id) {
  size_t i = slot_of(s, id);
  while (s->slots[i] && s->slots[i] != id) i = (i + 1u) & (s->cap - 1u);
  if (!s->slots[i]) {
    s->slots[i] = id;
    s->n++;
  }
}

static bool grow(iotkit__id_set_t *s) {
  if (s->cap >= ((size_t)1 << 31)) return false; /* the hash takes at most 32 bits */
  size_t cap = s->cap ? s->cap * 2u : ID_SET_MIN_CAP;
  uint32_t *slots = calloc(cap, sizeof *slots);
  if (!slots) return false;
  uint32_t *old = s->slots;
  size_t old_cap = s->cap;
  s->slots = slots;
  s->cap = cap;
  s->bits = 0;
  while (((size_t)1 << s->bits) < cap) s->bits++;
  s->n = s->has_zero ? 1u : 0u;
  for (size_t i = 0; i < old_cap; i++)
    if (old[i]) put(s, old[i]);
  free(old);
  return true;
}

bool iotkit__id_set_add(iotkit__id_set_t *s, uint32_t id) {
  if (id == 0) {
    if (!s->has_zero) s->n++;
    s->has_zero = true;
    return true;
  }
  if ((s->n + 1u) * 2u > s->cap && !grow(s)) return false;
  put(s, id);
  return true;
}

bool iotkit__id_set_take(iotkit__id_set_t *s, uint32_t id) {
  if (id == 0) {
    bool had = s->has_zero;
    if (had) s->n--;
    s->has_zero = false;
    return had;
  }
  if (!s->cap) return false;
  size_t mask = s->cap - 1u, i = slot_of(s, id);
  while (s->slots[i] != id) {
    if (!s->slots[i]) return false;
    i = (i + 1u) & mask;
  }
  /* Backward shift: move up every later id of the cluster that may sit in the hole. */
  for (size_t j = (i + 1u) & mask; s->slots[j]; j = (j + 1u) & mask) {
    size_t home = slot_of(s, s->slots[j]);
    /* j's id may move to i unless its home lies cyclically in (i, j] */
    bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
    if (stays) continue;
    s->slots[i] = s->slots[j];
    i = j;
  }
  s->slots[i] = 0;
  s->n--;
  return true;
}

void iotkit__id_set_clear(iotkit__id_set_t *s) {
  free(s->slots);
  *s = (iotkit__id_set_t){0};
}
