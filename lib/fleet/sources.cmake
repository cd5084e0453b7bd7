# The fleet (registry on SQLite). IOTKIT_WITH_FLEET and the sqlite3 module are
# decided in the top-level CMakeLists.txt; without them the API is a stub that
# returns IOTKIT_ERR_UNSUPPORTED.
target_sources(iotkit_obj PRIVATE ${CMAKE_CURRENT_LIST_DIR}/fleet_config.c ${CMAKE_CURRENT_LIST_DIR}/geo.c)
# haversine (geo.c)
list(APPEND _deps m)
if(IOTKIT_WITH_FLEET)
  list(APPEND _deps PkgConfig::SQLITE3)
  target_sources(iotkit_obj PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/fleet.c
    ${CMAKE_CURRENT_LIST_DIR}/writer.c
    ${CMAKE_CURRENT_LIST_DIR}/registry.c
    ${CMAKE_CURRENT_LIST_DIR}/registry_check.c
    ${CMAKE_CURRENT_LIST_DIR}/store_sqlite.c
    ${CMAKE_CURRENT_LIST_DIR}/store_sqlite_sql.c
    ${CMAKE_CURRENT_LIST_DIR}/store_sqlite_devices.c
    ${CMAKE_CURRENT_LIST_DIR}/store_sqlite_live.c
    ${CMAKE_CURRENT_LIST_DIR}/view.c
    ${CMAKE_CURRENT_LIST_DIR}/flush.c
    ${CMAKE_CURRENT_LIST_DIR}/callbacks.c
    ${CMAKE_CURRENT_LIST_DIR}/session.c
    ${CMAKE_CURRENT_LIST_DIR}/loop.c
    ${CMAKE_CURRENT_LIST_DIR}/presence.c
    ${CMAKE_CURRENT_LIST_DIR}/ingest.c
    ${CMAKE_CURRENT_LIST_DIR}/ingest_data.c
    ${CMAKE_CURRENT_LIST_DIR}/monitor.c
    ${CMAKE_CURRENT_LIST_DIR}/history.c
    ${CMAKE_CURRENT_LIST_DIR}/store_sqlite_history.c
    ${CMAKE_CURRENT_LIST_DIR}/control.c
    ${CMAKE_CURRENT_LIST_DIR}/command.c
    ${CMAKE_CURRENT_LIST_DIR}/desired.c
    ${CMAKE_CURRENT_LIST_DIR}/e2e.c
    ${CMAKE_CURRENT_LIST_DIR}/store_sqlite_desired.c
    ${CMAKE_CURRENT_LIST_DIR}/rollout.c
    ${CMAKE_CURRENT_LIST_DIR}/rollout_eval.c
    ${CMAKE_CURRENT_LIST_DIR}/rollout_load.c
    ${CMAKE_CURRENT_LIST_DIR}/rollout_refresh.c
    ${CMAKE_CURRENT_LIST_DIR}/rollout_query.c
    ${CMAKE_CURRENT_LIST_DIR}/rollout_wire.c
    ${CMAKE_CURRENT_LIST_DIR}/store_sqlite_rollout.c
    ${CMAKE_CURRENT_LIST_DIR}/store_sqlite_tel_count.c
  )
else()
  target_sources(iotkit_obj PRIVATE ${CMAKE_CURRENT_LIST_DIR}/fleet_stub.c ${CMAKE_CURRENT_LIST_DIR}/control_stub.c
                                    ${CMAKE_CURRENT_LIST_DIR}/rollout_stub.c)
endif()
