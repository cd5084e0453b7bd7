/* Raw libcoap side of the CoAP benchmark: one client session, COUNT
 * confirmable POSTs to /iotkit/v1/bench-raw/telemetry, one at a time (RFC 7252
 * NSTART=1, as the libiotkit backend does by default), each waiting for its
 * response. Usage: raw_coap_post HOST PORT COUNT PAYLOAD_BYTES
 * Prints: "raw count=N seconds=S rate=R failed=F" */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <coap3/coap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int answered, failed;

static coap_response_t on_response(coap_session_t *s, const coap_pdu_t *sent, const coap_pdu_t *got,
                                   const coap_mid_t mid) {
  (void)s, (void)sent, (void)mid;
  if (COAP_RESPONSE_CLASS(coap_pdu_get_code(got)) != 2) failed++;
  answered++;
  return COAP_RESPONSE_OK;
}

static void on_nack(coap_session_t *s, const coap_pdu_t *sent, const coap_nack_reason_t r, const coap_mid_t mid) {
  (void)s, (void)sent, (void)r, (void)mid;
  failed++;
  answered++;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s HOST PORT COUNT PAYLOAD_BYTES\n", argv[0]);
    return 1;
  }
  long count = atol(argv[3]);
  size_t size = (size_t)atol(argv[4]);
  uint8_t *payload = malloc(size ? size : 1);
  memset(payload, 'x', size);
  coap_startup();
  coap_set_log_level(LOG_WARNING);
  coap_address_t dst;
  coap_address_init(&dst);
  dst.addr.sin.sin_family = AF_INET;
  dst.addr.sin.sin_port = htons((uint16_t)atoi(argv[2]));
  inet_pton(AF_INET, argv[1], &dst.addr.sin.sin_addr);
  dst.size = sizeof dst.addr.sin;
  coap_context_t *ctx = coap_new_context(NULL);
  coap_session_t *s = ctx ? coap_new_client_session(ctx, NULL, &dst, COAP_PROTO_UDP) : NULL;
  if (!s) {
    fprintf(stderr, "raw: cannot create the session\n");
    return 2;
  }
  coap_register_response_handler(ctx, on_response);
  coap_register_nack_handler(ctx, on_nack);
  static const char *const path[] = {"iotkit", "v1", "bench-raw", "telemetry"};
  double t0 = now_s();
  for (long i = 0; i < count; i++) {
    coap_pdu_t *pdu = coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_POST, coap_new_message_id(s),
                                    coap_session_max_pdu_size(s));
    uint8_t token[8];
    size_t tlen = 0;
    coap_session_new_token(s, &tlen, token);
    coap_add_token(pdu, tlen, token);
    for (size_t k = 0; k < 4; k++) coap_add_option(pdu, COAP_OPTION_URI_PATH, strlen(path[k]), (const uint8_t *)path[k]);
    coap_add_data(pdu, size, payload);
    int before = answered;
    coap_send(s, pdu);
    while (answered == before) coap_io_process(ctx, 1000);
  }
  double secs = now_s() - t0;
  printf("raw count=%ld seconds=%.3f rate=%.0f failed=%d\n", count, secs, count / secs, failed);
  coap_session_release(s);
  coap_free_context(ctx);
  coap_cleanup();
  free(payload);
  return failed ? 3 : 0;
}
