// requires: mqtt fleet
/* The fleet's live view of what devices send, against a real mosquitto and
   real device handles: telemetry in the JSON form, SenML JSON, SenML CBOR and
   flat JSON (latest value per metric, newest by time, kept across a fleet
   restart), reported state changes, events, and messages the fleet cannot
   decode: counted, logged without their payload, and the next one processed. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "fleet_live.h"
#include "mqtt_peer.h"
#include "net_util.h"

static fleet_live_t fx;
static void setup(void) { fleet_live_setup(&fx, false); }
static void teardown(void) { fleet_live_teardown(&fx); }
TestSuite(fleet_monitor, .init = setup, .fini = teardown, .timeout = 60);

static void wait_count(const int *counter, int n) {
  uint64_t end = test_now_ms() + FLEET_LIVE_WAIT_MS;
  while (fleet_live_count(&fx, counter) < n && test_now_ms() < end) test_msleep(5);
  cr_assert_geq(fleet_live_count(&fx, counter), n, "%d of %d callbacks", fleet_live_count(&fx, counter), n);
}

static void send_batch(iotkit_device_t *dev, iotkit_telemetry_format_t fmt, void (*fill)(iotkit_telemetry_batch_t *)) {
  iotkit_telemetry_batch_t *b = NULL;
  cr_assert_eq(iotkit_telemetry_batch_new(NULL, &b), IOTKIT_OK);
  fill(b);
  cr_assert_eq(iotkit_device_send_batch(dev, b, fmt, NULL, NULL), IOTKIT_OK);
  iotkit_telemetry_batch_free(b);
}

#define T0 1767225600000LL

static void fill_json(iotkit_telemetry_batch_t *b) {
  cr_assert_eq(iotkit_telemetry_batch_add_double(b, "temperature", "Cel", T0, 21.5), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_batch_add_int(b, "count", NULL, T0, 17), IOTKIT_OK);
}
static void fill_senml_json(iotkit_telemetry_batch_t *b) {
  cr_assert_eq(iotkit_telemetry_batch_add_double(b, "humidity", "%RH", T0 + 10, 40.25), IOTKIT_OK);
}
static void fill_senml_cbor(iotkit_telemetry_batch_t *b) {
  cr_assert_eq(iotkit_telemetry_batch_add_bool(b, "door", NULL, T0 + 20, true), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_batch_add_string(b, "mode", NULL, T0 + 20, "eco"), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_batch_add_int(b, "steps", NULL, T0 + 20, -3), IOTKIT_OK);
}

/* The latest metrics of "m1", in name order, are exactly these. */
static void expect_latest(void) {
  iotkit_telemetry_batch_t *b = NULL;
  cr_assert_eq(iotkit_fleet_latest(fx.fleet, "m1", NULL, &b), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_batch_count(b), 7);
  static const char *const names[] = {"count", "door", "humidity", "mode", "pressure", "steps", "temperature"};
  const iotkit_telemetry_point_t *p[7];
  for (size_t i = 0; i < 7; i++) {
    cr_assert_eq(iotkit_telemetry_batch_get(b, i, &p[i]), IOTKIT_OK);
    cr_assert_str_eq(p[i]->name, names[i]);
  }
  cr_assert_eq(p[0]->type, IOTKIT_TELEMETRY_INT);
  cr_assert_eq(p[0]->value.i, 17);
  cr_assert_eq(p[1]->type, IOTKIT_TELEMETRY_BOOL);
  cr_assert(p[1]->value.b);
  cr_assert_eq(p[2]->type, IOTKIT_TELEMETRY_DOUBLE, "SenML JSON numbers are doubles");
  cr_assert_eq(p[2]->value.d, 40.25);
  cr_assert_str_eq(p[2]->unit, "%RH");
  cr_assert_eq(p[2]->ts_ms, T0 + 10);
  cr_assert_eq(p[3]->type, IOTKIT_TELEMETRY_STRING);
  cr_assert_str_eq(p[3]->value.s, "eco");
  cr_assert_eq(p[4]->type, IOTKIT_TELEMETRY_DOUBLE);
  cr_assert_eq(p[4]->value.d, 1013.25);
  cr_assert_eq(p[4]->ts_ms, T0 + 30);
  cr_assert_eq(p[5]->type, IOTKIT_TELEMETRY_INT, "SenML CBOR integers stay integers");
  cr_assert_eq(p[5]->value.i, -3);
  cr_assert_eq(p[6]->value.d, 21.5);
  cr_assert_str_eq(p[6]->unit, "Cel");
  cr_assert_eq(p[6]->ts_ms, T0);
  iotkit_telemetry_batch_free(b);
}

Test(fleet_monitor, telemetry_in_every_encoding) {
  fleet_live_open(&fx);
  fleet_live_register(&fx, "m1");
  iotkit_device_t *d = fleet_live_device(&fx, "m1");
  send_batch(d, IOTKIT_TELEMETRY_FORMAT_JSON, fill_json);
  send_batch(d, IOTKIT_TELEMETRY_FORMAT_SENML_JSON, fill_senml_json);
  send_batch(d, IOTKIT_TELEMETRY_FORMAT_SENML_CBOR, fill_senml_cbor);
  const char *flat = "{\"seq\":9,\"ts\":1767225600030,\"pressure\":1013.25}";
  cr_assert_eq(iotkit_device_send_telemetry(d, flat, strlen(flat), NULL), IOTKIT_OK);
  wait_count(&fx.telemetry, 4);
  expect_latest();
  iotkit_telemetry_batch_t *one = NULL;
  cr_assert_eq(iotkit_fleet_latest(fx.fleet, "m1", "mode", &one), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_batch_count(one), 1);
  iotkit_telemetry_batch_free(one);
  cr_assert_eq(iotkit_fleet_latest(fx.fleet, "m1", "nothing", &one), IOTKIT_ERR_NOT_FOUND);
  cr_assert_eq(iotkit_fleet_latest(fx.fleet, "nobody", NULL, &one), IOTKIT_ERR_NOT_FOUND);
  iotkit_fleet_stats_t s;
  cr_assert_eq(iotkit_fleet_stats(fx.fleet, &s), IOTKIT_OK);
  cr_assert_eq(s.telemetry, 4);
  cr_assert_eq(s.undecodable, 0);

  /* The latest values are in the database: a new fleet on the file knows them before any message. */
  fleet_live_close(&fx);
  cr_assert_eq(iotkit_fleet_new(&fx.cfg, &fx.fleet), IOTKIT_OK);
  expect_latest();
}

Test(fleet_monitor, the_newest_point_wins) {
  fleet_live_open(&fx);
  fleet_live_register(&fx, "m2");
  iotkit_device_t *d = fleet_live_device(&fx, "m2");
  const char *newer = "{\"ts\":1767225601000,\"t\":30}";
  const char *older = "{\"ts\":1767225600000,\"t\":10}"; /* a backlog replayed after an outage */
  cr_assert_eq(iotkit_device_send_telemetry(d, newer, strlen(newer), NULL), IOTKIT_OK);
  cr_assert_eq(iotkit_device_send_telemetry(d, older, strlen(older), NULL), IOTKIT_OK);
  wait_count(&fx.telemetry, 2);
  iotkit_telemetry_batch_t *b = NULL;
  cr_assert_eq(iotkit_fleet_latest(fx.fleet, "m2", "t", &b), IOTKIT_OK);
  const iotkit_telemetry_point_t *p = NULL;
  cr_assert_eq(iotkit_telemetry_batch_get(b, 0, &p), IOTKIT_OK);
  cr_assert_eq(p->value.d, 30.0);
  iotkit_telemetry_batch_free(b);
}

Test(fleet_monitor, reported_state_changes_and_events) {
  fleet_live_open(&fx);
  fleet_live_register(&fx, "m3");
  iotkit_device_t *d = fleet_live_device(&fx, "m3");
  char *state = NULL;
  int64_t ts = -1;
  cr_assert_eq(iotkit_fleet_state(fx.fleet, "m3", &state, &ts), IOTKIT_OK);
  cr_assert_null(state, "nothing reported yet");
  cr_assert_eq(iotkit_device_report(d, "{\"fw\":\"1.0\",\"room\":\"lab\"}"), IOTKIT_OK);
  wait_count(&fx.states, 1);
  cr_assert_eq(iotkit_device_report(d, "{\"fw\":\"1.1\"}"), IOTKIT_OK);
  wait_count(&fx.states, 2);
  cr_assert_eq(iotkit_fleet_state(fx.fleet, "m3", &state, &ts), IOTKIT_OK);
  cr_assert_str_eq(state, "{\"fw\":\"1.1\",\"room\":\"lab\"}");
  cr_assert_gt(ts, 0);
  iotkit_free(state);
  cr_assert_eq(iotkit_device_event(d, "overheat", "{\"t\":85.5}", NULL), IOTKIT_OK);
  wait_count(&fx.events, 1);
  pthread_mutex_lock(&fx.mu);
  cr_assert_str_eq(fx.last_event, "m3 overheat {\"t\":85.5}");
  pthread_mutex_unlock(&fx.mu);

  /* After a fleet restart the retained state comes again: it is no change. */
  fleet_live_close(&fx);
  int states = fleet_live_count(&fx, &fx.states);
  fleet_live_open(&fx);
  cr_assert_eq(iotkit_fleet_state(fx.fleet, "m3", &state, NULL), IOTKIT_OK);
  cr_assert_str_eq(state, "{\"fw\":\"1.1\",\"room\":\"lab\"}");
  iotkit_free(state);
  cr_assert_eq(fleet_live_count(&fx, &fx.states), states);
}

/* Garbage on every channel the fleet reads: each counted, none crashes it or stops the next. */
Test(fleet_monitor, undecodable_messages_are_counted_and_skipped) {
  fleet_live_open(&fx);
  fleet_live_register(&fx, "m4");
  mqtt_peer_t *peer = mqtt_peer_new(&(mqtt_peer_opts_t){.port = mosq_server_port(fx.srv)});
  cr_assert_not_null(peer);
  static const struct {
    const char *suffix;
    const char *payload;
    size_t len;
  } bad[] = {
      {"telemetry", "GARBAGE-PAYLOAD-1", 0},
      {"telemetry", "{\"ver\":1,\"points\":[{\"n\":\"x\"}]}", 0},  /* a point without a value */
      {"telemetry", "[{\"n\":\"x\",\"vd\":\"AA\"}]", 0},           /* SenML data value: unsupported */
      {"telemetry", "\x84\x01", 2},                               /* truncated CBOR */
      {"telemetry", "\xe1\x02k1GARBAGE-PAYLOAD-2", 21},           /* a sealed envelope, no key */
      {"telemetry", "{\"ts\":5}", 0},                             /* flat JSON without a metric */
      {"status", "{\"status\":\"sleeping\"}", 0},
      {"state/reported", "{\"state\":[1],\"ts\":1}", 0},
      {"events/x", "{\"type\":\"x\"}", 0},
      {"location", "{\"lat\":123,\"lon\":0,\"ts\":1}", 0},
      {"location", "GARBAGE-PAYLOAD-3", 0},
  };
  size_t n = sizeof bad / sizeof bad[0];
  for (size_t i = 0; i < n; i++) {
    char topic[128];
    snprintf(topic, sizeof topic, "iotkit/v1/m4/%s", bad[i].suffix);
    size_t len = bad[i].len ? bad[i].len : strlen(bad[i].payload); /* 0: a text */
    cr_assert(mqtt_peer_publish(peer, topic, bad[i].payload, len, 1, false), "%s", topic);
  }
  const char *good = "{\"ok\":1}";
  cr_assert(mqtt_peer_publish(peer, "iotkit/v1/m4/telemetry", good, strlen(good), 1, false));
  wait_count(&fx.telemetry, 1);
  iotkit_fleet_stats_t s;
  cr_assert_eq(iotkit_fleet_stats(fx.fleet, &s), IOTKIT_OK);
  cr_assert_eq(s.undecodable, n, "%llu of %zu", (unsigned long long)s.undecodable, n);
  cr_assert_eq(s.telemetry, 1);
  iotkit_telemetry_batch_t *b = NULL;
  cr_assert_eq(iotkit_fleet_latest(fx.fleet, "m4", "ok", &b), IOTKIT_OK);
  iotkit_telemetry_batch_free(b);
  /* A live message of any kind is still hearing from the device. */
  iotkit_fleet_presence_t p;
  cr_assert_eq(iotkit_fleet_presence(fx.fleet, "m4", &p), IOTKIT_OK);
  cr_assert_gt(p.last_seen_ms, 0);
  cr_assert_not(p.online, "a bad status changes nothing");
  const char *log = iotkit_hal_memory_log(fx.hal);
  cr_assert(strstr(log, "cannot decode a telemetry message of 17 bytes from m4"), "%s", log);
  cr_assert_null(strstr(log, "GARBAGE-PAYLOAD"), "a payload reached the log");
  mqtt_peer_free(peer);
}

/* A real device moves: the fleet follows it, and the retained position seen again after a
   fleet restart is the same one, neither reported nor stored twice. */
Test(fleet_monitor, a_device_moves) {
  fleet_live_open(&fx);
  fleet_live_register(&fx, "car");
  iotkit_device_t *d = fleet_live_device(&fx, "car");
  for (int i = 0; i < 3; i++) {
    iotkit_location_t l = {.latitude = 48.85 + i * 0.01, .longitude = 2.35, .ts_ms = T0 + i * 1000,
                           .accuracy_m = 4, .has_accuracy = true};
    cr_assert_eq(iotkit_device_report_location(d, &l), IOTKIT_OK);
  }
  wait_count(&fx.locations, 3);
  iotkit_location_t at;
  cr_assert_eq(iotkit_fleet_locate(fx.fleet, "car", &at), IOTKIT_OK);
  cr_assert_eq(at.latitude, 48.85 + 2 * 0.01);
  cr_assert_eq(at.ts_ms, T0 + 2000);
  iotkit_location_t *tr = NULL;
  size_t n = 0;
  cr_assert_eq(iotkit_fleet_track(fx.fleet, "car", T0, T0 + 2000, &tr, &n), IOTKIT_OK);
  cr_assert_eq(n, 3);
  cr_assert_eq(tr[0].latitude, 48.85);
  iotkit_free(tr);
  iotkit_fleet_near_t *v = NULL;
  cr_assert_eq(iotkit_fleet_within(fx.fleet, 48.87, 2.36, 1000, &v, &n), IOTKIT_OK);
  cr_assert_eq(n, 1);
  cr_assert_str_eq(v[0].device_id, "car");
  cr_assert_float_eq(v[0].distance_m, iotkit_fleet_distance_m(48.87, 2.36, 48.87, 2.35), 1e-9);
  iotkit_free(v);

  fleet_live_close(&fx);
  int seen = fleet_live_count(&fx, &fx.locations);
  fleet_live_open(&fx);
  test_msleep(200);
  cr_assert_eq(fleet_live_count(&fx, &fx.locations), seen);
  cr_assert_eq(iotkit_fleet_track(fx.fleet, "car", 0, INT64_MAX, &tr, &n), IOTKIT_OK);
  cr_assert_eq(n, 3);
  iotkit_free(tr);
}
