/*
 * Registry calls: create, get, update, delete, list, count, presence.
 * Writes are jobs for the writer thread (writer.c), which also keep the live
 * view's set of devices in step; reads go straight to the store's read
 * connection in the calling thread, after the live view's pending changes are
 * written (iotkit__fleet_settle), so that they see the online flags and
 * last-seen times of everything received before the call. Inputs are checked here
 * (registry_check.c) before anything reaches the store.
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "fleet/fleet_internal.h"
#include "fleet/registry.h"

/* ---------------------------------------------------------- records -- */

iotkit_fleet_device_t *iotkit__fleet_device_new(void) {
  iotkit_fleet_device_t *dev = calloc(1, sizeof(*dev));
  if (dev) dev->struct_size = sizeof(*dev);
  return dev;
}

bool iotkit__fleet_set_text(char **field, const char *s, size_t n) {
  char *copy = malloc(n + 1);
  if (!copy) return false;
  if (n) memcpy(copy, s, n);
  copy[n] = '\0';
  free(*field);
  *field = copy;
  return true;
}

bool iotkit__fleet_device_add_tag(iotkit_fleet_device_t *dev, const char *s, size_t n) {
  char **tags = realloc(dev->tags, (dev->tag_count + 1) * sizeof(*tags));
  if (!tags) return false;
  dev->tags = tags;
  tags[dev->tag_count] = NULL;
  if (!iotkit__fleet_set_text(&tags[dev->tag_count], s, n)) return false;
  dev->tag_count++;
  return true;
}

void iotkit_fleet_device_free(iotkit_fleet_device_t *dev) {
  if (!dev) return;
  free(dev->id);
  free(dev->name);
  free(dev->type);
  for (size_t i = 0; i < dev->tag_count; i++) free(dev->tags[i]);
  free(dev->tags);
  free(dev->attributes);
  free(dev);
}

iotkit_fleet_page_t *iotkit__fleet_page_new(void) {
  iotkit_fleet_page_t *page = calloc(1, sizeof(*page));
  if (page) page->struct_size = sizeof(*page);
  return page;
}

void iotkit_fleet_page_free(iotkit_fleet_page_t *page) {
  if (!page) return;
  for (size_t i = 0; i < page->count; i++) iotkit_fleet_device_free(page->devices[i]);
  free(page->devices);
  free(page->next_after);
  free(page);
}

/* ----------------------------------------------------------- writes -- */

typedef struct {
  const iotkit__fleet_rec_t *rec;
  uint32_t fields;
} write_arg_t;

/* The live view's pending changes go first, so that a record the fleet registered by
   itself (auto_register) is in the database before a create or delete looks for it. */
static iotkit_err_t job_insert(iotkit_fleet_t *f, void *arg, char *err, size_t cap) {
  write_arg_t *a = arg;
  iotkit_err_t rc = iotkit__fleet_flush_now(f, err, cap);
  if (rc == IOTKIT_OK) rc = f->store_ops->insert(f->store, a->rec, err, cap);
  if (rc == IOTKIT_OK) {
    iotkit__fleet_lock(f);
    bool ok = iotkit__fleet_view_add(&f->view, a->rec->id) != NULL;
    iotkit__fleet_unlock(f);
    if (!ok) iotkit_hal_logf(f->hal, IOTKIT_LOG_ERROR, "fleet: no memory to follow device %s", a->rec->id);
  }
  return rc;
}

static iotkit_err_t job_update(iotkit_fleet_t *f, void *arg, char *err, size_t cap) {
  write_arg_t *a = arg;
  return f->store_ops->update(f->store, a->rec, a->fields, err, cap);
}

static iotkit_err_t job_delete(iotkit_fleet_t *f, void *arg, char *err, size_t cap) {
  iotkit_err_t rc = iotkit__fleet_flush_now(f, err, cap);
  if (rc == IOTKIT_OK) rc = f->store_ops->remove(f->store, arg, err, cap);
  if (rc == IOTKIT_OK) {
    iotkit__fleet_lock(f);
    iotkit__fleet_view_remove(&f->view, arg);
    iotkit__fleet_unlock(f);
  }
  return rc;
}

static int64_t now_ms(const iotkit_fleet_t *f) { return f->hal->wall_ms(f->hal->ctx); }

iotkit_err_t iotkit_fleet_device_create(iotkit_fleet_t *fleet, const iotkit_fleet_device_spec_t *in) {
  if (!fleet) return IOTKIT_ERR_INVALID_ARG;
  iotkit_fleet_device_spec_t spec;
  iotkit__fleet_rec_t rec;
  iotkit_err_t rc = iotkit__fleet_spec_in(fleet, in, IOTKIT_FLEET_FIELD_ALL, &spec, &rec);
  if (rc != IOTKIT_OK) return rc;
  rec.now_ms = now_ms(fleet);
  write_arg_t arg = {.rec = &rec, .fields = IOTKIT_FLEET_FIELD_ALL};
  return iotkit__fleet_write(fleet, job_insert, &arg);
}

iotkit_err_t iotkit_fleet_device_update(iotkit_fleet_t *fleet, const iotkit_fleet_device_spec_t *in,
                                        uint32_t fields) {
  if (!fleet) return IOTKIT_ERR_INVALID_ARG;
  if (fields & ~(uint32_t)IOTKIT_FLEET_FIELD_ALL) {
    iotkit__fleet_set_error(fleet, "unknown field bits 0x%x", (unsigned)(fields & ~(uint32_t)IOTKIT_FLEET_FIELD_ALL));
    return IOTKIT_ERR_INVALID_ARG;
  }
  iotkit_fleet_device_spec_t spec;
  iotkit__fleet_rec_t rec;
  iotkit_err_t rc = iotkit__fleet_spec_in(fleet, in, fields, &spec, &rec);
  if (rc != IOTKIT_OK) return rc;
  rec.now_ms = now_ms(fleet);
  write_arg_t arg = {.rec = &rec, .fields = fields};
  return iotkit__fleet_write(fleet, job_update, &arg);
}

iotkit_err_t iotkit_fleet_device_delete(iotkit_fleet_t *fleet, const char *id) {
  if (!fleet) return IOTKIT_ERR_INVALID_ARG;
  if (!iotkit__fleet_id_ok(id)) {
    iotkit__fleet_set_error(fleet, "invalid id");
    return IOTKIT_ERR_INVALID_ARG;
  }
  return iotkit__fleet_write(fleet, job_delete, (void *)id);
}

typedef struct {
  char *id;
  bool online;
  int64_t seen_ms;
} presence_arg_t;

static iotkit_err_t job_presence(iotkit_fleet_t *f, void *arg, char *err, size_t cap) {
  presence_arg_t *a = arg;
  return f->store_ops->presence(f->store, a->id, a->online, a->seen_ms, err, cap);
}

static void drop_presence(void *arg) {
  presence_arg_t *a = arg;
  free(a->id);
  free(a);
}

iotkit_err_t iotkit__fleet_presence(iotkit_fleet_t *fleet, const char *id, bool online, int64_t seen_ms) {
  if (!fleet || !iotkit__fleet_id_ok(id) || seen_ms < 0) return IOTKIT_ERR_INVALID_ARG;
  presence_arg_t *a = calloc(1, sizeof(*a));
  if (!a || !(a->id = iotkit__strdup(id))) {
    free(a);
    return IOTKIT_ERR_NOMEM;
  }
  a->online = online;
  a->seen_ms = seen_ms;
  iotkit__fleet_lock(fleet);
  iotkit__fleet_entry_t *e = iotkit__fleet_view_find(&fleet->view, id);
  if (e) {
    e->online = online;
    e->last_seen_ms = seen_ms;
  }
  iotkit__fleet_unlock(fleet);
  return iotkit__fleet_write_async(fleet, job_presence, a, drop_presence);
}

/* ------------------------------------------------------------ reads -- */

/* A store read's result: its failure text becomes the last error. */
static iotkit_err_t read_done(iotkit_fleet_t *fleet, iotkit_err_t rc, const char *err) {
  if (rc != IOTKIT_OK) iotkit__fleet_set_error(fleet, "%s", err);
  return rc;
}

iotkit_err_t iotkit_fleet_device_get(iotkit_fleet_t *fleet, const char *id, iotkit_fleet_device_t **out) {
  if (!fleet || !out) return IOTKIT_ERR_INVALID_ARG;
  if (!iotkit__fleet_id_ok(id)) {
    iotkit__fleet_set_error(fleet, "invalid id");
    return IOTKIT_ERR_INVALID_ARG;
  }
  iotkit_err_t rc = iotkit__fleet_settle(fleet);
  if (rc != IOTKIT_OK) return rc;
  char err[IOTKIT_ERROR_TEXT_SIZE] = "";
  return read_done(fleet, fleet->store_ops->get(fleet->store, id, out, err, sizeof(err)), err);
}

iotkit_err_t iotkit_fleet_list(iotkit_fleet_t *fleet, const iotkit_fleet_filter_t *filter, const char *after_id,
                               size_t limit, iotkit_fleet_page_t **out) {
  if (!fleet || !out) return IOTKIT_ERR_INVALID_ARG;
  if (limit == 0 || limit > IOTKIT_FLEET_MAX_PAGE) {
    iotkit__fleet_set_error(fleet, "limit %zu outside 1..%u", limit, IOTKIT_FLEET_MAX_PAGE);
    return IOTKIT_ERR_INVALID_ARG;
  }
  if (after_id && *after_id && !iotkit__fleet_id_ok(after_id)) {
    iotkit__fleet_set_error(fleet, "invalid after_id");
    return IOTKIT_ERR_INVALID_ARG;
  }
  iotkit_fleet_filter_t f;
  iotkit_err_t rc = iotkit__fleet_filter_in(fleet, filter, &f);
  if (rc != IOTKIT_OK) return rc;
  if ((rc = iotkit__fleet_settle(fleet)) != IOTKIT_OK) return rc;
  char err[IOTKIT_ERROR_TEXT_SIZE] = "";
  rc = fleet->store_ops->list(fleet->store, &f, after_id ? after_id : "", limit, out, err, sizeof(err));
  return read_done(fleet, rc, err);
}

iotkit_err_t iotkit_fleet_count(iotkit_fleet_t *fleet, const iotkit_fleet_filter_t *filter, uint64_t *count) {
  if (!fleet || !count) return IOTKIT_ERR_INVALID_ARG;
  iotkit_fleet_filter_t f;
  iotkit_err_t rc = iotkit__fleet_filter_in(fleet, filter, &f);
  if (rc != IOTKIT_OK) return rc;
  if ((rc = iotkit__fleet_settle(fleet)) != IOTKIT_OK) return rc;
  char err[IOTKIT_ERROR_TEXT_SIZE] = "";
  return read_done(fleet, fleet->store_ops->count(fleet->store, &f, count, err, sizeof(err)), err);
}
