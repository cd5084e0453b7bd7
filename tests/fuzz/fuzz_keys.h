/* The fixed keys of the fuzz targets: the RFC 7515 examples the unit tests use
   (tests/unit/test_crypto_keys.h), so that seeds signed with them stay valid. */
#ifndef IOTKIT_FUZZ_KEYS_H
#define IOTKIT_FUZZ_KEYS_H

#include "fuzz_util.h"
#include "test_crypto_keys.h"

/* A trust store holding the RFC 7515 P-256 key as "k1". */
static inline iotkit_ota_trust_t *fuzz_trust_new(void) {
  iotkit_ota_trust_t *trust = NULL;
  FUZZ_CHECK(iotkit_ota_trust_new(&trust) == IOTKIT_OK);
  FUZZ_CHECK(iotkit_ota_trust_add_pem(trust, "k1", RFC7515_EC_PUB_PEM, strlen(RFC7515_EC_PUB_PEM)) == IOTKIT_OK);
  return trust;
}

/* An OTA client of a "sensor" running 1.0.0 that trusts @p trust; @p fetch (or NULL) downloads. */
static inline iotkit_ota_t *fuzz_ota_new(iotkit_hal_t *hal, const iotkit_ota_trust_t *trust,
                                         const iotkit_ota_fetcher_t *fetch) {
  iotkit_ota_config_t oc;
  iotkit_ota_config_init(&oc);
  oc.hal = hal;
  oc.trust = trust;
  oc.device_type = "sensor";
  oc.running_version = "1.0.0";
  if (fetch) oc.fetcher = *fetch;
  iotkit_ota_t *ota = NULL;
  FUZZ_CHECK(iotkit_ota_new(&oc, &ota) == IOTKIT_OK);
  return ota;
}

#endif
