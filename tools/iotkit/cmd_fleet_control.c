/* iotkit fleet cmd / desired: remote control of devices through the broker.
   The fleet's session is driven by this thread (the blocking calls drive it). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet_cli.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_IDS 32

int fleet_cli_connect(fleet_cli_t *c, const char *db, const char *uri) {
  if (!uri) return cli_usage_error("%s: --uri is required (the broker, e.g. mqtt://127.0.0.1:1883)", c->cmd);
  iotkit_uri_t parsed;
  memset(&parsed, 0, sizeof parsed);
  if (iotkit_uri_parse(uri, &parsed) != IOTKIT_OK) return cli_usage_error("%s: bad --uri '%s'", c->cmd, uri);
  iotkit_uri_clear(&parsed);
  c->cfg.uri = uri;
  int code = fleet_cli_open(c, db, false);
  if (code != CLI_EXIT_OK) return code;
  iotkit_err_t rc = iotkit_fleet_connect(c->fleet);
  if (rc == IOTKIT_OK) return CLI_EXIT_OK;
  char detail[IOTKIT_ERROR_TEXT_SIZE];
  fprintf(stderr, "iotkit: %s: cannot connect to %s: %s (%s)\n", c->cmd, uri,
          *iotkit_fleet_last_error(c->fleet, detail, sizeof detail) ? detail : iotkit_strerror(rc),
          iotkit_err_name(rc));
  fleet_cli_close(c);
  return fleet_cli_exit_code(rc) == CLI_EXIT_USAGE ? CLI_EXIT_USAGE : CLI_EXIT_CONNECT;
}

int fleet_cli_target(const char *cmd, const char *type, const char *tag, bool all, const char *const *ids,
                     size_t n_ids, iotkit_fleet_filter_t *filter, iotkit_fleet_target_t *t) {
  iotkit_fleet_target_init(t);
  iotkit_fleet_filter_init(filter);
  bool by_filter = type || tag || all;
  if (by_filter && n_ids) return cli_usage_error("%s: give device ids or --type/--tag/--all, not both", cmd);
  if (!by_filter && !n_ids) return cli_usage_error("%s: the devices are required (ids, or --type/--tag/--all)", cmd);
  for (size_t i = 0; i < n_ids; i++)
    if (!fleet_cli_check_id(cmd, ids[i])) return CLI_EXIT_USAGE;
  filter->type = type;
  filter->tag = tag;
  if (by_filter)
    t->filter = filter;
  else
    t->ids = ids, t->id_count = n_ids;
  return CLI_EXIT_OK;
}

/* Params or a patch given on the command line: a JSON object. */
static bool check_object(const char *cmd, const char *what, const char *text) {
  cJSON *o = cJSON_Parse(text);
  bool ok = cJSON_IsObject(o);
  cJSON_Delete(o);
  if (!ok) cli_usage_error("%s: %s must be a JSON object, not '%s'", cmd, what, text);
  return ok;
}

/* ---------------------------------------------------------------- cmd -- */

static const char *result_word(iotkit_err_t e) {
  switch (e) {
  case IOTKIT_OK: return "ok";
  case IOTKIT_ERR_REMOTE: return "error";
  case IOTKIT_ERR_TIMEOUT: return "timeout";
  case IOTKIT_ERR_OFFLINE: return "offline";
  case IOTKIT_ERR_NOT_FOUND: return "not_found";
  default: return "failed";
  }
}

static cJSON *result_json(const iotkit_fleet_result_t *r) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "id", r->device_id);
  cJSON_AddStringToObject(o, "status", result_word(r->err));
  if (r->err != IOTKIT_OK && r->err != IOTKIT_ERR_REMOTE) cJSON_AddStringToObject(o, "error_name", iotkit_err_name(r->err));
  if (r->result_json) cJSON_AddItemToObject(o, "result", cJSON_Parse(r->result_json));
  if (r->error_code) cJSON_AddStringToObject(o, "code", r->error_code);
  if (r->error_message) cJSON_AddStringToObject(o, "message", r->error_message);
  return o;
}

/* One device's result on a line: "<id> ok <json>", "<id> error <code>: <message>", "<id> timeout", ... */
static void result_line(const iotkit_fleet_result_t *r) {
  char text[IOTKIT_FLEET_MAX_CONTROL_JSON + 256];
  if (r->err == IOTKIT_OK)
    snprintf(text, sizeof text, "%s ok %s", r->device_id, r->result_json ? r->result_json : "null");
  else if (r->err == IOTKIT_ERR_REMOTE)
    snprintf(text, sizeof text, "%s error %s: %s", r->device_id, r->error_code ? r->error_code : "?",
             r->error_message ? r->error_message : "");
  else
    snprintf(text, sizeof text, "%s %s (%s)", r->device_id, result_word(r->err), iotkit_err_name(r->err));
  fleet_cli_sanitize(text);
  puts(text);
}

/* A single device's failure, on stderr. */
static int single_fail(fleet_cli_t *c, const char *id, iotkit_err_t rc, const iotkit_fleet_result_t *r,
                       unsigned long timeout) {
  if (rc == IOTKIT_ERR_REMOTE) {
    char text[IOTKIT_FLEET_MAX_CONTROL_JSON + 256];
    snprintf(text, sizeof text, "%s", r && r->error_message ? r->error_message : "");
    fleet_cli_sanitize(text);
    fprintf(stderr, "iotkit: %s: device '%s' answered error %s: %s\n", c->cmd, id,
            r && r->error_code ? r->error_code : "?", text);
  } else if (rc == IOTKIT_ERR_TIMEOUT) {
    fprintf(stderr, "iotkit: %s: device '%s' did not answer within %lu ms (IOTKIT_ERR_TIMEOUT)\n", c->cmd, id, timeout);
  } else if (rc == IOTKIT_ERR_OFFLINE) {
    fprintf(stderr, "iotkit: %s: device '%s' is offline; nothing was sent (IOTKIT_ERR_OFFLINE)\n", c->cmd, id);
  } else if (rc == IOTKIT_ERR_NOT_FOUND) {
    fprintf(stderr, "iotkit: %s: no device '%s' in the registry (IOTKIT_ERR_NOT_FOUND)\n", c->cmd, id);
  } else {
    return fleet_cli_fail(c, rc);
  }
  return fleet_cli_exit_code(rc);
}

int cmd_fleet_cmd(int argc, char **argv) {
  const char *db = NULL, *uri = NULL, *type = NULL, *tag = NULL, *timeout_text = "10000", *cmd = "fleet cmd";
  bool json = false, all = false;
  const cli_opt_t opts[] = {FLEET_CLI_COMMON_OPTS(&db, &json), {"uri", &uri, NULL},  {"timeout", &timeout_text, NULL},
                            {"type", &type, NULL},              {"tag", &tag, NULL}, {"all", NULL, &all}};
  const char *pos[MAX_IDS + 2];
  size_t npos = 0;
  if (cli_parse_positional(argc, argv, opts, N(opts), pos, N(pos), &npos) != CLI_EXIT_OK) return CLI_EXIT_USAGE;
  bool group = type || tag || all;
  /* Single: <id> <name> [params]. Group: <name> [params] with a filter. */
  size_t need = group ? 1 : 2;
  if (npos < need || npos > need + 1)
    return cli_usage_error("%s: usage: fleet cmd <id> <name> [json params] | fleet cmd --type T|--tag T|--all "
                           "<name> [json params]",
                           cmd);
  const char *id = group ? NULL : pos[0], *name = pos[need - 1], *params = npos > need ? pos[need] : NULL;
  if (id && !fleet_cli_check_id(cmd, id)) return CLI_EXIT_USAGE;
  if (!iotkit_protocol_name_valid(name))
    return cli_usage_error("%s: '%s' is not a command name (1..%u of [A-Za-z0-9._-])", cmd, name, IOTKIT_MAX_NAME);
  if (params && !check_object(cmd, "the params", params)) return CLI_EXIT_USAGE;
  unsigned long timeout = 0;
  if (!cli_parse_num("timeout", timeout_text, 1, IOTKIT_FLEET_COMMAND_TIMEOUT_MAX_MS, &timeout)) return CLI_EXIT_USAGE;
  iotkit_fleet_filter_t filter;
  iotkit_fleet_target_t target;
  if (group && fleet_cli_target(cmd, type, tag, all, NULL, 0, &filter, &target) != CLI_EXIT_OK) return CLI_EXIT_USAGE;

  fleet_cli_t c;
  fleet_cli_init(&c, cmd);
  int code = fleet_cli_connect(&c, db, uri);
  if (code != CLI_EXIT_OK) return code;
  iotkit_fleet_results_t *res = NULL;
  iotkit_err_t rc = group ? iotkit_fleet_command_group_call(c.fleet, &target, name, params, (uint32_t)timeout, &res)
                          : iotkit_fleet_command_call(c.fleet, id, name, params, (uint32_t)timeout, &res);
  if (!group && rc != IOTKIT_OK) {
    code = single_fail(&c, id, rc, res && res->count ? &res->items[0] : NULL, timeout);
  } else if (rc != IOTKIT_OK) {
    code = fleet_cli_fail(&c, rc);
  } else if (!group) {
    const iotkit_fleet_result_t *r = &res->items[0];
    code = json ? fleet_cli_print_json(result_json(r)) : (puts(r->result_json ? r->result_json : "null"), CLI_EXIT_OK);
  } else {
    /* Exit 0 if every device answered ok, else the code of the first that did not. */
    cJSON *arr = json ? cJSON_CreateArray() : NULL;
    for (size_t i = 0; i < res->count; i++) {
      if (json)
        cJSON_AddItemToArray(arr, result_json(&res->items[i]));
      else
        result_line(&res->items[i]);
      if (code == CLI_EXIT_OK) code = fleet_cli_exit_code(res->items[i].err);
    }
    if (json) (void)fleet_cli_print_json(arr);
    if (!json && res->count == 0) puts("no device matches");
  }
  fflush(stdout);
  iotkit_fleet_results_free(res);
  (void)iotkit_fleet_disconnect(c.fleet);
  fleet_cli_close(&c);
  return code;
}

/* ------------------------------------------------------------ desired -- */

static int desired_get(fleet_cli_t *c, const char *id, bool json) {
  char *state = NULL;
  uint64_t version = 0;
  iotkit_err_t rc = iotkit_fleet_desired_get(c->fleet, id, &state, &version);
  if (rc == IOTKIT_ERR_NOT_FOUND) {
    fprintf(stderr, "iotkit: %s: no desired state set for '%s' (IOTKIT_ERR_NOT_FOUND)\n", c->cmd, id);
    return CLI_EXIT_NOT_FOUND;
  }
  if (rc != IOTKIT_OK) return fleet_cli_fail(c, rc);
  int code = CLI_EXIT_OK;
  if (json) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddNumberToObject(o, "version", (double)version);
    cJSON_AddItemToObject(o, "state", cJSON_Parse(state));
    code = fleet_cli_print_json(o);
  } else {
    fleet_cli_sanitize(state);
    printf("version %" PRIu64 "\nstate %s\n", version, state);
  }
  iotkit_free(state);
  return code;
}

/* One device's outcome of a group's desired state: "<id> ok version N" or "<id> failed (IOTKIT_ERR_...)". */
static cJSON *desired_result_json(const iotkit_fleet_result_t *r) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "id", r->device_id);
  cJSON_AddStringToObject(o, "status", result_word(r->err));
  if (r->err == IOTKIT_OK) cJSON_AddNumberToObject(o, "version", (double)r->version);
  else cJSON_AddStringToObject(o, "error_name", iotkit_err_name(r->err));
  return o;
}

static void desired_result_line(const iotkit_fleet_result_t *r) {
  char text[IOTKIT_MAX_DEVICE_ID + 96];
  if (r->err == IOTKIT_OK)
    snprintf(text, sizeof text, "%s ok version %" PRIu64, r->device_id, r->version);
  else
    snprintf(text, sizeof text, "%s %s (%s)", r->device_id, result_word(r->err), iotkit_err_name(r->err));
  fleet_cli_sanitize(text);
  puts(text);
}

/* The group form: one patch for every device of the filter; exit 0 if every device took it,
   else the code of the first that did not. */
static int desired_group(fleet_cli_t *c, const iotkit_fleet_target_t *target, const char *patch, bool json) {
  iotkit_fleet_results_t *res = NULL;
  iotkit_err_t rc = iotkit_fleet_desired_group(c->fleet, target, patch, &res);
  if (rc != IOTKIT_OK) return fleet_cli_fail(c, rc);
  int code = CLI_EXIT_OK;
  cJSON *arr = json ? cJSON_CreateArray() : NULL;
  for (size_t i = 0; i < res->count; i++) {
    if (json)
      cJSON_AddItemToArray(arr, desired_result_json(&res->items[i]));
    else
      desired_result_line(&res->items[i]);
    if (code == CLI_EXIT_OK) code = fleet_cli_exit_code(res->items[i].err);
  }
  if (json) (void)fleet_cli_print_json(arr);
  if (!json && res->count == 0) puts("no device matches");
  iotkit_fleet_results_free(res);
  return code;
}

#define USAGE_DESIRED                                                                                                  \
  "%s: usage: fleet desired <id> [json merge patch] [--uri U] | fleet desired --type T|--tag T|--all "               \
  "<json merge patch> --uri U"

int cmd_fleet_desired(int argc, char **argv) {
  const char *db = NULL, *uri = NULL, *type = NULL, *tag = NULL, *cmd = "fleet desired";
  bool json = false, all = false;
  const cli_opt_t opts[] = {FLEET_CLI_COMMON_OPTS(&db, &json), {"uri", &uri, NULL},
                            {"type", &type, NULL}, {"tag", &tag, NULL}, {"all", NULL, &all}};
  const char *pos[2];
  size_t npos = 0;
  if (cli_parse_positional(argc, argv, opts, N(opts), pos, N(pos), &npos) != CLI_EXIT_OK) return CLI_EXIT_USAGE;
  bool group = type || tag || all;
  if (npos < 1) return cli_usage_error(USAGE_DESIRED, cmd);
  iotkit_fleet_filter_t filter;
  iotkit_fleet_target_t target;
  if (group) {
    /* "desired ID PATCH --type T" names devices both ways; "desired --all" has no patch to set. */
    if (npos == 2 && fleet_cli_target(cmd, type, tag, all, pos, 1, &filter, &target) != CLI_EXIT_OK)
      return CLI_EXIT_USAGE;
    if (fleet_cli_target(cmd, type, tag, all, NULL, 0, &filter, &target) != CLI_EXIT_OK) return CLI_EXIT_USAGE;
  } else if (!fleet_cli_check_id(cmd, pos[0])) {
    return CLI_EXIT_USAGE;
  }
  const char *patch = group ? pos[0] : npos == 2 ? pos[1] : NULL;
  fleet_cli_t c;
  fleet_cli_init(&c, cmd);
  if (!patch) { /* get: from the database, no broker */
    int code = fleet_cli_open(&c, db, false);
    if (code != CLI_EXIT_OK) return code;
    code = desired_get(&c, pos[0], json);
    fleet_cli_close(&c);
    return code;
  }
  if (!check_object(cmd, "the merge patch", patch)) return CLI_EXIT_USAGE;
  int code = fleet_cli_connect(&c, db, uri);
  if (code != CLI_EXIT_OK) return code;
  uint64_t version = 0;
  iotkit_err_t rc = group ? IOTKIT_OK : iotkit_fleet_desired_set(c.fleet, pos[0], patch, &version);
  if (group) {
    code = desired_group(&c, &target, patch, json);
  } else if (rc == IOTKIT_ERR_NOT_FOUND) {
    fprintf(stderr, "iotkit: %s: no device '%s' in the registry (IOTKIT_ERR_NOT_FOUND)\n", cmd, pos[0]);
    code = CLI_EXIT_NOT_FOUND;
  } else if (rc != IOTKIT_OK) {
    code = fleet_cli_fail(&c, rc);
  } else if (json) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", pos[0]);
    cJSON_AddNumberToObject(o, "version", (double)version);
    code = fleet_cli_print_json(o);
  } else {
    printf("version %" PRIu64 "\n", version);
  }
  /* The publish is QoS 1: let the session deliver it before it closes. */
  (void)iotkit_fleet_sync(c.fleet);
  (void)iotkit_fleet_disconnect(c.fleet);
  fleet_cli_close(&c);
  return code;
}
