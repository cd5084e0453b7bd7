/* OTA end to end against a real nginx: full update, 404, 500, resume with Range. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iotkit/iotkit.h"
#include "nginx_server.h"
#include "ota_fixture.h"

#define OLD_LEN 5000u
#define NEW_LEN (1024u * 1024u + 123u)
#define CHUNK (16u * 1024u)

static nginx_server_t *srv;
static iotkit_hal_t *hal;
static iotkit_key_t *key;
static iotkit_ota_trust_t *trust;
static uint8_t *old_img, *new_img;
static uint8_t old_sha[32], new_sha[32];
static uint64_t progress; /* most bytes reported while downloading */
static uint64_t drop_at;  /* when non-zero: restart nginx once this many bytes are in */
static uint64_t dropped_at;
static iotkit_err_t retried_error; /* the error reported while downloading, before a retry */

static void setup(void) {
  old_img = ota_fx_image(OLD_LEN, 1);
  new_img = ota_fx_image(NEW_LEN, 2);
  iotkit_sha256(old_img, OLD_LEN, old_sha);
  iotkit_sha256(new_img, NEW_LEN, new_sha);
  hal = ota_fx_hal(4u << 20, old_img, OLD_LEN);
  key = ota_fx_key(hal, IOTKIT_KEY_P256);
  cr_assert_eq(iotkit_ota_trust_new(&trust), IOTKIT_OK);
  cr_assert_eq(iotkit_ota_trust_add(trust, OTA_FX_KEY_ID, key), IOTKIT_OK);
  srv = nginx_server_new();
  cr_assert_not_null(srv);
  cr_assert(nginx_server_put(srv, "fw.bin", new_img, NEW_LEN));
  cr_assert(nginx_server_add_config(srv, "location = /error500 { return 500; }"));
  cr_assert(nginx_server_start(srv));
  progress = drop_at = dropped_at = 0;
  retried_error = IOTKIT_OK;
}

static void teardown(void) {
  nginx_server_free(srv);
  iotkit_ota_trust_free(trust);
  iotkit_key_free(key);
  iotkit_hal_free(hal);
  free(old_img);
  free(new_img);
}

TestSuite(ota_nginx, .init = setup, .fini = teardown, .timeout = 120);

static void on_status(iotkit_ota_t *ota, void *user, const iotkit_ota_status_t *st) {
  (void)ota, (void)user;
  if (st->state == IOTKIT_OTA_DOWNLOADING && st->bytes > progress) progress = st->bytes;
  if (st->state == IOTKIT_OTA_DOWNLOADING && st->error != IOTKIT_OK) retried_error = st->error;
  if (drop_at && st->bytes >= drop_at) {
    /* The server goes away mid-transfer (its connections with it) and comes back. */
    drop_at = 0;
    dropped_at = st->bytes;
    nginx_server_stop(srv);
    cr_assert(nginx_server_start(srv));
  }
}

static iotkit_ota_t *make_ota(const char *running) {
  iotkit_ota_config_t cfg;
  iotkit_ota_config_init(&cfg);
  cfg.hal = hal;
  cfg.trust = trust;
  cfg.device_type = OTA_FX_DEVICE_TYPE;
  cfg.running_version = running;
  cfg.chunk_size = CHUNK;
  cfg.max_retries = 2;
  cfg.retry_base_ms = 1;
  cfg.timeout_ms = 10000;
  cfg.on_status = on_status;
  iotkit_ota_t *ota = NULL;
  cr_assert_eq(iotkit_ota_new(&cfg, &ota), IOTKIT_OK);
  return ota;
}

/* The manifest of the new image at @p path on nginx. */
static char *manifest_for(const char *path) {
  char url[128];
  snprintf(url, sizeof url, "%s%s", nginx_server_url(srv), path);
  return ota_fx_manifest(key, OTA_FX_KEY_ID, OTA_FX_DEVICE_TYPE, "2.0.0", new_img, NEW_LEN, url);
}

static iotkit_ota_state_t state_of(iotkit_ota_t *ota) {
  iotkit_ota_status_t st;
  cr_assert_eq(iotkit_ota_status(ota, &st), IOTKIT_OK);
  return st.state;
}

static void assert_slot(int slot, uint64_t len, const uint8_t *sha) {
  uint8_t got[32];
  ota_fx_slot_hash(hal, slot, len, got);
  cr_assert_arr_eq(got, sha, 32, "slot %d", slot);
}

Test(ota_nginx, full_update_download_verify_install_boot_confirm) {
  char *m = manifest_for(NGINX_SERVER_FILES "fw.bin");
  iotkit_ota_t *ota = make_ota("1.0.0");
  cr_assert_eq(iotkit_ota_start(ota, m, strlen(m)), IOTKIT_OK);
  cr_assert_eq(iotkit_ota_run(ota), IOTKIT_OK);
  cr_assert_eq(state_of(ota), IOTKIT_OTA_PENDING);
  cr_assert_eq(iotkit_hal_memory_reboot_count(hal), 1);
  iotkit_ota_free(ota);
  iotkit_boot_outcome_t o;
  cr_assert_eq(iotkit_hal_boot(hal, 3, &o), IOTKIT_OK);
  cr_assert_eq(o, IOTKIT_BOOT_TRIAL_START);
  ota = make_ota("2.0.0");
  cr_assert_eq(state_of(ota), IOTKIT_OTA_TRIAL);
  cr_assert_eq(iotkit_ota_confirm(ota), IOTKIT_OK);
  cr_assert_eq(state_of(ota), IOTKIT_OTA_CONFIRMED);
  iotkit_ota_free(ota);
  assert_slot(0, NEW_LEN, new_sha);
  assert_slot(1, OLD_LEN, old_sha);
  cr_assert(nginx_server_wait_requests(srv, 1));
  nginx_request_t e[8];
  cr_assert_eq(nginx_server_requests(srv, e, 8), 1);
  cr_assert_eq(e[0].status, 200);
  cr_assert_str_eq(e[0].request, "GET " NGINX_SERVER_FILES "fw.bin HTTP/1.1");
  cr_assert_str_eq(e[0].range, "-");
  cr_assert_eq(e[0].bytes, NEW_LEN);
  iotkit_free(m);
}

static void expect_refused(const char *path, iotkit_err_t code, int requests, int status) {
  char *m = manifest_for(path);
  iotkit_ota_t *ota = make_ota("1.0.0");
  cr_assert_eq(iotkit_ota_start(ota, m, strlen(m)), IOTKIT_OK);
  cr_assert_eq(iotkit_ota_run(ota), code);
  iotkit_ota_status_t st;
  iotkit_ota_status(ota, &st);
  cr_assert_eq(st.state, IOTKIT_OTA_FAILED);
  cr_assert_eq(st.error, code);
  iotkit_ota_free(ota);
  iotkit_slot_info_t info;
  hal->slot_query(hal->ctx, &info);
  cr_assert_eq(info.active, 1);
  cr_assert(info.active_confirmed);
  cr_assert_eq(info.pending, -1);
  assert_slot(1, OLD_LEN, old_sha);
  cr_assert(nginx_server_wait_requests(srv, (size_t)requests));
  nginx_request_t e[16];
  cr_assert_eq(nginx_server_requests(srv, e, 16), (size_t)requests);
  for (int i = 0; i < requests; i++) cr_assert_eq(e[i].status, status);
  iotkit_free(m);
}

Test(ota_nginx, not_found_404_is_refused) {
  expect_refused(NGINX_SERVER_FILES "missing.bin", IOTKIT_ERR_NOT_FOUND, 1, 404);
}
Test(ota_nginx, server_error_500_is_retried_then_refused) {
  expect_refused("/error500", IOTKIT_ERR_OTA_SERVER, 3, 500);
}

Test(ota_nginx, truncated_file_is_refused) {
  cr_assert(nginx_server_put(srv, "short.bin", new_img, NEW_LEN - 1));
  expect_refused(NGINX_SERVER_FILES "short.bin", IOTKIT_ERR_OTA_SIZE, 1, 200);
}

Test(ota_nginx, resume_after_power_cut_fetches_no_range_twice) {
  char *m = manifest_for(NGINX_SERVER_FILES "fw.bin");
  iotkit_ota_t *ota = make_ota("1.0.0");
  cr_assert_eq(iotkit_ota_start(ota, m, strlen(m)), IOTKIT_OK);
  /* Two writes a chunk (data, finalize; the OTA record at the first only): cut well inside the download. */
  cr_assert_eq(iotkit_hal_memory_cut_power_at(hal, 2 * 30 + 2), IOTKIT_OK);
  cr_assert_eq(iotkit_ota_run(ota), IOTKIT_ERR_POWER_CUT);
  iotkit_ota_free(ota);
  uint64_t before = progress;
  cr_assert_gt(before, 0);
  cr_assert_eq(iotkit_hal_memory_power_restore(hal), IOTKIT_OK);
  cr_assert_eq(iotkit_hal_boot(hal, 3, NULL), IOTKIT_OK);
  ota = make_ota("1.0.0");
  iotkit_ota_status_t st;
  iotkit_ota_status(ota, &st);
  cr_assert_eq(st.state, IOTKIT_OTA_DOWNLOADING);
  uint64_t resume_at = st.bytes;
  cr_assert_leq(before - resume_at, CHUNK, "at most one chunk is fetched again");
  cr_assert_eq(iotkit_ota_run(ota), IOTKIT_OK);
  cr_assert_eq(state_of(ota), IOTKIT_OTA_PENDING);
  iotkit_ota_free(ota);
  assert_slot(0, NEW_LEN, new_sha);

  cr_assert(nginx_server_wait_requests(srv, 2));
  nginx_request_t e[8];
  cr_assert_eq(nginx_server_requests(srv, e, 8), 2);
  char range[64];
  snprintf(range, sizeof range, "bytes=%llu-", (unsigned long long)resume_at);
  cr_assert_str_eq(e[1].range, range);
  cr_assert_eq(e[1].status, 206);
  cr_assert_eq(e[1].bytes, NEW_LEN - resume_at, "the second request served only the rest");
  /* The first request's count includes what the kernel had buffered when the client went away. */
  cr_assert_geq(e[0].bytes, before);
  iotkit_free(m);
}

Test(ota_nginx, connection_dropped_mid_transfer_is_retried_then_resumed) {
  /* Slow enough that the image is not all in the socket buffers when the server goes. */
  nginx_server_stop(srv);
  cr_assert(nginx_server_add_config(srv, "limit_rate 512k;"));
  cr_assert(nginx_server_start(srv));
  uint16_t port = nginx_server_port(srv);
  char *m = manifest_for(NGINX_SERVER_FILES "fw.bin");
  iotkit_ota_t *ota = make_ota("1.0.0");
  cr_assert_eq(iotkit_ota_start(ota, m, strlen(m)), IOTKIT_OK);
  drop_at = 256u * 1024u;
  cr_assert_eq(iotkit_ota_run(ota), IOTKIT_OK);
  cr_assert_gt(dropped_at, 0, "the server was restarted mid-transfer");
  cr_assert_eq(nginx_server_port(srv), port, "same address after the restart");
  cr_assert_eq(retried_error, IOTKIT_ERR_CONNECTION_LOST, "the drop was reported, then retried: %s",
               iotkit_err_name(retried_error));
  cr_assert_eq(state_of(ota), IOTKIT_OTA_PENDING);
  iotkit_ota_free(ota);
  assert_slot(0, NEW_LEN, new_sha);
  /* The restarted server logged the resumed request: a Range from where the client was, and only the rest. */
  cr_assert(nginx_server_wait_requests(srv, 1));
  nginx_request_t e[8];
  size_t n = nginx_server_requests(srv, e, 8);
  cr_assert_geq(n, 1);
  unsigned long long from = 0;
  cr_assert_eq(sscanf(e[n - 1].range, "bytes=%llu-", &from), 1, "range %s", e[n - 1].range);
  cr_assert_geq(from, dropped_at);
  cr_assert_eq(e[n - 1].status, 206);
  cr_assert_eq(e[n - 1].bytes, NEW_LEN - from, "no byte served twice after the drop");
  iotkit_free(m);
}
