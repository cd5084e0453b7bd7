# libm: sqrt, fabs (windows, detectors)
list(APPEND _deps m)
target_sources(iotkit_obj PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/arena.c
  ${CMAKE_CURRENT_LIST_DIR}/config.c
  ${CMAKE_CURRENT_LIST_DIR}/config_procs.c
  ${CMAKE_CURRENT_LIST_DIR}/config_rules.c
  ${CMAKE_CURRENT_LIST_DIR}/detectors.c
  ${CMAKE_CURRENT_LIST_DIR}/filters.c
  ${CMAKE_CURRENT_LIST_DIR}/pipeline.c
  ${CMAKE_CURRENT_LIST_DIR}/rules.c
  ${CMAKE_CURRENT_LIST_DIR}/window.c
)
