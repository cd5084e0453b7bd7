/*
 * The fleet's broker session: a transport context per attempt (as a device
 * makes one: lib/device/device_supervisor.c), its events, the subscriptions of
 * a new session, reconnection with exponential backoff and full jitter, and
 * iotkit_fleet_connect() / _disconnect(). Everything here runs in the polling
 * thread (the caller of connect/poll, or the fleet's own thread).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "fleet/fleet_internal.h"
#include "iotkit/protocol.h"

/* The channels a fleet follows, below "<prefix>/+/". */
static const char *const followed[] = {"status",   "telemetry",        "state/reported", "events/+",
                                       "location", "commands/response", "ota/status"};

static void set_detail(iotkit_fleet_t *f, const char *doing, iotkit_err_t err) {
  const char *d = f->tctx && f->ops->last_error ? f->ops->last_error(f->tctx) : "";
  iotkit__fleet_set_error(f, "%s %s:%u: %s", doing, f->parsed_uri.host ? f->parsed_uri.host : "",
                          (unsigned)f->parsed_uri.port, d && *d ? d : iotkit_strerror(err));
}

/* ------------------------------------------------------------ events -- */

static void subscribe_one(iotkit_fleet_t *f, const char *filter) {
  iotkit_err_t err = f->ops->subscribe(f->tctx, filter, 1);
  if (err != IOTKIT_OK) {
    iotkit__fleet_set_error(f, "subscribe to %s failed: %s", filter, iotkit_strerror(err));
    iotkit_hal_logf(f->hal, IOTKIT_LOG_ERROR, "fleet: subscribe to %s failed (%s)", filter, iotkit_err_name(err));
  }
}

/* A new session: the broker's uptime first, then the devices' channels (their retained
   messages follow each SUBACK), then the marker, which comes back after all of them. */
static void session_up(iotkit_fleet_t *f) {
  iotkit__fleet_presence_session(f);
  if (f->uptime_topic) subscribe_one(f, f->uptime_topic);
  for (size_t i = 0; i < IOTKIT__ARRAY_LEN(followed); i++) {
    char filter[512];
    if (iotkit_protocol_filter(f->topic_prefix, NULL, followed[i], filter, sizeof filter) == IOTKIT_OK)
      subscribe_one(f, filter);
  }
  subscribe_one(f, f->sync_topic);
  iotkit_message_t m = {.channel = f->sync_topic, .payload = "sync", .len = 4, .qos = 1};
  uint32_t id = 0;
  if (f->ops->send(f->tctx, &m, &id) != IOTKIT_OK)
    iotkit_hal_logf(f->hal, IOTKIT_LOG_WARN, "fleet: cannot publish the sync marker: reconciling after %u ms",
                    (unsigned)f->connect_timeout_ms);
}

static void ev_connected(void *user) {
  iotkit_fleet_t *f = user;
  iotkit__fleet_lock(f);
  f->connected = true;
  f->stats.sessions++;
  iotkit__fleet_unlock(f);
  f->connecting = false;
  f->sup = IOTKIT__FLEET_SUP_UP;
  f->attempts = 0;
  iotkit_hal_logf(f->hal, IOTKIT_LOG_INFO, "fleet: connected to %s:%u as %s", f->parsed_uri.host,
                  (unsigned)f->parsed_uri.port, f->session_id);
  if (f->closing) return;
  session_up(f);
  iotkit__fleet_notify_connection(f, true, IOTKIT_OK, "");
}

static void ev_disconnected(void *user, iotkit_err_t reason, const char *detail) {
  iotkit_fleet_t *f = user;
  if (!detail || !*detail) detail = iotkit_strerror(reason);
  iotkit__fleet_lock(f);
  f->connected = false;
  iotkit__fleet_unlock(f);
  f->syncing = false;
  /* The end of a session, not of a failed attempt: presence.c compares device sessions with it. */
  if (!f->connecting) f->loss_ms = iotkit__fleet_wall(f);
  if (f->connecting) {
    f->conn_fail = reason != IOTKIT_OK ? reason : IOTKIT_ERR_CONNECT;
    iotkit__fleet_set_error(f, "cannot connect to %s:%u: %s", f->parsed_uri.host, (unsigned)f->parsed_uri.port,
                            detail);
    return;
  }
  if (reason != IOTKIT_OK) {
    iotkit__fleet_set_error(f, "connection to %s:%u lost: %s", f->parsed_uri.host, (unsigned)f->parsed_uri.port,
                            detail);
    iotkit_hal_logf(f->hal, IOTKIT_LOG_WARN, "fleet: connection lost: %s", detail);
  }
  if (reason != IOTKIT_OK && f->sup == IOTKIT__FLEET_SUP_UP && !f->closing)
    iotkit__fleet_backoff(f);
  else
    f->sup = IOTKIT__FLEET_SUP_IDLE;
  if (!f->closing) iotkit__fleet_notify_connection(f, false, reason, reason == IOTKIT_OK ? "" : detail);
}

static void ev_message_ex(void *user, const iotkit_transport_msg_t *msg) {
  iotkit_fleet_t *f = user;
  if (!f->closing) iotkit__fleet_message(f, msg);
}

/* A backend that calls message() only: the retain flag is unknown, so the message is live. */
static void ev_message(void *user, const char *channel, const void *payload, size_t len) {
  iotkit_transport_msg_t m = {.struct_size = sizeof m, .channel = channel, .payload = payload, .len = len};
  ev_message_ex(user, &m);
}

static void ev_delivery(void *user, uint32_t msg_id, iotkit_err_t status) {
  (void)user, (void)msg_id, (void)status; /* the sync marker: its return is what counts */
}

static void ev_subscribed(void *user, const char *channel, iotkit_err_t status) {
  iotkit_fleet_t *f = user;
  if (status == IOTKIT_OK) return;
  iotkit__fleet_set_error(f, "the broker refused the subscription to %s: %s", channel, iotkit_strerror(status));
  iotkit_hal_logf(f->hal, IOTKIT_LOG_ERROR, "fleet: the broker refused the subscription to %s (%s)", channel,
                  iotkit_err_name(status));
}

/* --------------------------------------------------------- transport -- */

void iotkit__fleet_close_transport(iotkit_fleet_t *f) {
  if (!f->tctx) return;
  iotkit__fleet_lock(f);
  f->connected = false;
  f->fd = -1;
  iotkit__fleet_unlock(f);
  f->ops->destroy(f->tctx); /* no events from here */
  f->tctx = NULL;
}

static iotkit_err_t make_transport(iotkit_fleet_t *f) {
  f->events = (iotkit_transport_events_t){
      .struct_size = sizeof(iotkit_transport_events_t),
      .user = f,
      .connected = ev_connected,
      .disconnected = ev_disconnected,
      .message = ev_message,
      .delivery = ev_delivery,
      .subscribed = ev_subscribed,
      .message_ex = ev_message_ex,
  };
  iotkit_transport_config_t tc;
  iotkit_transport_config_init(&tc);
  tc.uri = &f->parsed_uri;
  tc.hal = f->hal;
  tc.client_id = f->session_id;
  tc.username = f->username ? f->username : f->parsed_uri.user;
  tc.password = f->password ? f->password : f->parsed_uri.password;
  tc.keepalive_s = f->keepalive_s;
  tc.clean_session = true; /* the view is rebuilt from the retained messages of each session */
  tc.protocol_version = f->mqtt_version;
  tc.connect_timeout_ms = f->connect_timeout_ms;
  tc.tls = (iotkit_tls_config_t){.ca_file = f->ca_file,
                                 .ca_dir = f->ca_dir,
                                 .cert_file = f->cert_file,
                                 .key_file = f->key_file,
                                 .verify_peer = f->verify_peer};
  iotkit_err_t err = f->ops->create(&tc, &f->events, &f->tctx);
  if (err != IOTKIT_OK) {
    f->tctx = NULL;
    iotkit__fleet_set_error(f, "cannot set up transport %s: %s", f->ops->name, iotkit_strerror(err));
    return err;
  }
  int fd = f->ops->fd ? f->ops->fd(f->tctx) : -1;
  iotkit__fleet_lock(f);
  f->fd = fd < 0 ? -1 : fd;
  iotkit__fleet_unlock(f);
  return IOTKIT_OK;
}

/* Parse the URI, find the backend, choose the client id and the marker's topic (once). */
static iotkit_err_t prepare(iotkit_fleet_t *f) {
  if (f->uri_parsed) return IOTKIT_OK;
  if (!f->uri) {
    iotkit__fleet_set_error(f, "no uri in the fleet's configuration");
    return IOTKIT_ERR_INVALID_ARG;
  }
  iotkit_err_t err = iotkit_uri_parse(f->uri, &f->parsed_uri);
  if (err == IOTKIT_OK) err = iotkit_transport_find(f->transports, f->parsed_uri.scheme, &f->ops);
  if (err != IOTKIT_OK) {
    iotkit_uri_clear(&f->parsed_uri);
    iotkit__fleet_set_error(f, "cannot use uri %s: %s", f->uri, iotkit_strerror(err));
    return err;
  }
  char id[40];
  if (f->client_id) {
    f->session_id = iotkit__strdup(f->client_id);
  } else {
    uint8_t r[6] = {0};
    (void)f->hal->random(f->hal->ctx, r, sizeof r);
    snprintf(id, sizeof id, "iotkit-fleet-%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5]);
    f->session_id = iotkit__strdup(id);
  }
  size_t n = strlen(f->topic_prefix) + (f->session_id ? strlen(f->session_id) : 0) + 16;
  f->sync_topic = malloc(n);
  if (!f->session_id || !f->sync_topic) {
    iotkit_uri_clear(&f->parsed_uri);
    return IOTKIT_ERR_NOMEM;
  }
  /* '~' is outside the device id characters: no device can own this topic. */
  snprintf(f->sync_topic, n, "%s/~fleet/%s/sync", f->topic_prefix, f->session_id);
  f->uri_parsed = true;
  return IOTKIT_OK;
}

iotkit_err_t iotkit__fleet_attempt(iotkit_fleet_t *f) {
  iotkit__fleet_close_transport(f);
  f->conn_fail = IOTKIT_OK;
  iotkit_err_t err = make_transport(f);
  if (err != IOTKIT_OK) return err;
  f->connecting = true;
  f->attempt_started = iotkit__fleet_mono(f);
  err = f->ops->connect(f->tctx);
  if (err != IOTKIT_OK) set_detail(f, "cannot connect to", err);
  return err;
}

void iotkit__fleet_backoff(iotkit_fleet_t *f) {
  uint64_t cap = f->reconnect_min_ms;
  for (uint32_t i = 0; i < f->attempts && cap < f->reconnect_max_ms; i++) cap *= 2;
  if (cap > f->reconnect_max_ms) cap = f->reconnect_max_ms;
  uint32_t r = UINT32_MAX;
  if (f->hal->random(f->hal->ctx, &r, sizeof r) != IOTKIT_OK) r = UINT32_MAX;
  uint64_t delay = r % (cap + 1); /* full jitter */
  if (f->attempts < UINT32_MAX) f->attempts++;
  f->next_attempt = iotkit__fleet_mono(f) + delay;
  f->sup = IOTKIT__FLEET_SUP_WAIT;
  iotkit_hal_logf(f->hal, IOTKIT_LOG_INFO, "fleet: next connection attempt in %u ms", (unsigned)delay);
}

/* ------------------------------------------------------ connect/down -- */

/* Poll until @p done(f), a poll failure or @p budget_ms. */
static bool poll_until(iotkit_fleet_t *f, bool (*done)(iotkit_fleet_t *), uint32_t budget_ms) {
  uint64_t start = iotkit__fleet_mono(f);
  while (!done(f)) {
    uint64_t spent = iotkit__fleet_mono(f) - start;
    if (spent >= budget_ms || !f->tctx) return done(f);
    uint64_t left = budget_ms - spent;
    if (f->ops->poll(f->tctx, (int)(left < 100 ? left : 100)) != IOTKIT_OK && !done(f)) return false;
  }
  return true;
}

static bool settled(iotkit_fleet_t *f) { return f->conn_fail != IOTKIT_OK || iotkit_fleet_is_connected(f); }
static bool synced(iotkit_fleet_t *f) { return !f->syncing || !iotkit_fleet_is_connected(f); }
static bool down(iotkit_fleet_t *f) { return !iotkit_fleet_is_connected(f); }

iotkit_err_t iotkit_fleet_connect(iotkit_fleet_t *f) {
  if (!f) return IOTKIT_ERR_INVALID_ARG;
  if (f->running || iotkit__fleet_in_callback(f) || iotkit_fleet_is_connected(f)) return IOTKIT_ERR_STATE;
  iotkit_err_t err = prepare(f);
  if (err != IOTKIT_OK) return err;
  err = iotkit__fleet_attempt(f);
  if (err == IOTKIT_OK) {
    bool ok = poll_until(f, settled, f->connect_timeout_ms);
    if (f->conn_fail != IOTKIT_OK) {
      err = f->conn_fail;
    } else if (!ok || !iotkit_fleet_is_connected(f)) {
      err = IOTKIT_ERR_TIMEOUT;
      iotkit__fleet_set_error(f, "cannot connect to %s:%u: no session within %u ms", f->parsed_uri.host,
                              (unsigned)f->parsed_uri.port, (unsigned)f->connect_timeout_ms);
    }
  }
  f->connecting = false;
  if (err != IOTKIT_OK) {
    iotkit__fleet_close_transport(f);
    if (f->sup != IOTKIT__FLEET_SUP_IDLE) iotkit__fleet_backoff(f);
    switch (err) {
      case IOTKIT_ERR_CONNECT:
      case IOTKIT_ERR_AUTH:
      case IOTKIT_ERR_TLS:
      case IOTKIT_ERR_TIMEOUT:
      case IOTKIT_ERR_NOMEM:
      case IOTKIT_ERR_INVALID_ARG: return err;
      default: return IOTKIT_ERR_CONNECT;
    }
  }
  f->sup = IOTKIT__FLEET_SUP_UP;
  f->attempts = 0;
  /* The presence view is the broker's once the retained statuses are reconciled. */
  (void)poll_until(f, synced, f->connect_timeout_ms);
  if (f->syncing) iotkit__fleet_reconcile(f);
  return IOTKIT_OK;
}

iotkit_err_t iotkit_fleet_disconnect(iotkit_fleet_t *f) {
  if (!f) return IOTKIT_ERR_INVALID_ARG;
  if (f->running || iotkit__fleet_in_callback(f)) return IOTKIT_ERR_STATE;
  if (!f->tctx || !iotkit_fleet_is_connected(f)) {
    /* Waiting for the next attempt: stop trying. */
    bool was = f->sup != IOTKIT__FLEET_SUP_IDLE;
    f->sup = IOTKIT__FLEET_SUP_IDLE;
    iotkit__fleet_close_transport(f);
    return was ? IOTKIT_OK : IOTKIT_ERR_NOT_CONNECTED;
  }
  f->sup = IOTKIT__FLEET_SUP_IDLE;
  iotkit_err_t err = f->ops->disconnect(f->tctx);
  if (err == IOTKIT_OK && !poll_until(f, down, f->connect_timeout_ms)) err = IOTKIT_ERR_TIMEOUT;
  if (err != IOTKIT_OK) set_detail(f, "disconnect from", err);
  iotkit__fleet_close_transport(f);
  return err;
}

void iotkit__fleet_session_end(iotkit_fleet_t *f) {
  if (f->running) (void)iotkit_fleet_stop(f);
  f->closing = true;
  if (f->tctx && iotkit_fleet_is_connected(f) && f->ops->disconnect(f->tctx) == IOTKIT_OK)
    (void)poll_until(f, down, 1000);
  iotkit__fleet_close_transport(f);
}

void iotkit__fleet_session_free(iotkit_fleet_t *f) {
  iotkit_uri_clear(&f->parsed_uri);
  free(f->session_id);
  free(f->sync_topic);
  f->session_id = f->sync_topic = NULL;
}
