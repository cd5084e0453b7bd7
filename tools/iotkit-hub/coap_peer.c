/* Per-session state of the CoAP front: the duplicate filter.
 *
 * A device retransmits a confirmable request, with the same message id, when
 * the hub's answer is lost (RFC 7252 4.2). libcoap hands such a duplicate to
 * the handler again, so the hub remembers, per session, the last message ids
 * it answered and the code it answered with: a duplicate gets the same code
 * again and is not published a second time (RFC 7252 4.5). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub.h"

/* A device numbers its messages in sequence, so the slot of an id is taken
   again only after this many newer messages: a retransmission (at most ~93 s
   after the first try with RFC 7252's defaults) is recognised unless the
   device sent that many messages in the meantime. */
#define PEER_WINDOW 4096

typedef struct peer_slot {
  coap_mid_t mid;
  unsigned short code; /* 0: empty */
} peer_slot_t;

struct hub_peer {
  struct hub_peer *next;
  coap_session_t *session;
  peer_slot_t slots[PEER_WINDOW];
};

hub_peer_t *hub_peer_of(hub_t *hub, coap_session_t *session) {
  hub_peer_t *p = coap_session_get_app_data(session);
  if (p) return p;
  p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->session = session;
  p->next = hub->peers;
  hub->peers = p;
  coap_session_set_app_data(session, p);
  return p;
}

void hub_peer_forget(hub_t *hub, coap_session_t *session) {
  for (hub_peer_t **pp = &hub->peers; *pp; pp = &(*pp)->next) {
    if ((*pp)->session == session) {
      hub_peer_t *p = *pp;
      *pp = p->next;
      coap_session_set_app_data(session, NULL);
      free(p);
      return;
    }
  }
}

void hub_peers_free(hub_t *hub) {
  while (hub->peers) {
    hub_peer_t *p = hub->peers;
    hub->peers = p->next;
    free(p);
  }
}

unsigned hub_peer_seen(const hub_peer_t *peer, coap_mid_t mid) {
  if (!peer) return 0;
  const peer_slot_t *s = &peer->slots[(unsigned)mid % PEER_WINDOW];
  return s->code && s->mid == mid ? s->code : 0;
}

void hub_peer_remember(hub_peer_t *peer, coap_mid_t mid, unsigned code) {
  if (!peer) return;
  peer_slot_t *s = &peer->slots[(unsigned)mid % PEER_WINDOW];
  s->mid = mid;
  s->code = (unsigned short)code;
}

void hub_peer_addr(const coap_session_t *session, char *out, size_t cap) {
  const coap_address_t *a = coap_session_get_addr_remote(session);
  unsigned char buf[INET6_ADDRSTRLEN + 8];
  size_t n = a ? coap_print_addr(a, buf, sizeof buf) : 0;
  snprintf(out, cap, "%.*s", (int)n, n ? (const char *)buf : "?");
}
