/* Command requests (built by the cloud side) and responses (read by it). */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "iotkit/protocol.h"
#include "protocol/documents.h"
#include "protocol/json.h"

iotkit_err_t iotkit_protocol_command_build(const char *id, const char *name, const char *params_json, char **out) {
  if (!out || !id || !*id || strlen(id) > IOTKIT_MAX_REQUEST_ID || !name || !*name) return IOTKIT_ERR_INVALID_ARG;
  cJSON *params = NULL;
  if (params_json) {
    params = iotkit__json_parse(params_json, strlen(params_json));
    if (!params) return IOTKIT_ERR_BAD_ENCODING;
    if (!cJSON_IsObject(params)) {
      cJSON_Delete(params);
      return IOTKIT_ERR_INVALID_ARG;
    }
  }
  cJSON *o = cJSON_CreateObject();
  bool ok = o && cJSON_AddStringToObject(o, "id", id) && cJSON_AddStringToObject(o, "name", name);
  if (ok && params) {
    ok = cJSON_AddItemToObject(o, "params", params);
    if (ok) params = NULL;
  }
  char *text = ok ? iotkit__json_print_malloc(o) : NULL;
  cJSON_Delete(params);
  cJSON_Delete(o);
  if (!text) return IOTKIT_ERR_NOMEM;
  *out = text;
  return IOTKIT_OK;
}

void iotkit_protocol_response_clear(iotkit_command_response_t *r) {
  if (!r) return;
  free(r->id);
  free(r->result_json);
  free(r->error_code);
  free(r->error_message);
  memset(r, 0, sizeof *r);
}

/* Fill @p r from a parsed document; IOTKIT_ERR_PROTOCOL or IOTKIT_ERR_NOMEM on failure (r then partly filled). */
static iotkit_err_t read_response(const cJSON *doc, iotkit_command_response_t *r) {
  const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "id"));
  const char *status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "status"));
  if (!cJSON_IsObject(doc) || !id || !*id || !status) return IOTKIT_ERR_PROTOCOL;
  r->ok = strcmp(status, "ok") == 0;
  if (!(r->id = iotkit__strdup(id))) return IOTKIT_ERR_NOMEM;
  if (r->ok) {
    const cJSON *result = cJSON_GetObjectItemCaseSensitive(doc, "result");
    if (!result) return IOTKIT_ERR_PROTOCOL;
    return (r->result_json = iotkit__json_print_malloc(result)) ? IOTKIT_OK : IOTKIT_ERR_NOMEM;
  }
  if (strcmp(status, "error") != 0) return IOTKIT_ERR_PROTOCOL;
  const cJSON *e = cJSON_GetObjectItemCaseSensitive(doc, "error");
  const char *code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "code"));
  const char *message = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "message"));
  if (!cJSON_IsObject(e) || !code || !message) return IOTKIT_ERR_PROTOCOL;
  r->error_code = iotkit__strdup(code);
  r->error_message = iotkit__strdup(message);
  return r->error_code && r->error_message ? IOTKIT_OK : IOTKIT_ERR_NOMEM;
}

iotkit_err_t iotkit_protocol_response_parse(const void *payload, size_t len, iotkit_command_response_t *out) {
  if (!out) return IOTKIT_ERR_INVALID_ARG;
  cJSON *doc = NULL;
  iotkit_err_t err = iotkit__doc_parse(payload, len, &doc);
  if (err != IOTKIT_OK) return err;
  iotkit_command_response_t r;
  memset(&r, 0, sizeof r);
  err = read_response(doc, &r);
  cJSON_Delete(doc);
  if (err != IOTKIT_OK) {
    iotkit_protocol_response_clear(&r);
    return err;
  }
  *out = r;
  return IOTKIT_OK;
}
