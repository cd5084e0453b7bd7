/* The reported-state and desired-state documents. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iotkit/protocol.h"
#include "protocol/documents.h"
#include "protocol/json.h"

#define JSON_INT_MAX 9007199254740992ull /* 2^53: beyond it a JSON number is not exact */

iotkit_err_t iotkit__doc_parse(const void *payload, size_t len, cJSON **doc) {
  if (!payload && len) return IOTKIT_ERR_INVALID_ARG;
  cJSON *d = iotkit__json_parse(payload, len);
  if (!d) return IOTKIT_ERR_BAD_ENCODING;
  *doc = d;
  return IOTKIT_OK;
}

const char *iotkit__desired_check(const cJSON *doc, uint64_t *version, const cJSON **state) {
  if (!cJSON_IsObject(doc)) return "not a JSON object";
  if (!iotkit__json_uint(cJSON_GetObjectItemCaseSensitive(doc, "version"), version) || *version == 0)
    return "no version (a whole number from 1)";
  *state = cJSON_GetObjectItemCaseSensitive(doc, "state");
  if (!cJSON_IsObject(*state)) return "no state object";
  return NULL;
}

char *iotkit__desired_json(uint64_t version, const cJSON *state) {
  char head[48];
  snprintf(head, sizeof head, "{\"version\":%" PRIu64 ",\"state\":", version);
  return iotkit__json_wrap(head, state, "}");
}

char *iotkit__reported_json(const cJSON *state, int64_t ts) {
  char tail[40];
  snprintf(tail, sizeof tail, ",\"ts\":%" PRId64 "}", ts);
  return iotkit__json_wrap("{\"state\":", state, tail);
}

/* Parse API text that must be an object. */
static iotkit_err_t object_arg(const char *text, cJSON **out) {
  if (!text) return IOTKIT_ERR_INVALID_ARG;
  cJSON *v = iotkit__json_parse(text, strlen(text));
  if (!v) return IOTKIT_ERR_BAD_ENCODING;
  if (!cJSON_IsObject(v)) {
    cJSON_Delete(v);
    return IOTKIT_ERR_INVALID_ARG;
  }
  *out = v;
  return IOTKIT_OK;
}

static iotkit_err_t give(char *text, char **out) {
  if (!text) return IOTKIT_ERR_NOMEM;
  *out = text;
  return IOTKIT_OK;
}

iotkit_err_t iotkit_protocol_desired_build(uint64_t version, const char *state_json, char **out) {
  if (!out || version == 0 || version > JSON_INT_MAX) return IOTKIT_ERR_INVALID_ARG;
  cJSON *state = NULL;
  iotkit_err_t err = object_arg(state_json, &state);
  if (err != IOTKIT_OK) return err;
  char *text = iotkit__desired_json(version, state);
  cJSON_Delete(state);
  return give(text, out);
}

iotkit_err_t iotkit_protocol_reported_build(const char *state_json, int64_t ts, char **out) {
  if (!out) return IOTKIT_ERR_INVALID_ARG;
  cJSON *state = NULL;
  iotkit_err_t err = object_arg(state_json, &state);
  if (err != IOTKIT_OK) return err;
  char *text = iotkit__reported_json(state, ts);
  cJSON_Delete(state);
  return give(text, out);
}

iotkit_err_t iotkit_protocol_desired_parse(const void *payload, size_t len, uint64_t *version, char **state_json) {
  if (!version) return IOTKIT_ERR_INVALID_ARG;
  cJSON *doc = NULL;
  iotkit_err_t err = iotkit__doc_parse(payload, len, &doc);
  if (err != IOTKIT_OK) return err;
  uint64_t v = 0;
  const cJSON *state = NULL;
  char *text = NULL;
  if (iotkit__desired_check(doc, &v, &state)) err = IOTKIT_ERR_PROTOCOL;
  else if (state_json && !(text = iotkit__json_print_malloc(state))) err = IOTKIT_ERR_NOMEM;
  cJSON_Delete(doc);
  if (err != IOTKIT_OK) return err;
  *version = v;
  if (state_json) *state_json = text;
  return IOTKIT_OK;
}

iotkit_err_t iotkit_protocol_reported_parse(const void *payload, size_t len, char **state_json, int64_t *ts) {
  cJSON *doc = NULL;
  iotkit_err_t err = iotkit__doc_parse(payload, len, &doc);
  if (err != IOTKIT_OK) return err;
  const cJSON *state = cJSON_GetObjectItemCaseSensitive(doc, "state");
  uint64_t t = 0;
  char *text = NULL;
  if (!cJSON_IsObject(doc) || !cJSON_IsObject(state) || !iotkit__json_uint(cJSON_GetObjectItemCaseSensitive(doc, "ts"), &t))
    err = IOTKIT_ERR_PROTOCOL;
  else if (state_json && !(text = iotkit__json_print_malloc(state))) err = IOTKIT_ERR_NOMEM;
  cJSON_Delete(doc);
  if (err != IOTKIT_OK) return err;
  if (state_json) *state_json = text;
  if (ts) *ts = (int64_t)t;
  return IOTKIT_OK;
}
