target_sources(iotkit_obj PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/common.c
  ${CMAKE_CURRENT_LIST_DIR}/uri.c
  ${CMAKE_CURRENT_LIST_DIR}/registry.c
  ${CMAKE_CURRENT_LIST_DIR}/loopback.c
  ${CMAKE_CURRENT_LIST_DIR}/coap_map.c
  ${CMAKE_CURRENT_LIST_DIR}/fetch.c
)
if(IOTKIT_WITH_MQTT)
  target_sources(iotkit_obj PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/mqtt_mosquitto.c
    ${CMAKE_CURRENT_LIST_DIR}/mqtt_tls.c
    ${CMAKE_CURRENT_LIST_DIR}/mqtt_acks.c
    ${CMAKE_CURRENT_LIST_DIR}/mqtt_io.c
    ${CMAKE_CURRENT_LIST_DIR}/mqtt_msg.c
  )
endif()
if(IOTKIT_WITH_HTTP)
  target_sources(iotkit_obj PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/http_curl.c
    ${CMAKE_CURRENT_LIST_DIR}/http_request.c
    ${CMAKE_CURRENT_LIST_DIR}/http_loop.c
    ${CMAKE_CURRENT_LIST_DIR}/http_fd.c
  )
endif()
if(IOTKIT_WITH_HTTP)
  # Streaming download for OTA (lib/transport/fetch.h): http and https.
  target_sources(iotkit_obj PRIVATE ${CMAKE_CURRENT_LIST_DIR}/fetch_curl.c)
endif()
if(IOTKIT_WITH_COAP)
  target_sources(iotkit_obj PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/coap_libcoap.c
    ${CMAKE_CURRENT_LIST_DIR}/coap_requests.c
    ${CMAKE_CURRENT_LIST_DIR}/coap_dtls.c
    ${CMAKE_CURRENT_LIST_DIR}/fetch_coap.c # OTA download over coap and coaps (fetch.h)
  )
endif()
