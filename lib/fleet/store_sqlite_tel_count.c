/*
 * How many rows of the telemetry history each (device, metric) has, as the
 * writer's connection knows it: trimming a metric to its newest N points is
 * then a lookup, and a delete of the excess only when there is one (walking
 * those rows only), instead of walking N rows of the index at every write.
 * A count is learnt with one count(*) the first time a metric is trimmed, and
 * moved by the writer's own inserts and deletes. It is forgotten, all of it,
 * when it may be wrong: a write transaction that failed (rolled back), a
 * device deleted (its rows went by cascade), or a commit by another
 * connection (PRAGMA data_version moved; checked at each write of the view).
 * Only the writer thread touches it.
 */
#include <stdlib.h>
#include <string.h>

#include "fleet/store_sqlite_internal.h"

struct iotkit__sq_tel_count {
  struct iotkit__sq_tel_count *next;
  int64_t rows;
  size_t id_len;
  char key[]; /* id, '\0', name, '\0' */
};

#define FIRST_BUCKETS 256u

static size_t hash(const char *id, const char *name) {
  uint64_t h = 1469598103934665603ull;
  for (const char *p = id; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
  h = (h ^ 0xffu) * 1099511628211ull;
  for (const char *p = name; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
  return (size_t)h;
}

void iotkit__sq_tel_counts_clear(iotkit__sq_tel_counts_t *t) {
  for (size_t b = 0; b < t->nbuckets; b++) {
    for (iotkit__sq_tel_count_t *e = t->buckets[b], *next; e; e = next) {
      next = e->next;
      free(e);
    }
  }
  free(t->buckets);
  t->buckets = NULL;
  t->nbuckets = t->count = 0;
}

int64_t *iotkit__sq_tel_count_find(iotkit__sq_tel_counts_t *t, const char *id, const char *name) {
  if (!t->nbuckets) return NULL;
  size_t id_len = strlen(id);
  for (iotkit__sq_tel_count_t *e = t->buckets[hash(id, name) & (t->nbuckets - 1)]; e; e = e->next)
    if (e->id_len == id_len && memcmp(e->key, id, id_len) == 0 && strcmp(e->key + id_len + 1, name) == 0)
      return &e->rows;
  return NULL;
}

static void grow(iotkit__sq_tel_counts_t *t) {
  size_t n = t->nbuckets ? t->nbuckets * 2 : FIRST_BUCKETS;
  iotkit__sq_tel_count_t **b = calloc(n, sizeof(*b));
  if (!b) return; /* longer chains, still correct */
  for (size_t i = 0; i < t->nbuckets; i++) {
    for (iotkit__sq_tel_count_t *e = t->buckets[i], *next; e; e = next) {
      next = e->next;
      size_t k = hash(e->key, e->key + e->id_len + 1) & (n - 1);
      e->next = b[k];
      b[k] = e;
    }
  }
  free(t->buckets);
  t->buckets = b;
  t->nbuckets = n;
}

int64_t *iotkit__sq_tel_count_add(iotkit__sq_tel_counts_t *t, const char *id, const char *name, int64_t rows) {
  if (t->count >= t->nbuckets) grow(t);
  if (!t->nbuckets) return NULL;
  size_t id_len = strlen(id), name_len = strlen(name);
  iotkit__sq_tel_count_t *e = malloc(sizeof(*e) + id_len + name_len + 2);
  if (!e) return NULL;
  e->rows = rows;
  e->id_len = id_len;
  memcpy(e->key, id, id_len + 1);
  memcpy(e->key + id_len + 1, name, name_len + 1);
  size_t k = hash(id, name) & (t->nbuckets - 1);
  e->next = t->buckets[k];
  t->buckets[k] = e;
  t->count++;
  return &e->rows;
}
