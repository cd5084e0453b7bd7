/* Channels below a device: names, validation, "<prefix>/<device id>/<suffix>"
   topics and filters, and splitting a topic back into its parts. */
#include <string.h>

#include "core/util.h"
#include "iotkit/protocol.h"
#include "protocol/channel_internal.h"

static const char *const names[] = {
    [IOTKIT_CHANNEL_TELEMETRY] = "telemetry",
    [IOTKIT_CHANNEL_STATE_REPORTED] = "state/reported",
    [IOTKIT_CHANNEL_STATE_DESIRED] = "state/desired",
    [IOTKIT_CHANNEL_COMMANDS_REQUEST] = "commands/request",
    [IOTKIT_CHANNEL_COMMANDS_RESPONSE] = "commands/response",
    [IOTKIT_CHANNEL_EVENTS] = "events",
    [IOTKIT_CHANNEL_STATUS] = "status",
    [IOTKIT_CHANNEL_OTA_MANIFEST] = "ota/manifest",
    [IOTKIT_CHANNEL_OTA_STATUS] = "ota/status",
    [IOTKIT_CHANNEL_LOCATION] = "location",
};
#define NAMES_N (sizeof names / sizeof names[0])

const char *iotkit_channel_name(iotkit_channel_t channel) {
  return (unsigned)channel < NAMES_N ? names[channel] : NULL;
}

iotkit_channel_t iotkit_channel_from_suffix(const char *suffix) {
  if (!suffix) return IOTKIT_CHANNEL_OTHER;
  if (strncmp(suffix, "events/", 7) == 0)
    return iotkit_protocol_name_valid(suffix + 7) ? IOTKIT_CHANNEL_EVENTS : IOTKIT_CHANNEL_OTHER;
  for (size_t i = 1; i < NAMES_N; i++)
    if (i != IOTKIT_CHANNEL_EVENTS && strcmp(suffix, names[i]) == 0) return (iotkit_channel_t)i;
  return IOTKIT_CHANNEL_OTHER;
}

bool iotkit__channel_ends_with(const char *topic, iotkit_channel_t channel) {
  const char *name = iotkit_channel_name(channel);
  size_t n = topic ? strlen(topic) : 0, s = name ? strlen(name) : 0;
  if (!s || n < s || strcmp(topic + n - s, name) != 0) return false;
  return n == s || topic[n - s - 1] == '/';
}

/* A suffix is one or more '/'-separated segments: none empty (so no leading,
   trailing or doubled '/'), none "." or "..", no control characters. With
   wildcards allowed (subscriptions), '+' and '#' may appear only as a whole
   segment, and '#' only as the last one; otherwise they are refused. */
bool iotkit_protocol_suffix_valid(const char *suffix, bool allow_wildcards) {
  if (!suffix || !*suffix) return false;
  const char *seg = suffix;
  for (;;) {
    const char *end = strchr(seg, '/');
    size_t n = end ? (size_t)(end - seg) : strlen(seg);
    if (n == 0) return false;
    if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.')) return false;
    for (size_t i = 0; i < n; i++) {
      unsigned char c = (unsigned char)seg[i];
      if (c < 0x20 || c == 0x7f) return false;
      if (c == '+' || c == '#') {
        if (!allow_wildcards || n != 1) return false;
        if (c == '#' && end) return false;
      }
    }
    if (!end) return true;
    seg = end + 1;
  }
}

bool iotkit_protocol_prefix_valid(const char *prefix) { return iotkit_protocol_suffix_valid(prefix, false); }

bool iotkit_protocol_device_id_valid(const char *device_id) {
  return iotkit__is_safe_name(device_id, IOTKIT_MAX_DEVICE_ID);
}

bool iotkit_protocol_name_valid(const char *name) { return iotkit__is_safe_name(name, IOTKIT_MAX_NAME); }

/* Join the three parts; the caller has validated them. */
static iotkit_err_t join(const char *prefix, const char *id, const char *suffix, char *buf, size_t cap) {
  size_t a = strlen(prefix), b = strlen(id), c = strlen(suffix);
  if (a + b + c + 3 > cap) return IOTKIT_ERR_BUFFER_TOO_SMALL;
  memcpy(buf, prefix, a);
  buf[a] = '/';
  memcpy(buf + a + 1, id, b);
  buf[a + 1 + b] = '/';
  memcpy(buf + a + b + 2, suffix, c + 1);
  return IOTKIT_OK;
}

iotkit_err_t iotkit_protocol_topic(const char *prefix, const char *device_id, const char *suffix, char *buf,
                                   size_t cap) {
  if (!prefix) prefix = IOTKIT_TOPIC_PREFIX_DEFAULT;
  if (!buf || !iotkit_protocol_prefix_valid(prefix) || !iotkit_protocol_device_id_valid(device_id) ||
      !iotkit_protocol_suffix_valid(suffix, false))
    return IOTKIT_ERR_INVALID_ARG;
  return join(prefix, device_id, suffix, buf, cap);
}

iotkit_err_t iotkit_protocol_filter(const char *prefix, const char *device_id, const char *suffix, char *buf,
                                    size_t cap) {
  if (!prefix) prefix = IOTKIT_TOPIC_PREFIX_DEFAULT;
  if (!buf || !iotkit_protocol_prefix_valid(prefix) || (device_id && !iotkit_protocol_device_id_valid(device_id)) ||
      !iotkit_protocol_suffix_valid(suffix, true))
    return IOTKIT_ERR_INVALID_ARG;
  return join(prefix, device_id ? device_id : "+", suffix, buf, cap);
}

iotkit_err_t iotkit_protocol_topic_parse(const char *prefix, const char *topic, char *device_id,
                                         size_t device_id_cap, const char **suffix, iotkit_channel_t *channel) {
  if (!prefix) prefix = IOTKIT_TOPIC_PREFIX_DEFAULT;
  if (!topic || !iotkit_protocol_prefix_valid(prefix) || (!device_id && device_id_cap)) return IOTKIT_ERR_INVALID_ARG;
  size_t a = strlen(prefix);
  if (strncmp(topic, prefix, a) != 0 || topic[a] != '/') return IOTKIT_ERR_NOT_FOUND;
  const char *id = topic + a + 1;
  const char *slash = strchr(id, '/');
  if (!slash) return IOTKIT_ERR_NOT_FOUND;
  size_t n = (size_t)(slash - id);
  char idbuf[IOTKIT_MAX_DEVICE_ID + 1];
  if (n == 0 || n > IOTKIT_MAX_DEVICE_ID) return IOTKIT_ERR_NOT_FOUND;
  memcpy(idbuf, id, n);
  idbuf[n] = '\0';
  if (!iotkit_protocol_device_id_valid(idbuf) || !iotkit_protocol_suffix_valid(slash + 1, false))
    return IOTKIT_ERR_NOT_FOUND;
  if (device_id && n + 1 > device_id_cap) return IOTKIT_ERR_BUFFER_TOO_SMALL;
  if (device_id) memcpy(device_id, idbuf, n + 1);
  if (suffix) *suffix = slash + 1;
  if (channel) *channel = iotkit_channel_from_suffix(slash + 1);
  return IOTKIT_OK;
}
