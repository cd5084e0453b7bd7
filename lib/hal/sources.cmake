target_sources(iotkit_obj PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/hal.c
  ${CMAKE_CURRENT_LIST_DIR}/boot_record.c
  ${CMAKE_CURRENT_LIST_DIR}/posix_clock.c
  ${CMAKE_CURRENT_LIST_DIR}/posix_threads.c
  ${CMAKE_CURRENT_LIST_DIR}/posix.c
  ${CMAKE_CURRENT_LIST_DIR}/posix_files.c
  ${CMAKE_CURRENT_LIST_DIR}/posix_kv.c
  ${CMAKE_CURRENT_LIST_DIR}/posix_slots.c
  ${CMAKE_CURRENT_LIST_DIR}/posix_segments.c
  ${CMAKE_CURRENT_LIST_DIR}/memory.c
  ${CMAKE_CURRENT_LIST_DIR}/memory_store.c
  ${CMAKE_CURRENT_LIST_DIR}/memory_slots.c
  ${CMAKE_CURRENT_LIST_DIR}/memory_segments.c
)
