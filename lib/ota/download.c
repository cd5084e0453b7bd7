/* Streaming the image into the inactive slot: hash on the fly, checkpoints, resume, retries. */
#include <string.h>

#include "ota/internal.h"
#include "transport/fetch.h"

/*
 * Make the slot's bytes durable up to the offset (slot_finalize records the
 * size in the HAL's boot record, which is where a resume starts). The OTA
 * record is written only at the first checkpoint after the slot was erased:
 * its non-zero offset says that the slot's recorded size is this download's.
 */
static iotkit_err_t checkpoint(iotkit_ota_t *ota) {
  const iotkit_hal_t *hal = ota->cfg.hal;
  iotkit_err_t rc = hal->slot_finalize(hal->ctx, ota->slot, ota->offset);
  if (rc == IOTKIT_OK && ota->persisted_offset == 0) rc = iotkit__ota_persist(ota);
  ota->since_checkpoint = 0;
  return rc;
}

static iotkit_err_t sink(void *ctx, const void *data, size_t len) {
  iotkit_ota_t *ota = ctx;
  const iotkit_hal_t *hal = ota->cfg.hal;
  if (atomic_load(&ota->abort)) return IOTKIT_ERR_BUSY;
  /* More bytes than the manifest announced: not the signed image. */
  if (len > ota->manifest->size - ota->offset) return IOTKIT_ERR_OTA_SIZE;
  iotkit_err_t rc = hal->slot_write(hal->ctx, ota->slot, ota->offset, data, len);
  if (rc == IOTKIT_OK) rc = iotkit_sha256_update(ota->sha, data, len);
  if (rc != IOTKIT_OK) {
    ota->sha_valid = false;
    return rc;
  }
  ota->offset += len;
  if (++ota->since_checkpoint >= ota->cfg.checkpoint_chunks) rc = checkpoint(ota);
  iotkit__ota_report(ota);
  return rc;
}

/* The transport picks the backend by scheme (UNKNOWN_SCHEME, or UNSUPPORTED when not built in). */
static iotkit_err_t builtin_fetch(iotkit_ota_t *ota) {
  iotkit__fetch_opts_t o = {.url = ota->manifest->url,
                            .offset = ota->offset,
                            .chunk_size = ota->cfg.chunk_size,
                            .timeout_ms = ota->cfg.timeout_ms,
                            .ca_file = ota->cfg.ca_file,
                            .abort = &ota->abort,
                            .psk_identity = ota->cfg.psk_identity,
                            .psk_key_hex = ota->cfg.psk_key_hex,
                            .hal = ota->cfg.hal};
  return iotkit__transport_fetch(&o, sink, ota);
}

static iotkit_err_t fetch_once(iotkit_ota_t *ota) {
  const iotkit_ota_fetcher_t *f = &ota->cfg.fetcher;
  if (f->fetch) return f->fetch(f->ctx, ota->manifest->url, ota->offset, ota->cfg.chunk_size, sink, ota);
  return builtin_fetch(ota);
}

/*
 * The streaming SHA-256 state cannot be saved portably (OpenSSL has no export
 * of a digest context), so after a restart the hash is rebuilt by reading the
 * slot's first `offset` bytes back, one chunk at a time.
 */
iotkit_err_t iotkit__ota_rehash(iotkit_ota_t *ota, uint64_t upto) {
  const iotkit_hal_t *hal = ota->cfg.hal;
  uint8_t digest[IOTKIT_SHA256_LEN];
  iotkit_sha256_final(ota->sha, digest); /* resets it */
  for (uint64_t at = 0; at < upto;) {
    size_t want = upto - at < ota->cfg.chunk_size ? (size_t)(upto - at) : ota->cfg.chunk_size, got = 0;
    iotkit_err_t rc = hal->slot_read(hal->ctx, ota->slot, at, ota->buf, want, &got);
    if (rc == IOTKIT_OK && got != want) rc = IOTKIT_ERR_CORRUPT;
    if (rc == IOTKIT_OK) rc = iotkit_sha256_update(ota->sha, ota->buf, got);
    if (rc != IOTKIT_OK) return rc;
    at += got;
  }
  ota->sha_valid = true;
  return IOTKIT_OK;
}

/* Open the slot where the download stands: erase it at 0, or keep what a checkpoint made durable. */
static iotkit_err_t prepare(iotkit_ota_t *ota) {
  const iotkit_hal_t *hal = ota->cfg.hal;
  if (ota->offset > 0 && hal->slot_resume) {
    iotkit_slot_info_t info;
    iotkit_err_t rc = hal->slot_query(hal->ctx, &info);
    if (rc != IOTKIT_OK) return rc;
    ota->offset = info.size[ota->slot]; /* what the last checkpoint made durable */
    rc = hal->slot_resume(hal->ctx, ota->slot);
    if (rc == IOTKIT_OK) rc = iotkit__ota_rehash(ota, ota->offset);
    if (rc == IOTKIT_OK) {
      iotkit_hal_logf(hal, IOTKIT_LOG_INFO, "ota: resuming the download at byte %llu",
                      (unsigned long long)ota->offset);
      return IOTKIT_OK;
    }
    if (rc == IOTKIT_ERR_POWER_CUT) return rc;
  }
  ota->offset = 0;
  uint8_t digest[IOTKIT_SHA256_LEN];
  iotkit_sha256_final(ota->sha, digest);
  ota->sha_valid = true;
  return hal->slot_open(hal->ctx, ota->slot);
}

static bool retryable(iotkit_err_t rc) {
  return rc == IOTKIT_ERR_CONNECT || rc == IOTKIT_ERR_TIMEOUT || rc == IOTKIT_ERR_CONNECTION_LOST ||
         rc == IOTKIT_ERR_OTA_SERVER;
}

/* Failures that are the image's or the server's fault end the update; others leave it resumable. */
static bool final_failure(iotkit_err_t rc) {
  return rc == IOTKIT_ERR_OTA_SIZE || rc == IOTKIT_ERR_NOT_FOUND || rc == IOTKIT_ERR_OTA_SERVER ||
         rc == IOTKIT_ERR_AUTH || rc == IOTKIT_ERR_PROTOCOL || rc == IOTKIT_ERR_UNKNOWN_SCHEME ||
         rc == IOTKIT_ERR_BAD_URI || rc == IOTKIT_ERR_TLS || rc == IOTKIT_ERR_UNSUPPORTED;
}

static void backoff(iotkit_ota_t *ota, unsigned attempt) {
  uint64_t ms = ota->cfg.retry_base_ms;
  for (unsigned i = 1; i < attempt && ms < ota->cfg.retry_max_ms; i++) ms *= 2;
  if (ms > ota->cfg.retry_max_ms) ms = ota->cfg.retry_max_ms;
  iotkit_hal_logf(ota->cfg.hal, IOTKIT_LOG_INFO, "ota: retry %u in %llu ms", attempt, (unsigned long long)ms);
  if (ota->cfg.hal->sleep_ms && ms) ota->cfg.hal->sleep_ms(ota->cfg.hal->ctx, (uint32_t)ms);
}

static iotkit_err_t transfer(iotkit_ota_t *ota) {
  const uint64_t size = ota->manifest->size;
  unsigned attempt = 0;
  for (;;) {
    uint64_t before = ota->offset;
    iotkit_err_t rc = ota->offset < size ? fetch_once(ota) : IOTKIT_OK;
    /* A resource that ended early is a truncated image, not a network failure. */
    if (rc == IOTKIT_OK && ota->offset != size) rc = IOTKIT_ERR_OTA_SIZE;
    if (rc == IOTKIT_OK || !retryable(rc) || atomic_load(&ota->abort)) return rc;
    if (ota->offset > before) attempt = 0; /* progress: a fresh budget */
    if (++attempt > ota->cfg.max_retries) return rc;
    ota->error = rc;
    iotkit__ota_report(ota);
    backoff(ota, attempt);
  }
}

iotkit_err_t iotkit__ota_download(iotkit_ota_t *ota) {
  if (!ota->sha_valid || ota->offset == 0) {
    iotkit_err_t rc = prepare(ota);
    if (rc != IOTKIT_OK) return rc;
  }
  iotkit_err_t rc = transfer(ota);
  if (rc == IOTKIT_OK) rc = ota->cfg.hal->slot_finalize(ota->cfg.hal->ctx, ota->slot, ota->offset);
  if (rc == IOTKIT_OK) return iotkit__ota_set_state(ota, IOTKIT_OTA_DOWNLOADED, IOTKIT_OK);
  if (final_failure(rc)) {
    iotkit_err_t prc = iotkit__ota_set_state(ota, IOTKIT_OTA_FAILED, rc);
    return prc == IOTKIT_OK ? rc : prc;
  }
  /* Resumable: keep what is durable, and say why it stopped. */
  ota->error = rc;
  iotkit__ota_report(ota);
  return rc;
}
