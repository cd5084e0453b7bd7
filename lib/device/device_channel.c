/* Channel names below a device: "<prefix>/<device id>/<suffix>". */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "device/device_internal.h"

/* A suffix is one or more '/'-separated segments: none empty (so no leading,
   trailing or doubled '/'), none "." or "..", no control characters. With
   wildcards allowed (subscriptions), '+' and '#' may appear only as a whole
   segment, and '#' only as the last one; otherwise they are refused. */
bool iotkit__device_suffix_ok(const char *suffix, bool allow_wildcards) {
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

char *iotkit__device_channel(const iotkit_device_t *dev, const char *suffix) {
  size_t a = strlen(dev->topic_prefix), b = strlen(dev->device_id), c = strlen(suffix);
  char *ch = malloc(a + b + c + 3);
  if (!ch) return NULL;
  memcpy(ch, dev->topic_prefix, a);
  ch[a] = '/';
  memcpy(ch + a + 1, dev->device_id, b);
  ch[a + 1 + b] = '/';
  memcpy(ch + a + b + 2, suffix, c + 1);
  return ch;
}
