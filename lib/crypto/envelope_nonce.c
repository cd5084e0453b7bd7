/*
 * Envelope nonces: a 64-bit counter persisted through the HAL key-value store
 * in blocks. The stored value is the end of the last reserved block (8 bytes,
 * big-endian): every counter below it may have been used, none at or above it
 * has. It is written before the first nonce of a block is handed out, so a
 * crash loses the rest of a block but never lets a counter be used twice.
 */
#include <stdio.h>
#include <string.h>

#include "crypto/envelope.h"

static void put_be64(uint8_t *p, uint64_t v) {
  for (int i = 7; i >= 0; i--, v >>= 8) p[i] = (uint8_t)v;
}

static uint64_t get_be64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
  return v;
}

/* The stored end of the last reserved block; 0 when nothing was stored yet. */
static iotkit_err_t read_stored(const iotkit_envelope_t *env, const char *name, uint64_t *out) {
  uint8_t buf[8];
  size_t len = 0;
  iotkit_err_t rc = env->hal->kv_get(env->hal->ctx, name, buf, sizeof buf, &len);
  if (rc == IOTKIT_ERR_NOT_FOUND) {
    *out = 0;
    return IOTKIT_OK;
  }
  if (rc == IOTKIT_ERR_BUFFER_TOO_SMALL || (rc == IOTKIT_OK && len != sizeof buf)) return IOTKIT_ERR_CORRUPT;
  if (rc == IOTKIT_OK) *out = get_be64(buf);
  return rc;
}

static iotkit_err_t reserve(iotkit_envelope_t *env) {
  char name[IOTKIT__ENV_KV_NAME_MAX];
  snprintf(name, sizeof name, "%s%s", IOTKIT__ENV_KV_PREFIX, env->kid);
  uint64_t stored = 0;
  iotkit_err_t rc = read_stored(env, name, &stored);
  if (rc != IOTKIT_OK) return rc;
  /* Another handle on this store may have reserved past us: start after it. */
  uint64_t base = stored > env->next ? stored : env->next;
  if (base > UINT64_MAX - env->block) return IOTKIT_ERR_STATE;
  uint8_t buf[8];
  put_be64(buf, base + env->block);
  rc = env->hal->kv_set(env->hal->ctx, name, buf, sizeof buf);
  if (rc != IOTKIT_OK) return rc;
  env->next = base;
  env->reserved = base + env->block;
  return IOTKIT_OK;
}

iotkit_err_t iotkit__envelope_next_nonce(iotkit_envelope_t *env, uint8_t nonce[IOTKIT_AES256GCM_NONCE_LEN]) {
  if (!env->hal || !env->hal->kv_get || !env->hal->kv_set) return IOTKIT_ERR_UNSUPPORTED;
  if (env->next >= env->reserved) {
    iotkit_err_t rc = reserve(env);
    if (rc != IOTKIT_OK) return rc;
  }
  for (int i = 3; i >= 0; i--) nonce[3 - i] = (uint8_t)(env->sender >> (8 * i));
  put_be64(nonce + 4, env->next++);
  return IOTKIT_OK;
}
