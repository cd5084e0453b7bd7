/**
 * @file crypto.h
 * @brief Cryptographic primitives and JWT of libiotkit.
 *
 * What is here: SHA-256 (one-shot and streaming), HMAC-SHA256, HKDF-SHA256
 * (RFC 5869), AES-256-GCM with associated data, signatures (Ed25519, ECDSA
 * P-256, RSA-PSS and RSA PKCS#1 v1.5 with SHA-256), key generation, loading and
 * export, base64 and base64url, a constant-time compare, random bytes,
 * compact JWS/JWT (EdDSA, ES256, RS256), a device JWT provider that re-mints
 * short-lived tokens, and sealed payload envelopes (end-to-end protection).
 *
 * Design rules, for the whole header:
 *  - Every fallible call returns an ::iotkit_err_t; NULL or invalid arguments
 *    give ::IOTKIT_ERR_INVALID_ARG. A failing call leaves its outputs as they
 *    were, with one deliberate exception: iotkit_aes256gcm_open() zeroes its
 *    plaintext buffer when authentication fails, so that no unauthenticated
 *    byte is ever released.
 *  - Randomness the API needs (Ed25519 seeds, nonces, iotkit_crypto_random())
 *    comes from the HAL's @c random operation, passed as a
 *    `const iotkit_hal_t *`. The backend's own generator is still used inside
 *    operations that cannot take outside randomness through its interface:
 *    P-256 key generation, ECDSA signing (the per-signature nonce) and the
 *    RSA-PSS salt. With the OpenSSL backend that is OpenSSL's DRBG, seeded by
 *    the operating system.
 *  - Handles (::iotkit_sha256_t, ::iotkit_key_t, ::iotkit_jwt_claims_t,
 *    ::iotkit_jwt_provider_t, ::iotkit_envelope_t) are
 *    opaque, made with a _new (or load/generate) call and released with _free,
 *    which accepts NULL and wipes secret material before releasing it.
 *  - Strings returned through a `char **` are released with iotkit_free().
 *  - Every function is thread-safe on distinct handles; a handle must not be
 *    used from two threads at once. Keys are read-only after creation and may
 *    be shared between threads for signing and verifying.
 *  - The current time is never read by this module: JWT verification takes
 *    it from the caller or from the HAL's wall clock.
 */
#ifndef IOTKIT_CRYPTO_H
#define IOTKIT_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "export.h"
#include "hal.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Size of a SHA-256 digest and of an HMAC-SHA256 tag, in bytes. */
#define IOTKIT_SHA256_LEN 32
/** Size of an AES-256-GCM key, in bytes. */
#define IOTKIT_AES256GCM_KEY_LEN 32
/** Size of an AES-256-GCM nonce, in bytes. */
#define IOTKIT_AES256GCM_NONCE_LEN 12
/** Size of an AES-256-GCM authentication tag, in bytes. */
#define IOTKIT_AES256GCM_TAG_LEN 16
/** Most bytes one HKDF-SHA256 call can produce (255 * 32, RFC 5869). */
#define IOTKIT_HKDF_SHA256_MAX_LEN (255 * IOTKIT_SHA256_LEN)
/** Size of an Ed25519 signature and of an ECDSA P-256 signature (raw r||s), in bytes. */
#define IOTKIT_SIG_EC_LEN 64
/** Largest signature any supported key makes (RSA 8192 bits), in bytes. */
#define IOTKIT_SIG_MAX_LEN 1024

/* ------------------------------------------------------------ SHA-256 -- */

/**
 * @brief SHA-256 of a buffer, in one call.
 * @param data bytes to hash; may be NULL only when @p len is 0.
 * @param len number of bytes.
 * @param out receives the 32-byte digest.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG; ::IOTKIT_ERR_INTERNAL if the backend fails.
 */
IOTKIT_API iotkit_err_t iotkit_sha256(const void *data, size_t len, uint8_t out[IOTKIT_SHA256_LEN]);

/** A streaming SHA-256 computation (opaque). */
typedef struct iotkit_sha256 iotkit_sha256_t;

/**
 * @brief Start a streaming SHA-256.
 * @param out receives the new handle; release with iotkit_sha256_free().
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG; ::IOTKIT_ERR_NOMEM.
 */
IOTKIT_API iotkit_err_t iotkit_sha256_new(iotkit_sha256_t **out);

/**
 * @brief Feed bytes into a streaming SHA-256.
 * @param h the handle.
 * @param data bytes; may be NULL only when @p len is 0.
 * @param len number of bytes.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG; ::IOTKIT_ERR_INTERNAL.
 */
IOTKIT_API iotkit_err_t iotkit_sha256_update(iotkit_sha256_t *h, const void *data, size_t len);

/**
 * @brief Finish a streaming SHA-256 and write the digest. The handle is then
 * reset to the empty state, ready for a new message.
 * @param h the handle.
 * @param out receives the 32-byte digest.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG; ::IOTKIT_ERR_INTERNAL.
 */
IOTKIT_API iotkit_err_t iotkit_sha256_final(iotkit_sha256_t *h, uint8_t out[IOTKIT_SHA256_LEN]);

/**
 * @brief Release a streaming SHA-256 (its state is wiped).
 * @param h the handle, or NULL (no-op).
 */
IOTKIT_API void iotkit_sha256_free(iotkit_sha256_t *h);

/* ------------------------------------------------------ HMAC and HKDF -- */

/**
 * @brief HMAC-SHA256 (RFC 2104) of a message.
 * @param key the key; may be NULL only when @p key_len is 0.
 * @param key_len key length (any; longer than 64 bytes is hashed first).
 * @param data the message; may be NULL only when @p len is 0.
 * @param len message length.
 * @param out receives the 32-byte tag. Compare tags with iotkit_crypto_equal().
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG; ::IOTKIT_ERR_INTERNAL.
 */
IOTKIT_API iotkit_err_t iotkit_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                                           uint8_t out[IOTKIT_SHA256_LEN]);

/**
 * @brief HKDF-SHA256 (RFC 5869): extract from @p salt and @p ikm, then expand with @p info.
 * @param salt optional salt (NULL with @p salt_len 0 means no salt: 32 zero bytes).
 * @param salt_len salt length.
 * @param ikm input keying material; may be NULL only when @p ikm_len is 0.
 * @param ikm_len its length.
 * @param info optional context; may be NULL only when @p info_len is 0.
 * @param info_len its length.
 * @param okm receives the output keying material.
 * @param okm_len bytes wanted: 1 to ::IOTKIT_HKDF_SHA256_MAX_LEN.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG (including a bad @p okm_len); ::IOTKIT_ERR_INTERNAL.
 */
IOTKIT_API iotkit_err_t iotkit_hkdf_sha256(const void *salt, size_t salt_len, const void *ikm, size_t ikm_len,
                                           const void *info, size_t info_len, void *okm, size_t okm_len);

/* -------------------------------------------------------- AES-256-GCM -- */

/**
 * @brief Encrypt and authenticate with AES-256-GCM.
 *
 * A nonce must never be used twice with the same key: take a fresh one from
 * iotkit_aes256gcm_nonce() (random, safe for up to 2^32 messages per key) or
 * keep a counter that survives reboots.
 *
 * @param key 32-byte key.
 * @param nonce 12-byte nonce.
 * @param aad associated data, authenticated but not encrypted; may be NULL only when @p aad_len is 0.
 * @param aad_len its length.
 * @param pt plaintext; may be NULL only when @p len is 0.
 * @param len plaintext length (the ciphertext has the same length).
 * @param ct receives @p len bytes of ciphertext; may be the same buffer as @p pt (in place),
 *        must not otherwise overlap it; may be NULL only when @p len is 0.
 * @param tag receives the 16-byte tag.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG; ::IOTKIT_ERR_TOO_LARGE above 2^36 bytes; ::IOTKIT_ERR_INTERNAL.
 */
IOTKIT_API iotkit_err_t iotkit_aes256gcm_seal(const uint8_t key[IOTKIT_AES256GCM_KEY_LEN],
                                              const uint8_t nonce[IOTKIT_AES256GCM_NONCE_LEN], const void *aad,
                                              size_t aad_len, const void *pt, size_t len, void *ct,
                                              uint8_t tag[IOTKIT_AES256GCM_TAG_LEN]);

/**
 * @brief Check and decrypt AES-256-GCM.
 *
 * If the ciphertext, tag, associated data, nonce or key differ from those
 * sealed, nothing is released: the call returns ::IOTKIT_ERR_CRYPTO_AUTH and
 * the @p len bytes of @p pt are all set to zero.
 *
 * @param key 32-byte key.
 * @param nonce 12-byte nonce used to seal.
 * @param aad associated data used to seal; may be NULL only when @p aad_len is 0.
 * @param aad_len its length.
 * @param ct ciphertext; may be NULL only when @p len is 0.
 * @param len ciphertext length.
 * @param tag the 16-byte tag.
 * @param pt receives @p len bytes of plaintext; may be the same buffer as @p ct.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_CRYPTO_AUTH; ::IOTKIT_ERR_INVALID_ARG; ::IOTKIT_ERR_TOO_LARGE;
 *         ::IOTKIT_ERR_INTERNAL.
 */
IOTKIT_API iotkit_err_t iotkit_aes256gcm_open(const uint8_t key[IOTKIT_AES256GCM_KEY_LEN],
                                              const uint8_t nonce[IOTKIT_AES256GCM_NONCE_LEN], const void *aad,
                                              size_t aad_len, const void *ct, size_t len,
                                              const uint8_t tag[IOTKIT_AES256GCM_TAG_LEN], void *pt);

/**
 * @brief Make a random 12-byte GCM nonce from the HAL's random source.
 * @param hal a HAL whose @c random operation is set.
 * @param nonce receives the nonce.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG; ::IOTKIT_ERR_UNSUPPORTED if the HAL has no random;
 *         the HAL's error if it fails.
 */
IOTKIT_API iotkit_err_t iotkit_aes256gcm_nonce(const iotkit_hal_t *hal, uint8_t nonce[IOTKIT_AES256GCM_NONCE_LEN]);

/* -------------------------------------------------------------- misc -- */

/**
 * @brief Fill a buffer with random bytes from the HAL's random operation.
 * @param hal a HAL whose @c random operation is set.
 * @param buf receives @p len bytes; may be NULL only when @p len is 0.
 * @param len number of bytes.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG; ::IOTKIT_ERR_UNSUPPORTED if the HAL has no random;
 *         the HAL's error if it fails (then @p buf is zeroed).
 */
IOTKIT_API iotkit_err_t iotkit_crypto_random(const iotkit_hal_t *hal, void *buf, size_t len);

/**
 * @brief Compare two buffers in time that depends only on @p len (for tags, MACs, tokens).
 * @param a first buffer.
 * @param b second buffer.
 * @param len bytes to compare.
 * @return true if the @p len bytes are equal (two empty buffers are equal);
 *         false if they differ, or if @p a or @p b is NULL while @p len > 0.
 */
IOTKIT_API bool iotkit_crypto_equal(const void *a, const void *b, size_t len);

/* ------------------------------------------------------------ base64 -- */

/** Capacity (with the terminating NUL) that base64 encoding of @p n bytes needs. */
#define IOTKIT_BASE64_ENCODED_SIZE(n) ((((n) + 2) / 3) * 4 + 1)
/** Most bytes that decoding @p n characters of base64 or base64url can give. */
#define IOTKIT_BASE64_DECODED_MAX(n) ((((n) + 3) / 4) * 3)

/**
 * @brief Encode bytes as standard base64 (RFC 4648 section 4, with '=' padding), NUL-terminated.
 * @param data bytes; may be NULL only when @p len is 0.
 * @param len number of bytes.
 * @param out receives the text and a NUL.
 * @param cap capacity of @p out; at least IOTKIT_BASE64_ENCODED_SIZE(@p len).
 * @param out_len optional: receives the text length (without the NUL); on
 *        ::IOTKIT_ERR_BUFFER_TOO_SMALL, the capacity needed (with the NUL).
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG; ::IOTKIT_ERR_BUFFER_TOO_SMALL (@p out untouched).
 */
IOTKIT_API iotkit_err_t iotkit_base64_encode(const void *data, size_t len, char *out, size_t cap, size_t *out_len);

/**
 * @brief Decode standard base64 strictly: length a multiple of 4, correct '='
 * padding, only the 64 letters of the alphabet (no whitespace), and zero
 * unused bits in the last letter, so that every input has one decoding.
 * @param in the text (need not be NUL-terminated); may be NULL only when @p in_len is 0.
 * @param in_len its length in characters.
 * @param out receives the bytes.
 * @param cap capacity of @p out (IOTKIT_BASE64_DECODED_MAX(@p in_len) is always enough).
 * @param out_len receives the number of bytes; on ::IOTKIT_ERR_BUFFER_TOO_SMALL, the number needed.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_BAD_ENCODING for malformed input; ::IOTKIT_ERR_INVALID_ARG;
 *         ::IOTKIT_ERR_BUFFER_TOO_SMALL. On failure @p out is untouched.
 */
IOTKIT_API iotkit_err_t iotkit_base64_decode(const char *in, size_t in_len, void *out, size_t cap, size_t *out_len);

/**
 * @brief Encode bytes as base64url without padding (RFC 4648 section 5, as JOSE uses it), NUL-terminated.
 * Parameters and results as iotkit_base64_encode(); the text is never longer than the padded form.
 */
IOTKIT_API iotkit_err_t iotkit_base64url_encode(const void *data, size_t len, char *out, size_t cap,
                                                size_t *out_len);

/**
 * @brief Decode base64url without padding, strictly: '=' is refused, as are a
 * length of 4k+1, letters outside the URL-safe alphabet and non-zero unused bits.
 * Parameters and results as iotkit_base64_decode().
 */
IOTKIT_API iotkit_err_t iotkit_base64url_decode(const char *in, size_t in_len, void *out, size_t cap,
                                                size_t *out_len);

/* -------------------------------------------------------------- keys -- */

/** Kinds of asymmetric key. */
typedef enum iotkit_key_type {
  IOTKIT_KEY_ED25519 = 1, /**< Ed25519 (RFC 8032) */
  IOTKIT_KEY_P256 = 2,    /**< ECDSA over NIST P-256 (secp256r1) */
  IOTKIT_KEY_RSA = 3      /**< RSA, 2048 to 8192 bits */
} iotkit_key_type_t;

/** An asymmetric key: a key pair, or a public key only (opaque, read-only once made). */
typedef struct iotkit_key iotkit_key_t;

/**
 * @brief Generate a new key pair.
 *
 * Ed25519: the 32-byte seed comes from the HAL's random operation. P-256: the
 * backend generates the scalar with its own generator (OpenSSL's DRBG), as its
 * key-generation interface takes no outside randomness; @p hal must still be
 * given so that a backend able to use it (a secure element, say) can.
 *
 * @param hal a HAL whose @c random operation is set.
 * @param type ::IOTKIT_KEY_ED25519 or ::IOTKIT_KEY_P256.
 * @param out receives the key; release with iotkit_key_free().
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG; ::IOTKIT_ERR_UNSUPPORTED for RSA or a HAL without
 *         random; ::IOTKIT_ERR_NOMEM; ::IOTKIT_ERR_INTERNAL; the HAL's error.
 */
IOTKIT_API iotkit_err_t iotkit_key_generate(const iotkit_hal_t *hal, iotkit_key_type_t type, iotkit_key_t **out);

/**
 * @brief Load a key from memory, PEM or DER (detected).
 *
 * Accepted: private keys as PKCS#8 ("PRIVATE KEY"), SEC 1 ("EC PRIVATE KEY")
 * or PKCS#1 ("RSA PRIVATE KEY"), unencrypted; public keys as
 * SubjectPublicKeyInfo ("PUBLIC KEY"). Only Ed25519, P-256 and RSA of 2048
 * to 8192 bits are accepted.
 *
 * @param data the encoded key (PEM need not be NUL-terminated).
 * @param len its length; at most 64 KiB.
 * @param out receives the key; release with iotkit_key_free().
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG; ::IOTKIT_ERR_BAD_ENCODING if it is not a key;
 *         ::IOTKIT_ERR_BAD_KEY for another algorithm, curve or size; ::IOTKIT_ERR_TOO_LARGE; ::IOTKIT_ERR_NOMEM.
 */
IOTKIT_API iotkit_err_t iotkit_key_load(const void *data, size_t len, iotkit_key_t **out);

/**
 * @brief Load a key from a file, PEM or DER, as iotkit_key_load().
 *
 * For hosted systems: the file is opened by the crypto backend (OpenSSL's
 * file BIO), not through the HAL. Firmware reads the bytes itself and calls
 * iotkit_key_load().
 *
 * @param path the file.
 * @param out receives the key.
 * @return as iotkit_key_load(), and ::IOTKIT_ERR_IO if the file cannot be read.
 */
IOTKIT_API iotkit_err_t iotkit_key_load_file(const char *path, iotkit_key_t **out);

/**
 * @brief Make a key from raw bytes.
 *
 * Ed25519: @p priv is the 32-byte seed (RFC 8032 "secret key") and @p pub, if
 * given, the 32-byte public key, which must match; or @p priv is NULL and
 * @p pub is the 32-byte public key.
 * P-256: @p pub is required, 65 bytes 0x04||X||Y (uncompressed point);
 * @p priv, if given, is the 32-byte big-endian scalar d, which must match.
 *
 * @param type ::IOTKIT_KEY_ED25519 or ::IOTKIT_KEY_P256.
 * @param priv private part or NULL; @param priv_len its length (0 with NULL).
 * @param pub public part or NULL; @param pub_len its length (0 with NULL).
 * @param out receives the key.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG (wrong lengths, RSA); ::IOTKIT_ERR_BAD_KEY if the
 *         bytes are not a valid key or the parts do not match; ::IOTKIT_ERR_NOMEM.
 */
IOTKIT_API iotkit_err_t iotkit_key_from_raw(iotkit_key_type_t type, const void *priv, size_t priv_len,
                                            const void *pub, size_t pub_len, iotkit_key_t **out);

/**
 * @brief Export the public half of a key as PEM SubjectPublicKeyInfo.
 * @param key the key (pair or public).
 * @param pem receives a NUL-terminated string; release with iotkit_free().
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG; ::IOTKIT_ERR_NOMEM; ::IOTKIT_ERR_INTERNAL.
 */
IOTKIT_API iotkit_err_t iotkit_key_export_public_pem(const iotkit_key_t *key, char **pem);

/**
 * @brief Export a key pair as PEM PKCS#8 ("-----BEGIN PRIVATE KEY-----"), unencrypted.
 *
 * The text is the private key: it is written into the caller's buffer so that
 * the caller controls where it lives and wipes it after use.
 *
 * @param key a key pair.
 * @param buf receives the NUL-terminated PEM text.
 * @param cap capacity of @p buf (512 bytes is enough for Ed25519 and P-256).
 * @param len receives the text length (without the NUL); on ::IOTKIT_ERR_BUFFER_TOO_SMALL,
 *        the capacity needed (with the NUL), @p buf untouched.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG; ::IOTKIT_ERR_BAD_KEY for a public key;
 *         ::IOTKIT_ERR_BUFFER_TOO_SMALL; ::IOTKIT_ERR_INTERNAL.
 */
IOTKIT_API iotkit_err_t iotkit_key_export_private_pem(const iotkit_key_t *key, char *buf, size_t cap, size_t *len);

/**
 * @brief The kind of a key.
 * @param key the key.
 * @return its ::iotkit_key_type_t, or 0 for NULL.
 */
IOTKIT_API iotkit_key_type_t iotkit_key_type(const iotkit_key_t *key);

/**
 * @brief Whether a key holds its private half (can sign).
 * @param key the key.
 * @return true for a key pair; false for a public key or NULL.
 */
IOTKIT_API bool iotkit_key_has_private(const iotkit_key_t *key);

/**
 * @brief Release a key; private material is wiped.
 * @param key the key, or NULL (no-op).
 */
IOTKIT_API void iotkit_key_free(iotkit_key_t *key);

/* -------------------------------------------------------- signatures -- */

/** Signature algorithms; each needs the key type named. */
typedef enum iotkit_sig_alg {
  IOTKIT_SIG_ED25519 = 1,            /**< Ed25519 (pure), 64 bytes; ::IOTKIT_KEY_ED25519 */
  IOTKIT_SIG_ECDSA_P256_SHA256 = 2,  /**< ECDSA P-256 with SHA-256, raw r||s (64 bytes, as JWS ES256), not DER; ::IOTKIT_KEY_P256 */
  IOTKIT_SIG_RSA_PSS_SHA256 = 3,     /**< RSASSA-PSS, SHA-256, MGF1-SHA-256, 32-byte salt; ::IOTKIT_KEY_RSA */
  IOTKIT_SIG_RSA_PKCS1_SHA256 = 4    /**< RSASSA-PKCS1-v1_5 with SHA-256 (JWS RS256); ::IOTKIT_KEY_RSA */
} iotkit_sig_alg_t;

/**
 * @brief Size of the signatures a key makes.
 * @param key the key.
 * @return 64 for Ed25519 and P-256, the modulus size in bytes for RSA, 0 for NULL.
 */
IOTKIT_API size_t iotkit_key_signature_size(const iotkit_key_t *key);

/**
 * @brief Sign a message (the message itself; hashing is part of the algorithm).
 * @param key a key pair of the type @p alg needs.
 * @param alg the algorithm.
 * @param msg the message; may be NULL only when @p len is 0.
 * @param len its length.
 * @param sig receives the signature.
 * @param cap capacity of @p sig (iotkit_key_signature_size() or ::IOTKIT_SIG_MAX_LEN is enough).
 * @param sig_len receives the signature length; on ::IOTKIT_ERR_BUFFER_TOO_SMALL, the size needed.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG; ::IOTKIT_ERR_BAD_KEY if the key is of another type
 *         or public only; ::IOTKIT_ERR_BUFFER_TOO_SMALL; ::IOTKIT_ERR_INTERNAL.
 */
IOTKIT_API iotkit_err_t iotkit_sign(const iotkit_key_t *key, iotkit_sig_alg_t alg, const void *msg, size_t len,
                                    void *sig, size_t cap, size_t *sig_len);

/**
 * @brief Verify a signature over a message.
 * @param key a public key or key pair of the type @p alg needs.
 * @param alg the algorithm.
 * @param msg the message; may be NULL only when @p len is 0.
 * @param len its length.
 * @param sig the signature (for ECDSA exactly 64 bytes r||s).
 * @param sig_len its length.
 * @return ::IOTKIT_OK if valid; ::IOTKIT_ERR_BAD_SIGNATURE if not (including a wrong length);
 *         ::IOTKIT_ERR_BAD_KEY if the key is of another type; ::IOTKIT_ERR_INVALID_ARG.
 */
IOTKIT_API iotkit_err_t iotkit_verify(const iotkit_key_t *key, iotkit_sig_alg_t alg, const void *msg, size_t len,
                                      const void *sig, size_t sig_len);

/* ----------------------------------------------------------- JWS/JWT -- */

/** JWS algorithms (RFC 7518, RFC 8037). No "none" and no HMAC: tokens are always signed with a key pair. */
typedef enum iotkit_jwt_alg {
  IOTKIT_JWT_EDDSA = 1, /**< "EdDSA" with an Ed25519 key */
  IOTKIT_JWT_ES256 = 2, /**< "ES256": ECDSA P-256 SHA-256 */
  IOTKIT_JWT_RS256 = 3  /**< "RS256": RSASSA-PKCS1-v1_5 SHA-256 */
} iotkit_jwt_alg_t;

/** Longest token iotkit_jws_verify() and iotkit_jwt_verify() accept, in characters. */
#define IOTKIT_JWT_MAX_LEN 16384
/** Largest leeway iotkit_jwt_verify() accepts, in seconds. */
#define IOTKIT_JWT_MAX_LEEWAY_S 600

/**
 * @brief The JOSE name of an algorithm ("EdDSA", "ES256", "RS256").
 * @param alg the algorithm.
 * @return a static string; "?" for an unknown value.
 */
IOTKIT_API const char *iotkit_jwt_alg_name(iotkit_jwt_alg_t alg);

/**
 * @brief Sign any payload as a compact JWS: BASE64URL(header).BASE64URL(payload).BASE64URL(signature).
 *
 * The protected header is {"alg":"<alg>"} followed, when given, by "typ" then "kid".
 *
 * @param alg the algorithm; @p key must be a key pair of its type.
 * @param key the signing key.
 * @param typ optional "typ" header value (e.g. "JWT"), or NULL.
 * @param kid optional "kid" header value, or NULL.
 * @param payload the bytes to sign; may be NULL only when @p len is 0.
 * @param len their length.
 * @param token receives the NUL-terminated token; release with iotkit_free().
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG; ::IOTKIT_ERR_BAD_KEY; ::IOTKIT_ERR_NOMEM; ::IOTKIT_ERR_INTERNAL.
 */
IOTKIT_API iotkit_err_t iotkit_jws_sign(iotkit_jwt_alg_t alg, const iotkit_key_t *key, const char *typ,
                                        const char *kid, const void *payload, size_t len, char **token);

/**
 * @brief Verify a compact JWS with the algorithm and key the caller expects.
 *
 * The header's "alg" never chooses the key or the algorithm: it must equal
 * @p alg. Checks, in order: shape (three base64url parts), header JSON,
 * "alg": "none" (::IOTKIT_ERR_JWT_ALG_NONE), another alg such as HS256
 * (::IOTKIT_ERR_JWT_ALG), a "crit" header (::IOTKIT_ERR_UNSUPPORTED), then the signature.
 *
 * @param token the NUL-terminated token, at most ::IOTKIT_JWT_MAX_LEN characters.
 * @param alg the expected algorithm.
 * @param key the verification key (public or pair) of @p alg's type.
 * @param payload optional: receives the payload, with a NUL added after it; release with iotkit_free().
 * @param payload_len optional: receives the payload length.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_JWT_MALFORMED; ::IOTKIT_ERR_JWT_ALG_NONE; ::IOTKIT_ERR_JWT_ALG;
 *         ::IOTKIT_ERR_UNSUPPORTED; ::IOTKIT_ERR_BAD_SIGNATURE; ::IOTKIT_ERR_BAD_KEY if @p key does not
 *         fit @p alg; ::IOTKIT_ERR_TOO_LARGE; ::IOTKIT_ERR_INVALID_ARG; ::IOTKIT_ERR_NOMEM.
 */
IOTKIT_API iotkit_err_t iotkit_jws_verify(const char *token, iotkit_jwt_alg_t alg, const iotkit_key_t *key,
                                          char **payload, size_t *payload_len);

/** A JWT claims set: a JSON object (opaque). */
typedef struct iotkit_jwt_claims iotkit_jwt_claims_t;

/**
 * @brief Make an empty claims set.
 * @param out receives it; release with iotkit_jwt_claims_free().
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG; ::IOTKIT_ERR_NOMEM.
 */
IOTKIT_API iotkit_err_t iotkit_jwt_claims_new(iotkit_jwt_claims_t **out);

/**
 * @brief Release a claims set.
 * @param c the claims, or NULL (no-op).
 */
IOTKIT_API void iotkit_jwt_claims_free(iotkit_jwt_claims_t *c);

/**
 * @brief Set a string claim (e.g. "sub", "iss", "aud", "jti"), replacing any claim of that name.
 * @param c the claims. @param name the claim name. @param value the value (copied).
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG; ::IOTKIT_ERR_NOMEM.
 */
IOTKIT_API iotkit_err_t iotkit_jwt_claims_set_string(iotkit_jwt_claims_t *c, const char *name, const char *value);

/**
 * @brief Set an integer claim (e.g. "iat", "nbf", "exp" in seconds since the epoch).
 * @param c the claims. @param name the claim name.
 * @param value the value; |value| must be at most 2^53 (exact in JSON numbers).
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG; ::IOTKIT_ERR_NOMEM.
 */
IOTKIT_API iotkit_err_t iotkit_jwt_claims_set_int(iotkit_jwt_claims_t *c, const char *name, int64_t value);

/**
 * @brief Set a boolean claim.
 * @param c the claims. @param name the claim name. @param value the value.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG; ::IOTKIT_ERR_NOMEM.
 */
IOTKIT_API iotkit_err_t iotkit_jwt_claims_set_bool(iotkit_jwt_claims_t *c, const char *name, bool value);

/**
 * @brief Set a claim to any JSON value given as text (an object, an array such as a list of audiences...).
 * @param c the claims. @param name the claim name. @param json the JSON text of one value.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_BAD_ENCODING if @p json is not valid JSON; ::IOTKIT_ERR_INVALID_ARG;
 *         ::IOTKIT_ERR_NOMEM.
 */
IOTKIT_API iotkit_err_t iotkit_jwt_claims_set_json(iotkit_jwt_claims_t *c, const char *name, const char *json);

/**
 * @brief Read a string claim.
 * @param c the claims. @param name the claim name.
 * @param value receives a pointer valid until the claim is replaced or @p c is freed.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_NOT_FOUND if absent; ::IOTKIT_ERR_JWT_CLAIM if not a string;
 *         ::IOTKIT_ERR_INVALID_ARG.
 */
IOTKIT_API iotkit_err_t iotkit_jwt_claims_get_string(const iotkit_jwt_claims_t *c, const char *name,
                                                     const char **value);

/**
 * @brief Read an integer claim.
 * @param c the claims. @param name the claim name. @param value receives the value.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_NOT_FOUND if absent; ::IOTKIT_ERR_JWT_CLAIM if not an integral
 *         number within +-2^53; ::IOTKIT_ERR_INVALID_ARG.
 */
IOTKIT_API iotkit_err_t iotkit_jwt_claims_get_int(const iotkit_jwt_claims_t *c, const char *name, int64_t *value);

/**
 * @brief Read a boolean claim.
 * @param c the claims. @param name the claim name. @param value receives the value.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_NOT_FOUND; ::IOTKIT_ERR_JWT_CLAIM if not a boolean; ::IOTKIT_ERR_INVALID_ARG.
 */
IOTKIT_API iotkit_err_t iotkit_jwt_claims_get_bool(const iotkit_jwt_claims_t *c, const char *name, bool *value);

/**
 * @brief Read any claim as JSON text.
 * @param c the claims. @param name the claim name.
 * @param json receives the compact JSON text; release with iotkit_free().
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_NOT_FOUND; ::IOTKIT_ERR_INVALID_ARG; ::IOTKIT_ERR_NOMEM.
 */
IOTKIT_API iotkit_err_t iotkit_jwt_claims_get_json(const iotkit_jwt_claims_t *c, const char *name, char **json);

/**
 * @brief Sign a claims set as a JWT (compact JWS with header {"alg":...,"typ":"JWT"[,"kid":...]}).
 * @param claims the claims (a JSON object; an empty set gives "{}").
 * @param alg the algorithm; @p key must be a key pair of its type.
 * @param key the signing key.
 * @param kid optional key id for the header, or NULL.
 * @param token receives the NUL-terminated token; release with iotkit_free().
 * @return as iotkit_jws_sign().
 */
IOTKIT_API iotkit_err_t iotkit_jwt_create(const iotkit_jwt_claims_t *claims, iotkit_jwt_alg_t alg,
                                          const iotkit_key_t *key, const char *kid, char **token);

/** What iotkit_jwt_verify() expects. Fill with iotkit_jwt_verify_opts_init(). */
typedef struct iotkit_jwt_verify_opts {
  /** sizeof(iotkit_jwt_verify_opts_t) as the caller was compiled (set by the _init function);
      0 means the layout of 0.2.0. See "Structs that grow" in docs/architecture.md. */
  size_t struct_size;
  /** (required) The algorithm the token must use; the header never picks it. */
  iotkit_jwt_alg_t alg;
  /** (required) The verification key, of @c alg's type. Not copied: must outlive the call. */
  const iotkit_key_t *key;
  /**
   * Source of the current time: if set, its @c wall_ms gives the time and
   * @c now_s is ignored. Not copied.
   */
  const iotkit_hal_t *hal;
  /**
   * The current time in SECONDS since the Unix epoch, used when @c hal is NULL.
   * Must be positive and below 10^11 (a millisecond value is refused as
   * ::IOTKIT_ERR_INVALID_ARG rather than silently accepting expired tokens).
   */
  int64_t now_s;
  /** Clock skew tolerated on "exp" and "nbf", in seconds (default 0, at most ::IOTKIT_JWT_MAX_LEEWAY_S). */
  uint32_t leeway_s;
  /** If set, "aud" (a string or an array of strings) must contain it (copied for the call only). */
  const char *audience;
  /** Whether an "exp" claim is required (default true). */
  bool require_exp;
} iotkit_jwt_verify_opts_t;

/**
 * @brief Fill verification options with defaults: no key, no time, leeway 0, no audience, exp required.
 * @param opts the options; NULL is ignored.
 */
IOTKIT_API void iotkit_jwt_verify_opts_init(iotkit_jwt_verify_opts_t *opts);

/**
 * @brief Verify a JWT: the JWS checks of iotkit_jws_verify(), then the claims.
 *
 * The payload must be a JSON object. "exp", "nbf" and "iat", when present,
 * must be numbers (::IOTKIT_ERR_JWT_CLAIM otherwise). The token is expired
 * when now >= exp + leeway (::IOTKIT_ERR_JWT_EXPIRED) and not yet valid when
 * now + leeway < nbf (::IOTKIT_ERR_JWT_NOT_YET_VALID).
 *
 * @param token the NUL-terminated token.
 * @param opts what to expect.
 * @param claims optional: receives the verified claims; release with iotkit_jwt_claims_free().
 * @return ::IOTKIT_OK, or the codes of iotkit_jws_verify(), ::IOTKIT_ERR_JWT_CLAIM,
 *         ::IOTKIT_ERR_JWT_EXPIRED, ::IOTKIT_ERR_JWT_NOT_YET_VALID, ::IOTKIT_ERR_JWT_AUDIENCE,
 *         ::IOTKIT_ERR_UNSUPPORTED (HAL without wall clock).
 */
IOTKIT_API iotkit_err_t iotkit_jwt_verify(const char *token, const iotkit_jwt_verify_opts_t *opts,
                                          iotkit_jwt_claims_t **claims);


/* ------------------------------------------------ device JWT provider -- */

/** Default lifetime of a device token, in seconds (one hour). */
#define IOTKIT_JWT_LIFETIME_DEFAULT_S 3600u
/** Longest lifetime iotkit_jwt_provider_new() accepts, in seconds (one day). */
#define IOTKIT_JWT_LIFETIME_MAX_S 86400u

/**
 * Mints short-lived device tokens and re-mints them before they expire
 * (opaque). Made for a device credentials hook: call iotkit_jwt_provider_get()
 * each time the device (re)connects and use the token as the password.
 */
typedef struct iotkit_jwt_provider iotkit_jwt_provider_t;

/** Options of iotkit_jwt_provider_new(). Fill with iotkit_jwt_provider_config_init(). */
typedef struct iotkit_jwt_provider_config {
  /** sizeof(iotkit_jwt_provider_config_t) as the caller was compiled (set by the _init function);
      0 means the layout of 0.2.0. See "Structs that grow" in docs/architecture.md. */
  size_t struct_size;
  /** (required) The device's key pair, of @c alg's type. Not copied: it must outlive the provider. */
  const iotkit_key_t *key;
  /** (required) The algorithm: ::IOTKIT_JWT_EDDSA, ::IOTKIT_JWT_ES256 or ::IOTKIT_JWT_RS256. */
  iotkit_jwt_alg_t alg;
  /** (required) The device id, put in "iss" and "sub" (1 to ::IOTKIT_MAX_DEVICE_ID bytes of [A-Za-z0-9._-]). Copied. */
  const char *device_id;
  /** Audience ("aud"), e.g. the broker's or the project's name; NULL leaves it out. Copied. */
  const char *audience;
  /** Optional "kid" header value (names the key to the server). Copied. */
  const char *kid;
  /** (required) Wall clock for "iat"/"exp": the HAL's @c wall_ms. Not copied: it must outlive the provider. */
  const iotkit_hal_t *hal;
  /** Token lifetime in seconds: exp = iat + lifetime (default ::IOTKIT_JWT_LIFETIME_DEFAULT_S, 60 to the max). */
  uint32_t lifetime_s;
  /**
   * A token is re-minted once fewer than this many seconds of it remain
   * (default: a quarter of the lifetime). Must be below the lifetime.
   */
  uint32_t refresh_margin_s;
} iotkit_jwt_provider_config_t;

/**
 * @brief Fill @p cfg with defaults: lifetime ::IOTKIT_JWT_LIFETIME_DEFAULT_S,
 * refresh margin 0 (meaning a quarter of the lifetime), no audience, no kid.
 * @param cfg the options; NULL is ignored.
 */
IOTKIT_API void iotkit_jwt_provider_config_init(iotkit_jwt_provider_config_t *cfg);

/**
 * @brief Make a token provider. No token is minted until the first get.
 * @param cfg the options (strings copied; key and HAL referenced).
 * @param out receives the provider; release with iotkit_jwt_provider_free().
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG (missing key, HAL or device id, a lifetime
 *         out of range, a margin not below the lifetime, an unsafe device id);
 *         ::IOTKIT_ERR_BAD_KEY if the key is public only or not of @c alg's type;
 *         ::IOTKIT_ERR_UNSUPPORTED if the HAL has no wall clock; ::IOTKIT_ERR_NOMEM.
 */
IOTKIT_API iotkit_err_t iotkit_jwt_provider_new(const iotkit_jwt_provider_config_t *cfg,
                                                iotkit_jwt_provider_t **out);

/**
 * @brief The current token, minted anew when there is none yet, when fewer than
 * refresh_margin_s seconds of it remain, or when the wall clock went back
 * before its "iat". Its claims: {"iss":id,"sub":id[,"aud":aud],"iat":now,"exp":now+lifetime}.
 *
 * Not thread-safe on one provider: serialize the calls (a credentials hook is
 * called from the device's loop, one at a time).
 *
 * @param p the provider.
 * @param buf receives the NUL-terminated token.
 * @param cap capacity of @p buf.
 * @param expires_at optional: receives the token's "exp" (seconds since the epoch).
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_BUFFER_TOO_SMALL (@p buf untouched; the token is kept for
 *         the next call); ::IOTKIT_ERR_INVALID_ARG; ::IOTKIT_ERR_STATE if the wall clock reads
 *         0 or less (not set yet); the errors of iotkit_jwt_create().
 */
IOTKIT_API iotkit_err_t iotkit_jwt_provider_get(iotkit_jwt_provider_t *p, char *buf, size_t cap,
                                                int64_t *expires_at);

/**
 * @brief Drop the current token so that the next get mints a new one (after the
 * server refused it, say).
 * @param p the provider; NULL is ignored.
 */
IOTKIT_API void iotkit_jwt_provider_invalidate(iotkit_jwt_provider_t *p);

/**
 * @brief Release a provider; the cached token is wiped.
 * @param p the provider, or NULL (no-op).
 */
IOTKIT_API void iotkit_jwt_provider_free(iotkit_jwt_provider_t *p);

/* ---------------------------------------------------- payload envelope -- */

/*
 * A sealed envelope protects one message end to end: AES-256-GCM under a
 * per-device key, so that the broker and the hub route it but can neither read
 * nor alter it. docs/protocol.md, section "Payload envelope (end-to-end
 * protection)", gives the byte format (version 1):
 *
 *   0xE1 | kid_len (1 byte) | kid | nonce (12) | ciphertext | tag (16)
 *
 * The associated data binds the header (version, key id, nonce), the device id
 * and the channel name: an envelope moved to another device or channel, or
 * whose key id was edited, fails to open with ::IOTKIT_ERR_CRYPTO_AUTH.
 *
 * Nonces are 4 bytes of "sender" (a number each party sealing under one key
 * picks differently: 0 for the device, 1 for the fleet side) followed by a
 * 64-bit big-endian counter kept in the HAL key-value store under
 * "iotkit.envelope.<kid>". The counter is reserved in blocks: before the first
 * nonce of a block is used, the end of the block is written (durably) to the
 * store; so after a crash or a reboot sealing resumes after the last reserved
 * block, skipping at most one block of nonces and never reusing one. If that
 * write fails, nothing is sealed. Erasing the store (a factory reset) without
 * changing the key would allow nonce reuse: give the key a new key id and a new
 * value whenever the store is erased.
 */

/** Version byte that starts every envelope of format version 1. */
#define IOTKIT_ENVELOPE_V1 0xE1
/** Longest key id, in bytes. */
#define IOTKIT_ENVELOPE_MAX_KID 32
/** Longest channel name bound into an envelope, in bytes. */
#define IOTKIT_ENVELOPE_MAX_CHANNEL 255
/** Bytes an envelope adds to a payload whose key id is @p kid_len bytes long. */
#define IOTKIT_ENVELOPE_OVERHEAD(kid_len) (2 + (kid_len) + IOTKIT_AES256GCM_NONCE_LEN + IOTKIT_AES256GCM_TAG_LEN)
/** The most bytes an envelope adds to a payload (with the longest key id). */
#define IOTKIT_ENVELOPE_MAX_OVERHEAD IOTKIT_ENVELOPE_OVERHEAD(IOTKIT_ENVELOPE_MAX_KID)
/** Default number of nonces reserved per write of the counter. */
#define IOTKIT_ENVELOPE_NONCE_BLOCK_DEFAULT 1024u
/** Largest nonce block. */
#define IOTKIT_ENVELOPE_NONCE_BLOCK_MAX (1u << 20)

/** A device's envelope key: the key, its id, the device id, and the nonce counter (opaque). */
typedef struct iotkit_envelope iotkit_envelope_t;

/** Options of iotkit_envelope_new(). Fill with iotkit_envelope_config_init(). */
typedef struct iotkit_envelope_config {
  /** sizeof(iotkit_envelope_config_t) as the caller was compiled (set by the _init function);
      0 means the layout of 0.2.0. See "Structs that grow" in docs/architecture.md. */
  size_t struct_size;
  /** (required) The 32-byte AES-256 key. Copied; the copy is wiped on free. */
  const uint8_t *key;
  /** (required) Its key id, 1 to ::IOTKIT_ENVELOPE_MAX_KID bytes of [A-Za-z0-9._-]. Copied. */
  const char *key_id;
  /**
   * (required) The device the envelopes belong to (1 to ::IOTKIT_MAX_DEVICE_ID
   * bytes of [A-Za-z0-9._-]): the device id on both sides, also when the fleet
   * side seals a command to it. Copied.
   */
  const char *device_id;
  /**
   * HAL whose kv_get and kv_set keep the nonce counter; needed to seal, not to
   * open (NULL: this handle only opens). Not copied: it must outlive the handle.
   */
  const iotkit_hal_t *hal;
  /** Nonce "sender" field: 0 (default) for the device; each other party sealing under the key picks another. */
  uint32_t sender;
  /** Nonces reserved per counter write (default ::IOTKIT_ENVELOPE_NONCE_BLOCK_DEFAULT, 1 to the max). */
  uint32_t nonce_block;
} iotkit_envelope_config_t;

/**
 * @brief Fill @p cfg with defaults: no key, sender 0, nonce_block ::IOTKIT_ENVELOPE_NONCE_BLOCK_DEFAULT.
 * @param cfg the options; NULL is ignored.
 */
IOTKIT_API void iotkit_envelope_config_init(iotkit_envelope_config_t *cfg);

/**
 * @brief Make an envelope handle. Nothing is read from or written to the store
 * until the first iotkit_envelope_seal().
 * @param cfg the options (copied, except @c hal).
 * @param out receives the handle; release with iotkit_envelope_free().
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG (missing key, bad key id or
 *         device id, nonce_block out of range); ::IOTKIT_ERR_NOMEM.
 */
IOTKIT_API iotkit_err_t iotkit_envelope_new(const iotkit_envelope_config_t *cfg, iotkit_envelope_t **out);

/**
 * @brief Release an envelope handle; the key is wiped.
 * @param env the handle, or NULL (no-op).
 */
IOTKIT_API void iotkit_envelope_free(iotkit_envelope_t *env);

/**
 * @brief Seal a payload for @p channel.
 *
 * Takes the next nonce, first reserving a new block in the HAL store when the
 * current one is used up (re-reading the stored value, so that two handles
 * used one after the other on one store never overlap).
 *
 * Not thread-safe on one handle (the counter moves): serialize the calls.
 *
 * @param env the handle (made with a HAL).
 * @param channel the channel name, e.g. "telemetry" or "commands/request",
 *        1 to ::IOTKIT_ENVELOPE_MAX_CHANNEL bytes.
 * @param pt the payload; may be NULL only when @p len is 0.
 * @param len its length.
 * @param out receives the envelope; must not overlap @p pt.
 * @param cap capacity of @p out: @p len + IOTKIT_ENVELOPE_OVERHEAD(strlen(key_id)) is enough.
 * @param out_len receives the envelope length; on ::IOTKIT_ERR_BUFFER_TOO_SMALL, the size needed.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG; ::IOTKIT_ERR_BUFFER_TOO_SMALL (no nonce used);
 *         ::IOTKIT_ERR_UNSUPPORTED if the handle has no HAL or the HAL no kv store;
 *         ::IOTKIT_ERR_CORRUPT if the stored counter is not 8 bytes;
 *         ::IOTKIT_ERR_STATE if the counter is exhausted (change the key);
 *         the HAL's error if the counter cannot be stored (nothing is sealed);
 *         ::IOTKIT_ERR_TOO_LARGE; ::IOTKIT_ERR_INTERNAL.
 */
IOTKIT_API iotkit_err_t iotkit_envelope_seal(iotkit_envelope_t *env, const char *channel, const void *pt, size_t len,
                                             void *out, size_t cap, size_t *out_len);

/**
 * @brief Check and open an envelope sealed for @p channel with this handle's
 * key, key id and device id.
 *
 * Any change to the envelope (version, key id, nonce, ciphertext, tag), or a
 * different channel, device id or key, gives ::IOTKIT_ERR_CRYPTO_AUTH and
 * releases nothing: the payload-sized start of @p pt (`in_len` minus the
 * overhead) is zeroed. An envelope too short to hold a header and a tag, or of another
 * version, is ::IOTKIT_ERR_BAD_ENCODING.
 *
 * Safe to call from several threads at once on one handle.
 *
 * @param env the handle.
 * @param channel the channel the envelope arrived on.
 * @param in the envelope; may be NULL only when @p in_len is 0.
 * @param in_len its length.
 * @param pt receives the payload; must not overlap @p in; may be NULL if the payload is empty.
 * @param cap capacity of @p pt.
 * @param pt_len receives the payload length; on ::IOTKIT_ERR_BUFFER_TOO_SMALL, the size needed.
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_CRYPTO_AUTH; ::IOTKIT_ERR_BAD_ENCODING;
 *         ::IOTKIT_ERR_BUFFER_TOO_SMALL; ::IOTKIT_ERR_INVALID_ARG; ::IOTKIT_ERR_INTERNAL.
 */
IOTKIT_API iotkit_err_t iotkit_envelope_open(const iotkit_envelope_t *env, const char *channel, const void *in,
                                             size_t in_len, void *pt, size_t cap, size_t *pt_len);

/**
 * @brief Read the key id of an envelope, before opening it, to choose the key.
 * The key id is NOT authenticated until iotkit_envelope_open() succeeds.
 * @param in the envelope. @param in_len its length.
 * @param kid receives the key id and a NUL.
 * @param cap capacity of @p kid (::IOTKIT_ENVELOPE_MAX_KID + 1 is enough).
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_BAD_ENCODING (not a version 1 envelope, bad key id);
 *         ::IOTKIT_ERR_BUFFER_TOO_SMALL; ::IOTKIT_ERR_INVALID_ARG.
 */
IOTKIT_API iotkit_err_t iotkit_envelope_peek_key_id(const void *in, size_t in_len, char *kid, size_t cap);

#ifdef __cplusplus
}
#endif
#endif /* IOTKIT_CRYPTO_H */
