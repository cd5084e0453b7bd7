/* The device carries an OTA client: manifests in on ota/manifest, status out on ota/status.

   The client is used from one thread at a time: the application's (attach, offer, run,
   report) or, when the device is polled, the polling thread, which is the same. With a
   background loop, a manifest arriving in the loop thread is kept (under dev->lock) and
   handed over by the next iotkit_device_ota_run(), and a new session publishes the last
   status document cached by the observer, so the loop thread never touches the client. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "device/device_internal.h"
#include "iotkit/ota.h"
#include "iotkit/protocol.h"
#include "ota/internal.h"

#define MANIFEST_SUFFIX iotkit_channel_name(IOTKIT_CHANNEL_OTA_MANIFEST)
#define STATUS_SUFFIX iotkit_channel_name(IOTKIT_CHANNEL_OTA_STATUS)

struct iotkit__device_ota {
  iotkit_ota_t *ota;
  char *manifest_channel;
  char *status_channel;
  bool in_run;                /* inside iotkit_device_ota_run() */
  uint64_t last_progress_ms;  /* when the last DOWNLOADING report went out */
  iotkit_ota_state_t last_state;
  bool reported;              /* something was reported in this process */
  uint64_t polled_ms;         /* when the trial limit was last enforced */
  /* Guarded by dev->lock. */
  char *last_json;            /* the latest status document */
  char *pending;              /* a manifest the loop thread received, not yet offered */
  size_t pending_len;
};

/* Refresh the cached status document (in the thread using the client). */
static iotkit_err_t cache(iotkit_device_t *dev) {
  char *json = NULL;
  iotkit_err_t rc = iotkit_ota_status_json(dev->ota->ota, &json);
  if (rc != IOTKIT_OK) return rc;
  iotkit__device_lock(dev);
  char *old = dev->ota->last_json;
  dev->ota->last_json = json;
  iotkit__device_unlock(dev);
  iotkit_free(old);
  return IOTKIT_OK;
}

/* Publish the cached status document (any thread). */
static iotkit_err_t publish(iotkit_device_t *dev) {
  struct iotkit__device_ota *o = dev->ota;
  iotkit__device_lock(dev);
  char *json = iotkit__strdup(o->last_json);
  iotkit__device_unlock(dev);
  if (!json) return IOTKIT_ERR_NOMEM;
  iotkit_err_t rc = iotkit__device_send_own(dev, o->status_channel, json, false);
  free(json);
  return rc;
}

/* The OTA client's second status listener: transitions always, progress at most every PROGRESS_MS. */
static void on_status(iotkit_ota_t *ota, void *user, const iotkit_ota_status_t *st) {
  (void)ota;
  iotkit_device_t *dev = user;
  struct iotkit__device_ota *o = dev->ota;
  if (!o) return;
  uint64_t now = dev->hal->monotonic_ms(dev->hal->ctx);
  bool progress_only = o->reported && st->state == o->last_state && st->state == IOTKIT_OTA_DOWNLOADING;
  if (progress_only && now - o->last_progress_ms < IOTKIT_DEVICE_OTA_PROGRESS_MS && st->bytes != st->total) return;
  o->last_progress_ms = now;
  o->last_state = st->state;
  o->reported = true;
  if (cache(dev) == IOTKIT_OK && iotkit_device_is_connected(dev)) (void)publish(dev);
  /* A long download must not starve the session (keepalive, acknowledgements). */
  if (o->in_run && !dev->running && progress_only) (void)iotkit_device_poll(dev, 0);
}

static void release(struct iotkit__device_ota *o) {
  if (!o) return;
  if (o->ota) iotkit__ota_set_observer(o->ota, NULL, NULL);
  iotkit_free(o->last_json);
  free(o->pending);
  free(o->manifest_channel);
  free(o->status_channel);
  free(o);
}

void iotkit__device_ota_free(iotkit_device_t *dev) {
  release(dev->ota);
  dev->ota = NULL;
}

iotkit_err_t iotkit_device_ota_attach(iotkit_device_t *dev, iotkit_ota_t *ota) {
  if (!dev) return IOTKIT_ERR_INVALID_ARG;
  if (!ota) {
    iotkit__device_ota_free(dev);
    return IOTKIT_OK;
  }
  struct iotkit__device_ota *o = calloc(1, sizeof(*o));
  if (!o) return IOTKIT_ERR_NOMEM;
  o->ota = ota;
  o->manifest_channel = iotkit__device_channel(dev, MANIFEST_SUFFIX);
  o->status_channel = iotkit__device_channel(dev, STATUS_SUFFIX);
  if (!o->manifest_channel || !o->status_channel) {
    release(o);
    return IOTKIT_ERR_NOMEM;
  }
  iotkit_err_t rc = iotkit_ota_status_json(ota, &o->last_json);
  if (rc != IOTKIT_OK) {
    release(o);
    return rc;
  }
  iotkit__device_ota_free(dev);
  dev->ota = o;
  iotkit__ota_set_observer(ota, on_status, dev);
  /* Like the model's own channels, subscribed on every session (iotkit__device_ota_session_up). */
  if (dev->tctx && iotkit_device_is_connected(dev)) iotkit__device_ota_session_up(dev);
  return IOTKIT_OK;
}

/* A manifest already dealt with: the version running now, or the manifest of an update confirmed or rolled back. */
static bool already_handled(const iotkit_ota_t *ota, const char *text, size_t len) {
  iotkit_ota_manifest_t *m = NULL;
  if (iotkit_ota_manifest_parse(text, len, &m) != IOTKIT_OK) return false;
  int cmp = 1;
  bool running = iotkit_ota_version_compare(m->version, ota->running_version, &cmp) == IOTKIT_OK && cmp == 0;
  iotkit_ota_manifest_free(m);
  if (running) return true;
  /* A failed update is tried again: its checks repeat the refusal, or the server may have been fixed. */
  bool ended = ota->state == IOTKIT_OTA_CONFIRMED || ota->state == IOTKIT_OTA_ROLLED_BACK;
  return ended && ota->manifest_text && strlen(ota->manifest_text) == len && memcmp(ota->manifest_text, text, len) == 0;
}

iotkit_err_t iotkit_device_ota_offer(iotkit_device_t *dev, const char *manifest, size_t len) {
  if (!dev || !manifest) return IOTKIT_ERR_INVALID_ARG;
  if (!dev->ota) return IOTKIT_ERR_STATE;
  iotkit_ota_t *ota = dev->ota->ota;
  if (already_handled(ota, manifest, len)) {
    iotkit_hal_logf(dev->hal, IOTKIT_LOG_INFO, "device %s: ota: manifest already handled, ignored", dev->device_id);
    /* Answered with where the device stands: a fleet that lost a report (restarted) learns it so. */
    if (iotkit_device_is_connected(dev)) (void)publish(dev);
    return IOTKIT_OK;
  }
  iotkit_err_t rc = iotkit_ota_start(ota, manifest, len);
  if (rc != IOTKIT_OK)
    iotkit__device_set_error(dev, "ota: manifest not accepted: %s (%s)", iotkit_strerror(rc), iotkit_err_name(rc));
  return rc;
}

void iotkit__device_ota_in(iotkit_device_t *dev, const void *payload, size_t len) {
  if (len == 0) return; /* a retained manifest being cleared */
  if (!dev->running) {
    (void)iotkit_device_ota_offer(dev, payload, len);
    return;
  }
  char *copy = malloc(len);
  if (!copy) return;
  memcpy(copy, payload, len);
  iotkit__device_lock(dev);
  char *old = dev->ota->pending;
  dev->ota->pending = copy;
  dev->ota->pending_len = len;
  iotkit__device_unlock(dev);
  free(old);
}

bool iotkit__device_ota_channel(const iotkit_device_t *dev, const char *channel) {
  return dev->ota && strcmp(channel, dev->ota->manifest_channel) == 0;
}

void iotkit__device_ota_session_up(iotkit_device_t *dev) {
  if (!dev->ota) return;
  iotkit_err_t err = dev->ops->subscribe(dev->tctx, dev->ota->manifest_channel, 1);
  if (err != IOTKIT_OK) {
    iotkit__device_set_error(dev, "subscribe to %s failed: %s", dev->ota->manifest_channel, iotkit_strerror(err));
    iotkit_hal_logf(dev->hal, IOTKIT_LOG_ERROR, "device %s: subscribe to %s failed (%s)", dev->device_id,
                    dev->ota->manifest_channel, iotkit_err_name(err));
  }
  (void)publish(dev);
}

void iotkit__device_ota_poll(iotkit_device_t *dev) {
  /* Not from inside a download: the progress callback polls the device, and the client is busy. */
  if (!dev->ota || dev->ota->in_run) return;
  dev->ota->polled_ms = iotkit__device_now(dev);
  iotkit_err_t rc = iotkit_ota_poll(dev->ota->ota);
  /* A rollback is reported through the observer; only a failure to do it is the device's error. */
  if (rc != IOTKIT_OK)
    iotkit__device_set_error(dev, "ota: trial time limit: %s (%s)", iotkit_strerror(rc), iotkit_err_name(rc));
}

/* A rollback that failed is tried again after this long, not in a busy loop. */
#define TRIAL_RETRY_MS 1000u

int iotkit__device_ota_timeout_ms(const iotkit_device_t *dev, uint64_t now) {
  const struct iotkit__device_ota *o = dev->ota;
  if (!o || o->in_run) return -1;
  const iotkit_ota_t *ota = o->ota;
  if (ota->state != IOTKIT_OTA_TRIAL || ota->cfg.trial_timeout_s == 0) return -1;
  uint64_t due = ota->trial_since_ms + (uint64_t)ota->cfg.trial_timeout_s * 1000u;
  if (due <= o->polled_ms) due = o->polled_ms + TRIAL_RETRY_MS;
  uint64_t left = due > now ? due - now : 0;
  return left > INT_MAX ? INT_MAX : (int)left;
}

iotkit_err_t iotkit_device_ota_run(iotkit_device_t *dev) {
  if (!dev) return IOTKIT_ERR_INVALID_ARG;
  if (!dev->ota) return IOTKIT_ERR_STATE;
  /* With a background loop this is the application's only call into the client: enforce the time limit here. */
  iotkit__device_ota_poll(dev);
  iotkit__device_lock(dev);
  char *pending = dev->ota->pending;
  size_t pending_len = dev->ota->pending_len;
  dev->ota->pending = NULL;
  iotkit__device_unlock(dev);
  if (pending) (void)iotkit_device_ota_offer(dev, pending, pending_len);
  free(pending);
  dev->ota->in_run = true;
  iotkit_err_t rc = iotkit_ota_run(dev->ota->ota);
  if (dev->ota) dev->ota->in_run = false;
  return rc;
}

iotkit_err_t iotkit_device_ota_report(iotkit_device_t *dev) {
  if (!dev) return IOTKIT_ERR_INVALID_ARG;
  if (!dev->ota) return IOTKIT_ERR_STATE;
  iotkit_err_t rc = cache(dev);
  return rc == IOTKIT_OK ? publish(dev) : rc;
}
