/*
 * A message from the broker: the fleet's own topics (the sync marker, the
 * broker's uptime), then the devices' channels: the topic gives the device id
 * and the channel; an unknown device is auto-registered or counted and
 * ignored; a live message moves its last-seen time; each channel has its
 * reader (presence.c, ingest_data.c).
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "fleet/control.h"
#include "fleet/fleet_internal.h"
#include "fleet/rollout.h"
#include "iotkit/protocol.h"

void iotkit__fleet_undecodable(iotkit_fleet_t *f, const char *id, const char *channel, size_t len,
                               iotkit_err_t why) {
  iotkit__fleet_lock(f);
  f->stats.undecodable++;
  iotkit__fleet_unlock(f);
  /* Never the payload: it may be anything, including what a device should not have sent. */
  iotkit_hal_logf(f->hal, IOTKIT_LOG_WARN, "fleet: cannot decode a %s message of %zu bytes from %s (%s)", channel,
                  len, id, iotkit_err_name(why));
}

/* Is @p id registered (or now auto-registered)? Counts the unknown. */
static bool known(iotkit_fleet_t *f, const char *id, const char *channel) {
  iotkit__fleet_lock(f);
  bool have = iotkit__fleet_view_find(&f->view, id) != NULL;
  if (!have && !f->auto_register) f->stats.unknown_device++;
  iotkit__fleet_unlock(f);
  if (have) return true;
  if (!f->auto_register) {
    iotkit_hal_logf(f->hal, IOTKIT_LOG_DEBUG, "fleet: ignored a %s message from unregistered device %s", channel, id);
    return false;
  }
  if (!iotkit__fleet_ask_register(f, id, channel)) {
    iotkit__fleet_lock(f);
    f->stats.refused++;
    f->stats.unknown_device++;
    iotkit__fleet_unlock(f);
    return false;
  }
  iotkit__fleet_lock(f);
  iotkit__fleet_entry_t *e = iotkit__fleet_view_find(&f->view, id);
  bool made = false;
  if (!e && (e = iotkit__fleet_view_add(&f->view, id)) != NULL) {
    iotkit__fleet_view_touch(&f->view, e, IOTKIT__FV_REGISTER);
    f->stats.auto_registered++;
    made = true;
  }
  iotkit__fleet_unlock(f);
  if (made) {
    iotkit_hal_logf(f->hal, IOTKIT_LOG_INFO, "fleet: registered device %s (first heard on %s)", id, channel);
    iotkit__fleet_flush_kick(f);
  }
  return e != NULL;
}

static void status_in(iotkit_fleet_t *f, const char *id, const iotkit_transport_msg_t *m, bool retained) {
  bool online = false;
  char *reason = NULL;
  int64_t ts = IOTKIT_PROTOCOL_NO_TS;
  iotkit_err_t err = iotkit_protocol_status_parse(m->payload, m->len, &online, &reason, &ts);
  if (err != IOTKIT_OK) {
    iotkit__fleet_undecodable(f, id, "status", m->len, err);
    return;
  }
  iotkit__fleet_lock(f);
  f->stats.statuses++;
  iotkit__fleet_unlock(f);
  iotkit__fleet_status_in(f, id, online, reason, ts, retained);
  iotkit_free(reason);
}

void iotkit__fleet_message(iotkit_fleet_t *f, const iotkit_transport_msg_t *m) {
  bool retained = m->struct_size >= IOTKIT__FIELD_END(iotkit_transport_msg_t, retain) && m->retain;
  iotkit__fleet_lock(f);
  f->stats.messages++;
  iotkit__fleet_unlock(f);
  if (f->sync_topic && strcmp(m->channel, f->sync_topic) == 0) {
    iotkit__fleet_reconcile(f);
    return;
  }
  if (f->uptime_topic && strcmp(m->channel, f->uptime_topic) == 0) {
    iotkit__fleet_uptime_in(f, m->payload, m->len, retained);
    return;
  }
  char id[IOTKIT_MAX_DEVICE_ID + 1];
  const char *suffix = NULL;
  iotkit_channel_t ch = IOTKIT_CHANNEL_OTHER;
  if (iotkit_protocol_topic_parse(f->topic_prefix, m->channel, id, sizeof id, &suffix, &ch) != IOTKIT_OK) return;
  switch (ch) {
    case IOTKIT_CHANNEL_STATUS:
    case IOTKIT_CHANNEL_TELEMETRY:
    case IOTKIT_CHANNEL_STATE_REPORTED:
    case IOTKIT_CHANNEL_EVENTS:
    case IOTKIT_CHANNEL_LOCATION:
    case IOTKIT_CHANNEL_COMMANDS_RESPONSE: break;
    case IOTKIT_CHANNEL_OTA_STATUS: break;
    default: return; /* a channel the fleet does not follow */
  }
  if (!known(f, id, suffix)) return;
  /* End-to-end protection (e2e.c): a sealed message is read as its plaintext. */
  void *plain = NULL;
  size_t plain_len = 0;
  iotkit_transport_msg_t opened;
  if (ch != IOTKIT_CHANNEL_STATUS) {
    if (iotkit__fleet_e2e_in(f, id, suffix, m->payload, m->len, &plain, &plain_len) != IOTKIT_OK) return;
    if (plain) {
      memcpy(&opened, m, m->struct_size < sizeof opened ? m->struct_size : sizeof opened);
      opened.struct_size = m->struct_size < sizeof opened ? m->struct_size : sizeof opened;
      opened.payload = plain;
      opened.len = plain_len;
      m = &opened;
    }
  }
  int64_t now = iotkit__fleet_wall(f);
  if (!retained) iotkit__fleet_seen(f, id, now);
  switch (ch) {
    case IOTKIT_CHANNEL_STATUS: status_in(f, id, m, retained); break;
    case IOTKIT_CHANNEL_TELEMETRY: iotkit__fleet_telemetry_in(f, id, m, now); break;
    case IOTKIT_CHANNEL_STATE_REPORTED: iotkit__fleet_reported_in(f, id, m); break;
    case IOTKIT_CHANNEL_EVENTS: iotkit__fleet_event_in(f, id, m); break;
    case IOTKIT_CHANNEL_COMMANDS_RESPONSE: iotkit__fleet_response_in(f, id, m->payload, m->len); break;
    case IOTKIT_CHANNEL_OTA_STATUS: iotkit__fleet_ota_status_in(f, id, m); break;
    default: iotkit__fleet_location_in(f, id, m); break;
  }
  if (plain) iotkit__memzero(plain, plain_len);
  free(plain);
}
