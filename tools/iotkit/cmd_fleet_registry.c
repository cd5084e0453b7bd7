/* iotkit fleet list | show | create | update | delete: the registry. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet_cli.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Split "a,b,c" into tags (pointers into the copy @p *buf; free it and *tags). "" gives none. */
static bool split_tags(const char *text, char **buf, const char ***tags, size_t *n) {
  *buf = NULL;
  *tags = NULL;
  *n = 0;
  if (!text || !*text) return true;
  size_t count = 1;
  for (const char *p = text; *p; p++) count += *p == ',';
  *buf = strdup(text);
  *tags = calloc(count, sizeof **tags);
  if (!*buf || !*tags) {
    free(*buf);
    free(*tags);
    return false;
  }
  char *s = *buf;
  for (size_t i = 0; i < count; i++) {
    (*tags)[i] = s;
    char *comma = strchr(s, ',');
    if (comma) {
      *comma = '\0';
      s = comma + 1;
    }
  }
  *n = count;
  return true;
}

int fleet_cli_args_id(const char *cmd, int argc, char **argv, const cli_opt_t *opts, size_t n, const char **id) {
  const char *pos[1];
  size_t npos = 0;
  if (cli_parse_positional(argc, argv, opts, n, pos, 1, &npos) != CLI_EXIT_OK) return CLI_EXIT_USAGE;
  if (npos != 1) return cli_usage_error("%s: the device ID is required", cmd);
  if (!fleet_cli_check_id(cmd, pos[0])) return CLI_EXIT_USAGE;
  *id = pos[0];
  return CLI_EXIT_OK;
}

/* ------------------------------------------------------------- list -- */

static void table_add_device(fleet_table_t *t, const iotkit_fleet_device_t *d) {
  char seen[40], tags[512];
  fleet_cli_join_tags(d, tags, sizeof tags);
  const char *row[] = {d->id, d->online ? "online" : "offline", fleet_cli_time(d->last_seen_ms, seen, sizeof seen),
                       d->type, d->name, tags};
  fleet_table_row(t, row);
}

int cmd_fleet_list(int argc, char **argv) {
  const char *db = NULL, *type = NULL, *tag = NULL, *before = NULL, *after = NULL, *limit_text = NULL,
             *cursor = NULL;
  bool json = false, online = false, offline = false;
  const cli_opt_t opts[] = {FLEET_CLI_COMMON_OPTS(&db, &json),
                            {"type", &type, NULL},
                            {"tag", &tag, NULL},
                            {"online", NULL, &online},
                            {"offline", NULL, &offline},
                            {"seen-before", &before, NULL},
                            {"seen-after", &after, NULL},
                            {"limit", &limit_text, NULL},
                            {"after", &cursor, NULL}};
  const char *cmd = "fleet list";
  if (cli_parse_opts(argc, argv, opts, N(opts)) != CLI_EXIT_OK) return CLI_EXIT_USAGE;
  if (online && offline) return cli_usage_error("%s: --online and --offline exclude each other", cmd);
  iotkit_fleet_filter_t filter;
  iotkit_fleet_filter_init(&filter);
  filter.type = type;
  filter.tag = tag;
  filter.online = online ? IOTKIT_FLEET_ONLINE_ONLY : offline ? IOTKIT_FLEET_OFFLINE_ONLY : IOTKIT_FLEET_ONLINE_ANY;
  if (before && !fleet_cli_parse_time(cmd, "seen-before", before, &filter.last_seen_before_ms)) return CLI_EXIT_USAGE;
  if (after && !fleet_cli_parse_time(cmd, "seen-after", after, &filter.last_seen_after_ms)) return CLI_EXIT_USAGE;
  unsigned long limit = 0;
  if (limit_text && !cli_parse_num("limit", limit_text, 1, IOTKIT_FLEET_MAX_PAGE, &limit)) return CLI_EXIT_USAGE;
  if (cursor && !fleet_cli_check_id(cmd, cursor)) return CLI_EXIT_USAGE;

  fleet_cli_t c;
  fleet_cli_init(&c, cmd);
  int code = fleet_cli_open(&c, db, false);
  if (code != CLI_EXIT_OK) return code;
  /* With --limit, one page from --after; without, every page. */
  cJSON *root = json ? cJSON_CreateObject() : NULL;
  cJSON *arr = root ? cJSON_AddArrayToObject(root, "devices") : NULL;
  static const char *const header[] = {"ID", "STATUS", "LAST SEEN", "TYPE", "NAME", "TAGS"};
  fleet_table_t t;
  fleet_table_init(&t, N(header), header);
  char *next = cursor ? strdup(cursor) : NULL;
  size_t total = 0;
  do {
    iotkit_fleet_page_t *page = NULL;
    iotkit_err_t rc = iotkit_fleet_list(c.fleet, &filter, next, limit ? limit : IOTKIT_FLEET_MAX_PAGE, &page);
    if (rc != IOTKIT_OK) {
      code = fleet_cli_fail(&c, rc);
      break;
    }
    for (size_t i = 0; i < page->count; i++) {
      if (json)
        cJSON_AddItemToArray(arr, fleet_cli_device_json(page->devices[i]));
      else
        table_add_device(&t, page->devices[i]);
    }
    total += page->count;
    free(next);
    next = page->next_after ? strdup(page->next_after) : NULL;
    iotkit_fleet_page_free(page);
  } while (next && !limit);
  if (code == CLI_EXIT_OK && json) {
    if (next)
      cJSON_AddStringToObject(root, "next_after", next);
    else
      cJSON_AddNullToObject(root, "next_after");
    code = fleet_cli_print_json(root);
    root = NULL;
  } else if (code == CLI_EXIT_OK) {
    if (total == 0)
      printf("(no devices)\n");
    else
      fleet_table_print(&t, "\n", 0);
    if (next) printf("(more: --after %s)\n", next);
  }
  cJSON_Delete(root);
  free(next);
  fleet_table_free(&t);
  fleet_cli_close(&c);
  return code;
}

/* ------------------------------------------------------------- show -- */

static int show_json(fleet_cli_t *c, const iotkit_fleet_device_t *d, const iotkit_fleet_presence_t *pr,
                     const char *state, int64_t state_ts, const iotkit_telemetry_batch_t *latest,
                     const iotkit_location_t *loc) {
  (void)c;
  cJSON *o = fleet_cli_device_json(d);
  cJSON *p = cJSON_CreateObject();
  if (!o || !p || !cJSON_AddItemToObject(o, "presence", p)) {
    cJSON_Delete(p);
    cJSON_Delete(o);
    return fleet_cli_print_json(NULL);
  }
  cJSON_AddBoolToObject(p, "online", pr->online);
  cJSON_AddBoolToObject(p, "stale", pr->stale);
  fleet_cli_add_number(p, "last_seen_ms", (double)pr->last_seen_ms);
  if (pr->status_ts_ms == IOTKIT_PROTOCOL_NO_TS)
    cJSON_AddNullToObject(p, "status_ts_ms");
  else
    fleet_cli_add_number(p, "status_ts_ms", (double)pr->status_ts_ms);
  if (state)
    cJSON_AddRawToObject(o, "state", state);
  else
    cJSON_AddNullToObject(o, "state");
  fleet_cli_add_number(o, "state_ts_ms", (double)state_ts);
  cJSON_AddItemToObject(o, "latest", fleet_cli_points_json(latest));
  if (loc)
    cJSON_AddItemToObject(o, "location", fleet_cli_location_json(loc));
  else
    cJSON_AddNullToObject(o, "location");
  return fleet_cli_print_json(o);
}

static void show_text(const iotkit_fleet_device_t *d, const iotkit_fleet_presence_t *pr, const char *state,
                      const iotkit_telemetry_batch_t *latest, const iotkit_location_t *loc) {
  char t1[40], t2[40], t3[40];
  fleet_table_t t;
  static const char *const header[] = {"FIELD", "VALUE"};
  fleet_table_init(&t, 2, header);
  char tags[512];
  fleet_cli_join_tags(d, tags, sizeof tags);
  const char *status = pr->online ? (pr->stale ? "online (stale)" : "online") : "offline";
  const char *rows[][2] = {{"id", d->id},
                           {"name", d->name},
                           {"type", d->type},
                           {"tags", tags},
                           {"attributes", d->attributes},
                           {"status", status},
                           {"last seen", fleet_cli_time(pr->last_seen_ms, t1, sizeof t1)},
                           {"created", fleet_cli_time(d->created_ms, t2, sizeof t2)},
                           {"updated", fleet_cli_time(d->updated_ms, t3, sizeof t3)},
                           {"state", state ? state : "(none)"}};
  for (size_t i = 0; i < N(rows); i++) fleet_table_row(&t, rows[i]);
  size_t n = latest ? iotkit_telemetry_batch_count(latest) : 0;
  for (size_t i = 0; i < n; i++) {
    const iotkit_telemetry_point_t *pp = NULL;
    if (iotkit_telemetry_batch_get(latest, i, &pp) != IOTKIT_OK) continue;
    iotkit_telemetry_point_t p = *pp;
    char label[160], v[128], value[256], when[40];
    snprintf(label, sizeof label, "value %s", p.name);
    snprintf(value, sizeof value, "%s%s%s at %s", fleet_cli_value(&p, v, sizeof v), p.unit ? " " : "",
             p.unit ? p.unit : "", fleet_cli_time(p.ts_ms, when, sizeof when));
    const char *row[] = {label, value};
    fleet_table_row(&t, row);
  }
  char where[160] = "(none)";
  if (loc) {
    char when[40];
    snprintf(where, sizeof where, "%.7f %.7f at %s", loc->latitude, loc->longitude,
             fleet_cli_time(loc->ts_ms, when, sizeof when));
  }
  const char *row[] = {"location", where};
  fleet_table_row(&t, row);
  fleet_table_print(&t, "\n", 0);
  fleet_table_free(&t);
}

int cmd_fleet_show(int argc, char **argv) {
  const char *db = NULL, *id = NULL, *cmd = "fleet show";
  bool json = false;
  const cli_opt_t opts[] = {FLEET_CLI_COMMON_OPTS(&db, &json)};
  if (fleet_cli_args_id(cmd, argc, argv, opts, N(opts), &id) != CLI_EXIT_OK) return CLI_EXIT_USAGE;
  fleet_cli_t c;
  fleet_cli_init(&c, cmd);
  int code = fleet_cli_open(&c, db, false);
  if (code != CLI_EXIT_OK) return code;
  iotkit_fleet_device_t *d = NULL;
  iotkit_fleet_presence_t pr;
  char *state = NULL;
  int64_t state_ts = 0;
  iotkit_telemetry_batch_t *latest = NULL;
  iotkit_location_t loc;
  iotkit_err_t rc = iotkit_fleet_device_get(c.fleet, id, &d);
  if (rc == IOTKIT_OK) rc = iotkit_fleet_presence(c.fleet, id, &pr);
  if (rc == IOTKIT_OK) rc = iotkit_fleet_state(c.fleet, id, &state, &state_ts);
  if (rc == IOTKIT_OK) rc = iotkit_fleet_latest(c.fleet, id, NULL, &latest);
  bool has_loc = rc == IOTKIT_OK && iotkit_fleet_locate(c.fleet, id, &loc) == IOTKIT_OK;
  if (rc != IOTKIT_OK)
    code = fleet_cli_fail(&c, rc);
  else if (json)
    code = show_json(&c, d, &pr, state, state_ts, latest, has_loc ? &loc : NULL);
  else
    show_text(d, &pr, state, latest, has_loc ? &loc : NULL);
  iotkit_telemetry_batch_free(latest);
  iotkit_free(state);
  iotkit_fleet_device_free(d);
  fleet_cli_close(&c);
  return code;
}

/* ------------------------------------------------- create and update -- */

/* create and update: the same options; update changes only those given. */
static int write_device(int argc, char **argv, bool create) {
  const char *db = NULL, *name = NULL, *type = NULL, *tags_text = NULL, *attributes = NULL, *id = NULL;
  const char *cmd = create ? "fleet create" : "fleet update";
  bool json = false;
  const cli_opt_t opts[] = {FLEET_CLI_COMMON_OPTS(&db, &json),
                            {"name", &name, NULL},
                            {"type", &type, NULL},
                            {"tags", &tags_text, NULL},
                            {"attributes", &attributes, NULL}};
  if (fleet_cli_args_id(cmd, argc, argv, opts, N(opts), &id) != CLI_EXIT_OK) return CLI_EXIT_USAGE;
  uint32_t fields = (name ? IOTKIT_FLEET_FIELD_NAME : 0u) | (type ? IOTKIT_FLEET_FIELD_TYPE : 0u) |
                    (tags_text ? IOTKIT_FLEET_FIELD_TAGS : 0u) | (attributes ? IOTKIT_FLEET_FIELD_ATTRIBUTES : 0u);
  if (!create && !fields)
    return cli_usage_error("%s: nothing to change (give --name, --type, --tags or --attributes)", cmd);
  char *tag_buf = NULL;
  const char **tags = NULL;
  size_t tag_count = 0;
  if (!split_tags(tags_text, &tag_buf, &tags, &tag_count)) return cli_usage_error("%s: out of memory", cmd);
  fleet_cli_t c;
  fleet_cli_init(&c, cmd);
  int code = fleet_cli_open(&c, db, create);
  if (code == CLI_EXIT_OK) {
    iotkit_fleet_device_spec_t spec;
    iotkit_fleet_device_spec_init(&spec);
    spec.id = id;
    spec.name = name;
    spec.type = type;
    spec.tags = tags;
    spec.tag_count = tag_count;
    spec.attributes = attributes;
    iotkit_err_t rc = create ? iotkit_fleet_device_create(c.fleet, &spec) : iotkit_fleet_device_update(c.fleet, &spec, fields);
    iotkit_fleet_device_t *d = NULL;
    if (rc == IOTKIT_OK) rc = iotkit_fleet_device_get(c.fleet, id, &d);
    if (rc != IOTKIT_OK)
      code = fleet_cli_fail(&c, rc);
    else if (json)
      code = fleet_cli_print_json(fleet_cli_device_json(d));
    else
      printf("%s %s\n", create ? "created" : "updated", id);
    iotkit_fleet_device_free(d);
    fleet_cli_close(&c);
  }
  free(tag_buf);
  free(tags);
  return code;
}

int cmd_fleet_create(int argc, char **argv) { return write_device(argc, argv, true); }
int cmd_fleet_update(int argc, char **argv) { return write_device(argc, argv, false); }

int cmd_fleet_delete(int argc, char **argv) {
  const char *db = NULL, *id = NULL, *cmd = "fleet delete";
  bool json = false;
  const cli_opt_t opts[] = {FLEET_CLI_COMMON_OPTS(&db, &json)};
  if (fleet_cli_args_id(cmd, argc, argv, opts, N(opts), &id) != CLI_EXIT_OK) return CLI_EXIT_USAGE;
  fleet_cli_t c;
  fleet_cli_init(&c, cmd);
  int code = fleet_cli_open(&c, db, false);
  if (code != CLI_EXIT_OK) return code;
  iotkit_err_t rc = iotkit_fleet_device_delete(c.fleet, id);
  if (rc != IOTKIT_OK) {
    code = fleet_cli_fail(&c, rc);
  } else if (json) {
    cJSON *o = cJSON_CreateObject();
    if (o && (!cJSON_AddStringToObject(o, "deleted", id))) {
      cJSON_Delete(o);
      o = NULL;
    }
    code = fleet_cli_print_json(o);
  } else {
    printf("deleted %s\n", id);
  }
  fleet_cli_close(&c);
  return code;
}
