/*
 * Commands: the request sent to a device (an id of this fleet's making,
 * registered as pending before it is published, so that a fast answer finds
 * it), the response matched by device and id, timeouts, and the blocking
 * calls that wait for (or drive) the session. See fleet_control.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "fleet/control.h"
#include "fleet/fleet_internal.h"
#include "fleet/registry.h"

/* How long a blocking call drives the session, or waits, between two looks at its results. */
#define WAIT_SLICE_MS 20u

static void ctl_lock(iotkit_fleet_t *f) { f->hal->mutex_lock(f->hal->ctx, f->ctl->lock); }
static void ctl_unlock(iotkit_fleet_t *f) { f->hal->mutex_unlock(f->hal->ctx, f->ctl->lock); }
static void wake(iotkit_fleet_t *f) {
  if (f->ctl->cond) f->hal->cond_broadcast(f->hal->ctx, f->ctl->cond);
}

/* The command arguments (rules in fleet_control.h); *timeout_ms gets the effective timeout. */
static iotkit_err_t check_command(iotkit_fleet_t *f, const char *name, const char *params, uint32_t *timeout_ms) {
  if (!name) return IOTKIT_ERR_INVALID_ARG;
  if (strlen(name) > IOTKIT_MAX_NAME) {
    iotkit__fleet_set_error(f, "command name longer than %u bytes", IOTKIT_MAX_NAME);
    return IOTKIT_ERR_TOO_LARGE;
  }
  if (!iotkit_protocol_name_valid(name)) {
    iotkit__fleet_set_error(f, "command name is empty or not of [A-Za-z0-9._-]");
    return IOTKIT_ERR_INVALID_ARG;
  }
  if (params) {
    iotkit_err_t err = iotkit__fleet_json_object_check(params);
    if (err != IOTKIT_OK) {
      iotkit__fleet_set_error(f, "command params: %s", err == IOTKIT_ERR_INVALID_ARG ? "not a JSON object"
                                                       : err == IOTKIT_ERR_TOO_LARGE ? "too large"
                                                                                     : "not JSON");
      return err;
    }
  }
  if (*timeout_ms > IOTKIT_FLEET_COMMAND_TIMEOUT_MAX_MS) return IOTKIT_ERR_INVALID_ARG;
  if (*timeout_ms == 0) *timeout_ms = IOTKIT_FLEET_COMMAND_TIMEOUT_DEFAULT_MS;
  return IOTKIT_OK;
}

static iotkit_err_t check_id(iotkit_fleet_t *f, const char *id) {
  if (!id) return IOTKIT_ERR_INVALID_ARG;
  if (iotkit__fleet_id_ok(id)) return IOTKIT_OK;
  iotkit__fleet_set_error(f, "invalid device id");
  return IOTKIT_ERR_INVALID_ARG;
}

static bool unlink_cmd(iotkit__fleet_cmd_t **head, iotkit__fleet_cmd_t *cmd) {
  for (iotkit__fleet_cmd_t **pp = head; *pp; pp = &(*pp)->next)
    if (*pp == cmd) {
      *pp = cmd->next;
      cmd->next = NULL;
      return true;
    }
  return false;
}

/*
 * Send one command. With @p w the result goes to slot @p slot of w's results,
 * else to @p cb. Refusals (unknown, offline, not connected, a failed send)
 * return their code and register nothing.
 */
static iotkit_err_t send_one(iotkit_fleet_t *f, const char *id, const char *name, const char *params,
                             uint32_t timeout_ms, iotkit_fleet_result_cb cb, void *user, iotkit__fleet_wait_t *w,
                             size_t slot, char *rid, size_t rid_cap) {
  iotkit_err_t err = iotkit__fleet_reachable(f, id, false);
  if (err == IOTKIT_OK && !iotkit_fleet_is_connected(f)) err = IOTKIT_ERR_NOT_CONNECTED;
  if (err == IOTKIT_OK) err = iotkit__fleet_reachable(f, id, true);
  if (err != IOTKIT_OK) {
    iotkit__fleet_set_error(f, "command %s to %s: %s", name, id,
                            err == IOTKIT_ERR_NOT_FOUND ? "not in the registry"
                            : err == IOTKIT_ERR_OFFLINE ? "the device is offline"
                                                        : "the fleet is not connected");
    return err;
  }
  iotkit__fleet_cmd_t *cmd = calloc(1, sizeof *cmd);
  if (!cmd) return IOTKIT_ERR_NOMEM;
  snprintf(cmd->device, sizeof cmd->device, "%s", id);
  ctl_lock(f);
  uint64_t seq = ++f->ctl->seq;
  ctl_unlock(f);
  snprintf(cmd->id, sizeof cmd->id, "%s%llu", f->ctl->prefix, (unsigned long long)seq);
  if (rid && strlen(cmd->id) >= rid_cap) {
    free(cmd);
    return IOTKIT_ERR_BUFFER_TOO_SMALL;
  }
  char *doc = NULL;
  err = iotkit_protocol_command_build(cmd->id, name, params, &doc);
  cmd->cb = cb;
  cmd->user = user;
  cmd->wait = w;
  cmd->slot = slot;
  cmd->deadline = UINT64_MAX; /* not expired by the driver before the send has returned */
  cmd->res.struct_size = sizeof cmd->res;
  iotkit_fleet_result_t *dst = w ? &w->res->items[slot] : &cmd->res;
  if (err == IOTKIT_OK && !w && !(cmd->res.device_id = iotkit__strdup(id))) err = IOTKIT_ERR_NOMEM;
  char *rcopy = err == IOTKIT_OK ? iotkit__strdup(cmd->id) : NULL;
  if (err == IOTKIT_OK && !rcopy) err = IOTKIT_ERR_NOMEM;
  if (err != IOTKIT_OK) {
    iotkit_free(doc);
    iotkit__fleet_result_clear(&cmd->res);
    free(cmd);
    return err;
  }
  free(dst->request_id);
  dst->request_id = rcopy;
  char req[sizeof cmd->id];
  memcpy(req, cmd->id, sizeof req);
  ctl_lock(f);
  cmd->next = f->ctl->pending;
  f->ctl->pending = cmd;
  ctl_unlock(f);
  err = iotkit__fleet_publish(f, id, "commands/request", doc, false);
  iotkit_free(doc);
  /* From here cmd may have been answered and freed by the driver: find it by its id. */
  ctl_lock(f);
  iotkit__fleet_cmd_t *still = NULL;
  for (iotkit__fleet_cmd_t *p = f->ctl->pending; p && !still; p = p->next)
    if (strcmp(p->id, req) == 0) still = p;
  if (err != IOTKIT_OK) {
    if (still) (void)unlink_cmd(&f->ctl->pending, still);
    ctl_unlock(f);
    if (!still) return IOTKIT_OK; /* answered all the same: its result is delivered */
    iotkit__fleet_set_error(f, "command %s to %s: cannot publish: %s", name, id, iotkit_strerror(err));
    if (w) dst->request_id[0] = '\0';
    iotkit__fleet_result_clear(&still->res);
    free(still);
    return err;
  }
  f->ctl->stats.commands_sent++;
  if (still) still->deadline = iotkit__fleet_mono(f) + timeout_ms;
  ctl_unlock(f);
  if (rid) snprintf(rid, rid_cap, "%s", req);
  return IOTKIT_OK;
}

/* ---------------------------------------------------------- responses -- */

static char *dup_or_null(const char *s) { return s ? iotkit__strdup(s) : NULL; }

void iotkit__fleet_response_in(iotkit_fleet_t *f, const char *id, const void *payload, size_t len) {
  iotkit__fleet_ctl_t *c = f->ctl;
  iotkit_command_response_t r;
  memset(&r, 0, sizeof r);
  iotkit_err_t err = iotkit_protocol_response_parse(payload, len, &r);
  if (err != IOTKIT_OK) {
    iotkit__fleet_ctl_count(f, &c->stats.unmatched_responses);
    iotkit__fleet_undecodable(f, id, "commands/response", len, err);
    return;
  }
  ctl_lock(f);
  iotkit__fleet_cmd_t *cmd = NULL;
  for (iotkit__fleet_cmd_t **pp = &c->pending; *pp; pp = &(*pp)->next)
    if (strcmp((*pp)->id, r.id) == 0 && strcmp((*pp)->device, id) == 0) {
      cmd = *pp;
      *pp = cmd->next;
      cmd->next = NULL;
      break;
    }
  if (!cmd) {
    /* Ours (this handle's prefix and a number it gave out) but no longer waited for: late. */
    size_t pl = strlen(c->prefix);
    bool ours = strncmp(r.id, c->prefix, pl) == 0 && strtoull(r.id + pl, NULL, 10) <= c->seq;
    if (ours) c->stats.late_responses++;
    else c->stats.unmatched_responses++;
    ctl_unlock(f);
    iotkit_hal_logf(f->hal, IOTKIT_LOG_INFO, "fleet: dropped a %s response from %s (request %s)",
                    ours ? "late" : "unmatched", id, r.id);
    iotkit_protocol_response_clear(&r);
    return;
  }
  c->stats.responses++;
  if (!r.ok) c->stats.remote_errors++;
  iotkit_fleet_result_t *dst = cmd->wait ? &cmd->wait->res->items[cmd->slot] : &cmd->res;
  dst->err = r.ok ? IOTKIT_OK : IOTKIT_ERR_REMOTE;
  dst->result_json = dup_or_null(r.result_json);
  dst->error_code = dup_or_null(r.error_code);
  dst->error_message = dup_or_null(r.error_message);
  if (cmd->wait) {
    cmd->wait->left--;
    wake(f);
  }
  ctl_unlock(f);
  iotkit_protocol_response_clear(&r);
  if (!cmd->wait && !f->closing) {
    iotkit__fleet_cb_enter(f);
    cmd->cb(f, cmd->user, &cmd->res);
    iotkit__fleet_cb_leave(f);
  }
  iotkit__fleet_result_clear(&cmd->res);
  free(cmd);
}

/* ------------------------------------------------------------ waiting -- */

/* Time out the commands of @p w still pending (its deadline has passed). */
static void expire_own(iotkit_fleet_t *f, iotkit__fleet_wait_t *w) {
  ctl_lock(f);
  for (iotkit__fleet_cmd_t **pp = &f->ctl->pending; *pp;) {
    iotkit__fleet_cmd_t *p = *pp;
    if (p->wait != w) {
      pp = &p->next;
      continue;
    }
    *pp = p->next;
    w->res->items[p->slot].err = IOTKIT_ERR_TIMEOUT;
    w->left--;
    f->ctl->stats.timeouts++;
    free(p);
  }
  ctl_unlock(f);
}

static size_t left_of(iotkit_fleet_t *f, iotkit__fleet_wait_t *w) {
  ctl_lock(f);
  size_t n = w->left;
  ctl_unlock(f);
  return n;
}

/* Wait for every result of @p w until @p deadline: the fleet's thread drives the session,
   or this call does, one poll at a time with other pollers. */
static void wait_all(iotkit_fleet_t *f, iotkit__fleet_wait_t *w, uint64_t deadline) {
  while (left_of(f, w) > 0) {
    uint64_t now = iotkit__fleet_mono(f);
    if (now >= deadline) {
      expire_own(f, w);
      return;
    }
    uint32_t slice = deadline - now < WAIT_SLICE_MS ? (uint32_t)(deadline - now) : WAIT_SLICE_MS;
    if (f->running) {
      if (f->ctl->cond) {
        ctl_lock(f);
        if (w->left > 0) (void)f->hal->cond_wait(f->hal->ctx, f->ctl->cond, f->ctl->lock, slice);
        ctl_unlock(f);
      } else if (f->hal->sleep_ms) {
        f->hal->sleep_ms(f->hal->ctx, slice < 5 ? slice : 5);
      }
      continue;
    }
    iotkit__fleet_poll_enter(f);
    bool drove = !f->running;
    if (drove) {
      iotkit__fleet_supervise(f, (int)slice);
      iotkit__fleet_control_tick(f);
    }
    iotkit__fleet_poll_leave(f);
    /* Without a transport (the session is down, not retrying) nothing blocks above. */
    if (drove && !iotkit_fleet_is_connected(f) && f->hal->sleep_ms) f->hal->sleep_ms(f->hal->ctx, slice);
  }
}

/* ------------------------------------------------------------ the API -- */

iotkit_err_t iotkit_fleet_command_send(iotkit_fleet_t *f, const char *device_id, const char *name,
                                       const char *params_json, uint32_t timeout_ms, iotkit_fleet_result_cb cb,
                                       void *user, char *request_id, size_t cap) {
  if (!f || !cb || (request_id && cap == 0)) return IOTKIT_ERR_INVALID_ARG;
  iotkit_err_t err = check_id(f, device_id);
  if (err == IOTKIT_OK) err = check_command(f, name, params_json, &timeout_ms);
  if (err != IOTKIT_OK) return err;
  return send_one(f, device_id, name, params_json, timeout_ms, cb, user, NULL, 0, request_id, cap);
}

iotkit_err_t iotkit_fleet_command_call(iotkit_fleet_t *f, const char *device_id, const char *name,
                                       const char *params_json, uint32_t timeout_ms, iotkit_fleet_results_t **out) {
  if (!f || !out) return IOTKIT_ERR_INVALID_ARG;
  iotkit_err_t err = check_id(f, device_id);
  if (err == IOTKIT_OK) err = check_command(f, name, params_json, &timeout_ms);
  if (err != IOTKIT_OK) return err;
  if (iotkit__fleet_in_callback(f)) return IOTKIT_ERR_STATE;
  iotkit_fleet_results_t *res = NULL;
  char *ids[1] = {(char *)device_id};
  if ((err = iotkit__fleet_results_new(ids, 1, &res)) != IOTKIT_OK) return err;
  iotkit__fleet_wait_t w = {.res = res, .left = 1};
  uint64_t deadline = iotkit__fleet_mono(f) + timeout_ms;
  err = send_one(f, device_id, name, params_json, timeout_ms, NULL, NULL, &w, 0, NULL, 0);
  if (err != IOTKIT_OK) {
    iotkit_fleet_results_free(res);
    return err;
  }
  wait_all(f, &w, deadline);
  *out = res;
  return res->items[0].err;
}

/* A result refused at once, for a group's callback: delivered by the driver's next tick. */
static void ready_refusal(iotkit_fleet_t *f, const char *id, iotkit_err_t why, iotkit_fleet_result_cb cb,
                          void *user) {
  iotkit__fleet_cmd_t *cmd = calloc(1, sizeof *cmd);
  if (cmd) {
    cmd->cb = cb;
    cmd->user = user;
    cmd->res.struct_size = sizeof cmd->res;
    cmd->res.err = why;
    cmd->res.device_id = iotkit__strdup(id);
    cmd->res.request_id = iotkit__strdup("");
  }
  if (!cmd || !cmd->res.device_id || !cmd->res.request_id) {
    if (cmd) iotkit__fleet_result_clear(&cmd->res);
    free(cmd);
    iotkit_hal_logf(f->hal, IOTKIT_LOG_ERROR, "fleet: out of memory: the result for %s is lost", id);
    return;
  }
  ctl_lock(f);
  if (f->ctl->ready_tail) f->ctl->ready_tail->next = cmd;
  else f->ctl->ready = cmd;
  f->ctl->ready_tail = cmd;
  ctl_unlock(f);
}

static iotkit_err_t group_prepare(iotkit_fleet_t *f, const iotkit_fleet_target_t *target, const char *name,
                                  const char *params, uint32_t *timeout_ms, char ***ids, size_t *n) {
  iotkit_err_t err = check_command(f, name, params, timeout_ms);
  if (err != IOTKIT_OK) return err;
  if ((err = iotkit__fleet_target_ids(f, target, ids, n)) != IOTKIT_OK) return err;
  if (!iotkit_fleet_is_connected(f)) {
    iotkit__fleet_ids_free(*ids, *n);
    iotkit__fleet_set_error(f, "the fleet is not connected");
    return IOTKIT_ERR_NOT_CONNECTED;
  }
  return IOTKIT_OK;
}

iotkit_err_t iotkit_fleet_command_group(iotkit_fleet_t *f, const iotkit_fleet_target_t *target, const char *name,
                                        const char *params_json, uint32_t timeout_ms, iotkit_fleet_result_cb cb,
                                        void *user, size_t *count) {
  if (!f || !cb) return IOTKIT_ERR_INVALID_ARG;
  char **ids = NULL;
  size_t n = 0;
  iotkit_err_t err = group_prepare(f, target, name, params_json, &timeout_ms, &ids, &n);
  if (err != IOTKIT_OK) return err;
  for (size_t i = 0; i < n; i++) {
    iotkit_err_t e = send_one(f, ids[i], name, params_json, timeout_ms, cb, user, NULL, 0, NULL, 0);
    if (e != IOTKIT_OK) ready_refusal(f, ids[i], e, cb, user);
  }
  iotkit__fleet_ids_free(ids, n);
  if (count) *count = n;
  return IOTKIT_OK;
}

iotkit_err_t iotkit_fleet_command_group_call(iotkit_fleet_t *f, const iotkit_fleet_target_t *target,
                                             const char *name, const char *params_json, uint32_t timeout_ms,
                                             iotkit_fleet_results_t **out) {
  if (!f || !out) return IOTKIT_ERR_INVALID_ARG;
  if (iotkit__fleet_in_callback(f)) return IOTKIT_ERR_STATE;
  char **ids = NULL;
  size_t n = 0;
  iotkit_err_t err = group_prepare(f, target, name, params_json, &timeout_ms, &ids, &n);
  if (err != IOTKIT_OK) return err;
  iotkit_fleet_results_t *res = NULL;
  err = iotkit__fleet_results_new(ids, n, &res);
  if (err != IOTKIT_OK) {
    iotkit__fleet_ids_free(ids, n);
    return err;
  }
  iotkit__fleet_wait_t w = {.res = res, .left = n};
  uint64_t deadline = iotkit__fleet_mono(f) + timeout_ms;
  for (size_t i = 0; i < n; i++) {
    iotkit_err_t e = send_one(f, ids[i], name, params_json, timeout_ms, NULL, NULL, &w, i, NULL, 0);
    if (e == IOTKIT_OK) continue;
    ctl_lock(f);
    res->items[i].err = e;
    w.left--;
    ctl_unlock(f);
  }
  iotkit__fleet_ids_free(ids, n);
  wait_all(f, &w, deadline);
  *out = res;
  return IOTKIT_OK;
}
