/* The location document (channel "location") and the reading of events. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "iotkit/protocol.h"
#include "protocol/documents.h"
#include "protocol/json.h"

iotkit_err_t iotkit_location_check(const iotkit_location_t *loc) {
  if (!loc) return IOTKIT_ERR_INVALID_ARG;
  /* Written so that NaN fails every comparison and is refused with the infinities. */
  if (!(loc->latitude >= -90.0 && loc->latitude <= 90.0)) return IOTKIT_ERR_INVALID_ARG;
  if (!(loc->longitude >= -180.0 && loc->longitude <= 180.0)) return IOTKIT_ERR_INVALID_ARG;
  if (loc->has_altitude && !isfinite(loc->altitude)) return IOTKIT_ERR_INVALID_ARG;
  if (loc->has_accuracy && !(isfinite(loc->accuracy_m) && loc->accuracy_m >= 0.0)) return IOTKIT_ERR_INVALID_ARG;
  if (loc->ts_ms < 0) return IOTKIT_ERR_INVALID_ARG;
  return IOTKIT_OK;
}

/* The shortest decimal form of a finite double that reads back as the same double. */
static void put_double(char *buf, size_t cap, double d) {
  for (int digits = 15; digits <= 17; digits++) {
    snprintf(buf, cap, "%.*g", digits, d);
    if (strtod(buf, NULL) == d) break;
  }
  for (char *c = buf; *c; c++)
    if (*c == ',') *c = '.'; /* JSON wants '.', whatever the locale says */
}

iotkit_err_t iotkit_protocol_location_build(const iotkit_location_t *loc, char **out) {
  if (!out || iotkit_location_check(loc) != IOTKIT_OK) return IOTKIT_ERR_INVALID_ARG;
  char lat[40], lon[40], alt[48] = "", acc[48] = "";
  put_double(lat, sizeof lat, loc->latitude);
  put_double(lon, sizeof lon, loc->longitude);
  if (loc->has_altitude) {
    char v[40];
    put_double(v, sizeof v, loc->altitude);
    snprintf(alt, sizeof alt, ",\"alt\":%s", v);
  }
  if (loc->has_accuracy) {
    char v[40];
    put_double(v, sizeof v, loc->accuracy_m);
    snprintf(acc, sizeof acc, ",\"acc\":%s", v);
  }
  char text[256];
  snprintf(text, sizeof text, "{\"lat\":%s,\"lon\":%s%s%s,\"ts\":%" PRId64 "}", lat, lon, alt, acc, loc->ts_ms);
  char *copy = iotkit__strdup(text);
  if (!copy) return IOTKIT_ERR_NOMEM;
  *out = copy;
  return IOTKIT_OK;
}

/* A number member: absent (false, *present false), a number (true), or another type (false). */
static bool opt_number(const cJSON *doc, const char *key, double *v, bool *present) {
  const cJSON *item = cJSON_GetObjectItemCaseSensitive(doc, key);
  *present = item != NULL;
  if (!item) return true;
  if (!cJSON_IsNumber(item)) return false;
  *v = item->valuedouble;
  return true;
}

iotkit_err_t iotkit_protocol_location_parse(const void *payload, size_t len, iotkit_location_t *out) {
  if (!out) return IOTKIT_ERR_INVALID_ARG;
  cJSON *doc = NULL;
  iotkit_err_t err = iotkit__doc_parse(payload, len, &doc);
  if (err != IOTKIT_OK) return err;
  iotkit_location_t loc;
  memset(&loc, 0, sizeof loc);
  bool has_lat = false, has_lon = false;
  uint64_t ts = 0;
  bool ok = cJSON_IsObject(doc) && opt_number(doc, "lat", &loc.latitude, &has_lat) && has_lat &&
            opt_number(doc, "lon", &loc.longitude, &has_lon) && has_lon &&
            opt_number(doc, "alt", &loc.altitude, &loc.has_altitude) &&
            opt_number(doc, "acc", &loc.accuracy_m, &loc.has_accuracy) &&
            iotkit__json_uint(cJSON_GetObjectItemCaseSensitive(doc, "ts"), &ts);
  cJSON_Delete(doc);
  if (!ok) return IOTKIT_ERR_PROTOCOL;
  loc.ts_ms = (int64_t)ts;
  if (iotkit_location_check(&loc) != IOTKIT_OK) return IOTKIT_ERR_PROTOCOL;
  *out = loc;
  return IOTKIT_OK;
}

iotkit_err_t iotkit_protocol_event_parse(const void *payload, size_t len, char **type, int64_t *ts,
                                         char **data_json) {
  cJSON *doc = NULL;
  iotkit_err_t err = iotkit__doc_parse(payload, len, &doc);
  if (err != IOTKIT_OK) return err;
  const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "type"));
  const cJSON *data = cJSON_GetObjectItemCaseSensitive(doc, "data");
  uint64_t tv = 0;
  char *type_copy = NULL, *data_copy = NULL;
  if (!cJSON_IsObject(doc) || !iotkit_protocol_name_valid(t) ||
      !iotkit__json_uint(cJSON_GetObjectItemCaseSensitive(doc, "ts"), &tv) || !data) {
    err = IOTKIT_ERR_PROTOCOL;
  } else if ((type && !(type_copy = iotkit__strdup(t))) || (data_json && !(data_copy = iotkit__json_print_malloc(data)))) {
    err = IOTKIT_ERR_NOMEM;
  }
  cJSON_Delete(doc);
  if (err != IOTKIT_OK) {
    free(type_copy);
    free(data_copy);
    return err;
  }
  if (type) *type = type_copy;
  if (ts) *ts = (int64_t)tv;
  if (data_json) *data_json = data_copy;
  return IOTKIT_OK;
}
