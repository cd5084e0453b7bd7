target_sources(iotkit_obj PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/device.c
  ${CMAKE_CURRENT_LIST_DIR}/device_channel.c
  ${CMAKE_CURRENT_LIST_DIR}/device_commands.c
  ${CMAKE_CURRENT_LIST_DIR}/device_desired.c
  ${CMAKE_CURRENT_LIST_DIR}/device_dispatch.c
  ${CMAKE_CURRENT_LIST_DIR}/device_e2e.c
  ${CMAKE_CURRENT_LIST_DIR}/device_events.c
  ${CMAKE_CURRENT_LIST_DIR}/device_fd.c
  ${CMAKE_CURRENT_LIST_DIR}/device_io.c
  ${CMAKE_CURRENT_LIST_DIR}/device_loop.c
  ${CMAKE_CURRENT_LIST_DIR}/device_ota.c
  ${CMAKE_CURRENT_LIST_DIR}/device_state.c
  ${CMAKE_CURRENT_LIST_DIR}/device_status.c
  ${CMAKE_CURRENT_LIST_DIR}/device_subs.c
  ${CMAKE_CURRENT_LIST_DIR}/device_supervisor.c
  ${CMAKE_CURRENT_LIST_DIR}/device_telemetry.c
)
