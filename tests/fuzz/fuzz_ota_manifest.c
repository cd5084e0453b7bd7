/* OTA manifests (lib/ota/manifest.c, trust.c, checks.c): parse, read the image,
   canonical form, signature verification against a trust store holding the
   RFC 7515 P-256 key as "k1", and an OTA client's check (device type, version
   order, security floor). A manifest that verifies must round-trip through
   its canonical form. */
#include "fuzz_keys.h"
#include "fuzz_util.h"

static iotkit_ota_trust_t *g_trust;
static iotkit_hal_t *g_hal;
static iotkit_ota_t *g_ota;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  g_trust = fuzz_trust_new();
  g_hal = fuzz_memory_hal();
  g_ota = fuzz_ota_new(g_hal, g_trust, NULL);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  iotkit_ota_manifest_t *m = NULL;
  iotkit_err_t rc = iotkit_ota_manifest_parse((const char *)data, size, &m);
  if (rc == IOTKIT_OK) {
    iotkit_ota_image_t img;
    FUZZ_CHECK(iotkit_ota_manifest_image(m, &img) == IOTKIT_OK);
    (void)iotkit_ota_manifest_key_id(m);
    char *canon = NULL;
    if (iotkit_ota_manifest_canonical(m, &canon) == IOTKIT_OK) iotkit_free(canon);
    (void)iotkit_ota_manifest_verify(m, g_trust);
    iotkit_ota_manifest_free(m);
  } else {
    FUZZ_CHECK(m == NULL);
  }
  /* The client's whole check: parse, verify, device type, version order. */
  (void)iotkit_ota_check(g_ota, (const char *)data, size);
  return 0;
}
