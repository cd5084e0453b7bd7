/* Shared by the CoAP front's files: coap_front.c and coap_ingest.c. */
#ifndef IOTKIT_HUB_COAP_H
#define IOTKIT_HUB_COAP_H

#include "hub.h"

/* The hub of a libcoap session (the context's app data). */
hub_t *hub_of_session(const coap_session_t *session);
/* Set the response code cls.detail and a diagnostic payload (may be NULL). */
void hub_coap_answer(coap_pdu_t *resp, unsigned cls, unsigned detail, const char *diagnostic);
/* PUT/POST handler of every path that is not an observable resource. */
void hub_coap_ingest(coap_resource_t *r, coap_session_t *s, const coap_pdu_t *req, const coap_string_t *q,
                     coap_pdu_t *resp);
/* libcoap deletes @p s: a device whose last word on it was "online" gets its last will. */
void hub_coap_session_gone(hub_t *hub, coap_session_t *s, const char *ident, const char *addr);

#endif
