/* Helpers shared by the backend-independent crypto sources (internal). */
#ifndef IOTKIT__CRYPTO_INTERNAL_H
#define IOTKIT__CRYPTO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "iotkit/crypto.h"

/* A buffer argument is valid when it is non-NULL or empty. */
#define IOTKIT__BUF_OK(p, n) ((p) != NULL || (n) == 0)

/* Bytes of a DER ECDSA-Sig-Value for P-256, at most. */
#define IOTKIT__ECDSA_DER_MAX 72

/* r||s (64 bytes) to DER ECDSA-Sig-Value; der has IOTKIT__ECDSA_DER_MAX bytes. */
size_t iotkit__crypto_ecdsa_raw_to_der(const uint8_t raw[64], uint8_t der[IOTKIT__ECDSA_DER_MAX]);
/* Strict DER ECDSA-Sig-Value to r||s; IOTKIT_ERR_BAD_SIGNATURE if malformed. */
iotkit_err_t iotkit__crypto_ecdsa_der_to_raw(const uint8_t *der, size_t len, uint8_t raw[64]);

#endif
