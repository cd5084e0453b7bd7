/* Shared pieces of the OTA tests (see ota_fixture.h). */
#include "ota_fixture.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

uint8_t *ota_fx_image(size_t len, unsigned seed) {
  uint8_t *p = malloc(len ? len : 1);
  cr_assert_not_null(p);
  uint32_t x = 2463534242u ^ seed;
  for (size_t i = 0; i < len; i++) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    p[i] = (uint8_t)x;
  }
  return p;
}

iotkit_key_t *ota_fx_key(const iotkit_hal_t *hal, iotkit_key_type_t type) {
  iotkit_key_t *k = NULL;
  cr_assert_eq(iotkit_key_generate(hal, type, &k), IOTKIT_OK);
  return k;
}

char *ota_fx_manifest(const iotkit_key_t *key, const char *key_id, const char *device_type, const char *version,
                      const uint8_t *image, size_t len, const char *url) {
  iotkit_ota_image_t img = {.device_type = device_type, .version = version, .size = len, .url = url};
  cr_assert_eq(iotkit_sha256(image, len, img.sha256), IOTKIT_OK);
  char *json = NULL;
  cr_assert_eq(iotkit_ota_manifest_sign(&img, key, key_id, &json), IOTKIT_OK);
  return json;
}

iotkit_hal_t *ota_fx_hal(uint64_t capacity, const uint8_t *old, size_t old_len) {
  iotkit_hal_memory_config_t cfg;
  iotkit_hal_memory_config_init(&cfg);
  cfg.slot_capacity = capacity;
  cfg.manual_clock = true;
  iotkit_hal_t *hal = NULL;
  cr_assert_eq(iotkit_hal_memory_new(&cfg, &hal), IOTKIT_OK);
  ota_fx_install(hal, old, old_len);
  return hal;
}

void ota_fx_install(iotkit_hal_t *hal, const uint8_t *old, size_t old_len) {
  cr_assert_eq(hal->slot_open(hal->ctx, 1), IOTKIT_OK);
  cr_assert_eq(hal->slot_write(hal->ctx, 1, 0, old, old_len), IOTKIT_OK);
  cr_assert_eq(hal->slot_finalize(hal->ctx, 1, old_len), IOTKIT_OK);
  cr_assert_eq(hal->slot_mark_pending(hal->ctx, 1), IOTKIT_OK);
  cr_assert_eq(iotkit_hal_boot(hal, 3, NULL), IOTKIT_OK);
  cr_assert_eq(hal->slot_confirm(hal->ctx), IOTKIT_OK);
}

void ota_fx_slot_hash(iotkit_hal_t *hal, int slot, uint64_t len, uint8_t out[IOTKIT_SHA256_LEN]) {
  iotkit_sha256_t *h = NULL;
  cr_assert_eq(iotkit_sha256_new(&h), IOTKIT_OK);
  uint8_t buf[4096];
  for (uint64_t at = 0; at < len;) {
    size_t want = len - at < sizeof(buf) ? (size_t)(len - at) : sizeof(buf), got = 0;
    cr_assert_eq(hal->slot_read(hal->ctx, slot, at, buf, want, &got), IOTKIT_OK);
    cr_assert_eq(got, want, "slot %d holds fewer than %llu bytes", slot, (unsigned long long)len);
    iotkit_sha256_update(h, buf, got);
    at += got;
  }
  iotkit_sha256_final(h, out);
  iotkit_sha256_free(h);
}

static iotkit_err_t fx_fetch(void *ctx, const char *url, uint64_t offset, size_t chunk, iotkit_ota_sink_fn sink,
                             void *sink_ctx) {
  (void)url;
  ota_fx_server_t *s = ctx;
  unsigned req = s->requests++;
  if (req < 64) s->first_offset[req] = offset;
  if (s->fail_with) return s->fail_with;
  uint64_t end = req == 0 && s->drop_at ? s->drop_at : s->len;
  for (uint64_t at = offset; at < end;) {
    size_t n = end - at < chunk ? (size_t)(end - at) : chunk;
    s->served += n;
    iotkit_err_t rc = sink(sink_ctx, s->data + at, n);
    if (rc != IOTKIT_OK) return rc;
    at += n;
  }
  return end < s->len ? IOTKIT_ERR_CONNECTION_LOST : IOTKIT_OK;
}

iotkit_ota_fetcher_t ota_fx_fetcher(ota_fx_server_t *srv) {
  iotkit_ota_fetcher_t f = {.fetch = fx_fetch, .ctx = srv};
  return f;
}

void ota_fx_trust(const iotkit_hal_t *hal, iotkit_key_t **key, iotkit_ota_trust_t **trust) {
  *key = ota_fx_key(hal, IOTKIT_KEY_ED25519);
  cr_assert_eq(iotkit_ota_trust_new(trust), IOTKIT_OK);
  cr_assert_eq(iotkit_ota_trust_add(*trust, OTA_FX_KEY_ID, *key), IOTKIT_OK);
}

void ota_fx_config(iotkit_ota_config_t *cfg, iotkit_hal_t *hal, const iotkit_ota_trust_t *trust, const char *running,
                   ota_fx_server_t *srv) {
  iotkit_ota_config_init(cfg);
  cfg->hal = hal;
  cfg->trust = trust;
  cfg->device_type = OTA_FX_DEVICE_TYPE;
  cfg->running_version = running;
  cfg->fetcher = ota_fx_fetcher(srv);
  cfg->chunk_size = 4096;
}
