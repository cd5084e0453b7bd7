/* The device -> cloud channels of docs/protocol.md, shared by the CoAP and
 * HTTP fronts: which exist, which methods they take, what their payload must
 * look like and how they are published on MQTT. */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hub.h"

static const hub_channel_t k_channels[] = {
    {"telemetry", false, true, false, NULL, 0, false},
    {"state/reported", true, false, true, "state", cJSON_Object, true},
    {"status", true, true, true, "status", cJSON_String, true},
    {"commands/response", false, true, false, "id", cJSON_String, true},
    {"events/", false, true, false, NULL, 0, true},
    {"ota/status", false, true, false, NULL, 0, true},
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
  size_t pl = strlen(hub->cfg.prefix);
  if (strncmp(path, hub->cfg.prefix, pl) != 0 || path[pl] != '/') return false;
  const char *start = path + pl + 1;
  const char *slash = strchr(start, '/');
  if (!slash || !hub_id_valid(start, (size_t)(slash - start))) return false;
  *id = start;
  *id_len = (size_t)(slash - start);
  *name = slash + 1;
  return true;
}

int hub_channel_route(const char *name, bool put, const hub_channel_t **out, char *diag, size_t cap) {
  const hub_channel_t *rule = NULL;
  for (size_t i = 0; !rule && i < sizeof k_channels / sizeof k_channels[0]; i++) {
    const char *rn = k_channels[i].name;
    size_t n = strlen(rn);
    if (rn[n - 1] == '/') {
      size_t tl = strlen(name) >= n ? strlen(name + n) : 0;
      if (strncmp(name, rn, n) == 0 && tl <= 64 && hub_id_valid(name + n, tl)) rule = &k_channels[i];
    } else if (strcmp(name, rn) == 0) {
      rule = &k_channels[i];
    }
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
    } else if (strcmp(rule->name, "status") == 0) {
      *online = strcmp(m->valuestring, "online") == 0;
    }
  }
  cJSON_Delete(doc);
  return status;
}
