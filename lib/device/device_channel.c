/* Channel names below a device: "<prefix>/<device id>/<suffix>", built by the
   protocol layer (iotkit/protocol.h). */
#include <stdlib.h>
#include <string.h>

#include "device/device_internal.h"
#include "iotkit/protocol.h"

bool iotkit__device_suffix_ok(const char *suffix, bool allow_wildcards) {
  return iotkit_protocol_suffix_valid(suffix, allow_wildcards);
}

char *iotkit__device_channel(const iotkit_device_t *dev, const char *suffix) {
  size_t cap = strlen(dev->topic_prefix) + strlen(dev->device_id) + strlen(suffix) + 4; /* room for "#" when the suffix is empty */
  char *ch = malloc(cap);
  if (!ch) return NULL;
  /* An empty suffix gives the base "<prefix>/<id>/" that incoming topics are compared with;
     a subscription's suffix may hold wildcards, so the filter builder (which takes names too). */
  iotkit_err_t err = *suffix ? iotkit_protocol_filter(dev->topic_prefix, dev->device_id, suffix, ch, cap)
                             : iotkit_protocol_filter(dev->topic_prefix, dev->device_id, "#", ch, cap);
  if (err != IOTKIT_OK) {
    free(ch);
    return NULL;
  }
  if (!*suffix) ch[strlen(ch) - 1] = '\0'; /* "<prefix>/<id>/#" without the '#' */
  return ch;
}
