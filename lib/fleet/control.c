/*
 * Remote control, the shared part: the control state's life, the driver's
 * tick (timeouts, callbacks of ready results), targets (ids or a filter),
 * results, argument checks, reachability, publishing to a device, counters.
 * Commands are in command.c, desired state in desired.c, protection in e2e.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "fleet/control.h"
#include "fleet/fleet_internal.h"
#include "fleet/registry.h"
#include "protocol/json.h"

static iotkit__fleet_ctl_t *ctl_of(iotkit_fleet_t *f) { return f->ctl; }

static void ctl_lock(iotkit_fleet_t *f) { f->hal->mutex_lock(f->hal->ctx, f->ctl->lock); }
static void ctl_unlock(iotkit_fleet_t *f) { f->hal->mutex_unlock(f->hal->ctx, f->ctl->lock); }

iotkit_err_t iotkit__fleet_control_init(iotkit_fleet_t *f) {
  const iotkit_hal_t *h = f->hal;
  iotkit__fleet_ctl_t *c = calloc(1, sizeof *c);
  if (!c) return IOTKIT_ERR_NOMEM;
  f->ctl = c;
  if (h->mutex_new(h->ctx, &c->lock) != IOTKIT_OK || h->mutex_new(h->ctx, &c->poll_lock) != IOTKIT_OK ||
      h->mutex_new(h->ctx, &c->seal_lock) != IOTKIT_OK || h->mutex_new(h->ctx, &c->desired_lock) != IOTKIT_OK)
    return IOTKIT_ERR_NOMEM;
  if (h->cond_new && h->cond_wait && h->cond_broadcast && h->cond_free && h->cond_new(h->ctx, &c->cond) != IOTKIT_OK)
    c->cond = NULL;
  /* A random prefix per fleet handle: an answer to an earlier process's command is not ours. */
  uint8_t r[4] = {0};
  (void)h->random(h->ctx, r, sizeof r);
  snprintf(c->prefix, sizeof c->prefix, "%02x%02x%02x%02x-", r[0], r[1], r[2], r[3]);
  return IOTKIT_OK;
}

static void cmd_free(iotkit__fleet_cmd_t *cmd) {
  iotkit__fleet_result_clear(&cmd->res);
  free(cmd);
}

void iotkit__fleet_control_free(iotkit_fleet_t *f) {
  iotkit__fleet_ctl_t *c = ctl_of(f);
  if (!c) return;
  const iotkit_hal_t *h = f->hal;
  for (iotkit__fleet_cmd_t *n, *p = c->pending; p; p = n) n = p->next, cmd_free(p);
  for (iotkit__fleet_cmd_t *n, *p = c->ready; p; p = n) n = p->next, cmd_free(p);
  if (c->cond) h->cond_free(h->ctx, c->cond);
  void *locks[] = {c->lock, c->poll_lock, c->seal_lock, c->desired_lock};
  for (size_t i = 0; i < IOTKIT__ARRAY_LEN(locks); i++)
    if (locks[i]) h->mutex_free(h->ctx, locks[i]);
  free(c);
  f->ctl = NULL;
}

void iotkit__fleet_ctl_count(iotkit_fleet_t *f, uint64_t *counter) {
  ctl_lock(f);
  (*counter)++;
  ctl_unlock(f);
}

void iotkit__fleet_poll_enter(iotkit_fleet_t *f) { f->hal->mutex_lock(f->hal->ctx, f->ctl->poll_lock); }
void iotkit__fleet_poll_leave(iotkit_fleet_t *f) { f->hal->mutex_unlock(f->hal->ctx, f->ctl->poll_lock); }

void iotkit__fleet_control_tick(iotkit_fleet_t *f) {
  iotkit__fleet_ctl_t *c = ctl_of(f);
  uint64_t now = iotkit__fleet_mono(f);
  ctl_lock(f);
  iotkit__fleet_cmd_t **pp = &c->pending;
  while (*pp) {
    iotkit__fleet_cmd_t *p = *pp;
    if (p->deadline > now || p->wait) { /* a blocking call expires its own */
      pp = &p->next;
      continue;
    }
    *pp = p->next;
    p->next = NULL;
    p->res.err = IOTKIT_ERR_TIMEOUT;
    c->stats.timeouts++;
    if (c->ready_tail) c->ready_tail->next = p;
    else c->ready = p;
    c->ready_tail = p;
  }
  iotkit__fleet_cmd_t *ready = c->ready;
  c->ready = c->ready_tail = NULL;
  ctl_unlock(f);
  for (iotkit__fleet_cmd_t *n, *p = ready; p; p = n) {
    n = p->next;
    if (!f->closing) {
      iotkit__fleet_cb_enter(f);
      p->cb(f, p->user, &p->res);
      iotkit__fleet_cb_leave(f);
    }
    cmd_free(p);
  }
}

int64_t iotkit__fleet_control_next_ms(iotkit_fleet_t *f) {
  iotkit__fleet_ctl_t *c = ctl_of(f);
  uint64_t now = iotkit__fleet_mono(f);
  int64_t best = -1;
  ctl_lock(f);
  if (c->ready) best = 0;
  for (iotkit__fleet_cmd_t *p = c->pending; p && best != 0; p = p->next) {
    if (p->wait) continue;
    int64_t ms = p->deadline > now ? (int64_t)(p->deadline - now) : 0;
    if (best < 0 || ms < best) best = ms;
  }
  ctl_unlock(f);
  return best;
}

/* ------------------------------------------------------------- checks -- */

iotkit_err_t iotkit__fleet_json_object_check(const char *json) {
  size_t n = strlen(json);
  if (n > IOTKIT_FLEET_MAX_CONTROL_JSON) return IOTKIT_ERR_TOO_LARGE;
  cJSON *o = iotkit__json_parse(json, n);
  if (!o) return IOTKIT_ERR_BAD_ENCODING;
  bool obj = cJSON_IsObject(o);
  cJSON_Delete(o);
  return obj ? IOTKIT_OK : IOTKIT_ERR_INVALID_ARG;
}

iotkit_err_t iotkit__fleet_reachable(iotkit_fleet_t *f, const char *id, bool need_online) {
  iotkit__fleet_lock(f);
  iotkit__fleet_entry_t *e = iotkit__fleet_view_find(&f->view, id);
  bool have = e != NULL, online = e && e->online;
  iotkit__fleet_unlock(f);
  if (!have) return IOTKIT_ERR_NOT_FOUND;
  return need_online && !online ? IOTKIT_ERR_OFFLINE : IOTKIT_OK;
}

iotkit_err_t iotkit__fleet_publish(iotkit_fleet_t *f, const char *id, const char *suffix, const char *payload,
                                   bool retain) {
  char topic[512];
  iotkit_err_t err = iotkit_protocol_topic(f->topic_prefix, id, suffix, topic, sizeof topic);
  if (err != IOTKIT_OK) return err;
  void *sealed = NULL;
  size_t len = strlen(payload);
  err = iotkit__fleet_e2e_seal(f, id, suffix, payload, len, &sealed, &len);
  if (err != IOTKIT_OK) return err;
  iotkit_message_t m = {.channel = topic, .payload = sealed ? sealed : payload, .len = len, .qos = 1, .retain = retain};
  uint32_t msg_id = 0;
  /* The transport is the polling thread's, except send(), which may run beside poll(): the
     fleet's lock keeps the context from being destroyed meanwhile (close_transport clears
     connected under it first). */
  iotkit__fleet_lock(f);
  err = f->connected && f->tctx ? f->ops->send(f->tctx, &m, &msg_id) : IOTKIT_ERR_NOT_CONNECTED;
  iotkit__fleet_unlock(f);
  free(sealed);
  return err;
}

/* ------------------------------------------------------------ targets -- */

void iotkit_fleet_target_init(iotkit_fleet_target_t *t) {
  if (!t) return;
  memset(t, 0, sizeof *t);
  t->struct_size = sizeof *t;
}

void iotkit__fleet_ids_free(char **ids, size_t n) {
  for (size_t i = 0; ids && i < n; i++) free(ids[i]);
  free(ids);
}

static iotkit_err_t ids_push(char ***ids, size_t *n, size_t *cap, const char *id) {
  if (*n == IOTKIT_FLEET_MAX_TARGETS) return IOTKIT_ERR_TOO_LARGE;
  if (*n == *cap) {
    size_t nc = *cap ? *cap * 2 : 16;
    char **p = realloc(*ids, nc * sizeof *p);
    if (!p) return IOTKIT_ERR_NOMEM;
    *ids = p;
    *cap = nc;
  }
  if (!((*ids)[*n] = iotkit__strdup(id))) return IOTKIT_ERR_NOMEM;
  (*n)++;
  return IOTKIT_OK;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static iotkit_err_t list_ids(iotkit_fleet_t *f, const iotkit_fleet_target_t *t, char ***ids, size_t *n, size_t *cap) {
  iotkit_err_t err = IOTKIT_OK;
  char after[IOTKIT_MAX_DEVICE_ID + 1] = "";
  for (;;) {
    iotkit_fleet_page_t *page = NULL;
    if ((err = iotkit_fleet_list(f, t->filter, after, IOTKIT_FLEET_MAX_PAGE, &page)) != IOTKIT_OK) return err;
    for (size_t i = 0; i < page->count && err == IOTKIT_OK; i++) err = ids_push(ids, n, cap, page->devices[i]->id);
    bool more = page->next_after != NULL;
    if (more) snprintf(after, sizeof after, "%s", page->next_after);
    iotkit_fleet_page_free(page);
    if (err != IOTKIT_OK || !more) return err;
  }
}

iotkit_err_t iotkit__fleet_target_ids(iotkit_fleet_t *f, const iotkit_fleet_target_t *in, char ***ids_out,
                                      size_t *n_out) {
  if (!in) return IOTKIT_ERR_INVALID_ARG;
  iotkit_fleet_target_t t;
  iotkit_fleet_target_init(&t);
  size_t sz = in->struct_size ? in->struct_size : sizeof t;
  if (sz < IOTKIT__FIELD_END(iotkit_fleet_target_t, filter)) return IOTKIT_ERR_INVALID_ARG;
  memcpy(&t, in, sizeof t);
  if ((t.id_count > 0) == (t.filter != NULL) || (t.id_count && !t.ids)) {
    iotkit__fleet_set_error(f, "a target names either a list of ids or a filter");
    return IOTKIT_ERR_INVALID_ARG;
  }
  if (t.id_count > IOTKIT_FLEET_MAX_TARGETS) return IOTKIT_ERR_TOO_LARGE;
  char **ids = NULL;
  size_t n = 0, cap = 0;
  iotkit_err_t err = IOTKIT_OK;
  if (t.filter) {
    err = list_ids(f, &t, &ids, &n, &cap);
  } else {
    for (size_t i = 0; i < t.id_count && err == IOTKIT_OK; i++) {
      if (!iotkit__fleet_id_ok(t.ids[i])) {
        iotkit__fleet_set_error(f, "target id %zu is not a valid device id", i);
        err = IOTKIT_ERR_INVALID_ARG;
      } else {
        err = ids_push(&ids, &n, &cap, t.ids[i]);
      }
    }
    if (err == IOTKIT_OK && n > 1) { /* repeated ids: sort a copy of the pointers */
      char **s = malloc(n * sizeof *s);
      if (!s) err = IOTKIT_ERR_NOMEM;
      for (size_t i = 0; s && i < n; i++) s[i] = ids[i];
      if (s) qsort(s, n, sizeof *s, cmp_str);
      for (size_t i = 1; s && i < n && err == IOTKIT_OK; i++)
        if (strcmp(s[i - 1], s[i]) == 0) {
          iotkit__fleet_set_error(f, "target id %s is repeated", s[i]);
          err = IOTKIT_ERR_INVALID_ARG;
        }
      free(s);
    }
  }
  if (err != IOTKIT_OK) {
    iotkit__fleet_ids_free(ids, n);
    return err;
  }
  *ids_out = ids;
  *n_out = n;
  return IOTKIT_OK;
}

/* ------------------------------------------------------------ results -- */

void iotkit__fleet_result_clear(iotkit_fleet_result_t *r) {
  free(r->device_id);
  free(r->request_id);
  free(r->result_json);
  free(r->error_code);
  free(r->error_message);
  memset(r, 0, sizeof *r);
}

iotkit_err_t iotkit__fleet_results_new(char *const *ids, size_t n, iotkit_fleet_results_t **out) {
  iotkit_fleet_results_t *r = calloc(1, sizeof *r);
  if (!r) return IOTKIT_ERR_NOMEM;
  r->struct_size = sizeof *r;
  if (n && !(r->items = calloc(n, sizeof *r->items))) {
    free(r);
    return IOTKIT_ERR_NOMEM;
  }
  r->count = n;
  for (size_t i = 0; i < n; i++) {
    r->items[i].struct_size = sizeof r->items[i];
    if (!(r->items[i].device_id = iotkit__strdup(ids[i])) || !(r->items[i].request_id = iotkit__strdup(""))) {
      iotkit_fleet_results_free(r);
      return IOTKIT_ERR_NOMEM;
    }
  }
  *out = r;
  return IOTKIT_OK;
}

void iotkit_fleet_results_free(iotkit_fleet_results_t *r) {
  if (!r) return;
  for (size_t i = 0; i < r->count; i++) iotkit__fleet_result_clear(&r->items[i]);
  free(r->items);
  free(r);
}

iotkit_err_t iotkit_fleet_control_stats_sized(iotkit_fleet_t *f, iotkit_fleet_control_stats_t *stats, size_t size) {
  if (!f || !stats || size == 0) return IOTKIT_ERR_INVALID_ARG;
  ctl_lock(f);
  iotkit_fleet_control_stats_t s = f->ctl->stats;
  ctl_unlock(f);
  memcpy(stats, &s, size < sizeof s ? size : sizeof s);
  return IOTKIT_OK;
}
