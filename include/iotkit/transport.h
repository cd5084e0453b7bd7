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
 *  - a call that fails does not deliver an event for the work it refused;
 *  - send() and subscribe() need a session (after connected()): otherwise
 *    ::IOTKIT_ERR_NOT_CONNECTED; connect() on a live or connecting context
 *    gives ::IOTKIT_ERR_STATE;
 *  - when send() runs in another thread, the delivery() of that message may be
 *    raised by poll() before send() has returned its id: a caller that tracks
 *    ids must hold, across send(), a lock its delivery handler also takes.
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

/**
 * TLS (or DTLS) options. Strings are copied by the consumer.
 *
 * Secure by default: an endpoint with a secure scheme verifies the server's
 * certificate chain against @c ca_file / @c ca_dir (the system store when
 * neither is given) and that the certificate names the host of the URI.
 * A backend's create() checks the options: @c cert_file without @c key_file
 * (or the reverse) is ::IOTKIT_ERR_INVALID_ARG; a file it cannot read is
 * ::IOTKIT_ERR_TLS with the path in the logged detail. A failed handshake is
 * ::IOTKIT_ERR_TLS with its cause in last_error() (for example "certificate
 * verify failed" for an unknown CA, "host name verification failed" for a
 * certificate that does not name the host, or the server's alert when it
 * requires a client certificate). Key material is never logged.
 */
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
  /** Reserved, keep zero. This struct is embedded by value in other configs,
      so its size never changes: options added later take these slots. */
  const void *reserved[6];
} iotkit_tls_config_t;

/** The message a last will publishes when the connection is lost. */
typedef struct iotkit_will {
  const char *channel;  /**< channel (topic) of the will, or NULL for none */
  const void *payload;  /**< will payload */
  size_t payload_len;   /**< length of payload */
  int qos;              /**< 0, 1 or 2 */
  bool retain;          /**< retain the will */
} iotkit_will_t;

/**
 * What a backend is created with. Strings are valid during create() only: copy them.
 * Fill with iotkit_transport_config_init() (TLS verification on, the defaults of
 * options.h), then set what differs.
 */
typedef struct iotkit_transport_config {
  /** sizeof(iotkit_transport_config_t) as the caller was compiled (set by _init;
      see "Structs that grow" in docs/architecture.md). */
  size_t struct_size;
  const iotkit_uri_t *uri;  /**< parsed endpoint */
  const iotkit_hal_t *hal;  /**< the HAL: clocks, log, locks */
  const char *client_id;    /**< client identifier (the device id) */
  const char *username;     /**< user name, or NULL */
  const char *password;     /**< password or token, or NULL; never logged */
  uint16_t keepalive_s;     /**< keepalive interval in seconds */
  bool clean_session;       /**< start a clean session */
  int protocol_version;     /**< MQTT: 311 or 5; ignored by others */
  uint32_t connect_timeout_ms; /**< how long connect may take */
  size_t max_payload;       /**< refuse larger payloads with ::IOTKIT_ERR_TOO_LARGE; 0 for no limit */
  iotkit_will_t will;       /**< last will */
  iotkit_tls_config_t tls;  /**< TLS options (used for secure schemes) */
} iotkit_transport_config_t;

/**
 * @brief Fill @p cfg with defaults: struct_size, keepalive
 * IOTKIT_KEEPALIVE_DEFAULT_S, clean session, MQTT 3.1.1, connect timeout
 * IOTKIT_CONNECT_TIMEOUT_DEFAULT_MS, max_payload IOTKIT_MAX_PAYLOAD_DEFAULT,
 * no will, TLS verification on (tls.verify_peer true). NULL is ignored.
 */
IOTKIT_API void iotkit_transport_config_init(iotkit_transport_config_t *cfg);

/** One MQTT 5 user property (name and value, UTF-8). */
typedef struct iotkit_user_property {
  const char *name;  /**< property name */
  const char *value; /**< property value */
} iotkit_user_property_t;

/**
 * MQTT 5 properties of a message (all optional: NULL or 0 when absent).
 * Backends of other protocols ignore them on send and leave them absent on receipt.
 */
typedef struct iotkit_message_props {
  const char *content_type;     /**< Content Type, or NULL */
  const char *response_topic;   /**< Response Topic, or NULL */
  const void *correlation_data; /**< Correlation Data, or NULL */
  size_t correlation_len;       /**< its length */
  uint32_t expiry_s;            /**< Message Expiry Interval in seconds; 0: none */
  const iotkit_user_property_t *user_props; /**< user properties, or NULL */
  size_t n_user_props;          /**< how many */
} iotkit_message_props_t;

/** One message to send. Unset fields (designated initializers) mean "absent". */
typedef struct iotkit_message {
  const char *channel;  /**< logical channel */
  const void *payload;  /**< bytes (may be NULL when len is 0) */
  size_t len;           /**< payload length */
  int qos;              /**< 0 at most once, 1 at least once, 2 exactly once */
  bool retain;          /**< ask the server to retain it (where supported) */
  /** MQTT 5 properties, or NULL for none (ignored with MQTT 3.1.1 and other protocols). */
  const iotkit_message_props_t *props;
} iotkit_message_t;

/** A message as it arrived, with what the protocol says about it (message_ex()). */
typedef struct iotkit_transport_msg {
  size_t struct_size;   /**< sizeof as the backend was compiled: read fields only within it */
  const char *channel;  /**< channel (topic) it arrived on */
  const void *payload;  /**< bytes (may be NULL when len is 0) */
  size_t len;           /**< payload length */
  int qos;              /**< QoS it was delivered with (0 where the protocol has none) */
  bool retain;          /**< the server delivered a retained message (MQTT: sent when the
                             subscription was made), not a live one */
  iotkit_message_props_t props; /**< MQTT 5 properties (absent otherwise) */
} iotkit_transport_msg_t;

/** Bits of iotkit_transport_ops_t::fd_events() and iotkit_device_fd_events(). */
#define IOTKIT_FD_READ 1
/** See ::IOTKIT_FD_READ. */
#define IOTKIT_FD_WRITE 2

/**
 * Upward events from a backend. Pointers passed to them are valid during the
 * call only. @p user is the events' user pointer.
 */
typedef struct iotkit_transport_events {
  /** sizeof(iotkit_transport_events_t) as the caller was compiled; 0 means the
      layout of 0.2.0 (see "Structs that grow" in docs/architecture.md). */
  size_t struct_size;
  void *user; /**< passed back as first argument */
  /** The session is up (after CONNACK or its equivalent). */
  void (*connected)(void *user);
  /** The session is down: @p reason is ::IOTKIT_OK for a requested disconnect. */
  void (*disconnected)(void *user, iotkit_err_t reason, const char *detail);
  /** A message arrived on @p channel. */
  void (*message)(void *user, const char *channel, const void *payload, size_t len);
  /** Message @p msg_id was confirmed (::IOTKIT_OK) or failed (error code;
      ::IOTKIT_ERR_AUTH when the server refused it for lack of authorisation,
      where the protocol says so: see iotkit_transport_mqtt()). */
  void (*delivery)(void *user, uint32_t msg_id, iotkit_err_t status);
  /** Optional (may be NULL; last so that older initialisers stay valid): the
      server answered a subscribe() to @p channel: ::IOTKIT_OK when it granted
      it, ::IOTKIT_ERR_AUTH when it refused it for lack of authorisation,
      ::IOTKIT_ERR_PROTOCOL for another refusal (detail in last_error() and an
      ERROR log line). Raised by backends whose protocol confirms
      subscriptions (MQTT); the loopback never raises it. */
  void (*subscribed)(void *user, const char *channel, iotkit_err_t status);
  /** Optional: when set, a backend calls it for each arriving message instead of
      message(), with the retain flag, QoS and MQTT 5 properties. */
  void (*message_ex)(void *user, const iotkit_transport_msg_t *msg);
} iotkit_transport_events_t;

/** A transport backend: a name, the schemes it serves and its operations. */
typedef struct iotkit_transport_ops {
  /** sizeof(iotkit_transport_ops_t) as the backend was compiled; 0 means the
      layout of 0.2.0. Operations beyond it are taken as absent. */
  size_t struct_size;
  const char *name;             /**< e.g. "mqtt-mosquitto" */
  const char *const *schemes;   /**< NULL-terminated list of schemes served */
  /** Create a context; copy what it needs from @p cfg. */
  iotkit_err_t (*create)(const iotkit_transport_config_t *cfg, const iotkit_transport_events_t *events,
                         void **ctx);
  /** Destroy a context without raising events. The connection is dropped
      without a goodbye (for MQTT: no DISCONNECT, so the broker publishes the
      last will); call disconnect() and poll first for a clean end. NULL is a no-op. */
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
  /** Do network work for at most @p timeout_ms, delivering events. Returns at
      once when there is no connection (and never blocks for the loopback);
      connection failures arrive as disconnected(), not as poll()'s result. */
  iotkit_err_t (*poll)(void *ctx, int timeout_ms);
  /** Descriptor to watch in an external event loop (for the events of
      fd_events(), readability if that is NULL), or -1. It stays the same for
      the life of the context, also while connecting. */
  int (*fd)(void *ctx);
  /** Detail of the last failure, or "" (never NULL, never a secret). */
  const char *(*last_error)(void *ctx);
  /** Optional: remove a subscription made with subscribe() (the same channel
      text). ::IOTKIT_ERR_NOT_FOUND if there is none; ::IOTKIT_ERR_NOT_CONNECTED
      without a session. A NULL operation means the backend cannot. */
  iotkit_err_t (*unsubscribe)(void *ctx, const char *channel);
  /** Optional: the longest an external loop may wait before the next poll(),
      in ms (0: poll now), or -1 when only fd() activity needs a poll. NULL:
      poll at least every 100 ms. */
  int (*timeout_ms)(void *ctx);
  /** Optional: the events fd() is to be watched for now (::IOTKIT_FD_READ,
      ::IOTKIT_FD_WRITE); NULL means ::IOTKIT_FD_READ. */
  int (*fd_events)(void *ctx);
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
 * @brief (Test aid: for tests and simulation, not for production.) The in-process loopback backend (scheme "loop"): messages sent on a
 * channel the same context subscribed to (MQTT wildcards allowed) come back as
 * message events; every send is confirmed on the next poll. For unit tests and
 * simulation. URI query options: @c refuse=1 makes connect() fail with
 * ::IOTKIT_ERR_CONNECT; @c drop_after=N loses the connection
 * (disconnected(::IOTKIT_ERR_CONNECTION_LOST)) after the Nth send of each
 * connection. Retained messages are not kept.
 *
 * message_ex() gets qos = min(the send's QoS, the highest QoS of the matching
 * subscriptions), retain always false, no MQTT 5 properties. unsubscribe()
 * forgets the filter (::IOTKIT_ERR_NOT_FOUND if it was not subscribed,
 * ::IOTKIT_ERR_NOT_CONNECTED without a session) and drops its echoes not yet
 * delivered. timeout_ms() is 0 while events wait for poll(), else -1; fd() is
 * -1 (nothing to watch) and fd_events() is not provided.
 */
IOTKIT_API const iotkit_transport_ops_t *iotkit_transport_loopback(void);

/**
 * @brief The MQTT backend on libmosquitto (schemes "mqtt", "mqtts"), or NULL
 * if the library was built without it.
 *
 * connect() does not block on the network: it starts a non-blocking TCP
 * connection and returns; poll() drives the TCP connect, the TLS handshake
 * and the CONNACK wait, and connected() follows the CONNACK. Host names are
 * still resolved synchronously (getaddrinfo inside libmosquitto), so a slow
 * resolver can hold connect(); an IP literal never blocks. A refused
 * connection gives ::IOTKIT_ERR_CONNECT with host:port in last_error(), from
 * connect() or as disconnected(::IOTKIT_ERR_CONNECT). A broker's refusal arrives as
 * disconnected(::IOTKIT_ERR_AUTH) for bad credentials or no authorisation, or
 * disconnected(::IOTKIT_ERR_PROTOCOL); a whole attempt (TCP, TLS, CONNACK)
 * longer than connect_timeout_ms as disconnected(::IOTKIT_ERR_TIMEOUT) naming
 * host:port.
 *
 * fd() is an epoll descriptor owned by the context (the same for its whole
 * life, also while connecting): it is readable when poll() has work to do,
 * including after send(), subscribe(), unsubscribe() or disconnect() from
 * another thread, so a loop watching it for readability only is woken and the
 * queued packet goes out on the next poll(). timeout_ms() is 0 when such work
 * is pending, else at most 1000 ms (keepalive work) or the time left until
 * connect_timeout_ms, and -1 without a connection. libmosquitto's select()
 * loop is not used, so descriptors above 1024 work. unsubscribe() sends an
 * UNSUBSCRIBE (::IOTKIT_ERR_NOT_CONNECTED without a session); the broker
 * ignores a channel that was not subscribed, so the backend never gives
 * ::IOTKIT_ERR_NOT_FOUND. User name and password come from the
 * config, else from the URI. The password is never logged.
 *
 * URI query option: inflight=N, the most QoS 1 and 2 messages sent and not yet
 * acknowledged (libmosquitto queues the rest; default 20, libmosquitto's; 0 for
 * no limit; with MQTT 5 the broker's Receive Maximum caps it). At QoS 1 the rate
 * is at most N messages per round trip. A malformed value or one above 65535
 * fails create() with ::IOTKIT_ERR_INVALID_ARG.
 *
 * message_ex(): qos is the QoS the broker delivered with (the lower of the
 * publish's and the subscription's), retain is true for a retained message the
 * broker sent because a subscription was made (a live update to an existing
 * subscription has it false, even if it was published with retain). With MQTT
 * 5 the properties Content Type, Response Topic, Correlation Data, Message
 * Expiry Interval (what is left of it) and up to 32 User Properties are
 * delivered, in their order; others (topic alias, subscription identifier) are
 * not. send() sends iotkit_message_t::props on an MQTT 5 connection (ignored
 * with 3.1.1); a property the protocol cannot carry (malformed UTF-8, Correlation
 * Data over 65,535 bytes, a Response Topic with wildcards or empty, a user
 * property without name or value, a length without data) is
 * ::IOTKIT_ERR_INVALID_ARG and nothing is sent.
 *
 * TLS (mqtts): see ::iotkit_tls_config_t; a handshake failure is
 * ::IOTKIT_ERR_TLS, from connect() or as disconnected(::IOTKIT_ERR_TLS).
 * libmosquitto's own log lines go to the HAL log at ::IOTKIT_LOG_DEBUG
 * (packet traces at ::IOTKIT_LOG_TRACE); they carry no payloads nor secrets.
 *
 * Refusals by the broker (e.g. an ACL): with MQTT 5, a QoS 1 or 2 publish the
 * broker refuses gives delivery() with ::IOTKIT_ERR_AUTH (reason 0x87) or
 * ::IOTKIT_ERR_DELIVERY (another reason >= 0x80), the reason in last_error()
 * and a WARN log line. MQTT 3.1.1 has no way to say so: the broker
 * acknowledges and drops the message, and delivery() reports ::IOTKIT_OK;
 * a refused QoS 0 publish is never reported. A refused subscription gives
 * subscribed(::IOTKIT_ERR_AUTH) (SUBACK 0x87, or 0x80 with MQTT 3.1.1), the
 * channel in last_error() and an ERROR log line, with both versions.
 */
IOTKIT_API const iotkit_transport_ops_t *iotkit_transport_mqtt(void);

/**
 * @brief The HTTP backend on libcurl (schemes "http", "https"), or NULL if the
 * library was built without it.
 *
 * Requests go to the base URL of the endpoint (scheme, host, port and path;
 * the query is not sent) followed by "/" and the channel, each byte outside
 * [A-Za-z0-9-._~/] percent-encoded. Channels with wildcards, empty levels,
 * "." or ".." levels are refused with ::IOTKIT_ERR_INVALID_ARG.
 *
 * - connect(): a HEAD of the base path. Any HTTP answer, whatever its status,
 *   counts as connected (routes and credentials are judged per request); a
 *   transfer failure gives disconnected(::IOTKIT_ERR_CONNECT, or
 *   ::IOTKIT_ERR_TLS, or ::IOTKIT_ERR_TIMEOUT) with libcurl's text naming
 *   host:port. There is no session beyond that: "connected" means "reachable".
 * - send(): POST of the payload to base/channel; PUT for a channel whose last
 *   levels are "state/reported". Content-Type is application/json when the
 *   payload, trimmed of white space, is {...} or [...] without a NUL byte,
 *   else application/octet-stream. delivery(::IOTKIT_OK) on any 2xx;
 *   401/403 give ::IOTKIT_ERR_AUTH, 404 ::IOTKIT_ERR_NOT_FOUND, 413
 *   ::IOTKIT_ERR_TOO_LARGE, other answers ::IOTKIT_ERR_PROTOCOL (redirects are
 *   not followed). 408, 429 and 5xx are retried with exponential backoff
 *   (250 ms doubling, at most 8 s, or the server's Retry-After when longer, up
 *   to 300 s), 5 attempts in all, then ::IOTKIT_ERR_DELIVERY; last_error()
 *   then names the request and the status. Sends are made one at a time, in
 *   order. A transfer failure (connection refused or cut) is retried the same
 *   way; when the attempts run out the session ends:
 *   disconnected(::IOTKIT_ERR_CONNECTION_LOST or ::IOTKIT_ERR_TLS).
 * - subscribe(): a long-poll GET of base/channel?wait=30 per channel (QoS is
 *   ignored). A 2xx answer is a message on that channel (its body), and the
 *   next poll starts at once; 204 and 304 start the next poll. If the server
 *   sends an ETag it is returned in If-None-Match. Between the starts of two
 *   polls that brought no message at least 1 s passes, so a server that does
 *   not hold requests is polled once a second. 401/403 end the session with
 *   ::IOTKIT_ERR_AUTH; 404 and other refusals are retried slowly.
 * - disconnect() and any end of the session abort every transfer, report each
 *   unconfirmed send as delivery(::IOTKIT_ERR_CONNECTION_LOST) (it may or may
 *   not have reached the server), forget the subscriptions, then report
 *   disconnected(). Events come from poll() and disconnect().
 * - Authentication: a user name (config, else the URI) gives HTTP Basic with
 *   the password; a password or token without a user name (or with an empty
 *   one) is sent as "Authorization: Bearer <password>". Neither is logged.
 * - TLS (https): verification of the chain and host name on by default, with
 *   the system CA store unless ca_file/ca_dir are given; cert_file and
 *   key_file (both or neither) for mutual TLS. verify_peer=false logs a
 *   warning on every connect(). HTTP/2 is negotiated by ALPN when libcurl has
 *   it; plain http uses HTTP/1.1. Connections are kept alive and reused.
 * - poll() never blocks longer than asked. fd() is an epoll descriptor that
 *   holds every socket libcurl uses (a context may use several at once, one
 *   per concurrent HTTP/1.1 transfer) and an eventfd that send() signals: it
 *   is the same for the life of the context and becomes readable whenever
 *   poll() has work (watch it for reading: fd_events() is not provided).
 *   timeout_ms() is 0 with a send queued or a request due, else the nearer of
 *   libcurl's next timer and the next due request (a retry, a long-poll
 *   interval), or -1; an external loop that waits on fd() for timeout_ms()
 *   and then calls poll(ctx, 0) misses nothing.
 * - unsubscribe() stops that channel's long-poll (a GET in flight is
 *   aborted; its answer is never delivered). message_ex() gets qos 0 and
 *   retain false (HTTP has neither: a front answers a retained channel's
 *   GET with its current document, but the answer does not say so).
 * - URI query options override the defaults: attempts=N, backoff_ms=N,
 *   wait=S (long-poll), poll_ms=N (least interval between empty polls),
 *   timeout_ms=N (per request, on top of wait), inflight=N (concurrent sends;
 *   above 1 the order is not kept). A malformed value fails create() with
 *   ::IOTKIT_ERR_INVALID_ARG.
 *
 * The backend calls curl_global_init() once per process (guarded by a
 * pthread_once) and never curl_global_cleanup().
 */
IOTKIT_API const iotkit_transport_ops_t *iotkit_transport_http(void);

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
 * response) arrives as message(channel, payload), except one without payload
 * (the server has nothing there yet), which is not a message. MQTT wildcards give
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
 *
 * message_ex(): qos 1 for a notification that came confirmable (CON, or the
 * first one, piggybacked on the ACK of the registration), 0 for a NON one;
 * retain is always false (CoAP retains nothing: the first notification of a
 * registration is the resource's current state, the hub's retained document
 * for state/desired and ota/manifest, but it is not marked so); no MQTT 5
 * properties. unsubscribe() cancels the observation (libcoap's
 * coap_cancel_observe(), a GET with Observe deregister, RFC 7641 3.6) and
 * drops its notifications not yet handed out; a later notification for it is
 * answered with a RST. timeout_ms() is 0 while events wait for poll(), else
 * the nearest of libcoap's next timer, the DTLS handshake deadline and the
 * next observation refresh, or -1; fd_events() is not provided (readability).
 */
IOTKIT_API const iotkit_transport_ops_t *iotkit_transport_coap(void);

#ifdef __cplusplus
}
#endif
#endif /* IOTKIT_TRANSPORT_H */
