/* CoAP backend: the libcoap session, plain or DTLS (PSK or certificates).
 *
 * PSK: identity from tls.psk_identity, else the user name (config, then URI);
 * key from tls.psk_key_hex (hex), else the password (config, then URI) taken
 * as raw bytes, as coap-client's -k does. Without a PSK, coaps uses
 * certificates: tls.ca_file to verify the server (verify_peer), and
 * tls.cert_file + tls.key_file for a client certificate. With verify_peer, a
 * server reached by name must present that name as its certificate's CN
 * (libcoap 4.3 gives the CN only, not the subjectAltNames); a server reached
 * by IP address is checked by its chain only. libcoap 4.3 puts tls.ca_file
 * in its trust store only as the "common CA" (check_common_ca): the server's
 * certificate must be signed by a CA of that file, and so must the client's.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"
#include "transport/coap_libcoap.h"
#include "transport/coap_map.h"

iotkit_err_t iotkit__coap_dtls_configure(coap_ctx_t *c, const iotkit_transport_config_t *cfg) {
  const iotkit_tls_config_t *tls = &cfg->tls;
  const char *identity = tls->psk_identity ? tls->psk_identity : cfg->username ? cfg->username : cfg->uri->user;
  const char *raw_key = cfg->password ? cfg->password : cfg->uri->password;
  c->verify_peer = tls->verify_peer;
  if (tls->psk_key_hex) {
    int n = iotkit__coap_hex_decode(tls->psk_key_hex, c->psk_key, sizeof c->psk_key);
    if (n <= 0) return IOTKIT_ERR_INVALID_ARG;
    c->psk_key_len = (size_t)n;
  } else if (raw_key && identity && !tls->cert_file) {
    size_t n = strlen(raw_key);
    if (n == 0 || n > sizeof c->psk_key) return IOTKIT_ERR_INVALID_ARG;
    memcpy(c->psk_key, raw_key, n);
    c->psk_key_len = n;
  }
  if (c->psk_key_len) {
    if (!identity || !*identity) return IOTKIT_ERR_INVALID_ARG; /* a key needs an identity */
    c->psk_identity = iotkit__strdup(identity);
    return c->psk_identity ? IOTKIT_OK : IOTKIT_ERR_NOMEM;
  }
  if (!tls->cert_file != !tls->key_file) return IOTKIT_ERR_INVALID_ARG; /* certificate and key go together */
  c->ca_file = iotkit__strdup(tls->ca_file);
  c->cert_file = iotkit__strdup(tls->cert_file);
  c->key_file = iotkit__strdup(tls->key_file);
  if ((tls->ca_file && !c->ca_file) || (tls->cert_file && !c->cert_file) || (tls->key_file && !c->key_file)) {
    return IOTKIT_ERR_NOMEM;
  }
  return IOTKIT_OK;
}

/* The server sent its PSK identity hint: it got as far as the PSK part of the
   handshake. The same identity and key serve every hint. */
static const coap_dtls_cpsk_info_t *on_psk_hint(coap_str_const_t *hint, coap_session_t *session, void *arg) {
  (void)hint;
  (void)session;
  coap_ctx_t *c = arg;
  c->psk_hint_seen = true;
  return &c->psk_info;
}

static bool is_ip_literal(const char *host) {
  unsigned char buf[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static int on_server_cn(const char *cn, const uint8_t *cert, size_t cert_len, coap_session_t *session,
                        unsigned depth, int validated, void *arg) {
  (void)cert;
  (void)cert_len;
  (void)session;
  coap_ctx_t *c = arg;
  if (!c->verify_peer || depth > 0 || is_ip_literal(c->host)) return 1;
  if (validated && cn && strcasecmp(cn, c->host) == 0) return 1;
  char detail[IOTKIT__TRANSPORT_ERR_MAX];
  iotkit__fmt(detail, sizeof detail, "coaps: server certificate of %s is for '%s', not '%s'", c->host,
              cn ? cn : "(no CN)", c->host);
  iotkit__coap_fail(c, IOTKIT_LOG_ERROR, detail);
  return 0;
}

static coap_session_t *open_psk(coap_ctx_t *c) {
  c->psk_info.identity.s = (const uint8_t *)c->psk_identity;
  c->psk_info.identity.length = strlen(c->psk_identity);
  c->psk_info.key.s = c->psk_key;
  c->psk_info.key.length = c->psk_key_len;
  coap_dtls_cpsk_t setup;
  memset(&setup, 0, sizeof setup);
  setup.version = COAP_DTLS_CPSK_SETUP_VERSION;
  setup.validate_ih_call_back = on_psk_hint;
  setup.ih_call_back_arg = c;
  setup.client_sni = is_ip_literal(c->host) ? NULL : c->host;
  setup.psk_info = c->psk_info;
  return coap_new_client_session_psk2(c->cctx, NULL, &c->addr, COAP_PROTO_DTLS, &setup);
}

static coap_session_t *open_pki(coap_ctx_t *c) {
  coap_dtls_pki_t setup;
  memset(&setup, 0, sizeof setup);
  setup.version = COAP_DTLS_PKI_SETUP_VERSION;
  setup.verify_peer_cert = c->verify_peer;
  setup.cert_chain_validation = c->verify_peer;
  setup.cert_chain_verify_depth = 3;
  setup.check_cert_revocation = 0;
  setup.check_common_ca = c->verify_peer && c->ca_file; /* else libcoap does not trust ca_file */
  setup.validate_cn_call_back = on_server_cn;
  setup.cn_call_back_arg = c;
  setup.client_sni = is_ip_literal(c->host) ? NULL : c->host;
  setup.pki_key.key_type = COAP_PKI_KEY_PEM;
  setup.pki_key.key.pem.ca_file = c->ca_file;
  setup.pki_key.key.pem.public_cert = c->cert_file;
  setup.pki_key.key.pem.private_key = c->key_file;
  if (c->verify_peer && !c->ca_file) {
    iotkit__transport_logf(c->hal, IOTKIT_LOG_WARN, "coaps: verify_peer is on but no ca_file is set for %s:%u",
                           c->host, c->port);
  }
  return coap_new_client_session_pki(c->cctx, NULL, &c->addr, COAP_PROTO_DTLS, &setup);
}

iotkit_err_t iotkit__coap_session_open(coap_ctx_t *c) {
  coap_session_t *s;
  if (!c->secure) {
    s = coap_new_client_session(c->cctx, NULL, &c->addr, COAP_PROTO_UDP);
  } else if (c->psk_key_len) {
    s = open_psk(c);
  } else {
    if (!c->verify_peer) {
      iotkit__transport_logf(c->hal, IOTKIT_LOG_WARN,
                             "coaps: DTLS peer verification is OFF for %s:%u; the server is not authenticated",
                             c->host, c->port);
    }
    s = open_pki(c);
  }
  if (!s) {
    char detail[IOTKIT__TRANSPORT_ERR_MAX];
    iotkit__fmt(detail, sizeof detail, "coap%s: cannot open a %s session to %s:%u%s", c->secure ? "s" : "",
                c->secure ? "DTLS" : "UDP", c->host, c->port,
                c->secure && !c->psk_key_len ? " (check ca_file, cert_file and key_file)" : "");
    iotkit__coap_fail(c, IOTKIT_LOG_ERROR, detail);
    return c->secure ? IOTKIT_ERR_TLS : IOTKIT_ERR_CONNECT;
  }
  coap_session_set_app_data(s, c);
  if (c->ack_timeout_ms) {
    coap_fixed_point_t t = {(uint16_t)(c->ack_timeout_ms / 1000), (uint16_t)(c->ack_timeout_ms % 1000)};
    coap_session_set_ack_timeout(s, t);
  }
  if (c->max_retransmit) coap_session_set_max_retransmit(s, (uint16_t)c->max_retransmit);
  if (c->nstart) coap_session_set_nstart(s, (uint16_t)c->nstart);
  c->session = s;
  return IOTKIT_OK;
}
