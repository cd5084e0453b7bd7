/* Setup shared by the OTA client unit tests: a memory HAL running 1.0.0 from
   slot 1, a trusted key, a 50000-byte image 2.0.0 and an in-memory server. */
#ifndef TEST_OTA_CLIENT_UTIL_H
#define TEST_OTA_CLIENT_UTIL_H

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "iotkit/iotkit.h"
#include "ota_fixture.h"

#define OLD_LEN 4000u
#define NEW_LEN 50000u
#define CHUNK 1024u
#define URL "http://127.0.0.1:1/fw.bin"

static iotkit_hal_t *hal;
static iotkit_key_t *key;
static iotkit_ota_trust_t *trust;
static uint8_t *old_img, *new_img;
static uint8_t old_sha[32], new_sha[32];
static char *manifest;
static ota_fx_server_t server;

static void setup_with_capacity(uint64_t capacity) {
  old_img = ota_fx_image(OLD_LEN, 1);
  new_img = ota_fx_image(NEW_LEN, 2);
  iotkit_sha256(old_img, OLD_LEN, old_sha);
  iotkit_sha256(new_img, NEW_LEN, new_sha);
  hal = ota_fx_hal(capacity, old_img, OLD_LEN);
  key = ota_fx_key(hal, IOTKIT_KEY_ED25519);
  cr_assert_eq(iotkit_ota_trust_new(&trust), IOTKIT_OK);
  cr_assert_eq(iotkit_ota_trust_add(trust, OTA_FX_KEY_ID, key), IOTKIT_OK);
  manifest = ota_fx_manifest(key, OTA_FX_KEY_ID, OTA_FX_DEVICE_TYPE, "2.0.0", new_img, NEW_LEN, URL);
  memset(&server, 0, sizeof server);
  server.data = new_img;
  server.len = NEW_LEN;
}

static void setup(void) { setup_with_capacity(1u << 20); }

static void teardown(void) {
  iotkit_free(manifest);
  iotkit_ota_trust_free(trust);
  iotkit_key_free(key);
  iotkit_hal_free(hal);
  free(old_img);
  free(new_img);
}

static void config(iotkit_ota_config_t *cfg, const char *running) {
  iotkit_ota_config_init(cfg);
  cfg->hal = hal;
  cfg->trust = trust;
  cfg->device_type = OTA_FX_DEVICE_TYPE;
  cfg->running_version = running;
  cfg->chunk_size = CHUNK;
  cfg->retry_base_ms = 1;
  cfg->retry_max_ms = 4;
  cfg->fetcher = ota_fx_fetcher(&server);
}

static iotkit_ota_t *make_ota(const char *running) {
  iotkit_ota_config_t cfg;
  config(&cfg, running);
  iotkit_ota_t *ota = NULL;
  cr_assert_eq(iotkit_ota_new(&cfg, &ota), IOTKIT_OK);
  return ota;
}

static iotkit_ota_status_t status_of(iotkit_ota_t *ota) {
  iotkit_ota_status_t st;
  cr_assert_eq(iotkit_ota_status(ota, &st), IOTKIT_OK);
  return st;
}

/* The running image is still 1.0.0 in slot 1, confirmed, nothing pending. */
static void assert_old_untouched(void) {
  iotkit_slot_info_t info;
  cr_assert_eq(hal->slot_query(hal->ctx, &info), IOTKIT_OK);
  cr_assert_eq(info.active, 1);
  cr_assert(info.active_confirmed);
  cr_assert_eq(info.pending, -1);
  uint8_t sha[32];
  ota_fx_slot_hash(hal, 1, OLD_LEN, sha);
  cr_assert_arr_eq(sha, old_sha, 32);
}

#endif
