// requires: fleet
/* The fleet's telemetry history, fed through its message path (no broker):
   retention by count and by age, raw points and buckets (min, max, mean),
   which types are kept, duplicates, persistence, the trim's row counts (across
   flushes, after a deletion, after another connection's writes), and each bad input. */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "fleet/fleet_internal.h"
#include "fleet_fixture.h"

static fleet_fixture_t fx;
static iotkit_fleet_t *fleet;

static void open_fleet(uint32_t points, uint64_t age_ms) {
  iotkit_fleet_config_t cfg;
  iotkit_fleet_config_init(&cfg);
  cfg.db_path = fx.path;
  cfg.hal = fx.hal;
  cfg.auto_register = true;
  cfg.history_max_points = points;
  cfg.history_max_age_ms = age_ms;
  cr_assert_eq(iotkit_fleet_new(&cfg, &fleet), IOTKIT_OK);
}

static void setup(void) {
  fleet_fixture_setup(&fx);
  iotkit_fleet_free(fx.fleet);
  fx.fleet = NULL;
}

static void teardown(void) {
  iotkit_fleet_free(fleet);
  fleet = NULL;
  fleet_fixture_teardown(&fx);
}
TestSuite(fleet_history, .init = setup, .fini = teardown, .timeout = 60);

#define T0 FLEET_FIXTURE_T0_MS

static void send(const char *id, const char *json) {
  char topic[128];
  snprintf(topic, sizeof topic, "iotkit/v1/%s/telemetry", id);
  iotkit_transport_msg_t m = {.struct_size = sizeof m, .channel = topic, .payload = json, .len = strlen(json), .qos = 1};
  iotkit__fleet_message(fleet, &m);
}

static void point(const char *id, const char *name, int64_t ts, double v) {
  char json[160];
  snprintf(json, sizeof json, "{\"ts\":%lld,\"%s\":%.17g}", (long long)ts, name, v);
  send(id, json);
}

static iotkit_fleet_sample_t *history(const char *id, const char *name, int64_t t1, int64_t t2, int64_t bucket,
                                      size_t *n) {
  iotkit_fleet_sample_t *v = NULL;
  iotkit_err_t rc = iotkit_fleet_history(fleet, id, name, t1, t2, bucket, &v, n);
  cr_assert_eq(rc, IOTKIT_OK, "%s", iotkit_err_name(rc));
  return v;
}

Test(fleet_history, kept_by_count) {
  open_fleet(10, 0);
  for (int i = 0; i < 25; i++) point("d", "v", T0 - 25000 + i * 1000, i);
  size_t n = 0;
  iotkit_fleet_sample_t *v = history("d", "v", 0, INT64_MAX, 0, &n);
  cr_assert_eq(n, 10);
  for (size_t i = 0; i < n; i++) {
    cr_assert_eq(v[i].mean, 15.0 + (double)i);
    cr_assert_eq(v[i].min, v[i].mean);
    cr_assert_eq(v[i].max, v[i].mean);
    cr_assert_eq(v[i].count, 1);
    cr_assert_eq(v[i].ts_ms, T0 - 10000 + (int64_t)i * 1000);
  }
  iotkit_free(v);
  /* Kept in the database. */
  iotkit_fleet_free(fleet);
  open_fleet(10, 0);
  v = history("d", "v", T0 - 5000, T0, 0, &n);
  cr_assert_eq(n, 5, "bounds inclusive: %zu", n);
  iotkit_free(v);
}

Test(fleet_history, kept_by_age) {
  open_fleet(1000, 10000);
  for (int i = 0; i <= 20; i++) point("d", "v", T0 - 20000 + i * 1000, i); /* 20 s back to now */
  size_t n = 0;
  iotkit_fleet_sample_t *v = history("d", "v", 0, INT64_MAX, 0, &n);
  cr_assert_eq(n, 11, "the last 10 s: %zu", n);
  cr_assert_eq(v[0].ts_ms, T0 - 10000);
  iotkit_free(v);
  /* Five seconds later, the next write trims what has grown too old. */
  cr_assert_eq(iotkit_hal_memory_advance(fx.hal, 5000), IOTKIT_OK);
  point("d", "v", T0 + 5000, 99);
  v = history("d", "v", 0, INT64_MAX, 0, &n);
  cr_assert_eq(n, 7, "%zu", n);
  cr_assert_eq(v[0].ts_ms, T0 - 5000);
  cr_assert_eq(v[n - 1].mean, 99);
  iotkit_free(v);
}

Test(fleet_history, downsampled_buckets) {
  open_fleet(1000, 0);
  for (int i = 0; i < 60; i++) point("d", "v", T0 - 60000 + i * 1000, i);
  size_t n = 0;
  /* Buckets of 10 s from t1 = T0 - 60 s. */
  iotkit_fleet_sample_t *v = history("d", "v", T0 - 60000, T0, 10000, &n);
  cr_assert_eq(n, 6);
  for (size_t k = 0; k < n; k++) {
    cr_assert_eq(v[k].ts_ms, T0 - 60000 + (int64_t)k * 10000);
    cr_assert_eq(v[k].min, 10.0 * (double)k);
    cr_assert_eq(v[k].max, 10.0 * (double)k + 9);
    cr_assert_float_eq(v[k].mean, 10.0 * (double)k + 4.5, 1e-9);
    cr_assert_eq(v[k].count, 10);
  }
  iotkit_free(v);
  /* An unaligned start and an empty stretch: buckets are counted from t1 and empty ones left out. */
  point("d", "v", T0 + 100000, 1000);
  v = history("d", "v", T0 - 55000, T0 + 200000, 30000, &n);
  cr_assert_eq(n, 3, "%zu", n); /* [-55,-25): 30 points; [-25,5): 25; [95,125): 1 */
  cr_assert_eq(v[0].count, 30);
  cr_assert_eq(v[1].count, 25);
  cr_assert_eq(v[2].ts_ms, T0 - 55000 + 5 * 30000);
  cr_assert_eq(v[2].mean, 1000);
  iotkit_free(v);
}

Test(fleet_history, numbers_and_booleans_not_strings) {
  open_fleet(100, 0);
  send("d", "{\"ver\":1,\"points\":[{\"n\":\"i\",\"ts\":1767225600000,\"i\":7},"
            "{\"n\":\"b\",\"ts\":1767225600000,\"b\":true},{\"n\":\"s\",\"ts\":1767225600000,\"s\":\"x\"}]}");
  size_t n = 0;
  iotkit_fleet_sample_t *v = history("d", "i", 0, INT64_MAX, 0, &n);
  cr_assert_eq(n, 1);
  cr_assert_eq(v[0].mean, 7);
  iotkit_free(v);
  v = history("d", "b", 0, INT64_MAX, 0, &n);
  cr_assert_eq(n, 1);
  cr_assert_eq(v[0].mean, 1);
  iotkit_free(v);
  v = history("d", "s", 0, INT64_MAX, 0, &n);
  cr_assert_eq(n, 0);
  cr_assert_null(v);
}

Test(fleet_history, the_same_point_twice_is_one) {
  open_fleet(100, 0);
  point("d", "v", T0, 1);
  point("d", "v", T0, 1); /* at least once: a duplicate */
  size_t n = 0;
  iotkit_fleet_sample_t *v = history("d", "v", 0, INT64_MAX, 0, &n);
  cr_assert_eq(n, 1);
  iotkit_free(v);
}

Test(fleet_history, off_by_default) {
  open_fleet(0, 0);
  point("d", "v", T0, 1);
  iotkit_fleet_sample_t *v = NULL;
  size_t n = 0;
  cr_assert_eq(iotkit_fleet_history(fleet, "d", "v", 0, 1, 0, &v, &n), IOTKIT_ERR_UNSUPPORTED);
}

Test(fleet_history, bad_inputs) {
  open_fleet(10, 0);
  point("d", "v", T0, 1);
  iotkit_fleet_sample_t *v = NULL;
  size_t n = 0;
  cr_assert_eq(iotkit_fleet_history(fleet, "d", "v", 2, 1, 0, &v, &n), IOTKIT_ERR_INVALID_ARG, "t1 > t2");
  cr_assert_eq(iotkit_fleet_history(fleet, "d", "v", 0, 1, -5, &v, &n), IOTKIT_ERR_INVALID_ARG, "bucket < 0");
  cr_assert_eq(iotkit_fleet_history(fleet, "d", "-v", 0, 1, 0, &v, &n), IOTKIT_ERR_INVALID_ARG, "metric name");
  cr_assert_eq(iotkit_fleet_history(fleet, "d", NULL, 0, 1, 0, &v, &n), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_history(fleet, "bad id", "v", 0, 1, 0, &v, &n), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_history(fleet, "nobody", "v", 0, 1, 0, &v, &n), IOTKIT_ERR_NOT_FOUND);
  cr_assert_eq(iotkit_fleet_history(fleet, "d", "v", 0, 1, 0, NULL, &n), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_history(fleet, "d", "v", 0, 1, 0, &v, NULL), IOTKIT_ERR_INVALID_ARG);
}

/* The trim by count works from a row count per metric that the writer keeps between flushes
   (store_sqlite_tel_count.c): each flush adds to it, and the count stays exact. */
Test(fleet_history, kept_by_count_across_flushes) {
  open_fleet(4, 0);
  for (int i = 0; i < 20; i++) {
    point("d", "v", T0 - 20000 + i * 1000, i);
    if (i % 3 == 0) point("d", "v", T0 - 20000 + i * 1000, i); /* a duplicate adds no row */
    size_t n = 0;
    iotkit_fleet_sample_t *v = history("d", "v", 0, INT64_MAX, 0, &n); /* each read flushes */
    cr_assert_eq(n, i < 4 ? (size_t)i + 1 : 4, "after %d: %zu", i, n);
    cr_assert_eq(v[n - 1].mean, (double)i);
    cr_assert_eq(v[0].mean, (double)(i < 4 ? 0 : i - 3));
    iotkit_free(v);
  }
}

/* A deleted device's history goes by cascade: its count must go with it. */
Test(fleet_history, kept_by_count_after_delete_and_recreate) {
  open_fleet(3, 0);
  for (int i = 0; i < 5; i++) point("d", "v", T0 - 10000 + i * 1000, i);
  size_t n = 0;
  iotkit_free(history("d", "v", 0, INT64_MAX, 0, &n));
  cr_assert_eq(n, 3);
  cr_assert_eq(iotkit_fleet_device_delete(fleet, "d"), IOTKIT_OK);
  point("d", "v", T0 - 2000, 100); /* registered again */
  point("d", "v", T0 - 1000, 101);
  iotkit_fleet_sample_t *v = history("d", "v", 0, INT64_MAX, 0, &n);
  cr_assert_eq(n, 2, "%zu", n);
  cr_assert_eq(v[0].mean, 100.0);
  cr_assert_eq(v[1].mean, 101.0);
  iotkit_free(v);
}

static void sql(const char *text) {
  sqlite3 *db = NULL;
  cr_assert_eq(sqlite3_open_v2(fx.path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  cr_assert_eq(sqlite3_exec(db, text, NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
  cr_assert_eq(sqlite3_close(db), SQLITE_OK);
}

/* Another connection (another process) that changes the history makes the writer count again. */
Test(fleet_history, kept_by_count_after_another_connection_writes) {
  open_fleet(3, 0);
  for (int i = 0; i < 5; i++) point("d", "v", T0 - 10000 + i * 1000, i);
  size_t n = 0;
  iotkit_free(history("d", "v", 0, INT64_MAX, 0, &n));
  cr_assert_eq(n, 3);
  sql("DELETE FROM telemetry_history");
  point("d", "v", T0 - 3000, 10);
  point("d", "v", T0 - 2000, 11);
  iotkit_fleet_sample_t *v = history("d", "v", 0, INT64_MAX, 0, &n);
  cr_assert_eq(n, 2, "after the other's delete: %zu", n);
  iotkit_free(v);
  char insert[256];
  snprintf(insert, sizeof insert,
           "INSERT INTO telemetry_history (device_id, name, ts_ms, value) VALUES ('d', 'v', %lld, 1), ('d', 'v', "
           "%lld, 2), ('d', 'v', %lld, 3)",
           (long long)(T0 - 9000), (long long)(T0 - 8000), (long long)(T0 - 7000));
  sql(insert);
  point("d", "v", T0 - 1000, 12);
  v = history("d", "v", 0, INT64_MAX, 0, &n);
  cr_assert_eq(n, 3, "after the other's insert: %zu", n);
  cr_assert_eq(v[0].mean, 10.0);
  cr_assert_eq(v[1].mean, 11.0);
  cr_assert_eq(v[2].mean, 12.0);
  iotkit_free(v);
}
