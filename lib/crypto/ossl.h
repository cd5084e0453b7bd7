/* Shared bits of the OpenSSL backend (internal). */
#ifndef IOTKIT__CRYPTO_OSSL_H
#define IOTKIT__CRYPTO_OSSL_H

#include <openssl/err.h>
#include <openssl/evp.h>

#include "iotkit/error.h"

/* Every OpenSSL failure leaves entries in its thread-local error queue; drop
 * them so that they never surface in an unrelated later call. */
static inline iotkit_err_t iotkit__ossl_fail(iotkit_err_t err) {
  ERR_clear_error();
  return err;
}

/* The OpenSSL backend's key object (see backend.h). */
struct iotkit__bk_key {
  EVP_PKEY *pkey;
};

#endif
