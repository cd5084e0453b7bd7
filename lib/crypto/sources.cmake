# Crypto primitives and JWT. The files named ossl_* are the OpenSSL 3 backend
# (lib/crypto/backend.h is the boundary); another backend would replace them.
set(_iotkit_crypto_generic
  ${CMAKE_CURRENT_LIST_DIR}/hash.c
  ${CMAKE_CURRENT_LIST_DIR}/base64.c
  ${CMAKE_CURRENT_LIST_DIR}/random.c
  ${CMAKE_CURRENT_LIST_DIR}/aead.c
  ${CMAKE_CURRENT_LIST_DIR}/key.c
  ${CMAKE_CURRENT_LIST_DIR}/sign.c
  ${CMAKE_CURRENT_LIST_DIR}/ecdsa_der.c
  ${CMAKE_CURRENT_LIST_DIR}/jws.c
  ${CMAKE_CURRENT_LIST_DIR}/jwt.c
  ${CMAKE_CURRENT_LIST_DIR}/jwt_claims.c
  ${CMAKE_CURRENT_LIST_DIR}/jwt_provider.c
  ${CMAKE_CURRENT_LIST_DIR}/envelope.c
  ${CMAKE_CURRENT_LIST_DIR}/envelope_nonce.c
)
set(_iotkit_crypto_openssl
  ${CMAKE_CURRENT_LIST_DIR}/ossl_hash.c
  ${CMAKE_CURRENT_LIST_DIR}/ossl_aead.c
  ${CMAKE_CURRENT_LIST_DIR}/ossl_key.c
  ${CMAKE_CURRENT_LIST_DIR}/ossl_sign.c
)
target_sources(iotkit_obj PRIVATE ${_iotkit_crypto_generic} ${_iotkit_crypto_openssl})
# OpenSSL 3 EVP interfaces only: any deprecated (pre-3.0) call fails to compile.
set_source_files_properties(${_iotkit_crypto_openssl} PROPERTIES
  COMPILE_DEFINITIONS "OPENSSL_API_COMPAT=30000;OPENSSL_NO_DEPRECATED")
