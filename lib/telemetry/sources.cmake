pkg_check_modules(CBOR REQUIRED IMPORTED_TARGET libcbor)
list(APPEND _deps PkgConfig::CBOR)
string(APPEND IOTKIT_PC_REQUIRES_PRIVATE " libcbor")
target_sources(iotkit_obj PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/batch.c
  ${CMAKE_CURRENT_LIST_DIR}/codec.c
  ${CMAKE_CURRENT_LIST_DIR}/json.c
  ${CMAKE_CURRENT_LIST_DIR}/senml.c
  ${CMAKE_CURRENT_LIST_DIR}/senml_json.c
  ${CMAKE_CURRENT_LIST_DIR}/senml_cbor.c
  ${CMAKE_CURRENT_LIST_DIR}/cbor_check.c
  ${CMAKE_CURRENT_LIST_DIR}/queue_log.c
  ${CMAKE_CURRENT_LIST_DIR}/queue.c
  ${CMAKE_CURRENT_LIST_DIR}/queue_open.c
)
