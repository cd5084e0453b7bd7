/* Rollouts: the queries (from memory, under the fleet's lock). */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "fleet/fleet_internal.h"
#include "fleet/rollout.h"

void iotkit_fleet_rollout_info_free(iotkit_fleet_rollout_info_t *info) {
  if (!info) return;
  free(info->id);
  free(info->device_type);
  free(info->version);
  free(info->reason);
  free(info->groups);
  free(info);
}

static iotkit_fleet_rollout_info_t *info_of(const iotkit__ro_t *ro) {
  iotkit_fleet_rollout_info_t *in = calloc(1, sizeof *in);
  if (!in) return NULL;
  in->struct_size = sizeof *in;
  in->id = iotkit__strdup(ro->id);
  in->device_type = iotkit__strdup(ro->device_type);
  in->version = iotkit__strdup(ro->version);
  in->reason = iotkit__strdup(ro->reason);
  in->groups = calloc(ro->n_groups, sizeof *in->groups);
  if (!in->id || !in->device_type || !in->version || !in->reason || !in->groups) {
    iotkit_fleet_rollout_info_free(in);
    return NULL;
  }
  in->state = (iotkit_fleet_rollout_state_t)ro->state;
  in->group_count = ro->n_groups;
  in->started_groups = ro->started;
  in->error_group = ro->error_group;
  in->created_ms = ro->created_ms;
  in->updated_ms = ro->updated_ms;
  for (uint32_t g = 0; g < ro->n_groups; g++) {
    iotkit_fleet_group_info_t *G = &in->groups[g];
    G->state = (iotkit_fleet_group_state_t)ro->groups[g].state;
    G->success_pct = ro->groups[g].success_pct;
    G->error_pct = ro->groups[g].error_pct;
    G->started_ms = ro->groups[g].started_ms;
    iotkit__ro_counts(ro, (int)g, &G->counts);
  }
  iotkit__ro_counts(ro, -1, &in->counts);
  return in;
}

iotkit_err_t iotkit_fleet_rollout_get(iotkit_fleet_t *f, const char *id, iotkit_fleet_rollout_info_t **out) {
  if (!f || !id || !out) return IOTKIT_ERR_INVALID_ARG;
  iotkit__fleet_lock(f);
  iotkit__ro_t *ro = iotkit__ro_find(f, id);
  iotkit_fleet_rollout_info_t *in = ro ? info_of(ro) : NULL;
  iotkit__fleet_unlock(f);
  if (!ro) return IOTKIT_ERR_NOT_FOUND;
  if (!in) return IOTKIT_ERR_NOMEM;
  *out = in;
  return IOTKIT_OK;
}

static void target_of(const iotkit__ro_dev_t *d, iotkit_fleet_rollout_device_t *t) {
  memset(t, 0, sizeof *t);
  iotkit__fmt(t->device_id, sizeof t->device_id, "%s", d->id);
  t->group = d->group;
  t->state = (iotkit_fleet_rollout_device_state_t)d->state;
  t->percent = d->percent;
  iotkit__fmt(t->error, sizeof t->error, "%s", d->error);
  t->updated_ms = d->updated_ms;
}

iotkit_err_t iotkit_fleet_rollout_targets(iotkit_fleet_t *f, const char *id, int group, iotkit_fleet_rollout_device_t **out,
                                          size_t *count) {
  if (!f || !id || !out || !count || group < -1) return IOTKIT_ERR_INVALID_ARG;
  iotkit_err_t rc = IOTKIT_OK;
  iotkit_fleet_rollout_device_t *arr = NULL;
  size_t n = 0;
  iotkit__fleet_lock(f);
  iotkit__ro_t *ro = iotkit__ro_find(f, id);
  if (!ro) {
    rc = IOTKIT_ERR_NOT_FOUND;
  } else if (group >= (int)ro->n_groups) {
    rc = IOTKIT_ERR_INVALID_ARG;
  } else {
    uint32_t from = group < 0 ? 0 : ro->groups[group].first;
    n = group < 0 ? ro->n_devs : ro->groups[group].size;
    if (n && !(arr = malloc(n * sizeof *arr))) rc = IOTKIT_ERR_NOMEM;
    for (size_t i = 0; arr && i < n; i++) target_of(&ro->devs[from + i], &arr[i]);
  }
  iotkit__fleet_unlock(f);
  if (rc != IOTKIT_OK) return rc;
  *out = arr;
  *count = n;
  return IOTKIT_OK;
}

iotkit_err_t iotkit_fleet_rollout_target(iotkit_fleet_t *f, const char *id, const char *device_id,
                                         iotkit_fleet_rollout_device_t *out) {
  if (!f || !id || !device_id || !out) return IOTKIT_ERR_INVALID_ARG;
  iotkit__fleet_lock(f);
  iotkit__ro_t *ro = iotkit__ro_find(f, id);
  const iotkit__ro_dev_t *d = ro ? iotkit__ro_find_dev(ro, device_id) : NULL;
  if (d) target_of(d, out);
  iotkit__fleet_unlock(f);
  return d ? IOTKIT_OK : IOTKIT_ERR_NOT_FOUND;
}

void iotkit_fleet_rollout_ids_free(char **ids, size_t count) {
  if (!ids) return;
  for (size_t i = 0; i < count; i++) free(ids[i]);
  free(ids);
}

iotkit_err_t iotkit_fleet_rollout_list(iotkit_fleet_t *f, char ***ids, size_t *count) {
  if (!f || !ids || !count) return IOTKIT_ERR_INVALID_ARG;
  iotkit__fleet_lock(f);
  size_t n = 0;
  for (iotkit__ro_t *ro = f->rollouts->head; ro; ro = ro->next) n++;
  char **arr = calloc(n + 1, sizeof *arr);
  size_t k = 0;
  for (iotkit__ro_t *ro = f->rollouts->head; arr && ro; ro = ro->next, k++)
    if (!(arr[k] = iotkit__strdup(ro->id))) break;
  iotkit__fleet_unlock(f);
  if (!arr || k < n) {
    iotkit_fleet_rollout_ids_free(arr, k);
    return IOTKIT_ERR_NOMEM;
  }
  *ids = arr;
  *count = n;
  return IOTKIT_OK;
}
