/* iotkit fleet rollout watch <rid>: the fleet's broker session, driven from
   this thread, publishes the rollout's manifests and records the devices'
   reports; per-group progress bars are redrawn on a terminal, one line per
   change otherwise. Ends when the rollout finishes (exit 0), is canceled or
   paused by a group's error (exit 5), or on SIGINT/SIGTERM (exit 0). A start,
   pause, resume or cancel made by another process (`rollout pause RID` from a
   second shell) is adopted by this fleet's polling (rollout_refresh.c) and
   arrives here as an event like its own: a pause is shown and the watch goes
   on, a cancel ends it. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fleet_cli.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define SLICE_MS 100
#define BAR_WIDTH 20
#define EOL "\033[K\n"

void fleet_cli_bar(size_t done, size_t total, size_t width, char *buf, size_t cap) {
  size_t full = total ? done * width / total : width;
  if (cap < width + 3) width = cap > 3 ? cap - 3 : 0, full = full > width ? width : full;
  size_t n = 0;
  buf[n++] = '[';
  for (size_t i = 0; i < width; i++) buf[n++] = i < full ? '#' : '.';
  buf[n++] = ']';
  buf[n] = '\0';
}

void fleet_cli_rollout_print(const iotkit_fleet_rollout_info_t *in, const char *eol) {
  printf("rollout %s: %s, %s %s, %zu devices, %zu finished, %zu errors, %zu running%s", in->id,
         iotkit_fleet_rollout_state_name(in->state), in->device_type, in->version, in->counts.total,
         in->counts.finished, in->counts.error, in->counts.running, eol);
  if (in->reason && *in->reason) printf("  reason: %s%s", in->reason, eol);
  for (size_t i = 0; i < in->group_count; i++) {
    const iotkit_fleet_group_info_t *g = &in->groups[i];
    char bar[BAR_WIDTH + 3];
    fleet_cli_bar(g->counts.finished + g->counts.error, g->counts.total, BAR_WIDTH, bar, sizeof bar);
    printf("  group %zu %-9s %s %zu/%zu finished, %zu errors, %zu running (success %u%%, error %u%%)%s", i + 1,
           iotkit_fleet_group_state_name(g->state), bar, g->counts.finished, g->counts.total, g->counts.error,
           g->counts.running, g->success_pct, g->error_pct, eol);
  }
  fflush(stdout);
}

typedef struct rwatch {
  fleet_cli_t c;
  const char *rid;
  bool tty, dirty;
} rwatch_t;

static void on_rollout(iotkit_fleet_t *f, void *user, const iotkit_fleet_rollout_event_t *ev) {
  (void)f;
  rwatch_t *w = user;
  if (strcmp(ev->rollout_id, w->rid) != 0) return;
  w->dirty = true;
  if (w->tty) return;
  char text[256], when[40];
  if (ev->device_id)
    snprintf(text, sizeof text, "device %s %s %u%%%s%s", ev->device_id,
             iotkit_fleet_rollout_device_state_name(ev->device_state), ev->percent, *ev->error ? " " : "", ev->error);
  else if (ev->group >= 0)
    snprintf(text, sizeof text, "group %d %s", ev->group + 1, iotkit_fleet_group_state_name(ev->group_state));
  else
    snprintf(text, sizeof text, "rollout %s", iotkit_fleet_rollout_state_name(ev->state));
  fleet_cli_sanitize(text);
  printf("%s %s\n", fleet_cli_time(w->c.hal->wall_ms(w->c.hal->ctx), when, sizeof when), text);
  fflush(stdout);
}

/* 0 while it goes on; otherwise the exit code. */
static int ended(const iotkit_fleet_rollout_info_t *in) {
  if (in->state == IOTKIT_FLEET_ROLLOUT_FINISHED) return CLI_EXIT_OK;
  if (in->state == IOTKIT_FLEET_ROLLOUT_CANCELED) return CLI_EXIT_UPDATE;
  if (in->state == IOTKIT_FLEET_ROLLOUT_PAUSED && in->error_group >= 0) return CLI_EXIT_UPDATE;
  return -1;
}

static int watch_loop(rwatch_t *w) {
  int code = -1;
  bool first = true;
  while (code < 0 && !cli_stop_requested()) {
    if (first || w->dirty) {
      w->dirty = false;
      iotkit_fleet_rollout_info_t *in = NULL;
      if (iotkit_fleet_rollout_get(w->c.fleet, w->rid, &in) != IOTKIT_OK) return CLI_EXIT_NOT_FOUND;
      if (w->tty) printf("\033[H"), fleet_cli_rollout_print(in, EOL), printf("\033[J");
      if (!w->tty && first) fleet_cli_rollout_print(in, "\n");
      code = ended(in);
      if (code >= 0 && !w->tty && !first) fleet_cli_rollout_print(in, "\n");
      if (code >= 0 && w->tty) printf("\n");
      first = false;
      iotkit_fleet_rollout_info_free(in);
    }
    if (code < 0 && iotkit_fleet_poll(w->c.fleet, SLICE_MS) != IOTKIT_OK && !cli_stop_requested())
      w->c.hal->sleep_ms(w->c.hal->ctx, SLICE_MS);
  }
  return code < 0 ? CLI_EXIT_OK : code;
}

int cmd_fleet_rollout_watch(int argc, char **argv) {
  const char *db = NULL, *uri = NULL, *rid = NULL, *cmd = "fleet rollout watch";
  bool json = false, plain = false;
  const cli_opt_t opts[] = {FLEET_CLI_COMMON_OPTS(&db, &json), {"uri", &uri, NULL}, {"plain", NULL, &plain}};
  size_t npos = 0;
  if (cli_parse_positional(argc, argv, opts, N(opts), &rid, 1, &npos) != CLI_EXIT_OK) return CLI_EXIT_USAGE;
  if (npos != 1) return cli_usage_error("%s: the rollout ID is required", cmd);
  rwatch_t w;
  memset(&w, 0, sizeof w);
  fleet_cli_init(&w.c, cmd);
  w.rid = rid;
  w.tty = !plain && isatty(STDOUT_FILENO);
  cli_catch_stop_signals();
  /* The registry is opened before the session, so that an unknown rollout is reported without a broker. */
  int code = fleet_cli_open(&w.c, db, false);
  if (code != CLI_EXIT_OK) return code;
  iotkit_fleet_rollout_info_t *in = NULL;
  iotkit_err_t rc = iotkit_fleet_rollout_get(w.c.fleet, rid, &in);
  iotkit_fleet_rollout_info_free(in);
  fleet_cli_close(&w.c);
  if (rc == IOTKIT_ERR_NOT_FOUND) {
    fprintf(stderr, "iotkit: %s: no rollout '%s' (IOTKIT_ERR_NOT_FOUND)\n", cmd, rid);
    return CLI_EXIT_NOT_FOUND;
  }
  fleet_cli_init(&w.c, cmd);
  code = fleet_cli_connect(&w.c, db, uri);
  if (code != CLI_EXIT_OK) return code;
  (void)iotkit_fleet_on_rollout(w.c.fleet, on_rollout, &w);
  code = watch_loop(&w);
  (void)iotkit_fleet_sync(w.c.fleet);
  (void)iotkit_fleet_disconnect(w.c.fleet);
  fleet_cli_close(&w.c);
  return code;
}
