/* Helpers for the JWS/JWT tests: the RFC example tokens and keys, and a token crafter. */
#ifndef TEST_CRYPTO_JWT_UTIL_H
#define TEST_CRYPTO_JWT_UTIL_H

#include "test_crypto_keys.h"
#include "test_crypto_util.h"

/* RFC 7515 A.2 (RS256) and A.3 (ES256): payload {"iss":"joe","exp":1300819380,"http://example.com/is_root":true}. */
#define RFC7515_PAYLOAD_B64                                                                                           \
  "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
#define RFC7515_A2_TOKEN                                                                                              \
  "eyJhbGciOiJSUzI1NiJ9." RFC7515_PAYLOAD_B64                                                                         \
  ".cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7" \
  "t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi1" \
  "2jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGl" \
  "UPQGe77Rw"
#define RFC7515_A3_TOKEN                                                                                              \
  "eyJhbGciOiJFUzI1NiJ9." RFC7515_PAYLOAD_B64                                                                         \
  ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"
/* RFC 7515 A.5, the unsecured JWS: {"alg":"none"}. */
#define RFC7515_A5_TOKEN "eyJhbGciOiJub25lIn0." RFC7515_PAYLOAD_B64 "."
#define RFC7515_EXP 1300819380

/* RFC 8037 A.4: Ed25519 key of RFC 8032 TEST 1 (A.1), payload "Example of Ed25519 signing". */
#define RFC8037_SEED "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
#define RFC8037_PUB "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
#define RFC8037_A4_TOKEN                                                                                              \
  "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."                                                         \
  "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"

static inline iotkit_key_t *load_pem(const char *pem) {
  iotkit_key_t *k = NULL;
  cr_assert_eq(iotkit_key_load(pem, strlen(pem), &k), IOTKIT_OK);
  return k;
}

static inline iotkit_key_t *rfc8037_key(bool with_private) {
  size_t sl, pl;
  uint8_t *seed = hex(RFC8037_SEED, &sl), *pub = hex(RFC8037_PUB, &pl);
  iotkit_key_t *k = NULL;
  cr_assert_eq(iotkit_key_from_raw(IOTKIT_KEY_ED25519, with_private ? seed : NULL, with_private ? sl : 0, pub, pl, &k),
               IOTKIT_OK);
  free(seed);
  free(pub);
  return k;
}

/* base64url(header) "." base64url(payload) "." sig_b64 into a malloc'd string. */
static inline char *craft(const char *header, const char *payload, const char *sig_b64) {
  size_t hl = strlen(header), pl = strlen(payload), cap = 2 * (hl + pl) + strlen(sig_b64) + 16;
  char *t = malloc(cap);
  size_t n = 0, m = 0;
  cr_assert_eq(iotkit_base64url_encode(header, hl, t, cap, &n), IOTKIT_OK);
  t[n++] = '.';
  cr_assert_eq(iotkit_base64url_encode(payload, pl, t + n, cap - n, &m), IOTKIT_OK);
  n += m;
  t[n++] = '.';
  strcpy(t + n, sig_b64);
  return t;
}

static inline void verify_opts(iotkit_jwt_verify_opts_t *o, iotkit_jwt_alg_t alg, const iotkit_key_t *key,
                               int64_t now) {
  iotkit_jwt_verify_opts_init(o);
  o->alg = alg;
  o->key = key;
  o->now_s = now;
}

#endif
