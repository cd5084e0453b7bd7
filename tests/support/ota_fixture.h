/* Shared pieces of the OTA tests: keys, images, signed manifests, a memory HAL
   running a known confirmed image, and an in-memory fetcher. */
#ifndef IOTKIT_TEST_OTA_FIXTURE_H
#define IOTKIT_TEST_OTA_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotkit/iotkit.h"

#define OTA_FX_DEVICE_TYPE "thermo-v2"
#define OTA_FX_KEY_ID "fleet-2026"
#define OTA_FX_OLD_VERSION "1.0.0"

/* Deterministic bytes of an image of @len bytes (seeded by @seed). Caller frees. */
uint8_t *ota_fx_image(size_t len, unsigned seed);

/* A fresh Ed25519 key pair made through @hal (asserts). */
iotkit_key_t *ota_fx_key(const iotkit_hal_t *hal, iotkit_key_type_t type);

/* Sign a manifest for @image (asserts); release with iotkit_free(). */
char *ota_fx_manifest(const iotkit_key_t *key, const char *key_id, const char *device_type, const char *version,
                      const uint8_t *image, size_t len, const char *url);

/* A memory HAL (slot capacity @capacity, manual clock) whose slot 1 runs the
   confirmed image @old (@old_len bytes), installed through the HAL itself. */
iotkit_hal_t *ota_fx_hal(uint64_t capacity, const uint8_t *old, size_t old_len);

/* Make the confirmed image @old run from slot 1 of a fresh shipped HAL (either kind). */
void ota_fx_install(iotkit_hal_t *hal, const uint8_t *old, size_t old_len);

/* SHA-256 of the first @len bytes of @slot of @hal (asserts the slot holds them). */
void ota_fx_slot_hash(iotkit_hal_t *hal, int slot, uint64_t len, uint8_t out[IOTKIT_SHA256_LEN]);

/* An in-memory download server for iotkit_ota_fetcher_t. */
typedef struct ota_fx_server {
  const uint8_t *data;
  size_t len;
  iotkit_err_t fail_with; /* returned by every request when non-zero */
  uint64_t drop_at;       /* when non-zero: the first request stops at this byte with CONNECTION_LOST */
  unsigned requests;
  uint64_t first_offset[64]; /* the offset each request asked for */
  uint64_t served;           /* bytes handed out in total */
} ota_fx_server_t;

iotkit_ota_fetcher_t ota_fx_fetcher(ota_fx_server_t *srv);

/* A fresh Ed25519 key pair and a trust store holding it under OTA_FX_KEY_ID (asserts). */
void ota_fx_trust(const iotkit_hal_t *hal, iotkit_key_t **key, iotkit_ota_trust_t **trust);

/* Defaults, then @hal, @trust, OTA_FX_DEVICE_TYPE, @running, @srv's fetcher and 4 KiB chunks. */
void ota_fx_config(iotkit_ota_config_t *cfg, iotkit_hal_t *hal, const iotkit_ota_trust_t *trust, const char *running,
                   ota_fx_server_t *srv);

#endif
