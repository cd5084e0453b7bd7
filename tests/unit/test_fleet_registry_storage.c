// requires: fleet
/* Fleet registry storage: close and reopen, WAL and the schema version, a second
   process on the same file, and the files refused at open with their own code
   and a text naming the file: locked by another process (BUSY), read-only file or
   directory (IO), garbage or damage (CORRUPT), a newer schema (UNSUPPORTED),
   another application's database (INVALID_ARG). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_run.h"
#include "fleet/fleet_internal.h"
#include "fleet/store_sqlite_internal.h"
#include "fleet_fixture.h"

static fleet_fixture_t fx;

static void setup(void) { fleet_fixture_setup(&fx); }
static void teardown(void) {
  if (fx.dir[0]) chmod(fx.dir, 0700);
  fleet_fixture_teardown(&fx);
}

TestSuite(fleet_storage, .init = setup, .fini = teardown, .timeout = 120);
/* Tests that must set up after dropping root themselves. */
TestSuite(fleet_storage_modes, .fini = teardown, .timeout = 120);

static void close_fleet(void) {
  iotkit_fleet_free(fx.fleet);
  fx.fleet = NULL;
}

/* Run constant SQL on the file with a connection of our own; the first column of the first row into @p out. */
static void raw_sql(const char *path, const char *sql, char *out, size_t cap) {
  sqlite3 *db = NULL;
  cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL), SQLITE_OK);
  sqlite3_stmt *st = NULL;
  const char *tail = sql;
  while (tail && *tail) {
    cr_assert_eq(sqlite3_prepare_v2(db, tail, -1, &st, &tail), SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(db));
    if (!st) break;
    int r = sqlite3_step(st);
    cr_assert(r == SQLITE_ROW || r == SQLITE_DONE, "%s: %s", sql, sqlite3_errmsg(db));
    if (r == SQLITE_ROW && out) snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
}

static void write_file(const char *path, const void *data, size_t len, off_t at, bool truncate) {
  int fd = open(path, O_WRONLY | O_CREAT | (truncate ? O_TRUNC : 0), 0600);
  cr_assert_geq(fd, 0, "open %s", path);
  cr_assert_eq(pwrite(fd, data, len, at), (ssize_t)len);
  close(fd);
}

static void assert_names_file(const char *text) {
  cr_assert(strstr(text, fx.path), "the error text names the file: %s", text);
}

static iotkit_err_t open_again(void) { return fleet_fixture_open(&fx, fx.path, &fx.fleet); }

/* ------------------------------------------------------ persistence -- */

Test(fleet_storage, survives_close_and_reopen) {
  const char *tags[] = {"t1", "it's; DROP"};
  iotkit_fleet_device_spec_t s;
  iotkit_fleet_device_spec_init(&s);
  s.id = "keep-1";
  s.name = "Name \"quoted\"";
  s.type = "kind";
  s.tags = tags;
  s.tag_count = 2;
  s.attributes = "{\"a\":[1,2,3]}";
  cr_assert_eq(iotkit_fleet_device_create(fx.fleet, &s), IOTKIT_OK);
  cr_assert_eq(fleet_fixture_create(fx.fleet, "keep-2", NULL, NULL, 0), IOTKIT_OK);
  cr_assert_eq(fleet_fixture_create(fx.fleet, "gone", NULL, NULL, 0), IOTKIT_OK);
  cr_assert_eq(iotkit_fleet_device_delete(fx.fleet, "gone"), IOTKIT_OK);
  cr_assert_eq(iotkit__fleet_presence(fx.fleet, "keep-2", true, 12345), IOTKIT_OK);

  fleet_fixture_reopen(&fx);
  iotkit_fleet_device_t *d = NULL;
  cr_assert_eq(iotkit_fleet_device_get(fx.fleet, "keep-1", &d), IOTKIT_OK);
  cr_assert_str_eq(d->name, s.name);
  cr_assert_str_eq(d->type, "kind");
  cr_assert_eq(d->tag_count, 2);
  cr_assert_str_eq(d->tags[1], "it's; DROP");
  cr_assert_str_eq(d->attributes, s.attributes);
  cr_assert_eq(d->created_ms, FLEET_FIXTURE_T0_MS);
  iotkit_fleet_device_free(d);
  cr_assert_eq(iotkit_fleet_device_get(fx.fleet, "keep-2", &d), IOTKIT_OK);
  cr_assert(d->online);
  cr_assert_eq(d->last_seen_ms, 12345);
  iotkit_fleet_device_free(d);
  d = NULL;
  cr_assert_eq(iotkit_fleet_device_get(fx.fleet, "gone", &d), IOTKIT_ERR_NOT_FOUND);
  uint64_t n = 0;
  cr_assert_eq(iotkit_fleet_count(fx.fleet, NULL, &n), IOTKIT_OK);
  cr_assert_eq(n, 2);
}

Test(fleet_storage, wal_mode_and_schema_version) {
  char out[64] = "";
  raw_sql(fx.path, "PRAGMA journal_mode", out, sizeof(out));
  cr_assert_str_eq(out, "wal");
  raw_sql(fx.path, "PRAGMA user_version", out, sizeof(out));
  cr_assert_eq(atoi(out), (int)iotkit__sq_schema_version);
  raw_sql(fx.path, "PRAGMA application_id", out, sizeof(out));
  cr_assert_eq(atoi(out), IOTKIT__SQ_APPLICATION_ID);
  /* Reopening an up-to-date file runs no migration (it would fail: the tables exist). */
  fleet_fixture_reopen(&fx);
  fleet_fixture_reopen(&fx);
}

Test(fleet_storage, two_handles_on_one_file) {
  iotkit_fleet_t *other = NULL;
  cr_assert_eq(fleet_fixture_open(&fx, fx.path, &other), IOTKIT_OK, "%s", fx.err);
  cr_assert_eq(fleet_fixture_create(fx.fleet, "from-a", NULL, NULL, 0), IOTKIT_OK);
  cr_assert_eq(fleet_fixture_create(other, "from-b", NULL, NULL, 0), IOTKIT_OK);
  cr_assert_eq(fleet_fixture_create(other, "from-a", NULL, NULL, 0), IOTKIT_ERR_EXISTS);
  iotkit_fleet_device_t *d = NULL;
  cr_assert_eq(iotkit_fleet_device_get(fx.fleet, "from-b", &d), IOTKIT_OK);
  iotkit_fleet_device_free(d);
  cr_assert_eq(iotkit_fleet_device_get(other, "from-a", &d), IOTKIT_OK);
  iotkit_fleet_device_free(d);
  iotkit_fleet_free(other);
}

Test(fleet_storage, second_process_sees_the_same_registry) {
  const char *tags[] = {"x;y", "'q'"};
  iotkit_fleet_device_spec_t s;
  iotkit_fleet_device_spec_init(&s);
  s.id = "shared-1";
  s.name = "a'b";
  s.type = "t";
  s.tags = tags;
  s.tag_count = 2;
  s.attributes = "{\"k\":\"v\"}";
  cr_assert_eq(iotkit_fleet_device_create(fx.fleet, &s), IOTKIT_OK);
  cr_assert_eq(fleet_fixture_create(fx.fleet, "shared-2", NULL, NULL, 0), IOTKIT_OK);

  /* The parent keeps its fleet open while the peer reads and writes the file. */
  static cli_result_t r;
  const char *list[] = {"list", fx.path, NULL};
  cli_run(fleet_fixture_peer(), fx.dir, list, &r);
  cr_assert_eq(r.status, 0, "%s", r.err);
  cr_assert_str_eq(r.out, "shared-1|a'b|t|x;y,'q'|{\"k\":\"v\"}\nshared-2||||{}\n");

  const char *create[] = {"create", fx.path, "from-peer", NULL};
  cli_run(fleet_fixture_peer(), fx.dir, create, &r);
  cr_assert_eq(r.status, 0, "%s", r.err);
  iotkit_fleet_device_t *d = NULL;
  cr_assert_eq(iotkit_fleet_device_get(fx.fleet, "from-peer", &d), IOTKIT_OK, "the parent sees the peer's write");
  cr_assert_str_eq(d->type, "peer");
  iotkit_fleet_device_free(d);

  const char *again[] = {"create", fx.path, "shared-1", NULL};
  cli_run(fleet_fixture_peer(), fx.dir, again, &r);
  cr_assert_eq(r.status, 1);
  cr_assert(strstr(r.err, "IOTKIT_ERR_EXISTS"), "%s", r.err);

  cr_assert_eq(fleet_fixture_create(fx.fleet, "from-parent", NULL, NULL, 0), IOTKIT_OK);
  cli_run(fleet_fixture_peer(), fx.dir, list, &r);
  cr_assert_eq(r.status, 0, "%s", r.err);
  cr_assert(strstr(r.out, "from-parent|"), "%s", r.out);
  cr_assert(strstr(r.out, "from-peer||peer|"), "%s", r.out);
}

/* --------------------------------------------------------- locking -- */

typedef struct {
  pid_t pid;
  int in; /* the peer's stdin: closing it releases the lock */
} locker_t;

/* Start `fleet_peer lock <path>` and wait until it holds the lock. */
static locker_t lock_file(const char *path) {
  int in[2], out[2];
  cr_assert_eq(pipe(in), 0);
  cr_assert_eq(pipe(out), 0);
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    close(in[0]), close(in[1]), close(out[0]), close(out[1]);
    execl(fleet_fixture_peer(), "fleet_peer", "lock", path, (char *)NULL);
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  char buf[16] = "";
  struct pollfd p = {.fd = out[0], .events = POLLIN};
  cr_assert_eq(poll(&p, 1, 20000), 1, "the locker did not answer");
  cr_assert_gt(read(out[0], buf, sizeof(buf) - 1), 0);
  cr_assert_str_eq(buf, "locked\n");
  close(out[0]);
  return (locker_t){.pid = pid, .in = in[1]};
}

static void unlock_file(locker_t *l) {
  close(l->in);
  int status = 0;
  cr_assert_eq(waitpid(l->pid, &status, 0), l->pid);
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

Test(fleet_storage, locked_by_another_process_is_busy_at_open) {
  cr_assert_eq(fleet_fixture_create(fx.fleet, "before", NULL, NULL, 0), IOTKIT_OK);
  close_fleet();
  locker_t l = lock_file(fx.path);
  iotkit_fleet_t *fleet = (iotkit_fleet_t *)0x1;
  cr_assert_eq(fleet_fixture_open(&fx, fx.path, &fleet), IOTKIT_ERR_BUSY);
  cr_assert_eq(fleet, (iotkit_fleet_t *)0x1);
  assert_names_file(fx.err);
  cr_assert(strstr(fx.err, "locked"), "%s", fx.err);
  cr_assert(strstr(iotkit_hal_memory_log(fx.hal), "locked"), "logged too");
  unlock_file(&l);
  cr_assert_eq(open_again(), IOTKIT_OK, "%s", fx.err);
  iotkit_fleet_device_t *d = NULL;
  cr_assert_eq(iotkit_fleet_device_get(fx.fleet, "before", &d), IOTKIT_OK);
  iotkit_fleet_device_free(d);
}

Test(fleet_storage, locked_while_open_writes_are_busy_reads_go_on) {
  cr_assert_eq(fleet_fixture_create(fx.fleet, "r1", NULL, NULL, 0), IOTKIT_OK);
  locker_t l = lock_file(fx.path);
  cr_assert_eq(fleet_fixture_create(fx.fleet, "w1", NULL, NULL, 0), IOTKIT_ERR_BUSY);
  char err[IOTKIT_ERROR_TEXT_SIZE];
  assert_names_file(iotkit_fleet_last_error(fx.fleet, err, sizeof(err)));
  iotkit_fleet_device_t *d = NULL;
  cr_assert_eq(iotkit_fleet_device_get(fx.fleet, "r1", &d), IOTKIT_OK, "WAL: a reader is not blocked by the lock");
  iotkit_fleet_device_free(d);
  unlock_file(&l);
  cr_assert_eq(fleet_fixture_create(fx.fleet, "w1", NULL, NULL, 0), IOTKIT_OK);
}

/* ------------------------------------------------------ bad files -- */

Test(fleet_storage, missing_directory_is_io) {
  close_fleet();
  char path[400];
  snprintf(path, sizeof(path), "%s/no/such/dir/fleet.db", fx.dir);
  iotkit_fleet_t *fleet = NULL;
  cr_assert_eq(fleet_fixture_open(&fx, path, &fleet), IOTKIT_ERR_IO);
  cr_assert(strstr(fx.err, path), "%s", fx.err);
  cr_assert(strstr(fx.err, "cannot open or create"), "%s", fx.err);
}

Test(fleet_storage, directory_as_path_is_io) {
  close_fleet();
  iotkit_fleet_t *fleet = NULL;
  cr_assert_eq(fleet_fixture_open(&fx, fx.dir, &fleet), IOTKIT_ERR_IO);
}

Test(fleet_storage, garbage_file_is_corrupt) {
  close_fleet();
  unsigned char junk[8192];
  for (size_t i = 0; i < sizeof(junk); i++) junk[i] = (unsigned char)(i * 131u + 7u);
  write_file(fx.path, junk, sizeof(junk), 0, true);
  cr_assert_eq(open_again(), IOTKIT_ERR_CORRUPT, "%s", fx.err);
  assert_names_file(fx.err);
  cr_assert(strstr(fx.err, "not an SQLite database"), "%s", fx.err);
  /* Refused, not repaired: the bytes are as they were. */
  unsigned char back[sizeof(junk)];
  int fd = open(fx.path, O_RDONLY);
  cr_assert_eq(read(fd, back, sizeof(back)), (ssize_t)sizeof(back));
  close(fd);
  cr_assert_eq(memcmp(back, junk, sizeof(junk)), 0);
}

Test(fleet_storage, damaged_header_is_corrupt) {
  close_fleet();
  write_file(fx.path, "garbage garbage!", 16, 0, false);
  cr_assert_eq(open_again(), IOTKIT_ERR_CORRUPT, "%s", fx.err);
  assert_names_file(fx.err);
}

Test(fleet_storage, damaged_page_found_by_integrity_check) {
  for (int i = 0; i < 400; i++) {
    char id[16];
    snprintf(id, sizeof(id), "p%03d", i);
    const char *tags[] = {"some-tag", "other-tag"};
    cr_assert_eq(fleet_fixture_create(fx.fleet, id, "type", tags, 2), IOTKIT_OK);
  }
  close_fleet();
  struct stat st;
  cr_assert_eq(stat(fx.path, &st), 0);
  cr_assert_gt(st.st_size, 8 * 4096, "several pages");
  unsigned char junk[4096];
  memset(junk, 0xa5, sizeof(junk));
  write_file(fx.path, junk, sizeof(junk), 3 * 4096, false); /* page 4, a b-tree page */
  iotkit_fleet_config_t cfg;
  iotkit_fleet_config_init(&cfg);
  cfg.db_path = fx.path;
  cfg.hal = fx.hal;
  cfg.integrity_check = true;
  cfg.error_buf = fx.err;
  cfg.error_buf_size = sizeof(fx.err);
  cr_assert_eq(iotkit_fleet_new(&cfg, &fx.fleet), IOTKIT_ERR_CORRUPT, "%s", fx.err);
  assert_names_file(fx.err);
  cr_assert(strstr(fx.err, "damaged"), "%s", fx.err);
}

Test(fleet_storage, newer_schema_is_refused) {
  close_fleet();
  raw_sql(fx.path, "PRAGMA user_version = 99", NULL, 0);
  cr_assert_eq(open_again(), IOTKIT_ERR_UNSUPPORTED, "%s", fx.err);
  assert_names_file(fx.err);
  cr_assert(strstr(fx.err, "99") && strstr(fx.err, "newer"), "%s", fx.err);
  char out[16] = "";
  raw_sql(fx.path, "PRAGMA user_version", out, sizeof(out));
  cr_assert_str_eq(out, "99", "the file is left as it was");
}

Test(fleet_storage, another_applications_database_is_refused) {
  close_fleet();
  char other[400];
  snprintf(other, sizeof(other), "%s/other.db", fx.dir);
  raw_sql(other, "CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT)", NULL, 0);
  iotkit_fleet_t *fleet = NULL;
  cr_assert_eq(fleet_fixture_open(&fx, other, &fleet), IOTKIT_ERR_INVALID_ARG);
  cr_assert(strstr(fx.err, "not a fleet database"), "%s", fx.err);
  char out[32] = "";
  raw_sql(other, "SELECT count(*) FROM sqlite_master", out, sizeof(out));
  cr_assert_str_eq(out, "1", "no table of ours was added");

  snprintf(other, sizeof(other), "%s/app.db", fx.dir);
  raw_sql(other, "PRAGMA application_id = 305419896", NULL, 0);
  cr_assert_eq(fleet_fixture_open(&fx, other, &fleet), IOTKIT_ERR_INVALID_ARG);
  cr_assert(strstr(fx.err, "0x12345678"), "%s", fx.err);
}

Test(fleet_storage, empty_file_becomes_a_registry) {
  close_fleet();
  unlink(fx.path);
  write_file(fx.path, "", 0, 0, true);
  cr_assert_eq(open_again(), IOTKIT_OK, "%s", fx.err);
  cr_assert_eq(fleet_fixture_create(fx.fleet, "first", NULL, NULL, 0), IOTKIT_OK);
}

/* The migration steps run in one transaction: a step that fails leaves nothing behind. */
Test(fleet_storage, failed_migration_rolls_back) {
  close_fleet();
  char path[400];
  snprintf(path, sizeof(path), "%s/half.db", fx.dir);
  /* Ours by its id, version 0, but one of the tables step 1 creates is already there. */
  raw_sql(path, "PRAGMA application_id = 1229935686; CREATE TABLE device_tags (x)", NULL, 0);
  iotkit_fleet_t *fleet = NULL;
  cr_assert_eq(fleet_fixture_open(&fx, path, &fleet), IOTKIT_ERR_CORRUPT, "%s", fx.err);
  cr_assert(strstr(fx.err, "schema does not match"), "%s", fx.err);
  char out[32] = "";
  raw_sql(path, "SELECT count(*) FROM sqlite_master WHERE name = 'devices'", out, sizeof(out));
  cr_assert_str_eq(out, "0", "the devices table of step 1 was rolled back");
  raw_sql(path, "PRAGMA user_version", out, sizeof(out));
  cr_assert_str_eq(out, "0");
}

/* ---------------------------------------------- read-only file modes -- */

/* As root, file modes do not bind: these run as nobody. */
static void setup_unprivileged(void) {
  if (!fleet_fixture_drop_root()) cr_skip_test("cannot drop root privileges");
  fleet_fixture_setup(&fx);
  cr_assert_eq(fleet_fixture_create(fx.fleet, "ro-1", NULL, NULL, 0), IOTKIT_OK);
  close_fleet();
}

Test(fleet_storage_modes, read_only_file_is_io) {
  setup_unprivileged();
  cr_assert_eq(chmod(fx.path, 0444), 0);
  cr_assert_eq(open_again(), IOTKIT_ERR_IO, "%s", fx.err);
  assert_names_file(fx.err);
  cr_assert(strstr(fx.err, "read-only"), "%s", fx.err);
  /* Writable again, it opens (SQLite gave the -wal and -shm files the file's mode, too). */
  cr_assert_eq(chmod(fx.path, 0644), 0);
  const char *side[] = {"-wal", "-shm"};
  for (size_t i = 0; i < 2; i++) {
    char p[400];
    snprintf(p, sizeof(p), "%s%s", fx.path, side[i]);
    (void)chmod(p, 0644);
  }
  cr_assert_eq(open_again(), IOTKIT_OK, "%s", fx.err);
}

Test(fleet_storage_modes, read_only_directory_is_io) {
  setup_unprivileged();
  cr_assert_eq(chmod(fx.dir, 0555), 0);
  iotkit_err_t rc = open_again();
  cr_assert_eq(rc, IOTKIT_ERR_IO, "%s: %s", iotkit_err_name(rc), fx.err);
  assert_names_file(fx.err);
  cr_assert(strstr(fx.err, "not writable"), "%s", fx.err);
}

Test(fleet_storage_modes, new_file_in_read_only_directory_is_io) {
  setup_unprivileged();
  cr_assert_eq(chmod(fx.dir, 0555), 0);
  char path[400];
  snprintf(path, sizeof(path), "%s/new.db", fx.dir);
  iotkit_fleet_t *fleet = NULL;
  iotkit_err_t rc = fleet_fixture_open(&fx, path, &fleet);
  cr_assert_eq(rc, IOTKIT_ERR_IO, "%s: %s", iotkit_err_name(rc), fx.err);
  cr_assert(strstr(fx.err, path), "%s", fx.err);
  cr_assert(strstr(fx.err, "cannot open or create"), "%s", fx.err);
}
