# Over-the-air updates (include/iotkit/ota.h). Downloads go through lib/transport/fetch.h.
target_sources(iotkit_obj PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/semver.c
  ${CMAKE_CURRENT_LIST_DIR}/manifest.c
  ${CMAKE_CURRENT_LIST_DIR}/trust.c
  ${CMAKE_CURRENT_LIST_DIR}/state.c
  ${CMAKE_CURRENT_LIST_DIR}/checks.c
  ${CMAKE_CURRENT_LIST_DIR}/ota.c
  ${CMAKE_CURRENT_LIST_DIR}/download.c
  ${CMAKE_CURRENT_LIST_DIR}/install.c
  ${CMAKE_CURRENT_LIST_DIR}/trial.c
)
