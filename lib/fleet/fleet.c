/*
 * The fleet handle: configuration, creation and release, last error.
 *
 * Design (docs/architecture.md, "Fleet"):
 *  - The registry lives behind the store interface (store.h); SQLite is the one
 *    backend (store_sqlite*.c). Nothing outside the backend writes SQL.
 *  - Writes: one writer thread (writer.c, started from the HAL's thread_start)
 *    owns the store's write connection and drains a queue of jobs, each one
 *    transaction. Registry calls submit a job and wait for its result (so they
 *    report EXISTS, NOT_FOUND, BUSY... exactly); message processing changes the
 *    live view in memory (view.c) and queues one flush job (flush.c), so it
 *    never waits for the disk.
 *  - Reads (get, list, count) run in the calling thread on the store's separate
 *    read connection; with WAL they are not blocked by the writer.
 *  - Every problem with the database file is found by iotkit_fleet_new(): the
 *    store's open takes and releases a write transaction and migrates the
 *    schema, so that a locked, read-only, corrupt or newer file is refused here
 *    with its own code and a text naming the file.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "fleet/control.h"
#include "fleet/fleet_internal.h"
#include "fleet/rollout.h"
#include "iotkit/protocol.h"

void iotkit__fleet_set_error(iotkit_fleet_t *fleet, const char *fmt, ...) {
  char text[IOTKIT_ERROR_TEXT_SIZE];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(text, sizeof(text), fmt, ap);
  va_end(ap);
  if (n < 0) text[0] = '\0';
  fleet->hal->mutex_lock(fleet->hal->ctx, fleet->err_lock);
  memcpy(fleet->last_error, text, sizeof(text));
  fleet->hal->mutex_unlock(fleet->hal->ctx, fleet->err_lock);
}

const char *iotkit_fleet_last_error(const iotkit_fleet_t *fleet, char *buf, size_t cap) {
  if (!fleet || !buf || cap == 0) return "";
  fleet->hal->mutex_lock(fleet->hal->ctx, fleet->err_lock);
  iotkit__fmt(buf, cap, "%s", fleet->last_error);
  fleet->hal->mutex_unlock(fleet->hal->ctx, fleet->err_lock);
  return buf;
}

/* A failure of iotkit_fleet_new(): to the caller's buffer and the HAL's log. */
static iotkit_err_t fail_new(const iotkit_fleet_config_t *cfg, const iotkit_hal_t *hal, iotkit_err_t rc,
                             const char *text) {
  if (cfg && cfg->error_buf && cfg->error_buf_size) iotkit__fmt(cfg->error_buf, cfg->error_buf_size, "%s", text);
  if (hal && hal->log) iotkit_hal_logf(hal, IOTKIT_LOG_ERROR, "fleet: %s", text);
  return rc;
}

static void fleet_release(iotkit_fleet_t *fleet) {
  if (fleet->store_ops) fleet->store_ops->close(fleet->store);
  iotkit__fleet_view_free(&fleet->view);
  iotkit__fleet_session_free(fleet);
  iotkit__fleet_control_free(fleet);
  iotkit__fleet_rollouts_free(fleet);
  free(fleet->uptime_topic);
  if (fleet->lock) fleet->hal->mutex_free(fleet->hal->ctx, fleet->lock);
  if (fleet->cb_lock) fleet->hal->mutex_free(fleet->hal->ctx, fleet->cb_lock);
  free(fleet->db_path);
  free(fleet->uri);
  free(fleet->client_id);
  free(fleet->username);
  iotkit__free_secret(fleet->password);
  free(fleet->topic_prefix);
  free(fleet->ca_file);
  free(fleet->ca_dir);
  free(fleet->cert_file);
  free(fleet->key_file);
  if (fleet->err_lock) fleet->hal->mutex_free(fleet->hal->ctx, fleet->err_lock);
  iotkit__memzero(fleet, sizeof(*fleet));
  free(fleet);
}

/* Copy a string that may be NULL; false on allocation failure. */
static bool dup_opt(char **dst, const char *src) {
  *dst = iotkit__strdup(src);
  return !src || *dst;
}

static bool copy_strings(iotkit_fleet_t *fleet, const iotkit_fleet_config_t *cfg) {
  const char *prefix = cfg->topic_prefix ? cfg->topic_prefix : IOTKIT_TOPIC_PREFIX_DEFAULT;
  return dup_opt(&fleet->db_path, cfg->db_path) && dup_opt(&fleet->uri, cfg->uri) &&
         dup_opt(&fleet->client_id, cfg->client_id) && dup_opt(&fleet->username, cfg->username) &&
         dup_opt(&fleet->password, cfg->password) && dup_opt(&fleet->topic_prefix, prefix) &&
         dup_opt(&fleet->ca_file, cfg->tls.ca_file) && dup_opt(&fleet->ca_dir, cfg->tls.ca_dir) &&
         dup_opt(&fleet->cert_file, cfg->tls.cert_file) && dup_opt(&fleet->key_file, cfg->tls.key_file) &&
         dup_opt(&fleet->uptime_topic,
                 cfg->broker_uptime_topic && *cfg->broker_uptime_topic ? cfg->broker_uptime_topic : NULL);
}

/* The session's numbers: 0 means the default. */
static void copy_numbers(iotkit_fleet_t *f, const iotkit_fleet_config_t *cfg) {
  f->verify_peer = cfg->tls.verify_peer;
  f->auto_register = cfg->auto_register;
  f->auto_register_cb = cfg->auto_register_cb;
  f->auto_register_user = cfg->auto_register_user;
  f->transports = cfg->transports;
  f->mqtt_version = cfg->mqtt_version ? cfg->mqtt_version : 311;
  f->keepalive_s = cfg->keepalive_s ? cfg->keepalive_s : IOTKIT_KEEPALIVE_DEFAULT_S;
  f->connect_timeout_ms = cfg->connect_timeout_ms ? cfg->connect_timeout_ms : IOTKIT_CONNECT_TIMEOUT_DEFAULT_MS;
  f->reconnect_min_ms = cfg->reconnect_min_ms ? cfg->reconnect_min_ms : IOTKIT_RECONNECT_MIN_DEFAULT_MS;
  f->reconnect_max_ms = cfg->reconnect_max_ms ? cfg->reconnect_max_ms : IOTKIT_RECONNECT_MAX_DEFAULT_MS;
  if (f->reconnect_max_ms < f->reconnect_min_ms) f->reconnect_max_ms = f->reconnect_min_ms;
  f->heartbeat_ms = cfg->heartbeat_ms;
  f->uptime_interval_s = cfg->broker_uptime_interval_s ? cfg->broker_uptime_interval_s : 10;
  f->history_max = cfg->location_history_max ? cfg->location_history_max : IOTKIT_FLEET_LOCATION_HISTORY_DEFAULT;
  f->tel_history_max = cfg->history_max_points;
  f->tel_history_age_ms = cfg->history_max_age_ms;
  f->key_cb = cfg->key_cb;
  f->key_user = cfg->key_user;
  f->fd = -1;
}

iotkit_err_t iotkit_fleet_new(const iotkit_fleet_config_t *cfg_in, iotkit_fleet_t **out) {
  if (!cfg_in || !out) return IOTKIT_ERR_INVALID_ARG;
  iotkit_fleet_config_t cfg;
  iotkit_fleet_config_init(&cfg);
  if (iotkit__struct_copy(&cfg, sizeof(cfg), cfg_in, IOTKIT__FLEET_CONFIG_SIZE_0_3, IOTKIT__FLEET_CONFIG_REQUIRED) !=
      IOTKIT_OK)
    return IOTKIT_ERR_INVALID_ARG;
  /* error_buf lies within the caller's struct only if its size covers it. */
  const iotkit_fleet_config_t *report = IOTKIT__HAS_FIELD(cfg_in, iotkit_fleet_config_t, error_buf_size,
                                                          IOTKIT__FLEET_CONFIG_SIZE_0_3)
                                            ? &cfg
                                            : NULL;
  if (iotkit_hal_validate(cfg.hal) != IOTKIT_OK)
    return fail_new(report, NULL, IOTKIT_ERR_INVALID_ARG, "no HAL, or a HAL lacking required operations");
  if (!cfg.db_path || !*cfg.db_path) return fail_new(report, cfg.hal, IOTKIT_ERR_INVALID_ARG, "no db_path");
  if (cfg.topic_prefix && !iotkit_protocol_prefix_valid(cfg.topic_prefix))
    return fail_new(report, cfg.hal, IOTKIT_ERR_INVALID_ARG, "invalid topic_prefix");
  if (cfg.mqtt_version != 0 && cfg.mqtt_version != 311 && cfg.mqtt_version != 5)
    return fail_new(report, cfg.hal, IOTKIT_ERR_INVALID_ARG, "mqtt_version is neither 311 nor 5");

  iotkit_fleet_t *fleet = calloc(1, sizeof(*fleet));
  if (!fleet) return IOTKIT_ERR_NOMEM;
  fleet->hal = iotkit__hal_view(cfg.hal, &fleet->hal_view);
  const iotkit_hal_t *hal = fleet->hal;
  if (!hal->thread_start || !hal->thread_join) {
    free(fleet);
    return fail_new(report, cfg.hal, IOTKIT_ERR_INVALID_ARG, "the HAL has no thread_start/thread_join (writer thread)");
  }
  if (!(hal->cond_new && hal->cond_wait && hal->cond_broadcast && hal->cond_free) && !hal->sleep_ms) {
    free(fleet);
    return fail_new(report, cfg.hal, IOTKIT_ERR_UNSUPPORTED, "the HAL has neither condition variables nor sleep_ms");
  }
  if (hal->mutex_new(hal->ctx, &fleet->err_lock) != IOTKIT_OK) {
    free(fleet);
    return IOTKIT_ERR_NOMEM;
  }
  if (hal->mutex_new(hal->ctx, &fleet->lock) != IOTKIT_OK || hal->mutex_new(hal->ctx, &fleet->cb_lock) != IOTKIT_OK ||
      iotkit__fleet_view_init(&fleet->view) != IOTKIT_OK || !copy_strings(fleet, &cfg) ||
      iotkit__fleet_control_init(fleet) != IOTKIT_OK) {
    fleet_release(fleet);
    return IOTKIT_ERR_NOMEM;
  }
  copy_numbers(fleet, &cfg);

  char err[IOTKIT_ERROR_TEXT_SIZE] = "";
  iotkit__fleet_store_args_t args = {
      .path = fleet->db_path,
      .hal = hal,
      .busy_timeout_ms = cfg.busy_timeout_ms ? cfg.busy_timeout_ms : IOTKIT_FLEET_BUSY_TIMEOUT_DEFAULT_MS,
      .integrity_check = cfg.integrity_check,
  };
  iotkit_err_t rc = iotkit__fleet_store_sqlite.open(&args, &fleet->store, err, sizeof(err));
  if (rc != IOTKIT_OK) {
    fleet_release(fleet);
    return fail_new(report, cfg.hal, rc, err);
  }
  fleet->store_ops = &iotkit__fleet_store_sqlite;
  rc = iotkit__fleet_view_load(fleet, err, sizeof(err));
  if (rc != IOTKIT_OK) {
    fleet_release(fleet);
    return fail_new(report, cfg.hal, rc, err);
  }
  rc = iotkit__fleet_rollouts_load(fleet, err, sizeof(err));
  if (rc != IOTKIT_OK) {
    fleet_release(fleet);
    return fail_new(report, cfg.hal, rc, err);
  }
  rc = iotkit__fleet_writer_start(fleet, err, sizeof(err));
  if (rc != IOTKIT_OK) {
    iotkit__fleet_writer_stop(fleet);
    fleet_release(fleet);
    return fail_new(report, cfg.hal, rc, err);
  }
  iotkit_hal_logf(hal, IOTKIT_LOG_INFO, "fleet: registry %s open", fleet->db_path);
  *out = fleet;
  return IOTKIT_OK;
}

void iotkit_fleet_free(iotkit_fleet_t *fleet) {
  if (!fleet) return;
  /* No thread polls, no callback runs, then the last changes are written before the writer stops. */
  iotkit__fleet_session_end(fleet);
  if (fleet->thread) (void)iotkit__fleet_write(fleet, iotkit__fleet_flush_job, NULL);
  iotkit__fleet_writer_stop(fleet);
  fleet_release(fleet);
}
