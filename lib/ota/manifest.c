/* OTA manifests: field rules, canonical form, strict JSON parsing and printing. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "ota/internal.h"

#define SIZE_MAX_JSON (1ull << 53) /* larger integers are not exact in JSON numbers */
#define CANONICAL_FMT \
  "iotkit-ota-manifest/1\ndevice_type:%s\nversion:%s\nsize:%" PRIu64 "\nsha256:%s\nurl:%s\nkey_id:%s\n"
#define JSON_FMT                                                                                     \
  "{\"device_type\":\"%s\",\"version\":\"%s\",\"size\":%" PRIu64 ",\"sha256\":\"%s\",\"url\":\"%s\"," \
  "\"key_id\":\"%s\",\"signature\":\"%s\"}"

/* RFC 3986 characters: none needs escaping in JSON, none is a line break. */
static bool url_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return c && strchr("-._~:/?#[]@!$&'()*+,;=%", c) != NULL;
}

static bool valid_url(const char *u) {
  if (!u) return false;
  size_t n = strlen(u);
  if (n == 0 || n > IOTKIT_OTA_MAX_URL) return false;
  for (size_t i = 0; i < n; i++)
    if (!url_char(u[i])) return false;
  static const char *const schemes[] = {"http://", "https://", "coap://", "coaps://"};
  for (size_t i = 0; i < IOTKIT__ARRAY_LEN(schemes); i++) {
    size_t k = strlen(schemes[i]);
    if (n > k && strncmp(u, schemes[i], k) == 0) return true;
  }
  return false;
}

iotkit_err_t iotkit__ota_image_check(const iotkit_ota_image_t *img, const char *key_id) {
  iotkit__semver_t v;
  if (!img || !iotkit__is_safe_name(img->device_type, IOTKIT_OTA_MAX_NAME) ||
      !iotkit__is_safe_name(key_id, IOTKIT_OTA_MAX_NAME) || !iotkit__ota_semver_parse(img->version, &v) ||
      img->size == 0 || img->size > SIZE_MAX_JSON || !valid_url(img->url))
    return IOTKIT_ERR_INVALID_ARG;
  return IOTKIT_OK;
}

static void hex(const uint8_t *in, size_t n, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 15];
  }
  out[2 * n] = '\0';
}

static bool unhex(const char *s, uint8_t *out, size_t n) {
  if (strlen(s) != 2 * n) return false;
  for (size_t i = 0; i < 2 * n; i++) {
    char c = s[i];
    int d = c >= '0' && c <= '9' ? c - '0' : (c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1);
    if (d < 0) return false; /* lower case only: one spelling per digest */
    out[i / 2] = (uint8_t)(i % 2 ? (out[i / 2] | d) : d << 4);
  }
  return true;
}

char *iotkit__ota_canonical(const iotkit_ota_image_t *img, const char *key_id) {
  char sha[2 * IOTKIT_SHA256_LEN + 1];
  hex(img->sha256, IOTKIT_SHA256_LEN, sha);
  int n = snprintf(NULL, 0, CANONICAL_FMT, img->device_type, img->version, img->size, sha, img->url, key_id);
  char *out = n < 0 ? NULL : malloc((size_t)n + 1);
  if (out) snprintf(out, (size_t)n + 1, CANONICAL_FMT, img->device_type, img->version, img->size, sha, img->url, key_id);
  return out;
}

iotkit_err_t iotkit_ota_manifest_image(const iotkit_ota_manifest_t *m, iotkit_ota_image_t *image) {
  if (!m || !image) return IOTKIT_ERR_INVALID_ARG;
  image->device_type = m->device_type;
  image->version = m->version;
  image->size = m->size;
  memcpy(image->sha256, m->sha256, IOTKIT_SHA256_LEN);
  image->url = m->url;
  return IOTKIT_OK;
}

const char *iotkit_ota_manifest_key_id(const iotkit_ota_manifest_t *m) { return m ? m->key_id : ""; }

iotkit_err_t iotkit_ota_manifest_canonical(const iotkit_ota_manifest_t *m, char **text) {
  if (!m || !text) return IOTKIT_ERR_INVALID_ARG;
  iotkit_ota_image_t img;
  iotkit_ota_manifest_image(m, &img);
  char *t = iotkit__ota_canonical(&img, m->key_id);
  if (!t) return IOTKIT_ERR_NOMEM;
  *text = t;
  return IOTKIT_OK;
}

void iotkit_ota_manifest_free(iotkit_ota_manifest_t *m) {
  if (!m) return;
  free(m->url);
  free(m);
}

static const char *const k_members[] = {"device_type", "version", "size", "sha256", "url", "key_id", "signature"};

/* Every member known, each exactly once, of the right JSON type. */
static bool members_ok(const cJSON *root) {
  int seen[IOTKIT__ARRAY_LEN(k_members)] = {0};
  for (const cJSON *it = root->child; it; it = it->next) {
    size_t i = 0;
    while (i < IOTKIT__ARRAY_LEN(k_members) && strcmp(it->string, k_members[i]) != 0) i++;
    if (i == IOTKIT__ARRAY_LEN(k_members) || seen[i]++) return false;
    if (i == 2 ? !cJSON_IsNumber(it) : !cJSON_IsString(it)) return false;
  }
  for (size_t i = 0; i < IOTKIT__ARRAY_LEN(k_members); i++)
    if (!seen[i]) return false;
  return true;
}

static bool copy_str(char *dst, size_t cap, const char *src) {
  size_t n = strlen(src);
  if (n >= cap) return false;
  memcpy(dst, src, n + 1);
  return true;
}

static iotkit_err_t fill(const cJSON *root, iotkit_ota_manifest_t *m) {
  const char *sig = cJSON_GetObjectItemCaseSensitive(root, "signature")->valuestring;
  double size = cJSON_GetObjectItemCaseSensitive(root, "size")->valuedouble;
  if (!copy_str(m->device_type, sizeof(m->device_type),
                cJSON_GetObjectItemCaseSensitive(root, "device_type")->valuestring) ||
      !copy_str(m->version, sizeof(m->version), cJSON_GetObjectItemCaseSensitive(root, "version")->valuestring) ||
      !copy_str(m->key_id, sizeof(m->key_id), cJSON_GetObjectItemCaseSensitive(root, "key_id")->valuestring) ||
      !unhex(cJSON_GetObjectItemCaseSensitive(root, "sha256")->valuestring, m->sha256, IOTKIT_SHA256_LEN) ||
      !(size >= 1 && size <= (double)SIZE_MAX_JSON && size == (double)(uint64_t)size))
    return IOTKIT_ERR_OTA_MANIFEST;
  m->size = (uint64_t)size;
  m->url = iotkit__strdup(cJSON_GetObjectItemCaseSensitive(root, "url")->valuestring);
  if (!m->url) return IOTKIT_ERR_NOMEM;
  if (iotkit_base64url_decode(sig, strlen(sig), m->sig, sizeof(m->sig), &m->sig_len) != IOTKIT_OK ||
      m->sig_len != IOTKIT_SIG_EC_LEN)
    return IOTKIT_ERR_OTA_MANIFEST;
  iotkit_ota_image_t img;
  iotkit_ota_manifest_image(m, &img);
  return iotkit__ota_image_check(&img, m->key_id) == IOTKIT_OK ? IOTKIT_OK : IOTKIT_ERR_OTA_MANIFEST;
}

iotkit_err_t iotkit_ota_manifest_parse(const char *json, size_t len, iotkit_ota_manifest_t **out) {
  if (!json || !out) return IOTKIT_ERR_INVALID_ARG;
  if (len > IOTKIT__OTA_MANIFEST_MAX || memchr(json, '\0', len)) return IOTKIT_ERR_OTA_MANIFEST;
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, false);
  iotkit_err_t rc = IOTKIT_ERR_OTA_MANIFEST;
  bool trailing = false;
  for (const char *p = end; root && p && p < json + len; p++) trailing = trailing || !strchr(" \t\r\n", *p);
  iotkit_ota_manifest_t *m = NULL;
  if (root && !trailing && cJSON_IsObject(root) && members_ok(root)) {
    m = calloc(1, sizeof(*m));
    rc = m ? fill(root, m) : IOTKIT_ERR_NOMEM;
  }
  cJSON_Delete(root);
  if (rc != IOTKIT_OK) {
    iotkit_ota_manifest_free(m);
    return rc;
  }
  *out = m;
  return IOTKIT_OK;
}

iotkit_err_t iotkit_ota_manifest_sign(const iotkit_ota_image_t *image, const iotkit_key_t *key, const char *key_id,
                                      char **json) {
  if (!image || !key || !json || iotkit__ota_image_check(image, key_id) != IOTKIT_OK)
    return IOTKIT_ERR_INVALID_ARG;
  iotkit_sig_alg_t alg = iotkit__ota_sig_alg(key);
  if (!alg || !iotkit_key_has_private(key)) return IOTKIT_ERR_BAD_KEY;
  char *canon = iotkit__ota_canonical(image, key_id);
  if (!canon) return IOTKIT_ERR_NOMEM;
  uint8_t sig[IOTKIT_SIG_EC_LEN];
  size_t sig_len = 0;
  iotkit_err_t rc = iotkit_sign(key, alg, canon, strlen(canon), sig, sizeof(sig), &sig_len);
  free(canon);
  if (rc != IOTKIT_OK) return rc;
  char sig64[IOTKIT_BASE64_ENCODED_SIZE(IOTKIT_SIG_EC_LEN)], sha[2 * IOTKIT_SHA256_LEN + 1];
  rc = iotkit_base64url_encode(sig, sig_len, sig64, sizeof(sig64), NULL);
  if (rc != IOTKIT_OK) return rc;
  hex(image->sha256, IOTKIT_SHA256_LEN, sha);
  /* Every field is restricted to characters JSON carries unescaped, so printing is exact. */
  int n = snprintf(NULL, 0, JSON_FMT, image->device_type, image->version, image->size, sha, image->url, key_id, sig64);
  char *out = n < 0 ? NULL : malloc((size_t)n + 1);
  if (!out) return IOTKIT_ERR_NOMEM;
  snprintf(out, (size_t)n + 1, JSON_FMT, image->device_type, image->version, image->size, sha, image->url, key_id, sig64);
  *json = out;
  return IOTKIT_OK;
}

iotkit_err_t iotkit_ota_manifest_verify(const iotkit_ota_manifest_t *m, const iotkit_ota_trust_t *trust) {
  if (!m || !trust) return IOTKIT_ERR_INVALID_ARG;
  const iotkit_key_t *key = iotkit__ota_trust_find(trust, m->key_id);
  if (!key) return IOTKIT_ERR_OTA_UNKNOWN_KEY;
  char *canon = NULL;
  iotkit_err_t rc = iotkit_ota_manifest_canonical(m, &canon);
  if (rc != IOTKIT_OK) return rc;
  rc = iotkit_verify(key, iotkit__ota_sig_alg(key), canon, strlen(canon), m->sig, m->sig_len);
  free(canon);
  if (rc == IOTKIT_ERR_BAD_SIGNATURE || rc == IOTKIT_ERR_BAD_KEY) return IOTKIT_ERR_OTA_SIGNATURE;
  return rc;
}
