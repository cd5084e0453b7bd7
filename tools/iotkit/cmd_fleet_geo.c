/* iotkit fleet locate | track | within | history: positions and the telemetry history. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fleet_cli.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void location_cells(const iotkit_location_t *l, char lat[32], char lon[32], char alt[32], char acc[32],
                           char when[40]) {
  snprintf(lat, 32, "%.7f", l->latitude);
  snprintf(lon, 32, "%.7f", l->longitude);
  if (l->has_altitude)
    snprintf(alt, 32, "%.1f", l->altitude);
  else
    snprintf(alt, 32, "-");
  if (l->has_accuracy)
    snprintf(acc, 32, "%.1f", l->accuracy_m);
  else
    snprintf(acc, 32, "-");
  fleet_cli_time(l->ts_ms, when, 40);
}

static void table_add_location(fleet_table_t *t, const char *first, const iotkit_location_t *l) {
  char lat[32], lon[32], alt[32], acc[32], when[40];
  location_cells(l, lat, lon, alt, acc, when);
  const char *row[] = {first, lat, lon, alt, acc, when};
  fleet_table_row(t, first ? row : row + 1);
}

int cmd_fleet_locate(int argc, char **argv) {
  const char *db = NULL, *id = NULL, *cmd = "fleet locate";
  bool json = false;
  const cli_opt_t opts[] = {FLEET_CLI_COMMON_OPTS(&db, &json)};
  if (fleet_cli_args_id(cmd, argc, argv, opts, N(opts), &id) != CLI_EXIT_OK) return CLI_EXIT_USAGE;
  fleet_cli_t c;
  fleet_cli_init(&c, cmd);
  int code = fleet_cli_open(&c, db, false);
  if (code != CLI_EXIT_OK) return code;
  iotkit_location_t loc;
  iotkit_err_t rc = iotkit_fleet_locate(c.fleet, id, &loc);
  if (rc != IOTKIT_OK) {
    code = fleet_cli_fail(&c, rc);
  } else if (json) {
    code = fleet_cli_print_json(fleet_cli_location_json(&loc));
  } else {
    static const char *const header[] = {"LAT", "LON", "ALT", "ACC", "TIME"};
    fleet_table_t t;
    fleet_table_init(&t, N(header), header);
    table_add_location(&t, NULL, &loc);
    fleet_table_print(&t, "\n", 0);
    fleet_table_free(&t);
  }
  fleet_cli_close(&c);
  return code;
}

/* --from and --to of track and history (defaults: everything). */
static bool parse_range(const char *cmd, const char *from, const char *to, int64_t *t1, int64_t *t2) {
  *t1 = 0;
  *t2 = INT64_MAX;
  if (from && !fleet_cli_parse_time(cmd, "from", from, t1)) return false;
  if (to && !fleet_cli_parse_time(cmd, "to", to, t2)) return false;
  if (*t1 > *t2) {
    cli_usage_error("%s: --from is after --to", cmd);
    return false;
  }
  return true;
}

int cmd_fleet_track(int argc, char **argv) {
  const char *db = NULL, *id = NULL, *from = NULL, *to = NULL, *cmd = "fleet track";
  bool json = false;
  const cli_opt_t opts[] = {FLEET_CLI_COMMON_OPTS(&db, &json), {"from", &from, NULL}, {"to", &to, NULL}};
  int64_t t1, t2;
  if (fleet_cli_args_id(cmd, argc, argv, opts, N(opts), &id) != CLI_EXIT_OK || !parse_range(cmd, from, to, &t1, &t2))
    return CLI_EXIT_USAGE;
  fleet_cli_t c;
  fleet_cli_init(&c, cmd);
  int code = fleet_cli_open(&c, db, false);
  if (code != CLI_EXIT_OK) return code;
  iotkit_location_t *locs = NULL;
  size_t n = 0;
  iotkit_err_t rc = iotkit_fleet_track(c.fleet, id, t1, t2, &locs, &n);
  if (rc != IOTKIT_OK) {
    code = fleet_cli_fail(&c, rc);
  } else if (json) {
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) cJSON_AddItemToArray(a, fleet_cli_location_json(&locs[i]));
    code = fleet_cli_print_json(a);
  } else {
    static const char *const header[] = {"LAT", "LON", "ALT", "ACC", "TIME"};
    fleet_table_t t;
    fleet_table_init(&t, N(header), header);
    for (size_t i = 0; i < n; i++) table_add_location(&t, NULL, &locs[i]);
    if (n == 0)
      printf("(no positions)\n");
    else
      fleet_table_print(&t, "\n", 0);
    fleet_table_free(&t);
  }
  iotkit_free(locs);
  fleet_cli_close(&c);
  return code;
}

int cmd_fleet_within(int argc, char **argv) {
  const char *db = NULL, *lat_text = NULL, *lon_text = NULL, *radius_text = NULL, *cmd = "fleet within";
  bool json = false;
  const cli_opt_t opts[] = {FLEET_CLI_COMMON_OPTS(&db, &json),
                            {"lat", &lat_text, NULL},
                            {"lon", &lon_text, NULL},
                            {"radius", &radius_text, NULL}};
  if (cli_parse_opts(argc, argv, opts, N(opts)) != CLI_EXIT_OK) return CLI_EXIT_USAGE;
  if (!lat_text || !lon_text || !radius_text) return cli_usage_error("%s: --lat, --lon and --radius are required", cmd);
  double lat, lon, radius;
  if (!fleet_cli_parse_double(cmd, "lat", lat_text, -90, 90, &lat) ||
      !fleet_cli_parse_double(cmd, "lon", lon_text, -180, 180, &lon) ||
      !fleet_cli_parse_double(cmd, "radius", radius_text, 0, 2.1e7, &radius))
    return CLI_EXIT_USAGE;
  fleet_cli_t c;
  fleet_cli_init(&c, cmd);
  int code = fleet_cli_open(&c, db, false);
  if (code != CLI_EXIT_OK) return code;
  iotkit_fleet_near_t *near = NULL;
  size_t n = 0;
  iotkit_err_t rc = iotkit_fleet_within(c.fleet, lat, lon, radius, &near, &n);
  if (rc != IOTKIT_OK) {
    code = fleet_cli_fail(&c, rc);
  } else if (json) {
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) {
      cJSON *o = cJSON_CreateObject();
      if (!o) break;
      cJSON_AddStringToObject(o, "id", near[i].device_id);
      fleet_cli_add_number(o, "distance_m", near[i].distance_m);
      cJSON_AddItemToObject(o, "location", fleet_cli_location_json(&near[i].location));
      cJSON_AddItemToArray(a, o);
    }
    code = fleet_cli_print_json(a);
  } else {
    static const char *const header[] = {"ID", "DISTANCE M", "LAT", "LON", "ALT", "ACC", "TIME"};
    fleet_table_t t;
    fleet_table_init(&t, N(header), header);
    for (size_t i = 0; i < n; i++) {
      char lat_c[32], lon_c[32], alt[32], acc[32], when[40], dist[32];
      location_cells(&near[i].location, lat_c, lon_c, alt, acc, when);
      snprintf(dist, sizeof dist, "%.1f", near[i].distance_m);
      const char *row[] = {near[i].device_id, dist, lat_c, lon_c, alt, acc, when};
      fleet_table_row(&t, row);
    }
    if (n == 0)
      printf("(no devices)\n");
    else
      fleet_table_print(&t, "\n", 0);
    fleet_table_free(&t);
  }
  iotkit_free(near);
  fleet_cli_close(&c);
  return code;
}

int cmd_fleet_history(int argc, char **argv) {
  const char *db = NULL, *from = NULL, *to = NULL, *bucket_text = NULL, *cmd = "fleet history";
  bool json = false;
  const cli_opt_t opts[] = {
      FLEET_CLI_COMMON_OPTS(&db, &json), {"from", &from, NULL}, {"to", &to, NULL}, {"bucket-ms", &bucket_text, NULL}};
  const char *pos[2];
  size_t npos = 0;
  if (cli_parse_positional(argc, argv, opts, N(opts), pos, 2, &npos) != CLI_EXIT_OK) return CLI_EXIT_USAGE;
  if (npos != 2) return cli_usage_error("%s: the device ID and the METRIC are required", cmd);
  if (!fleet_cli_check_id(cmd, pos[0])) return CLI_EXIT_USAGE;
  int64_t t1, t2;
  if (!parse_range(cmd, from, to, &t1, &t2)) return CLI_EXIT_USAGE;
  unsigned long bucket = 0;
  if (bucket_text && !cli_parse_num("bucket-ms", bucket_text, 1, 366ul * 86400000ul, &bucket)) return CLI_EXIT_USAGE;
  fleet_cli_t c;
  fleet_cli_init(&c, cmd);
  /* The history a fleet keeps is bounded when it writes (watch --history-points); reading it needs no bound. */
  c.cfg.history_max_points = UINT32_MAX;
  int code = fleet_cli_open(&c, db, false);
  if (code != CLI_EXIT_OK) return code;
  iotkit_fleet_sample_t *s = NULL;
  size_t n = 0;
  iotkit_err_t rc = iotkit_fleet_history(c.fleet, pos[0], pos[1], t1, t2, (int64_t)bucket, &s, &n);
  if (rc != IOTKIT_OK) {
    code = fleet_cli_fail(&c, rc);
  } else if (json) {
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) {
      cJSON *o = cJSON_CreateObject();
      if (!o) break;
      fleet_cli_add_number(o, "ts_ms", (double)s[i].ts_ms);
      fleet_cli_add_number(o, "min", s[i].min);
      fleet_cli_add_number(o, "max", s[i].max);
      fleet_cli_add_number(o, "mean", s[i].mean);
      fleet_cli_add_number(o, "count", (double)s[i].count);
      cJSON_AddItemToArray(a, o);
    }
    code = fleet_cli_print_json(a);
  } else {
    static const char *const raw_header[] = {"TIME", "VALUE"};
    static const char *const bucket_header[] = {"BUCKET START", "MIN", "MAX", "MEAN", "COUNT"};
    fleet_table_t t;
    fleet_table_init(&t, bucket ? 5 : 2, bucket ? bucket_header : raw_header);
    for (size_t i = 0; i < n; i++) {
      char when[40], mn[32], mx[32], mean[32], count[24];
      fleet_cli_time(s[i].ts_ms, when, sizeof when);
      snprintf(mn, sizeof mn, "%.15g", s[i].min);
      snprintf(mx, sizeof mx, "%.15g", s[i].max);
      snprintf(mean, sizeof mean, "%.15g", s[i].mean);
      snprintf(count, sizeof count, "%" PRIu64, s[i].count);
      const char *row[] = {when, mn, mx, mean, count};
      const char *raw[] = {when, mean};
      fleet_table_row(&t, bucket ? row : raw);
    }
    if (n == 0)
      printf("(no points)\n");
    else
      fleet_table_print(&t, "\n", 0);
    fleet_table_free(&t);
  }
  iotkit_free(s);
  fleet_cli_close(&c);
  return code;
}
