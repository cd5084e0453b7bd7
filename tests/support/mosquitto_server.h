/* A real mosquitto broker for integration tests, on 127.0.0.1 and a free port,
 * with a config file in its own mkdtemp directory.
 *
 *   mosq_server_t *srv = mosq_server_new();      // directory and port chosen
 *   mosq_server_add_user(srv, "dev", "pw");       // optional: password_file
 *   mosq_server_add_config(srv, "max_packet_size 1000");
 *   mosq_server_start(srv);                       // returns once it accepts TCP
 *   ... mosq_server_port(srv) ...
 *   mosq_server_stop(srv); mosq_server_restart(srv);  // same port
 *   mosq_server_free(srv);                        // stops it, removes the directory
 *
 * Functions returning bool print the reason to stderr when they fail. Broker
 * output goes to mosquitto.log in the directory (kept if IOTKIT_TEST_KEEP is set).
 */
#ifndef IOTKIT_TEST_MOSQUITTO_SERVER_H
#define IOTKIT_TEST_MOSQUITTO_SERVER_H

#include <stdbool.h>
#include <stdint.h>

typedef struct mosq_server mosq_server_t;

/* Create the directory and pick a free port; the broker is not started. NULL on failure. */
mosq_server_t *mosq_server_new(void);

/* Keep messages and sessions across restarts (persistence true, in the directory). */
bool mosq_server_set_persistence(mosq_server_t *srv, bool on);

/* Append one line to the listener's config (e.g. TLS or ACL options); before start. */
bool mosq_server_add_config(mosq_server_t *srv, const char *line);

/* Add a user to a password file (mosquitto_passwd) and turn anonymous access off. */
bool mosq_server_add_user(mosq_server_t *srv, const char *user, const char *password);

/* Serve TLS: makes a test CA (ca.crt), a server certificate for 127.0.0.1 and
   localhost signed by it, and an unrelated CA (other-ca.crt) for negative
   tests, all in the directory (see test_certs.h); mosq_server_uri() becomes
   mqtts://. Before start. */
bool mosq_server_enable_tls(mosq_server_t *srv);

/* The same with the server certificate's subjectAltName @p san (openssl
   syntax, e.g. "DNS:otherhost" for a certificate that does not name 127.0.0.1). */
bool mosq_server_enable_tls_san(mosq_server_t *srv, const char *san);

/* A client certificate NAME.crt / NAME.key for CN=@p cn signed by the CA @p ca
   ("ca" or "other-ca"); after mosq_server_enable_tls(). For mutual TLS, add
   "require_certificate true" (and "use_identity_as_username true") yourself. */
bool mosq_server_make_client_cert(mosq_server_t *srv, const char *name, const char *ca, const char *cn);

/* Write @p acl (mosquitto acl_file syntax, lines ending in '\n') to the
   directory and point the broker at it. Before start. */
bool mosq_server_set_acl(mosq_server_t *srv, const char *acl);

/* Path of a file in the server's directory ("ca.crt", "other-ca.crt"...), valid
   until the next call. */
const char *mosq_server_file(mosq_server_t *srv, const char *name);

/* Use the dynamic security plugin with @p json as its configuration
   (clients, roles and ACLs; see mosquitto_ctrl_dynsec(1)). With
   "use_identity_as_username true", clients listed without a password are
   known by their certificate's CN. Before start. */
bool mosq_server_set_dynsec(mosq_server_t *srv, const char *json);

/* Start the broker and wait (up to 10 s) until it accepts TCP connections. */
bool mosq_server_start(mosq_server_t *srv);

/* Stop the broker (SIGTERM, then wait for it). The port and directory stay. */
bool mosq_server_stop(mosq_server_t *srv);

/* Kill the broker at once (SIGKILL), as a crash would. */
bool mosq_server_kill(mosq_server_t *srv);

/* Freeze (SIGSTOP) or resume (SIGCONT) the broker: a frozen broker keeps its
   connections open but answers nothing, as a half-open connection looks. */
bool mosq_server_pause(mosq_server_t *srv, bool paused);

/* Stop if running, then start again on the same port. */
bool mosq_server_restart(mosq_server_t *srv);

/* True while the broker process runs. */
bool mosq_server_running(mosq_server_t *srv);

/* Port the broker listens on (fixed for the server's lifetime). */
uint16_t mosq_server_port(const mosq_server_t *srv);

/* "mqtt://127.0.0.1:PORT", valid until mosq_server_free(). */
const char *mosq_server_uri(const mosq_server_t *srv);

/* The private directory (for certificates, ACL files...). */
const char *mosq_server_dir(const mosq_server_t *srv);

/* Stop the broker and remove its directory. NULL is a no-op. */
void mosq_server_free(mosq_server_t *srv);

#endif
