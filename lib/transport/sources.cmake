target_sources(iotkit_obj PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/common.c
  ${CMAKE_CURRENT_LIST_DIR}/uri.c
  ${CMAKE_CURRENT_LIST_DIR}/topic.c
  ${CMAKE_CURRENT_LIST_DIR}/registry.c
  ${CMAKE_CURRENT_LIST_DIR}/loopback.c
)
