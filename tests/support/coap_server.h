/* libcoap's own example server (coap-server-openssl, Debian libcoap3-bin) for
 * integration tests, on 127.0.0.1 and a free port, and its client.
 *
 *   coap_srv_t *srv = coap_srv_new();          // directory and ports chosen
 *   coap_srv_set_psk(srv, "secret", "hint");   // optional: DTLS-PSK on port + 1
 *   coap_srv_set_loss(srv, "20%");             // optional: drop outgoing datagrams
 *   coap_srv_start(srv);                       // returns once it answers a CoAP ping
 *   ... coap_srv_uri(srv) / coap_srv_uri_dtls(srv) ...
 *   coap_srv_free(srv);                        // stops it, removes the directory
 *
 * By default the server runs with -d (PUT creates resources, which are observable) and
 * keeps no state across restarts. Output goes to server.log in the directory
 * (kept if IOTKIT_TEST_KEEP is set). Functions returning bool print the reason
 * to stderr when they fail.
 */
#ifndef IOTKIT_TEST_COAP_SERVER_H
#define IOTKIT_TEST_COAP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct coap_srv coap_srv_t;

/* Create the directory and pick free ports; not started. NULL on failure. */
coap_srv_t *coap_srv_new(void);

/* Accept DTLS-PSK with @p key (any identity) and send identity hint @p hint; before start. */
bool coap_srv_set_psk(coap_srv_t *srv, const char *key, const char *hint);

/* Make a test PKI in the directory (test_certs.h): ca.crt (+ ca.key),
   server.crt/server.key (CN and IP 127.0.0.1) and client.crt/client.key
   (CN 127.0.0.1) signed by it, and other-ca.crt, a CA that signed neither;
   then serve DTLS with the server certificate, trusting ca.crt for client
   certificates. Before start. */
bool coap_srv_use_test_pki(coap_srv_t *srv);

/* Randomly drop outgoing datagrams, e.g. "20%" (coap-server -l); before start. */
bool coap_srv_set_loss(coap_srv_t *srv, const char *loss);

/* Create resources on PUT/POST (coap-server -d; the default) or not, so that
   unknown paths get 4.04; before start. */
bool coap_srv_set_dynamic(coap_srv_t *srv, bool on);

/* Start and wait (up to 10 s) until it answers a CoAP ping on 127.0.0.1. */
bool coap_srv_start(coap_srv_t *srv);

/* Stop (SIGTERM, then wait). Ports and directory stay. */
bool coap_srv_stop(coap_srv_t *srv);

/* Stop if running, then start on the same ports (all resources are gone). */
bool coap_srv_restart(coap_srv_t *srv);

/* UDP port of coap://; DTLS listens on port + 1. */
uint16_t coap_srv_port(const coap_srv_t *srv);

/* "coap://127.0.0.1:PORT" and "coaps://127.0.0.1:PORT+1", valid until coap_srv_free(). */
const char *coap_srv_uri(const coap_srv_t *srv);
const char *coap_srv_uri_dtls(const coap_srv_t *srv);

/* The private directory. */
const char *coap_srv_dir(const coap_srv_t *srv);

/* Stop the server and remove its directory. NULL is a no-op. */
void coap_srv_free(coap_srv_t *srv);

/* Store @p len bytes of @p data as the resource at @p path ("/fw/img.bin") of
   the running dynamic server: coap-client PUTs them (block-wise, Block1), and
   the server then serves them to GETs, block-wise (Block2) when asked. */
bool coap_srv_put(coap_srv_t *srv, const char *path, const void *data, size_t len);

/* Run coap-client-openssl with @p args (NULL-terminated, without the program
   name), wait up to 20 s, and put its standard output (NUL-terminated,
   truncated to @p cap - 1) into @p out. Returns its exit status, or -1. */
int coap_client_run(const char *const *args, char *out, size_t cap);

/* The same, with its standard error in @p out too (where coap-client puts the
   code and diagnostic payload of an error response). */
int coap_client_run_all(const char *const *args, char *out, size_t cap);

#endif
