/**
 * @file error.h
 * @brief The one error enum of libiotkit, with names and messages.
 *
 * Every fallible public function returns an ::iotkit_err_t. Zero is success;
 * every failure is a negative code. Codes are never renumbered: new codes are
 * appended with a new, lower value. Names and messages come from the single
 * table IOTKIT_ERRNO_MAP below, so they can never drift apart.
 */
#ifndef IOTKIT_ERROR_H
#define IOTKIT_ERROR_H

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * X-macro table: XX(NAME, value, "message"). Append only; never renumber.
 */
#define IOTKIT_ERRNO_MAP(XX)                                                       \
  XX(OK, 0, "success")                                                             \
  XX(ERR_INVALID_ARG, -1, "invalid argument")                                      \
  XX(ERR_NOMEM, -2, "out of memory")                                               \
  XX(ERR_UNSUPPORTED, -3, "operation not supported")                               \
  XX(ERR_BAD_URI, -4, "malformed URI")                                             \
  XX(ERR_UNKNOWN_SCHEME, -5, "no transport registered for the URI scheme")         \
  XX(ERR_CONNECT, -6, "could not connect to the server")                           \
  XX(ERR_NOT_CONNECTED, -7, "not connected")                                       \
  XX(ERR_TIMEOUT, -8, "operation timed out")                                       \
  XX(ERR_TOO_LARGE, -9, "payload or value too large")                              \
  XX(ERR_IO, -10, "input/output error")                                            \
  XX(ERR_NOT_FOUND, -11, "not found")                                              \
  XX(ERR_STATE, -12, "operation not valid in the current state")                   \
  XX(ERR_PROTOCOL, -13, "protocol error")                                          \
  XX(ERR_AUTH, -14, "authentication or authorization refused")                     \
  XX(ERR_TLS, -15, "TLS error")                                                    \
  XX(ERR_BUFFER_TOO_SMALL, -16, "buffer too small")                                \
  XX(ERR_EXISTS, -17, "already exists")                                            \
  XX(ERR_BUSY, -18, "resource busy; try again")                                    \
  XX(ERR_POWER_CUT, -19, "simulated power cut")                                    \
  XX(ERR_INJECTED, -20, "injected fault")                                          \
  XX(ERR_DELIVERY, -21, "message delivery failed")                                 \
  XX(ERR_CONNECTION_LOST, -22, "connection lost")                                  \
  XX(ERR_CORRUPT, -23, "stored data is corrupt")                                   \
  XX(ERR_INTERNAL, -24, "internal error")                                         \
  XX(ERR_CRYPTO_AUTH, -25, "authentication failed: data or tag altered")           \
  XX(ERR_BAD_KEY, -26, "key is malformed or of the wrong type for the operation")  \
  XX(ERR_BAD_SIGNATURE, -27, "signature verification failed")                      \
  XX(ERR_BAD_ENCODING, -28, "malformed encoding (base64, PEM, DER or JSON)")       \
  XX(ERR_JWT_MALFORMED, -29, "malformed JWT")                                      \
  XX(ERR_JWT_ALG_NONE, -30, "unsigned JWT (alg none) refused")                     \
  XX(ERR_JWT_ALG, -31, "JWT algorithm differs from the expected one")              \
  XX(ERR_JWT_EXPIRED, -32, "JWT expired")                                          \
  XX(ERR_JWT_NOT_YET_VALID, -33, "JWT not yet valid")                              \
  XX(ERR_JWT_AUDIENCE, -34, "JWT audience does not match")                         \
  XX(ERR_JWT_CLAIM, -35, "JWT claim missing or of the wrong type")                 \
  XX(ERR_QUEUE_FULL, -36, "queue full; message refused")                           \
  XX(ERR_OTA_MANIFEST, -37, "malformed OTA manifest")                              \
  XX(ERR_OTA_SIGNATURE, -38, "OTA manifest signature does not verify")             \
  XX(ERR_OTA_UNKNOWN_KEY, -39, "OTA manifest signed by a key not trusted")         \
  XX(ERR_OTA_DEVICE_TYPE, -40, "OTA image is for another device type")             \
  XX(ERR_OTA_TOO_LARGE, -41, "OTA image larger than the firmware slot")            \
  XX(ERR_OTA_DOWNGRADE, -42, "OTA version not newer than the running one")         \
  XX(ERR_OTA_BELOW_FLOOR, -43, "OTA version below the security floor")             \
  XX(ERR_OTA_HASH, -44, "OTA image SHA-256 differs from the manifest")             \
  XX(ERR_OTA_SIZE, -45, "OTA image size differs from the manifest")                \
  XX(ERR_OTA_SERVER, -46, "download server answered with an error status")         \
  XX(ERR_OTA_ROLLED_BACK, -47, "OTA image not confirmed in time: rolled back")     \
  XX(ERR_OTA_TRIAL_TIMEOUT, -48, "OTA image not confirmed within the trial time: rolled back") \
  XX(ERR_OFFLINE, -49, "the device is offline")                                    \
  XX(ERR_REMOTE, -50, "the device answered with an error")

/** Error codes. ::IOTKIT_OK is 0; every error is negative. */
typedef enum iotkit_err {
#define IOTKIT__ERR_ENUM(name, value, msg) IOTKIT_##name = (value),
  IOTKIT_ERRNO_MAP(IOTKIT__ERR_ENUM)
#undef IOTKIT__ERR_ENUM
} iotkit_err_t;

/**
 * @brief Human-readable message for an error code.
 * @param err any value; unknown values give "unknown error".
 * @return a static string; never NULL. Thread-safe.
 */
IOTKIT_API const char *iotkit_strerror(iotkit_err_t err);

/**
 * @brief Symbolic name of an error code, e.g. "IOTKIT_ERR_TIMEOUT".
 * @param err any value; unknown values give "IOTKIT_ERR_UNKNOWN".
 * @return a static string; never NULL. Thread-safe.
 */
IOTKIT_API const char *iotkit_err_name(iotkit_err_t err);

#ifdef __cplusplus
}
#endif
#endif /* IOTKIT_ERROR_H */
