// requires: mqtt fleet
/* `iotkit fleet` with a real mosquitto and real device handles: positions,
   track, radius search, history and latest values written by a fleet and read
   back from the command line; `watch` as plain lines (stdout a file) and as a
   redrawn table (stdout a pty), a device going online and offline, SIGINT and
   SIGTERM ending it with exit 0 and the terminal restored. */
#include <criterion/criterion.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli_run.h"
#include "fleet_live.h"
#include "net_util.h"

#define CLI IOTKIT_BINARY_DIR "/tools/iotkit/iotkit"
#define WAIT_MS 15000
#define T0 1767225600000LL

static fleet_live_t fx;
static cli_result_t r;
static char out_path[400], err_path[400];

static void setup(void) {
  fleet_live_setup(&fx, false);
  snprintf(out_path, sizeof out_path, "%s/watch.out", fx.dir);
  snprintf(err_path, sizeof err_path, "%s/watch.err", fx.dir);
}
static void teardown(void) {
  unlink(out_path);
  unlink(err_path);
  fleet_live_teardown(&fx);
}
TestSuite(cli_fleet_live, .init = setup, .fini = teardown, .timeout = 90);

#define FLEET(...) fleet_run((const char *const[]){"fleet", __VA_ARGS__, NULL})
static int fleet_run(const char *const *args) {
  cli_run(CLI, fx.dir, args, &r);
  return r.status;
}

static cJSON *parse_out(void) {
  cJSON *o = cJSON_Parse(r.out);
  cr_assert_not_null(o, "not JSON: %s", r.out);
  return o;
}

static double num(const cJSON *o, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  cr_assert(cJSON_IsNumber(v), "%s is not a number", name);
  return v->valuedouble;
}

/* ---------------------------------------- data written by a live fleet -- */

static bool located(void *arg) {
  int want = *(int *)arg;
  return fleet_live_count(&fx, &fx.locations) >= want;
}
static bool got_telemetry(void *arg) {
  int want = *(int *)arg;
  return fleet_live_count(&fx, &fx.telemetry) >= want;
}

/* A fleet (history on) follows two real devices; then the CLI reads what it stored. */
static void record_two_devices(void) {
  fx.cfg.history_max_points = 100;
  fleet_live_open(&fx);
  fleet_live_register(&fx, "car");
  fleet_live_register(&fx, "van");
  iotkit_device_t *car = fleet_live_device(&fx, "car");
  iotkit_device_t *van = fleet_live_device(&fx, "van");
  for (int i = 0; i < 3; i++) {
    iotkit_location_t l = {.latitude = 48.85 + i * 0.01, .longitude = 2.35, .ts_ms = T0 + i * 1000,
                           .accuracy_m = 4, .has_accuracy = true};
    cr_assert_eq(iotkit_device_report_location(car, &l), IOTKIT_OK);
    char json[96];
    int n = snprintf(json, sizeof json, "{\"ts\":%lld,\"temperature\":%d}", (long long)(T0 + i * 1000), 20 + i);
    cr_assert_eq(iotkit_device_send_telemetry(car, json, (size_t)n, NULL), IOTKIT_OK);
  }
  iotkit_location_t far = {.latitude = -33.86, .longitude = 151.21, .ts_ms = T0};
  cr_assert_eq(iotkit_device_report_location(van, &far), IOTKIT_OK);
  int want = 4, tel = 3;
  cr_assert(fleet_live_wait(located, &want, WAIT_MS), "the fleet saw %d positions", fleet_live_count(&fx, &fx.locations));
  cr_assert(fleet_live_wait(got_telemetry, &tel, WAIT_MS));
  cr_assert_eq(iotkit_fleet_sync(fx.fleet), IOTKIT_OK);
  fleet_live_close(&fx); /* everything is on disk */
}

Test(cli_fleet_live, locate_track_within_history_show) {
  record_two_devices();
  cr_assert_eq(FLEET("locate", "car", "--db", fx.db, "--json"), 0, "%s", r.err);
  cJSON *o = parse_out();
  cr_assert_eq(num(o, "lat"), 48.85 + 2 * 0.01);
  cr_assert_eq(num(o, "lon"), 2.35);
  cr_assert_eq(num(o, "acc"), 4);
  cr_assert_eq(num(o, "ts_ms"), (double)(T0 + 2000));
  cr_assert_null(cJSON_GetObjectItemCaseSensitive(o, "alt"));
  cJSON_Delete(o);
  cr_assert_eq(FLEET("locate", "car", "--db", fx.db), 0, "%s", r.err);
  cr_assert_str_eq(r.out, "LAT         LON        ALT  ACC  TIME\n"
                          "48.8700000  2.3500000  -    4.0  2026-01-01T00:00:02.000Z\n");

  cr_assert_eq(FLEET("track", "car", "--db", fx.db, "--json", "--from", "2026-01-01T00:00:00.500Z"), 0, "%s", r.err);
  o = parse_out();
  cr_assert_eq(cJSON_GetArraySize(o), 2);
  cr_assert_eq(num(cJSON_GetArrayItem(o, 0), "lat"), 48.85 + 0.01);
  cr_assert_eq(num(cJSON_GetArrayItem(o, 1), "lat"), 48.85 + 0.02);
  cJSON_Delete(o);

  cr_assert_eq(FLEET("within", "--db", fx.db, "--lat", "48.87", "--lon", "2.36", "--radius", "1000", "--json"), 0,
               "%s", r.err);
  o = parse_out();
  cr_assert_eq(cJSON_GetArraySize(o), 1, "%s", r.out);
  const cJSON *hit = cJSON_GetArrayItem(o, 0);
  cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(hit, "id")->valuestring, "car");
  cr_assert_float_eq(num(hit, "distance_m"), iotkit_fleet_distance_m(48.87, 2.36, 48.87, 2.35), 1e-6);
  cJSON_Delete(o);
  cr_assert_eq(FLEET("within", "--db", fx.db, "--lat", "-33.8", "--lon", "151.2", "--radius", "20000"), 0);
  cr_assert(strncmp(r.out, "ID   DISTANCE M", 15) == 0 && strstr(r.out, "\nvan  "), "%s", r.out);
  cr_assert_null(strstr(r.out, "car"), "%s", r.out);

  cr_assert_eq(FLEET("history", "car", "temperature", "--db", fx.db, "--json"), 0, "%s", r.err);
  o = parse_out();
  cr_assert_eq(cJSON_GetArraySize(o), 3, "%s", r.out);
  for (int i = 0; i < 3; i++) {
    cr_assert_eq(num(cJSON_GetArrayItem(o, i), "ts_ms"), (double)(T0 + i * 1000));
    cr_assert_eq(num(cJSON_GetArrayItem(o, i), "mean"), 20 + i);
  }
  cJSON_Delete(o);
  cr_assert_eq(FLEET("history", "car", "temperature", "--db", fx.db, "--bucket-ms", "2000", "--to",
                     "1767225601999"),
               0, "%s", r.err);
  cr_assert_str_eq(r.out, "BUCKET START              MIN  MAX  MEAN  COUNT\n"
                          "2026-01-01T00:00:00.000Z  20   21   20.5  2\n");

  cr_assert_eq(FLEET("show", "car", "--db", fx.db, "--json"), 0, "%s", r.err);
  o = parse_out();
  const cJSON *latest = cJSON_GetObjectItemCaseSensitive(o, "latest");
  cr_assert_eq(cJSON_GetArraySize(latest), 1, "%s", r.out);
  cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(latest, 0), "name")->valuestring, "temperature");
  cr_assert_eq(num(cJSON_GetArrayItem(latest, 0), "value"), 22);
  cr_assert_eq(num(cJSON_GetObjectItemCaseSensitive(o, "location"), "lat"), 48.85 + 2 * 0.01);
  cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "online")), "the fleet closed while the car was online");
  cr_assert_gt(num(o, "last_seen_ms"), 0);
  cJSON_Delete(o);
  cr_assert_eq(FLEET("list", "--db", fx.db, "--online", "--json"), 0);
  o = parse_out();
  cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "devices")), 2);
  cJSON_Delete(o);
}

/* ---------------------------------------------------------- watch -- */

/* Start `iotkit fleet watch ARGS` with stdout and stderr going to files (not a terminal). */
static pid_t spawn_watch(const char *const *args) {
  const char *argv[24] = {"fleet", "watch"};
  for (int i = 0; args[i] && i < 20; i++) argv[i + 2] = args[i];
  return cli_spawn(CLI, argv, out_path, err_path);
}

static char text[1 << 20];

/* Wait until the watch output holds @p needle after offset @p from; its offset after the needle. */
static size_t wait_file(const char *needle, size_t from) {
  uint64_t end = test_now_ms() + WAIT_MS;
  for (;;) {
    cli_slurp(out_path, text, sizeof text);
    const char *hit = strlen(text) > from ? strstr(text + from, needle) : NULL;
    if (hit) return (size_t)(hit - text) + strlen(needle);
    if (test_now_ms() >= end) break;
    test_msleep(10);
  }
  char err[4096];
  cli_slurp(err_path, err, sizeof err);
  cr_assert_fail("'%s' not in the watch output:\n%s\nstderr: %s", needle, text, err);
  return 0;
}

static int wait_exit(pid_t pid) {
  int status = 0;
  uint64_t end = test_now_ms() + WAIT_MS;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (test_now_ms() >= end) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      cr_assert_fail("watch did not exit after the signal");
    }
    test_msleep(10);
  }
  cr_assert(WIFEXITED(status), "watch did not exit normally (status %d)", status);
  return WEXITSTATUS(status);
}

static void watch_plain_with_signal(int sig) {
  cr_assert_eq(FLEET("create", "d1", "--db", fx.db), 0, "%s", r.err);
  pid_t pid = spawn_watch((const char *const[]){"--db", fx.db, "--uri", mosq_server_uri(fx.srv), NULL});
  size_t at = wait_file("d1 is offline, last seen never\n", 0);
  at = wait_file("watching 1 devices on ", at);
  iotkit_device_t *d = fleet_live_device(&fx, "d1");
  at = wait_file(" d1 online\n", at);
  cr_assert_eq(iotkit_device_send_telemetry(d, "{\"temperature\":21.5}", 20, NULL), IOTKIT_OK);
  at = wait_file(" d1 telemetry temperature=21.5\n", at);
  fleet_live_drop(&fx, d, false);
  at = wait_file(" d1 offline (disconnect)\n", at);
  cr_assert_eq(kill(pid, sig), 0);
  cr_assert_eq(wait_exit(pid), 0);
  cli_slurp(out_path, text, sizeof text);
  cr_assert(strstr(text + at, "watch stopped (1 devices)\n"), "%s", text);
  cr_assert_null(strchr(text, '\033'), "no escape sequences when stdout is not a terminal: %s", text);
  char err[4096];
  cli_slurp(err_path, err, sizeof err);
  cr_assert_str_eq(err, "");
  /* The watch's fleet wrote what it saw: the device is offline, and was seen. */
  cr_assert_eq(FLEET("show", "d1", "--db", fx.db, "--json"), 0, "%s", r.err);
  cJSON *o = parse_out();
  cr_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(o, "online")));
  cr_assert_gt(num(o, "last_seen_ms"), 0);
  cJSON_Delete(o);
}

Test(cli_fleet_live, watch_lines_sigint) { watch_plain_with_signal(SIGINT); }
Test(cli_fleet_live, watch_lines_sigterm) { watch_plain_with_signal(SIGTERM); }

Test(cli_fleet_live, watch_sees_a_last_will) {
  cr_assert_eq(FLEET("create", "d1", "--db", fx.db), 0, "%s", r.err);
  pid_t pid = spawn_watch((const char *const[]){"--db", fx.db, "--uri", mosq_server_uri(fx.srv), NULL});
  size_t at = wait_file("watching 1 devices on ", 0);
  iotkit_device_t *d = fleet_live_device(&fx, "d1");
  at = wait_file(" d1 online\n", at);
  fleet_live_drop(&fx, d, true); /* no goodbye: the broker publishes the will */
  at = wait_file(" d1 offline (connection_lost)\n", at);
  cr_assert_eq(kill(pid, SIGINT), 0);
  cr_assert_eq(wait_exit(pid), 0);
}

Test(cli_fleet_live, watch_auto_register_starts_an_empty_registry) {
  char db[400];
  snprintf(db, sizeof db, "%s/new.db", fx.dir);
  pid_t pid = spawn_watch(
      (const char *const[]){"--db", db, "--uri", mosq_server_uri(fx.srv), "--auto-register", "--plain", NULL});
  size_t at = wait_file("watching 0 devices on ", 0);
  fleet_live_device(&fx, "newcomer");
  at = wait_file(" newcomer online\n", at);
  cr_assert_eq(kill(pid, SIGINT), 0);
  cr_assert_eq(wait_exit(pid), 0);
  cr_assert_eq(FLEET("list", "--db", db), 0, "%s", r.err);
  cr_assert(strstr(r.out, "\nnewcomer  online"), "%s", r.out);
}

/* On a terminal: the alternate screen, a table redrawn in place, and the terminal given back. */
Test(cli_fleet_live, watch_on_a_terminal_redraws_and_restores) {
  cr_assert_eq(FLEET("create", "d1", "--db", fx.db), 0, "%s", r.err);
  struct winsize ws = {.ws_row = 30, .ws_col = 120};
  int master = -1;
  pid_t pid = forkpty(&master, NULL, NULL, &ws);
  cr_assert_neq(pid, -1);
  if (pid == 0) {
    execl(CLI, CLI, "fleet", "watch", "--db", fx.db, "--uri", mosq_server_uri(fx.srv), "--interval-ms", "200",
          (char *)NULL);
    _exit(127);
  }
  size_t len = 0;
  /* Read the pty until @p needle shows up after @p from. */
#define READ_UNTIL(needle, from)                                                                        \
  do {                                                                                                  \
    uint64_t end_ = test_now_ms() + WAIT_MS;                                                            \
    for (;;) {                                                                                          \
      text[len] = '\0';                                                                                 \
      if (len > (from) && strstr(text + (from), (needle))) break;                                       \
      cr_assert(test_now_ms() < end_, "'%s' not on the terminal:\n%s", (needle), text);                \
      struct pollfd pfd = {.fd = master, .events = POLLIN};                                             \
      if (poll(&pfd, 1, 50) > 0) {                                                                      \
        ssize_t n_ = read(master, text + len, sizeof text - 1 - len);                                   \
        if (n_ > 0) len += (size_t)n_;                                                                  \
        cr_assert_lt(len + 1, sizeof text, "the terminal printed more than the test keeps");             \
      }                                                                                                 \
    }                                                                                                   \
  } while (0)
  READ_UNTIL("\033[?1049h\033[?25l", (size_t)0);
  READ_UNTIL("1 devices, 0 online", (size_t)0);
  READ_UNTIL("d1  offline  never", (size_t)0);
  size_t mark = len;
  iotkit_device_t *d = fleet_live_device(&fx, "d1");
  READ_UNTIL("1 devices, 1 online", mark);
  READ_UNTIL("d1  online  2026-", mark);
  cr_assert(strstr(text + mark, "\033[H"), "each screen starts at the top left");
  /* (the terminal turns "\n" into "\r\n") */
  cr_assert(strstr(text + mark, "\033[K\r\n"), "each line clears what an older one left");
  mark = len;
  fleet_live_drop(&fx, d, false);
  READ_UNTIL("d1  offline  2026-", mark);
  mark = len;
  cr_assert_eq(kill(pid, SIGINT), 0);
  READ_UNTIL("watch stopped (1 devices)", mark);
  cr_assert_eq(wait_exit(pid), 0);
  const char *restore = strstr(text + mark, "\033[?25h\033[?1049l");
  cr_assert_not_null(restore, "the cursor and the screen are given back: %s", text + mark);
  cr_assert_lt(restore - text, strstr(text + mark, "watch stopped") - text, "before the last line");
  close(master);
}

Test(cli_fleet_live, watch_without_a_broker_is_2) {
  cr_assert_eq(FLEET("create", "d1", "--db", fx.db), 0, "%s", r.err);
  mosq_server_t *nothing = mosq_server_new(); /* a free port, nobody listening */
  cr_assert_not_null(nothing);
  cr_assert_eq(FLEET("watch", "--db", fx.db, "--uri", mosq_server_uri(nothing)), 2);
  char want[200];
  snprintf(want, sizeof want, "iotkit: fleet watch: cannot connect to %s: ", mosq_server_uri(nothing));
  cr_assert(strncmp(r.err, want, strlen(want)) == 0, "%s", r.err);
  cr_assert(strstr(r.err, "(IOTKIT_ERR_CONNECT)\n"), "%s", r.err);
  mosq_server_free(nothing);
}

Test(cli_fleet_live, watch_bad_options_are_1) {
  cr_assert_eq(FLEET("create", "d1", "--db", fx.db), 0, "%s", r.err);
  cr_assert_eq(FLEET("watch", "--db", fx.db), 1);
  cr_assert_str_eq(r.err, "iotkit: fleet watch: --uri is required (the broker, e.g. mqtt://127.0.0.1:1883)\n"
                          "Try 'iotkit help'.\n");
  cr_assert_eq(FLEET("watch", "--db", fx.db, "--uri", "not a uri"), 1);
  cr_assert_str_eq(r.err, "iotkit: fleet watch: bad --uri 'not a uri'\nTry 'iotkit help'.\n");
  cr_assert_eq(FLEET("watch", "--db", fx.db, "--uri", mosq_server_uri(fx.srv), "--prefix", "a/+/b"), 1);
  cr_assert(strstr(r.err, "--prefix wants a channel prefix"), "%s", r.err);
  cr_assert_eq(FLEET("watch", "--db", fx.db, "--uri", mosq_server_uri(fx.srv), "--interval-ms", "5"), 1);
  cr_assert(strstr(r.err, "option '--interval-ms' wants a number from 100 to 3600000, not '5'"), "%s", r.err);
  char missing[400];
  snprintf(missing, sizeof missing, "%s/none.db", fx.dir);
  cr_assert_eq(FLEET("watch", "--db", missing, "--uri", mosq_server_uri(fx.srv)), 8);
  cr_assert(strstr(r.err, "no registry database at"), "%s", r.err);
}
