/* The online-status and event documents. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "iotkit/protocol.h"
#include "protocol/documents.h"
#include "protocol/json.h"

iotkit_err_t iotkit_protocol_status_build(bool online, const char *reason, int64_t ts, char **out) {
  if (!out) return IOTKIT_ERR_INVALID_ARG;
  cJSON *o = cJSON_CreateObject();
  bool ok = o && cJSON_AddStringToObject(o, "status", online ? "online" : "offline") &&
            (!reason || cJSON_AddStringToObject(o, "reason", reason));
  char *text = NULL;
  if (ok && ts == IOTKIT_PROTOCOL_NO_TS) {
    text = iotkit__json_print_malloc(o);
  } else if (ok) {
    /* ts is appended by hand: cJSON prints large integers in exponent form. */
    char tail[40];
    snprintf(tail, sizeof tail, ",\"ts\":%" PRId64 "}", ts);
    char *head = cJSON_PrintUnformatted(o);
    size_t a = head ? strlen(head) - 1 : 0, b = strlen(tail); /* without the closing brace */
    text = head ? malloc(a + b + 1) : NULL;
    if (text) {
      memcpy(text, head, a);
      memcpy(text + a, tail, b + 1);
    }
    cJSON_free(head);
  }
  cJSON_Delete(o);
  if (!text) return IOTKIT_ERR_NOMEM;
  *out = text;
  return IOTKIT_OK;
}

bool iotkit__doc_opt_string(const cJSON *obj, const char *key, char **out, bool *nomem) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  *out = NULL;
  if (!v || cJSON_IsNull(v)) return true;
  if (!cJSON_IsString(v)) return false;
  *out = iotkit__strdup(v->valuestring);
  if (!*out) *nomem = true;
  return *out != NULL;
}

iotkit_err_t iotkit_protocol_status_parse(const void *payload, size_t len, bool *online, char **reason, int64_t *ts) {
  if (!online) return IOTKIT_ERR_INVALID_ARG;
  cJSON *doc = NULL;
  iotkit_err_t err = iotkit__doc_parse(payload, len, &doc);
  if (err != IOTKIT_OK) return err;
  const char *status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "status"));
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(doc, "ts");
  uint64_t tv = 0;
  char *r = NULL;
  bool nomem = false;
  if (!cJSON_IsObject(doc) || !status || (strcmp(status, "online") != 0 && strcmp(status, "offline") != 0) ||
      (t && !iotkit__json_uint(t, &tv)) || !iotkit__doc_opt_string(doc, "reason", &r, &nomem))
    err = nomem ? IOTKIT_ERR_NOMEM : IOTKIT_ERR_PROTOCOL;
  bool on = err == IOTKIT_OK && strcmp(status, "online") == 0;
  cJSON_Delete(doc);
  if (err != IOTKIT_OK) return err;
  *online = on;
  if (reason) *reason = r;
  else free(r);
  if (ts) *ts = t ? (int64_t)tv : IOTKIT_PROTOCOL_NO_TS;
  return IOTKIT_OK;
}

char *iotkit__event_json(const char *type, int64_t ts, const cJSON *data) {
  /* type is a safe name: it needs no JSON escaping. */
  char head[IOTKIT_MAX_NAME + 64];
  snprintf(head, sizeof head, "{\"type\":\"%s\",\"ts\":%" PRId64 ",\"data\":", type, ts);
  return iotkit__json_wrap(head, data, "}");
}

iotkit_err_t iotkit_protocol_event_build(const char *type, int64_t ts, const char *data_json, char **out) {
  if (!out || !iotkit_protocol_name_valid(type)) return IOTKIT_ERR_INVALID_ARG;
  cJSON *data = NULL;
  iotkit_err_t err = (iotkit_err_t)iotkit__json_from_api(data_json, &data);
  if (err != IOTKIT_OK) return err;
  char *text = iotkit__event_json(type, ts, data);
  cJSON_Delete(data);
  if (!text) return IOTKIT_ERR_NOMEM;
  *out = text;
  return IOTKIT_OK;
}
