/* The device -> cloud channels of docs/protocol.md, shared by the CoAP and
 * HTTP fronts: which exist, which methods they take, what their payload must
 * look like and how they are published on MQTT. */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hub.h"

static const hub_channel_t k_channels[] = {
    {IOTKIT_CHANNEL_TELEMETRY, false, true, false, NULL, 0, false},
    {IOTKIT_CHANNEL_STATE_REPORTED, true, false, true, "state", cJSON_Object, true},
    {IOTKIT_CHANNEL_STATUS, true, true, true, "status", cJSON_String, true},
    {IOTKIT_CHANNEL_COMMANDS_RESPONSE, false, true, false, "id", cJSON_String, true},
    {IOTKIT_CHANNEL_EVENTS, false, true, false, NULL, 0, true},
    {IOTKIT_CHANNEL_OTA_STATUS, false, true, false, NULL, 0, true},
    {IOTKIT_CHANNEL_LOCATION, true, true, true, "lat", cJSON_Number, true},
};

static int fail(char *diag, size_t cap, int status, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail(char *diag, size_t cap, int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(diag, cap, fmt, ap);
  va_end(ap);
  return status;
}

bool hub_route_split(const hub_t *hub, const char *path, const char **id, size_t *id_len, const char **name) {
  const char *suffix = NULL;
  if (iotkit_protocol_topic_parse(hub->cfg.prefix, path, NULL, 0, &suffix, NULL) != IOTKIT_OK) return false;
  *id = path + strlen(hub->cfg.prefix) + 1;
  *id_len = (size_t)(suffix - 1 - *id);
  *name = suffix;
  return true;
}

int hub_channel_route(const char *name, bool put, const hub_channel_t **out, char *diag, size_t cap) {
  const hub_channel_t *rule = NULL;
  iotkit_channel_t ch = iotkit_channel_from_suffix(name);
  for (size_t i = 0; !rule && ch != IOTKIT_CHANNEL_OTHER && i < sizeof k_channels / sizeof k_channels[0]; i++) {
    if (k_channels[i].channel == ch) rule = &k_channels[i];
  }
  if (!rule) return fail(diag, cap, 404, "no such channel: %s", name);
  if ((put && !rule->put) || (!put && !rule->post)) {
    return fail(diag, cap, 405, "%s takes %s", name, rule->put && rule->post ? "PUT or POST" : rule->put ? "PUT" : "POST");
  }
  *out = rule;
  return 0;
}

int hub_channel_payload(const hub_channel_t *rule, const char *name, const void *data, size_t len, bool declared_json,
                        int *online, char *diag, size_t cap) {
  *online = -1;
  if (len == 0) return fail(diag, cap, 400, "%s: empty payload", name);
  if (!rule->json && !declared_json) return 0;
  cJSON *doc = cJSON_ParseWithLength((const char *)data, len);
  int status = 0;
  if (!doc) {
    status = fail(diag, cap, 400, "%s: payload is not JSON", name);
  } else if (rule->json && !cJSON_IsObject(doc)) {
    status = fail(diag, cap, 400, "%s: payload is not a JSON object", name);
  } else if (rule->member) {
    cJSON *m = cJSON_GetObjectItemCaseSensitive(doc, rule->member);
    if (!m || (m->type & 0xFF) != rule->member_type) {
      status = fail(diag, cap, 400, "%s: the JSON object needs a member \"%s\" of the right type", name, rule->member);
    } else if (rule->channel == IOTKIT_CHANNEL_STATUS) {
      *online = strcmp(m->valuestring, "online") == 0;
    }
  }
  cJSON_Delete(doc);
  return status;
}
