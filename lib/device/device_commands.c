/* Commands: handlers by name, requests dispatched to them, responses
   (synchronous or later, from any thread) and deadlines. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "device/device_internal.h"
#include "device/device_json.h"

struct iotkit__handler {
  struct iotkit__handler *next;
  char *name;
  iotkit_command_cb cb;
  void *user;
};

struct iotkit_command {
  struct iotkit_command *next;
  iotkit_device_t *dev;
  char *id;
  uint64_t deadline;
  bool expired; /* the timeout response went out; waiting for the application to release it */
  bool local;   /* called by an edge rule: the result is logged, not sent */
};

/* ------------------------------------------------------------ handlers -- */

static struct iotkit__handler **find_handler(iotkit_device_t *dev, const char *name) {
  struct iotkit__handler **h = &dev->handlers;
  while (*h && strcmp((*h)->name, name) != 0) h = &(*h)->next;
  return h;
}

iotkit_err_t iotkit_device_command_register(iotkit_device_t *dev, const char *name, iotkit_command_cb cb,
                                           void *user) {
  if (!dev || !iotkit__is_safe_name(name, IOTKIT_MAX_NAME)) return IOTKIT_ERR_INVALID_ARG;
  struct iotkit__handler *fresh = NULL;
  if (cb) {
    fresh = calloc(1, sizeof(*fresh));
    if (fresh) fresh->name = iotkit__strdup(name);
    if (!fresh || !fresh->name) {
      free(fresh);
      return IOTKIT_ERR_NOMEM;
    }
    fresh->cb = cb;
    fresh->user = user;
  }
  iotkit_err_t err = IOTKIT_OK;
  iotkit__device_lock(dev);
  struct iotkit__handler **at = find_handler(dev, name);
  struct iotkit__handler *old = *at;
  if (fresh) {
    fresh->next = old ? old->next : NULL;
    *at = fresh;
  } else if (old) {
    *at = old->next;
  } else {
    err = IOTKIT_ERR_NOT_FOUND;
  }
  iotkit__device_unlock(dev);
  /* The old handler may be running on the polling thread: it ends before we return. */
  if (old) iotkit__device_cb_wait(dev);
  if (old) {
    free(old->name);
    free(old);
  }
  return err;
}

/* ----------------------------------------------------------- responses -- */

/* {"id":I,"status":"ok","result":R} or {"id":I,"status":"error","error":{"code":C,"message":M}}. */
static char *response_json(const char *id, cJSON *result, const char *code, const char *message) {
  cJSON *o = cJSON_CreateObject();
  bool ok = o && cJSON_AddStringToObject(o, "id", id) &&
            cJSON_AddStringToObject(o, "status", result ? "ok" : "error");
  if (ok && result) {
    ok = cJSON_AddItemToObject(o, "result", result);
    if (!ok) cJSON_Delete(result);
  } else if (ok) {
    cJSON *e = cJSON_AddObjectToObject(o, "error");
    ok = e && cJSON_AddStringToObject(e, "code", code) && cJSON_AddStringToObject(e, "message", message);
  }
  char *text = ok ? iotkit__json_print(o) : NULL;
  cJSON_Delete(o);
  return text;
}

static iotkit_err_t send_response(iotkit_device_t *dev, char *text) {
  if (!text) return IOTKIT_ERR_NOMEM;
  iotkit_err_t err = iotkit__device_send_own(dev, dev->response_channel, text, false);
  if (err != IOTKIT_OK)
    iotkit_hal_logf(dev->hal, IOTKIT_LOG_WARN, "device %s: command response not sent (%s)", dev->device_id,
                    iotkit_err_name(err));
  cJSON_free(text);
  return err;
}

/* An error answer: sent, or for a local call (an edge rule's) logged. */
static void respond_error(iotkit_device_t *dev, const char *id, const char *code, const char *message, bool local) {
  if (local) {
    iotkit_hal_logf(dev->hal, IOTKIT_LOG_WARN, "device %s: local command %s: %s (%s)", dev->device_id, id, code, message);
    return;
  }
  (void)send_response(dev, response_json(id, NULL, code, message));
}

static void command_free(struct iotkit_command *cmd) {
  free(cmd->id);
  free(cmd);
}

/* Answer @p cmd with the response @p text (taken) and release it, unless the text is too large. */
static iotkit_err_t finish(iotkit_command_t *cmd, char *text) {
  iotkit_device_t *dev = cmd->dev;
  if (!text) return IOTKIT_ERR_NOMEM;
  if (strlen(text) > dev->max_payload) {
    cJSON_free(text);
    return IOTKIT_ERR_TOO_LARGE;
  }
  iotkit__device_lock(dev);
  struct iotkit_command **at = &dev->commands;
  while (*at && *at != cmd) at = &(*at)->next;
  if (*at) *at = cmd->next;
  bool expired = cmd->expired;
  if (!expired && dev->pending_commands > 0) dev->pending_commands--;
  iotkit__device_unlock(dev);
  iotkit_err_t err = IOTKIT_ERR_TIMEOUT;
  if (!expired && cmd->local) {
    iotkit_hal_logf(dev->hal, IOTKIT_LOG_INFO, "device %s: local command %s answered: %s", dev->device_id, cmd->id, text);
    err = IOTKIT_OK;
  }
  if (expired || cmd->local)
    cJSON_free(text);
  else
    err = send_response(dev, text);
  command_free(cmd);
  return err;
}

iotkit_err_t iotkit_command_complete(iotkit_command_t *cmd, const char *result_json) {
  if (!cmd) return IOTKIT_ERR_INVALID_ARG;
  cJSON *result = NULL;
  iotkit_err_t err = (iotkit_err_t)iotkit__json_from_api(result_json, &result);
  if (err != IOTKIT_OK) return err;
  return finish(cmd, response_json(cmd->id, result, NULL, NULL));
}

iotkit_err_t iotkit_command_fail(iotkit_command_t *cmd, const char *code, const char *message) {
  if (!cmd || !code || !*code) return IOTKIT_ERR_INVALID_ARG;
  return finish(cmd, response_json(cmd->id, NULL, code, message ? message : ""));
}

/* ------------------------------------------------------------ requests -- */

/* Hand a valid request to its handler, or answer it with an error; called inside the
   dispatch bracket, so that the handler read is the one called (see device_dispatch.c). */
static void dispatch_in(iotkit_device_t *dev, const char *id, const char *name, const cJSON *params, bool local) {
  char msg[IOTKIT_MAX_NAME + 64];
  iotkit__device_lock(dev);
  struct iotkit__handler *h = *find_handler(dev, name);
  iotkit_command_cb cb = h ? h->cb : NULL;
  void *user = h ? h->user : NULL;
  bool busy = cb && dev->pending_commands >= IOTKIT_MAX_PENDING_COMMANDS;
  iotkit__device_unlock(dev);
  if (!cb) {
    iotkit__fmt(msg, sizeof(msg), "no handler for command '%.*s'", (int)IOTKIT_MAX_NAME, name);
    respond_error(dev, id, "unknown_command", msg, local);
    return;
  }
  if (busy) {
    iotkit__fmt(msg, sizeof(msg), "%u commands are awaiting completion", (unsigned)IOTKIT_MAX_PENDING_COMMANDS);
    respond_error(dev, id, "busy", msg, local);
    return;
  }
  struct iotkit_command *cmd = calloc(1, sizeof(*cmd));
  char *p = iotkit__json_print(params);
  if (cmd) cmd->id = iotkit__strdup(id);
  if (!cmd || !cmd->id || !p) {
    if (cmd) command_free(cmd);
    cJSON_free(p);
    respond_error(dev, id, "internal", "out of memory", local);
    return;
  }
  cmd->dev = dev;
  cmd->local = local;
  cmd->deadline = iotkit__device_now(dev) + dev->command_timeout_ms;
  iotkit__device_lock(dev);
  cmd->next = dev->commands;
  dev->commands = cmd;
  dev->pending_commands++;
  iotkit__device_unlock(dev);
  cb(dev, user, id, name, p, cmd);
  cJSON_free(p);
}

static void dispatch(iotkit_device_t *dev, const char *id, const char *name, const cJSON *params, bool local) {
  iotkit__device_cb_enter(dev);
  dispatch_in(dev, id, name, params, local);
  iotkit__device_cb_leave(dev);
}

iotkit_err_t iotkit__device_command_local(iotkit_device_t *dev, const char *name, const char *params_json) {
  cJSON *params = NULL;
  iotkit_err_t err = (iotkit_err_t)iotkit__json_from_api(params_json, &params);
  if (err != IOTKIT_OK) return err;
  char id[32];
  iotkit__device_lock(dev);
  unsigned n = ++dev->local_commands;
  iotkit__device_unlock(dev);
  iotkit__fmt(id, sizeof(id), "edge-%u", n);
  dispatch(dev, id, name, params, true);
  cJSON_Delete(params);
  return IOTKIT_OK;
}

static void ignore_request(iotkit_device_t *dev, const char *why) {
  iotkit__device_set_error(dev, "ignored a command request on %s: %s", dev->request_channel, why);
  iotkit_hal_logf(dev->hal, IOTKIT_LOG_WARN, "device %s: ignored a command request: %s", dev->device_id, why);
}

void iotkit__device_command_in(iotkit_device_t *dev, const void *payload, size_t len) {
  cJSON *doc = iotkit__json_parse(payload, len);
  if (!cJSON_IsObject(doc)) {
    /* Without a readable id there is nobody to answer. */
    ignore_request(dev, doc ? "not a JSON object" : "not JSON");
    cJSON_Delete(doc);
    return;
  }
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(doc, "id");
  const cJSON *name = cJSON_GetObjectItemCaseSensitive(doc, "name");
  const cJSON *params = cJSON_GetObjectItemCaseSensitive(doc, "params");
  if (!cJSON_IsString(id) || !*id->valuestring || strlen(id->valuestring) > IOTKIT_MAX_REQUEST_ID) {
    ignore_request(dev, "no id (a string of 1..64 bytes)");
  } else if (!cJSON_IsString(name) || !*name->valuestring) {
    respond_error(dev, id->valuestring, "bad_request", "no command name", false);
  } else if (params && !cJSON_IsObject(params)) {
    respond_error(dev, id->valuestring, "bad_request", "params must be a JSON object", false);
  } else {
    cJSON *empty = params ? NULL : cJSON_CreateObject();
    if (params || empty) dispatch(dev, id->valuestring, name->valuestring, params ? params : empty, false);
    cJSON_Delete(empty);
  }
  cJSON_Delete(doc);
}

void iotkit__device_commands_sweep(iotkit_device_t *dev) {
  uint64_t now = iotkit__device_now(dev);
  for (;;) {
    char *id = NULL;
    bool local = false;
    iotkit__device_lock(dev);
    for (struct iotkit_command *c = dev->commands; c && !id; c = c->next) {
      if (c->expired || now < c->deadline) continue;
      id = iotkit__strdup(c->id); /* c may be released by another thread once the lock is gone */
      if (!id) break;
      local = c->local;
      c->expired = true;
      if (dev->pending_commands > 0) dev->pending_commands--;
    }
    iotkit__device_unlock(dev);
    if (!id) return;
    char msg[64];
    iotkit__fmt(msg, sizeof(msg), "no result within %u ms", (unsigned)dev->command_timeout_ms);
    respond_error(dev, id, "timeout", msg, local);
    free(id);
  }
}

int iotkit__device_commands_timeout_ms(const iotkit_device_t *dev, uint64_t now) {
  uint64_t left = UINT64_MAX;
  iotkit__device_lock(dev);
  for (const struct iotkit_command *c = dev->commands; c; c = c->next) {
    if (c->expired) continue; /* its timeout response went out: nothing more is due */
    uint64_t l = c->deadline > now ? c->deadline - now : 0;
    if (l < left) left = l;
  }
  iotkit__device_unlock(dev);
  if (left == UINT64_MAX) return -1;
  return left > INT_MAX ? INT_MAX : (int)left;
}

void iotkit__device_commands_free(iotkit_device_t *dev) {
  while (dev->handlers) {
    struct iotkit__handler *h = dev->handlers;
    dev->handlers = h->next;
    free(h->name);
    free(h);
  }
  while (dev->commands) {
    struct iotkit_command *c = dev->commands;
    dev->commands = c->next;
    command_free(c);
  }
}
