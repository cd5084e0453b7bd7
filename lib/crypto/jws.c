/* Compact JWS (RFC 7515) signing and verification with a caller-chosen algorithm and key. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto/internal.h"
#include "crypto/jwt.h"

const char *iotkit_jwt_alg_name(iotkit_jwt_alg_t alg) {
  switch (alg) {
    case IOTKIT_JWT_EDDSA: return "EdDSA";
    case IOTKIT_JWT_ES256: return "ES256";
    case IOTKIT_JWT_RS256: return "RS256";
  }
  return "?";
}

/* See crypto/jwt.h. */
bool iotkit__jwt_alg_params(iotkit_jwt_alg_t alg, iotkit_sig_alg_t *sig, iotkit_key_type_t *type) {
  switch (alg) {
    case IOTKIT_JWT_EDDSA: *sig = IOTKIT_SIG_ED25519, *type = IOTKIT_KEY_ED25519; return true;
    case IOTKIT_JWT_ES256: *sig = IOTKIT_SIG_ECDSA_P256_SHA256, *type = IOTKIT_KEY_P256; return true;
    case IOTKIT_JWT_RS256: *sig = IOTKIT_SIG_RSA_PKCS1_SHA256, *type = IOTKIT_KEY_RSA; return true;
  }
  return false;
}

/* Two members of one name would let two parsers see different values: refuse them. */
static bool has_duplicate_names(const cJSON *obj) {
  for (const cJSON *a = obj->child; a; a = a->next)
    for (const cJSON *b = a->next; b; b = b->next)
      if (strcmp(a->string, b->string) == 0) return true;
  return false;
}

cJSON *iotkit__jwt_parse_object(const char *text, size_t len) {
  if (memchr(text, '\0', len)) return NULL;
  /* len + 1 takes in the NUL at text[len], so that trailing bytes are an error. */
  cJSON *obj = cJSON_ParseWithLengthOpts(text, len + 1, NULL, true);
  if (obj && (!cJSON_IsObject(obj) || has_duplicate_names(obj))) {
    cJSON_Delete(obj);
    obj = NULL;
  }
  return obj;
}

/* Characters of unpadded base64url for n bytes. */
#define B64URL_LEN(n) (((n) * 4 + 2) / 3)

/* Append base64url(data) at out (capacity checked by the caller's sizing); returns chars written. */
static size_t put_b64url(char *out, const void *data, size_t len) {
  size_t n = 0;
  iotkit_base64url_encode(data, len, out, IOTKIT_BASE64_ENCODED_SIZE(len), &n);
  return n;
}

static char *header_json(iotkit_jwt_alg_t alg, const char *typ, const char *kid) {
  cJSON *h = cJSON_CreateObject();
  char *text = NULL;
  if (h && cJSON_AddStringToObject(h, "alg", iotkit_jwt_alg_name(alg)) &&
      (!typ || cJSON_AddStringToObject(h, "typ", typ)) && (!kid || cJSON_AddStringToObject(h, "kid", kid)))
    text = cJSON_PrintUnformatted(h);
  cJSON_Delete(h);
  return text;
}

iotkit_err_t iotkit_jws_sign(iotkit_jwt_alg_t alg, const iotkit_key_t *key, const char *typ, const char *kid,
                             const void *payload, size_t len, char **token) {
  iotkit_sig_alg_t sig_alg;
  iotkit_key_type_t type;
  if (!key || !IOTKIT__BUF_OK(payload, len) || !token || !iotkit__jwt_alg_params(alg, &sig_alg, &type))
    return IOTKIT_ERR_INVALID_ARG;
  if (iotkit_key_type(key) != type || !iotkit_key_has_private(key)) return IOTKIT_ERR_BAD_KEY;
  if (len > IOTKIT_JWT_MAX_LEN) return IOTKIT_ERR_TOO_LARGE;
  char *header = header_json(alg, typ, kid);
  if (!header) return IOTKIT_ERR_NOMEM;
  size_t hl = strlen(header), sig_cap = iotkit_key_signature_size(key);
  /* Never make a token that iotkit_jws_verify() would refuse for its size. */
  if (B64URL_LEN(hl) + 1 + B64URL_LEN(len) + 1 + B64URL_LEN(sig_cap) > IOTKIT_JWT_MAX_LEN) {
    cJSON_free(header);
    return IOTKIT_ERR_TOO_LARGE;
  }
  size_t cap = IOTKIT_BASE64_ENCODED_SIZE(hl) + IOTKIT_BASE64_ENCODED_SIZE(len) + IOTKIT_BASE64_ENCODED_SIZE(sig_cap);
  char *out = malloc(cap);
  uint8_t sig[IOTKIT_SIG_MAX_LEN];
  size_t sl = 0;
  iotkit_err_t rc = IOTKIT_ERR_NOMEM;
  if (out) {
    size_t n = put_b64url(out, header, hl);
    out[n++] = '.';
    n += put_b64url(out + n, payload, len);
    rc = iotkit_sign(key, sig_alg, out, n, sig, sizeof sig, &sl);
    if (rc == IOTKIT_OK) {
      out[n++] = '.';
      put_b64url(out + n, sig, sl);
      *token = out;
      out = NULL;
    }
  }
  free(out);
  cJSON_free(header);
  return rc;
}

/* Decode a base64url part into a malloc'd, NUL-terminated buffer. */
static iotkit_err_t decode_part(const char *b64, size_t len, uint8_t **out, size_t *out_len) {
  uint8_t *buf = malloc(IOTKIT_BASE64_DECODED_MAX(len) + 1);
  if (!buf) return IOTKIT_ERR_NOMEM;
  if (iotkit_base64url_decode(b64, len, buf, IOTKIT_BASE64_DECODED_MAX(len), out_len) != IOTKIT_OK) {
    free(buf);
    return IOTKIT_ERR_JWT_MALFORMED;
  }
  buf[*out_len] = '\0';
  *out = buf;
  return IOTKIT_OK;
}

/* Parse and check the protected header against the expected algorithm. */
static iotkit_err_t check_header(const char *b64, size_t len, iotkit_jwt_alg_t alg) {
  uint8_t *json = NULL;
  size_t n = 0;
  iotkit_err_t rc = decode_part(b64, len, &json, &n);
  if (rc != IOTKIT_OK) return rc;
  rc = IOTKIT_ERR_JWT_MALFORMED;
  cJSON *h = iotkit__jwt_parse_object((const char *)json, n);
  if (h) {
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(h, "alg");
    if (!cJSON_IsString(a))
      rc = IOTKIT_ERR_JWT_MALFORMED;
    else if (strcasecmp(a->valuestring, "none") == 0)
      rc = IOTKIT_ERR_JWT_ALG_NONE;
    else if (strcmp(a->valuestring, iotkit_jwt_alg_name(alg)) != 0)
      rc = IOTKIT_ERR_JWT_ALG;
    else if (cJSON_GetObjectItemCaseSensitive(h, "crit"))
      rc = IOTKIT_ERR_UNSUPPORTED; /* no extension is understood, so none may be critical */
    else
      rc = IOTKIT_OK;
  }
  cJSON_Delete(h);
  free(json);
  return rc;
}

iotkit_err_t iotkit_jws_verify(const char *token, iotkit_jwt_alg_t alg, const iotkit_key_t *key, char **payload,
                               size_t *payload_len) {
  iotkit_sig_alg_t sig_alg;
  iotkit_key_type_t type;
  if (!token || !key || !iotkit__jwt_alg_params(alg, &sig_alg, &type)) return IOTKIT_ERR_INVALID_ARG;
  if (iotkit_key_type(key) != type) return IOTKIT_ERR_BAD_KEY;
  size_t len = strnlen(token, IOTKIT_JWT_MAX_LEN + 1);
  if (len > IOTKIT_JWT_MAX_LEN) return IOTKIT_ERR_TOO_LARGE;
  const char *dot1 = memchr(token, '.', len);
  const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
  if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)) || dot1 == token)
    return IOTKIT_ERR_JWT_MALFORMED;
  iotkit_err_t rc = check_header(token, (size_t)(dot1 - token), alg);
  if (rc != IOTKIT_OK) return rc;
  uint8_t *sig = NULL, *body = NULL;
  size_t sig_len = 0, body_len = 0;
  rc = decode_part(dot2 + 1, len - (size_t)(dot2 + 1 - token), &sig, &sig_len);
  if (rc == IOTKIT_OK) rc = iotkit_verify(key, sig_alg, token, (size_t)(dot2 - token), sig, sig_len);
  if (rc == IOTKIT_OK) rc = decode_part(dot1 + 1, (size_t)(dot2 - dot1 - 1), &body, &body_len);
  free(sig);
  if (rc != IOTKIT_OK) return rc;
  if (payload_len) *payload_len = body_len;
  if (payload)
    *payload = (char *)body;
  else
    free(body);
  return IOTKIT_OK;
}
