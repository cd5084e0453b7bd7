/* Helpers compiled into the extension (their C source is in build_ffi.py): the hot
   calls without an out-parameter that would need an ffi.new() per call. */
int64_t _iotkit_py_send_telemetry(iotkit_device_t *dev, const void *payload, size_t len);
int64_t _iotkit_py_publish(iotkit_device_t *dev, const char *suffix, const void *payload, size_t len, int qos,
                           bool retain);
