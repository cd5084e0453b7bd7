/* Helpers for the envelope tests: a handle on a memory HAL and the nonce counter of an envelope. */
#ifndef TEST_CRYPTO_ENVELOPE_UTIL_H
#define TEST_CRYPTO_ENVELOPE_UTIL_H

#include "test_crypto_util.h"

/* The GCM specification's test case 15 key (tests/unit/test_crypto_aead.c). */
static const uint8_t ENV_KEY[32] = {0xfe, 0xff, 0xe9, 0x92, 0x86, 0x65, 0x73, 0x1c, 0x6d, 0x6a, 0x8f,
                                    0x94, 0x67, 0x30, 0x83, 0x08, 0xfe, 0xff, 0xe9, 0x92, 0x86, 0x65,
                                    0x73, 0x1c, 0x6d, 0x6a, 0x8f, 0x94, 0x67, 0x30, 0x83, 0x08};
static const char ENV_PAYLOAD[] = "{\"temperature\":21.5}";

static inline void env_config(iotkit_envelope_config_t *c, const iotkit_hal_t *hal) {
  iotkit_envelope_config_init(c);
  c->key = ENV_KEY;
  c->key_id = "k1";
  c->device_id = "dev-a";
  c->hal = hal;
}

static inline iotkit_envelope_t *env_make(const iotkit_envelope_config_t *c) {
  iotkit_envelope_t *env = NULL;
  cr_assert_eq(iotkit_envelope_new(c, &env), IOTKIT_OK);
  return env;
}

static inline iotkit_hal_t *env_hal(void) {
  iotkit_hal_t *hal = NULL;
  cr_assert_eq(iotkit_hal_memory_new(NULL, &hal), IOTKIT_OK);
  return hal;
}

/* Seal ENV_PAYLOAD on "telemetry"; returns the envelope length. */
static inline size_t env_seal(iotkit_envelope_t *env, uint8_t *out, size_t cap) {
  size_t n = 0;
  cr_assert_eq(iotkit_envelope_seal(env, "telemetry", ENV_PAYLOAD, strlen(ENV_PAYLOAD), out, cap, &n), IOTKIT_OK);
  cr_assert_eq(n, strlen(ENV_PAYLOAD) + IOTKIT_ENVELOPE_OVERHEAD(2));
  return n;
}

/* The 8-byte counter of an envelope whose key id is 2 bytes long. */
static inline uint64_t env_counter(const uint8_t *e) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = (v << 8) | e[2 + 2 + 4 + i];
  return v;
}

static inline uint32_t env_sender(const uint8_t *e) {
  return (uint32_t)e[4] << 24 | (uint32_t)e[5] << 16 | (uint32_t)e[6] << 8 | e[7];
}

/* The stored counter (block end), or UINT64_MAX if absent. */
static inline uint64_t env_stored(const iotkit_hal_t *hal) {
  uint8_t b[8];
  size_t n = 0;
  if (hal->kv_get(hal->ctx, "iotkit.envelope.k1", b, sizeof b, &n) != IOTKIT_OK) return UINT64_MAX;
  cr_assert_eq(n, 8);
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = (v << 8) | b[i];
  return v;
}

static inline void env_store(const iotkit_hal_t *hal, uint64_t v) {
  uint8_t b[8];
  for (int i = 7; i >= 0; i--, v >>= 8) b[i] = (uint8_t)v;
  cr_assert_eq(hal->kv_set(hal->ctx, "iotkit.envelope.k1", b, 8), IOTKIT_OK);
}

#endif
