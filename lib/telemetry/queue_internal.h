/* The durable queue's record format, segment scan and state (not exported). */
#ifndef IOTKIT__TELEMETRY_QUEUE_INTERNAL_H
#define IOTKIT__TELEMETRY_QUEUE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotkit/telemetry.h"

/*
 * A segment is a sequence of records, each:
 *   u32 magic "IKQ1" | u8 type | 3 zero bytes | u32 payload length | u64 seq | u32 CRC-32 | payload
 * little-endian; the CRC-32 (IEEE) covers bytes 4..19 of the header and the payload. A DATA record
 * holds a message; an ACK record (no payload) says that the message with its seq was delivered or
 * dropped, and may sit in any later segment.
 */
#define IOTKIT__Q_MAGIC 0x31514b49u
#define IOTKIT__Q_HDR 24u
#define IOTKIT__Q_DATA 1u
#define IOTKIT__Q_ACK 2u

uint32_t iotkit__telemetry_crc32(uint32_t crc, const void *data, size_t len);

/* Write the header of a record into @hdr (the CRC covers @payload too). */
void iotkit__q_header(uint8_t hdr[IOTKIT__Q_HDR], uint8_t type, uint64_t seq, const void *payload, uint32_t len);

/* A valid record found at some offset of a segment. */
typedef struct iotkit__q_rec {
  uint8_t type;
  uint32_t len;
  uint64_t seq;
  uint64_t off; /* of the header */
} iotkit__q_rec_t;

/* True if a whole valid record (magic, known type, length within @size, CRC) starts at @off of @buf. */
bool iotkit__q_parse(const uint8_t *buf, uint64_t size, uint64_t off, iotkit__q_rec_t *rec);

/* Walk a segment's bytes: call @fn for each valid record, and @bad for each damaged region
   (torn tail or corrupt bytes, skipped up to the next valid record). */
void iotkit__q_scan(const uint8_t *buf, uint64_t size, void (*fn)(void *arg, uint32_t seg, const iotkit__q_rec_t *r),
                    void (*bad)(void *arg, uint32_t seg, uint64_t off, uint64_t len), void *arg, uint32_t seg);

enum { IOTKIT__Q_PENDING = 0, IOTKIT__Q_INFLIGHT = 1, IOTKIT__Q_DONE = 2 };

typedef struct iotkit__q_entry {
  uint64_t seq;
  uint64_t off;
  uint32_t seg;
  uint32_t len;
  uint8_t state;
  bool handed; /* handed out at least once (a later hand-out is a retry) */
} iotkit__q_entry_t;

typedef struct iotkit__q_seg {
  uint32_t id;
  uint64_t bytes; /* on the HAL, damage included */
  uint32_t live;  /* DATA records not yet done */
} iotkit__q_seg_t;

struct iotkit_telemetry_queue {
  const iotkit_hal_t *hal;
  iotkit_hal_t hal_view; /* hal points here when the caller's HAL is of an older, smaller layout */
  void *mutex;
  iotkit_telemetry_queue_config_t cfg; /* name points at name[] */
  char name[IOTKIT_MAX_KV_KEY + 1];
  char seq_key[IOTKIT_MAX_KV_KEY + 1];
  iotkit__q_entry_t *e; /* entries e[head..count), in seq order */
  size_t head, count, cap, cursor;
  iotkit__q_seg_t *segs; /* increasing ids; the last is the active (append) segment */
  size_t nseg, segcap;
  bool active_broken; /* a failed append may have left a partial record: roll first */
  bool dirty;         /* the active segment has un-synced appends */
  uint64_t last_sync_ms;
  uint64_t bytes;
  uint64_t next_seq, reserved, last_seq;
  iotkit_telemetry_queue_stats_t st;
};

/* Queue helpers shared by queue.c and queue_open.c, called with the lock held. */
iotkit_err_t iotkit__q_push_seg(iotkit_telemetry_queue_t *q, uint32_t id);
iotkit_err_t iotkit__q_push_entry(iotkit_telemetry_queue_t *q, const iotkit__q_entry_t *e);
iotkit__q_entry_t *iotkit__q_find(iotkit_telemetry_queue_t *q, uint64_t seq);
iotkit__q_seg_t *iotkit__q_seg_of(iotkit_telemetry_queue_t *q, uint32_t id);
/* Mark @e done and drop what that frees (done entries at the head, fully done leading segments). */
void iotkit__q_done(iotkit_telemetry_queue_t *q, iotkit__q_entry_t *e);
/* Take the next sequence number (reserving a block in the HAL key-value store when needed). */
iotkit_err_t iotkit__q_next_seq(iotkit_telemetry_queue_t *q, uint64_t *seq);
/* Remove leading segments (never the active one) whose records are all done. */
void iotkit__q_reclaim(iotkit_telemetry_queue_t *q);

/* For a sender that sends a record it has just appended without iotkit_telemetry_queue_next():
   mark the pending record @seq in flight (counted as sent), or put it back to pending after a
   failed send. IOTKIT_ERR_NOT_FOUND if it is not in that state. */
iotkit_err_t iotkit__telemetry_queue_claim(iotkit_telemetry_queue_t *q, uint64_t seq);
iotkit_err_t iotkit__telemetry_queue_release(iotkit_telemetry_queue_t *q, uint64_t seq);

#endif
