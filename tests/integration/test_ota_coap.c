// requires: coap
/* OTA end to end with the image on libcoap's coap-server-openssl: the manifest's
   url is coap:// (or coaps:// with a PSK), the built-in fetcher downloads it
   block-wise into the memory HAL, and an aborted download resumes. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coap_server.h"
#include "iotkit/iotkit.h"
#include "ota_fixture.h"

#define OLD_LEN 5000u
#define NEW_LEN (256u * 1024u + 99u)
#define CHUNK 3000u /* not a multiple of the block size: a resume starts inside a block */
#define PSK "secretPSK"
#define PSK_HEX "73656372657450534b"

static coap_srv_t *srv;
static iotkit_hal_t *hal;
static iotkit_key_t *key;
static iotkit_ota_trust_t *trust;
static uint8_t *old_img, *new_img;
static uint8_t new_sha[32];
static uint64_t abort_at;   /* abort from the status callback once this many bytes are in (0: never) */
static uint64_t first_seen; /* smallest DOWNLOADING byte count reported after a (re)start */
static bool watching;

static void setup(void) {
  old_img = ota_fx_image(OLD_LEN, 1);
  new_img = ota_fx_image(NEW_LEN, 2);
  iotkit_sha256(new_img, NEW_LEN, new_sha);
  hal = ota_fx_hal(4u << 20, old_img, OLD_LEN);
  key = ota_fx_key(hal, IOTKIT_KEY_ED25519);
  cr_assert_eq(iotkit_ota_trust_new(&trust), IOTKIT_OK);
  cr_assert_eq(iotkit_ota_trust_add(trust, OTA_FX_KEY_ID, key), IOTKIT_OK);
  srv = coap_srv_new();
  cr_assert_not_null(srv);
  cr_assert(coap_srv_set_psk(srv, PSK, "CoAP"));
  cr_assert(coap_srv_start(srv));
  cr_assert(coap_srv_put(srv, "/fw/thermo-2.0.0.bin", new_img, NEW_LEN));
  abort_at = 0;
  watching = false;
}

static void teardown(void) {
  coap_srv_free(srv);
  iotkit_ota_trust_free(trust);
  iotkit_key_free(key);
  iotkit_hal_free(hal);
  free(old_img);
  free(new_img);
}

TestSuite(ota_coap, .init = setup, .fini = teardown, .timeout = 120);

static void on_status(iotkit_ota_t *ota, void *user, const iotkit_ota_status_t *st) {
  (void)user;
  if (st->state != IOTKIT_OTA_DOWNLOADING) return;
  if (watching && st->bytes > 0) {
    first_seen = st->bytes;
    watching = false;
  }
  if (abort_at && st->bytes >= abort_at) {
    abort_at = 0;
    iotkit_ota_abort(ota);
  }
}

static iotkit_ota_t *make_ota(const char *psk_identity, const char *psk_key_hex) {
  iotkit_ota_config_t cfg;
  iotkit_ota_config_init(&cfg);
  cfg.hal = hal;
  cfg.trust = trust;
  cfg.device_type = OTA_FX_DEVICE_TYPE;
  cfg.running_version = OTA_FX_OLD_VERSION;
  cfg.chunk_size = CHUNK;
  cfg.max_retries = 1;
  cfg.retry_base_ms = 1;
  cfg.timeout_ms = 5000;
  cfg.psk_identity = psk_identity;
  cfg.psk_key_hex = psk_key_hex;
  cfg.on_status = on_status;
  iotkit_ota_t *ota = NULL;
  cr_assert_eq(iotkit_ota_new(&cfg, &ota), IOTKIT_OK);
  return ota;
}

static char *manifest_at(const char *base, const char *path) {
  char url[160];
  snprintf(url, sizeof url, "%s%s", base, path);
  return ota_fx_manifest(key, OTA_FX_KEY_ID, OTA_FX_DEVICE_TYPE, "2.0.0", new_img, NEW_LEN, url);
}

static iotkit_ota_status_t status_of(iotkit_ota_t *ota) {
  iotkit_ota_status_t st;
  cr_assert_eq(iotkit_ota_status(ota, &st), IOTKIT_OK);
  return st;
}

static void assert_new_image_pending(void) {
  uint8_t got[32];
  ota_fx_slot_hash(hal, 0, NEW_LEN, got);
  cr_assert_arr_eq(got, new_sha, 32);
  iotkit_slot_info_t info;
  cr_assert_eq(hal->slot_query(hal->ctx, &info), IOTKIT_OK);
  cr_assert_eq(info.pending, 0);
}

/* Start and run an update from @p base; it must end PENDING with the new image in slot 0. */
static void update_reaches_pending(const char *base, const char *psk_identity, const char *psk_key_hex) {
  char *m = manifest_at(base, "/fw/thermo-2.0.0.bin");
  iotkit_ota_t *ota = make_ota(psk_identity, psk_key_hex);
  cr_assert_eq(iotkit_ota_start(ota, m, strlen(m)), IOTKIT_OK);
  cr_assert_eq(iotkit_ota_run(ota), IOTKIT_OK);
  cr_assert_eq(status_of(ota).state, IOTKIT_OTA_PENDING);
  cr_assert_eq(iotkit_hal_memory_reboot_count(hal), 1);
  assert_new_image_pending();
  iotkit_ota_free(ota);
  iotkit_free(m);
}

Test(ota_coap, update_over_coap_reaches_pending) { update_reaches_pending(coap_srv_uri(srv), NULL, NULL); }

Test(ota_coap, update_over_coaps_with_psk_reaches_pending) {
  update_reaches_pending(coap_srv_uri_dtls(srv), "dev-1", PSK_HEX);
}

Test(ota_coap, aborted_download_resumes_with_a_second_run) {
  char *m = manifest_at(coap_srv_uri(srv), "/fw/thermo-2.0.0.bin");
  iotkit_ota_t *ota = make_ota(NULL, NULL);
  cr_assert_eq(iotkit_ota_start(ota, m, strlen(m)), IOTKIT_OK);
  abort_at = NEW_LEN / 2;
  cr_assert_eq(iotkit_ota_run(ota), IOTKIT_ERR_BUSY);
  iotkit_ota_status_t st = status_of(ota);
  cr_assert_eq(st.state, IOTKIT_OTA_DOWNLOADING);
  uint64_t stopped_at = st.bytes;
  cr_assert_geq(stopped_at, NEW_LEN / 2);
  cr_assert_lt(stopped_at, NEW_LEN);
  cr_assert_neq(stopped_at % 1024u, 0, "the resume starts inside a block (%llu)", (unsigned long long)stopped_at);
  watching = true;
  cr_assert_eq(iotkit_ota_run(ota), IOTKIT_OK);
  cr_assert_eq(first_seen, stopped_at + CHUNK, "the second run went on from %llu, not from 0",
               (unsigned long long)stopped_at);
  cr_assert_eq(status_of(ota).state, IOTKIT_OTA_PENDING);
  assert_new_image_pending();
  iotkit_ota_free(ota);
  iotkit_free(m);
}

Test(ota_coap, missing_image_fails_with_not_found) {
  char *m = manifest_at(coap_srv_uri(srv), "/fw/missing.bin");
  iotkit_ota_t *ota = make_ota(NULL, NULL);
  cr_assert_eq(iotkit_ota_start(ota, m, strlen(m)), IOTKIT_OK);
  cr_assert_eq(iotkit_ota_run(ota), IOTKIT_ERR_NOT_FOUND);
  iotkit_ota_status_t st = status_of(ota);
  cr_assert_eq(st.state, IOTKIT_OTA_FAILED);
  cr_assert_eq(st.error, IOTKIT_ERR_NOT_FOUND);
  iotkit_ota_free(ota);
  iotkit_free(m);
}

Test(ota_coap, coaps_with_wrong_psk_fails_with_auth) {
  char *m = manifest_at(coap_srv_uri_dtls(srv), "/fw/thermo-2.0.0.bin");
  iotkit_ota_t *ota = make_ota("dev-1", "00112233445566778899");
  cr_assert_eq(iotkit_ota_start(ota, m, strlen(m)), IOTKIT_OK);
  cr_assert_eq(iotkit_ota_run(ota), IOTKIT_ERR_AUTH);
  cr_assert_eq(status_of(ota).state, IOTKIT_OTA_FAILED);
  iotkit_ota_free(ota);
  iotkit_free(m);
}
