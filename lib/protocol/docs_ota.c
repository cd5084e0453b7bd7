/* The OTA status document (ota/status), read by the cloud side and the CLI. */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "iotkit/protocol.h"
#include "protocol/documents.h"
#include "protocol/json.h"

void iotkit_protocol_ota_status_clear(iotkit_ota_report_t *r) {
  if (!r) return;
  free(r->state);
  free(r->error);
  free(r->reason);
  free(r->running_version);
  free(r->target_version);
  memset(r, 0, sizeof *r);
}

static iotkit_err_t read_report(const cJSON *doc, iotkit_ota_report_t *r) {
  if (!cJSON_IsObject(doc)) return IOTKIT_ERR_PROTOCOL;
  const char *state = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "state"));
  const char *running = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "running_version"));
  uint64_t percent = 0;
  if (!state || !running || !iotkit__json_uint(cJSON_GetObjectItemCaseSensitive(doc, "bytes"), &r->bytes) ||
      !iotkit__json_uint(cJSON_GetObjectItemCaseSensitive(doc, "total"), &r->total) ||
      !iotkit__json_uint(cJSON_GetObjectItemCaseSensitive(doc, "percent"), &percent) || percent > 100)
    return IOTKIT_ERR_PROTOCOL;
  r->percent = (unsigned)percent;
  bool nomem = false;
  if (!iotkit__doc_opt_string(doc, "error", &r->error, &nomem) ||
      !iotkit__doc_opt_string(doc, "reason", &r->reason, &nomem) ||
      !iotkit__doc_opt_string(doc, "target_version", &r->target_version, &nomem))
    return nomem ? IOTKIT_ERR_NOMEM : IOTKIT_ERR_PROTOCOL;
  r->state = iotkit__strdup(state);
  r->running_version = iotkit__strdup(running);
  return r->state && r->running_version ? IOTKIT_OK : IOTKIT_ERR_NOMEM;
}

iotkit_err_t iotkit_protocol_ota_status_parse(const void *payload, size_t len, iotkit_ota_report_t *out) {
  if (!out) return IOTKIT_ERR_INVALID_ARG;
  cJSON *doc = NULL;
  iotkit_err_t err = iotkit__doc_parse(payload, len, &doc);
  if (err != IOTKIT_OK) return err;
  iotkit_ota_report_t r;
  memset(&r, 0, sizeof r);
  err = read_report(doc, &r);
  cJSON_Delete(doc);
  if (err != IOTKIT_OK) {
    iotkit_protocol_ota_status_clear(&r);
    return err;
  }
  *out = r;
  return IOTKIT_OK;
}
