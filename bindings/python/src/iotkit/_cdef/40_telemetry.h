/* telemetry.h: points, batches, the three encodings. (The queue is not bound:
 * the device uses it internally.) device.h needs iotkit_telemetry_batch_t and
 * iotkit_telemetry_format_t too: if 10_*.h .. 29_*.h declare the format enum,
 * keep one copy (cffi refuses two). */
#define IOTKIT_TELEMETRY_MAX_NAME ...
#define IOTKIT_TELEMETRY_MAX_TEXT ...
#define IOTKIT_TELEMETRY_MAX_TAGS ...
#define IOTKIT_TELEMETRY_MAX_POINTS ...
#define IOTKIT_TELEMETRY_NOW ...

typedef enum iotkit_telemetry_type {
  IOTKIT_TELEMETRY_DOUBLE = 0, IOTKIT_TELEMETRY_INT = 1, IOTKIT_TELEMETRY_BOOL = 2, IOTKIT_TELEMETRY_STRING = 3
} iotkit_telemetry_type_t;

typedef struct iotkit_telemetry_tag {
  const char *key;
  const char *value;
} iotkit_telemetry_tag_t;

typedef struct iotkit_telemetry_point {
  const char *name;
  const char *unit;
  int64_t ts_ms;
  iotkit_telemetry_type_t type;
  union {
    double d;
    int64_t i;
    bool b;
    const char *s;
  } value;
  const iotkit_telemetry_tag_t *tags;
  size_t tag_count;
} iotkit_telemetry_point_t;

typedef struct iotkit_telemetry_batch iotkit_telemetry_batch_t;
iotkit_err_t iotkit_telemetry_batch_new(const iotkit_hal_t *hal, iotkit_telemetry_batch_t **out);
void iotkit_telemetry_batch_free(iotkit_telemetry_batch_t *batch);
iotkit_err_t iotkit_telemetry_batch_add(iotkit_telemetry_batch_t *batch, const iotkit_telemetry_point_t *point);
iotkit_err_t iotkit_telemetry_batch_add_double(iotkit_telemetry_batch_t *batch, const char *name, const char *unit,
                                               int64_t ts_ms, double value);
iotkit_err_t iotkit_telemetry_batch_add_int(iotkit_telemetry_batch_t *batch, const char *name, const char *unit,
                                            int64_t ts_ms, int64_t value);
iotkit_err_t iotkit_telemetry_batch_add_bool(iotkit_telemetry_batch_t *batch, const char *name, const char *unit,
                                             int64_t ts_ms, bool value);
iotkit_err_t iotkit_telemetry_batch_add_string(iotkit_telemetry_batch_t *batch, const char *name, const char *unit,
                                               int64_t ts_ms, const char *value);
iotkit_err_t iotkit_telemetry_batch_tag(iotkit_telemetry_batch_t *batch, const char *key, const char *value);
size_t iotkit_telemetry_batch_count(const iotkit_telemetry_batch_t *batch);
iotkit_err_t iotkit_telemetry_batch_get(const iotkit_telemetry_batch_t *batch, size_t index,
                                        const iotkit_telemetry_point_t **point);
iotkit_err_t iotkit_telemetry_batch_set_seq(iotkit_telemetry_batch_t *batch, uint64_t seq);
uint64_t iotkit_telemetry_batch_seq(const iotkit_telemetry_batch_t *batch);

typedef enum iotkit_telemetry_format {
  IOTKIT_TELEMETRY_FORMAT_JSON = 0, IOTKIT_TELEMETRY_FORMAT_SENML_JSON = 1, IOTKIT_TELEMETRY_FORMAT_SENML_CBOR = 2
} iotkit_telemetry_format_t;
const char *iotkit_telemetry_format_name(iotkit_telemetry_format_t format);
const char *iotkit_telemetry_format_media_type(iotkit_telemetry_format_t format);
iotkit_err_t iotkit_telemetry_format_parse(const char *name, iotkit_telemetry_format_t *format);
iotkit_err_t iotkit_telemetry_encode(const iotkit_telemetry_batch_t *batch, iotkit_telemetry_format_t format,
                                     uint8_t **out, size_t *len);
iotkit_err_t iotkit_telemetry_decode(iotkit_telemetry_format_t format, const void *buf, size_t len,
                                     iotkit_telemetry_batch_t **out);
