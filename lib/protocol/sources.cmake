target_sources(iotkit_obj PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/channel.c
  ${CMAKE_CURRENT_LIST_DIR}/docs_command.c
  ${CMAKE_CURRENT_LIST_DIR}/docs_location.c
  ${CMAKE_CURRENT_LIST_DIR}/docs_ota.c
  ${CMAKE_CURRENT_LIST_DIR}/docs_state.c
  ${CMAKE_CURRENT_LIST_DIR}/docs_status.c
  ${CMAKE_CURRENT_LIST_DIR}/json.c
  ${CMAKE_CURRENT_LIST_DIR}/merge_patch.c
  ${CMAKE_CURRENT_LIST_DIR}/topic.c
)
