/*
 * Desired state: the merge patch applied to each device's stored document,
 * the next version, one write of every new document (the writer thread, one
 * transaction), then the retained publish of each. One operation at a time
 * (desired_lock), so that versions are written and published in order and the
 * broker's retained copy is always the newest. See fleet_control.h.
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "fleet/control.h"
#include "fleet/fleet_internal.h"
#include "fleet/registry.h"

typedef struct put_job {
  const iotkit__fleet_desired_t *rows;
  size_t n;
} put_job_t;

static iotkit_err_t put_job(iotkit_fleet_t *f, void *arg, char *err, size_t cap) {
  const put_job_t *j = arg;
  return f->store_ops->desired_put(f->store, j->rows, j->n, iotkit__fleet_wall(f), err, cap);
}

static iotkit_err_t check_patch(iotkit_fleet_t *f, const char *patch) {
  if (!patch) return IOTKIT_ERR_INVALID_ARG;
  iotkit_err_t err = iotkit__fleet_json_object_check(patch);
  if (err != IOTKIT_OK)
    iotkit__fleet_set_error(f, "desired state patch: %s", err == IOTKIT_ERR_INVALID_ARG ? "not a JSON object"
                                                         : err == IOTKIT_ERR_TOO_LARGE ? "too large"
                                                                                       : "not JSON");
  return err;
}

/* The next document of device @p id: its version and the published text (*doc). */
static iotkit_err_t next_doc(iotkit_fleet_t *f, const char *id, const char *patch, uint64_t *version, char **state,
                             char **doc) {
  iotkit_err_t err = iotkit__fleet_reachable(f, id, false);
  if (err != IOTKIT_OK) return err;
  uint64_t v = 0;
  char *old = NULL, text[IOTKIT_ERROR_TEXT_SIZE];
  err = f->store_ops->desired_get(f->store, id, &v, &old, text, sizeof text);
  if (err == IOTKIT_ERR_NOT_FOUND) {
    v = 0;
    err = IOTKIT_OK;
  } else if (err != IOTKIT_OK) {
    iotkit__fleet_set_error(f, "%s", text);
    return err;
  }
  if (v >= IOTKIT_FLEET_DESIRED_VERSION_MAX) {
    free(old);
    iotkit__fleet_set_error(f, "desired state of %s: the last version (2^53) is used", id);
    return IOTKIT_ERR_STATE;
  }
  err = iotkit_json_merge_patch(old, patch, state);
  free(old);
  if (err != IOTKIT_OK) return err;
  err = iotkit_protocol_desired_build(v + 1, *state, doc);
  if (err == IOTKIT_OK && strlen(*doc) > IOTKIT_MAX_PAYLOAD_DEFAULT) {
    iotkit__fleet_set_error(f, "desired state of %s: the document would be larger than %u bytes", id,
                            IOTKIT_MAX_PAYLOAD_DEFAULT);
    err = IOTKIT_ERR_TOO_LARGE;
  }
  if (err != IOTKIT_OK) {
    iotkit_free(*state);
    iotkit_free(*doc);
    *state = *doc = NULL;
    return err;
  }
  *version = v + 1;
  return IOTKIT_OK;
}

/* The operation for @p n ids; per-device codes in res (n entries). */
static iotkit_err_t desired_ids(iotkit_fleet_t *f, char *const *ids, size_t n, const char *patch,
                                iotkit_fleet_results_t *res) {
  iotkit__fleet_desired_t *rows = calloc(n ? n : 1, sizeof *rows);
  char **docs = calloc(n ? n : 1, sizeof *docs);
  char **states = calloc(n ? n : 1, sizeof *states);
  size_t *slot = calloc(n ? n : 1, sizeof *slot);
  iotkit_err_t err = rows && docs && states && slot ? IOTKIT_OK : IOTKIT_ERR_NOMEM;
  size_t k = 0;
  f->hal->mutex_lock(f->hal->ctx, f->ctl->desired_lock);
  if (err == IOTKIT_OK && !iotkit_fleet_is_connected(f)) {
    iotkit__fleet_set_error(f, "the fleet is not connected");
    err = IOTKIT_ERR_NOT_CONNECTED;
  }
  for (size_t i = 0; err == IOTKIT_OK && i < n; i++) {
    uint64_t v = 0;
    iotkit_err_t e = next_doc(f, ids[i], patch, &v, &states[k], &docs[k]);
    res->items[i].err = e;
    if (e == IOTKIT_ERR_NOMEM) err = e;
    if (e != IOTKIT_OK) continue;
    rows[k] = (iotkit__fleet_desired_t){.id = ids[i], .version = v, .state = states[k]};
    slot[k++] = i;
  }
  if (err == IOTKIT_OK && k > 0) {
    put_job_t job = {.rows = rows, .n = k};
    err = iotkit__fleet_write(f, put_job, &job);
  }
  /* Written: publish each. A failed publish leaves its version unused (the device skips it). */
  for (size_t j = 0; err == IOTKIT_OK && j < k; j++) {
    iotkit_fleet_result_t *r = &res->items[slot[j]];
    r->err = iotkit__fleet_publish(f, rows[j].id, "state/desired", docs[j], true);
    if (r->err == IOTKIT_OK) {
      r->version = rows[j].version;
      iotkit__fleet_ctl_count(f, &f->ctl->stats.desired_published);
    } else {
      iotkit__fleet_set_error(f, "desired state of %s: cannot publish version %llu: %s", rows[j].id,
                              (unsigned long long)rows[j].version, iotkit_strerror(r->err));
    }
  }
  f->hal->mutex_unlock(f->hal->ctx, f->ctl->desired_lock);
  for (size_t j = 0; j < k; j++) {
    iotkit_free(docs[j]);
    iotkit_free(states[j]);
  }
  free(rows);
  free(docs);
  free(states);
  free(slot);
  return err;
}

iotkit_err_t iotkit_fleet_desired_set(iotkit_fleet_t *f, const char *device_id, const char *patch_json,
                                      uint64_t *version) {
  if (!f || !device_id) return IOTKIT_ERR_INVALID_ARG;
  if (!iotkit__fleet_id_ok(device_id)) {
    iotkit__fleet_set_error(f, "invalid device id");
    return IOTKIT_ERR_INVALID_ARG;
  }
  iotkit_err_t err = check_patch(f, patch_json);
  if (err != IOTKIT_OK) return err;
  iotkit_fleet_results_t *res = NULL;
  char *ids[1] = {(char *)device_id};
  if ((err = iotkit__fleet_results_new(ids, 1, &res)) != IOTKIT_OK) return err;
  err = desired_ids(f, ids, 1, patch_json, res);
  if (err == IOTKIT_OK) err = res->items[0].err;
  if (err == IOTKIT_OK && version) *version = res->items[0].version;
  iotkit_fleet_results_free(res);
  return err;
}

iotkit_err_t iotkit_fleet_desired_group(iotkit_fleet_t *f, const iotkit_fleet_target_t *target,
                                        const char *patch_json, iotkit_fleet_results_t **out) {
  if (!f) return IOTKIT_ERR_INVALID_ARG;
  iotkit_err_t err = check_patch(f, patch_json);
  if (err != IOTKIT_OK) return err;
  char **ids = NULL;
  size_t n = 0;
  if ((err = iotkit__fleet_target_ids(f, target, &ids, &n)) != IOTKIT_OK) return err;
  iotkit_fleet_results_t *res = NULL;
  err = iotkit__fleet_results_new(ids, n, &res);
  if (err == IOTKIT_OK) err = desired_ids(f, ids, n, patch_json, res);
  iotkit__fleet_ids_free(ids, n);
  if (err != IOTKIT_OK || !out) {
    iotkit_fleet_results_free(res);
    return err;
  }
  *out = res;
  return IOTKIT_OK;
}

iotkit_err_t iotkit_fleet_desired_get(iotkit_fleet_t *f, const char *device_id, char **state_json,
                                      uint64_t *version) {
  if (!f || !device_id) return IOTKIT_ERR_INVALID_ARG;
  if (!iotkit__fleet_id_ok(device_id)) return IOTKIT_ERR_INVALID_ARG;
  uint64_t v = 0;
  char *state = NULL, text[IOTKIT_ERROR_TEXT_SIZE];
  iotkit_err_t err = f->store_ops->desired_get(f->store, device_id, &v, &state, text, sizeof text);
  if (err != IOTKIT_OK) {
    iotkit__fleet_set_error(f, "%s", text);
    return err;
  }
  if (state_json) *state_json = state;
  else free(state);
  if (version) *version = v;
  return IOTKIT_OK;
}
