/* The durable queue: configuration, recovery at open, the persistent sequence counter, close. */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "telemetry/queue_internal.h"

#define SEQ_BLOCK 1024u
#define MIN_BYTES 4096u
#define MAX_NAME 48u

void iotkit_telemetry_queue_config_init(iotkit_telemetry_queue_config_t *cfg) {
  if (!cfg) return;
  memset(cfg, 0, sizeof(*cfg));
  cfg->struct_size = sizeof(*cfg);
  cfg->name = "telemetry";
  cfg->max_bytes = 16u * 1024u * 1024u;
  cfg->segment_bytes = 1024u * 1024u;
  cfg->full_policy = IOTKIT_TELEMETRY_DROP_OLDEST;
  cfg->sync_policy = IOTKIT_TELEMETRY_SYNC_INTERVAL;
  cfg->sync_interval_ms = 1000;
}

static iotkit_err_t check_config(const iotkit_telemetry_queue_config_t *c) {
  if (!c->hal || !c->name || !iotkit__is_safe_name(c->name, MAX_NAME) || strcmp(c->name, ".") == 0 ||
      strcmp(c->name, "..") == 0 || c->max_bytes < MIN_BYTES || c->segment_bytes < IOTKIT__Q_HDR ||
      (unsigned)c->full_policy > IOTKIT_TELEMETRY_REFUSE || (unsigned)c->sync_policy > IOTKIT_TELEMETRY_SYNC_NEVER ||
      (c->sync_policy == IOTKIT_TELEMETRY_SYNC_INTERVAL && c->sync_interval_ms == 0))
    return IOTKIT_ERR_INVALID_ARG;
  if (iotkit_hal_validate(c->hal) != IOTKIT_OK) return IOTKIT_ERR_INVALID_ARG;
  const iotkit_hal_t *h = c->hal;
  if (!IOTKIT__HAS_OP(h, seg_append) || !IOTKIT__HAS_OP(h, seg_read) || !IOTKIT__HAS_OP(h, seg_size) ||
      !IOTKIT__HAS_OP(h, seg_sync) || !IOTKIT__HAS_OP(h, seg_remove) || !IOTKIT__HAS_OP(h, seg_list))
    return IOTKIT_ERR_UNSUPPORTED;
  return IOTKIT_OK;
}

/* ------------------------------------------------------------ recovery -- */

static void on_record(void *arg, uint32_t seg, const iotkit__q_rec_t *r) {
  iotkit_telemetry_queue_t *q = arg;
  if (r->type == IOTKIT__Q_ACK) {
    iotkit__q_entry_t *e = iotkit__q_find(q, r->seq);
    if (e && e->state != IOTKIT__Q_DONE) {
      e->state = IOTKIT__Q_DONE;
      iotkit__q_seg_t *s = iotkit__q_seg_of(q, e->seg);
      if (s && s->live) s->live--;
    }
    return;
  }
  if (r->seq <= q->last_seq) return; /* numbers only grow; an older one is a stale copy */
  iotkit__q_entry_t e = {.seq = r->seq, .off = r->off, .seg = seg, .len = r->len};
  if (iotkit__q_push_entry(q, &e) != IOTKIT_OK) return;
  q->segs[q->nseg - 1].live++;
  q->last_seq = r->seq;
}

static void on_damage(void *arg, uint32_t seg, uint64_t off, uint64_t len) {
  iotkit_telemetry_queue_t *q = arg;
  q->st.corrupt++;
  q->st.corrupt_bytes += len;
  iotkit_hal_logf(q->hal, IOTKIT_LOG_WARN, "telemetry queue %s: %llu damaged bytes skipped in segment %u at %llu",
                  q->name, (unsigned long long)len, (unsigned)seg, (unsigned long long)off);
}

static iotkit_err_t load_segment(iotkit_telemetry_queue_t *q, uint32_t id) {
  const iotkit_hal_t *h = q->hal;
  uint64_t size = 0;
  iotkit_err_t rc = h->seg_size(h->ctx, q->name, id, &size);
  if (rc != IOTKIT_OK) return rc;
  if (size > SIZE_MAX) return IOTKIT_ERR_TOO_LARGE;
  uint8_t *buf = malloc(size ? (size_t)size : 1);
  if (!buf) return IOTKIT_ERR_NOMEM;
  size_t got = 0;
  rc = size ? h->seg_read(h->ctx, q->name, id, 0, buf, (size_t)size, &got) : IOTKIT_OK;
  if (rc == IOTKIT_OK) rc = iotkit__q_push_seg(q, id);
  if (rc == IOTKIT_OK) {
    q->segs[q->nseg - 1].bytes = size;
    q->bytes += size;
    iotkit__q_scan(buf, got, on_record, on_damage, q, id);
  }
  free(buf);
  return rc;
}

static iotkit_err_t recover(iotkit_telemetry_queue_t *q) {
  const iotkit_hal_t *h = q->hal;
  size_t n = 0;
  iotkit_err_t rc = h->seg_list(h->ctx, q->name, NULL, 0, &n);
  if (rc != IOTKIT_OK && rc != IOTKIT_ERR_BUFFER_TOO_SMALL) return rc;
  uint32_t *ids = calloc(n ? n : 1, sizeof(*ids));
  if (!ids) return IOTKIT_ERR_NOMEM;
  rc = n ? h->seg_list(h->ctx, q->name, ids, n, &n) : IOTKIT_OK;
  for (size_t i = 0; rc == IOTKIT_OK && i < n; i++) rc = load_segment(q, ids[i]);
  uint32_t next = n ? ids[n - 1] + 1 : 1;
  free(ids);
  if (rc != IOTKIT_OK) return rc;
  /* Entries found acknowledged are dropped, and so are the leading segments they emptied. */
  while (q->head < q->count && q->e[q->head].state == IOTKIT__Q_DONE) q->head++;
  q->cursor = q->head;
  for (size_t i = q->head; i < q->count; i++) q->st.queued += q->e[i].state != IOTKIT__Q_DONE;
  /* New records always go to a new segment, never after a damaged tail. */
  rc = iotkit__q_push_seg(q, next);
  if (rc == IOTKIT_OK) iotkit__q_reclaim(q);
  return rc;
}

/* ------------------------------------------------------- seq counter -- */

static iotkit_err_t load_seq(iotkit_telemetry_queue_t *q) {
  uint8_t v[8];
  size_t len = 0;
  iotkit_err_t rc = q->hal->kv_get(q->hal->ctx, q->seq_key, v, sizeof(v), &len);
  uint64_t stored = 1;
  if (rc == IOTKIT_OK && len != sizeof(v)) return IOTKIT_ERR_CORRUPT;
  if (rc == IOTKIT_ERR_BUFFER_TOO_SMALL) return IOTKIT_ERR_CORRUPT;
  if (rc != IOTKIT_OK && rc != IOTKIT_ERR_NOT_FOUND) return rc;
  if (rc == IOTKIT_OK) {
    stored = 0;
    for (int i = 7; i >= 0; i--) stored = stored << 8 | v[i];
  }
  /* Every number below the stored reservation may have been handed out before. */
  q->reserved = stored;
  q->next_seq = stored > q->last_seq + 1 ? stored : q->last_seq + 1;
  return IOTKIT_OK;
}

iotkit_err_t iotkit_telemetry_queue_next_seq(iotkit_telemetry_queue_t *q, uint64_t *seq) {
  if (!q || !seq) return IOTKIT_ERR_INVALID_ARG;
  q->hal->mutex_lock(q->hal->ctx, q->mutex);
  iotkit_err_t rc = iotkit__q_next_seq(q, seq);
  q->hal->mutex_unlock(q->hal->ctx, q->mutex);
  return rc;
}

iotkit_err_t iotkit__q_next_seq(iotkit_telemetry_queue_t *q, uint64_t *seq) {
  if (q->next_seq >= q->reserved) {
    uint64_t r = q->next_seq + SEQ_BLOCK;
    uint8_t v[8];
    for (int i = 0; i < 8; i++) v[i] = (uint8_t)(r >> (8 * i));
    iotkit_err_t rc = q->hal->kv_set(q->hal->ctx, q->seq_key, v, sizeof(v));
    if (rc != IOTKIT_OK) return rc;
    q->reserved = r;
  }
  *seq = q->next_seq++;
  return IOTKIT_OK;
}

/* -------------------------------------------------------- open, close -- */

static void destroy(iotkit_telemetry_queue_t *q) {
  if (q->mutex) q->hal->mutex_free(q->hal->ctx, q->mutex);
  free(q->e);
  free(q->segs);
  free(q);
}

iotkit_err_t iotkit_telemetry_queue_open(const iotkit_telemetry_queue_config_t *user_cfg,
                                         iotkit_telemetry_queue_t **out) {
  if (!user_cfg || !out) return IOTKIT_ERR_INVALID_ARG;
  iotkit_telemetry_queue_config_t full;
  if (IOTKIT__STRUCT_IN(full, iotkit_telemetry_queue_config_init, user_cfg, IOTKIT__TELEMETRY_QUEUE_CONFIG) != IOTKIT_OK)
    return IOTKIT_ERR_INVALID_ARG;
  const iotkit_telemetry_queue_config_t *cfg = &full;
  iotkit_err_t rc = check_config(cfg);
  if (rc != IOTKIT_OK) return rc;
  iotkit_telemetry_queue_t *q = calloc(1, sizeof(*q));
  if (!q) return IOTKIT_ERR_NOMEM;
  q->hal = iotkit__hal_view(cfg->hal, &q->hal_view);
  q->cfg = *cfg;
  q->cfg.hal = q->hal;
  memcpy(q->name, cfg->name, strlen(cfg->name) + 1);
  q->cfg.name = q->name;
  iotkit__fmt(q->seq_key, sizeof(q->seq_key), "%s.seq", q->name);
  /* A segment must leave room for a few: dropping the oldest one then frees at most a quarter. */
  if (q->cfg.segment_bytes > q->cfg.max_bytes / 4) q->cfg.segment_bytes = (uint32_t)(q->cfg.max_bytes / 4);
  rc = q->hal->mutex_new(q->hal->ctx, &q->mutex);
  if (rc == IOTKIT_OK) rc = recover(q);
  if (rc == IOTKIT_OK) rc = load_seq(q);
  if (rc != IOTKIT_OK) {
    destroy(q);
    return rc;
  }
  q->last_sync_ms = q->hal->monotonic_ms(q->hal->ctx);
  *out = q;
  return IOTKIT_OK;
}

void iotkit_telemetry_queue_close(iotkit_telemetry_queue_t *q) {
  if (!q) return;
  if (q->cfg.sync_policy != IOTKIT_TELEMETRY_SYNC_NEVER) (void)iotkit_telemetry_queue_sync(q);
  destroy(q);
}
