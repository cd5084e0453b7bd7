/* Validation of registry inputs: the rules of iotkit_fleet_device_spec_t, each with its code. */
#include <string.h>

#include <cjson/cJSON.h>

#include "core/util.h"
#include "fleet/registry.h"
#include "protocol/json.h"
#include "telemetry/telemetry_internal.h"

bool iotkit__fleet_id_ok(const char *id) { return iotkit__is_safe_name(id, IOTKIT_MAX_DEVICE_ID); }

/* Length of @p s, or max + 1 if longer (without reading far past a huge string). */
static size_t bounded_len(const char *s, size_t max) { return strnlen(s, max + 1); }

/* Free text: at most @p max bytes of UTF-8. */
static iotkit_err_t check_text(iotkit_fleet_t *f, const char *what, const char *s, size_t max) {
  size_t n = bounded_len(s, max);
  if (n > max) {
    iotkit__fleet_set_error(f, "%s longer than %zu bytes", what, max);
    return IOTKIT_ERR_TOO_LARGE;
  }
  if (!iotkit__telemetry_utf8_ok(s, n)) {
    iotkit__fleet_set_error(f, "%s is not UTF-8", what);
    return IOTKIT_ERR_BAD_ENCODING;
  }
  return IOTKIT_OK;
}

static iotkit_err_t check_type(iotkit_fleet_t *f, const char *type) {
  if (!*type) return IOTKIT_OK;
  if (bounded_len(type, IOTKIT_FLEET_MAX_TYPE) > IOTKIT_FLEET_MAX_TYPE) {
    iotkit__fleet_set_error(f, "type longer than %u bytes", IOTKIT_FLEET_MAX_TYPE);
    return IOTKIT_ERR_TOO_LARGE;
  }
  if (!iotkit__is_safe_name(type, IOTKIT_FLEET_MAX_TYPE)) {
    iotkit__fleet_set_error(f, "type must be bytes of [A-Za-z0-9._-] (not \".\" or \"..\")");
    return IOTKIT_ERR_INVALID_ARG;
  }
  return IOTKIT_OK;
}

static iotkit_err_t check_tags(iotkit_fleet_t *f, const char *const *tags, size_t count) {
  if (count > IOTKIT_FLEET_MAX_TAGS) {
    iotkit__fleet_set_error(f, "%zu tags, more than %u", count, IOTKIT_FLEET_MAX_TAGS);
    return IOTKIT_ERR_TOO_LARGE;
  }
  if (count > 0 && !tags) {
    iotkit__fleet_set_error(f, "tag_count %zu with no tags", count);
    return IOTKIT_ERR_INVALID_ARG;
  }
  for (size_t i = 0; i < count; i++) {
    if (!tags[i] || !*tags[i]) {
      iotkit__fleet_set_error(f, "tag %zu is %s", i, tags[i] ? "empty" : "NULL");
      return IOTKIT_ERR_INVALID_ARG;
    }
    iotkit_err_t rc = check_text(f, "a tag", tags[i], IOTKIT_FLEET_MAX_TAG);
    if (rc != IOTKIT_OK) return rc;
    for (size_t j = 0; j < i; j++) {
      if (strcmp(tags[i], tags[j]) == 0) {
        iotkit__fleet_set_error(f, "tag %zu repeats tag %zu", i, j);
        return IOTKIT_ERR_INVALID_ARG;
      }
    }
  }
  return IOTKIT_OK;
}

static iotkit_err_t check_attributes(iotkit_fleet_t *f, const char *text) {
  iotkit_err_t rc = check_text(f, "attributes", text, IOTKIT_FLEET_MAX_ATTRIBUTES);
  if (rc != IOTKIT_OK) return rc;
  /* JSON allows whitespace after the value; iotkit__json_parse() refuses it (cJSON
     does not skip it unless asked for a NUL terminator), so it is left out here. */
  size_t n = strlen(text);
  while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\t' || text[n - 1] == '\n' || text[n - 1] == '\r')) n--;
  cJSON *doc = iotkit__json_parse(text, n);
  bool ok = doc && cJSON_IsObject(doc);
  cJSON_Delete(doc);
  if (!ok) {
    iotkit__fleet_set_error(f, "attributes are not one JSON object");
    return IOTKIT_ERR_BAD_ENCODING;
  }
  return IOTKIT_OK;
}

iotkit_err_t iotkit__fleet_spec_in(iotkit_fleet_t *f, const iotkit_fleet_device_spec_t *in, uint32_t fields,
                                   iotkit_fleet_device_spec_t *spec, iotkit__fleet_rec_t *rec) {
  iotkit_fleet_device_spec_init(spec);
  if (iotkit__struct_copy(spec, sizeof(*spec), in, IOTKIT__FLEET_DEVICE_SPEC_SIZE_0_3,
                          IOTKIT__FLEET_DEVICE_SPEC_REQUIRED) != IOTKIT_OK) {
    iotkit__fleet_set_error(f, "no spec, or its struct_size is below the id");
    return IOTKIT_ERR_INVALID_ARG;
  }
  if (!iotkit__fleet_id_ok(spec->id)) {
    iotkit__fleet_set_error(f, "invalid id: 1..%u bytes of [A-Za-z0-9._-] expected", IOTKIT_MAX_DEVICE_ID);
    return IOTKIT_ERR_INVALID_ARG;
  }
  memset(rec, 0, sizeof(*rec));
  rec->id = spec->id;
  rec->name = spec->name ? spec->name : "";
  rec->type = spec->type ? spec->type : "";
  rec->tags = spec->tag_count ? spec->tags : NULL;
  rec->tag_count = spec->tag_count;
  rec->attributes = spec->attributes ? spec->attributes : "{}";
  iotkit_err_t rc = IOTKIT_OK;
  if (fields & IOTKIT_FLEET_FIELD_NAME) rc = check_text(f, "name", rec->name, IOTKIT_FLEET_MAX_NAME);
  if (rc == IOTKIT_OK && (fields & IOTKIT_FLEET_FIELD_TYPE)) rc = check_type(f, rec->type);
  if (rc == IOTKIT_OK && (fields & IOTKIT_FLEET_FIELD_TAGS)) rc = check_tags(f, spec->tags, spec->tag_count);
  if (rc == IOTKIT_OK && (fields & IOTKIT_FLEET_FIELD_ATTRIBUTES)) rc = check_attributes(f, rec->attributes);
  return rc;
}

iotkit_err_t iotkit__fleet_filter_in(iotkit_fleet_t *f, const iotkit_fleet_filter_t *in, iotkit_fleet_filter_t *out) {
  iotkit_fleet_filter_init(out);
  if (in && iotkit__struct_copy(out, sizeof(*out), in, IOTKIT__FLEET_FILTER_SIZE_0_3, IOTKIT__FLEET_FILTER_REQUIRED) !=
                IOTKIT_OK) {
    iotkit__fleet_set_error(f, "filter struct_size too small");
    return IOTKIT_ERR_INVALID_ARG;
  }
  if (out->online != IOTKIT_FLEET_ONLINE_ANY && out->online != IOTKIT_FLEET_ONLINE_ONLY &&
      out->online != IOTKIT_FLEET_OFFLINE_ONLY) {
    iotkit__fleet_set_error(f, "unknown online condition %d", (int)out->online);
    return IOTKIT_ERR_INVALID_ARG;
  }
  if (out->last_seen_before_ms < 0 || out->last_seen_after_ms < 0) {
    iotkit__fleet_set_error(f, "negative last_seen bound");
    return IOTKIT_ERR_INVALID_ARG;
  }
  return IOTKIT_OK;
}
