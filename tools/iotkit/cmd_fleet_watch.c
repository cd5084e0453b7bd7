/* iotkit fleet watch: the fleet's live view. On a terminal, a table redrawn in
   place (on the alternate screen, restored at exit); otherwise one line per
   change. The fleet is driven from this thread (iotkit_fleet_poll), so its
   callbacks run here and may print. SIGINT/SIGTERM end it cleanly (exit 0). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "fleet_cli.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define SLICE_MS 100
#define MIN_REDRAW_MS 200 /* a burst of changes redraws at most this often */
#define ENTER_SCREEN "\033[?1049h\033[?25l" /* alternate screen, cursor hidden */
#define LEAVE_SCREEN "\033[?25h\033[?1049l"
#define EOL "\033[K\n" /* a redrawn line clears what an older, longer one left */

typedef struct watch {
  fleet_cli_t c;
  const char *uri;
  bool tty;
  bool connected;
  bool dirty;
  char conn_detail[160];
} watch_t;

static int64_t wall_ms(const watch_t *w) { return w->c.hal->wall_ms(w->c.hal->ctx); }
static uint64_t mono_ms(const watch_t *w) { return w->c.hal->monotonic_ms(w->c.hal->ctx); }

/* One line of the plain output: "<time> <text>", control characters shown as '?'. */
static void line(watch_t *w, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void line(watch_t *w, const char *fmt, ...) {
  w->dirty = true;
  if (w->tty) return;
  char text[1024], when[40];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  fleet_cli_sanitize(text);
  printf("%s %s\n", fleet_cli_time(wall_ms(w), when, sizeof when), text);
  fflush(stdout);
}

/* ---------------------------------------------------------- callbacks -- */

static void on_connection(iotkit_fleet_t *f, void *user, bool up, iotkit_err_t reason, const char *detail) {
  (void)f;
  watch_t *w = user;
  w->connected = up;
  snprintf(w->conn_detail, sizeof w->conn_detail, "%s", up ? "" : detail ? detail : iotkit_strerror(reason));
  if (up)
    line(w, "connected to %s", w->uri);
  else if (reason != IOTKIT_OK)
    line(w, "connection lost: %s (%s); reconnecting", w->conn_detail, iotkit_err_name(reason));
}

static void on_status(iotkit_fleet_t *f, void *user, const char *id, bool online, const char *reason, int64_t ts) {
  (void)f, (void)ts;
  if (online)
    line(user, "%s online", id);
  else
    line(user, "%s offline (%s)", id, reason ? reason : "no reason");
}

static void on_telemetry(iotkit_fleet_t *f, void *user, const char *id, const iotkit_telemetry_batch_t *b) {
  (void)f;
  char values[768];
  fleet_cli_values(b, values, sizeof values);
  line(user, "%s telemetry %s", id, values);
}

static void on_state(iotkit_fleet_t *f, void *user, const char *id, const char *state, int64_t ts) {
  (void)f, (void)ts;
  line(user, "%s state %s", id, state);
}

static void on_event(iotkit_fleet_t *f, void *user, const char *id, const char *type, int64_t ts, const char *data) {
  (void)f, (void)ts;
  line(user, "%s event %s %s", id, type, data ? data : "");
}

static void on_location(iotkit_fleet_t *f, void *user, const char *id, const iotkit_location_t *loc) {
  (void)f;
  line(user, "%s location %.7f %.7f", id, loc->latitude, loc->longitude);
}

static void on_stale(iotkit_fleet_t *f, void *user, const char *id, bool stale, int64_t last_seen) {
  (void)f;
  char when[40];
  if (stale)
    line(user, "%s stale (last seen %s)", id, fleet_cli_time(last_seen, when, sizeof when));
  else
    line(user, "%s active again", id);
}

/* ------------------------------------------------------------- table -- */

/* "12s ago", "3m ago", "2h ago", "5d ago". */
static void age_text(int64_t now, int64_t then, char *buf, size_t cap) {
  int64_t s = then > 0 && now > then ? (now - then) / 1000 : 0;
  if (then <= 0)
    snprintf(buf, cap, "never");
  else if (s < 120)
    snprintf(buf, cap, "%" PRId64 "s ago", s);
  else if (s < 7200)
    snprintf(buf, cap, "%" PRId64 "m ago", s / 60);
  else if (s < 172800)
    snprintf(buf, cap, "%" PRId64 "h ago", s / 3600);
  else
    snprintf(buf, cap, "%" PRId64 "d ago", s / 86400);
}

/* One row per device of the page: presence and values from the fleet's memory. */
static void add_rows(watch_t *w, fleet_table_t *t, const iotkit_fleet_page_t *page, int64_t now) {
  for (size_t i = 0; i < page->count; i++) {
    const char *id = page->devices[i]->id;
    iotkit_fleet_presence_t pr;
    if (iotkit_fleet_presence(w->c.fleet, id, &pr) != IOTKIT_OK) continue; /* deleted meanwhile */
    iotkit_telemetry_batch_t *b = NULL;
    char values[768] = "", seen[40], age[24], last[72];
    if (iotkit_fleet_latest(w->c.fleet, id, NULL, &b) == IOTKIT_OK) fleet_cli_values(b, values, sizeof values);
    iotkit_telemetry_batch_free(b);
    age_text(now, pr.last_seen_ms, age, sizeof age);
    if (pr.last_seen_ms > 0)
      snprintf(last, sizeof last, "%s (%s)", fleet_cli_time(pr.last_seen_ms, seen, sizeof seen), age);
    else
      snprintf(last, sizeof last, "never");
    const char *row[] = {id, pr.online ? (pr.stale ? "stale" : "online") : "offline", last, values};
    fleet_table_row(t, row);
  }
}

static void draw(watch_t *w) {
  struct winsize ws;
  memset(&ws, 0, sizeof ws);
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_row == 0) ws.ws_row = 24, ws.ws_col = 80;
  size_t rows = ws.ws_row > 6 ? (size_t)ws.ws_row - 5 : 1;
  uint64_t total = 0, online = 0;
  iotkit_fleet_filter_t only_online;
  iotkit_fleet_filter_init(&only_online);
  only_online.online = IOTKIT_FLEET_ONLINE_ONLY;
  (void)iotkit_fleet_count(w->c.fleet, NULL, &total);
  (void)iotkit_fleet_count(w->c.fleet, &only_online, &online);
  int64_t now = wall_ms(w);
  char when[40];
  printf("\033[H");
  printf("iotkit fleet watch  %s  %s  %s" EOL, w->uri, w->connected ? "connected" : "reconnecting",
         fleet_cli_time(now, when, sizeof when));
  printf("%" PRIu64 " devices, %" PRIu64 " online  (Ctrl-C to quit)" EOL EOL, total, online);
  static const char *const header[] = {"ID", "STATUS", "LAST SEEN", "VALUES"};
  fleet_table_t t;
  fleet_table_init(&t, N(header), header);
  iotkit_fleet_page_t *page = NULL;
  if (iotkit_fleet_list(w->c.fleet, NULL, NULL, rows < IOTKIT_FLEET_MAX_PAGE ? rows : IOTKIT_FLEET_MAX_PAGE, &page) ==
      IOTKIT_OK) {
    add_rows(w, &t, page, now);
    iotkit_fleet_page_free(page);
  }
  fleet_table_print_fit(&t, EOL, rows, ws.ws_col);
  if (total > rows) printf("... %" PRIu64 " more" EOL, total - rows);
  fleet_table_free(&t);
  printf("\033[J");
  fflush(stdout);
  w->dirty = false;
}

/* The plain output's first lines: every device as it is now. */
static void snapshot(watch_t *w) {
  char *after = NULL;
  size_t n = 0;
  do {
    iotkit_fleet_page_t *page = NULL;
    if (iotkit_fleet_list(w->c.fleet, NULL, after, IOTKIT_FLEET_MAX_PAGE, &page) != IOTKIT_OK) break;
    for (size_t i = 0; i < page->count; i++) {
      const char *id = page->devices[i]->id;
      iotkit_fleet_presence_t pr;
      if (iotkit_fleet_presence(w->c.fleet, id, &pr) != IOTKIT_OK) continue;
      iotkit_telemetry_batch_t *b = NULL;
      char values[768] = "", seen[40];
      if (iotkit_fleet_latest(w->c.fleet, id, NULL, &b) == IOTKIT_OK) fleet_cli_values(b, values, sizeof values);
      iotkit_telemetry_batch_free(b);
      line(w, "%s is %s, last seen %s%s%s", id, pr.online ? (pr.stale ? "stale" : "online") : "offline",
           fleet_cli_time(pr.last_seen_ms, seen, sizeof seen), *values ? ", " : "", values);
    }
    n += page->count;
    free(after);
    after = page->next_after ? strdup(page->next_after) : NULL;
    iotkit_fleet_page_free(page);
  } while (after);
  free(after);
  line(w, "watching %zu devices on %s (Ctrl-C to stop)", n, w->uri);
}

/* -------------------------------------------------------------- main -- */

static int watch_loop(watch_t *w, unsigned long interval_ms) {
  iotkit_fleet_t *f = w->c.fleet;
  iotkit_fleet_on_connection(f, on_connection, w);
  iotkit_fleet_on_status(f, on_status, w);
  iotkit_fleet_on_telemetry(f, on_telemetry, w);
  iotkit_fleet_on_state(f, on_state, w);
  iotkit_fleet_on_event(f, on_event, w);
  iotkit_fleet_on_location(f, on_location, w);
  iotkit_fleet_on_stale(f, on_stale, w);
  iotkit_err_t rc = iotkit_fleet_connect(f);
  if (rc != IOTKIT_OK) {
    char detail[IOTKIT_ERROR_TEXT_SIZE];
    fprintf(stderr, "iotkit: fleet watch: cannot connect to %s: %s (%s)\n", w->uri,
            *iotkit_fleet_last_error(f, detail, sizeof detail) ? detail : iotkit_strerror(rc), iotkit_err_name(rc));
    return fleet_cli_exit_code(rc) == CLI_EXIT_USAGE ? CLI_EXIT_USAGE : CLI_EXIT_CONNECT;
  }
  w->connected = true;
  if (w->tty)
    fputs(ENTER_SCREEN, stdout);
  else
    snapshot(w);
  uint64_t last_draw = 0;
  bool drawn = false;
  while (!cli_stop_requested()) {
    if (w->tty) {
      uint64_t now = mono_ms(w);
      if (!drawn || now - last_draw >= interval_ms || (w->dirty && now - last_draw >= MIN_REDRAW_MS)) {
        draw(w);
        last_draw = now;
        drawn = true;
      }
    }
    rc = iotkit_fleet_poll(f, SLICE_MS);
    /* A signal ends the transport's wait early; anything else is the fleet's own to recover from. */
    if (rc != IOTKIT_OK && !cli_stop_requested()) w->c.hal->sleep_ms(w->c.hal->ctx, SLICE_MS);
  }
  if (w->tty) fputs(LEAVE_SCREEN, stdout);
  (void)iotkit_fleet_disconnect(f);
  uint64_t total = 0;
  (void)iotkit_fleet_count(f, NULL, &total);
  printf("watch stopped (%" PRIu64 " devices)\n", total);
  fflush(stdout);
  return CLI_EXIT_OK;
}

int cmd_fleet_watch(int argc, char **argv) {
  const char *db = NULL, *uri = NULL, *prefix = NULL, *interval_text = "1000", *heartbeat_text = "0",
             *history_text = "0", *cmd = "fleet watch";
  bool plain = false, auto_register = false;
  const cli_opt_t opts[] = {{"db", &db, NULL},
                            {"uri", &uri, NULL},
                            {"prefix", &prefix, NULL},
                            {"interval-ms", &interval_text, NULL},
                            {"heartbeat-ms", &heartbeat_text, NULL},
                            {"history-points", &history_text, NULL},
                            {"auto-register", NULL, &auto_register},
                            {"plain", NULL, &plain}};
  if (cli_parse_opts(argc, argv, opts, N(opts)) != CLI_EXIT_OK) return CLI_EXIT_USAGE;
  if (!uri) return cli_usage_error("%s: --uri is required (the broker, e.g. mqtt://127.0.0.1:1883)", cmd);
  if (prefix && !iotkit_protocol_prefix_valid(prefix))
    return cli_usage_error("%s: --prefix wants a channel prefix such as %s ('/'-separated, no wildcards)", cmd,
                           IOTKIT_TOPIC_PREFIX_DEFAULT);
  unsigned long interval = 0, heartbeat = 0, history = 0;
  if (!cli_parse_num("interval-ms", interval_text, 100, 3600000, &interval) ||
      !cli_parse_num("heartbeat-ms", heartbeat_text, 0, 86400000, &heartbeat) ||
      !cli_parse_num("history-points", history_text, 0, 10000000, &history))
    return CLI_EXIT_USAGE;
  iotkit_uri_t parsed;
  memset(&parsed, 0, sizeof parsed);
  if (iotkit_uri_parse(uri, &parsed) != IOTKIT_OK) return cli_usage_error("%s: bad --uri '%s'", cmd, uri);
  iotkit_uri_clear(&parsed);

  watch_t w;
  memset(&w, 0, sizeof w);
  fleet_cli_init(&w.c, cmd);
  w.uri = uri;
  w.tty = !plain && isatty(STDOUT_FILENO);
  w.c.cfg.uri = uri;
  w.c.cfg.topic_prefix = prefix;
  w.c.cfg.heartbeat_ms = (uint32_t)heartbeat;
  w.c.cfg.history_max_points = (uint32_t)history;
  w.c.cfg.auto_register = auto_register;
  cli_catch_stop_signals();
  /* With --auto-register an empty registry fills itself: the database may be new. */
  int code = fleet_cli_open(&w.c, db, auto_register);
  if (code != CLI_EXIT_OK) return code;
  code = watch_loop(&w, interval);
  fleet_cli_close(&w.c);
  return code;
}
