/* Internal pieces of the telemetry area (not exported). */
#ifndef IOTKIT__TELEMETRY_INTERNAL_H
#define IOTKIT__TELEMETRY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotkit/telemetry.h"

struct iotkit_telemetry_batch {
  const iotkit_hal_t *hal;
  iotkit_telemetry_point_t *pts; /* every string and tag array is owned */
  size_t count, cap;
  uint64_t seq;
};

/* Largest sequence number the JSON encodings carry exactly (2^53). */
#define IOTKIT__TELEMETRY_MAX_SEQ (UINT64_C(1) << 53)

/* True if @s is a valid point name (RFC 8428 section 4.5.1 characters, 1..IOTKIT_TELEMETRY_MAX_NAME bytes). */
bool iotkit__telemetry_name_ok(const char *s);
/* True if the @len bytes at @s are valid UTF-8 without NUL. */
bool iotkit__telemetry_utf8_ok(const char *s, size_t len);

/* Map a batch_add failure met while decoding: INVALID_ARG means the input was bad. */
iotkit_err_t iotkit__telemetry_decode_err(iotkit_err_t rc);

/* The encoders and decoders, one file each. */
iotkit_err_t iotkit__telemetry_json_encode(const iotkit_telemetry_batch_t *b, uint8_t **out, size_t *len);
iotkit_err_t iotkit__telemetry_json_decode(const char *buf, size_t len, iotkit_telemetry_batch_t *b);
iotkit_err_t iotkit__telemetry_senml_json_encode(const iotkit_telemetry_batch_t *b, uint8_t **out, size_t *len);
iotkit_err_t iotkit__telemetry_senml_json_decode(const char *buf, size_t len, iotkit_telemetry_batch_t *b);
iotkit_err_t iotkit__telemetry_senml_cbor_encode(const iotkit_telemetry_batch_t *b, uint8_t **out, size_t *len);
/* Check that the CBOR item in @p buf (all of it) is well formed, that no array,
   map or string declares more than the bytes left could hold, and that it nests
   at most IOTKIT_TELEMETRY_MAX_CBOR_DEPTH deep: IOTKIT_OK, IOTKIT_ERR_BAD_ENCODING
   or IOTKIT_ERR_TOO_LARGE (cbor_check.c). */
iotkit_err_t iotkit__cbor_check(const uint8_t *buf, size_t len);
iotkit_err_t iotkit__telemetry_senml_cbor_decode(const uint8_t *buf, size_t len, iotkit_telemetry_batch_t *b);

/* Parse JSON text of exactly @len bytes (trailing whitespace allowed); NULL if malformed. */
struct cJSON *iotkit__telemetry_json_parse(const char *buf, size_t len);
/* The JSON form from a parsed document (for a reader that has parsed it already: the fleet). */
iotkit_err_t iotkit__telemetry_json_decode_tree(const struct cJSON *root, iotkit_telemetry_batch_t *b);
/* Add finite @d to @obj as the shortest JSON number that reads back as exactly @d (cJSON's own
   printer compares with a tolerance, and writes -0.0 as 0). */
bool iotkit__telemetry_json_add_double(struct cJSON *obj, const char *key, double d);
/* Add the point's tags as a "tags" object (nothing when it has none). */
bool iotkit__telemetry_json_add_tags(struct cJSON *obj, const iotkit_telemetry_point_t *p);
/* Read a "tags" object of strings into @tags (IOTKIT_TELEMETRY_MAX_TAGS entries, borrowed strings). */
iotkit_err_t iotkit__telemetry_json_read_tags(const struct cJSON *obj, iotkit_telemetry_tag_t *tags, size_t *count);
/* Print @root unformatted into a new buffer released with iotkit_free (NOMEM on failure). */
iotkit_err_t iotkit__telemetry_json_print(struct cJSON *root, uint8_t **out, size_t *len);

/* SenML resolution state shared by the JSON and CBOR decoders (RFC 8428 section 4.6). */
typedef struct iotkit__senml_base {
  char *bn;    /* base name, owned, or NULL */
  char *bu;    /* base unit, owned, or NULL */
  double bt;   /* base time, seconds */
  double bv;   /* base value */
  bool has_bv;
} iotkit__senml_base_t;

/* One SenML record as read, before resolution. Strings are borrowed from the parser. */
typedef struct iotkit__senml_record {
  const char *n, *u, *vs;
  double t, v;
  int64_t vi; /* when v_is_int (CBOR integers) */
  bool has_t, has_v, v_is_int, has_vs, has_vb, vb;
  bool has_vd, has_s;
  uint64_t seq; /* the libiotkit "seq" extension, 0 if absent */
  const iotkit_telemetry_tag_t *tags;
  size_t tag_count;
} iotkit__senml_record_t;

/* A SenML field value, whichever representation it came from. */
typedef enum iotkit__senml_kind { IOTKIT__SV_STR, IOTKIT__SV_NUM, IOTKIT__SV_INT, IOTKIT__SV_BOOL, IOTKIT__SV_OTHER } iotkit__senml_kind_t;
typedef struct iotkit__senml_value {
  iotkit__senml_kind_t kind;
  const char *s; /* IOTKIT__SV_STR: NUL-terminated */
  double d;      /* IOTKIT__SV_NUM, and IOTKIT__SV_INT as a double */
  int64_t i;     /* IOTKIT__SV_INT */
  bool b;        /* IOTKIT__SV_BOOL */
} iotkit__senml_value_t;

/* Apply one field (JSON label; "tags" excepted, which the caller reads): base fields update @base,
   regular ones fill @r. BAD_ENCODING for a wrong type, UNSUPPORTED for bver > 10 or a label ending in '_'. */
iotkit_err_t iotkit__senml_field(const char *label, const iotkit__senml_value_t *v, iotkit__senml_base_t *base,
                                 iotkit__senml_record_t *r);

/* Resolve @rec against @base and append it to @b (a record of base fields only adds nothing).
   BAD_ENCODING / UNSUPPORTED / TOO_LARGE / NOMEM. */
iotkit_err_t iotkit__senml_resolve_add(const iotkit__senml_base_t *base, const iotkit__senml_record_t *rec,
                                       iotkit_telemetry_batch_t *b);
/* Replace a base string (owned copy); NOMEM on failure. */
iotkit_err_t iotkit__senml_set_base(char **slot, const char *value);
void iotkit__senml_base_free(iotkit__senml_base_t *base);
/* Seconds (SenML time) of a point's millisecond timestamp, and back. */
double iotkit__senml_seconds(int64_t ts_ms);

#endif
