/* Payload envelope internals shared by envelope.c and envelope_nonce.c. */
#ifndef IOTKIT__CRYPTO_ENVELOPE_H
#define IOTKIT__CRYPTO_ENVELOPE_H

#include <stdint.h>

#include "iotkit/crypto.h"

/* "iotkit.envelope." + key id + NUL fits the HAL's key limit. */
#define IOTKIT__ENV_KV_PREFIX "iotkit.envelope."
#define IOTKIT__ENV_KV_NAME_MAX (sizeof(IOTKIT__ENV_KV_PREFIX) + IOTKIT_ENVELOPE_MAX_KID)

struct iotkit_envelope {
  uint8_t key[IOTKIT_AES256GCM_KEY_LEN];
  char kid[IOTKIT_ENVELOPE_MAX_KID + 1];
  char device_id[IOTKIT_MAX_DEVICE_ID + 1];
  const iotkit_hal_t *hal;
  uint32_t sender;
  uint32_t block;
  uint64_t next;     /* counter of the next nonce */
  uint64_t reserved; /* end of the reserved block: next < reserved may be used */
};

/*
 * The next nonce: sender (4 bytes, big-endian) || counter (8 bytes,
 * big-endian). Reserves a new block in the store first when needed. On failure
 * no nonce is taken.
 */
iotkit_err_t iotkit__envelope_next_nonce(iotkit_envelope_t *env, uint8_t nonce[IOTKIT_AES256GCM_NONCE_LEN]);

#endif
