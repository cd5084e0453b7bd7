/* Telemetry encodings: names, dispatch and the JSON helpers they share. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "telemetry/telemetry_internal.h"

static const struct {
  const char *name;
  const char *media_type;
} g_formats[] = {
    [IOTKIT_TELEMETRY_FORMAT_JSON] = {"json", "application/json"},
    [IOTKIT_TELEMETRY_FORMAT_SENML_JSON] = {"senml-json", "application/senml+json"},
    [IOTKIT_TELEMETRY_FORMAT_SENML_CBOR] = {"senml-cbor", "application/senml+cbor"},
};
#define FORMAT_COUNT (sizeof(g_formats) / sizeof(g_formats[0]))

const char *iotkit_telemetry_format_name(iotkit_telemetry_format_t format) {
  return (unsigned)format < FORMAT_COUNT ? g_formats[format].name : NULL;
}

const char *iotkit_telemetry_format_media_type(iotkit_telemetry_format_t format) {
  return (unsigned)format < FORMAT_COUNT ? g_formats[format].media_type : NULL;
}

iotkit_err_t iotkit_telemetry_format_parse(const char *name, iotkit_telemetry_format_t *format) {
  if (!name || !format) return IOTKIT_ERR_INVALID_ARG;
  for (unsigned i = 0; i < FORMAT_COUNT; i++) {
    if (strcmp(name, g_formats[i].name) == 0) {
      *format = (iotkit_telemetry_format_t)i;
      return IOTKIT_OK;
    }
  }
  return IOTKIT_ERR_NOT_FOUND;
}

iotkit_err_t iotkit_telemetry_encode(const iotkit_telemetry_batch_t *batch, iotkit_telemetry_format_t format,
                                     uint8_t **out, size_t *len) {
  if (!batch || !out || !len || batch->count == 0) return IOTKIT_ERR_INVALID_ARG;
  switch (format) {
    case IOTKIT_TELEMETRY_FORMAT_JSON:
      return iotkit__telemetry_json_encode(batch, out, len);
    case IOTKIT_TELEMETRY_FORMAT_SENML_JSON:
      return iotkit__telemetry_senml_json_encode(batch, out, len);
    case IOTKIT_TELEMETRY_FORMAT_SENML_CBOR:
      return iotkit__telemetry_senml_cbor_encode(batch, out, len);
    default:
      return IOTKIT_ERR_INVALID_ARG;
  }
}

iotkit_err_t iotkit_telemetry_decode(iotkit_telemetry_format_t format, const void *buf, size_t len,
                                     iotkit_telemetry_batch_t **out) {
  if ((!buf && len > 0) || !out || (unsigned)format >= FORMAT_COUNT) return IOTKIT_ERR_INVALID_ARG;
  iotkit_telemetry_batch_t *b = NULL;
  iotkit_err_t rc = iotkit_telemetry_batch_new(NULL, &b);
  if (rc != IOTKIT_OK) return rc;
  if (format == IOTKIT_TELEMETRY_FORMAT_JSON) {
    rc = iotkit__telemetry_json_decode(buf, len, b);
  } else if (format == IOTKIT_TELEMETRY_FORMAT_SENML_JSON) {
    rc = iotkit__telemetry_senml_json_decode(buf, len, b);
  } else {
    rc = iotkit__telemetry_senml_cbor_decode(buf, len, b);
  }
  if (rc != IOTKIT_OK) {
    iotkit_telemetry_batch_free(b);
    return rc;
  }
  *out = b;
  return IOTKIT_OK;
}

iotkit_err_t iotkit__telemetry_decode_err(iotkit_err_t rc) {
  return rc == IOTKIT_ERR_INVALID_ARG ? IOTKIT_ERR_BAD_ENCODING : rc;
}

cJSON *iotkit__telemetry_json_parse(const char *buf, size_t len) {
  if (len == 0) return NULL;
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts(buf, len, &end, false);
  if (!root) return NULL;
  /* Only whitespace may follow the value: anything else is a second, unexpected document. */
  for (const char *p = end; p < buf + len; p++) {
    if (!strchr(" \t\r\n", *p)) {
      cJSON_Delete(root);
      return NULL;
    }
  }
  return root;
}

iotkit_err_t iotkit__telemetry_json_print(cJSON *root, uint8_t **out, size_t *len) {
  char *text = cJSON_PrintUnformatted(root);
  if (!text) return IOTKIT_ERR_NOMEM;
  size_t n = strlen(text);
  /* Copied so that the caller releases it with iotkit_free, whatever allocator cJSON uses. */
  uint8_t *copy = malloc(n + 1);
  if (copy) memcpy(copy, text, n + 1);
  cJSON_free(text);
  if (!copy) return IOTKIT_ERR_NOMEM;
  *out = copy;
  *len = n;
  return IOTKIT_OK;
}

bool iotkit__telemetry_json_add_double(cJSON *obj, const char *key, double d) {
  char text[40];
  for (int digits = 15; digits <= 17; digits++) {
    snprintf(text, sizeof(text), "%.*g", digits, d);
    if (strtod(text, NULL) == d) break;
  }
  /* JSON wants '.', whatever the locale's decimal point is. */
  for (char *c = text; *c; c++)
    if (*c == ',') *c = '.';
  return cJSON_AddRawToObject(obj, key, text) != NULL;
}

bool iotkit__telemetry_json_add_tags(cJSON *obj, const iotkit_telemetry_point_t *p) {
  if (p->tag_count == 0) return true;
  cJSON *tags = cJSON_AddObjectToObject(obj, "tags");
  bool ok = tags != NULL;
  for (size_t i = 0; ok && i < p->tag_count; i++)
    ok = cJSON_AddStringToObject(tags, p->tags[i].key, p->tags[i].value) != NULL;
  return ok;
}

iotkit_err_t iotkit__telemetry_json_read_tags(const cJSON *obj, iotkit_telemetry_tag_t *tags, size_t *count) {
  if (!cJSON_IsObject(obj)) return IOTKIT_ERR_BAD_ENCODING;
  size_t n = 0;
  const cJSON *t;
  cJSON_ArrayForEach(t, obj) {
    if (!cJSON_IsString(t)) return IOTKIT_ERR_BAD_ENCODING;
    if (n == IOTKIT_TELEMETRY_MAX_TAGS) return IOTKIT_ERR_TOO_LARGE;
    tags[n].key = t->string;
    tags[n++].value = t->valuestring;
  }
  *count = n;
  return IOTKIT_OK;
}
