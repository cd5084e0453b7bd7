/*
 * A second process for the fleet registry tests (run by fork + exec):
 *   fleet_peer list <db>        print every record, one per line: id|name|type|tag,tag|attributes
 *   fleet_peer create <db> <id> create a record (type "peer"); exit 0, or 1 with the error name on stderr
 *   fleet_peer lock <db>        take SQLite's write lock (BEGIN EXCLUSIVE) on <db>, print "locked",
 *                               hold it until stdin reaches end of file, then release it
 *   fleet_peer ingest <db> <uri> a fleet on <db> following the broker <uri> (auto-registration on,
 *                               telemetry history of 1,000,000 points per metric), on its own thread;
 *                               prints "ready" once its session is reconciled, then every 10 ms
 *                               "seen N" (telemetry messages decoded so far), never syncing: what
 *                               reaches the file is written by the fleet's own batched flushes.
 *                               Runs until killed (the crash test's SIGKILL) or stdin's end of file.
 */
#include <poll.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <iotkit/iotkit.h>

static int open_fleet(const char *db, iotkit_hal_t **hal, iotkit_fleet_t **fleet) {
  if (iotkit_hal_memory_new(NULL, hal) != IOTKIT_OK) return 1;
  char err[IOTKIT_ERROR_TEXT_SIZE] = "";
  iotkit_fleet_config_t cfg;
  iotkit_fleet_config_init(&cfg);
  cfg.db_path = db;
  cfg.hal = *hal;
  cfg.error_buf = err;
  cfg.error_buf_size = sizeof(err);
  iotkit_err_t rc = iotkit_fleet_new(&cfg, fleet);
  if (rc != IOTKIT_OK) {
    fprintf(stderr, "%s: %s\n", iotkit_err_name(rc), err);
    iotkit_hal_free(*hal);
    return 1;
  }
  return 0;
}

static int cmd_list(const char *db) {
  iotkit_hal_t *hal;
  iotkit_fleet_t *fleet;
  if (open_fleet(db, &hal, &fleet)) return 1;
  char *after = NULL;
  int status = 0;
  for (;;) {
    iotkit_fleet_page_t *page = NULL;
    iotkit_err_t rc = iotkit_fleet_list(fleet, NULL, after, 100, &page);
    if (rc != IOTKIT_OK) {
      fprintf(stderr, "%s\n", iotkit_err_name(rc));
      status = 1;
      break;
    }
    for (size_t i = 0; i < page->count; i++) {
      const iotkit_fleet_device_t *d = page->devices[i];
      printf("%s|%s|%s|", d->id, d->name, d->type);
      for (size_t t = 0; t < d->tag_count; t++) printf("%s%s", t ? "," : "", d->tags[t]);
      printf("|%s\n", d->attributes);
    }
    free(after);
    after = page->next_after ? strdup(page->next_after) : NULL;
    iotkit_fleet_page_free(page);
    if (!after) break;
  }
  free(after);
  iotkit_fleet_free(fleet);
  iotkit_hal_free(hal);
  return status;
}

static int cmd_create(const char *db, const char *id) {
  iotkit_hal_t *hal;
  iotkit_fleet_t *fleet;
  if (open_fleet(db, &hal, &fleet)) return 1;
  iotkit_fleet_device_spec_t spec;
  iotkit_fleet_device_spec_init(&spec);
  spec.id = id;
  spec.type = "peer";
  iotkit_err_t rc = iotkit_fleet_device_create(fleet, &spec);
  if (rc != IOTKIT_OK) fprintf(stderr, "%s\n", iotkit_err_name(rc));
  iotkit_fleet_free(fleet);
  iotkit_hal_free(hal);
  return rc == IOTKIT_OK ? 0 : 1;
}

static int cmd_lock(const char *db) {
  sqlite3 *conn = NULL;
  if (sqlite3_open_v2(db, &conn, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
    fprintf(stderr, "open: %s\n", sqlite3_errmsg(conn));
    return 1;
  }
  sqlite3_busy_timeout(conn, 5000);
  if (sqlite3_exec(conn, "BEGIN EXCLUSIVE", NULL, NULL, NULL) != SQLITE_OK) {
    fprintf(stderr, "lock: %s\n", sqlite3_errmsg(conn));
    return 1;
  }
  printf("locked\n");
  fflush(stdout);
  char buf[64];
  while (fread(buf, 1, sizeof(buf), stdin) > 0) {
  }
  sqlite3_exec(conn, "ROLLBACK", NULL, NULL, NULL);
  sqlite3_close(conn);
  return 0;
}

static int cmd_ingest(const char *db, const char *uri) {
  iotkit_hal_t *hal;
  if (iotkit_hal_memory_new(NULL, &hal) != IOTKIT_OK) return 1;
  char err[IOTKIT_ERROR_TEXT_SIZE] = "";
  iotkit_fleet_config_t cfg;
  iotkit_fleet_config_init(&cfg);
  cfg.db_path = db;
  cfg.hal = hal;
  cfg.uri = uri;
  cfg.auto_register = true;
  cfg.history_max_points = 1000000;
  cfg.error_buf = err;
  cfg.error_buf_size = sizeof(err);
  iotkit_fleet_t *fleet = NULL;
  iotkit_err_t rc = iotkit_fleet_new(&cfg, &fleet);
  if (rc == IOTKIT_OK) rc = iotkit_fleet_start(fleet);
  if (rc != IOTKIT_OK) {
    fprintf(stderr, "%s: %s\n", iotkit_err_name(rc), err);
    return 1;
  }
  iotkit_fleet_stats_t s;
  bool ready = false;
  for (;;) {
    struct pollfd in = {.fd = 0, .events = POLLIN};
    if (poll(&in, 1, 10) > 0) {
      char buf[64];
      if (read(0, buf, sizeof buf) <= 0) break;
    }
    iotkit_fleet_stats(fleet, &s);
    if (!ready && s.reconciliations > 0) {
      ready = true;
      printf("ready\n");
    }
    if (ready) printf("seen %llu\n", (unsigned long long)s.telemetry);
    fflush(stdout);
  }
  iotkit_fleet_free(fleet);
  iotkit_hal_free(hal);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "ingest") == 0) return cmd_ingest(argv[2], argv[3]);
  if (argc == 3 && strcmp(argv[1], "list") == 0) return cmd_list(argv[2]);
  if (argc == 4 && strcmp(argv[1], "create") == 0) return cmd_create(argv[2], argv[3]);
  if (argc == 3 && strcmp(argv[1], "lock") == 0) return cmd_lock(argv[2]);
  fprintf(stderr, "usage: fleet_peer list|create|lock <db> [id] | ingest <db> <uri>\n");
  return 2;
}
