/*
 * The crypto backend boundary (internal).
 *
 * Everything that depends on a cryptographic library sits behind these
 * functions; the public API in lib/crypto/ (argument checks, encodings, the
 * raw<->DER ECDSA conversion, JWS/JWT) is written against them only. The
 * OpenSSL 3 backend lives in lib/crypto/ossl_*.c; another one (mbedTLS, a
 * secure element) implements the same functions and is chosen in
 * lib/crypto/sources.cmake.
 *
 * Contract: arguments are already checked by the caller (non-NULL where a
 * length is non-zero, lengths in range, key types matching the algorithm).
 * Functions return IOTKIT_OK or an iotkit_err_t and never leave partial
 * secrets in memory they own.
 */
#ifndef IOTKIT__CRYPTO_BACKEND_H
#define IOTKIT__CRYPTO_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotkit/crypto.h"

/* ------------------------------------------------------------- hashes -- */

/* The backend's streaming SHA-256 state. */
typedef struct iotkit__bk_sha256 iotkit__bk_sha256_t;

iotkit_err_t iotkit__crypto_sha256_new(iotkit__bk_sha256_t **out);
iotkit_err_t iotkit__crypto_sha256_update(iotkit__bk_sha256_t *h, const void *data, size_t len);
/* Writes the digest and resets the state to empty. */
iotkit_err_t iotkit__crypto_sha256_final(iotkit__bk_sha256_t *h, uint8_t out[IOTKIT_SHA256_LEN]);
void iotkit__crypto_sha256_free(iotkit__bk_sha256_t *h);

iotkit_err_t iotkit__crypto_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                                        uint8_t out[IOTKIT_SHA256_LEN]);
/* okm_len is 1..IOTKIT_HKDF_SHA256_MAX_LEN. */
iotkit_err_t iotkit__crypto_hkdf_sha256(const void *salt, size_t salt_len, const void *ikm, size_t ikm_len,
                                        const void *info, size_t info_len, void *okm, size_t okm_len);

/* --------------------------------------------------------------- AEAD -- */

iotkit_err_t iotkit__crypto_gcm_seal(const uint8_t *key, const uint8_t *nonce, const void *aad, size_t aad_len,
                                     const void *pt, size_t len, void *ct, uint8_t *tag);
/* On any failure the len bytes of pt are zeroed; a tag mismatch is IOTKIT_ERR_CRYPTO_AUTH. */
iotkit_err_t iotkit__crypto_gcm_open(const uint8_t *key, const uint8_t *nonce, const void *aad, size_t aad_len,
                                     const void *ct, size_t len, const uint8_t *tag, void *pt);

/* --------------------------------------------------------------- keys -- */

/* The backend's key object. */
typedef struct iotkit__bk_key iotkit__bk_key_t;

/* What the generic layer knows about a key (lib/crypto/key.c owns it). */
struct iotkit_key {
  iotkit_key_type_t type;
  bool has_private;
  size_t sig_len; /* bytes of a signature: 64, or the RSA modulus size */
  iotkit__bk_key_t *bk;
};

/* Describes a decoded or generated backend key to the generic layer. */
typedef struct iotkit__key_info {
  iotkit_key_type_t type;
  bool has_private;
  size_t sig_len;
} iotkit__key_info_t;

/* Ed25519 from a 32-byte seed. */
iotkit_err_t iotkit__crypto_key_ed25519_from_seed(const uint8_t seed[32], iotkit__bk_key_t **out);
/* Ed25519 public key from 32 bytes. */
iotkit_err_t iotkit__crypto_key_ed25519_from_public(const uint8_t pub[32], iotkit__bk_key_t **out);
/* P-256 from a 65-byte uncompressed point and an optional 32-byte scalar (checked to match). */
iotkit_err_t iotkit__crypto_key_p256_from_raw(const uint8_t *priv, const uint8_t pub[65], iotkit__bk_key_t **out);
/* A new P-256 key pair from the backend's generator. */
iotkit_err_t iotkit__crypto_key_p256_generate(iotkit__bk_key_t **out);
/* Raw 32-byte Ed25519 public key (to compare with a given one). */
iotkit_err_t iotkit__crypto_key_ed25519_public(const iotkit__bk_key_t *k, uint8_t pub[32]);
/*
 * PEM or DER, private or public. IOTKIT_ERR_BAD_ENCODING when not a key,
 * IOTKIT_ERR_BAD_KEY when a key of an unsupported kind or size.
 */
iotkit_err_t iotkit__crypto_key_decode(const void *data, size_t len, iotkit__bk_key_t **out,
                                       iotkit__key_info_t *info);
/* As decode, from a file; IOTKIT_ERR_IO when it cannot be opened. */
iotkit_err_t iotkit__crypto_key_decode_file(const char *path, iotkit__bk_key_t **out, iotkit__key_info_t *info);
/* Public half as PEM SubjectPublicKeyInfo, malloc'd and NUL-terminated. */
iotkit_err_t iotkit__crypto_key_public_pem(const iotkit__bk_key_t *k, char **pem);
/* Key pair as PEM PKCS#8 "PRIVATE KEY" into buf; BUFFER_TOO_SMALL with the size needed (NUL included). */
iotkit_err_t iotkit__crypto_key_private_pem(const iotkit__bk_key_t *k, char *buf, size_t cap, size_t *out_len);
/* Wipes private material. NULL is a no-op. */
void iotkit__crypto_key_free(iotkit__bk_key_t *k);

/* --------------------------------------------------------- signatures -- */

/*
 * Sign with a key pair of the right type. ECDSA signatures come out DER
 * encoded (the generic layer converts them to r||s); cap is at least
 * IOTKIT_SIG_MAX_LEN.
 */
iotkit_err_t iotkit__crypto_sign(const iotkit__bk_key_t *k, iotkit_sig_alg_t alg, const void *msg, size_t len,
                                 uint8_t *sig, size_t cap, size_t *sig_len);
/* Verify; ECDSA signatures are given DER encoded. IOTKIT_ERR_BAD_SIGNATURE when invalid. */
iotkit_err_t iotkit__crypto_verify(const iotkit__bk_key_t *k, iotkit_sig_alg_t alg, const void *msg, size_t len,
                                   const uint8_t *sig, size_t sig_len);

#endif
