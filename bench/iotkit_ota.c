#define _POSIX_C_SOURCE 200809L
/* OTA download benchmark, libiotkit side: sign a manifest for an image already
 * served at URL, then time iotkit_ota_start() (signature and the other checks)
 * + iotkit_ota_run() (streaming download, SHA-256 on the fly, writes into the
 * POSIX HAL's inactive slot with its checkpoints, final hash and signature
 * check, slot marked pending). Prints the time and the peak RSS of the process.
 *
 *   bench_iotkit_ota URL SIZE SHA256_HEX STATE_DIR [CHUNK_BYTES] [CHECKPOINT_CHUNKS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <iotkit/iotkit.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool defer(iotkit_ota_t *ota, void *user) {
  (void)ota, (void)user;
  return false;
}

static int fail(const char *what, iotkit_err_t rc) {
  fprintf(stderr, "bench_iotkit_ota: %s: %s (%s)\n", what, iotkit_strerror(rc), iotkit_err_name(rc));
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s URL SIZE SHA256_HEX STATE_DIR [CHUNK_BYTES] [CHECKPOINT_CHUNKS]\n", argv[0]);
    return 2;
  }
  iotkit_ota_image_t img = {.device_type = "bench", .version = "2.0.0", .url = argv[1]};
  img.size = strtoull(argv[2], NULL, 10);
  for (int i = 0; i < IOTKIT_SHA256_LEN; i++) {
    unsigned v = 0;
    if (sscanf(argv[3] + 2 * i, "%2x", &v) != 1) return fail("sha256", IOTKIT_ERR_INVALID_ARG);
    img.sha256[i] = (uint8_t)v;
  }
  iotkit_hal_posix_config_t pc;
  iotkit_hal_posix_config_init(&pc);
  pc.state_dir = argv[4];
  pc.slot_capacity = img.size + 1;
  pc.log_level = IOTKIT_LOG_WARN;
  iotkit_hal_t *hal = NULL;
  iotkit_err_t rc = iotkit_hal_posix_new(&pc, &hal);
  if (rc != IOTKIT_OK) return fail("HAL", rc);
  iotkit_key_t *key = NULL;
  iotkit_ota_trust_t *trust = NULL;
  char *manifest = NULL;
  rc = iotkit_key_generate(hal, IOTKIT_KEY_ED25519, &key);
  if (rc == IOTKIT_OK) rc = iotkit_ota_manifest_sign(&img, key, "bench", &manifest);
  if (rc == IOTKIT_OK) rc = iotkit_ota_trust_new(&trust);
  if (rc == IOTKIT_OK) rc = iotkit_ota_trust_add(trust, "bench", key);
  if (rc != IOTKIT_OK) return fail("manifest", rc);
  iotkit_ota_config_t oc;
  iotkit_ota_config_init(&oc);
  oc.hal = hal;
  oc.trust = trust;
  oc.device_type = "bench";
  oc.running_version = "1.0.0";
  oc.on_reboot = defer;
  if (argc > 5) oc.chunk_size = strtoul(argv[5], NULL, 10); /* else the library's defaults */
  if (argc > 6) oc.checkpoint_chunks = (unsigned)strtoul(argv[6], NULL, 10);
  iotkit_ota_t *ota = NULL;
  rc = iotkit_ota_new(&oc, &ota);
  if (rc != IOTKIT_OK) return fail("ota_new", rc);
  double t0 = now_s();
  rc = iotkit_ota_start(ota, manifest, strlen(manifest));
  if (rc == IOTKIT_OK) rc = iotkit_ota_run(ota);
  double t1 = now_s();
  if (rc != IOTKIT_OK) return fail("update", rc);
  iotkit_ota_status_t st;
  iotkit_ota_status(ota, &st);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("iotkit seconds=%.3f state=%s bytes=%llu chunk=%zu checkpoint_chunks=%u maxrss_kib=%ld\n", t1 - t0,
         iotkit_ota_state_name(st.state), (unsigned long long)st.bytes, oc.chunk_size, oc.checkpoint_chunks,
         ru.ru_maxrss);
  iotkit_ota_free(ota);
  iotkit_ota_trust_free(trust);
  iotkit_key_free(key);
  iotkit_free(manifest);
  iotkit_hal_free(hal);
  return st.state == IOTKIT_OTA_PENDING ? 0 : 1;
}
