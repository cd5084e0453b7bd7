/*
 * Sealed payload envelopes, format version 1 (docs/protocol.md, "Payload
 * envelope"): 0xE1 | kid_len | kid | nonce (12) | ciphertext | tag (16), with
 * associated data header || u16 len || device id || u16 len || channel.
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "crypto/envelope.h"
#include "crypto/internal.h"

/* Largest associated data: header, then two length-prefixed strings. */
#define AAD_MAX (2 + IOTKIT_ENVELOPE_MAX_KID + IOTKIT_AES256GCM_NONCE_LEN + 2 + IOTKIT_MAX_DEVICE_ID + 2 + \
                 IOTKIT_ENVELOPE_MAX_CHANNEL)

/* A parsed envelope: pointers into the caller's bytes. */
typedef struct parsed {
  size_t kid_len, hdr_len, ct_len;
  const uint8_t *kid, *nonce, *ct, *tag;
} parsed_t;

void iotkit_envelope_config_init(iotkit_envelope_config_t *cfg) {
  if (!cfg) return;
  memset(cfg, 0, sizeof *cfg);
  cfg->struct_size = sizeof(*cfg);
  cfg->nonce_block = IOTKIT_ENVELOPE_NONCE_BLOCK_DEFAULT;
}

iotkit_err_t iotkit_envelope_new(const iotkit_envelope_config_t *user_cfg, iotkit_envelope_t **out) {
  iotkit_envelope_config_t full;
  if (!user_cfg || IOTKIT__STRUCT_IN(full, iotkit_envelope_config_init, user_cfg, IOTKIT__ENVELOPE_CONFIG) != IOTKIT_OK)
    return IOTKIT_ERR_INVALID_ARG;
  const iotkit_envelope_config_t *cfg = &full;
  if (!out || !cfg->key || !iotkit__is_safe_name(cfg->key_id, IOTKIT_ENVELOPE_MAX_KID) ||
      !iotkit__is_safe_name(cfg->device_id, IOTKIT_MAX_DEVICE_ID) || cfg->nonce_block == 0 ||
      cfg->nonce_block > IOTKIT_ENVELOPE_NONCE_BLOCK_MAX)
    return IOTKIT_ERR_INVALID_ARG;
  iotkit_envelope_t *env = calloc(1, sizeof *env);
  if (!env) return IOTKIT_ERR_NOMEM;
  memcpy(env->key, cfg->key, sizeof env->key);
  strcpy(env->kid, cfg->key_id);
  strcpy(env->device_id, cfg->device_id);
  env->hal = cfg->hal;
  env->sender = cfg->sender;
  env->block = cfg->nonce_block;
  *out = env;
  return IOTKIT_OK;
}

void iotkit_envelope_free(iotkit_envelope_t *env) {
  if (!env) return;
  iotkit__memzero(env, sizeof *env);
  free(env);
}

/* 1..IOTKIT_ENVELOPE_MAX_CHANNEL bytes; returns the length or 0 if invalid. */
static size_t channel_len(const char *channel) {
  if (!channel) return 0;
  size_t n = strnlen(channel, IOTKIT_ENVELOPE_MAX_CHANNEL + 1);
  return n <= IOTKIT_ENVELOPE_MAX_CHANNEL ? n : 0;
}

static size_t put_str16(uint8_t *p, const char *s, size_t n) {
  p[0] = (uint8_t)(n >> 8);
  p[1] = (uint8_t)n;
  memcpy(p + 2, s, n);
  return 2 + n;
}

/* header || u16 len || device id || u16 len || channel, into aad (AAD_MAX bytes). */
static size_t build_aad(uint8_t *aad, const uint8_t *hdr, size_t hdr_len, const char *device_id, const char *channel,
                        size_t chan_len) {
  memcpy(aad, hdr, hdr_len);
  size_t n = hdr_len;
  n += put_str16(aad + n, device_id, strlen(device_id));
  n += put_str16(aad + n, channel, chan_len);
  return n;
}

iotkit_err_t iotkit_envelope_seal(iotkit_envelope_t *env, const char *channel, const void *pt, size_t len, void *out,
                                  size_t cap, size_t *out_len) {
  size_t clen = channel_len(channel);
  if (!env || !clen || !IOTKIT__BUF_OK(pt, len) || !IOTKIT__BUF_OK(out, cap) || !out_len)
    return IOTKIT_ERR_INVALID_ARG;
  size_t kid_len = strlen(env->kid), overhead = IOTKIT_ENVELOPE_OVERHEAD(kid_len);
  if (len > SIZE_MAX - overhead) return IOTKIT_ERR_TOO_LARGE;
  if (cap < len + overhead) {
    *out_len = len + overhead;
    return IOTKIT_ERR_BUFFER_TOO_SMALL;
  }
  uint8_t hdr[2 + IOTKIT_ENVELOPE_MAX_KID + IOTKIT_AES256GCM_NONCE_LEN];
  size_t hdr_len = 2 + kid_len + IOTKIT_AES256GCM_NONCE_LEN;
  hdr[0] = IOTKIT_ENVELOPE_V1;
  hdr[1] = (uint8_t)kid_len;
  memcpy(hdr + 2, env->kid, kid_len);
  iotkit_err_t rc = iotkit__envelope_next_nonce(env, hdr + 2 + kid_len);
  if (rc != IOTKIT_OK) return rc;
  uint8_t aad[AAD_MAX];
  size_t aad_len = build_aad(aad, hdr, hdr_len, env->device_id, channel, clen);
  uint8_t *o = out;
  rc = iotkit_aes256gcm_seal(env->key, hdr + 2 + kid_len, aad, aad_len, pt, len, o + hdr_len, o + hdr_len + len);
  if (rc != IOTKIT_OK) {
    iotkit__memzero(o, len + overhead);
    return rc;
  }
  memcpy(o, hdr, hdr_len);
  *out_len = len + overhead;
  return IOTKIT_OK;
}

/* Split a version 1 envelope; IOTKIT_ERR_BAD_ENCODING if it is not one. */
static iotkit_err_t parse(const uint8_t *in, size_t in_len, parsed_t *p) {
  if (in_len < 2 || in[0] != IOTKIT_ENVELOPE_V1) return IOTKIT_ERR_BAD_ENCODING;
  p->kid_len = in[1];
  if (p->kid_len == 0 || p->kid_len > IOTKIT_ENVELOPE_MAX_KID) return IOTKIT_ERR_BAD_ENCODING;
  if (in_len < IOTKIT_ENVELOPE_OVERHEAD(p->kid_len)) return IOTKIT_ERR_BAD_ENCODING;
  p->kid = in + 2;
  p->nonce = p->kid + p->kid_len;
  p->hdr_len = 2 + p->kid_len + IOTKIT_AES256GCM_NONCE_LEN;
  p->ct = in + p->hdr_len;
  p->ct_len = in_len - IOTKIT_ENVELOPE_OVERHEAD(p->kid_len);
  p->tag = p->ct + p->ct_len;
  return IOTKIT_OK;
}

iotkit_err_t iotkit_envelope_open(const iotkit_envelope_t *env, const char *channel, const void *in, size_t in_len,
                                  void *pt, size_t cap, size_t *pt_len) {
  size_t clen = channel_len(channel);
  if (!env || !clen || !IOTKIT__BUF_OK(in, in_len) || !IOTKIT__BUF_OK(pt, cap) || !pt_len)
    return IOTKIT_ERR_INVALID_ARG;
  parsed_t p;
  iotkit_err_t rc = parse(in, in_len, &p);
  if (rc != IOTKIT_OK) return rc;
  if (cap < p.ct_len) {
    *pt_len = p.ct_len;
    return IOTKIT_ERR_BUFFER_TOO_SMALL;
  }
  /* Another key id means another key: no plaintext, whatever the tag says. */
  if (p.kid_len != strlen(env->kid) || memcmp(p.kid, env->kid, p.kid_len) != 0) {
    if (p.ct_len) iotkit__memzero(pt, p.ct_len);
    return IOTKIT_ERR_CRYPTO_AUTH;
  }
  uint8_t aad[AAD_MAX];
  size_t aad_len = build_aad(aad, in, p.hdr_len, env->device_id, channel, clen);
  rc = iotkit_aes256gcm_open(env->key, p.nonce, aad, aad_len, p.ct, p.ct_len, p.tag, pt);
  if (rc == IOTKIT_OK) *pt_len = p.ct_len;
  return rc;
}

iotkit_err_t iotkit_envelope_peek_key_id(const void *in, size_t in_len, char *kid, size_t cap) {
  if (!in || !kid) return IOTKIT_ERR_INVALID_ARG;
  parsed_t p;
  iotkit_err_t rc = parse(in, in_len, &p);
  if (rc != IOTKIT_OK) return rc;
  char tmp[IOTKIT_ENVELOPE_MAX_KID + 1];
  memcpy(tmp, p.kid, p.kid_len);
  tmp[p.kid_len] = '\0';
  if (!iotkit__is_safe_name(tmp, IOTKIT_ENVELOPE_MAX_KID)) return IOTKIT_ERR_BAD_ENCODING;
  if (cap < p.kid_len + 1) return IOTKIT_ERR_BUFFER_TOO_SMALL;
  memcpy(kid, tmp, p.kid_len + 1);
  return IOTKIT_OK;
}
