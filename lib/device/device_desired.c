/* Desired state: versioned documents from the cloud, applied as deltas and
   persisted through the HAL so that a restarted device knows its last one. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "device/device_internal.h"
#include "device/device_json.h"
#include "protocol/documents.h"

/* Store {"version":N,"state":S} under IOTKIT__DEVICE_DESIRED_KEY. */
static void persist(iotkit_device_t *dev, uint64_t version, const cJSON *state) {
  char *doc = iotkit__desired_json(version, state);
  iotkit_err_t err = doc ? dev->hal->kv_set(dev->hal->ctx, IOTKIT__DEVICE_DESIRED_KEY, doc, strlen(doc)) : IOTKIT_ERR_NOMEM;
  if (err != IOTKIT_OK)
    iotkit_hal_logf(dev->hal, IOTKIT_LOG_ERROR, "device %s: desired state version %" PRIu64 " not persisted (%s)",
                    dev->device_id, version, iotkit_err_name(err));
  free(doc);
}

static void deliver(iotkit_device_t *dev, const cJSON *delta, uint64_t version) {
  iotkit__device_lock(dev);
  bool has_cb = !dev->closing && dev->on_desired;
  iotkit__device_unlock(dev);
  if (!has_cb) return;
  char *text = iotkit__json_print(delta);
  if (!text) {
    iotkit_hal_logf(dev->hal, IOTKIT_LOG_ERROR, "device %s: out of memory for the desired delta", dev->device_id);
    return;
  }
  /* Read again inside the dispatch: the setter may have replaced it meanwhile. */
  iotkit__device_cb_enter(dev);
  iotkit__device_lock(dev);
  iotkit_desired_cb cb = dev->closing ? NULL : dev->on_desired;
  void *user = dev->on_desired_user;
  iotkit__device_unlock(dev);
  if (cb) cb(dev, user, text, version);
  iotkit__device_cb_leave(dev);
  cJSON_free(text);
}

void iotkit__device_desired_in(iotkit_device_t *dev, const void *payload, size_t len) {
  cJSON *doc = iotkit__json_parse(payload, len);
  uint64_t version = 0;
  const cJSON *state = NULL;
  const char *why = doc ? iotkit__desired_check(doc, &version, &state) : "not JSON";
  if (why) {
    iotkit__device_set_error(dev, "ignored a desired state on %s: %s", dev->desired_channel, why);
    iotkit_hal_logf(dev->hal, IOTKIT_LOG_WARN, "device %s: ignored a desired state: %s", dev->device_id, why);
    cJSON_Delete(doc);
    return;
  }
  iotkit__device_lock(dev);
  uint64_t applied = dev->desired_version;
  cJSON *delta = NULL, *copy = NULL;
  if (version > applied) {
    delta = iotkit__json_diff(dev->desired, state);
    copy = cJSON_Duplicate(state, true);
    if (delta && copy) {
      cJSON_Delete(dev->desired);
      dev->desired = copy;
      dev->desired_version = version;
      copy = NULL;
    }
  }
  iotkit__device_unlock(dev);
  if (version <= applied) {
    iotkit_hal_logf(dev->hal, IOTKIT_LOG_INFO, "device %s: ignored desired state version %" PRIu64
                    " (version %" PRIu64 " is applied)", dev->device_id, version, applied);
  } else if (!delta || copy) {
    iotkit_hal_logf(dev->hal, IOTKIT_LOG_ERROR, "device %s: out of memory applying desired state", dev->device_id);
  } else {
    persist(dev, version, state);
    iotkit__device_edge_desired(dev, delta, state, version);
    deliver(dev, delta, version);
  }
  cJSON_Delete(copy);
  cJSON_Delete(delta);
  cJSON_Delete(doc);
}

void iotkit__device_desired_restore(iotkit_device_t *dev) {
  iotkit__device_lock(dev);
  bool due = dev->desired_restore;
  dev->desired_restore = false;
  cJSON *state = due ? cJSON_Duplicate(dev->desired, true) : NULL;
  uint64_t version = dev->desired_version;
  iotkit__device_unlock(dev);
  if (!state) return;
  iotkit_hal_logf(dev->hal, IOTKIT_LOG_INFO, "device %s: applying stored desired state version %" PRIu64,
                  dev->device_id, version);
  deliver(dev, state, version); /* against nothing, the whole state is the delta */
  cJSON_Delete(state);
}

/* Read the stored desired document, if any; a damaged one is logged and ignored. */
static void load(iotkit_device_t *dev) {
  size_t len = 0;
  iotkit_err_t err = dev->hal->kv_get(dev->hal->ctx, IOTKIT__DEVICE_DESIRED_KEY, NULL, 0, &len);
  if (err == IOTKIT_ERR_NOT_FOUND) return;
  char *buf = err == IOTKIT_ERR_BUFFER_TOO_SMALL || err == IOTKIT_OK ? malloc(len ? len : 1) : NULL;
  if (buf) err = dev->hal->kv_get(dev->hal->ctx, IOTKIT__DEVICE_DESIRED_KEY, buf, len, &len);
  cJSON *doc = buf && err == IOTKIT_OK ? iotkit__json_parse(buf, len) : NULL;
  free(buf);
  uint64_t version = 0;
  const cJSON *state = NULL;
  cJSON *copy = doc && !iotkit__desired_check(doc, &version, &state) ? cJSON_Duplicate(state, true) : NULL;
  if (copy) {
    cJSON_Delete(dev->desired);
    dev->desired = copy;
    dev->desired_version = version;
    dev->desired_restore = true;
  } else {
    iotkit_hal_logf(dev->hal, IOTKIT_LOG_WARN, "device %s: stored desired state unreadable (%s): ignored",
                    dev->device_id, iotkit_err_name(err != IOTKIT_OK ? err : IOTKIT_ERR_CORRUPT));
  }
  cJSON_Delete(doc);
}

iotkit_err_t iotkit__device_state_init(iotkit_device_t *dev) {
  dev->reported = cJSON_CreateObject();
  dev->desired = cJSON_CreateObject();
  if (!dev->reported || !dev->desired) return IOTKIT_ERR_NOMEM;
  load(dev);
  return IOTKIT_OK;
}

void iotkit__device_state_free(iotkit_device_t *dev) {
  cJSON_Delete(dev->reported);
  cJSON_Delete(dev->desired);
  dev->reported = dev->desired = NULL;
}

iotkit_err_t iotkit_device_desired(const iotkit_device_t *dev, char **state_json, uint64_t *version) {
  if (!dev) return IOTKIT_ERR_INVALID_ARG;
  char *copy = NULL;
  iotkit__device_lock(dev);
  char *text = state_json ? iotkit__json_print(dev->desired) : NULL;
  uint64_t v = dev->desired_version;
  iotkit__device_unlock(dev);
  if (state_json) {
    copy = text ? iotkit__strdup(text) : NULL;
    cJSON_free(text);
    if (!copy) return IOTKIT_ERR_NOMEM;
    *state_json = copy;
  }
  if (version) *version = v;
  return IOTKIT_OK;
}
