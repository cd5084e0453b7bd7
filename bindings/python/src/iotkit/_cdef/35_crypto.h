/* crypto.h: hashing, HMAC, HKDF, AES-256-GCM, random, base64, keys,
 * signatures, JWS/JWT, the device JWT provider, payload envelopes. */
#define IOTKIT_SHA256_LEN 32
#define IOTKIT_AES256GCM_KEY_LEN 32
#define IOTKIT_AES256GCM_NONCE_LEN 12
#define IOTKIT_AES256GCM_TAG_LEN 16
#define IOTKIT_HKDF_SHA256_MAX_LEN ...
#define IOTKIT_SIG_EC_LEN 64
#define IOTKIT_SIG_MAX_LEN 1024

iotkit_err_t iotkit_sha256(const void *data, size_t len, uint8_t out[32]);
typedef struct iotkit_sha256 iotkit_sha256_t;
iotkit_err_t iotkit_sha256_new(iotkit_sha256_t **out);
iotkit_err_t iotkit_sha256_update(iotkit_sha256_t *h, const void *data, size_t len);
iotkit_err_t iotkit_sha256_final(iotkit_sha256_t *h, uint8_t out[32]);
void iotkit_sha256_free(iotkit_sha256_t *h);

iotkit_err_t iotkit_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len, uint8_t out[32]);
iotkit_err_t iotkit_hkdf_sha256(const void *salt, size_t salt_len, const void *ikm, size_t ikm_len,
                                const void *info, size_t info_len, void *okm, size_t okm_len);

iotkit_err_t iotkit_aes256gcm_seal(const uint8_t key[32], const uint8_t nonce[12], const void *aad, size_t aad_len,
                                   const void *pt, size_t len, void *ct, uint8_t tag[16]);
iotkit_err_t iotkit_aes256gcm_open(const uint8_t key[32], const uint8_t nonce[12], const void *aad, size_t aad_len,
                                   const void *ct, size_t len, const uint8_t tag[16], void *pt);
iotkit_err_t iotkit_aes256gcm_nonce(const iotkit_hal_t *hal, uint8_t nonce[12]);

iotkit_err_t iotkit_crypto_random(const iotkit_hal_t *hal, void *buf, size_t len);
bool iotkit_crypto_equal(const void *a, const void *b, size_t len);

iotkit_err_t iotkit_base64_encode(const void *data, size_t len, char *out, size_t cap, size_t *out_len);
iotkit_err_t iotkit_base64_decode(const char *in, size_t in_len, void *out, size_t cap, size_t *out_len);
iotkit_err_t iotkit_base64url_encode(const void *data, size_t len, char *out, size_t cap, size_t *out_len);
iotkit_err_t iotkit_base64url_decode(const char *in, size_t in_len, void *out, size_t cap, size_t *out_len);

typedef enum iotkit_key_type {
  IOTKIT_KEY_ED25519 = 1, IOTKIT_KEY_P256 = 2, IOTKIT_KEY_RSA = 3
} iotkit_key_type_t;
typedef struct iotkit_key iotkit_key_t;
iotkit_err_t iotkit_key_generate(const iotkit_hal_t *hal, iotkit_key_type_t type, iotkit_key_t **out);
iotkit_err_t iotkit_key_load(const void *data, size_t len, iotkit_key_t **out);
iotkit_err_t iotkit_key_load_file(const char *path, iotkit_key_t **out);
iotkit_err_t iotkit_key_from_raw(iotkit_key_type_t type, const void *priv, size_t priv_len, const void *pub,
                                 size_t pub_len, iotkit_key_t **out);
iotkit_err_t iotkit_key_export_public_pem(const iotkit_key_t *key, char **pem);
iotkit_err_t iotkit_key_export_private_pem(const iotkit_key_t *key, char *buf, size_t cap, size_t *len);
iotkit_key_type_t iotkit_key_type(const iotkit_key_t *key);
bool iotkit_key_has_private(const iotkit_key_t *key);
void iotkit_key_free(iotkit_key_t *key);

typedef enum iotkit_sig_alg {
  IOTKIT_SIG_ED25519 = 1, IOTKIT_SIG_ECDSA_P256_SHA256 = 2, IOTKIT_SIG_RSA_PSS_SHA256 = 3,
  IOTKIT_SIG_RSA_PKCS1_SHA256 = 4
} iotkit_sig_alg_t;
size_t iotkit_key_signature_size(const iotkit_key_t *key);
iotkit_err_t iotkit_sign(const iotkit_key_t *key, iotkit_sig_alg_t alg, const void *msg, size_t len, void *sig,
                         size_t cap, size_t *sig_len);
iotkit_err_t iotkit_verify(const iotkit_key_t *key, iotkit_sig_alg_t alg, const void *msg, size_t len,
                           const void *sig, size_t sig_len);

typedef enum iotkit_jwt_alg { IOTKIT_JWT_EDDSA = 1, IOTKIT_JWT_ES256 = 2, IOTKIT_JWT_RS256 = 3 } iotkit_jwt_alg_t;
#define IOTKIT_JWT_MAX_LEN 16384
#define IOTKIT_JWT_MAX_LEEWAY_S 600
const char *iotkit_jwt_alg_name(iotkit_jwt_alg_t alg);
iotkit_err_t iotkit_jws_sign(iotkit_jwt_alg_t alg, const iotkit_key_t *key, const char *typ, const char *kid,
                             const void *payload, size_t len, char **token);
iotkit_err_t iotkit_jws_verify(const char *token, iotkit_jwt_alg_t alg, const iotkit_key_t *key, char **payload,
                               size_t *payload_len);

typedef struct iotkit_jwt_claims iotkit_jwt_claims_t;
iotkit_err_t iotkit_jwt_claims_new(iotkit_jwt_claims_t **out);
void iotkit_jwt_claims_free(iotkit_jwt_claims_t *c);
iotkit_err_t iotkit_jwt_claims_set_string(iotkit_jwt_claims_t *c, const char *name, const char *value);
iotkit_err_t iotkit_jwt_claims_set_int(iotkit_jwt_claims_t *c, const char *name, int64_t value);
iotkit_err_t iotkit_jwt_claims_set_bool(iotkit_jwt_claims_t *c, const char *name, bool value);
iotkit_err_t iotkit_jwt_claims_set_json(iotkit_jwt_claims_t *c, const char *name, const char *json);
iotkit_err_t iotkit_jwt_claims_get_string(const iotkit_jwt_claims_t *c, const char *name, const char **value);
iotkit_err_t iotkit_jwt_claims_get_int(const iotkit_jwt_claims_t *c, const char *name, int64_t *value);
iotkit_err_t iotkit_jwt_claims_get_bool(const iotkit_jwt_claims_t *c, const char *name, bool *value);
iotkit_err_t iotkit_jwt_claims_get_json(const iotkit_jwt_claims_t *c, const char *name, char **json);
iotkit_err_t iotkit_jwt_create(const iotkit_jwt_claims_t *claims, iotkit_jwt_alg_t alg, const iotkit_key_t *key,
                               const char *kid, char **token);

typedef struct iotkit_jwt_verify_opts {
  size_t struct_size;
  iotkit_jwt_alg_t alg;
  const iotkit_key_t *key;
  const iotkit_hal_t *hal;
  int64_t now_s;
  uint32_t leeway_s;
  const char *audience;
  bool require_exp;
} iotkit_jwt_verify_opts_t;
void iotkit_jwt_verify_opts_init(iotkit_jwt_verify_opts_t *opts);
iotkit_err_t iotkit_jwt_verify(const char *token, const iotkit_jwt_verify_opts_t *opts,
                               iotkit_jwt_claims_t **claims);

#define IOTKIT_JWT_LIFETIME_DEFAULT_S ...
#define IOTKIT_JWT_LIFETIME_MAX_S ...
typedef struct iotkit_jwt_provider iotkit_jwt_provider_t;
typedef struct iotkit_jwt_provider_config {
  size_t struct_size;
  const iotkit_key_t *key;
  iotkit_jwt_alg_t alg;
  const char *device_id;
  const char *audience;
  const char *kid;
  const iotkit_hal_t *hal;
  uint32_t lifetime_s;
  uint32_t refresh_margin_s;
} iotkit_jwt_provider_config_t;
void iotkit_jwt_provider_config_init(iotkit_jwt_provider_config_t *cfg);
iotkit_err_t iotkit_jwt_provider_new(const iotkit_jwt_provider_config_t *cfg, iotkit_jwt_provider_t **out);
iotkit_err_t iotkit_jwt_provider_get(iotkit_jwt_provider_t *p, char *buf, size_t cap, int64_t *expires_at);
void iotkit_jwt_provider_invalidate(iotkit_jwt_provider_t *p);
void iotkit_jwt_provider_free(iotkit_jwt_provider_t *p);

#define IOTKIT_ENVELOPE_V1 0xE1
#define IOTKIT_ENVELOPE_MAX_KID 32
#define IOTKIT_ENVELOPE_MAX_CHANNEL 255
#define IOTKIT_ENVELOPE_MAX_OVERHEAD ...
#define IOTKIT_ENVELOPE_NONCE_BLOCK_DEFAULT ...
#define IOTKIT_ENVELOPE_NONCE_BLOCK_MAX ...
typedef struct iotkit_envelope iotkit_envelope_t;
typedef struct iotkit_envelope_config {
  size_t struct_size;
  const uint8_t *key;
  const char *key_id;
  const char *device_id;
  const iotkit_hal_t *hal;
  uint32_t sender;
  uint32_t nonce_block;
} iotkit_envelope_config_t;
void iotkit_envelope_config_init(iotkit_envelope_config_t *cfg);
iotkit_err_t iotkit_envelope_new(const iotkit_envelope_config_t *cfg, iotkit_envelope_t **out);
void iotkit_envelope_free(iotkit_envelope_t *env);
iotkit_err_t iotkit_envelope_seal(iotkit_envelope_t *env, const char *channel, const void *pt, size_t len, void *out,
                                  size_t cap, size_t *out_len);
iotkit_err_t iotkit_envelope_open(const iotkit_envelope_t *env, const char *channel, const void *in, size_t in_len,
                                  void *pt, size_t cap, size_t *pt_len);
iotkit_err_t iotkit_envelope_peek_key_id(const void *in, size_t in_len, char *kid, size_t cap);
