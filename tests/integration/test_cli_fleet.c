// requires: fleet
/* `iotkit fleet` against a registry database file, run as a user would run it:
   every registry subcommand's happy path, its --json output parsed, and each
   bad input with its exit code and message. The live ones (watch, and
   positions and history from a real device) are in test_cli_fleet_live.c. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <iotkit/iotkit.h>

#include "cli_run.h"
#include "fleet_fixture.h"

#define CLI IOTKIT_BINARY_DIR "/tools/iotkit/iotkit"

static char dir[] = "/tmp/iotkit-cli-fleet-XXXXXX";
static char db[128];
static cli_result_t r;
static const char *run_dir = dir; /* where cli_run keeps the output files */

static void setup(void) {
  cr_assert_not_null(mkdtemp(dir));
  snprintf(db, sizeof db, "%s/reg.db", dir);
  unsetenv("IOTKIT_FLEET_DB");
}
static void teardown(void) {
  if (!dir[0]) return;
  char cmd[160];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  cr_assert_eq(system(cmd), 0);
}
TestSuite(cli_fleet, .init = setup, .fini = teardown, .timeout = 60);

/* Run `iotkit fleet ARGS...`; the exit status, output in r. */
#define FLEET(...) fleet_run((const char *const[]){"fleet", __VA_ARGS__, NULL})
static int fleet_run(const char *const *args) {
  cli_run(CLI, run_dir, args, &r);
  return r.status;
}

static cJSON *parse_out(void) {
  cJSON *o = cJSON_Parse(r.out);
  cr_assert_not_null(o, "not JSON: %s", r.out);
  return o;
}

static const char *str(const cJSON *o, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  cr_assert(cJSON_IsString(v), "%s is not a string", name);
  return v->valuestring;
}

static double num(const cJSON *o, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  cr_assert(cJSON_IsNumber(v), "%s is not a number", name);
  return v->valuedouble;
}

static void create(const char *id, const char *type, const char *tags) {
  cr_assert_eq(FLEET("create", id, "--db", db, "--type", type, "--tags", tags), 0, "%s", r.err);
}

/* ------------------------------------------------------------ create -- */

Test(cli_fleet, create_then_show_json) {
  cr_assert_eq(FLEET("create", "sensor-1", "--db", db, "--name", "Main hall", "--type", "th-sensor", "--tags",
                     "floor-1,north", "--attributes", "{\"room\": 12}"),
               0, "%s", r.err);
  cr_assert_str_eq(r.out, "created sensor-1\n");
  cr_assert_str_eq(r.err, "");
  cr_assert_eq(FLEET("show", "sensor-1", "--db", db, "--json"), 0, "%s", r.err);
  cJSON *o = parse_out();
  cr_assert_str_eq(str(o, "id"), "sensor-1");
  cr_assert_str_eq(str(o, "name"), "Main hall");
  cr_assert_str_eq(str(o, "type"), "th-sensor");
  const cJSON *tags = cJSON_GetObjectItemCaseSensitive(o, "tags");
  cr_assert_eq(cJSON_GetArraySize(tags), 2);
  cr_assert_str_eq(cJSON_GetArrayItem(tags, 0)->valuestring, "floor-1");
  cr_assert_str_eq(cJSON_GetArrayItem(tags, 1)->valuestring, "north");
  cr_assert_eq(num(cJSON_GetObjectItemCaseSensitive(o, "attributes"), "room"), 12);
  cr_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(o, "online")));
  cr_assert_eq(num(o, "last_seen_ms"), 0);
  cr_assert_gt(num(o, "created_ms"), 1.7e12);
  cr_assert_eq(num(o, "created_ms"), num(o, "updated_ms"));
  const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "presence");
  cr_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(p, "online")));
  cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(p, "status_ts_ms")));
  cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "state")));
  cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "latest")), 0);
  cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "location")));
  cJSON_Delete(o);
}

Test(cli_fleet, create_json_prints_the_record) {
  cr_assert_eq(FLEET("create", "d1", "--db", db, "--json"), 0, "%s", r.err);
  cJSON *o = parse_out();
  cr_assert_str_eq(str(o, "id"), "d1");
  cr_assert_str_eq(str(o, "name"), "");
  cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "tags")), 0);
  cr_assert(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(o, "attributes")));
  cJSON_Delete(o);
}

Test(cli_fleet, show_table) {
  create("d1", "th", "a,b");
  cr_assert_eq(FLEET("show", "d1", "--db", db), 0, "%s", r.err);
  cr_assert(strncmp(r.out, "FIELD       VALUE\nid          d1\nname        \ntype        th\ntags        a,b\n"
                           "attributes  {}\nstatus      offline\nlast seen   never\n", 126) == 0, "%s", r.out);
  cr_assert(strstr(r.out, "\nstate       (none)\nlocation    (none)\n"), "%s", r.out);
}

Test(cli_fleet, duplicate_id_is_7) {
  create("d1", "th", "");
  cr_assert_eq(FLEET("create", "d1", "--db", db), 7);
  char want[400];
  snprintf(want, sizeof want, "iotkit: fleet create: fleet database %s: device d1 is registered already (IOTKIT_ERR_EXISTS)\n", db);
  cr_assert_str_eq(r.err, want);
  cr_assert_str_eq(r.out, "");
}

Test(cli_fleet, invalid_id_characters_are_1) {
  cr_assert_eq(FLEET("create", "a/b", "--db", db), 1);
  cr_assert_str_eq(r.err, "iotkit: fleet create: 'a/b' is not a device id (1..128 of [A-Za-z0-9._-])\n"
                          "Try 'iotkit help'.\n");
  cr_assert_eq(FLEET("show", "d 1", "--db", db), 1);
  cr_assert(strstr(r.err, "'d 1' is not a device id"), "%s", r.err);
  cr_assert_eq(access(db, F_OK), -1, "a refused create made no database");
}

Test(cli_fleet, over_long_id_is_1) {
  char id[140];
  memset(id, 'x', 129);
  id[129] = '\0';
  cr_assert_eq(FLEET("create", id, "--db", db), 1);
  cr_assert(strstr(r.err, "is not a device id (1..128"), "%s", r.err);
}

Test(cli_fleet, malformed_attributes_json_is_1) {
  cr_assert_eq(FLEET("create", "d1", "--db", db, "--attributes", "{\"room\":"), 1);
  cr_assert_str_eq(r.err, "iotkit: fleet create: attributes are not one JSON object (IOTKIT_ERR_BAD_ENCODING)\n");
  cr_assert_eq(FLEET("create", "d1", "--db", db, "--attributes", "[1,2]"), 1);
  cr_assert(strstr(r.err, "(IOTKIT_ERR_BAD_ENCODING)"), "%s", r.err);
  cr_assert_eq(FLEET("show", "d1", "--db", db), 6, "nothing was stored");
}

Test(cli_fleet, bad_type_characters_are_1) {
  cr_assert_eq(FLEET("create", "d1", "--db", db, "--type", "th sensor"), 1);
  cr_assert(strstr(r.err, "iotkit: fleet create: "), "%s", r.err);
  cr_assert(strstr(r.err, "(IOTKIT_ERR_INVALID_ARG)\n"), "%s", r.err);
}

Test(cli_fleet, over_long_name_is_1) {
  char name[IOTKIT_FLEET_MAX_NAME + 2];
  memset(name, 'n', sizeof name - 1);
  name[sizeof name - 1] = '\0';
  cr_assert_eq(FLEET("create", "d1", "--db", db, "--name", name), 1);
  cr_assert(strstr(r.err, "(IOTKIT_ERR_TOO_LARGE)\n"), "%s", r.err);
}

Test(cli_fleet, repeated_tag_is_1) {
  cr_assert_eq(FLEET("create", "d1", "--db", db, "--tags", "a,a"), 1);
  cr_assert(strstr(r.err, "(IOTKIT_ERR_INVALID_ARG)\n"), "%s", r.err);
}

Test(cli_fleet, sql_and_quotes_are_stored_literally) {
  const char *name = "it's \"x\"; DROP TABLE devices; --";
  cr_assert_eq(FLEET("create", "d1", "--db", db, "--name", name, "--tags", "a'b;c", "--attributes",
                     "{\"q\":\"'; DELETE FROM devices\"}"),
               0, "%s", r.err);
  cr_assert_eq(FLEET("list", "--db", db, "--json"), 0, "%s", r.err);
  cJSON *o = parse_out();
  const cJSON *d = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "devices"), 0);
  cr_assert_str_eq(str(d, "name"), name);
  cr_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(d, "tags"), 0)->valuestring, "a'b;c");
  cr_assert_str_eq(str(cJSON_GetObjectItemCaseSensitive(d, "attributes"), "q"), "'; DELETE FROM devices");
  cJSON_Delete(o);
}

Test(cli_fleet, control_characters_do_not_reach_the_table) {
  cr_assert_eq(FLEET("create", "d1", "--db", db, "--name", "a\033[2Jb\nc"), 0, "%s", r.err);
  cr_assert_eq(FLEET("list", "--db", db), 0, "%s", r.err);
  cr_assert_null(strchr(r.out, '\033'), "%s", r.out);
  cr_assert(strstr(r.out, "a?[2Jb?c"), "%s", r.out);
  cr_assert_eq(FLEET("show", "d1", "--db", db, "--json"), 0);
  cJSON *o = parse_out();
  cr_assert_str_eq(str(o, "name"), "a\033[2Jb\nc", "JSON keeps it");
  cJSON_Delete(o);
}

/* ------------------------------------------------- update and delete -- */

Test(cli_fleet, update_changes_only_the_fields_given) {
  cr_assert_eq(FLEET("create", "d1", "--db", db, "--name", "Hall", "--type", "th", "--tags", "a", "--attributes",
                     "{\"x\":1}"),
               0);
  cr_assert_eq(FLEET("update", "d1", "--db", db, "--name", "Main hall"), 0, "%s", r.err);
  cr_assert_str_eq(r.out, "updated d1\n");
  cr_assert_eq(FLEET("update", "d1", "--db", db, "--tags", "", "--json"), 0, "%s", r.err);
  cJSON *o = parse_out();
  cr_assert_str_eq(str(o, "name"), "Main hall");
  cr_assert_str_eq(str(o, "type"), "th");
  cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "tags")), 0);
  cr_assert_eq(num(cJSON_GetObjectItemCaseSensitive(o, "attributes"), "x"), 1);
  cr_assert_geq(num(o, "updated_ms"), num(o, "created_ms"));
  cJSON_Delete(o);
}

Test(cli_fleet, update_unknown_id_is_6) {
  create("d1", "th", "");
  cr_assert_eq(FLEET("update", "d2", "--db", db, "--name", "x"), 6);
  char want[400];
  snprintf(want, sizeof want, "iotkit: fleet update: fleet database %s: no device d2 (IOTKIT_ERR_NOT_FOUND)\n", db);
  cr_assert_str_eq(r.err, want);
}

Test(cli_fleet, update_without_fields_is_1) {
  create("d1", "th", "");
  cr_assert_eq(FLEET("update", "d1", "--db", db), 1);
  cr_assert_str_eq(r.err, "iotkit: fleet update: nothing to change (give --name, --type, --tags or --attributes)\n"
                          "Try 'iotkit help'.\n");
}

Test(cli_fleet, update_malformed_attributes_is_1) {
  create("d1", "th", "");
  cr_assert_eq(FLEET("update", "d1", "--db", db, "--attributes", "nope"), 1);
  cr_assert_str_eq(r.err, "iotkit: fleet update: attributes are not one JSON object (IOTKIT_ERR_BAD_ENCODING)\n");
}

Test(cli_fleet, delete_then_unknown) {
  create("d1", "th", "");
  cr_assert_eq(FLEET("delete", "d1", "--db", db, "--json"), 0, "%s", r.err);
  cJSON *o = parse_out();
  cr_assert_str_eq(str(o, "deleted"), "d1");
  cJSON_Delete(o);
  cr_assert_eq(FLEET("delete", "d1", "--db", db), 6);
  cr_assert(strstr(r.err, "no device d1 (IOTKIT_ERR_NOT_FOUND)\n"), "%s", r.err);
  cr_assert_eq(FLEET("show", "d1", "--db", db), 6);
  cr_assert(strstr(r.err, "iotkit: fleet show: "), "%s", r.err);
}

Test(cli_fleet, missing_id_is_1) {
  cr_assert_eq(FLEET("show", "--db", db), 1);
  cr_assert_str_eq(r.err, "iotkit: fleet show: the device ID is required\nTry 'iotkit help'.\n");
}

/* -------------------------------------------------------------- list -- */

Test(cli_fleet, list_table) {
  create("b-2", "th", "x");
  create("a-1", "gw", "x,y");
  cr_assert_eq(FLEET("list", "--db", db), 0, "%s", r.err);
  cr_assert_str_eq(r.out, "ID   STATUS   LAST SEEN  TYPE  NAME  TAGS\n"
                          "a-1  offline  never      gw          x,y\n"
                          "b-2  offline  never      th          x\n");
}

Test(cli_fleet, list_empty) {
  create("d1", "th", "");
  cr_assert_eq(FLEET("list", "--db", db, "--type", "none"), 0);
  cr_assert_str_eq(r.out, "(no devices)\n");
}

/* The ids of a `list --json` output, comma-joined, and its cursor. */
static void list_ids(char *ids, size_t cap, char *next, size_t ncap) {
  cJSON *o = parse_out();
  ids[0] = '\0';
  const cJSON *d;
  cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(o, "devices")) {
    if (*ids) strncat(ids, ",", cap - strlen(ids) - 1);
    strncat(ids, str(d, "id"), cap - strlen(ids) - 1);
  }
  const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, "next_after");
  snprintf(next, ncap, "%s", cJSON_IsString(n) ? n->valuestring : cJSON_IsNull(n) ? "null" : "?");
  cJSON_Delete(o);
}

Test(cli_fleet, list_filters) {
  create("d1", "th", "floor-1");
  create("d2", "gw", "floor-1,roof");
  create("d3", "th", "roof");
  char ids[128], next[64];
  cr_assert_eq(FLEET("list", "--db", db, "--json", "--type", "th"), 0, "%s", r.err);
  list_ids(ids, sizeof ids, next, sizeof next);
  cr_assert_str_eq(ids, "d1,d3");
  cr_assert_str_eq(next, "null");
  cr_assert_eq(FLEET("list", "--db", db, "--json", "--tag", "roof"), 0);
  list_ids(ids, sizeof ids, next, sizeof next);
  cr_assert_str_eq(ids, "d2,d3");
  cr_assert_eq(FLEET("list", "--db", db, "--json", "--tag", "roof", "--type", "gw"), 0);
  list_ids(ids, sizeof ids, next, sizeof next);
  cr_assert_str_eq(ids, "d2");
  cr_assert_eq(FLEET("list", "--db", db, "--json", "--online"), 0);
  list_ids(ids, sizeof ids, next, sizeof next);
  cr_assert_str_eq(ids, "");
  cr_assert_eq(FLEET("list", "--db", db, "--json", "--offline"), 0);
  list_ids(ids, sizeof ids, next, sizeof next);
  cr_assert_str_eq(ids, "d1,d2,d3");
  /* Never seen: no device matches a last-seen bound. */
  cr_assert_eq(FLEET("list", "--db", db, "--json", "--seen-before", "2100-01-01T00:00:00Z"), 0, "%s", r.err);
  list_ids(ids, sizeof ids, next, sizeof next);
  cr_assert_str_eq(ids, "");
}

Test(cli_fleet, list_pages_with_a_cursor) {
  for (int i = 1; i <= 5; i++) {
    char id[8];
    snprintf(id, sizeof id, "d%d", i);
    create(id, "th", "");
  }
  char ids[128], next[64];
  cr_assert_eq(FLEET("list", "--db", db, "--json", "--limit", "2"), 0, "%s", r.err);
  list_ids(ids, sizeof ids, next, sizeof next);
  cr_assert_str_eq(ids, "d1,d2");
  cr_assert_str_eq(next, "d2");
  cr_assert_eq(FLEET("list", "--db", db, "--json", "--limit", "2", "--after", next), 0);
  list_ids(ids, sizeof ids, next, sizeof next);
  cr_assert_str_eq(ids, "d3,d4");
  cr_assert_eq(FLEET("list", "--db", db, "--json", "--limit", "2", "--after", next), 0);
  list_ids(ids, sizeof ids, next, sizeof next);
  cr_assert_str_eq(ids, "d5");
  cr_assert_str_eq(next, "null");
  cr_assert_eq(FLEET("list", "--db", db, "--limit", "3"), 0);
  cr_assert(strstr(r.out, "\nd3  ") && strstr(r.out, "(more: --after d3)\n"), "%s", r.out);
}

Test(cli_fleet, list_bad_options_are_1) {
  create("d1", "th", "");
  cr_assert_eq(FLEET("list", "--db", db, "--online", "--offline"), 1);
  cr_assert_str_eq(r.err, "iotkit: fleet list: --online and --offline exclude each other\nTry 'iotkit help'.\n");
  cr_assert_eq(FLEET("list", "--db", db, "--limit", "0"), 1);
  cr_assert_str_eq(r.err, "iotkit: option '--limit' wants a number from 1 to 1000, not '0'\nTry 'iotkit help'.\n");
  cr_assert_eq(FLEET("list", "--db", db, "--seen-after", "yesterday"), 1);
  cr_assert_str_eq(r.err, "iotkit: fleet list: --seen-after wants ms since the Unix epoch or a UTC time such as "
                          "2026-01-01T12:00:00Z, not 'yesterday'\nTry 'iotkit help'.\n");
  cr_assert_eq(FLEET("list", "--db", db, "--after", "a/b"), 1);
  cr_assert(strstr(r.err, "'a/b' is not a device id"), "%s", r.err);
  cr_assert_eq(FLEET("list", "--db", db, "--colour"), 1);
  cr_assert_str_eq(r.err, "iotkit: unknown option '--colour'\nTry 'iotkit help'.\n");
}

/* ---------------------------------------------------------- database -- */

Test(cli_fleet, missing_database_is_8) {
  char path[200];
  snprintf(path, sizeof path, "%s/nothing-here.db", dir);
  cr_assert_eq(FLEET("list", "--db", path), 8);
  char want[400];
  snprintf(want, sizeof want,
           "iotkit: fleet list: no registry database at '%s' (No such file or directory); give --db PATH "
           "(default $IOTKIT_FLEET_DB, else ./fleet.db)\n",
           path);
  cr_assert_str_eq(r.err, want);
  cr_assert_eq(access(path, F_OK), -1, "list made no database");
}

/* Without --db: $IOTKIT_FLEET_DB, else ./fleet.db. */
Test(cli_fleet, default_database_without_db) {
  cr_assert_eq(chdir(dir), 0);
  cr_assert_eq(FLEET("list"), 8);
  cr_assert(strstr(r.err, "no registry database at 'fleet.db'"), "%s", r.err);
  cr_assert_eq(FLEET("create", "d1"), 0, "%s", r.err);
  cr_assert_eq(access("fleet.db", F_OK), 0, "create made ./fleet.db");
  cr_assert_eq(FLEET("show", "d1"), 0, "%s", r.err);
  cr_assert_eq(setenv("IOTKIT_FLEET_DB", db, 1), 0);
  cr_assert_eq(FLEET("show", "d1"), 8);
  cr_assert(strstr(r.err, db), "%s", r.err);
  cr_assert_eq(FLEET("create", "d2"), 0, "%s", r.err);
  cr_assert_eq(FLEET("list", "--db", db, "--json"), 0);
  char ids[64], next[32];
  list_ids(ids, sizeof ids, next, sizeof next);
  cr_assert_str_eq(ids, "d2");
}

Test(cli_fleet, empty_db_path_is_1) {
  cr_assert_eq(FLEET("create", "d1", "--db", ""), 1);
  cr_assert_str_eq(r.err, "iotkit: fleet create: --db wants a path (or :memory:)\nTry 'iotkit help'.\n");
  cr_assert_eq(FLEET("list", "--db"), 1);
  cr_assert_str_eq(r.err, "iotkit: option '--db' needs a value\nTry 'iotkit help'.\n");
}

Test(cli_fleet, corrupt_database_is_8) {
  FILE *f = fopen(db, "wb");
  cr_assert_not_null(f);
  for (int i = 0; i < 512; i++) fputs("not a database ", f);
  fclose(f);
  cr_assert_eq(FLEET("list", "--db", db), 8);
  char want[400];
  snprintf(want, sizeof want,
           "iotkit: fleet list: fleet database %s: not an SQLite database, or damaged (file is not a database) "
           "(IOTKIT_ERR_CORRUPT)\n",
           db);
  cr_assert_str_eq(r.err, want);
  cr_assert_eq(FLEET("create", "d1", "--db", db), 8, "create does not replace it");
  cr_assert(strstr(r.err, "(IOTKIT_ERR_CORRUPT)"), "%s", r.err);
}

/* As root, file modes do not bind: this one runs as nobody, in a directory of its own. */
Test(cli_fleet, unreadable_database_is_8) {
  teardown(); /* root's directory: nobody could not remove it */
  dir[0] = '\0';
  if (!fleet_fixture_drop_root()) cr_skip_test("cannot drop root privileges");
  char own[] = "/tmp/iotkit-cli-fleet-nobody-XXXXXX";
  cr_assert_not_null(mkdtemp(own));
  run_dir = own;
  char path[128];
  snprintf(path, sizeof path, "%s/reg.db", own);
  cr_assert_eq(FLEET("create", "d1", "--db", path), 0, "%s", r.err);
  cr_assert_eq(chmod(path, 0), 0);
  cr_assert_eq(FLEET("list", "--db", path), 8);
  cr_assert(strstr(r.err, "iotkit: fleet list: "), "%s", r.err);
  cr_assert(strstr(r.err, path), "%s", r.err);
  cr_assert(strstr(r.err, "(IOTKIT_ERR_IO)\n"), "%s", r.err);
  chmod(path, 0600);
  char cmd[200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", own);
  cr_assert_eq(system(cmd), 0);
}

/* ------------------------------------------------- positions, history -- */

Test(cli_fleet, within_bad_coordinates_are_1) {
  create("d1", "th", "");
  struct {
    const char *lat, *lon, *radius, *want;
  } cases[] = {
      {"90.5", "0", "10", "iotkit: fleet within: --lat wants a number from -90 to 90, not '90.5'\n"},
      {"-91", "0", "10", "iotkit: fleet within: --lat wants a number from -90 to 90, not '-91'\n"},
      {"0", "180.01", "10", "iotkit: fleet within: --lon wants a number from -180 to 180, not '180.01'\n"},
      {"0", "-181", "10", "iotkit: fleet within: --lon wants a number from -180 to 180, not '-181'\n"},
      {"nan", "0", "10", "iotkit: fleet within: --lat wants a number from -90 to 90, not 'nan'\n"},
      {"0", "NaN", "10", "iotkit: fleet within: --lon wants a number from -180 to 180, not 'NaN'\n"},
      {"0", "0", "-1", "iotkit: fleet within: --radius wants a number from 0 to 2.1e+07, not '-1'\n"},
      {"0", "0", "inf", "iotkit: fleet within: --radius wants a number from 0 to 2.1e+07, not 'inf'\n"},
      {"1x", "0", "10", "iotkit: fleet within: --lat wants a number from -90 to 90, not '1x'\n"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cr_assert_eq(FLEET("within", "--db", db, "--lat", cases[i].lat, "--lon", cases[i].lon, "--radius",
                       cases[i].radius),
                 1, "case %zu", i);
    char want[200];
    snprintf(want, sizeof want, "%sTry 'iotkit help'.\n", cases[i].want);
    cr_assert_str_eq(r.err, want, "case %zu", i);
  }
  cr_assert_eq(FLEET("within", "--db", db, "--lat", "0", "--lon", "0"), 1);
  cr_assert(strstr(r.err, "--lat, --lon and --radius are required"), "%s", r.err);
}

Test(cli_fleet, within_no_devices) {
  create("d1", "th", "");
  cr_assert_eq(FLEET("within", "--db", db, "--lat", "-33.5", "--lon", "151", "--radius", "1000"), 0, "%s", r.err);
  cr_assert_str_eq(r.out, "(no devices)\n");
  cr_assert_eq(FLEET("within", "--db", db, "--lat", "-33.5", "--lon", "151", "--radius", "1000", "--json"), 0);
  cr_assert_str_eq(r.out, "[]\n");
}

Test(cli_fleet, locate_unknown_or_unplaced_is_6) {
  create("d1", "th", "");
  cr_assert_eq(FLEET("locate", "d1", "--db", db), 6);
  cr_assert_str_eq(r.err, "iotkit: fleet locate: device d1 has reported no position (IOTKIT_ERR_NOT_FOUND)\n");
  cr_assert_eq(FLEET("locate", "d9", "--db", db), 6);
  cr_assert(strstr(r.err, "(IOTKIT_ERR_NOT_FOUND)\n"), "%s", r.err);
  cr_assert_eq(FLEET("track", "d9", "--db", db), 6);
  cr_assert(strstr(r.err, "iotkit: fleet track: "), "%s", r.err);
  cr_assert_eq(FLEET("history", "d9", "temperature", "--db", db), 6);
  cr_assert(strstr(r.err, "iotkit: fleet history: "), "%s", r.err);
}

Test(cli_fleet, track_and_history_bad_ranges_are_1) {
  create("d1", "th", "");
  cr_assert_eq(FLEET("track", "d1", "--db", db, "--from", "2000", "--to", "1000"), 1);
  cr_assert_str_eq(r.err, "iotkit: fleet track: --from is after --to\nTry 'iotkit help'.\n");
  cr_assert_eq(FLEET("track", "d1", "--db", db, "--from", "2026-13-01T00:00:00Z"), 1);
  cr_assert(strstr(r.err, "--from wants ms since the Unix epoch"), "%s", r.err);
  cr_assert_eq(FLEET("history", "d1", "--db", db), 1);
  cr_assert_str_eq(r.err, "iotkit: fleet history: the device ID and the METRIC are required\nTry 'iotkit help'.\n");
  cr_assert_eq(FLEET("history", "d1", "bad name", "--db", db), 1);
  cr_assert(strstr(r.err, "(IOTKIT_ERR_INVALID_ARG)\n"), "%s", r.err);
  cr_assert_eq(FLEET("history", "d1", "t", "--db", db, "--bucket-ms", "0"), 1);
  cr_assert(strstr(r.err, "option '--bucket-ms' wants a number"), "%s", r.err);
}

Test(cli_fleet, empty_track_and_history) {
  create("d1", "th", "");
  cr_assert_eq(FLEET("track", "d1", "--db", db), 0, "%s", r.err);
  cr_assert_str_eq(r.out, "(no positions)\n");
  cr_assert_eq(FLEET("history", "d1", "temperature", "--db", db, "--json"), 0, "%s", r.err);
  cr_assert_str_eq(r.out, "[]\n");
}

/* -------------------------------------------------- the rest of the CLI -- */

Test(cli_fleet, control_commands_are_wired) {
  /* No longer "not available" (exit 9): each checks its arguments (test_cli_fleet_control.c has the rest). */
  const char *names[] = {"cmd", "desired", "rollout"};
  for (size_t i = 0; i < 3; i++) {
    cr_assert_neq(FLEET(names[i], "d1", "--db", db), 9, "%s", names[i]);
    cr_assert_null(strstr(r.err, "not available"), "%s", r.err);
  }
}

Test(cli_fleet, help_lists_the_fleet) {
  cr_assert_eq(FLEET("--help"), 0);
  const char *words[] = {"fleet list", "watch --uri URI", "history ID METRIC", "cmd ID NAME", "rollout create",
                         "10  fleet cmd: the device answered with an error", "9  not available in this build", "8  fleet: the registry database", "$IOTKIT_FLEET_DB"};
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
    cr_assert(strstr(r.out, words[i]), "'%s' not in the help", words[i]);
}

Test(cli_fleet, unknown_subcommand_is_1) {
  cr_assert_eq(FLEET("frobnicate"), 1);
  cr_assert_str_eq(r.err, "iotkit: unknown command 'fleet frobnicate'\nTry 'iotkit help'.\n");
}
