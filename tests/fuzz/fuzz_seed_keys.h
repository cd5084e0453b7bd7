/* The envelope key of the fuzz targets and of fuzz_seeds.c (which seals the
   envelope seeds with it). */
#ifndef IOTKIT_FUZZ_SEED_KEYS_H
#define IOTKIT_FUZZ_SEED_KEYS_H

#include "fuzz_util.h"

#define FUZZ_ENVELOPE_KID "k1"
#define FUZZ_DEVICE_ID "sensor-1"

static inline iotkit_envelope_t *fuzz_envelope_new(iotkit_hal_t *hal) {
  static uint8_t key[IOTKIT_AES256GCM_KEY_LEN];
  memset(key, 0x42, sizeof key);
  iotkit_envelope_config_t ec;
  iotkit_envelope_config_init(&ec);
  ec.key = key;
  ec.key_id = FUZZ_ENVELOPE_KID;
  ec.device_id = FUZZ_DEVICE_ID;
  ec.hal = hal;
  iotkit_envelope_t *env = NULL;
  FUZZ_CHECK(iotkit_envelope_new(&ec, &env) == IOTKIT_OK);
  return env;
}

#endif
