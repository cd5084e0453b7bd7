/* Power-cut campaign: the memory HAL cuts the power at the k-th storage write of a
 * whole update (download from a real nginx, verify, mark, reboot, trial, confirm).
 * After every cut the device boots a confirmed image (or a trial with the confirmed
 * one kept), the update then completes, and no resumed request starts more than one
 * chunk before what the previous one had delivered.
 *
 * IOTKIT_OTA_TRIALS sets the number of trials (default 200, the full
 * campaign, a second or so; a longer one:
 * IOTKIT_OTA_TRIALS=5000 ctest --test-dir build -R ota_campaign --output-on-failure). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iotkit/iotkit.h"
#include "net_util.h"
#include "nginx_server.h"
#include "ota_fixture.h"

#define OLD_LEN 3000u
#define NEW_LEN (64u * 1024u + 77u)
#define CHUNK 4096u

static nginx_server_t *srv;
static iotkit_key_t *key;
static iotkit_ota_trust_t *trust;
static uint8_t *old_img, *new_img;
static uint8_t old_sha[32], new_sha[32];
static char *manifest;
static uint64_t progress;
static unsigned resumed_checked; /* resumed requests whose Range was checked */

static void on_status(iotkit_ota_t *ota, void *user, const iotkit_ota_status_t *st) {
  (void)ota, (void)user;
  if (st->state == IOTKIT_OTA_DOWNLOADING && st->bytes > progress) progress = st->bytes;
}

static iotkit_err_t make_ota(iotkit_hal_t *hal, const char *running, iotkit_ota_t **ota) {
  iotkit_ota_config_t cfg;
  iotkit_ota_config_init(&cfg);
  cfg.hal = hal;
  cfg.trust = trust;
  cfg.device_type = OTA_FX_DEVICE_TYPE;
  cfg.running_version = running;
  cfg.chunk_size = CHUNK;
  cfg.retry_base_ms = 1;
  cfg.on_status = on_status;
  return iotkit_ota_new(&cfg, ota);
}

static bool slot_is(iotkit_hal_t *hal, int slot, uint64_t len, const uint8_t *sha) {
  iotkit_slot_info_t info;
  hal->slot_query(hal->ctx, &info);
  if (info.size[slot] != len) return false;
  uint8_t got[32];
  ota_fx_slot_hash(hal, slot, len, got);
  return memcmp(got, sha, 32) == 0;
}

/* Exactly one confirmed image: the active one, or while on trial the other slot, intact. */
static bool invariant(iotkit_hal_t *hal) {
  iotkit_slot_info_t i;
  hal->slot_query(hal->ctx, &i);
  bool active_ok = i.active == 1 ? slot_is(hal, 1, OLD_LEN, old_sha) : slot_is(hal, 0, NEW_LEN, new_sha);
  if (i.active_confirmed) return active_ok;
  return i.active == 0 && active_ok && slot_is(hal, 1, OLD_LEN, old_sha);
}

/* One boot of the device: the application's OTA steps until done, a reboot or a power cut. */
static iotkit_err_t life(iotkit_hal_t *hal, bool *done) {
  iotkit_slot_info_t info;
  iotkit_err_t rc = hal->slot_query(hal->ctx, &info);
  if (rc != IOTKIT_OK) return rc;
  iotkit_ota_t *ota = NULL;
  rc = make_ota(hal, info.active == 0 ? "2.0.0" : "1.0.0", &ota);
  if (rc != IOTKIT_OK) return rc;
  iotkit_ota_status_t st;
  iotkit_ota_status(ota, &st);
  if (st.state == IOTKIT_OTA_IDLE) rc = iotkit_ota_start(ota, manifest, strlen(manifest));
  iotkit_ota_status(ota, &st);
  if (rc == IOTKIT_OK && st.state >= IOTKIT_OTA_DOWNLOADING && st.state <= IOTKIT_OTA_PENDING)
    rc = iotkit_ota_run(ota); /* ends with a reboot request */
  else if (rc == IOTKIT_OK && st.state == IOTKIT_OTA_TRIAL)
    rc = iotkit_ota_confirm(ota); /* the self-test passed */
  iotkit_ota_status(ota, &st);
  *done = rc == IOTKIT_OK && st.state == IOTKIT_OTA_CONFIRMED;
  if (rc == IOTKIT_OK && !*done && st.state != IOTKIT_OTA_PENDING) rc = st.error ? st.error : IOTKIT_ERR_STATE;
  iotkit_ota_free(ota);
  return rc;
}

/* Count the storage writes of an update without faults. */
static uint64_t clean_run_writes(void) {
  iotkit_hal_t *hal = ota_fx_hal(1u << 20, old_img, OLD_LEN);
  uint64_t start = iotkit_hal_memory_write_count(hal);
  bool done = false;
  for (int boot = 0; boot < 4 && !done; boot++) {
    cr_assert_eq(life(hal, &done), IOTKIT_OK);
    if (!done) cr_assert_eq(iotkit_hal_boot(hal, 3, NULL), IOTKIT_OK);
  }
  cr_assert(done);
  uint64_t n = iotkit_hal_memory_write_count(hal) - start;
  iotkit_hal_free(hal);
  return n;
}

/* Sign the manifest for an image URL tagged "?run=@p run", so that the access
   log lines of one run are told apart from a late line of the previous one
   (nginx logs a request after its last byte is sent, maybe after the client
   went on). */
static void use_manifest(unsigned run) {
  char url[160];
  snprintf(url, sizeof url, "%s" NGINX_SERVER_FILES "fw.bin?run=%u", nginx_server_url(srv), run);
  iotkit_free(manifest);
  manifest = ota_fx_manifest(key, OTA_FX_KEY_ID, OTA_FX_DEVICE_TYPE, "2.0.0", new_img, NEW_LEN, url);
}

/* True if @p r sent the image to its end. */
static bool completes(const nginx_request_t *r) {
  unsigned long long from = 0;
  if (sscanf(r->range, "bytes=%llu-", &from) != 1) from = 0;
  return (r->status == 200 || r->status == 206) && r->bytes == NEW_LEN - from;
}

/* The logged requests of the completed run @p run (at most @p max) into @p
   out, once the one that sent the image to its end is logged (up to 10 s). */
static size_t run_requests(unsigned run, nginx_request_t *out, size_t max) {
  char args[32];
  snprintf(args, sizeof args, "run=%u", run);
  size_t k = 0;
  for (int wait = 0; wait < 1000 && (k == 0 || !completes(&out[k - 1])); wait++) {
    if (wait) test_msleep(10);
    /* The whole log: it grows by a few requests a trial. */
    size_t n = nginx_server_requests(srv, NULL, 0);
    nginx_request_t *all = calloc(n ? n : 1, sizeof(*all));
    cr_assert_not_null(all);
    size_t cap = n ? n : 1;
    n = nginx_server_requests(srv, all, cap);
    if (n > cap) n = cap; /* the log grew since it was counted: the rest is read on the next round */
    k = 0;
    for (size_t i = 0; i < n && k < max; i++) {
      if (strcmp(all[i].args, args) == 0) out[k++] = all[i];
    }
    free(all);
  }
  return k;
}

/* Trial @p t, cut at write @p k; returns a failure description or NULL. */
static const char *trial(unsigned t, unsigned k) {
  iotkit_hal_t *hal = ota_fx_hal(1u << 20, old_img, OLD_LEN);
  use_manifest(t + 1);
  progress = 0;
  iotkit_hal_memory_cut_power_at(hal, k);
  const char *fail = NULL;
  uint64_t delivered[16] = {0};
  int cuts = 0;
  bool done = false;
  for (int boot = 0; boot < 12 && !done && !fail; boot++) {
    iotkit_err_t rc = life(hal, &done);
    if (rc == IOTKIT_ERR_POWER_CUT) {
      if (cuts < 16) delivered[cuts] = progress;
      cuts++;
      iotkit_hal_memory_power_restore(hal);
    } else if (rc != IOTKIT_OK) {
      fail = iotkit_err_name(rc);
    }
    if (!done && !fail) {
      iotkit_err_t brc = iotkit_hal_boot(hal, 3, NULL);
      if (brc == IOTKIT_ERR_POWER_CUT) { /* the power went during the boot step itself: cycle again */
        cuts++;
        iotkit_hal_memory_power_restore(hal);
        brc = iotkit_hal_boot(hal, 3, NULL);
      }
      if (brc != IOTKIT_OK) fail = "boot failed";
      else if (!invariant(hal)) fail = "no confirmed image after boot";
    }
  }
  if (!fail && !done) fail = "update never completed";
  if (!fail && !invariant(hal)) fail = "final image wrong";
  iotkit_slot_info_t i;
  hal->slot_query(hal->ctx, &i);
  if (!fail && (i.active != 0 || !i.active_confirmed)) fail = "not running the new confirmed image";
  /* A resumed request starts at most one chunk before what the previous had delivered. */
  nginx_request_t e[16];
  size_t n = run_requests(t + 1, e, 16);
  if (!fail && (n == 0 || !completes(&e[n - 1]))) fail = "the request that completed the image is not in nginx's log";
  int cut_idx = 0;
  for (size_t r = 1; r < n && !fail; r++) {
    unsigned long long from = 0;
    if (sscanf(e[r].range, "bytes=%llu-", &from) != 1) from = 0;
    uint64_t before = cut_idx < cuts && cut_idx < 16 ? delivered[cut_idx] : 0;
    if (from > 0) resumed_checked++;
    if (before > from + CHUNK) fail = "a resumed request fetched more than one chunk again";
    cut_idx++;
  }
  iotkit_hal_free(hal);
  return fail;
}

Test(ota_campaign, power_cut_at_every_kind_of_write, .timeout = 1200) {
  old_img = ota_fx_image(OLD_LEN, 1);
  new_img = ota_fx_image(NEW_LEN, 2);
  iotkit_sha256(old_img, OLD_LEN, old_sha);
  iotkit_sha256(new_img, NEW_LEN, new_sha);
  iotkit_hal_t *keyhal = NULL;
  cr_assert_eq(iotkit_hal_memory_new(NULL, &keyhal), IOTKIT_OK);
  key = ota_fx_key(keyhal, IOTKIT_KEY_ED25519);
  cr_assert_eq(iotkit_ota_trust_new(&trust), IOTKIT_OK);
  cr_assert_eq(iotkit_ota_trust_add(trust, OTA_FX_KEY_ID, key), IOTKIT_OK);
  srv = nginx_server_new();
  cr_assert_not_null(srv);
  cr_assert(nginx_server_put(srv, "fw.bin", new_img, NEW_LEN));
  cr_assert(nginx_server_start(srv));
  use_manifest(0);

  const char *env = getenv("IOTKIT_OTA_TRIALS");
  unsigned trials = env && atoi(env) > 0 ? (unsigned)atoi(env) : 200;
  uint64_t writes = clean_run_writes();
  cr_assert_gt(writes, 10);
  /* Spread the cut points over every write of the update, plus a fixed-seed jitter. */
  unsigned failures = 0;
  uint32_t x = 12345;
  for (unsigned t = 0; t < trials; t++) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    unsigned k = 1 + (unsigned)((t * writes / trials + x % 3) % writes);
    const char *why = trial(t, k);
    if (why) {
      failures++;
      fprintf(stderr, "ota campaign: trial %u (cut at write %u of %llu): %s\n", t, k, (unsigned long long)writes,
              why);
    }
  }
  fprintf(stderr, "ota campaign: %u trials, %u failures (%llu writes per update, %u resumed requests checked)\n",
          trials, failures, (unsigned long long)writes, resumed_checked);
  cr_assert_eq(failures, 0);
  cr_assert_gt(resumed_checked, 0, "some cuts fell in the download and were resumed");

  iotkit_free(manifest);
  nginx_server_free(srv);
  iotkit_ota_trust_free(trust);
  iotkit_key_free(key);
  iotkit_hal_free(keyhal);
  free(old_img);
  free(new_img);
}
