/* The durable queue: append before send, hand out oldest first, remove on acknowledgement. */
#include <stdlib.h>
#include <string.h>

#include "telemetry/queue_internal.h"
#include "telemetry/telemetry_internal.h"

#define LOCK(q) (q)->hal->mutex_lock((q)->hal->ctx, (q)->mutex)
#define UNLOCK(q) (q)->hal->mutex_unlock((q)->hal->ctx, (q)->mutex)

/* ------------------------------------------------------------- helpers -- */

iotkit_err_t iotkit__q_push_seg(iotkit_telemetry_queue_t *q, uint32_t id) {
  if (q->nseg == q->segcap) {
    size_t cap = q->segcap ? q->segcap * 2 : 8;
    iotkit__q_seg_t *s = realloc(q->segs, cap * sizeof(*s));
    if (!s) return IOTKIT_ERR_NOMEM;
    q->segs = s;
    q->segcap = cap;
  }
  q->segs[q->nseg++] = (iotkit__q_seg_t){.id = id};
  return IOTKIT_OK;
}

iotkit_err_t iotkit__q_push_entry(iotkit_telemetry_queue_t *q, const iotkit__q_entry_t *e) {
  if (q->count == q->cap) {
    if (q->head > 0) { /* reuse the room of entries already done */
      memmove(q->e, q->e + q->head, (q->count - q->head) * sizeof(*q->e));
      q->count -= q->head;
      q->cursor = q->cursor > q->head ? q->cursor - q->head : 0;
      q->head = 0;
    }
    if (q->count == q->cap) {
      size_t cap = q->cap ? q->cap * 2 : 64;
      iotkit__q_entry_t *n = realloc(q->e, cap * sizeof(*n));
      if (!n) return IOTKIT_ERR_NOMEM;
      q->e = n;
      q->cap = cap;
    }
  }
  q->e[q->count++] = *e;
  return IOTKIT_OK;
}

iotkit__q_entry_t *iotkit__q_find(iotkit_telemetry_queue_t *q, uint64_t seq) {
  size_t lo = q->head, hi = q->count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (q->e[mid].seq < seq) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo < q->count && q->e[lo].seq == seq ? &q->e[lo] : NULL;
}

iotkit__q_seg_t *iotkit__q_seg_of(iotkit_telemetry_queue_t *q, uint32_t id) {
  for (size_t i = 0; i < q->nseg; i++)
    if (q->segs[i].id == id) return &q->segs[i];
  return NULL;
}

void iotkit__q_reclaim(iotkit_telemetry_queue_t *q) {
  while (q->nseg > 1 && q->segs[0].live == 0) {
    if (q->hal->seg_remove(q->hal->ctx, q->name, q->segs[0].id) != IOTKIT_OK) return;
    q->bytes -= q->segs[0].bytes;
    memmove(q->segs, q->segs + 1, (q->nseg - 1) * sizeof(*q->segs));
    q->nseg--;
  }
}

void iotkit__q_done(iotkit_telemetry_queue_t *q, iotkit__q_entry_t *e) {
  e->state = IOTKIT__Q_DONE;
  iotkit__q_seg_t *s = iotkit__q_seg_of(q, e->seg);
  if (s && s->live) s->live--;
  while (q->head < q->count && q->e[q->head].state == IOTKIT__Q_DONE) q->head++;
  if (q->cursor < q->head) q->cursor = q->head;
  iotkit__q_reclaim(q);
}

static iotkit_err_t sync_active(iotkit_telemetry_queue_t *q) {
  if (!q->dirty) return IOTKIT_OK;
  iotkit_err_t rc = q->hal->seg_sync(q->hal->ctx, q->name, q->segs[q->nseg - 1].id);
  if (rc != IOTKIT_OK) return rc;
  q->dirty = false;
  q->last_sync_ms = q->hal->monotonic_ms(q->hal->ctx);
  return IOTKIT_OK;
}

/* Sync once the policy's interval has passed (SYNC_INTERVAL), or always (SYNC_EVERY_RECORD). */
static iotkit_err_t sync_due(iotkit_telemetry_queue_t *q, bool every) {
  if (q->cfg.sync_policy == IOTKIT_TELEMETRY_SYNC_EVERY_RECORD) return every ? sync_active(q) : IOTKIT_OK;
  if (q->cfg.sync_policy != IOTKIT_TELEMETRY_SYNC_INTERVAL || !q->dirty) return IOTKIT_OK;
  if (q->hal->monotonic_ms(q->hal->ctx) - q->last_sync_ms < q->cfg.sync_interval_ms) return IOTKIT_OK;
  return sync_active(q);
}

/* Start a new active segment; the old one is synced first unless the policy is SYNC_NEVER. */
static iotkit_err_t roll(iotkit_telemetry_queue_t *q) {
  if (q->cfg.sync_policy != IOTKIT_TELEMETRY_SYNC_NEVER) {
    iotkit_err_t rc = sync_active(q);
    if (rc != IOTKIT_OK) return rc;
  }
  iotkit_err_t rc = iotkit__q_push_seg(q, q->segs[q->nseg - 1].id + 1);
  if (rc != IOTKIT_OK) return rc;
  q->dirty = false;
  q->active_broken = false;
  return IOTKIT_OK;
}

/* Append one record to the active segment, rolling it first when full or broken. */
static iotkit_err_t write_record(iotkit_telemetry_queue_t *q, uint8_t type, uint64_t seq, const void *payload,
                                 uint32_t len, uint64_t *off) {
  uint64_t need = IOTKIT__Q_HDR + (uint64_t)len;
  iotkit__q_seg_t *a = &q->segs[q->nseg - 1];
  if (q->active_broken || (a->bytes > 0 && a->bytes + need > q->cfg.segment_bytes)) {
    iotkit_err_t rc = roll(q);
    if (rc != IOTKIT_OK) return rc;
    a = &q->segs[q->nseg - 1];
  }
  uint8_t *rec = malloc(need);
  if (!rec) return IOTKIT_ERR_NOMEM;
  iotkit__q_header(rec, type, seq, payload, len);
  if (len) memcpy(rec + IOTKIT__Q_HDR, payload, len);
  iotkit_err_t rc = q->hal->seg_append(q->hal->ctx, q->name, a->id, rec, need);
  free(rec);
  if (rc != IOTKIT_OK) {
    /* Part of the record may have reached the segment: later records go to a fresh one. */
    q->active_broken = true;
    return rc;
  }
  *off = a->bytes;
  a->bytes += need;
  q->bytes += need;
  q->dirty = true;
  return IOTKIT_OK;
}

/* Make room for @need more bytes per the full policy: OK, QUEUE_FULL, or 1 when the record is to be discarded. */
static int make_room(iotkit_telemetry_queue_t *q, uint64_t need) {
  while (q->bytes + need > q->cfg.max_bytes) {
    iotkit__q_reclaim(q);
    if (q->bytes + need <= q->cfg.max_bytes) break;
    if (q->cfg.full_policy == IOTKIT_TELEMETRY_REFUSE) return IOTKIT_ERR_QUEUE_FULL;
    if (q->cfg.full_policy == IOTKIT_TELEMETRY_DROP_NEWEST) return 1;
    if (q->nseg == 1 && roll(q) != IOTKIT_OK) return IOTKIT_ERR_QUEUE_FULL;
    /* Drop every record of the oldest segment, which then goes. */
    uint32_t oldest = q->segs[0].id;
    for (size_t i = q->head; i < q->count && q->e[i].seg == oldest; i++) {
      if (q->e[i].state == IOTKIT__Q_DONE) continue;
      q->st.dropped_oldest++;
      iotkit__q_done(q, &q->e[i]);
    }
    if (q->nseg > 0 && q->segs[0].id == oldest) iotkit__q_reclaim(q);
    if (q->nseg > 0 && q->segs[0].id == oldest) return IOTKIT_ERR_QUEUE_FULL; /* the HAL could not remove it */
  }
  return IOTKIT_OK;
}

static iotkit_err_t append_locked(iotkit_telemetry_queue_t *q, uint64_t seq, const void *payload, size_t len) {
  if (seq == 0 || seq <= q->last_seq || (!payload && len > 0)) return IOTKIT_ERR_INVALID_ARG;
  if (len > IOTKIT_MAX_PAYLOAD_DEFAULT || IOTKIT__Q_HDR + len > q->cfg.segment_bytes) return IOTKIT_ERR_TOO_LARGE;
  int room = make_room(q, IOTKIT__Q_HDR + len);
  if (room == IOTKIT_ERR_QUEUE_FULL) q->st.refused += q->cfg.full_policy == IOTKIT_TELEMETRY_REFUSE;
  if (room < 0) return (iotkit_err_t)room;
  if (room == 1) {
    q->st.dropped_newest++;
    q->last_seq = seq;
    return IOTKIT_OK;
  }
  iotkit__q_entry_t e = {.seq = seq, .len = (uint32_t)len, .seg = q->segs[q->nseg - 1].id};
  iotkit_err_t rc = iotkit__q_push_entry(q, &e); /* first, so that a failure leaves the log alone */
  if (rc != IOTKIT_OK) return rc;
  rc = write_record(q, IOTKIT__Q_DATA, seq, payload, (uint32_t)len, &q->e[q->count - 1].off);
  if (rc != IOTKIT_OK) {
    q->count--;
    return rc;
  }
  q->e[q->count - 1].seg = q->segs[q->nseg - 1].id; /* the record may have opened a new segment */
  q->segs[q->nseg - 1].live++;
  q->last_seq = seq;
  q->st.queued++;
  return sync_due(q, true);
}

/* ----------------------------------------------------------------- API -- */

iotkit_err_t iotkit_telemetry_queue_append(iotkit_telemetry_queue_t *q, uint64_t seq, const void *payload,
                                           size_t len) {
  if (!q) return IOTKIT_ERR_INVALID_ARG;
  LOCK(q);
  iotkit_err_t rc = append_locked(q, seq, payload, len);
  UNLOCK(q);
  return rc;
}

iotkit_err_t iotkit_telemetry_queue_push(iotkit_telemetry_queue_t *q, iotkit_telemetry_batch_t *batch,
                                         iotkit_telemetry_format_t format, uint64_t *seq) {
  if (!q || !batch) return IOTKIT_ERR_INVALID_ARG;
  LOCK(q);
  uint64_t s = 0, old = batch->seq;
  uint8_t *buf = NULL;
  size_t len = 0;
  /* Under the lock, so that the number taken is the next one appended. */
  iotkit_err_t rc = iotkit__q_next_seq(q, &s);
  if (rc == IOTKIT_OK) rc = iotkit_telemetry_batch_set_seq(batch, s);
  if (rc == IOTKIT_OK) rc = iotkit_telemetry_encode(batch, format, &buf, &len);
  if (rc == IOTKIT_OK) rc = append_locked(q, s, buf, len);
  UNLOCK(q);
  iotkit_free(buf);
  if (rc != IOTKIT_OK) {
    batch->seq = old;
    return rc;
  }
  if (seq) *seq = s;
  return IOTKIT_OK;
}

iotkit_err_t iotkit_telemetry_queue_next(iotkit_telemetry_queue_t *q, uint64_t *seq, uint8_t **payload, size_t *len) {
  if (!q || !seq || !payload || !len) return IOTKIT_ERR_INVALID_ARG;
  LOCK(q);
  iotkit_err_t rc = IOTKIT_ERR_NOT_FOUND;
  while (q->cursor < q->count) {
    iotkit__q_entry_t *e = &q->e[q->cursor];
    if (e->state != IOTKIT__Q_PENDING) {
      q->cursor++;
      continue;
    }
    size_t n = IOTKIT__Q_HDR + e->len, got = 0;
    uint8_t *rec = malloc(n);
    if (!rec) {
      rc = IOTKIT_ERR_NOMEM;
      break;
    }
    rc = q->hal->seg_read(q->hal->ctx, q->name, e->seg, e->off, rec, n, &got);
    iotkit__q_rec_t r;
    if (rc == IOTKIT_OK && (got != n || !iotkit__q_parse(rec, n, 0, &r) || r.seq != e->seq)) {
      /* Damaged since it was written: it can never be sent, so it is counted and dropped. */
      free(rec);
      q->st.dropped_corrupt++;
      iotkit__q_done(q, e);
      rc = IOTKIT_ERR_NOT_FOUND;
      continue;
    }
    if (rc != IOTKIT_OK) {
      free(rec);
      break;
    }
    memmove(rec, rec + IOTKIT__Q_HDR, e->len);
    e->state = IOTKIT__Q_INFLIGHT;
    q->st.sent++;
    q->st.retried += e->handed;
    e->handed = true;
    *seq = e->seq;
    *payload = rec;
    *len = e->len;
    q->cursor++;
    break;
  }
  UNLOCK(q);
  return rc;
}

iotkit_err_t iotkit_telemetry_queue_ack(iotkit_telemetry_queue_t *q, uint64_t seq) {
  if (!q) return IOTKIT_ERR_INVALID_ARG;
  LOCK(q);
  iotkit__q_entry_t *e = iotkit__q_find(q, seq);
  iotkit_err_t rc = IOTKIT_OK;
  if (!e || e->state == IOTKIT__Q_DONE) {
    rc = IOTKIT_ERR_NOT_FOUND;
  } else {
    uint32_t seg = e->seg;
    iotkit__q_done(q, e);
    q->st.acked++;
    /* While its segment remains, the acknowledgement must be logged, or a restart would send it again. */
    uint64_t off;
    if (iotkit__q_seg_of(q, seg)) rc = write_record(q, IOTKIT__Q_ACK, seq, NULL, 0, &off);
    if (rc == IOTKIT_OK) rc = sync_due(q, false);
  }
  UNLOCK(q);
  return rc;
}

iotkit_err_t iotkit_telemetry_queue_requeue(iotkit_telemetry_queue_t *q) {
  if (!q) return IOTKIT_ERR_INVALID_ARG;
  LOCK(q);
  for (size_t i = q->head; i < q->count; i++)
    if (q->e[i].state == IOTKIT__Q_INFLIGHT) q->e[i].state = IOTKIT__Q_PENDING;
  q->cursor = q->head;
  UNLOCK(q);
  return IOTKIT_OK;
}

iotkit_err_t iotkit_telemetry_queue_poll(iotkit_telemetry_queue_t *q) {
  if (!q) return IOTKIT_ERR_INVALID_ARG;
  LOCK(q);
  iotkit_err_t rc = sync_due(q, false);
  UNLOCK(q);
  return rc;
}

iotkit_err_t iotkit_telemetry_queue_sync(iotkit_telemetry_queue_t *q) {
  if (!q) return IOTKIT_ERR_INVALID_ARG;
  LOCK(q);
  iotkit_err_t rc = sync_active(q);
  UNLOCK(q);
  return rc;
}

iotkit_err_t iotkit_telemetry_queue_stats_sized(iotkit_telemetry_queue_t *q, iotkit_telemetry_queue_stats_t *stats,
                                                size_t size) {
  if (!q || !stats || size == 0) return IOTKIT_ERR_INVALID_ARG;
  LOCK(q);
  iotkit_telemetry_queue_stats_t s = q->st;
  s.pending = s.in_flight = 0;
  for (size_t i = q->head; i < q->count; i++) {
    s.pending += q->e[i].state != IOTKIT__Q_DONE;
    s.in_flight += q->e[i].state == IOTKIT__Q_INFLIGHT;
  }
  s.bytes = q->bytes;
  s.next_seq = q->next_seq;
  UNLOCK(q);
  memcpy(stats, &s, size < sizeof(s) ? size : sizeof(s));
  return IOTKIT_OK;
}

iotkit_err_t iotkit__telemetry_queue_claim(iotkit_telemetry_queue_t *q, uint64_t seq) {
  LOCK(q);
  iotkit__q_entry_t *e = iotkit__q_find(q, seq);
  iotkit_err_t rc = e && e->state == IOTKIT__Q_PENDING ? IOTKIT_OK : IOTKIT_ERR_NOT_FOUND;
  if (rc == IOTKIT_OK) {
    e->state = IOTKIT__Q_INFLIGHT;
    q->st.sent++;
    q->st.retried += e->handed;
    e->handed = true;
  }
  UNLOCK(q);
  return rc;
}

iotkit_err_t iotkit__telemetry_queue_release(iotkit_telemetry_queue_t *q, uint64_t seq) {
  LOCK(q);
  iotkit__q_entry_t *e = iotkit__q_find(q, seq);
  iotkit_err_t rc = e && e->state == IOTKIT__Q_INFLIGHT ? IOTKIT_OK : IOTKIT_ERR_NOT_FOUND;
  if (rc == IOTKIT_OK) {
    e->state = IOTKIT__Q_PENDING;
    size_t i = (size_t)(e - q->e);
    if (i < q->cursor) q->cursor = i; /* iotkit_telemetry_queue_next() must see it again */
  }
  UNLOCK(q);
  return rc;
}
