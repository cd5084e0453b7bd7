/* Pure CoAP helpers (see coap_map.h). */
#include "transport/coap_map.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "protocol/channel_internal.h"

bool iotkit__coap_channel_uses_put(const char *channel) {
  return iotkit__channel_ends_with(channel, IOTKIT_CHANNEL_STATE_REPORTED);
}

iotkit_err_t iotkit__coap_code_to_err(unsigned code) {
  unsigned cls = IOTKIT__COAP_CLASS(code);
  if (code > 0xFFu) return IOTKIT_ERR_PROTOCOL;
  if (cls == 2) return IOTKIT_OK;
  switch (code) {
    case IOTKIT__COAP_CODE(4, 1):
    case IOTKIT__COAP_CODE(4, 3):
      return IOTKIT_ERR_AUTH;
    case IOTKIT__COAP_CODE(4, 4):
      return IOTKIT_ERR_NOT_FOUND;
    case IOTKIT__COAP_CODE(4, 13):
      return IOTKIT_ERR_TOO_LARGE;
    case IOTKIT__COAP_CODE(4, 29):
    case IOTKIT__COAP_CODE(5, 3):
      return IOTKIT_ERR_BUSY;
    default:
      break;
  }
  return cls == 5 ? IOTKIT_ERR_DELIVERY : IOTKIT_ERR_PROTOCOL;
}

iotkit_err_t iotkit__coap_fetch_code_to_err(unsigned code) {
  if (code > 0xFFu) return IOTKIT_ERR_PROTOCOL;
  switch (IOTKIT__COAP_CLASS(code)) {
    case 2: return IOTKIT_OK;
    case 5: return IOTKIT_ERR_OTA_SERVER;
    default: break;
  }
  switch (code) {
    case IOTKIT__COAP_CODE(4, 1):
    case IOTKIT__COAP_CODE(4, 3): return IOTKIT_ERR_AUTH;
    case IOTKIT__COAP_CODE(4, 4):
    case IOTKIT__COAP_CODE(4, 10): return IOTKIT_ERR_NOT_FOUND;
    default: return IOTKIT_ERR_PROTOCOL;
  }
}

static const struct {
  unsigned code;
  const char *phrase;
} k_phrases[] = {
    {IOTKIT__COAP_CODE(2, 1), "Created"},
    {IOTKIT__COAP_CODE(2, 2), "Deleted"},
    {IOTKIT__COAP_CODE(2, 3), "Valid"},
    {IOTKIT__COAP_CODE(2, 4), "Changed"},
    {IOTKIT__COAP_CODE(2, 5), "Content"},
    {IOTKIT__COAP_CODE(2, 31), "Continue"},
    {IOTKIT__COAP_CODE(4, 0), "Bad Request"},
    {IOTKIT__COAP_CODE(4, 1), "Unauthorized"},
    {IOTKIT__COAP_CODE(4, 2), "Bad Option"},
    {IOTKIT__COAP_CODE(4, 3), "Forbidden"},
    {IOTKIT__COAP_CODE(4, 4), "Not Found"},
    {IOTKIT__COAP_CODE(4, 5), "Method Not Allowed"},
    {IOTKIT__COAP_CODE(4, 6), "Not Acceptable"},
    {IOTKIT__COAP_CODE(4, 8), "Request Entity Incomplete"},
    {IOTKIT__COAP_CODE(4, 9), "Conflict"},
    {IOTKIT__COAP_CODE(4, 12), "Precondition Failed"},
    {IOTKIT__COAP_CODE(4, 13), "Request Entity Too Large"},
    {IOTKIT__COAP_CODE(4, 15), "Unsupported Content-Format"},
    {IOTKIT__COAP_CODE(4, 22), "Unprocessable Entity"},
    {IOTKIT__COAP_CODE(4, 29), "Too Many Requests"},
    {IOTKIT__COAP_CODE(5, 0), "Internal Server Error"},
    {IOTKIT__COAP_CODE(5, 1), "Not Implemented"},
    {IOTKIT__COAP_CODE(5, 2), "Bad Gateway"},
    {IOTKIT__COAP_CODE(5, 3), "Service Unavailable"},
    {IOTKIT__COAP_CODE(5, 4), "Gateway Timeout"},
    {IOTKIT__COAP_CODE(5, 5), "Proxying Not Supported"},
    {IOTKIT__COAP_CODE(5, 8), "Hop Limit Reached"},
};

void iotkit__coap_code_text(unsigned code, char *buf, size_t cap) {
  code &= 0xFFu;
  for (size_t i = 0; i < IOTKIT__ARRAY_LEN(k_phrases); i++) {
    if (k_phrases[i].code == code) {
      iotkit__fmt(buf, cap, "%u.%02u %s", IOTKIT__COAP_CLASS(code), IOTKIT__COAP_DETAIL(code), k_phrases[i].phrase);
      return;
    }
  }
  iotkit__fmt(buf, cap, "%u.%02u", IOTKIT__COAP_CLASS(code), IOTKIT__COAP_DETAIL(code));
}

char *iotkit__coap_channel_path(const char *base, const char *channel) {
  if (!channel) return NULL;
  size_t blen = base ? strlen(base) : 0;
  while (blen > 0 && base[blen - 1] == '/') blen--;
  size_t clen = strlen(channel);
  char *p = malloc(blen + clen + 2);
  if (!p) return NULL;
  if (blen) memcpy(p, base, blen);
  p[blen] = '/';
  memcpy(p + blen + 1, channel, clen + 1);
  return p;
}

static int hex_nibble(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

int iotkit__coap_hex_decode(const char *hex, unsigned char *out, size_t cap) {
  size_t n = hex ? strlen(hex) : 0;
  if (n == 0 || n % 2 || n / 2 > cap || n / 2 > 65535) return -1;
  for (size_t i = 0; i < n; i++) {
    if (hex_nibble(hex[i]) < 0) return -1; /* check all first: no partial output */
  }
  for (size_t i = 0; i < n / 2; i++) out[i] = (unsigned char)(hex_nibble(hex[2 * i]) << 4 | hex_nibble(hex[2 * i + 1]));
  return (int)(n / 2);
}
