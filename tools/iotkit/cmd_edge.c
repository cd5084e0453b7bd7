/* iotkit edge check|run: validate an edge configuration, or replay a recorded
   stream of points through it and print what would be sent, raised and triggered. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"

#define MAX_CONFIG (1024u * 1024u)
#define MAX_LINE 65536

char *cli_edge_read_config(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "iotkit: edge: cannot open '%s'\n", path);
    return NULL;
  }
  char *buf = malloc(MAX_CONFIG + 1);
  size_t n = buf ? fread(buf, 1, MAX_CONFIG + 1, f) : 0;
  fclose(f);
  if (!buf || n > MAX_CONFIG) {
    fprintf(stderr, "iotkit: edge: '%s' is larger than %u bytes\n", path, MAX_CONFIG);
    free(buf);
    return NULL;
  }
  buf[n] = '\0';
  *len = n;
  return buf;
}

static int refused(const char *path, iotkit_err_t err, const char *pointer, const char *message) {
  fprintf(stderr, "iotkit: edge: %s refused at '%s': %s (%s)\n", path, pointer, message, iotkit_err_name(err));
  return CLI_EXIT_USAGE;
}

static int check(int argc, char **argv) {
  const char *pos[1];
  size_t n_pos = 0;
  int rc = cli_parse_positional(argc, argv, NULL, 0, pos, 1, &n_pos);
  if (rc != CLI_EXIT_OK) return rc;
  if (n_pos != 1) return cli_usage_error("edge check wants a configuration file");
  size_t len = 0;
  char *json = cli_edge_read_config(pos[0], &len);
  if (!json) return CLI_EXIT_USAGE;
  char pointer[IOTKIT_EDGE_POINTER_SIZE], message[256];
  iotkit_err_t err = iotkit_edge_check(json, len, 0, pointer, sizeof(pointer), message, sizeof(message));
  free(json);
  if (err != IOTKIT_OK) return refused(pos[0], err, pointer, message);
  printf("valid: %s\n", pos[0]);
  return CLI_EXIT_OK;
}

typedef struct replay {
  bool quiet;
  uint64_t bad_lines;
} replay_t;

static void on_point(iotkit_edge_t *edge, void *user, const iotkit_telemetry_point_t *p) {
  (void)edge;
  if (!((replay_t *)user)->quiet) printf("emit %s %" PRId64 " %.17g\n", p->name, p->ts_ms, p->value.d);
}

static void print_actions(iotkit_edge_t *edge, bool quiet) {
  static const char *const kinds[] = {"event", "command", "report", "detector"};
  iotkit_edge_action_t a;
  while (iotkit_edge_next_action(edge, &a) == IOTKIT_OK) {
    if (quiet) continue;
    if (a.kind == IOTKIT_EDGE_ACTION_DETECTOR)
      printf("detector %s %s %s %" PRId64 " %.17g\n", a.source, a.active ? "raised" : "cleared", a.metric, a.ts_ms,
             a.value);
    else
      printf("rule %s %s %s%s%s\n", a.source, kinds[a.kind], a.name ? a.name : "", a.name ? " " : "", a.json);
  }
}

/* One line {"name":N,"ts":T,"value":V[,"unit":U]} into @p p (strings borrowed from @p doc). */
static const char *parse_point(const cJSON *doc, iotkit_telemetry_point_t *p) {
  const cJSON *name = cJSON_GetObjectItemCaseSensitive(doc, "name");
  const cJSON *ts = cJSON_GetObjectItemCaseSensitive(doc, "ts");
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, "value");
  const cJSON *unit = cJSON_GetObjectItemCaseSensitive(doc, "unit");
  if (!cJSON_IsObject(doc)) return "not a JSON object";
  if (!cJSON_IsString(name)) return "no \"name\"";
  if (ts && (!cJSON_IsNumber(ts) || ts->valuedouble != (double)(int64_t)ts->valuedouble)) return "\"ts\" is not whole milliseconds";
  memset(p, 0, sizeof(*p));
  p->name = name->valuestring;
  p->unit = cJSON_IsString(unit) ? unit->valuestring : NULL;
  p->ts_ms = ts ? (int64_t)ts->valuedouble : 0;
  if (cJSON_IsNumber(v)) {
    p->type = IOTKIT_TELEMETRY_DOUBLE;
    p->value.d = v->valuedouble;
  } else if (cJSON_IsBool(v)) {
    p->type = IOTKIT_TELEMETRY_BOOL;
    p->value.b = cJSON_IsTrue(v);
  } else if (cJSON_IsString(v)) {
    p->type = IOTKIT_TELEMETRY_STRING;
    p->value.s = v->valuestring;
  } else {
    return "no \"value\" (a number, boolean or string)";
  }
  return NULL;
}

static void replay_line(iotkit_edge_t *edge, replay_t *r, const char *line, uint64_t lineno) {
  cJSON *doc = cJSON_Parse(line);
  iotkit_telemetry_point_t p;
  const char *why = doc ? parse_point(doc, &p) : "not JSON";
  if (why) {
    fprintf(stderr, "iotkit: edge run: line %" PRIu64 " skipped: %s\n", lineno, why);
    r->bad_lines++;
  } else {
    bool send = false;
    (void)iotkit_edge_process(edge, &p, &send);
    if (!r->quiet && p.type == IOTKIT_TELEMETRY_STRING)
      printf("%s %s %" PRId64 " \"%s\"\n", send ? "send" : "drop", p.name, p.ts_ms, p.value.s);
    else if (!r->quiet)
      printf("%s %s %" PRId64 " %.17g\n", send ? "send" : "hold", p.name, p.ts_ms,
             p.type == IOTKIT_TELEMETRY_BOOL ? (double)p.value.b : p.value.d);
    print_actions(edge, r->quiet);
  }
  cJSON_Delete(doc);
}

static int run(int argc, char **argv) {
  bool quiet = false;
  const char *pos[2];
  size_t n_pos = 0;
  /* --quiet is a flag: parse it apart from the positional arguments. */
  int kept = 1;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--quiet") == 0) quiet = true;
    else argv[kept++] = argv[i];
  }
  int rc = cli_parse_positional(kept, argv, NULL, 0, pos, 2, &n_pos);
  if (rc != CLI_EXIT_OK) return rc;
  if (n_pos < 1) return cli_usage_error("edge run wants a configuration file (and points on stdin or in a file)");
  size_t len = 0;
  char *json = cli_edge_read_config(pos[0], &len);
  if (!json) return CLI_EXIT_USAGE;
  FILE *in = n_pos == 2 ? fopen(pos[1], "r") : stdin;
  if (!in) {
    free(json);
    fprintf(stderr, "iotkit: edge run: cannot open '%s'\n", pos[1]);
    return CLI_EXIT_USAGE;
  }
  replay_t r = {.quiet = quiet};
  iotkit_edge_config_t cfg;
  iotkit_edge_config_init(&cfg);
  cfg.on_point = on_point;
  cfg.user = &r;
  iotkit_edge_t *edge = NULL;
  iotkit_err_t err = iotkit_edge_new(&cfg, &edge);
  if (err == IOTKIT_OK) err = iotkit_edge_load(edge, json, len);
  free(json);
  if (err != IOTKIT_OK) {
    rc = refused(pos[0], err, iotkit_edge_error_pointer(edge), iotkit_edge_last_error(edge));
    iotkit_edge_free(edge);
    if (in != stdin) fclose(in);
    return rc;
  }
  static char line[MAX_LINE];
  uint64_t lineno = 0;
  while (fgets(line, sizeof(line), in)) {
    lineno++;
    if (line[strspn(line, " \t\r\n")] == '\0') continue;
    replay_line(edge, &r, line, lineno);
  }
  if (in != stdin) fclose(in);
  (void)iotkit_edge_flush(edge);
  print_actions(edge, quiet);
  iotkit_edge_stats_t st;
  (void)iotkit_edge_stats(edge, &st);
  double saved = st.points_in ? 100.0 * (double)(st.points_in - st.points_sent) / (double)st.points_in : 0.0;
  printf("summary: in %" PRIu64 " sent %" PRIu64 " held %" PRIu64 " saved %.1f%% emitted %" PRIu64 " actions %" PRIu64
         " dropped_actions %" PRIu64 " skipped %" PRIu64 " bad_lines %" PRIu64 "\n",
         st.points_in, st.points_sent, st.points_held, saved, st.points_emitted, st.actions, st.actions_dropped,
         st.non_finite + st.duplicates, r.bad_lines);
  iotkit_edge_free(edge);
  return CLI_EXIT_OK;
}

int cmd_edge(int argc, char **argv) {
  static const cli_command_t table[] = {
      {"check", check, "validate an edge configuration"},
      {"run", run, "replay points (JSON lines) through an edge configuration"},
      {NULL, NULL, NULL},
  };
  return cli_dispatch("edge", table, argc - 1, argv + 1);
}
