/* iotkit fleet rollout ...: staged OTA rollouts kept in the registry database
   (create, start, pause, resume, cancel, show, list). Publishing the manifest
   and following the devices' reports needs a broker session: `rollout watch`
   (cmd_fleet_rollout_watch.c) or `fleet watch` on the same database. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet_cli.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_IDS 48

static int rollout_fail(fleet_cli_t *c, const char *rid, iotkit_err_t rc) {
  if (rc == IOTKIT_ERR_NOT_FOUND && rid) {
    fprintf(stderr, "iotkit: %s: no rollout '%s' (IOTKIT_ERR_NOT_FOUND)\n", c->cmd, rid);
    return CLI_EXIT_NOT_FOUND;
  }
  return fleet_cli_fail(c, rc);
}

/* "10%,50%,100%": cumulative shares of the target set (strictly increasing, at most 100);
   "5,10,20": group sizes. Thresholds @p success and @p error for every group. */
static bool parse_groups(const char *cmd, const char *text, unsigned success, unsigned error,
                         iotkit_fleet_group_spec_t *g, size_t *n) {
  *n = 0;
  bool pct = strchr(text, '%') != NULL;
  unsigned long prev = 0;
  const char *p = text;
  while (*p || *n == 0) {
    char *end = NULL;
    errno = 0;
    unsigned long v = *p >= '0' && *p <= '9' ? strtoul(p, &end, 10) : 0;
    bool ok = end && !errno && v > 0 && *n < IOTKIT_FLEET_ROLLOUT_MAX_GROUPS;
    if (ok && pct) ok = *end == '%' && v > prev && v <= 100, end += ok;
    if (ok && !pct) ok = v <= IOTKIT_FLEET_ROLLOUT_MAX_DEVICES;
    if (!ok || (*end && *end != ',') || (*end == ',' && !end[1])) {
      cli_usage_error("%s: --groups wants increasing percentages such as 10%%,50%%,100%% or group sizes such as "
                      "5,10,20 (at most %d groups), not '%s'",
                      cmd, IOTKIT_FLEET_ROLLOUT_MAX_GROUPS, text);
      return false;
    }
    iotkit_fleet_group_spec_init(&g[*n]);
    if (pct)
      g[*n].percent = (unsigned)(v - prev), prev = v;
    else
      g[*n].count = v;
    g[*n].success_pct = success;
    g[*n].error_pct = error;
    (*n)++;
    p = *end ? end + 1 : end;
  }
  return true;
}

/* The manifest's own key id trusts the PEM public key of --trust (or --key-id's). */
static int load_trust(fleet_cli_t *c, const char *pem_path, const char *key_id, const char *manifest, size_t len,
                      iotkit_ota_trust_t **trust) {
  FILE *f = fopen(pem_path, "rb");
  if (!f) {
    fprintf(stderr, "iotkit: %s: cannot open --trust '%s': %s\n", c->cmd, pem_path, strerror(errno));
    return CLI_EXIT_USAGE;
  }
  char pem[8192];
  size_t n = fread(pem, 1, sizeof pem, f);
  fclose(f);
  iotkit_ota_manifest_t *m = NULL;
  iotkit_err_t rc = iotkit_ota_manifest_parse(manifest, len, &m);
  if (rc != IOTKIT_OK) return cli_crypto_error("fleet rollout create: the manifest", rc, CLI_EXIT_REFUSED);
  rc = iotkit_ota_trust_new(trust);
  if (rc == IOTKIT_OK) rc = iotkit_ota_trust_add_pem(*trust, key_id ? key_id : iotkit_ota_manifest_key_id(m), pem, n);
  iotkit_ota_manifest_free(m);
  if (rc != IOTKIT_OK) return cli_crypto_error("fleet rollout create: --trust", rc, CLI_EXIT_USAGE);
  return CLI_EXIT_OK;
}

static int rollout_create(int argc, char **argv) {
  const char *db = NULL, *manifest_path = NULL, *trust_path = NULL, *key_id = NULL, *groups_text = "100%",
             *success_text = "50", *error_text = "50", *type = NULL, *tag = NULL, *cmd = "fleet rollout create";
  bool json = false, all = false;
  const cli_opt_t opts[] = {FLEET_CLI_COMMON_OPTS(&db, &json), {"manifest", &manifest_path, NULL},
                            {"trust", &trust_path, NULL},        {"key-id", &key_id, NULL},
                            {"groups", &groups_text, NULL},      {"success", &success_text, NULL},
                            {"error", &error_text, NULL},        {"type", &type, NULL},
                            {"tag", &tag, NULL},                 {"all", NULL, &all}};
  const char *pos[MAX_IDS + 1];
  size_t npos = 0;
  if (cli_parse_positional(argc, argv, opts, N(opts), pos, N(pos), &npos) != CLI_EXIT_OK) return CLI_EXIT_USAGE;
  if (npos < 1) return cli_usage_error("%s: the rollout ID is required", cmd);
  if (!iotkit_protocol_device_id_valid(pos[0]))
    return cli_usage_error("%s: '%s' is not a rollout id (1..%d of [A-Za-z0-9._-])", cmd, pos[0], IOTKIT_MAX_DEVICE_ID);
  if (!manifest_path) return cli_usage_error("%s: --manifest FILE is required (a manifest signed by ota sign)", cmd);
  if (!trust_path) return cli_usage_error("%s: --trust PEM is required (the public key manifests are checked with)", cmd);
  unsigned long success = 0, error = 0;
  if (!cli_parse_num("success", success_text, 0, 100, &success) || !cli_parse_num("error", error_text, 0, 100, &error))
    return CLI_EXIT_USAGE;
  iotkit_fleet_group_spec_t groups[IOTKIT_FLEET_ROLLOUT_MAX_GROUPS];
  size_t n_groups = 0;
  if (!parse_groups(cmd, groups_text, (unsigned)success, (unsigned)error, groups, &n_groups)) return CLI_EXIT_USAGE;
  iotkit_fleet_filter_t filter;
  iotkit_fleet_target_t target;
  if (fleet_cli_target(cmd, type, tag, all, pos + 1, npos - 1, &filter, &target) != CLI_EXIT_OK) return CLI_EXIT_USAGE;
  size_t len = 0;
  char *manifest = cli_read_manifest(manifest_path, &len);
  if (!manifest) return CLI_EXIT_USAGE;

  fleet_cli_t c;
  fleet_cli_init(&c, cmd);
  iotkit_ota_trust_t *trust = NULL;
  int code = load_trust(&c, trust_path, key_id, manifest, len, &trust);
  if (code == CLI_EXIT_OK) code = fleet_cli_open(&c, db, false);
  if (code == CLI_EXIT_OK) {
    (void)iotkit_fleet_set_ota_trust(c.fleet, trust);
    iotkit_fleet_rollout_spec_t s;
    iotkit_fleet_rollout_spec_init(&s);
    s.id = pos[0];
    s.manifest = manifest;
    s.manifest_len = len;
    s.device_ids = target.ids;
    s.device_count = target.id_count;
    s.filter = target.filter;
    s.groups = groups;
    s.group_count = n_groups;
    iotkit_err_t rc = iotkit_fleet_rollout_create(c.fleet, &s);
    iotkit_fleet_rollout_info_t *in = NULL;
    if (rc == IOTKIT_OK) rc = iotkit_fleet_rollout_get(c.fleet, pos[0], &in);
    if (rc == IOTKIT_ERR_BUSY) {
      fprintf(stderr, "iotkit: %s: a device is in another rollout that has not ended (IOTKIT_ERR_BUSY)\n", cmd);
      code = CLI_EXIT_STATE;
    } else if (rc != IOTKIT_OK) {
      code = fleet_cli_fail(&c, rc);
    } else {
      printf("rollout %s created: %s %s to %zu devices in %zu groups (start it with: fleet rollout start %s)\n",
             in->id, in->device_type, in->version, in->counts.total, in->group_count, in->id);
    }
    iotkit_fleet_rollout_info_free(in);
    fleet_cli_close(&c);
  }
  iotkit_ota_trust_free(trust);
  free(manifest);
  return code;
}

/* start, pause, resume, cancel <rid>. */
/* The arguments of a command on one rollout (its ID, --db, --json), then the registry opened:
   CLI_EXIT_OK with @p c open, or the exit code (nothing open). */
static int rollout_open_one(int argc, char **argv, const char *cmd, fleet_cli_t *c, const char **rid, bool *json) {
  const char *db = NULL;
  const cli_opt_t opts[] = {FLEET_CLI_COMMON_OPTS(&db, json)};
  size_t npos = 0;
  if (cli_parse_positional(argc, argv, opts, N(opts), rid, 1, &npos) != CLI_EXIT_OK) return CLI_EXIT_USAGE;
  if (npos != 1) return cli_usage_error("%s: the rollout ID is required", cmd);
  fleet_cli_init(c, cmd);
  return fleet_cli_open(c, db, false);
}

static int rollout_change(int argc, char **argv) {
  static const struct {
    const char *name, *done;
    iotkit_err_t (*fn)(iotkit_fleet_t *, const char *);
  } ops[] = {{"start", "started", iotkit_fleet_rollout_start},
             {"pause", "paused", iotkit_fleet_rollout_pause},
             {"resume", "resumed", iotkit_fleet_rollout_resume},
             {"cancel", "canceled", iotkit_fleet_rollout_cancel}};
  size_t op = 0;
  while (strcmp(ops[op].name, argv[0]) != 0) op++;
  char cmd[40];
  snprintf(cmd, sizeof cmd, "fleet rollout %s", ops[op].name);
  const char *rid = NULL;
  bool json = false;
  fleet_cli_t c;
  int code = rollout_open_one(argc, argv, cmd, &c, &rid, &json);
  if (code != CLI_EXIT_OK) return code;
  iotkit_err_t rc = ops[op].fn(c.fleet, rid);
  iotkit_fleet_rollout_info_t *in = NULL;
  if (rc == IOTKIT_ERR_STATE && iotkit_fleet_rollout_get(c.fleet, rid, &in) == IOTKIT_OK) {
    fprintf(stderr, "iotkit: %s: rollout '%s' is %s (IOTKIT_ERR_STATE)\n", cmd, rid,
            iotkit_fleet_rollout_state_name(in->state));
    code = CLI_EXIT_STATE;
  } else if (rc != IOTKIT_OK) {
    code = rollout_fail(&c, rid, rc);
  } else {
    (void)iotkit_fleet_sync(c.fleet);
    printf("rollout %s %s\n", rid, ops[op].done);
  }
  iotkit_fleet_rollout_info_free(in);
  fleet_cli_close(&c);
  return code;
}

static int rollout_show(int argc, char **argv) {
  const char *rid = NULL;
  bool json = false;
  fleet_cli_t c;
  int code = rollout_open_one(argc, argv, "fleet rollout show", &c, &rid, &json);
  if (code != CLI_EXIT_OK) return code;
  iotkit_fleet_rollout_info_t *in = NULL;
  iotkit_err_t rc = iotkit_fleet_rollout_get(c.fleet, rid, &in);
  if (rc != IOTKIT_OK) {
    code = rollout_fail(&c, rid, rc);
  } else if (json) {
    cJSON *o = cJSON_CreateObject(), *gs = cJSON_AddArrayToObject(o, "groups");
    cJSON_AddStringToObject(o, "id", in->id);
    cJSON_AddStringToObject(o, "state", iotkit_fleet_rollout_state_name(in->state));
    cJSON_AddStringToObject(o, "version", in->version);
    cJSON_AddStringToObject(o, "device_type", in->device_type);
    cJSON_AddStringToObject(o, "reason", in->reason);
    cJSON_AddNumberToObject(o, "error_group", in->error_group);
    for (size_t i = 0; i < in->group_count; i++) {
      const iotkit_fleet_group_info_t *g = &in->groups[i];
      cJSON *j = cJSON_CreateObject();
      cJSON_AddStringToObject(j, "state", iotkit_fleet_group_state_name(g->state));
      cJSON_AddNumberToObject(j, "total", (double)g->counts.total);
      cJSON_AddNumberToObject(j, "pending", (double)g->counts.pending);
      cJSON_AddNumberToObject(j, "running", (double)g->counts.running);
      cJSON_AddNumberToObject(j, "finished", (double)g->counts.finished);
      cJSON_AddNumberToObject(j, "error", (double)g->counts.error);
      cJSON_AddNumberToObject(j, "canceled", (double)g->counts.canceled);
      cJSON_AddItemToArray(gs, j);
    }
    code = fleet_cli_print_json(o);
  } else {
    fleet_cli_rollout_print(in, "\n");
  }
  iotkit_fleet_rollout_info_free(in);
  fleet_cli_close(&c);
  return code;
}

static int rollout_list(int argc, char **argv) {
  const char *db = NULL, *cmd = "fleet rollout list";
  bool json = false;
  const cli_opt_t opts[] = {FLEET_CLI_COMMON_OPTS(&db, &json)};
  if (cli_parse_opts(argc, argv, opts, N(opts)) != CLI_EXIT_OK) return CLI_EXIT_USAGE;
  fleet_cli_t c;
  fleet_cli_init(&c, cmd);
  int code = fleet_cli_open(&c, db, false);
  if (code != CLI_EXIT_OK) return code;
  char **ids = NULL;
  size_t n = 0;
  iotkit_err_t rc = iotkit_fleet_rollout_list(c.fleet, &ids, &n);
  if (rc != IOTKIT_OK) {
    code = fleet_cli_fail(&c, rc);
  } else {
    static const char *const header[] = {"ID", "STATE", "VERSION", "DEVICES", "FINISHED", "ERRORS"};
    fleet_table_t t;
    fleet_table_init(&t, N(header), header);
    cJSON *arr = json ? cJSON_CreateArray() : NULL;
    for (size_t i = 0; i < n; i++) {
      iotkit_fleet_rollout_info_t *in = NULL;
      if (iotkit_fleet_rollout_get(c.fleet, ids[i], &in) != IOTKIT_OK) continue;
      char total[24], fin[24], err[24];
      snprintf(total, sizeof total, "%zu", in->counts.total);
      snprintf(fin, sizeof fin, "%zu", in->counts.finished);
      snprintf(err, sizeof err, "%zu", in->counts.error);
      const char *row[] = {in->id, iotkit_fleet_rollout_state_name(in->state), in->version, total, fin, err};
      fleet_table_row(&t, row);
      if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", in->id);
        cJSON_AddStringToObject(o, "state", row[1]);
        cJSON_AddStringToObject(o, "version", in->version);
        cJSON_AddItemToArray(arr, o);
      }
      iotkit_fleet_rollout_info_free(in);
    }
    if (json)
      code = fleet_cli_print_json(arr);
    else
      fleet_table_print(&t, "\n", 0);
    fleet_table_free(&t);
    iotkit_fleet_rollout_ids_free(ids, n);
  }
  fleet_cli_close(&c);
  return code;
}

static const cli_command_t rollout_commands[] = {
    {"create", rollout_create, "create a rollout (READY) from a signed manifest"},
    {"start", rollout_change, "start a READY rollout"},
    {"pause", rollout_change, "pause a RUNNING rollout"},
    {"resume", rollout_change, "resume a PAUSED rollout"},
    {"cancel", rollout_change, "cancel a rollout that has not ended"},
    {"show", rollout_show, "state and per-group progress"},
    {"list", rollout_list, "every rollout"},
    {"watch", cmd_fleet_rollout_watch, "drive the broker session, redraw progress until the rollout ends"},
    {NULL, NULL, NULL},
};

int cmd_fleet_rollout(int argc, char **argv) { return cli_dispatch("fleet rollout", rollout_commands, argc - 1, argv + 1); }
