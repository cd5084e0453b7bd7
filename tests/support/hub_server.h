/* The built iotkit-hub daemon for integration tests, on 127.0.0.1 and free
 * UDP ports, with a config file and a key file it writes in its own mkdtemp
 * directory.
 *
 *   hub_srv_t *hub = hub_srv_new(IOTKIT_BINARY_DIR "/tools/iotkit-hub/iotkit-hub", mosq_server_uri(mq));
 *   hub_srv_add_device(hub, "sensor-1", "73656372657431");  // key file line
 *   hub_srv_add_config(hub, "packet_loss = 20%");            // optional
 *   hub_srv_start(hub);               // returns once the hub logged "ready"
 *   ... hub_srv_coaps_uri(hub) / hub_srv_coap_uri(hub) ...
 *   hub_srv_stop(hub);                // SIGTERM; true if it exited with 0
 *   hub_srv_free(hub);                // stops it, removes the directory
 *
 * The hub serves coaps:// (DTLS-PSK) and plain coap:// (allow_insecure_coap)
 * on two free ports. Its log goes to hub.log in the directory (kept if
 * IOTKIT_TEST_KEEP is set). Functions returning bool print the reason to
 * stderr when they fail.
 */
#ifndef IOTKIT_TEST_HUB_SERVER_H
#define IOTKIT_TEST_HUB_SERVER_H

#include <stdbool.h>
#include <stdint.h>

typedef struct hub_srv hub_srv_t;

/* Create the directory; @p bin is the hub executable, @p mqtt_uri its broker. NULL on failure. */
hub_srv_t *hub_srv_new(const char *bin, const char *mqtt_uri);

/* Add a "device-id hexkey" line to the key file; before start. */
bool hub_srv_add_device(hub_srv_t *hub, const char *id, const char *key_hex);

/* Append a "key = value" line to the config file; before start. */
bool hub_srv_add_config(hub_srv_t *hub, const char *line);

/* Serve HTTP too, on a free TCP port: plain (allow_insecure_http) or, with
   @p tls, HTTPS with a server certificate for 127.0.0.1 signed by a test CA
   (hub_srv_file(hub, "ca.crt")); before start. */
bool hub_srv_enable_http(hub_srv_t *hub, bool tls);

/* "http(s)://127.0.0.1:PORT" of the HTTP front, valid until hub_srv_free(). */
const char *hub_srv_http_uri(const hub_srv_t *hub);

/* The CA that signed the HTTPS certificate (after hub_srv_enable_http(hub, true)), valid until hub_srv_free(). */
const char *hub_srv_ca_file(const hub_srv_t *hub);

/* Path of a file in the hub's directory ("ca.crt"...), valid until the next call. */
const char *hub_srv_file(hub_srv_t *hub, const char *name);

/* Start and wait (up to 15 s) for its "ready" log line (CoAP bound, MQTT subscribed). */
bool hub_srv_start(hub_srv_t *hub);

/* SIGTERM and wait; true if the hub exited with status 0. A later
   hub_srv_start() serves HTTP on the same port (CoAP ports may change) and
   reads the key file (hub_srv_file(hub, "keys")) again. */
bool hub_srv_stop(hub_srv_t *hub);

/* Send SIGTERM without waiting (the hub finishes its stop meanwhile); false if it
   is not running. hub_srv_stop() then waits for it (its second SIGTERM is harmless). */
bool hub_srv_term(hub_srv_t *hub);

/* "coap://127.0.0.1:PORT" and "coaps://127.0.0.1:PORT", valid until hub_srv_free(). */
const char *hub_srv_coap_uri(const hub_srv_t *hub);
const char *hub_srv_coaps_uri(const hub_srv_t *hub);

/* True if the hub's log so far has a line containing @p needle. */
bool hub_srv_log_contains(const hub_srv_t *hub, const char *needle);

/* The path of the hub's log file. */
const char *hub_srv_log_path(const hub_srv_t *hub);

/* Stop the hub (if running) and remove its directory. NULL is a no-op. */
void hub_srv_free(hub_srv_t *hub);

#endif
