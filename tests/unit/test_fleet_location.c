// requires: fleet
/* The fleet's location queries, fed through its message path (no broker):
   locate, track with the bounded history, within-radius against a brute-force
   haversine check over random points (poles and antimeridian included), the
   query plan that keeps "within" off a full scan, and each bad input. */
#include <criterion/criterion.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet/fleet_internal.h"
#include "fleet/store_sqlite_internal.h"
#include "fleet_fixture.h"

static fleet_fixture_t fx;
static iotkit_fleet_t *fleet;

static void open_fleet(uint32_t history_max) {
  iotkit_fleet_config_t cfg;
  iotkit_fleet_config_init(&cfg);
  cfg.db_path = fx.path;
  cfg.hal = fx.hal;
  cfg.auto_register = true;
  cfg.location_history_max = history_max;
  cr_assert_eq(iotkit_fleet_new(&cfg, &fleet), IOTKIT_OK);
}

static void setup(void) {
  fleet_fixture_setup(&fx);
  iotkit_fleet_free(fx.fleet); /* ours has auto_register and a small history */
  fx.fleet = NULL;
  open_fleet(5);
}

static void teardown(void) {
  iotkit_fleet_free(fleet);
  fleet = NULL;
  fleet_fixture_teardown(&fx);
}
TestSuite(fleet_location, .init = setup, .fini = teardown, .timeout = 120);

/* A message as the transport would hand it over. */
static void inject(const char *id, const char *suffix, const char *payload, bool retain) {
  char topic[256];
  snprintf(topic, sizeof topic, "iotkit/v1/%s/%s", id, suffix);
  iotkit_transport_msg_t m = {.struct_size = sizeof m, .channel = topic, .payload = payload,
                              .len = strlen(payload), .qos = 1, .retain = retain};
  iotkit__fleet_message(fleet, &m);
}

static void move(const char *id, double lat, double lon, int64_t ts) {
  iotkit_location_t l = {.latitude = lat, .longitude = lon, .ts_ms = ts};
  char *doc = NULL;
  cr_assert_eq(iotkit_protocol_location_build(&l, &doc), IOTKIT_OK);
  inject(id, "location", doc, false);
  iotkit_free(doc);
}

Test(fleet_location, locate_and_a_bounded_track) {
  for (int i = 0; i < 8; i++) move("t1", 10 + i, 20 - i, 1000 + i * 100);
  move("t1", 50, 50, 1050); /* late: an older position goes to the history only */
  inject("t1", "location", "{\"lat\":17,\"lon\":13,\"ts\":1700}", true); /* the retained latest again */
  iotkit_location_t l;
  cr_assert_eq(iotkit_fleet_locate(fleet, "t1", &l), IOTKIT_OK);
  cr_assert_eq(l.latitude, 17);
  cr_assert_eq(l.longitude, 13);
  cr_assert_eq(l.ts_ms, 1700);
  iotkit_location_t *tr = NULL;
  size_t n = 0;
  cr_assert_eq(iotkit_fleet_track(fleet, "t1", 0, INT64_MAX, &tr, &n), IOTKIT_OK);
  cr_assert_eq(n, 5, "the 5 newest positions are kept (got %zu)", n);
  for (size_t i = 0; i < n; i++) cr_assert_eq(tr[i].ts_ms, 1300 + (int64_t)i * 100, "oldest first");
  iotkit_free(tr);
  cr_assert_eq(iotkit_fleet_track(fleet, "t1", 1400, 1600, &tr, &n), IOTKIT_OK);
  cr_assert_eq(n, 3, "bounds are inclusive");
  cr_assert_eq(tr[0].latitude, 14);
  iotkit_free(tr);
  cr_assert_eq(iotkit_fleet_track(fleet, "t1", 0, 10, &tr, &n), IOTKIT_OK);
  cr_assert_eq(n, 0);
  cr_assert_null(tr);
  /* The latest position and the history are in the database. */
  iotkit_fleet_free(fleet);
  open_fleet(5);
  cr_assert_eq(iotkit_fleet_locate(fleet, "t1", &l), IOTKIT_OK);
  cr_assert_eq(l.ts_ms, 1700);
  cr_assert_eq(iotkit_fleet_track(fleet, "t1", 0, INT64_MAX, &tr, &n), IOTKIT_OK);
  cr_assert_eq(n, 5);
  iotkit_free(tr);
}

Test(fleet_location, altitude_and_accuracy_round_trip) {
  inject("alt", "location", "{\"lat\":1.5,\"lon\":-2.25,\"alt\":-10.5,\"acc\":3,\"ts\":7}", false);
  iotkit_location_t l;
  cr_assert_eq(iotkit_fleet_locate(fleet, "alt", &l), IOTKIT_OK);
  cr_assert(l.has_altitude && l.has_accuracy);
  cr_assert_eq(l.altitude, -10.5);
  cr_assert_eq(l.accuracy_m, 3);
  iotkit_fleet_near_t *v = NULL;
  size_t n = 0;
  cr_assert_eq(iotkit_fleet_within(fleet, 1.5, -2.25, 0, &v, &n), IOTKIT_OK);
  cr_assert_eq(n, 1);
  cr_assert_str_eq(v[0].device_id, "alt");
  cr_assert_eq(v[0].distance_m, 0);
  cr_assert(v[0].location.has_altitude);
  cr_assert_eq(v[0].location.altitude, -10.5);
  iotkit_free(v);
}

/* ------------------------------------------------------ brute force -- */

#define N_POINTS 3000
static double plat[N_POINTS], plon[N_POINTS];

static double uni(void) { return (double)rand() / RAND_MAX; }

static void place_points(void) {
  srand(12345);
  for (int i = 0; i < N_POINTS; i++) {
    double lat, lon;
    switch (i % 5) {
      case 0: lat = 89.0 + uni(); lon = uni() * 360 - 180; break;         /* near the north pole */
      case 1: lat = uni() * 20 - 10; lon = 179.0 + uni() * 1.0; break;     /* just west of the antimeridian */
      case 2: lat = uni() * 20 - 10; lon = -180.0 + uni() * 1.0; break;    /* just east of it */
      default: lat = asin(2 * uni() - 1) * 180 / M_PI; lon = uni() * 360 - 180; break; /* uniform */
    }
    plat[i] = lat;
    plon[i] = lon;
    char id[32];
    snprintf(id, sizeof id, "p%04d", i);
    move(id, lat, lon, 1000 + i);
  }
}

static int by_id(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void check_circle(double lat, double lon, double r) {
  iotkit_fleet_near_t *v = NULL;
  size_t n = 0;
  cr_assert_eq(iotkit_fleet_within(fleet, lat, lon, r, &v, &n), IOTKIT_OK);
  static char *want[N_POINTS];
  size_t m = 0;
  static char names[N_POINTS][16];
  for (int i = 0; i < N_POINTS; i++) {
    if (iotkit_fleet_distance_m(lat, lon, plat[i], plon[i]) > r) continue;
    snprintf(names[i], sizeof names[i], "p%04d", i);
    want[m++] = names[i];
  }
  cr_assert_eq(n, m, "(%g, %g) r=%g: %zu found, %zu by brute force", lat, lon, r, n, m);
  static char *got[N_POINTS];
  for (size_t i = 0; i < n; i++) {
    got[i] = v[i].device_id;
    if (i) cr_assert_leq(v[i - 1].distance_m, v[i].distance_m, "nearest first");
    cr_assert_leq(v[i].distance_m, r);
  }
  qsort(got, n, sizeof *got, by_id);
  qsort(want, m, sizeof *want, by_id);
  for (size_t i = 0; i < n; i++) cr_assert_str_eq(got[i], want[i]);
  iotkit_free(v);
}

Test(fleet_location, within_matches_brute_force) {
  place_points();
  srand(777);
  static const double fixed[][3] = {
      {90, 0, 150000},     {-90, 0, 5000000}, {89.5, 10, 80000}, {0, 180, 300000},  {0, -180, 300000},
      {5, 179.9, 200000},  {-5, -179.95, 1e5}, {0, 0, 2.1e7},     {45, 90, 0},        {10, 170, 2e6},
      {-60, -175, 1.5e6},  {0, 0, 2e7},       {30, -100, 1},     {89.99, -180, 5e4}, {-89.99, 180, 1e6},
  };
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) check_circle(fixed[i][0], fixed[i][1], fixed[i][2]);
  for (int i = 0; i < 200; i++) {
    double lat = asin(2 * uni() - 1) * 180 / M_PI, lon = uni() * 360 - 180;
    if (i % 4 == 0) lon = i % 8 ? 179.5 + uni() * 0.5 : -180 + uni() * 0.5;
    double r = pow(10, 2 + uni() * 5); /* 100 m to 10,000 km */
    check_circle(lat, lon, r);
  }
  /* Exactly on a point, radius 0. */
  check_circle(plat[3], plon[3], 0);
}

/* "within" is answered on the (lat, lon) index: the plan searches it by a latitude range and
   never scans the table (INDEXED BY also makes the statement fail rather than scan). */
Test(fleet_location, within_searches_the_index) {
  move("one", 1, 1, 1);
  cr_assert_eq(iotkit_fleet_sync(fleet), IOTKIT_OK);
  sqlite3 *db = NULL;
  cr_assert_eq(sqlite3_open_v2(fx.path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  char sql[1024];
  snprintf(sql, sizeof sql, "EXPLAIN QUERY PLAN %s", iotkit__sq_sql[IOTKIT__SQ_IN_BOX]);
  sqlite3_stmt *st = NULL;
  cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
  char plan[1024] = "";
  while (sqlite3_step(st) == SQLITE_ROW) {
    size_t used = strlen(plan);
    snprintf(plan + used, sizeof plan - used, "%s; ", (const char *)sqlite3_column_text(st, 3));
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  cr_assert(strstr(plan, "SEARCH location_latest USING") && strstr(plan, "location_latest_by_lat_lon (lat>? AND lat<?)"),
            "%s", plan);
  cr_assert_null(strstr(plan, "SCAN"), "%s", plan);
}

/* ------------------------------------------------------- bad inputs -- */

static void within_refused(double lat, double lon, double r) {
  iotkit_fleet_near_t *v = (void *)1;
  size_t n = 99;
  cr_assert_eq(iotkit_fleet_within(fleet, lat, lon, r, &v, &n), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(n, 99, "outputs untouched");
}

Test(fleet_location, within_latitude_above_90) { within_refused(90.01, 0, 1); }
Test(fleet_location, within_latitude_below_minus_90) { within_refused(-91, 0, 1); }
Test(fleet_location, within_longitude_above_180) { within_refused(0, 180.5, 1); }
Test(fleet_location, within_longitude_below_minus_180) { within_refused(0, -180.0001, 1); }
Test(fleet_location, within_nan_latitude) { within_refused(NAN, 0, 1); }
Test(fleet_location, within_nan_longitude) { within_refused(0, NAN, 1); }
Test(fleet_location, within_negative_radius) { within_refused(0, 0, -1); }
Test(fleet_location, within_nan_radius) { within_refused(0, 0, NAN); }
Test(fleet_location, within_infinite_radius) { within_refused(0, 0, INFINITY); }

Test(fleet_location, within_null_outputs) {
  size_t n = 0;
  iotkit_fleet_near_t *v = NULL;
  cr_assert_eq(iotkit_fleet_within(fleet, 0, 0, 1, NULL, &n), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_within(fleet, 0, 0, 1, &v, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_within(NULL, 0, 0, 1, &v, &n), IOTKIT_ERR_INVALID_ARG);
}

Test(fleet_location, track_t1_after_t2) {
  move("t", 1, 1, 5);
  iotkit_location_t *tr = NULL;
  size_t n = 0;
  cr_assert_eq(iotkit_fleet_track(fleet, "t", 10, 9, &tr, &n), IOTKIT_ERR_INVALID_ARG);
}

Test(fleet_location, track_unknown_device) {
  iotkit_location_t *tr = NULL;
  size_t n = 0;
  cr_assert_eq(iotkit_fleet_track(fleet, "nobody", 0, 1, &tr, &n), IOTKIT_ERR_NOT_FOUND);
}

Test(fleet_location, track_bad_id) {
  iotkit_location_t *tr = NULL;
  size_t n = 0;
  cr_assert_eq(iotkit_fleet_track(fleet, "bad id", 0, 1, &tr, &n), IOTKIT_ERR_INVALID_ARG);
}

Test(fleet_location, locate_unknown_device) {
  iotkit_location_t l;
  cr_assert_eq(iotkit_fleet_locate(fleet, "nobody", &l), IOTKIT_ERR_NOT_FOUND);
}

Test(fleet_location, locate_without_a_position) {
  cr_assert_eq(fleet_fixture_create(fleet, "still", NULL, NULL, 0), IOTKIT_OK);
  iotkit_location_t l;
  cr_assert_eq(iotkit_fleet_locate(fleet, "still", &l), IOTKIT_ERR_NOT_FOUND);
}

Test(fleet_location, locate_bad_id) {
  iotkit_location_t l;
  cr_assert_eq(iotkit_fleet_locate(fleet, "../x", &l), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_locate(fleet, NULL, &l), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_locate(fleet, "x", NULL), IOTKIT_ERR_INVALID_ARG);
}

/* A deleted device leaves the view and the database with its positions. */
Test(fleet_location, delete_forgets_the_positions) {
  move("gone", 3, 3, 3);
  cr_assert_eq(iotkit_fleet_device_delete(fleet, "gone"), IOTKIT_OK);
  iotkit_location_t l;
  cr_assert_eq(iotkit_fleet_locate(fleet, "gone", &l), IOTKIT_ERR_NOT_FOUND);
  iotkit_fleet_near_t *v = NULL;
  size_t n = 0;
  cr_assert_eq(iotkit_fleet_within(fleet, 3, 3, 10, &v, &n), IOTKIT_OK);
  cr_assert_eq(n, 0);
}

Test(fleet_location, distance_is_the_haversine) {
  cr_assert_eq(iotkit_fleet_distance_m(10, 20, 10, 20), 0);
  /* A quarter of a great circle. */
  cr_assert_float_eq(iotkit_fleet_distance_m(0, 0, 0, 90), IOTKIT_FLEET_EARTH_RADIUS_M * M_PI / 2, 1e-6);
  cr_assert_float_eq(iotkit_fleet_distance_m(90, 0, -90, 0), IOTKIT_FLEET_EARTH_RADIUS_M * M_PI, 1e-6);
  /* Across the antimeridian: two points 0.2 degrees of longitude apart on the equator. */
  cr_assert_float_eq(iotkit_fleet_distance_m(0, 179.9, 0, -179.9), IOTKIT_FLEET_EARTH_RADIUS_M * 0.2 * M_PI / 180,
                     1e-6);
}
