/* The durable telemetry queue reading a damaged store (lib/telemetry/queue*.c):
   the input becomes the content of up to three segments of a memory HAL's
   store "telemetry" and of its sequence counter key, as a power cut or a bad
   flash could leave them:
     [flags: 1 byte][counter length: 1 byte][counter][segment 1 length: 2 bytes LE][segment 1]...
   The queue is opened (recovery), drained (next/ack), given a new record,
   closed and opened again, and drained again. */
#include "fuzz_util.h"

static uint64_t drain(iotkit_telemetry_queue_t *q, unsigned acks) {
  uint64_t got = 0;
  for (int i = 0; i < 256; i++) {
    uint64_t seq = 0;
    uint8_t *p = NULL;
    size_t len = 0;
    if (iotkit_telemetry_queue_next(q, &seq, &p, &len) != IOTKIT_OK) break;
    FUZZ_CHECK(p != NULL || len == 0);
    iotkit_free(p);
    got++;
    if (acks & 1u) (void)iotkit_telemetry_queue_ack(q, seq);
    acks = acks >> 1 | (acks & 1u) << 7;
  }
  return got;
}

static iotkit_telemetry_queue_t *open_queue(iotkit_hal_t *hal, unsigned flags) {
  iotkit_telemetry_queue_config_t c;
  iotkit_telemetry_queue_config_init(&c);
  c.hal = hal;
  c.max_bytes = 64u * 1024u;
  c.segment_bytes = 4096u;
  c.full_policy = (iotkit_telemetry_full_policy_t)(flags % 3);
  iotkit_telemetry_queue_t *q = NULL;
  return iotkit_telemetry_queue_open(&c, &q) == IOTKIT_OK ? q : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  iotkit_hal_t *hal = fuzz_memory_hal();
  unsigned flags = fuzz_take_byte(&data, &size);
  size_t klen = fuzz_take_byte(&data, &size);
  if (klen > size) klen = size;
  if (flags & 0x80) (void)hal->kv_set(hal->ctx, "telemetry.seq", data, klen);
  data += klen, size -= klen;
  for (uint32_t seg = 1 + (flags >> 4 & 3u); size >= 2 && seg < 8; seg += 1 + (flags >> 6 & 1u)) {
    size_t len = (size_t)data[0] | (size_t)data[1] << 8;
    data += 2, size -= 2;
    if (len > size) len = size;
    if (len) FUZZ_CHECK(hal->seg_append(hal->ctx, "telemetry", seg, data, len) == IOTKIT_OK);
    data += len, size -= len;
  }
  iotkit_telemetry_queue_t *q = open_queue(hal, flags);
  if (q) {
    drain(q, flags);
    uint64_t seq = 0;
    if (iotkit_telemetry_queue_next_seq(q, &seq) == IOTKIT_OK) {
      static const char rec[] = "{\"t\":1}";
      (void)iotkit_telemetry_queue_append(q, seq, rec, sizeof rec - 1);
    }
    (void)iotkit_telemetry_queue_requeue(q);
    drain(q, ~flags);
    iotkit_telemetry_queue_close(q);
    q = open_queue(hal, flags);
    if (q) {
      drain(q, 0xff);
      iotkit_telemetry_queue_close(q);
    }
  }
  iotkit_hal_free(hal);
  return 0;
}
