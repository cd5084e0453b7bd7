/**
 * @file transport.h
 * @brief The pluggable transport interface, URI parsing and the backend registry.
 *
 * A transport backend is a table of operations (::iotkit_transport_ops_t) over
 * an opaque context. The device layer speaks only to this table; which backend
 * serves a device is chosen from the scheme of its endpoint URI (mqtt, mqtts,
 * coap, coaps, http, https, or a scheme an integrator registers).
 *
 * Messages travel on logical channels: '/'-separated paths such as
 * "iotkit/v1/dev-1/telemetry". MQTT maps a channel to a topic, CoAP to a
 * resource path, HTTP to a route.
 *
 * Contract for every backend:
 *  - operations other than send() are called from one thread at a time;
 *    send() may be called from another thread while poll() runs;
 *  - events are delivered only from inside poll() (or connect()/disconnect()),
 *    in the calling thread;
 *  - a call that fails does not deliver an event for the work it refused.
 */
#ifndef IOTKIT_TRANSPORT_H
#define IOTKIT_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "core.h"
#include "error.h"
#include "hal.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Longest URI scheme, without NUL. */
#define IOTKIT_URI_SCHEME_MAX 15

/** A parsed endpoint URI: scheme://[user[:password]@]host[:port][/path][?query]. */
typedef struct iotkit_uri {
  char scheme[IOTKIT_URI_SCHEME_MAX + 1]; /**< lower-cased scheme, e.g. "mqtt" */
  char *user;     /**< user from the URI (percent-decoded), or NULL */
  char *password; /**< password from the URI (percent-decoded), or NULL */
  char *host;     /**< host name or address; IPv6 without brackets */
  uint16_t port;  /**< port; the scheme's default if the URI has none */
  char *path;     /**< path including the leading '/', or "" */
  char *query;    /**< query without the '?', or NULL */
  bool secure;    /**< the scheme asks for TLS/DTLS (mqtts, coaps, https) */
} iotkit_uri_t;

/**
 * @brief Parse @p text into @p uri.
 * @param text NUL-terminated URI.
 * @param uri receives the parts; release them with iotkit_uri_clear().
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG for NULL; ::IOTKIT_ERR_BAD_URI
 *         for a malformed URI (no scheme, empty host, bad port, bad escape,
 *         control characters). On failure @p uri is left zeroed.
 */
IOTKIT_API iotkit_err_t iotkit_uri_parse(const char *text, iotkit_uri_t *uri);

/** @brief Release the strings of @p uri and zero it. NULL is ignored. */
IOTKIT_API void iotkit_uri_clear(iotkit_uri_t *uri);

/**
 * @brief Default port of a known scheme (mqtt 1883, mqtts 8883, coap 5683,
 * coaps 5684, http 80, https 443), or 0 if unknown.
 */
IOTKIT_API uint16_t iotkit_uri_default_port(const char *scheme);

/** TLS (or DTLS) options. Strings are copied by the consumer. */
typedef struct iotkit_tls_config {
  const char *ca_file;   /**< PEM bundle of trusted CAs, or NULL */
  const char *ca_dir;    /**< directory of hashed CA certificates, or NULL */
  const char *cert_file; /**< client certificate (PEM) for mutual TLS, or NULL */
  const char *key_file;  /**< client private key (PEM), or NULL */
  const char *psk_identity; /**< PSK identity (CoAP DTLS), or NULL */
  const char *psk_key_hex;  /**< PSK as hex (CoAP DTLS), or NULL */
  /** Verify the server certificate chain and host name (default true).
      Turning it off logs a warning on every connect. */
  bool verify_peer;
} iotkit_tls_config_t;

/** The message a last will publishes when the connection is lost. */
typedef struct iotkit_will {
  const char *channel;  /**< channel (topic) of the will, or NULL for none */
  const void *payload;  /**< will payload */
  size_t payload_len;   /**< length of payload */
  int qos;              /**< 0, 1 or 2 */
  bool retain;          /**< retain the will */
} iotkit_will_t;

/** What a backend is created with. Strings are valid during create() only: copy them. */
typedef struct iotkit_transport_config {
  const iotkit_uri_t *uri;  /**< parsed endpoint */
  const iotkit_hal_t *hal;  /**< the HAL: clocks, log, locks */
  const char *client_id;    /**< client identifier (the device id) */
  const char *username;     /**< user name, or NULL */
  const char *password;     /**< password or token, or NULL; never logged */
  uint16_t keepalive_s;     /**< keepalive interval in seconds */
  bool clean_session;       /**< start a clean session */
  int protocol_version;     /**< MQTT: 311 or 5; ignored by others */
  uint32_t connect_timeout_ms; /**< how long connect may take */
  size_t max_payload;       /**< refuse larger payloads with ::IOTKIT_ERR_TOO_LARGE */
  iotkit_will_t will;       /**< last will */
  iotkit_tls_config_t tls;  /**< TLS options (used for secure schemes) */
} iotkit_transport_config_t;

/** One message to send. */
typedef struct iotkit_message {
  const char *channel;  /**< logical channel */
  const void *payload;  /**< bytes (may be NULL when len is 0) */
  size_t len;           /**< payload length */
  int qos;              /**< 0 at most once, 1 at least once, 2 exactly once */
  bool retain;          /**< ask the server to retain it (where supported) */
} iotkit_message_t;

/**
 * Upward events from a backend. Pointers passed to them are valid during the
 * call only. @p user is the events' user pointer.
 */
typedef struct iotkit_transport_events {
  void *user; /**< passed back as first argument */
  /** The session is up (after CONNACK or its equivalent). */
  void (*connected)(void *user);
  /** The session is down: @p reason is ::IOTKIT_OK for a requested disconnect. */
  void (*disconnected)(void *user, iotkit_err_t reason, const char *detail);
  /** A message arrived on @p channel. */
  void (*message)(void *user, const char *channel, const void *payload, size_t len);
  /** Message @p msg_id was confirmed (::IOTKIT_OK) or failed (error code). */
  void (*delivery)(void *user, uint32_t msg_id, iotkit_err_t status);
} iotkit_transport_events_t;

/** A transport backend: a name, the schemes it serves and its operations. */
typedef struct iotkit_transport_ops {
  const char *name;             /**< e.g. "mqtt-mosquitto" */
  const char *const *schemes;   /**< NULL-terminated list of schemes served */
  /** Create a context; copy what it needs from @p cfg. */
  iotkit_err_t (*create)(const iotkit_transport_config_t *cfg, const iotkit_transport_events_t *events,
                         void **ctx);
  /** Destroy a context (disconnecting without events). NULL is a no-op. */
  void (*destroy)(void *ctx);
  /** Start connecting; ::IOTKIT_OK once the attempt is under way or done
      (connected() follows from poll()); an error if it failed at once. */
  iotkit_err_t (*connect)(void *ctx);
  /** Disconnect cleanly; disconnected(::IOTKIT_OK) follows. */
  iotkit_err_t (*disconnect)(void *ctx);
  /** Queue a message; @p *msg_id identifies it in delivery(). May run concurrently with poll(). */
  iotkit_err_t (*send)(void *ctx, const iotkit_message_t *msg, uint32_t *msg_id);
  /** Subscribe to a channel (MQTT wildcards allowed where the transport has them). */
  iotkit_err_t (*subscribe)(void *ctx, const char *channel, int qos);
  /** Do network work for at most @p timeout_ms, delivering events. */
  iotkit_err_t (*poll)(void *ctx, int timeout_ms);
  /** Socket to watch for readability in an external event loop, or -1. */
  int (*fd)(void *ctx);
  /** Detail of the last failure, or "" (never NULL, never a secret). */
  const char *(*last_error)(void *ctx);
} iotkit_transport_ops_t;

/** A set of transport backends, searched by scheme. Opaque. */
typedef struct iotkit_transport_registry iotkit_transport_registry_t;

/**
 * @brief Create a registry holding the backends compiled into the library.
 * @param out receives the registry; release with iotkit_transport_registry_free().
 */
IOTKIT_API iotkit_err_t iotkit_transport_registry_new(iotkit_transport_registry_t **out);

/** @brief Free a registry. NULL is a no-op. */
IOTKIT_API void iotkit_transport_registry_free(iotkit_transport_registry_t *reg);

/**
 * @brief Register an integrator's backend (for example a cellular modem).
 * Its schemes take precedence over built-in backends for the same scheme.
 * @param reg the registry.
 * @param ops the backend; must stay valid as long as @p reg (not copied).
 * @return ::IOTKIT_OK; ::IOTKIT_ERR_INVALID_ARG if @p ops lacks a name, schemes
 *         or a required operation; ::IOTKIT_ERR_EXISTS if a backend of the same
 *         name is already registered.
 */
IOTKIT_API iotkit_err_t iotkit_transport_register(iotkit_transport_registry_t *reg, const iotkit_transport_ops_t *ops);

/**
 * @brief Find the backend serving @p scheme.
 * @param reg the registry, or NULL for the built-in backends only.
 * @param scheme scheme, case-insensitive.
 * @param out receives the backend.
 * @return ::IOTKIT_OK or ::IOTKIT_ERR_UNKNOWN_SCHEME.
 */
IOTKIT_API iotkit_err_t iotkit_transport_find(const iotkit_transport_registry_t *reg, const char *scheme,
                                              const iotkit_transport_ops_t **out);

/**
 * @brief The in-process loopback backend (scheme "loop"): messages sent on a
 * channel the same context subscribed to come back as message events;
 * every send is confirmed on the next poll. For unit tests and simulation.
 */
IOTKIT_API const iotkit_transport_ops_t *iotkit_transport_loopback(void);

/**
 * @brief The MQTT backend on libmosquitto (schemes "mqtt", "mqtts"), or NULL
 * if the library was built without it.
 */
IOTKIT_API const iotkit_transport_ops_t *iotkit_transport_mqtt(void);

/**
 * @brief The CoAP backend on libcoap 3 (schemes "coap", "coaps"; RFC 7252 over
 * UDP, DTLS 1.2 for coaps), or NULL if the library was built without it.
 *
 * Channels are resource paths: channel "a/b" is "/a/b" under the URI's path
 * (coap://host/base sends to "/base/a/b").
 *
 * send(): a PUT for a channel whose last two levels are "state/reported" (the
 * device replaces a state), a POST otherwise (telemetry, events, responses:
 * each message is a new item). qos 0 sends it non-confirmable (NON) and
 * reports delivery ::IOTKIT_OK once it is sent; qos 1 or 2 sends it
 * confirmable (CON) and reports delivery when the response comes: ::IOTKIT_OK
 * for 2.xx; ::IOTKIT_ERR_AUTH for 4.01/4.03, ::IOTKIT_ERR_NOT_FOUND for 4.04,
 * ::IOTKIT_ERR_TOO_LARGE for 4.13, ::IOTKIT_ERR_BUSY for 4.29/5.03,
 * ::IOTKIT_ERR_PROTOCOL for other 4.xx, ::IOTKIT_ERR_DELIVERY for other 5.xx
 * (last_error() then reads e.g. "coap: POST /a/b: 4.04 Not Found");
 * ::IOTKIT_ERR_TIMEOUT when libcoap gave up retransmitting (RFC 7252 4.2),
 * ::IOTKIT_ERR_CONNECT when the host answered with an ICMP error (nothing
 * listening), ::IOTKIT_ERR_TLS when the DTLS session failed. Payloads larger
 * than one datagram go block-wise (RFC 7959, by libcoap). retain is ignored.
 *
 * subscribe(): a GET with Observe (RFC 7641); each notification (and the first
 * response) arrives as message(channel, payload). MQTT wildcards give
 * ::IOTKIT_ERR_UNSUPPORTED; subscribing twice to a channel is one observation.
 * When the server refuses or ends the observation (a 4.xx/5.xx, a response
 * without Observe, no answer) or stays silent longer than the Max-Age of its
 * last notification, the backend registers again (every observe_retry_ms
 * while refused). Observations end with the session: subscribe again after
 * connected().
 *
 * Sessions: coap:// has no session set-up, so connected() follows connect() at
 * once (on the next poll()). coaps:// is connected when the DTLS handshake
 * completes; a handshake that fails or does not complete within
 * connect_timeout_ms gives disconnected() with ::IOTKIT_ERR_AUTH when the
 * server reached the PSK step but did not accept the identity and key,
 * ::IOTKIT_ERR_TLS for a refused certificate, ::IOTKIT_ERR_TIMEOUT when no
 * DTLS server answered. disconnect() fails confirmable sends still waiting with
 * ::IOTKIT_ERR_CONNECTION_LOST, before disconnected(::IOTKIT_OK).
 *
 * DTLS credentials: PSK with tls.psk_identity and tls.psk_key_hex, or the
 * user name and password (config, else URI) as identity and raw key; else
 * certificates: tls.ca_file (tls.ca_dir is not used), tls.cert_file and
 * tls.key_file, tls.verify_peer. libcoap 4.3 trusts ca_file only as the
 * common CA of both ends: the server's certificate, and the client's if one
 * is given, must be signed by a CA in ca_file. A server reached by name must
 * have that name as its certificate's CN; one reached by IP address is
 * checked by its chain only.
 *
 * URI query options (all optional, numbers): ack_timeout_ms (RFC 7252
 * ACK_TIMEOUT, 1000..600000, default 2000), max_retransmit (1..20, default
 * 4), nstart (confirmable requests in flight at once, RFC 7252 NSTART, 1..32,
 * default 1; more are queued), observe_retry_ms (default 5000),
 * observe_refresh_ms (register an
 * observation again after this long without a notification, instead of
 * Max-Age). A malformed value makes create() fail with ::IOTKIT_ERR_BAD_URI.
 *
 * fd() is libcoap's epoll descriptor, which also becomes readable when a
 * libcoap timer (retransmission, DTLS) is due. Logging: libcoap's messages go
 * to the HAL log of the context whose call produced them. libcoap's log
 * handler is process-wide: the first CoAP context installs one (never
 * removed) that sends lines logged outside any libiotkit call to stderr, as
 * libcoap's default handler does; an application that installs its own
 * handler afterwards simply takes over. libcoap's log level is not changed.
 */
IOTKIT_API const iotkit_transport_ops_t *iotkit_transport_coap(void);

#ifdef __cplusplus
}
#endif
#endif /* IOTKIT_TRANSPORT_H */
