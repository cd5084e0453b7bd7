/* The arena a configuration is compiled into: chunks freed together with the plan,
   so that a refused or replaced configuration leaves nothing behind. */
#include <stdlib.h>
#include <string.h>

#include "edge/edge_internal.h"

struct edge_chunk {
  struct edge_chunk *next;
  size_t cap, used;
  _Alignas(8) unsigned char data[];
};

#define EDGE_CHUNK 4096u

void *iotkit__edge_alloc(edge_arena *a, size_t size) {
  size = (size + 7u) & ~(size_t)7u;
  if (!size) size = 8;
  struct edge_chunk *c = a->chunks;
  if (!c || c->cap - c->used < size) {
    size_t cap = size > EDGE_CHUNK ? size : EDGE_CHUNK;
    c = calloc(1, sizeof(*c) + cap);
    if (!c) return NULL;
    c->cap = cap;
    c->next = a->chunks;
    a->chunks = c;
  }
  void *p = c->data + c->used;
  c->used += size;
  return p;
}

char *iotkit__edge_strdup(edge_arena *a, const char *s) {
  size_t n = strlen(s) + 1;
  char *p = iotkit__edge_alloc(a, n);
  if (p) memcpy(p, s, n);
  return p;
}

void iotkit__edge_arena_free(edge_arena *a) {
  while (a->chunks) {
    struct edge_chunk *c = a->chunks;
    a->chunks = c->next;
    free(c);
  }
  a->state_bytes = 0;
}
