/**
 * @file options.h
 * @brief Compile-time limits and defaults. A port overrides any of them by
 * defining the macro before this header is included (for example with -D).
 */
#ifndef IOTKIT_OPTIONS_H
#define IOTKIT_OPTIONS_H

/** Largest payload the library accepts for one message, in bytes (default 256 KiB). */
#ifndef IOTKIT_MAX_PAYLOAD_DEFAULT
#define IOTKIT_MAX_PAYLOAD_DEFAULT (256u * 1024u)
#endif

/** Longest device id, in bytes, without the terminating NUL. */
#ifndef IOTKIT_MAX_DEVICE_ID
#define IOTKIT_MAX_DEVICE_ID 128u
#endif

/** Longest key accepted by the HAL key-value store, in bytes. */
#ifndef IOTKIT_MAX_KV_KEY
#define IOTKIT_MAX_KV_KEY 64u
#endif

/** Largest value accepted by the HAL key-value store, in bytes (default 1 MiB). */
#ifndef IOTKIT_MAX_KV_VALUE
#define IOTKIT_MAX_KV_VALUE (1024u * 1024u)
#endif

/** Default MQTT keepalive interval, in seconds. */
#ifndef IOTKIT_KEEPALIVE_DEFAULT_S
#define IOTKIT_KEEPALIVE_DEFAULT_S 60u
#endif

/** Default time allowed for a connection to be established, in milliseconds. */
#ifndef IOTKIT_CONNECT_TIMEOUT_DEFAULT_MS
#define IOTKIT_CONNECT_TIMEOUT_DEFAULT_MS 10000u
#endif

/** Default topic prefix; the wire convention puts the protocol version in it. */
#ifndef IOTKIT_TOPIC_PREFIX_DEFAULT
#define IOTKIT_TOPIC_PREFIX_DEFAULT "iotkit/v1"
#endif

/** Size of the per-handle last-error text buffer, in bytes. */
#ifndef IOTKIT_ERROR_TEXT_SIZE
#define IOTKIT_ERROR_TEXT_SIZE 256u
#endif

/** Default upper bound of the first reconnect delay, in milliseconds (delays double from here, with full jitter). */
#ifndef IOTKIT_RECONNECT_MIN_DEFAULT_MS
#define IOTKIT_RECONNECT_MIN_DEFAULT_MS 1000u
#endif

/** Default largest reconnect delay, in milliseconds. */
#ifndef IOTKIT_RECONNECT_MAX_DEFAULT_MS
#define IOTKIT_RECONNECT_MAX_DEFAULT_MS 60000u
#endif

/** Default time a command handler has to complete before a "timeout" error response is sent, in ms. */
#ifndef IOTKIT_COMMAND_TIMEOUT_DEFAULT_MS
#define IOTKIT_COMMAND_TIMEOUT_DEFAULT_MS 30000u
#endif

/** Most commands awaiting completion at once; more get a "busy" error response. */
#ifndef IOTKIT_MAX_PENDING_COMMANDS
#define IOTKIT_MAX_PENDING_COMMANDS 16u
#endif

/** Longest command name or event type, in bytes, without the NUL ([A-Za-z0-9._-]). */
#ifndef IOTKIT_MAX_NAME
#define IOTKIT_MAX_NAME 64u
#endif

/** Longest command request id, in bytes. */
#ifndef IOTKIT_MAX_REQUEST_ID
#define IOTKIT_MAX_REQUEST_ID 64u
#endif

/** Capacity of the user name and password buffers handed to the credentials callback, in bytes (with the NUL). */
#ifndef IOTKIT_MAX_CREDENTIAL
#define IOTKIT_MAX_CREDENTIAL 4096u
#endif

/* ------------------------------------------------------------- fleet -- */

/** Longest name of a fleet registry record, in bytes, without the NUL. */
#ifndef IOTKIT_FLEET_MAX_NAME
#define IOTKIT_FLEET_MAX_NAME 256u
#endif

/** Longest type of a fleet registry record, in bytes ([A-Za-z0-9._-], the OTA device_type rule). */
#ifndef IOTKIT_FLEET_MAX_TYPE
#define IOTKIT_FLEET_MAX_TYPE 64u
#endif

/** Longest tag of a fleet registry record, in bytes, without the NUL. */
#ifndef IOTKIT_FLEET_MAX_TAG
#define IOTKIT_FLEET_MAX_TAG 64u
#endif

/** Most tags of one fleet registry record. */
#ifndef IOTKIT_FLEET_MAX_TAGS
#define IOTKIT_FLEET_MAX_TAGS 32u
#endif

/** Longest attributes text (a JSON object) of a fleet registry record, in bytes (default 64 KiB). */
#ifndef IOTKIT_FLEET_MAX_ATTRIBUTES
#define IOTKIT_FLEET_MAX_ATTRIBUTES (64u * 1024u)
#endif

/** Most records in one page of iotkit_fleet_list(). */
#ifndef IOTKIT_FLEET_MAX_PAGE
#define IOTKIT_FLEET_MAX_PAGE 1000u
#endif

/** Default of iotkit_fleet_config_t.busy_timeout_ms: how long the fleet waits for another process's database lock. */
#ifndef IOTKIT_FLEET_BUSY_TIMEOUT_DEFAULT_MS
#define IOTKIT_FLEET_BUSY_TIMEOUT_DEFAULT_MS 5000u
#endif

/** Positions the fleet keeps per device in its location history, by default. */
#ifndef IOTKIT_FLEET_LOCATION_HISTORY_DEFAULT
#define IOTKIT_FLEET_LOCATION_HISTORY_DEFAULT 1000u
#endif

/** Metrics the fleet keeps per device (latest values); further names are counted and dropped. */
#ifndef IOTKIT_FLEET_MAX_METRICS
#define IOTKIT_FLEET_MAX_METRICS 256u
#endif

/** Default timeout of a fleet's command (ms, for timeout_ms 0): the device's own default (30 s) and some. */
#ifndef IOTKIT_FLEET_COMMAND_TIMEOUT_DEFAULT_MS
#define IOTKIT_FLEET_COMMAND_TIMEOUT_DEFAULT_MS 35000u
#endif

/** Most devices one group operation of the fleet (commands, desired state) addresses. */
#ifndef IOTKIT_FLEET_MAX_TARGETS
#define IOTKIT_FLEET_MAX_TARGETS 100000u
#endif

/** Largest command params or desired-state merge patch the fleet takes, in bytes of JSON text. */
#ifndef IOTKIT_FLEET_MAX_CONTROL_JSON
#define IOTKIT_FLEET_MAX_CONTROL_JSON (64u * 1024u)
#endif

/**
 * How long the fleet collects changes of its live view (presence, latest
 * values, positions, telemetry history) before writing them, in ms: the first
 * change starts the interval, and one transaction at its end writes
 * everything that changed meanwhile. A fleet process that dies loses at most
 * the changes of this interval plus the one transaction being written (see
 * "Durability" in fleet_monitor.h). 0: write as soon as the writer is free.
 */
#ifndef IOTKIT_FLEET_FLUSH_INTERVAL_MS
#define IOTKIT_FLEET_FLUSH_INTERVAL_MS 100u
#endif

#endif /* IOTKIT_OPTIONS_H */
