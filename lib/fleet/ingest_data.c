/*
 * The data channels of a registered device: telemetry (decoded, times
 * resolved, latest value per metric), reported state (the latest document),
 * events (passed on), location (latest position and history). Each reader
 * changes the view under the lock, queues the write (flush.c), and runs the
 * callback after the lock is released. A message that does not decode is
 * counted and logged (iotkit__fleet_undecodable) and changes nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "fleet/fleet_internal.h"
#include "iotkit/protocol.h"
#include "protocol/json.h"
#include "telemetry/telemetry_internal.h"

/* SenML times below 2^28 s are relative to "now" (RFC 8428 section 4.5.3). */
#define SENML_RELATIVE_MS (268435456LL * 1000)

static void count(iotkit_fleet_t *f, uint64_t *counter) {
  iotkit__fleet_lock(f);
  (*counter)++;
  iotkit__fleet_unlock(f);
}

/* ---------------------------------------------------------- telemetry -- */

static bool media_type(const iotkit_transport_msg_t *m, iotkit_telemetry_format_t *fmt) {
  if (m->struct_size < IOTKIT__FIELD_END(iotkit_transport_msg_t, props) || !m->props.content_type) return false;
  const char *ct = m->props.content_type;
  for (int f = IOTKIT_TELEMETRY_FORMAT_JSON; f <= IOTKIT_TELEMETRY_FORMAT_SENML_CBOR; f++) {
    const char *name = iotkit_telemetry_format_media_type((iotkit_telemetry_format_t)f);
    if (name && strcmp(ct, name) == 0) {
      *fmt = (iotkit_telemetry_format_t)f;
      return true;
    }
  }
  return false;
}

/* A JSON object that is not the JSON form: each number, boolean or string member with a
   valid point name is a point; "ts" is their time, "seq" the batch's number. */
static iotkit_err_t decode_flat(const cJSON *o, iotkit_telemetry_batch_t *b) {
  int64_t ts = 0;
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "ts");
  uint64_t u = 0;
  if (t && iotkit__json_uint(t, &u)) ts = (int64_t)u;
  const cJSON *seq = cJSON_GetObjectItemCaseSensitive(o, "seq");
  if (seq && iotkit__json_uint(seq, &u) && u > 0) (void)iotkit_telemetry_batch_set_seq(b, u);
  for (const cJSON *c = o->child; c; c = c->next) {
    if (!c->string || strcmp(c->string, "ts") == 0 || strcmp(c->string, "seq") == 0) continue;
    if (!iotkit__telemetry_name_ok(c->string)) continue;
    iotkit_err_t rc = IOTKIT_OK;
    if (cJSON_IsNumber(c))
      rc = iotkit_telemetry_batch_add_double(b, c->string, NULL, ts, c->valuedouble);
    else if (cJSON_IsBool(c))
      rc = iotkit_telemetry_batch_add_bool(b, c->string, NULL, ts, cJSON_IsTrue(c));
    else if (cJSON_IsString(c))
      rc = iotkit_telemetry_batch_add_string(b, c->string, NULL, ts, c->valuestring);
    if (rc == IOTKIT_ERR_NOMEM) return rc;
  }
  return iotkit_telemetry_batch_count(b) ? IOTKIT_OK : IOTKIT_ERR_BAD_ENCODING;
}

/* Decode in the message's format (its content type, else its first byte). */
static iotkit_err_t decode(const iotkit_transport_msg_t *m, iotkit_telemetry_batch_t **out, bool *senml) {
  const unsigned char *p = m->payload;
  size_t i = 0;
  while (i < m->len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n')) i++;
  iotkit_telemetry_format_t fmt = IOTKIT_TELEMETRY_FORMAT_JSON;
  if (!media_type(m, &fmt)) {
    if (i == m->len) return IOTKIT_ERR_BAD_ENCODING;
    if (p[i] == '[') fmt = IOTKIT_TELEMETRY_FORMAT_SENML_JSON;
    else if (p[0] >= 0x80 && p[0] <= 0x9f) fmt = IOTKIT_TELEMETRY_FORMAT_SENML_CBOR; /* a CBOR array */
    else if (p[i] != '{') return IOTKIT_ERR_BAD_ENCODING; /* a sealed envelope (0xE1) among others */
  }
  *senml = fmt != IOTKIT_TELEMETRY_FORMAT_JSON;
  if (fmt == IOTKIT_TELEMETRY_FORMAT_JSON) {
    cJSON *o = iotkit__json_parse(m->payload, m->len);
    if (!o) return IOTKIT_ERR_BAD_ENCODING;
    /* Parsed once: the JSON form (with "points") is read from the same tree as flat JSON. */
    bool form = cJSON_IsObject(o) && cJSON_GetObjectItemCaseSensitive(o, "points");
    iotkit_err_t rc = IOTKIT_ERR_BAD_ENCODING;
    if (cJSON_IsObject(o)) {
      rc = iotkit_telemetry_batch_new(NULL, out);
      if (rc == IOTKIT_OK) rc = form ? iotkit__telemetry_json_decode_tree(o, *out) : decode_flat(o, *out);
      if (rc != IOTKIT_OK) {
        iotkit_telemetry_batch_free(*out);
        *out = NULL;
      }
    }
    cJSON_Delete(o);
    return rc;
  }
  return iotkit_telemetry_decode(fmt, m->payload, m->len, out);
}

void iotkit__fleet_telemetry_in(iotkit_fleet_t *f, const char *id, const iotkit_transport_msg_t *m, int64_t now) {
  iotkit_telemetry_batch_t *b = NULL;
  bool senml = false;
  iotkit_err_t err = decode(m, &b, &senml);
  if (err != IOTKIT_OK) {
    iotkit__fleet_undecodable(f, id, "telemetry", m->len, err);
    return;
  }
  /* Times: none means the time of receipt; SenML's relative times count from it. */
  for (size_t k = 0; k < b->count; k++) {
    int64_t *ts = &b->pts[k].ts_ms;
    if (*ts == 0) *ts = now;
    else if (senml && *ts > -SENML_RELATIVE_MS && *ts < SENML_RELATIVE_MS) *ts += now;
  }
  uint64_t dropped = 0;
  bool changed = false, history = false;
  iotkit__fleet_lock(f);
  f->stats.telemetry++;
  iotkit__fleet_entry_t *e = iotkit__fleet_view_find(&f->view, id);
  for (size_t k = 0; e && k < b->count; k++) {
    const iotkit_telemetry_point_t *p = &b->pts[k];
    int rc = iotkit__fleet_entry_metric(e, p, p->ts_ms);
    if (rc == 1) changed = true;
    else if (rc < 0) dropped++;
    if (rc < 0 || !f->tel_history_max || p->type == IOTKIT_TELEMETRY_STRING) continue;
    if (f->tel_history_age_ms && p->ts_ms < now - (int64_t)f->tel_history_age_ms) continue; /* too old to keep */
    double v = p->type == IOTKIT_TELEMETRY_DOUBLE ? p->value.d
               : p->type == IOTKIT_TELEMETRY_INT  ? (double)p->value.i
                                                  : (p->value.b ? 1.0 : 0.0);
    if (iotkit__fleet_entry_tel_hist(e, p->name, p->ts_ms, v)) history = true;
    else dropped++;
  }
  if (changed) iotkit__fleet_view_touch(&f->view, e, IOTKIT__FV_METRICS);
  if (history) iotkit__fleet_view_touch(&f->view, e, IOTKIT__FV_TEL_HISTORY);
  changed = changed || history;
  f->stats.dropped_metrics += dropped;
  iotkit__fleet_unlock(f);
  if (dropped)
    iotkit_hal_logf(f->hal, IOTKIT_LOG_WARN, "fleet: device %s: %llu points dropped (more than %u metrics)", id,
                    (unsigned long long)dropped, IOTKIT_FLEET_MAX_METRICS);
  if (changed) iotkit__fleet_flush_kick(f);
  iotkit__fleet_notify_telemetry(f, id, b);
  iotkit_telemetry_batch_free(b);
}

/* ------------------------------------------------------ state, events -- */

void iotkit__fleet_reported_in(iotkit_fleet_t *f, const char *id, const iotkit_transport_msg_t *m) {
  char *state = NULL;
  int64_t ts = 0;
  iotkit_err_t err = iotkit_protocol_reported_parse(m->payload, m->len, &state, &ts);
  if (err != IOTKIT_OK) {
    iotkit__fleet_undecodable(f, id, "state/reported", m->len, err);
    return;
  }
  bool changed = false;
  iotkit__fleet_lock(f);
  f->stats.states++;
  iotkit__fleet_entry_t *e = iotkit__fleet_view_find(&f->view, id);
  /* A document seen before (a retained copy after a reconnection) is no change; an older
     one (by ts) does not replace a newer. */
  if (e && (!e->state_json || (ts >= e->state_ts && strcmp(e->state_json, state) != 0))) {
    char *copy = iotkit__strdup(state);
    if (copy) {
      free(e->state_json);
      e->state_json = copy;
      e->state_ts = ts;
      iotkit__fleet_view_touch(&f->view, e, IOTKIT__FV_STATE);
      changed = true;
    }
  } else if (e && ts > e->state_ts) {
    e->state_ts = ts;
    iotkit__fleet_view_touch(&f->view, e, IOTKIT__FV_STATE);
  }
  iotkit__fleet_unlock(f);
  if (changed) {
    iotkit__fleet_flush_kick(f);
    iotkit__fleet_notify_state(f, id, state, ts);
  }
  iotkit_free(state);
}

void iotkit__fleet_event_in(iotkit_fleet_t *f, const char *id, const iotkit_transport_msg_t *m) {
  char *type = NULL, *data = NULL;
  int64_t ts = 0;
  iotkit_err_t err = iotkit_protocol_event_parse(m->payload, m->len, &type, &ts, &data);
  if (err != IOTKIT_OK) {
    iotkit__fleet_undecodable(f, id, "events", m->len, err);
    return;
  }
  count(f, &f->stats.events);
  iotkit__fleet_notify_event(f, id, type, ts, data);
  iotkit_free(type);
  iotkit_free(data);
}

/* ----------------------------------------------------------- location -- */

void iotkit__fleet_location_in(iotkit_fleet_t *f, const char *id, const iotkit_transport_msg_t *m) {
  iotkit_location_t loc;
  iotkit_err_t err = iotkit_protocol_location_parse(m->payload, m->len, &loc);
  if (err != IOTKIT_OK) {
    iotkit__fleet_undecodable(f, id, "location", m->len, err);
    return;
  }
  bool fresh = false;
  iotkit__fleet_lock(f);
  f->stats.locations++;
  iotkit__fleet_entry_t *e = iotkit__fleet_view_find(&f->view, id);
  /* The history is keyed by time: a position with the ts of the latest is the same one
     (a retained copy delivered again) and is neither stored nor reported twice. */
  if (e && !(e->has_loc && e->loc.ts_ms == loc.ts_ms)) {
    fresh = true;
    uint32_t bits = 0;
    if (f->history_max && iotkit__fleet_entry_hist(e, &loc, f->history_max)) bits |= IOTKIT__FV_HISTORY;
    if (!e->has_loc || loc.ts_ms > e->loc.ts_ms) {
      e->loc = loc;
      e->has_loc = true;
      bits |= IOTKIT__FV_LOCATION;
    }
    if (bits) iotkit__fleet_view_touch(&f->view, e, bits);
  }
  iotkit__fleet_unlock(f);
  if (!fresh) return;
  iotkit__fleet_flush_kick(f);
  iotkit__fleet_notify_location(f, id, &loc);
}
