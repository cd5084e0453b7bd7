/*
 * A second process for the fleet registry tests (run by fork + exec):
 *   fleet_peer list <db>        print every record, one per line: id|name|type|tag,tag|attributes
 *   fleet_peer create <db> <id> create a record (type "peer"); exit 0, or 1 with the error name on stderr
 *   fleet_peer lock <db>        take SQLite's write lock (BEGIN EXCLUSIVE) on <db>, print "locked",
 *                               hold it until stdin reaches end of file, then release it
 *   fleet_peer rollout <db> <uri> <pub key> <manifest file> <id> <count>,<count>,...
 *                               connect, create rollout <id> of the manifest to every registered
 *                               device in groups of those counts (success 100 %, error 0 %),
 *                               start it and drive it until killed (the rollout tests SIGKILL it)
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

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = calloc(1, 1 << 16);
  *len = buf ? fread(buf, 1, (1 << 16) - 1, f) : 0;
  fclose(f);
  while (buf && *len && (buf[*len - 1] == '\n' || buf[*len - 1] == '\r')) buf[--*len] = '\0';
  return buf;
}

static int cmd_rollout(char **a) {
  iotkit_hal_t *hal = NULL;
  if (iotkit_hal_memory_new(NULL, &hal) != IOTKIT_OK) return 1;
  iotkit_fleet_config_t cfg;
  iotkit_fleet_config_init(&cfg);
  cfg.db_path = a[0];
  cfg.hal = hal;
  cfg.uri = a[1];
  iotkit_fleet_t *fleet = NULL;
  size_t pem_len = 0, m_len = 0;
  char *pem = slurp(a[2], &pem_len), *manifest = slurp(a[3], &m_len);
  iotkit_ota_trust_t *trust = NULL;
  iotkit_err_t rc = pem && manifest ? iotkit_ota_trust_new(&trust) : IOTKIT_ERR_IO;
  if (rc == IOTKIT_OK) rc = iotkit_ota_trust_add_pem(trust, "iotkit", pem, pem_len);
  if (rc == IOTKIT_OK) rc = iotkit_fleet_new(&cfg, &fleet);
  if (rc == IOTKIT_OK) rc = iotkit_fleet_set_ota_trust(fleet, trust);
  if (rc == IOTKIT_OK) rc = iotkit_fleet_connect(fleet);
  if (rc == IOTKIT_OK) rc = iotkit_fleet_start(fleet);
  iotkit_fleet_group_spec_t groups[8];
  size_t n = 0;
  for (char *c = strtok(a[5], ","); c && n < 8; c = strtok(NULL, ",")) {
    iotkit_fleet_group_spec_init(&groups[n]);
    groups[n].count = strtoul(c, NULL, 10);
    groups[n].success_pct = 100;
    groups[n++].error_pct = 0;
  }
  iotkit_fleet_filter_t all;
  iotkit_fleet_filter_init(&all);
  iotkit_fleet_rollout_spec_t spec;
  iotkit_fleet_rollout_spec_init(&spec);
  spec.id = a[4];
  spec.manifest = manifest;
  spec.manifest_len = m_len;
  spec.filter = &all;
  spec.groups = groups;
  spec.group_count = n;
  if (rc == IOTKIT_OK) rc = iotkit_fleet_rollout_create(fleet, &spec);
  if (rc == IOTKIT_OK) rc = iotkit_fleet_rollout_start(fleet, a[4]);
  if (rc != IOTKIT_OK) {
    char why[IOTKIT_ERROR_TEXT_SIZE] = "";
    fprintf(stderr, "%s: %s\n", iotkit_err_name(rc), fleet ? iotkit_fleet_last_error(fleet, why, sizeof why) : "");
    iotkit_fleet_free(fleet);
    iotkit_ota_trust_free(trust);
    free(pem);
    free(manifest);
    iotkit_hal_free(hal);
    return 1;
  }
  printf("started\n");
  fflush(stdout);
  for (;;) hal->sleep_ms(hal->ctx, 1000); /* until killed */
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
  if (argc == 8 && strcmp(argv[1], "rollout") == 0) return cmd_rollout(argv + 2);
  if (argc == 4 && strcmp(argv[1], "ingest") == 0) return cmd_ingest(argv[2], argv[3]);
  if (argc == 3 && strcmp(argv[1], "list") == 0) return cmd_list(argv[2]);
  if (argc == 4 && strcmp(argv[1], "create") == 0) return cmd_create(argv[2], argv[3]);
  if (argc == 3 && strcmp(argv[1], "lock") == 0) return cmd_lock(argv[2]);
  fprintf(stderr, "usage: fleet_peer list|create|lock <db> [id] | ingest <db> <uri> | rollout <db> <uri> <pem> <manifest> <id> <counts>\n");
  return 2;
}
