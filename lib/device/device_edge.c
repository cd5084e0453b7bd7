/* Edge analytics on a device: a pipeline (lib/edge) run over every batch given to
   iotkit_device_send_batch() before it enters the durable queue, configured from
   a document (iotkit_device_edge_load()) or from the desired state's "edge" key,
   persisted through the HAL, its outcome reported under the reported state's
   "edge" key, its rules' actions run from the polling thread. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "device/device_internal.h"
#include "device/device_json.h"

/* Key of the active configuration in the HAL key-value store: {"version":V,"config":{...}}. */
#define EDGE_KEY "iotkit.edge"
/* Most actions run per loop iteration, so that a burst does not hold the loop. */
#define EDGE_ACTIONS_PER_POLL 64

struct iotkit__device_edge {
  void *lock; /* guards everything below; never held across another lock or a callback */
  iotkit_edge_t *edge;
  iotkit_telemetry_batch_t *out; /* the batch being filtered */
  iotkit_err_t out_err;
  uint64_t version; /* desired version of the active configuration (0: loaded locally) */
};

static void edge_lock(const iotkit_device_t *dev) { dev->hal->mutex_lock(dev->hal->ctx, dev->edge->lock); }
static void edge_unlock(const iotkit_device_t *dev) { dev->hal->mutex_unlock(dev->hal->ctx, dev->edge->lock); }

static void on_point(iotkit_edge_t *edge, void *user, const iotkit_telemetry_point_t *p) {
  (void)edge;
  struct iotkit__device_edge *e = ((iotkit_device_t *)user)->edge;
  if (e->out_err == IOTKIT_OK) e->out_err = iotkit_telemetry_batch_add(e->out, p);
}

/* {"edge":{"active":A,"version":V,"refused":R}}: R null on success (which removes it),
   else what was refused and why. */
static void report(iotkit_device_t *dev, bool active, uint64_t version, uint64_t refused_version, iotkit_err_t err,
                   const char *pointer, const char *message) {
  cJSON *o = cJSON_CreateObject(), *e = o ? cJSON_AddObjectToObject(o, "edge") : NULL;
  bool ok = e && cJSON_AddBoolToObject(e, "active", active) && cJSON_AddNumberToObject(e, "version", (double)version);
  if (ok && err == IOTKIT_OK) ok = cJSON_AddNullToObject(e, "refused") != NULL;
  if (ok && err != IOTKIT_OK) {
    cJSON *r = cJSON_AddObjectToObject(e, "refused");
    ok = r && cJSON_AddNumberToObject(r, "version", (double)refused_version) &&
         cJSON_AddStringToObject(r, "code", iotkit_err_name(err)) && cJSON_AddStringToObject(r, "pointer", pointer) &&
         cJSON_AddStringToObject(r, "message", message);
  }
  char *text = ok ? iotkit__json_print(o) : NULL;
  cJSON_Delete(o);
  iotkit_err_t rc = text ? iotkit_device_report(dev, text) : IOTKIT_ERR_NOMEM;
  if (rc != IOTKIT_OK && rc != IOTKIT_ERR_NOT_CONNECTED)
    iotkit_hal_logf(dev->hal, IOTKIT_LOG_WARN, "device %s: edge status not reported (%s)", dev->device_id,
                    iotkit_err_name(rc));
  cJSON_free(text);
}

static void persist(iotkit_device_t *dev, const char *json, uint64_t version) {
  iotkit_err_t err = IOTKIT_ERR_NOMEM;
  if (!json) {
    err = dev->hal->kv_erase(dev->hal->ctx, EDGE_KEY);
    if (err == IOTKIT_ERR_NOT_FOUND) err = IOTKIT_OK;
  } else {
    size_t n = strlen(json) + 64;
    char *doc = malloc(n);
    if (doc) {
      (void)snprintf(doc, n, "{\"version\":%" PRIu64 ",\"config\":%s}", version, json);
      err = dev->hal->kv_set(dev->hal->ctx, EDGE_KEY, doc, strlen(doc));
      free(doc);
    }
  }
  if (err != IOTKIT_OK)
    iotkit_hal_logf(dev->hal, IOTKIT_LOG_ERROR, "device %s: edge configuration not persisted (%s)", dev->device_id,
                    iotkit_err_name(err));
}

/* Load @p json (NULL: turn the pipeline off) from @p version (0: local); persist and report. */
static iotkit_err_t apply(iotkit_device_t *dev, const char *json, uint64_t version, bool save) {
  struct iotkit__device_edge *e = dev->edge;
  char pointer[IOTKIT_EDGE_POINTER_SIZE] = "", message[256] = "";
  edge_lock(dev);
  iotkit_err_t err = IOTKIT_OK;
  if (json) {
    err = iotkit_edge_load(e->edge, json, strlen(json));
    iotkit__fmt(pointer, sizeof(pointer), "%s", iotkit_edge_error_pointer(e->edge));
    iotkit__fmt(message, sizeof(message), "%s", iotkit_edge_last_error(e->edge));
  } else {
    iotkit_edge_clear(e->edge);
  }
  if (err == IOTKIT_OK) e->version = version;
  bool active = iotkit_edge_active(e->edge);
  uint64_t active_version = e->version;
  edge_unlock(dev);
  if (err != IOTKIT_OK) {
    iotkit__device_set_error(dev, "edge configuration refused at '%s': %s", pointer, message);
    iotkit_hal_logf(dev->hal, IOTKIT_LOG_WARN, "device %s: edge configuration (version %" PRIu64 ") refused (%s) at '%s': %s",
                    dev->device_id, version, iotkit_err_name(err), pointer, message);
  } else if (save) {
    persist(dev, json, version);
  }
  report(dev, active, active_version, version, err, pointer, message);
  return err;
}

/* The configuration persisted by an earlier run, if any; a damaged one is logged and ignored. */
static void restore(iotkit_device_t *dev) {
  size_t len = 0;
  iotkit_err_t err = dev->hal->kv_get(dev->hal->ctx, EDGE_KEY, NULL, 0, &len);
  if (err == IOTKIT_ERR_NOT_FOUND) return;
  char *buf = err == IOTKIT_ERR_BUFFER_TOO_SMALL || err == IOTKIT_OK ? malloc(len ? len : 1) : NULL;
  if (buf) err = dev->hal->kv_get(dev->hal->ctx, EDGE_KEY, buf, len, &len);
  cJSON *doc = buf && err == IOTKIT_OK ? iotkit__json_parse(buf, len) : NULL;
  free(buf);
  uint64_t version = 0;
  const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(doc, "config");
  char *text = cfg && iotkit__json_uint(cJSON_GetObjectItemCaseSensitive(doc, "version"), &version)
                   ? iotkit__json_print(cfg) : NULL;
  if (!text || apply(dev, text, version, false) != IOTKIT_OK)
    iotkit_hal_logf(dev->hal, IOTKIT_LOG_WARN, "device %s: stored edge configuration unusable: ignored", dev->device_id);
  cJSON_free(text);
  cJSON_Delete(doc);
}

iotkit_err_t iotkit__device_edge_init(iotkit_device_t *dev) {
  struct iotkit__device_edge *e = calloc(1, sizeof(*e));
  if (!e) return IOTKIT_ERR_NOMEM;
  dev->edge = e;
  iotkit_edge_config_t cfg;
  iotkit_edge_config_init(&cfg);
  cfg.on_point = on_point;
  cfg.user = dev;
  iotkit_err_t err = dev->hal->mutex_new(dev->hal->ctx, &e->lock);
  if (err == IOTKIT_OK) err = iotkit_edge_new(&cfg, &e->edge);
  if (err == IOTKIT_OK) restore(dev);
  return err;
}

void iotkit__device_edge_free(iotkit_device_t *dev) {
  struct iotkit__device_edge *e = dev->edge;
  if (!e) return;
  iotkit_edge_free(e->edge);
  if (e->lock) dev->hal->mutex_free(dev->hal->ctx, e->lock);
  free(e);
  dev->edge = NULL;
}

iotkit_err_t iotkit_device_edge_load(iotkit_device_t *dev, const char *json) {
  if (!dev) return IOTKIT_ERR_INVALID_ARG;
  return apply(dev, json, 0, true);
}

void iotkit__device_edge_desired(iotkit_device_t *dev, const cJSON *delta, const cJSON *state, uint64_t version) {
  if (!cJSON_HasObjectItem(delta, "edge")) return;
  const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(state, "edge");
  char *text = cfg && !cJSON_IsNull(cfg) ? iotkit__json_print(cfg) : NULL;
  if (cfg && !cJSON_IsNull(cfg) && !text) {
    iotkit_hal_logf(dev->hal, IOTKIT_LOG_ERROR, "device %s: out of memory for the edge configuration", dev->device_id);
    return;
  }
  (void)apply(dev, text, version, true);
  cJSON_free(text);
}

iotkit_err_t iotkit__device_edge_filter(iotkit_device_t *dev, const iotkit_telemetry_batch_t *in,
                                        iotkit_telemetry_batch_t **out) {
  struct iotkit__device_edge *e = dev->edge;
  *out = NULL;
  edge_lock(dev);
  if (!iotkit_edge_active(e->edge)) {
    edge_unlock(dev);
    return IOTKIT_OK;
  }
  iotkit_err_t err = iotkit_telemetry_batch_new(dev->hal, &e->out);
  e->out_err = IOTKIT_OK;
  size_t n = iotkit_telemetry_batch_count(in);
  for (size_t i = 0; i < n && err == IOTKIT_OK; i++) {
    const iotkit_telemetry_point_t *p = NULL;
    bool send = false;
    (void)iotkit_telemetry_batch_get(in, i, &p);
    (void)iotkit_edge_process(e->edge, p, &send);
    if (send && e->out_err == IOTKIT_OK) e->out_err = iotkit_telemetry_batch_add(e->out, p);
    err = e->out_err;
  }
  if (err == IOTKIT_OK) *out = e->out;
  else iotkit_telemetry_batch_free(e->out);
  e->out = NULL;
  edge_unlock(dev);
  return err;
}

/* {"rule":R,"metric":M,"value":V,"ts":T}: the data of an event configured without any. */
static char *event_data(const iotkit_edge_action_t *a) {
  cJSON *o = cJSON_CreateObject();
  bool ok = o && cJSON_AddStringToObject(o, "rule", a->source) && cJSON_AddStringToObject(o, "metric", a->metric) &&
            cJSON_AddNumberToObject(o, "value", a->value) && cJSON_AddNumberToObject(o, "ts", (double)a->ts_ms);
  char *text = ok ? iotkit__json_print_malloc(o) : NULL;
  cJSON_Delete(o);
  return text;
}

/* One action, copied out of the pipeline so that it is run without the lock. */
typedef struct edge_job {
  iotkit_edge_action_kind_t kind;
  char name[IOTKIT_MAX_NAME + 1];
  char *json;
} edge_job;

static bool take(iotkit_device_t *dev, edge_job *job) {
  edge_lock(dev);
  iotkit_edge_action_t a;
  bool got = false;
  while (!got && iotkit_edge_next_action(dev->edge->edge, &a) == IOTKIT_OK) {
    if (a.kind == IOTKIT_EDGE_ACTION_DETECTOR) continue; /* detectors act through rules */
    job->kind = a.kind;
    iotkit__fmt(job->name, sizeof(job->name), "%s", a.name ? a.name : "");
    job->json = a.kind == IOTKIT_EDGE_ACTION_EVENT && !strcmp(a.json, "{}") ? event_data(&a) : iotkit__strdup(a.json);
    got = true;
  }
  edge_unlock(dev);
  return got;
}

void iotkit__device_edge_run(iotkit_device_t *dev) {
  if (!dev->edge) return;
  edge_job job;
  for (int n = 0; n < EDGE_ACTIONS_PER_POLL && take(dev, &job); n++) {
    iotkit_err_t err = IOTKIT_ERR_NOMEM;
    if (job.json && job.kind == IOTKIT_EDGE_ACTION_EVENT) err = iotkit_device_event(dev, job.name, job.json, NULL);
    if (job.json && job.kind == IOTKIT_EDGE_ACTION_REPORT) err = iotkit_device_report(dev, job.json);
    if (job.json && job.kind == IOTKIT_EDGE_ACTION_COMMAND) err = iotkit__device_command_local(dev, job.name, job.json);
    if (err != IOTKIT_OK)
      iotkit_hal_logf(dev->hal, IOTKIT_LOG_WARN, "device %s: edge action %s failed (%s)", dev->device_id,
                      job.kind == IOTKIT_EDGE_ACTION_REPORT ? "report" : job.name, iotkit_err_name(err));
    free(job.json);
  }
}

iotkit_err_t iotkit_device_edge_stats_sized(iotkit_device_t *dev, iotkit_edge_stats_t *stats, size_t size) {
  if (!dev || !stats || !size) return IOTKIT_ERR_INVALID_ARG;
  edge_lock(dev);
  iotkit_err_t err = iotkit_edge_stats_sized(dev->edge->edge, stats, size);
  edge_unlock(dev);
  return err;
}

iotkit_err_t iotkit_device_edge_detector(iotkit_device_t *dev, const char *name, bool *active, double *score) {
  if (!dev || !name) return IOTKIT_ERR_INVALID_ARG;
  edge_lock(dev);
  iotkit_err_t err = iotkit_edge_detector(dev->edge->edge, name, active, score);
  edge_unlock(dev);
  return err;
}
