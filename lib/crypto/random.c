/* Random bytes through the HAL and the constant-time compare. Backend-independent. */
#include "core/util.h"
#include "crypto/internal.h"

iotkit_err_t iotkit_crypto_random(const iotkit_hal_t *hal, void *buf, size_t len) {
  if (!hal || !IOTKIT__BUF_OK(buf, len)) return IOTKIT_ERR_INVALID_ARG;
  if (!hal->random) return IOTKIT_ERR_UNSUPPORTED;
  if (len == 0) return IOTKIT_OK;
  iotkit_err_t rc = hal->random(hal->ctx, buf, len);
  /* A failed source may have written a predictable prefix: never hand it out. */
  if (rc != IOTKIT_OK) iotkit__memzero(buf, len);
  return rc;
}

iotkit_err_t iotkit_aes256gcm_nonce(const iotkit_hal_t *hal, uint8_t nonce[IOTKIT_AES256GCM_NONCE_LEN]) {
  if (!nonce) return IOTKIT_ERR_INVALID_ARG;
  return iotkit_crypto_random(hal, nonce, IOTKIT_AES256GCM_NONCE_LEN);
}

bool iotkit_crypto_equal(const void *a, const void *b, size_t len) {
  if (len == 0) return true;
  if (!a || !b) return false;
  /* volatile keeps the compiler from turning the loop into an early-exit compare. */
  const volatile uint8_t *x = a, *y = b;
  uint8_t diff = 0;
  for (size_t i = 0; i < len; i++) diff |= (uint8_t)(x[i] ^ y[i]);
  return diff == 0;
}
