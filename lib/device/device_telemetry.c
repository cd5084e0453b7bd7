/* Durable telemetry: every accepted message goes to the HAL's store-and-forward
   queue before it is sent, leaves it when the transport confirms its delivery,
   and is re-sent (oldest first, at a bounded rate) after a loss or a restart. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "device/device_internal.h"
#include "device/telemetry_direct.h"
#include "telemetry/queue_internal.h"

/* Most telemetry messages awaiting confirmation; beyond, new ones wait in the queue. */
#define TEL_WINDOW 4096u
/* Name of the queue in the HAL (one device per HAL store). */
#define TEL_QUEUE_NAME "telemetry"

struct iotkit__tel {
  void *lock; /* guards everything below; held across send() so a confirmation finds its id */
  iotkit_telemetry_queue_t *q; /* NULL: telemetry is sent directly */
  uint32_t rate;               /* drain rate, messages/s; 0: no limit */
  uint64_t credit;             /* drain credit in thousandths of a message */
  uint64_t last_refill;
  bool was_up;
  uint64_t pumped_ms; /* when the pump last ran */
  uint32_t sessions;
  uint64_t mem_seq; /* sequence numbers without a queue */
  iotkit__tel_direct_t direct; /* without a queue: what was sent and awaits confirmation */
  uint32_t ids[TEL_WINDOW];
  uint64_t seqs[TEL_WINDOW]; /* 0: confirmed (a hole until it reaches the front) */
  size_t head, n;
  iotkit_device_telemetry_stats_t st;
};

static void tel_lock(const iotkit_device_t *dev) { dev->hal->mutex_lock(dev->hal->ctx, dev->tel->lock); }
static void tel_unlock(const iotkit_device_t *dev) { dev->hal->mutex_unlock(dev->hal->ctx, dev->tel->lock); }

iotkit_err_t iotkit__device_telemetry_init(iotkit_device_t *dev, const iotkit_device_config_t *cfg) {
  struct iotkit__tel *t = calloc(1, sizeof(*t));
  if (!t) return IOTKIT_ERR_NOMEM;
  dev->tel = t;
  iotkit_err_t err = dev->hal->mutex_new(dev->hal->ctx, &t->lock);
  if (err != IOTKIT_OK || !cfg->telemetry_durable) return err;
  iotkit_telemetry_queue_config_t qc;
  iotkit_telemetry_queue_config_init(&qc);
  qc.hal = dev->hal;
  qc.name = TEL_QUEUE_NAME;
  if (cfg->telemetry_queue_max_bytes) qc.max_bytes = cfg->telemetry_queue_max_bytes;
  if (qc.segment_bytes > qc.max_bytes / 4) qc.segment_bytes = (uint32_t)(qc.max_bytes / 4);
  qc.full_policy = cfg->telemetry_full_policy;
  qc.sync_policy = cfg->telemetry_sync_policy;
  if (cfg->telemetry_sync_interval_ms) qc.sync_interval_ms = cfg->telemetry_sync_interval_ms;
  t->rate = cfg->telemetry_drain_rate;
  err = iotkit_telemetry_queue_open(&qc, &t->q);
  if (err == IOTKIT_ERR_UNSUPPORTED) return IOTKIT_OK; /* no seg_* operations: sent directly */
  if (err != IOTKIT_OK) iotkit__device_set_error(dev, "cannot open the telemetry queue: %s", iotkit_strerror(err));
  t->st.durable = err == IOTKIT_OK;
  return err;
}

void iotkit__device_telemetry_free(iotkit_device_t *dev) {
  struct iotkit__tel *t = dev->tel;
  if (!t) return;
  iotkit_telemetry_queue_close(t->q);
  iotkit__tel_direct_forget(&t->direct);
  if (t->lock) dev->hal->mutex_free(dev->hal->ctx, t->lock);
  free(t);
  dev->tel = NULL;
}

bool iotkit__device_telemetry_durable(const iotkit_device_t *dev) { return dev->tel && dev->tel->q; }

/* ------------------------------------------------------ confirmation window -- */

static void window_add(struct iotkit__tel *t, uint32_t id, uint64_t seq) {
  size_t i = (t->head + t->n++) % TEL_WINDOW;
  t->ids[i] = id;
  t->seqs[i] = seq;
}

/* The sequence number sent as @p id, forgotten; 0 if unknown. Confirmations come
   mostly in order, so the search usually stops at the front. */
static uint64_t window_take(struct iotkit__tel *t, uint32_t id) {
  uint64_t seq = 0;
  for (size_t k = 0; k < t->n && !seq; k++) {
    size_t i = (t->head + k) % TEL_WINDOW;
    if (t->seqs[i] && t->ids[i] == id) {
      seq = t->seqs[i];
      t->seqs[i] = 0;
    }
  }
  while (t->n && !t->seqs[t->head]) {
    t->head = (t->head + 1) % TEL_WINDOW;
    t->n--;
  }
  return seq;
}

/* ---------------------------------------------------------------- sending -- */

/* Send the record @p seq just stored, if the session is up and the window has room. */
static uint32_t send_live(iotkit_device_t *dev, uint64_t seq, const void *payload, size_t len) {
  struct iotkit__tel *t = dev->tel;
  uint32_t id = 0;
  if (t->n >= TEL_WINDOW || !iotkit_device_is_connected(dev)) return 0;
  if (iotkit__telemetry_queue_claim(t->q, seq) != IOTKIT_OK) return 0; /* DROP_NEWEST discarded it */
  if (iotkit__device_send_telemetry_now(dev, payload, len, &id) != IOTKIT_OK) {
    (void)iotkit__telemetry_queue_release(t->q, seq);
    return 0;
  }
  window_add(t, id, seq);
  t->st.sent_live++;
  return id;
}

iotkit_err_t iotkit__device_telemetry_send(iotkit_device_t *dev, const void *payload, size_t len, uint32_t *msg_id) {
  struct iotkit__tel *t = dev->tel;
  tel_lock(dev);
  uint64_t seq = 0;
  iotkit_err_t err = iotkit_telemetry_queue_next_seq(t->q, &seq);
  if (err == IOTKIT_OK) err = iotkit_telemetry_queue_append(t->q, seq, payload, len);
  uint32_t id = 0;
  if (err == IOTKIT_OK) {
    t->st.accepted++;
    id = send_live(dev, seq, payload, len);
  }
  tel_unlock(dev);
  if (err == IOTKIT_OK && msg_id) *msg_id = id;
  return err;
}

static void count_delivery(struct iotkit__tel *t, iotkit_err_t status) {
  if (status == IOTKIT_OK) t->st.confirmed++;
  else t->st.failed++;
}

/* Without a queue: sent at once, its id filed so that the confirmation is counted
   (telemetry_direct.h). The lock is not held across the send, which the polling
   thread's confirmations would otherwise wait for, message after message. */
iotkit_err_t iotkit__device_telemetry_send_direct(iotkit_device_t *dev, const void *payload, size_t len,
                                                  uint32_t *msg_id) {
  struct iotkit__tel *t = dev->tel;
  tel_lock(dev);
  uint64_t gen = iotkit__tel_direct_begin(&t->direct);
  tel_unlock(dev);
  uint32_t id = 0;
  iotkit_err_t err = iotkit__device_send_telemetry_now(dev, payload, len, &id);
  iotkit_err_t status = IOTKIT_OK;
  tel_lock(dev);
  if (iotkit__tel_direct_end(&t->direct, err == IOTKIT_OK, id, gen, &status)) count_delivery(t, status);
  if (err == IOTKIT_OK) {
    t->st.accepted++;
    t->st.sent_live++;
  }
  tel_unlock(dev);
  if (err == IOTKIT_OK && msg_id) *msg_id = id;
  return err;
}

iotkit_err_t iotkit_device_send_batch(iotkit_device_t *dev, iotkit_telemetry_batch_t *batch,
                                      iotkit_telemetry_format_t format, uint64_t *seq, uint32_t *msg_id) {
  if (!dev || !batch || !iotkit_telemetry_format_name(format)) return IOTKIT_ERR_INVALID_ARG;
  struct iotkit__tel *t = dev->tel;
  /* The edge pipeline sees the points first; what it holds back never enters the queue. */
  iotkit_telemetry_batch_t *kept = NULL;
  iotkit_err_t err = iotkit__device_edge_filter(dev, batch, &kept);
  if (err != IOTKIT_OK) return err;
  if (kept && iotkit_telemetry_batch_count(kept) == 0) {
    iotkit_telemetry_batch_free(kept);
    if (seq) *seq = 0;
    if (msg_id) *msg_id = 0;
    return IOTKIT_OK;
  }
  iotkit_telemetry_batch_t *sent = kept ? kept : batch;
  uint64_t old = iotkit_telemetry_batch_seq(batch), s = 0;
  uint8_t *buf = NULL;
  size_t len = 0;
  uint32_t id = 0;
  tel_lock(dev); /* the number taken is the next one stored or sent */
  err = t->q ? iotkit_telemetry_queue_next_seq(t->q, &s) : IOTKIT_OK;
  if (!t->q) s = t->mem_seq + 1;
  if (err == IOTKIT_OK) err = iotkit_telemetry_batch_set_seq(batch, s);
  if (err == IOTKIT_OK) err = iotkit_telemetry_batch_set_seq(sent, s);
  if (err == IOTKIT_OK) err = iotkit_telemetry_encode(sent, format, &buf, &len);
  if (err == IOTKIT_OK && len > dev->max_payload) err = IOTKIT_ERR_TOO_LARGE;
  if (err == IOTKIT_OK && t->q) err = iotkit_telemetry_queue_append(t->q, s, buf, len);
  if (err == IOTKIT_OK && t->q) {
    t->st.accepted++;
    id = send_live(dev, s, buf, len);
  } else if (err == IOTKIT_OK) {
    /* under the lock (for the number): the confirmation waits until the id is filed */
    err = iotkit__device_send_telemetry_now(dev, buf, len, &id);
    if (err == IOTKIT_OK) {
      t->mem_seq = s;
      t->st.accepted++;
      t->st.sent_live++;
      (void)iotkit__tel_direct_file(&t->direct, id); /* without memory: never counted */
    }
  }
  tel_unlock(dev);
  iotkit_free(buf);
  iotkit_telemetry_batch_free(kept);
  if (err != IOTKIT_OK) {
    (void)iotkit_telemetry_batch_set_seq(batch, old);
    return err;
  }
  if (seq) *seq = s;
  if (msg_id) *msg_id = id;
  return IOTKIT_OK;
}

void iotkit__device_telemetry_delivered(iotkit_device_t *dev, uint32_t msg_id, iotkit_err_t status) {
  struct iotkit__tel *t = dev->tel;
  if (!t) return;
  if (!t->q) {
    tel_lock(dev);
    if (iotkit__tel_direct_delivered(&t->direct, msg_id, status)) count_delivery(t, status);
    tel_unlock(dev);
    return;
  }
  tel_lock(dev);
  uint64_t seq = window_take(t, msg_id);
  if (seq && status == IOTKIT_OK) t->st.confirmed++;
  if (seq && status != IOTKIT_OK) t->st.failed++;
  tel_unlock(dev);
  /* The queue has its own lock: senders need not wait for the acknowledgement's write. A
     re-queue in between is harmless (the record is done either way). */
  if (seq && status == IOTKIT_OK) {
    iotkit_err_t err = iotkit_telemetry_queue_ack(t->q, seq);
    if (err != IOTKIT_OK && err != IOTKIT_ERR_NOT_FOUND)
      iotkit_hal_logf(dev->hal, IOTKIT_LOG_WARN, "device %s: telemetry queue ack of %llu failed (%s)",
                      dev->device_id, (unsigned long long)seq, iotkit_err_name(err));
  } else if (seq) {
    (void)iotkit__telemetry_queue_release(t->q, seq); /* the drain sends it again */
  }
}

/* Everything in flight goes back to the queue: its confirmations will not come. */
static void forget_in_flight(struct iotkit__tel *t) {
  (void)iotkit_telemetry_queue_requeue(t->q);
  t->head = t->n = 0;
}

static bool drain_allowed(struct iotkit__tel *t) { return t->n < TEL_WINDOW && (!t->rate || t->credit >= 1000u); }

/* Confirmations never outlive their session: whatever is in flight (@p in_flight
   messages) when the session is seen down, or when a session began and ended
   between two pumps, will not be confirmed. A new first session keeps what was
   sent on it. Call with the lock held. */
static bool session_ended(const iotkit_device_t *dev, const struct iotkit__tel *t, bool up, size_t in_flight) {
  return up ? dev->sessions != t->sessions && (t->was_up || dev->sessions > t->sessions + 1u)
            : t->was_up || in_flight > 0;
}

/* Without a queue: the ids of a session that ended are forgotten (never counted). */
static void pump_direct(iotkit_device_t *dev) {
  struct iotkit__tel *t = dev->tel;
  bool up = iotkit_device_is_connected(dev);
  tel_lock(dev);
  if (session_ended(dev, t, up, iotkit__tel_direct_in_flight(&t->direct))) iotkit__tel_direct_forget(&t->direct);
  if (up) t->sessions = dev->sessions;
  t->was_up = up;
  tel_unlock(dev);
}

void iotkit__device_telemetry_pump(iotkit_device_t *dev) {
  struct iotkit__tel *t = dev->tel;
  if (!t) return;
  if (!t->q) {
    pump_direct(dev);
    return;
  }
  (void)iotkit_telemetry_queue_poll(t->q);
  bool up = iotkit_device_is_connected(dev);
  uint64_t now = iotkit__device_now(dev);
  tel_lock(dev);
  t->pumped_ms = now;
  /* What was in flight goes back to the queue (see session_ended). */
  bool ended = session_ended(dev, t, up, t->n);
  if (ended) forget_in_flight(t);
  if (up != t->was_up || ended) {
    t->last_refill = now;
    t->credit = 1000u; /* one message at once, the rest at the rate */
  }
  if (up) t->sessions = dev->sessions;
  t->was_up = up;
  if (up && t->rate) {
    /* A bucket of a tenth of a second of messages: what one loop slice may send. */
    uint64_t cap = (t->rate / 10u ? t->rate / 10u : 1u) * 1000u;
    t->credit += (now - t->last_refill) * t->rate;
    if (t->credit > cap) t->credit = cap;
    t->last_refill = now;
  }
  while (up && drain_allowed(t)) {
    uint64_t seq = 0;
    uint8_t *buf = NULL;
    size_t len = 0;
    if (iotkit_telemetry_queue_next(t->q, &seq, &buf, &len) != IOTKIT_OK) break;
    uint32_t id = 0;
    iotkit_err_t err = iotkit__device_send_telemetry_now(dev, buf, len, &id);
    iotkit_free(buf);
    if (err != IOTKIT_OK) {
      (void)iotkit__telemetry_queue_release(t->q, seq);
      break;
    }
    window_add(t, id, seq);
    t->st.sent_backlog++;
    if (t->rate) t->credit -= 1000u;
  }
  tel_unlock(dev);
}

/* Work the pump could not do when it last ran (a failed sync or send, a backlog that came
   after it) is tried again this long after it, not in a busy loop. */
#define TEL_RETRY_MS 100u

static uint64_t tel_retry(const struct iotkit__tel *t, uint64_t due) {
  return due > t->pumped_ms ? due : t->pumped_ms + TEL_RETRY_MS;
}

int iotkit__device_telemetry_timeout_ms(const iotkit_device_t *dev, uint64_t now) {
  struct iotkit__tel *t = dev->tel;
  if (!t || !t->q) return -1;
  bool up = iotkit_device_is_connected(dev);
  uint64_t due = UINT64_MAX;
  tel_lock(dev);
  iotkit_telemetry_queue_stats_t qs;
  bool backlog = iotkit_telemetry_queue_stats(t->q, &qs) == IOTKIT_OK && qs.pending > qs.in_flight;
  if (up != t->was_up || (up && dev->sessions != t->sessions)) {
    due = now; /* a session began or ended since the pump last looked: re-queue, refill */
  } else if (up && backlog && t->n < TEL_WINDOW) {
    /* A full window waits for confirmations, which wake the descriptor. */
    uint64_t ready = t->last_refill;
    if (t->rate && t->credit < 1000u) ready += (1000u - t->credit + t->rate - 1u) / t->rate;
    due = tel_retry(t, ready);
  }
  /* The queue's interval sync (iotkit_telemetry_queue_poll() in the pump). */
  const iotkit_telemetry_queue_t *q = t->q;
  dev->hal->mutex_lock(dev->hal->ctx, q->mutex);
  bool sync_due = q->cfg.sync_policy == IOTKIT_TELEMETRY_SYNC_INTERVAL && q->dirty;
  uint64_t sync_at = q->last_sync_ms + q->cfg.sync_interval_ms;
  dev->hal->mutex_unlock(dev->hal->ctx, q->mutex);
  if (sync_due && tel_retry(t, sync_at) < due) due = tel_retry(t, sync_at);
  tel_unlock(dev);
  if (due == UINT64_MAX) return -1;
  uint64_t left = due > now ? due - now : 0;
  return left > INT_MAX ? INT_MAX : (int)left;
}

iotkit_err_t iotkit_device_telemetry_stats_sized(iotkit_device_t *dev, iotkit_device_telemetry_stats_t *stats,
                                                 size_t size) {
  if (!dev || !stats || size == 0) return IOTKIT_ERR_INVALID_ARG;
  tel_lock(dev);
  iotkit_device_telemetry_stats_t s = dev->tel->st;
  tel_unlock(dev);
  memset(&s.queue, 0, sizeof(s.queue));
  if (dev->tel->q) (void)iotkit_telemetry_queue_stats(dev->tel->q, &s.queue);
  memcpy(stats, &s, size < sizeof(s) ? size : sizeof(s));
  return IOTKIT_OK;
}
