/* End-to-end payload protection: sealing what the device sends and opening
   what it receives on its channels, with the envelope API (iotkit/crypto.h). */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "device/device_internal.h"
#include "iotkit/crypto.h"

iotkit_err_t iotkit__device_e2e_init(iotkit_device_t *dev, const iotkit_device_config_t *cfg) {
  if (!cfg->e2e_key && !cfg->e2e_key_id) return IOTKIT_OK;
  if (!cfg->e2e_key || !cfg->e2e_key_id) return IOTKIT_ERR_INVALID_ARG;
  iotkit_envelope_config_t ec;
  iotkit_envelope_config_init(&ec);
  ec.key = cfg->e2e_key;
  ec.key_id = cfg->e2e_key_id;
  ec.device_id = dev->device_id;
  ec.hal = dev->hal;
  iotkit_err_t err = iotkit_envelope_new(&ec, &dev->e2e);
  if (err == IOTKIT_OK) dev->e2e_overhead = IOTKIT_ENVELOPE_OVERHEAD(strlen(cfg->e2e_key_id));
  return err;
}

void iotkit__device_e2e_free(iotkit_device_t *dev) {
  iotkit_envelope_free(dev->e2e);
  dev->e2e = NULL;
}

/* The channel name bound into an envelope, or NULL for a channel that stays plain. */
static const char *e2e_channel(const iotkit_device_t *dev, const char *channel) {
  if (!dev->e2e || strcmp(channel, dev->status_channel) == 0) return NULL;
  size_t base = strlen(dev->channel_base);
  return strncmp(channel, dev->channel_base, base) == 0 ? channel + base : NULL;
}

iotkit_err_t iotkit__device_e2e_seal(iotkit_device_t *dev, iotkit_message_t *msg, void **sealed) {
  *sealed = NULL;
  const char *name = e2e_channel(dev, msg->channel);
  if (!name) return IOTKIT_OK;
  size_t cap = msg->len + dev->e2e_overhead, n = 0;
  void *out = malloc(cap);
  if (!out) return IOTKIT_ERR_NOMEM;
  iotkit_err_t err = iotkit_envelope_seal(dev->e2e, name, msg->payload, msg->len, out, cap, &n);
  if (err != IOTKIT_OK) {
    free(out);
    iotkit_hal_logf(dev->hal, IOTKIT_LOG_ERROR, "device %s: cannot seal a message for %s (%s)", dev->device_id,
                    name, iotkit_err_name(err));
    return err;
  }
  msg->payload = out;
  msg->len = n;
  *sealed = out;
  return IOTKIT_OK;
}

void iotkit__device_e2e_message(iotkit_device_t *dev, const char *channel, const void *payload, size_t len,
                                void (*deliver)(void *dev, const char *channel, const void *payload, size_t len)) {
  if (dev->closing) return;
  const char *name = e2e_channel(dev, channel);
  if (!name || len > dev->max_payload + dev->e2e_overhead) {
    deliver(dev, channel, payload, len); /* plain by design, or refused there (foreign, too large) */
    return;
  }
  size_t cap = len ? len : 1, n = 0;
  void *pt = malloc(cap);
  iotkit_err_t err = pt ? iotkit_envelope_open(dev->e2e, name, payload, len, pt, cap, &n) : IOTKIT_ERR_NOMEM;
  if (err == IOTKIT_OK) {
    deliver(dev, channel, pt, n); /* which applies max_payload to the plaintext */
  } else {
    iotkit__device_lock(dev);
    dev->e2e_rejected++;
    iotkit__device_unlock(dev);
    iotkit_hal_logf(dev->hal, IOTKIT_LOG_WARN,
                    "device %s: dropped a message of %zu bytes on %s: not an envelope that opens (%s)",
                    dev->device_id, len, channel, iotkit_err_name(err));
  }
  if (pt) iotkit__memzero(pt, cap); /* the plaintext does not outlive its delivery */
  free(pt);
}

uint64_t iotkit_device_e2e_rejected(const iotkit_device_t *dev) {
  if (!dev) return 0;
  iotkit__device_lock(dev);
  uint64_t n = dev->e2e_rejected;
  iotkit__device_unlock(dev);
  return n;
}
