/*
 * End-to-end protection on the fleet side: opening what a device sealed
 * (sender 0) and sealing what the fleet sends it (sender 1), with the key the
 * configuration's key callback gives for that device, asked for each message
 * and wiped after it. The nonce counter of sender 1 lives in the fleet's HAL
 * key-value store; seals run one at a time (seal_lock), each on a fresh
 * envelope handle that reserves one nonce, so that no two seals can take the
 * same counter. See fleet_control.h.
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "fleet/control.h"
#include "fleet/fleet_internal.h"
#include "iotkit/crypto.h"

#define SENDER_FLEET 1u

static void reject(iotkit_fleet_t *f, const char *id, const char *suffix, size_t len, iotkit_err_t why) {
  f->hal->mutex_lock(f->hal->ctx, f->ctl->lock);
  f->ctl->stats.e2e_rejected++;
  f->ctl->stats.e2e_last_error = why;
  f->hal->mutex_unlock(f->hal->ctx, f->ctl->lock);
  iotkit__fleet_set_error(f, "dropped a %s message from %s: it does not open (%s)", suffix, id, iotkit_err_name(why));
  /* Never the payload, nor the key. */
  iotkit_hal_logf(f->hal, IOTKIT_LOG_WARN, "fleet: dropped a %s message of %zu bytes from %s: not an envelope that opens (%s)",
                  suffix, len, id, iotkit_err_name(why));
}

/* Ask the key callback; NOT_FOUND means "no key". */
static iotkit_err_t key_for(iotkit_fleet_t *f, const char *id, const char *kid, uint8_t key[32], char kid_out[33]) {
  kid_out[0] = '\0';
  iotkit_err_t err = f->key_cb(f, f->key_user, id, kid, key, kid_out);
  kid_out[32] = '\0';
  return err;
}

/* An envelope handle for device @p id under @p key: to open, or (@p seal) to seal as
   sender 1, reserving one nonce per seal in the fleet's HAL store. */
static iotkit_err_t envelope(iotkit_fleet_t *f, const char *id, const char *kid, const uint8_t *key, bool seal,
                             iotkit_envelope_t **env) {
  iotkit_envelope_config_t ec;
  iotkit_envelope_config_init(&ec);
  ec.key = key;
  ec.key_id = kid;
  ec.device_id = id;
  if (seal) {
    ec.hal = f->hal;
    ec.sender = SENDER_FLEET;
    ec.nonce_block = 1;
  }
  return iotkit_envelope_new(&ec, env);
}

iotkit_err_t iotkit__fleet_e2e_in(iotkit_fleet_t *f, const char *id, const char *suffix, const void *payload,
                                  size_t len, void **plain, size_t *plain_len) {
  *plain = NULL;
  if (!f->key_cb) return IOTKIT_OK; /* no keys: a sealed message is undecodable for its channel */
  uint8_t key[32];
  char kid[IOTKIT_ENVELOPE_MAX_KID + 1], kid_out[33];
  bool sealed = len > 0 && ((const uint8_t *)payload)[0] == IOTKIT_ENVELOPE_V1;
  iotkit_err_t err;
  if (!sealed) {
    /* Plain is fine from a device without a key; from one with a key it is what an
       envelope_open would refuse (not an envelope), as the device itself does. */
    err = key_for(f, id, NULL, key, kid_out);
    iotkit__memzero(key, sizeof key);
    if (err == IOTKIT_ERR_NOT_FOUND) return IOTKIT_OK;
    if (err == IOTKIT_OK) err = IOTKIT_ERR_BAD_ENCODING;
    reject(f, id, suffix, len, err);
    return err;
  }
  err = iotkit_envelope_peek_key_id(payload, len, kid, sizeof kid);
  if (err == IOTKIT_OK) err = key_for(f, id, kid, key, kid_out);
  iotkit_envelope_t *env = NULL;
  if (err == IOTKIT_OK) err = envelope(f, id, kid, key, false, &env);
  iotkit__memzero(key, sizeof key);
  void *pt = NULL;
  size_t n = 0;
  if (err == IOTKIT_OK && !(pt = malloc(len))) err = IOTKIT_ERR_NOMEM;
  if (err == IOTKIT_OK) err = iotkit_envelope_open(env, suffix, payload, len, pt, len, &n);
  iotkit_envelope_free(env);
  if (err != IOTKIT_OK) {
    if (pt) iotkit__memzero(pt, len);
    free(pt);
    reject(f, id, suffix, len, err);
    return err;
  }
  iotkit__fleet_ctl_count(f, &f->ctl->stats.e2e_opened);
  *plain = pt;
  *plain_len = n;
  return IOTKIT_OK;
}

iotkit_err_t iotkit__fleet_e2e_seal(iotkit_fleet_t *f, const char *id, const char *suffix, const void *pt,
                                    size_t len, void **out, size_t *out_len) {
  *out = NULL;
  if (!f->key_cb) return IOTKIT_OK;
  uint8_t key[32];
  char kid[33];
  iotkit_err_t err = key_for(f, id, NULL, key, kid);
  if (err == IOTKIT_ERR_NOT_FOUND) {
    iotkit__memzero(key, sizeof key);
    return IOTKIT_OK; /* the device does not use protection */
  }
  iotkit_envelope_t *env = NULL;
  if (err == IOTKIT_OK) err = envelope(f, id, kid, key, true, &env);
  iotkit__memzero(key, sizeof key);
  size_t cap = len + IOTKIT_ENVELOPE_MAX_OVERHEAD, n = 0;
  void *buf = NULL;
  if (err == IOTKIT_OK && !(buf = malloc(cap))) err = IOTKIT_ERR_NOMEM;
  if (err == IOTKIT_OK) {
    f->hal->mutex_lock(f->hal->ctx, f->ctl->seal_lock);
    err = iotkit_envelope_seal(env, suffix, pt, len, buf, cap, &n);
    f->hal->mutex_unlock(f->hal->ctx, f->ctl->seal_lock);
  }
  iotkit_envelope_free(env);
  if (err != IOTKIT_OK) {
    free(buf);
    iotkit__fleet_set_error(f, "cannot seal a %s message for %s: %s", suffix, id, iotkit_err_name(err));
    iotkit_hal_logf(f->hal, IOTKIT_LOG_ERROR, "fleet: cannot seal a %s message for %s (%s)", suffix, id,
                    iotkit_err_name(err));
    return err;
  }
  iotkit__fleet_ctl_count(f, &f->ctl->stats.e2e_sealed);
  *out = buf;
  *out_len = n;
  return IOTKIT_OK;
}
