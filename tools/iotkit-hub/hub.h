/* iotkit-hub: shared types of the daemon. One process, one thread for CoAP
 * (main.c's loop drives libcoap), one thread for MQTT (libmosquitto's own
 * loop), which hands inbound messages to the main thread through a queue and
 * a wake-up pipe (mqtt_bridge.c). Everything below is owned by the main
 * thread unless a comment says otherwise. */
#ifndef IOTKIT_HUB_H
#define IOTKIT_HUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <coap3/coap.h>
#include <iotkit/iotkit.h>

/* ------------------------------------------------------------- logging -- */
typedef enum { HUB_LOG_ERROR, HUB_LOG_WARN, HUB_LOG_INFO, HUB_LOG_DEBUG } hub_log_level_t;

void hub_log_set_level(hub_log_level_t level);
hub_log_level_t hub_log_get_level(void);
bool hub_log_enabled(hub_log_level_t level);
void hub_log(hub_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "error", "warn", "info", "debug" -> level; false if unknown. */
bool hub_log_parse_level(const char *text, hub_log_level_t *out);

/* -------------------------------------------------------- configuration -- */
typedef struct hub_config {
  char *coap_listen;        /* "HOST:PORT" of plain coap://, or NULL */
  char *coaps_listen;       /* "HOST:PORT" of coaps:// (DTLS-PSK), or NULL */
  char *http_listen;        /* "HOST:PORT" of the HTTP front, or NULL */
  char *https_cert;         /* PEM certificate: the HTTP front speaks TLS */
  char *https_key;          /* its PEM key */
  bool allow_insecure_http; /* http_listen without TLS is refused unless this is set */
  char *mqtt_uri;           /* broker, mqtt://[user:pass@]host[:port] */
  char *psk_file;           /* key file: "device-id hexkey" per line */
  char *prefix;             /* channel prefix, default "iotkit/v1" */
  char *client_id;          /* MQTT client id, default "iotkit-hub-<pid>" */
  char *packet_loss;        /* libcoap coap_debug_set_packet_loss() spec, or NULL */
  bool allow_insecure_coap; /* coap_listen is refused unless this is set */
  hub_log_level_t log_level;
  size_t max_payload;       /* bytes; larger requests get 4.13 */
  unsigned command_queue;   /* commands kept per device while it does not fetch them */
  unsigned session_timeout_s; /* idle CoAP session lifetime */
} hub_config_t;

/* Defaults into @p cfg. */
void hub_config_init(hub_config_t *cfg);
/* Free the strings of @p cfg. */
void hub_config_clear(hub_config_t *cfg);
/* Read "key = value" lines of @p path into @p cfg; false (reason logged) on error. */
bool hub_config_load(hub_config_t *cfg, const char *path);
/* Set one option by name (file keys use '_', flags '-'); false if unknown or malformed. */
bool hub_config_set(hub_config_t *cfg, const char *key, const char *value);
/* Parse argv into @p cfg (a --config file first, then the other flags).
   Returns 0 to run, 1 when --help/--version was answered, 2 on a usage error. */
int hub_config_from_args(hub_config_t *cfg, int argc, char **argv);
/* Check the combination of options; false (reason logged) if it cannot run. */
bool hub_config_check(const hub_config_t *cfg);

/* ------------------------------------------------------------- devices -- */
typedef struct hub_cmd {
  struct hub_cmd *next;
  size_t len;
  char data[]; /* the command request, as published on MQTT */
} hub_cmd_t;

/* The retained cloud -> device channels (retained.c): of each, the hub keeps
   the latest document per device, which a device gets when it starts
   observing or polling; a new one notifies. */
typedef enum { HUB_RET_DESIRED, HUB_RET_MANIFEST, HUB_RET_COUNT } hub_ret_t;

/* The OTA manifest limit of libiotkit (IOTKIT__OTA_MANIFEST_MAX, docs/protocol.md). */
#define HUB_OTA_MANIFEST_MAX 8192u

/* The latest document of one retained channel of one device. */
typedef struct hub_retained {
  char *doc;                /* as published on MQTT, or NULL */
  size_t len;               /* 0: nothing there (none yet, or cleared) */
  unsigned long seq;        /* counts changes: in the HTTP ETag */
  coap_resource_t *res;     /* observable <prefix>/<id>/<channel> */
} hub_retained_t;

typedef struct hub_device {
  struct hub_device *next;
  char *id;
  bool listed;              /* in the key file */
  uint8_t key[64];          /* PSK (zeroed on free) */
  size_t key_len;
  coap_bin_const_t key_bin; /* points at key, handed to libcoap */
  hub_retained_t retained[HUB_RET_COUNT]; /* state/desired, ota/manifest */
  hub_cmd_t *cmd_head, *cmd_tail;
  unsigned cmd_count;
  coap_resource_t *res_commands; /* observable <prefix>/<id>/commands/request */
  bool status_online;            /* the last status the device posted said online */
  coap_session_t *status_session; /* the session that posted it */
} hub_device_t;

typedef struct hub_stats {
  unsigned long published;  /* device messages published on MQTT */
  unsigned long duplicates; /* confirmable retransmissions filtered by message id */
  unsigned long forbidden;  /* 4.03: a device touching another device's resources */
  unsigned long bad;        /* 4.00/4.04/4.05/4.13/4.15 answers */
  unsigned long notified;   /* desired/manifest/command notifications prepared */
} hub_stats_t;

struct hub_mqtt;
struct hub_peer;
struct hub_http;

typedef struct hub {
  hub_config_t cfg;
  hub_device_t *devices;
  coap_context_t *coap;
  struct hub_mqtt *mqtt;
  struct hub_peer *peers;
  struct hub_http *http;
  hub_stats_t stats;
  bool ready_logged;
} hub_t;

/* Find the device @p id (length @p len), or NULL. */
hub_device_t *hub_device_find(hub_t *hub, const char *id, size_t len);
/* Find or create the device @p id; NULL if the id is not a valid device id or memory ran out. */
hub_device_t *hub_device_get(hub_t *hub, const char *id, size_t len);
/* True if @p id (of @p len bytes) is 1 to 128 bytes of [A-Za-z0-9._-]. */
bool hub_id_valid(const char *id, size_t len);
/* Free every device (its key zeroed). Resources belong to the CoAP context. */
void hub_devices_free(hub_t *hub);
/* The retained channel named @p name ("state/desired", "ota/manifest"), or -1. */
int hub_retained_find(const char *name);
/* The channel name of retained channel @p which. */
const char *hub_retained_name(hub_ret_t which);
/* A document of retained channel @p which arrived from MQTT for @p dev: kept
   (replacing the one before; an empty one clears it) and its observers and
   long polls notified. One over the channel's limit is dropped with a warning
   and clears the one kept before, as the broker's retained message is now it. */
void hub_device_set_retained(hub_t *hub, hub_device_t *dev, hub_ret_t which, const void *doc, size_t len);
/* Free the documents of @p dev. */
void hub_device_clear_retained(hub_device_t *dev);
/* A command request arrived from MQTT for @p dev. */
void hub_device_push_command(hub_t *hub, hub_device_t *dev, const void *req, size_t len);
/* Take the oldest queued command (caller frees), or NULL. */
hub_cmd_t *hub_device_pop_command(hub_device_t *dev);

/* ------------------------------------------------------------- channels -- */
/* A device -> cloud channel: methods, MQTT retain, payload rule. */
typedef struct hub_channel {
  iotkit_channel_t channel; /* its name: iotkit_channel_name() (events: "events/<type>") */
  bool put, post;     /* methods accepted */
  bool retain;        /* published retained (QoS is 1, but see telemetry) */
  const char *member; /* a JSON object with this member is required, or NULL */
  int member_type;    /* its cJSON type */
  bool json;          /* the payload must be a JSON object */
} hub_channel_t;

/* Split "<prefix>/<id>/<name>"; false if @p path is not under the prefix or the id is invalid. */
bool hub_route_split(const hub_t *hub, const char *path, const char **id, size_t *id_len, const char **name);
/* The name of a channel (the protocol layer's), e.g. HUB_CMD_REQUEST. */
#define HUB_CMD_REQUEST iotkit_channel_name(IOTKIT_CHANNEL_COMMANDS_REQUEST)
/* The channel @p name for a PUT (@p put) or POST: 0 and *out, or 404/405 with a diagnostic. */
int hub_channel_route(const char *name, bool put, const hub_channel_t **out, char *diag, size_t cap);
/* Check a payload: 0, or 400 with a diagnostic. *online: for status, 1 online / 0 not; else -1. */
int hub_channel_payload(const hub_channel_t *rule, const char *name, const void *data, size_t len, bool declared_json,
                        int *online, char *diag, size_t cap);

/* ----------------------------------------------------------------- auth -- */
/* Load the key file into the device table; false (reason logged) on error. */
bool hub_auth_load(hub_t *hub, const char *path);
/* The DTLS-PSK identity of @p session ("" for plain CoAP) into @p out. */
void hub_auth_identity(const coap_session_t *session, char *out, size_t cap);
/* Key of @p identity for libcoap's PSK callback, or NULL to refuse. */
const coap_bin_const_t *hub_auth_psk_lookup(hub_t *hub, const coap_bin_const_t *identity);
/* True if @p session may act for device @p id: its PSK identity is @p id, or
   it is a plain coap:// session (allowed only with allow_insecure_coap). */
bool hub_auth_may_act(const coap_session_t *session, const char *id);

/* ----------------------------------------------------------- CoAP front -- */
/* Create the libcoap context, endpoints and resources; false (logged) on error. */
bool hub_coap_start(hub_t *hub);
/* Create the observable resources of @p dev if missing. */
bool hub_coap_add_device(hub_t *hub, hub_device_t *dev);
/* Before waiting: libcoap's descriptor into *fd; returns how long the wait may
   last at most (milliseconds, capped at @p cap). */
int hub_coap_prepare(hub_t *hub, int cap, int *fd);
/* After waiting: do the CoAP work that is due. */
void hub_coap_process(hub_t *hub);
/* Ask libcoap to notify observers of @p res. */
void hub_coap_notify(hub_t *hub, coap_resource_t *res);
/* Free the context and the per-session state. */
void hub_coap_stop(hub_t *hub);

/* Per-session duplicate filter (coap_peer.c). */
typedef struct hub_peer hub_peer_t;
/* The state of @p session, created on first use; NULL if memory ran out. */
hub_peer_t *hub_peer_of(hub_t *hub, coap_session_t *session);
/* Forget @p session (libcoap deletes it). */
void hub_peer_forget(hub_t *hub, coap_session_t *session);
/* Free every peer. */
void hub_peers_free(hub_t *hub);
/* If message id @p mid was already answered on this session, its answer code (> 0); else 0. */
unsigned hub_peer_seen(const hub_peer_t *peer, coap_mid_t mid);
/* Remember that @p mid was answered with @p code. */
void hub_peer_remember(hub_peer_t *peer, coap_mid_t mid, unsigned code);
/* "127.0.0.1:40000" of @p session. */
void hub_peer_addr(const coap_session_t *session, char *out, size_t cap);

/* ----------------------------------------------------------- HTTP front -- */
/* Start the HTTP(S) daemon if http_listen is set; false (logged) on error. */
bool hub_http_start(hub_t *hub);
/* Before waiting: its descriptor (or -1) into *fd; the wait cap in ms. */
int hub_http_prepare(hub_t *hub, int cap, int *fd);
/* After waiting: serve, and answer the long polls that are due. */
void hub_http_process(hub_t *hub);
/* Something new for @p dev (a retained document or a command): wake its long polls. */
void hub_http_wake(hub_t *hub, hub_device_t *dev);
/* Answer the waiting polls, stop the daemon, free. */
void hub_http_stop(hub_t *hub);
/* The device whose token @p token is (hex of its key), or NULL. */
hub_device_t *hub_auth_token_device(hub_t *hub, const char *token);

/* --------------------------------------------------------- MQTT bridge -- */
/* Connect (asynchronously, with automatic reconnection) and start the network thread. */
bool hub_mqtt_start(hub_t *hub);
/* Publish; false if the broker is not connected or refused it (logged). */
bool hub_mqtt_publish(hub_t *hub, const char *topic, const void *payload, size_t len, int qos, bool retain);
/* True once connected and subscribed (at least once). */
bool hub_mqtt_ready(hub_t *hub);
/* The read end of the wake-up pipe (readable when inbound messages wait). */
int hub_mqtt_wake_fd(hub_t *hub);
/* Hand the inbound messages to the devices (main thread). */
void hub_mqtt_drain(hub_t *hub);
/* Disconnect, stop the thread, free. */
void hub_mqtt_stop(hub_t *hub);

#endif
