/* Pure CoAP helpers of the CoAP backend (no libcoap): the request method of a
   channel, response codes to libiotkit errors and text, channel to path. */
#ifndef IOTKIT__TRANSPORT_COAP_MAP_H
#define IOTKIT__TRANSPORT_COAP_MAP_H

#include <stdbool.h>
#include <stddef.h>

#include "iotkit/error.h"

/* A CoAP code as class and detail: 4.04 is {4, 4}; the wire byte is class << 5 | detail. */
#define IOTKIT__COAP_CODE(cls, detail) ((unsigned)(((cls) << 5) | (detail)))
#define IOTKIT__COAP_CLASS(code) (((unsigned)(code) >> 5) & 7u)
#define IOTKIT__COAP_DETAIL(code) ((unsigned)(code) & 31u)

/* True if a send on @p channel is a PUT (the channel ends in the level pair
   "state/reported": the device replaces its reported state), false for a POST
   (telemetry, events, command responses: each message is a new item). */
bool iotkit__coap_channel_uses_put(const char *channel);

/* The libiotkit result of a response code (wire byte): IOTKIT_OK for 2.xx;
   4.01 and 4.03 IOTKIT_ERR_AUTH; 4.04 IOTKIT_ERR_NOT_FOUND; 4.13
   IOTKIT_ERR_TOO_LARGE; 4.29 and 5.03 IOTKIT_ERR_BUSY; other 4.xx
   IOTKIT_ERR_PROTOCOL (the server will not take this request as it is);
   other 5.xx IOTKIT_ERR_DELIVERY (the server failed to handle it); any other
   class IOTKIT_ERR_PROTOCOL. */
iotkit_err_t iotkit__coap_code_to_err(unsigned code);

/* The result of a response code (wire byte) to a download (fetch.h): IOTKIT_OK
   for 2.xx; 4.04 and 4.10 (the slot of HTTP's 410, not registered for CoAP)
   IOTKIT_ERR_NOT_FOUND; 4.01 and 4.03 IOTKIT_ERR_AUTH; 5.xx
   IOTKIT_ERR_OTA_SERVER; anything else IOTKIT_ERR_PROTOCOL. */
iotkit_err_t iotkit__coap_fetch_code_to_err(unsigned code);

/* "4.04 Not Found" for a known code, "4.99" style digits for an unknown one. */
void iotkit__coap_code_text(unsigned code, char *buf, size_t cap);

/* Resource path of @p channel under @p base (the URI path, may be "" or NULL):
   base without trailing '/' + "/" + channel. Returns a malloc'ed string or NULL. */
char *iotkit__coap_channel_path(const char *base, const char *channel);

/* Decode @p hex (even length, [0-9a-fA-F]) into @p out of @p cap bytes.
   Returns the byte count, or -1 if malformed or too long. */
int iotkit__coap_hex_decode(const char *hex, unsigned char *out, size_t cap);

#endif
