/* The durable queue's on-HAL record format: CRC-32, headers, and the scan that recovers a segment. */
#include <string.h>

#include "telemetry/queue_internal.h"

/* CRC-32 (IEEE 802.3, reflected 0xEDB88320) a nibble at a time: a 16-entry constant table, no init. */
static const uint32_t k_crc_nibble[16] = {
    0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu, 0x76dc4190u, 0x6b6b51f4u, 0x4db26158u, 0x5005713cu,
    0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu, 0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu,
};

uint32_t iotkit__telemetry_crc32(uint32_t crc, const void *data, size_t len) {
  const uint8_t *p = data;
  crc = ~crc;
  for (size_t i = 0; i < len; i++) {
    crc ^= p[i];
    crc = (crc >> 4) ^ k_crc_nibble[crc & 15u];
    crc = (crc >> 4) ^ k_crc_nibble[crc & 15u];
  }
  return ~crc;
}

static void put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void iotkit__q_header(uint8_t hdr[IOTKIT__Q_HDR], uint8_t type, uint64_t seq, const void *payload, uint32_t len) {
  memset(hdr, 0, IOTKIT__Q_HDR);
  put32(hdr, IOTKIT__Q_MAGIC);
  hdr[4] = type;
  put32(hdr + 8, len);
  put32(hdr + 12, (uint32_t)seq);
  put32(hdr + 16, (uint32_t)(seq >> 32));
  uint32_t crc = iotkit__telemetry_crc32(0, hdr + 4, 16);
  put32(hdr + 20, iotkit__telemetry_crc32(crc, payload, len));
}

bool iotkit__q_parse(const uint8_t *buf, uint64_t size, uint64_t off, iotkit__q_rec_t *rec) {
  if (off > size || size - off < IOTKIT__Q_HDR) return false;
  const uint8_t *h = buf + off;
  if (get32(h) != IOTKIT__Q_MAGIC || (h[4] != IOTKIT__Q_DATA && h[4] != IOTKIT__Q_ACK) || h[5] || h[6] || h[7])
    return false;
  uint32_t len = get32(h + 8);
  if (len > size - off - IOTKIT__Q_HDR || (h[4] == IOTKIT__Q_ACK && len != 0)) return false;
  uint32_t crc = iotkit__telemetry_crc32(0, h + 4, 16);
  if (iotkit__telemetry_crc32(crc, h + IOTKIT__Q_HDR, len) != get32(h + 20)) return false;
  rec->type = h[4];
  rec->len = len;
  rec->seq = (uint64_t)get32(h + 12) | (uint64_t)get32(h + 16) << 32;
  rec->off = off;
  return true;
}

void iotkit__q_scan(const uint8_t *buf, uint64_t size, void (*fn)(void *arg, uint32_t seg, const iotkit__q_rec_t *r),
                    void (*bad)(void *arg, uint32_t seg, uint64_t off, uint64_t len), void *arg, uint32_t seg) {
  uint64_t off = 0;
  while (off < size) {
    iotkit__q_rec_t rec;
    if (iotkit__q_parse(buf, size, off, &rec)) {
      fn(arg, seg, &rec);
      off += IOTKIT__Q_HDR + rec.len;
      continue;
    }
    /* Damage: skip to the next offset where a whole valid record starts, or to the end. */
    uint64_t next = off + 1;
    while (next < size && !iotkit__q_parse(buf, size, next, &rec)) next++;
    bad(arg, seg, off, next - off);
    off = next;
  }
}
