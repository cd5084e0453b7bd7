/* The hub's CoAP request handling (tools/iotkit-hub/coap_ingest.c, channels.c,
   devices.c, coap_peer.c): the input is one CoAP datagram, parsed by libcoap
   (coap_pdu_parse, as the hub's endpoint does) and handed, if it is a PUT or
   POST, to hub_coap_ingest() on a plain coap:// session of a hub with no
   endpoint and no broker (so every request that passes the checks is answered
   5.03 instead of published). Path, options (Content-Format, Uri-Path), token,
   message id (duplicate filter) and body all come from the input. The hub is
   started again when more than 32 devices have piled up. */
#include "fuzz_util.h"
#include "hub_coap.h"

static hub_t g_hub;
static coap_session_t *g_session; /* one plain coap:// client session, its duplicate filter reset per input */

static void hub_start(void) {
  memset(&g_hub, 0, sizeof g_hub);
  hub_config_init(&g_hub.cfg);
  FUZZ_CHECK(hub_config_set(&g_hub.cfg, "topic_prefix", IOTKIT_TOPIC_PREFIX_DEFAULT));
  g_hub.cfg.max_payload = 1024;
  FUZZ_CHECK(hub_coap_start(&g_hub));
  coap_address_t dst;
  coap_address_init(&dst);
  dst.addr.sin.sin_family = AF_INET;
  dst.addr.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  dst.addr.sin.sin_port = htons(9); /* nothing is ever sent */
  dst.size = sizeof dst.addr.sin;
  g_session = coap_new_client_session(g_hub.coap, NULL, &dst, COAP_PROTO_UDP);
  FUZZ_CHECK(g_session != NULL);
}

static void hub_stop(void) {
  if (g_session) coap_session_release(g_session);
  g_session = NULL;
  hub_coap_stop(&g_hub);
  hub_devices_free(&g_hub);
  hub_config_clear(&g_hub.cfg);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  hub_log_set_level(HUB_LOG_ERROR);
  hub_start();
  atexit(hub_stop);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* Devices made by earlier inputs stay (as in a running hub), up to a few dozen. */
  unsigned devices = 0;
  for (hub_device_t *d = g_hub.devices; d; d = d->next) devices++;
  if (devices > 32) {
    hub_stop();
    hub_start();
  }
  coap_session_t *s = g_session;
  /* The same datagram twice: the second time a CON is a retransmission (the duplicate filter). */
  for (int round = 0; round < 2; round++) {
    coap_pdu_t *req = coap_pdu_init(0, 0, 0, size + 64);
    FUZZ_CHECK(req != NULL);
    if (coap_pdu_parse(COAP_PROTO_UDP, data, size, req)) {
      coap_pdu_code_t code = coap_pdu_get_code(req);
      if (code == COAP_REQUEST_CODE_PUT || code == COAP_REQUEST_CODE_POST) {
        coap_pdu_t *resp = coap_pdu_init(COAP_MESSAGE_ACK, 0, coap_pdu_get_mid(req), 1152);
        FUZZ_CHECK(resp != NULL);
        hub_coap_ingest(NULL, s, req, NULL, resp);
        FUZZ_CHECK(COAP_RESPONSE_CLASS(coap_pdu_get_code(resp)) >= 2);
        coap_delete_pdu(resp);
      }
    }
    coap_delete_pdu(req);
  }
  hub_peer_forget(&g_hub, s);
  return 0;
}
