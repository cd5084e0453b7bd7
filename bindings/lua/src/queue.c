/*
 * The event queue between the library's callbacks and the Lua callbacks
 * (device.c, fleet.c): a C callback copies its arguments into an event and
 * appends it; :poll() takes the events out and runs the Lua callbacks after the
 * library call has returned. The lock makes the queue safe even if a library
 * callback ever ran in another thread: Lua is only touched by the taker.
 */
#include <stdlib.h>
#include <string.h>

#include "lua_iotkit.h"

void lk_queue_init(lk_queue_t *q) {
  q->head = q->tail = NULL;
  pthread_mutex_init(&q->lock, NULL);
}

lk_event_t *lk_event_new(int kind, const char *a, const char *b, size_t blen, const char *c) {
  size_t la = a ? strlen(a) + 1 : 0, lc = c ? strlen(c) + 1 : 0, lb = b ? blen + 1 : 0;
  lk_event_t *e = (lk_event_t *)calloc(1, sizeof *e + la + lb + lc);
  if (!e) return NULL; /* out of memory: the event is lost */
  char *p = (char *)(e + 1);
  if (a) {
    e->a = p;
    memcpy(p, a, la);
    p += la;
  }
  if (b) {
    e->b = p;
    memcpy(p, b, blen);
    p[blen] = '\0';
    e->blen = blen;
    p += lb;
  }
  if (c) {
    e->c = p;
    memcpy(p, c, lc);
  }
  e->kind = kind;
  return e;
}

void lk_queue_append(lk_queue_t *q, lk_event_t *e) {
  pthread_mutex_lock(&q->lock);
  if (q->tail) q->tail->next = e;
  else q->head = e;
  q->tail = e;
  pthread_mutex_unlock(&q->lock);
}

lk_event_t *lk_queue_pop(lk_queue_t *q) {
  pthread_mutex_lock(&q->lock);
  lk_event_t *e = q->head;
  if (e) {
    q->head = e->next;
    if (!q->head) q->tail = NULL;
  }
  pthread_mutex_unlock(&q->lock);
  return e;
}

int lk_queue_pending(lk_queue_t *q) {
  pthread_mutex_lock(&q->lock);
  int any = q->head != NULL;
  pthread_mutex_unlock(&q->lock);
  return any;
}

void lk_queue_clear(lk_queue_t *q) {
  lk_event_t *e;
  while ((e = lk_queue_pop(q)) != NULL) free(e);
}

void lk_queue_destroy(lk_queue_t *q) {
  lk_queue_clear(q);
  pthread_mutex_destroy(&q->lock);
}
