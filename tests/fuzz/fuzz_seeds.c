/* Writes the seeds that need the fuzz targets' fixed keys: signed JWTs and
   JWSs (fuzz_jwt), a signed OTA manifest (fuzz_ota_manifest and, as an
   ota/manifest message, fuzz_device_channels), sealed envelopes (fuzz_envelope
   and, end to end, fuzz_device_channels). Run by hand when a format changes:
     build/fuzz/tests/fuzz/fuzz_seeds tests/fuzz/corpus
   Signatures are randomised (ECDSA), so each run writes different bytes. */
#include <errno.h>
#include <sys/stat.h>

#include "fuzz_seed_keys.h"
#include "hal/hal_internal.h"
#include "test_crypto_keys.h"

static const char *g_root;

static void put(const char *target, const char *name, const void *a, size_t alen, const void *b, size_t blen) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", g_root, target);
  if (mkdir(path, 0755) != 0 && errno != EEXIST) FUZZ_CHECK(0);
  snprintf(path, sizeof path, "%s/%s/%s", g_root, target, name);
  FILE *f = fopen(path, "wb");
  FUZZ_CHECK(f != NULL);
  FUZZ_CHECK(fwrite(a, 1, alen, f) == alen && (blen == 0 || fwrite(b, 1, blen, f) == blen));
  fclose(f);
}

static char *jwt(iotkit_jwt_alg_t alg, const iotkit_key_t *key) {
  iotkit_jwt_claims_t *c = NULL;
  FUZZ_CHECK(iotkit_jwt_claims_new(&c) == IOTKIT_OK);
  FUZZ_CHECK(iotkit_jwt_claims_set_string(c, "sub", FUZZ_DEVICE_ID) == IOTKIT_OK);
  FUZZ_CHECK(iotkit_jwt_claims_set_string(c, "aud", "iotkit") == IOTKIT_OK);
  FUZZ_CHECK(iotkit_jwt_claims_set_int(c, "iat", 1700000000) == IOTKIT_OK);
  FUZZ_CHECK(iotkit_jwt_claims_set_int(c, "exp", 1700003600) == IOTKIT_OK);
  FUZZ_CHECK(iotkit_jwt_claims_set_json(c, "scope", "[\"telemetry\",{\"a\":1.5}]") == IOTKIT_OK);
  char *token = NULL;
  FUZZ_CHECK(iotkit_jwt_create(c, alg, key, "k1", &token) == IOTKIT_OK);
  iotkit_jwt_claims_free(c);
  return token;
}

/* A device channel message of fuzz_device_channels: [selector][length LE16][payload]. */
static void device_msg(const char *name, unsigned sel, const void *p, size_t len) {
  uint8_t hdr[3] = {(uint8_t)sel, (uint8_t)(len & 0xff), (uint8_t)(len >> 8)};
  put("fuzz_device_channels", name, hdr, 3, p, len);
}

/* A store written by the queue itself (fuzz_queue_store's format): records, an ack, a requeue. */
static void queue_store(void) {
  iotkit_hal_memory_config_t mc;
  iotkit_hal_memory_config_init(&mc);
  iotkit_hal_t *hal = NULL;
  FUZZ_CHECK(iotkit_hal_memory_new(&mc, &hal) == IOTKIT_OK);
  iotkit_telemetry_queue_config_t c;
  iotkit_telemetry_queue_config_init(&c);
  c.hal = hal;
  c.max_bytes = 64u * 1024u;
  c.segment_bytes = 4096u;
  iotkit_telemetry_queue_t *q = NULL;
  FUZZ_CHECK(iotkit_telemetry_queue_open(&c, &q) == IOTKIT_OK);
  char rec[64];
  for (int i = 0; i < 40; i++) {
    uint64_t seq = 0;
    FUZZ_CHECK(iotkit_telemetry_queue_next_seq(q, &seq) == IOTKIT_OK);
    int n = snprintf(rec, sizeof rec, "{\"ver\":1,\"seq\":%d,\"points\":[{\"n\":\"t\",\"i\":%d}]}", (int)seq, i);
    FUZZ_CHECK(iotkit_telemetry_queue_append(q, seq, rec, (size_t)n) == IOTKIT_OK);
    if (i % 3 == 0) {
      uint8_t *p = NULL;
      size_t len = 0;
      FUZZ_CHECK(iotkit_telemetry_queue_next(q, &seq, &p, &len) == IOTKIT_OK);
      iotkit_free(p);
      FUZZ_CHECK(iotkit_telemetry_queue_ack(q, seq) == IOTKIT_OK);
    }
  }
  FUZZ_CHECK(iotkit_telemetry_queue_sync(q) == IOTKIT_OK);
  iotkit_telemetry_queue_close(q);
  uint32_t ids[8];
  size_t count = 0;
  FUZZ_CHECK(hal->seg_list(hal->ctx, "telemetry", ids, 8, &count) == IOTKIT_OK && count >= 1 && count <= 3);
  FUZZ_CHECK(ids[0] >= 1 && ids[0] <= 4);
  uint8_t seqv[64];
  size_t seqlen = 0;
  if (hal->kv_get(hal->ctx, "telemetry.seq", seqv, sizeof seqv, &seqlen) != IOTKIT_OK) seqlen = 0;
  static uint8_t out[3 * 4096 + 64 + 16];
  size_t n = 0;
  out[n++] = (uint8_t)((seqlen ? 0x80 : 0) | (ids[0] - 1) << 4);
  out[n++] = (uint8_t)seqlen;
  memcpy(out + n, seqv, seqlen);
  n += seqlen;
  for (size_t i = 0; i < count; i++) {
    uint64_t size = 0;
    FUZZ_CHECK(hal->seg_size(hal->ctx, "telemetry", ids[i], &size) == IOTKIT_OK && size <= 4096);
    out[n++] = (uint8_t)(size & 0xff);
    out[n++] = (uint8_t)(size >> 8);
    size_t got = 0;
    FUZZ_CHECK(hal->seg_read(hal->ctx, "telemetry", ids[i], 0, out + n, (size_t)size, &got) == IOTKIT_OK);
    n += got;
  }
  put("fuzz_queue_store", "written", out, n, NULL, 0);
  iotkit_hal_free(hal);
}

/* Boot records as the HALs write them (fuzz_boot_record's forms 0 and 1). */
static void boot_records(void) {
  iotkit__hal_boot_record_t r;
  iotkit__hal_boot_record_init(&r);
  uint8_t one[1 + IOTKIT__HAL_BOOT_RECORD_SIZE] = {0};
  iotkit__hal_boot_record_encode(&r, one + 1);
  put("fuzz_boot_record", "bare_factory", one, sizeof one, NULL, 0);
  uint8_t two[1 + 2 * IOTKIT__HAL_BOOT_COPY_SIZE] = {1};
  iotkit__hal_boot_copy_encode(&r, 6, two + 1);
  r.pending = 1;
  r.confirmed = false;
  r.trial_boots = 1;
  r.size[1] = 4096;
  iotkit__hal_boot_copy_encode(&r, 7, two + 1 + IOTKIT__HAL_BOOT_COPY_SIZE);
  put("fuzz_boot_record", "two_copies_trial", two, sizeof two, NULL, 0);
  two[0] = 0x31; /* confirm, then revert */
  put("fuzz_boot_record", "two_copies_confirm_revert", two, sizeof two, NULL, 0);
}

int main(int argc, char **argv) {
  FUZZ_CHECK(argc == 2);
  g_root = argv[1];
  iotkit_key_t *ec = NULL, *rsa = NULL;
  FUZZ_CHECK(iotkit_key_load(RFC7515_EC_PRIV_PEM, strlen(RFC7515_EC_PRIV_PEM), &ec) == IOTKIT_OK);
  FUZZ_CHECK(iotkit_key_load(RFC7515_RSA_PRIV_PEM, strlen(RFC7515_RSA_PRIV_PEM), &rsa) == IOTKIT_OK);

  char *t = jwt(IOTKIT_JWT_ES256, ec);
  put("fuzz_jwt", "jwt_es256", t, strlen(t), NULL, 0);
  iotkit_free(t);
  t = jwt(IOTKIT_JWT_RS256, rsa);
  put("fuzz_jwt", "jwt_rs256", t, strlen(t), NULL, 0);
  iotkit_free(t);
  static const char payload[] = "{\"hello\":\"world\"}";
  FUZZ_CHECK(iotkit_jws_sign(IOTKIT_JWT_ES256, ec, "JOSE", "k1", payload, sizeof payload - 1, &t) == IOTKIT_OK);
  put("fuzz_jwt", "jws_es256", t, strlen(t), NULL, 0);
  iotkit_free(t);

  iotkit_ota_image_t img;
  memset(&img, 0, sizeof img);
  img.device_type = "sensor";
  img.version = "1.2.0-rc.1+build.5";
  img.size = 4096;
  memset(img.sha256, 0xab, sizeof img.sha256);
  img.url = "https://updates.example.com/sensor/1.2.0.bin";
  char *manifest = NULL;
  FUZZ_CHECK(iotkit_ota_manifest_sign(&img, ec, "k1", &manifest) == IOTKIT_OK);
  put("fuzz_ota_manifest", "signed", manifest, strlen(manifest), NULL, 0);
  device_msg("ota_manifest_signed", 2, manifest, strlen(manifest));
  iotkit_free(manifest);
  img.url = "coaps://[::1]:5684/fw/sensor?v=2";
  img.version = "0.9.0";
  FUZZ_CHECK(iotkit_ota_manifest_sign(&img, ec, "k1", &manifest) == IOTKIT_OK);
  put("fuzz_ota_manifest", "signed_older_coaps", manifest, strlen(manifest), NULL, 0);
  iotkit_free(manifest);

  iotkit_hal_memory_config_t mc;
  iotkit_hal_memory_config_init(&mc);
  iotkit_hal_t *hal = NULL;
  FUZZ_CHECK(iotkit_hal_memory_new(&mc, &hal) == IOTKIT_OK);
  iotkit_envelope_t *env = fuzz_envelope_new(hal);
  static const struct {
    const char *channel, *pt, *name;
    unsigned env_sel, dev_sel;
  } sealed[] = {
      {"commands/request", "{\"id\":\"c1\",\"name\":\"echo\",\"params\":{\"x\":[1,2]}}", "commands", 0, 0x81},
      {"state/desired", "{\"version\":3,\"state\":{\"led\":true,\"rate\":{\"hz\":5}}}", "desired", 1, 0x80},
      {"telemetry", "{\"temp\":21.5}", "telemetry", 2, 0x83},
  };
  for (size_t i = 0; i < sizeof sealed / sizeof sealed[0]; i++) {
    uint8_t out[1024];
    size_t n = 0;
    FUZZ_CHECK(iotkit_envelope_seal(env, sealed[i].channel, sealed[i].pt, strlen(sealed[i].pt), out, sizeof out, &n) ==
               IOTKIT_OK);
    uint8_t sel = (uint8_t)sealed[i].env_sel;
    put("fuzz_envelope", sealed[i].name, &sel, 1, out, n);
    char name[64];
    snprintf(name, sizeof name, "e2e_%s", sealed[i].name);
    device_msg(name, sealed[i].dev_sel, out, n);
  }
  iotkit_envelope_free(env);
  iotkit_hal_free(hal);
  queue_store();
  boot_records();
  iotkit_key_free(ec);
  iotkit_key_free(rsa);
  return 0;
}
