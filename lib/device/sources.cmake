target_sources(iotkit_obj PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/device.c
  ${CMAKE_CURRENT_LIST_DIR}/device_channel.c
  ${CMAKE_CURRENT_LIST_DIR}/device_events.c
  ${CMAKE_CURRENT_LIST_DIR}/device_io.c
  ${CMAKE_CURRENT_LIST_DIR}/device_loop.c
)
