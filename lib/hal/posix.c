/* The POSIX HAL: creation, clocks, random, log sink and reboot. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "hal/posix_internal.h"

void iotkit_hal_posix_config_init(iotkit_hal_posix_config_t *cfg) {
  if (!cfg) return;
  memset(cfg, 0, sizeof(*cfg));
  cfg->struct_size = sizeof(*cfg);
  cfg->slot_capacity = 64u * 1024u * 1024u;
  cfg->log_level = IOTKIT_LOG_INFO;
  cfg->log_fd = 2;
}

static uint64_t px_monotonic_ms(void *ctx) {
  (void)ctx;
  return iotkit__hal_os_monotonic_ms();
}

static int64_t px_wall_ms(void *ctx) {
  (void)ctx;
  return iotkit__hal_os_wall_ms();
}

static iotkit_err_t px_random(void *ctx, void *buf, size_t len) {
  (void)ctx;
  return iotkit__hal_os_random(buf, len);
}

static void px_sleep_ms(void *ctx, uint32_t ms) {
  (void)ctx;
  iotkit__hal_os_sleep_ms(ms);
}

static void px_log(void *ctx, iotkit_log_level_t level, const char *line) {
  iotkit__hal_posix_t *p = ctx;
  if (!line || level > p->log_level) return;
  if (p->log_cb) p->log_cb(p->log_user, level, line);
  if (p->log_fd < 0) return;
  char ts[32], text[1200];
  iotkit__hal_format_utc(iotkit__hal_os_wall_ms(), ts, sizeof(ts));
  int n = snprintf(text, sizeof(text), "%s iotkit[%s] %s\n", ts, iotkit_log_level_name(level), line);
  if (n < 0) return;
  if ((size_t)n >= sizeof(text)) {
    n = (int)sizeof(text) - 1;
    text[n - 1] = '\n';
  }
  /* One write per line, so that lines from several threads do not interleave. */
  const char *s = text;
  size_t left = (size_t)n;
  while (left > 0) {
    ssize_t w = write(p->log_fd, s, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    s += w;
    left -= (size_t)w;
  }
}

static iotkit_err_t px_reboot(void *ctx, const char *reason) {
  iotkit__hal_posix_t *p = ctx;
  /* A process cannot reboot the machine: the request is logged and the caller decides what to do. */
  iotkit_hal_logf(&p->box.hal, IOTKIT_LOG_WARN, "reboot requested (%s); the POSIX HAL only logs it",
                  reason ? reason : "no reason");
  return IOTKIT_OK;
}

static void px_destroy(iotkit__hal_box_t *box) {
  iotkit__hal_posix_t *p = (iotkit__hal_posix_t *)box;
  iotkit__hal_posix_slots_close(p);
  iotkit__hal_posix_segs_close(p);
  if (p->queue_dir >= 0) close(p->queue_dir);
  if (p->kv_dir >= 0) close(p->kv_dir);
  if (p->slots_dir >= 0) close(p->slots_dir);
  pthread_mutex_destroy(&p->lock);
  free(p);
}

static void install_ops(iotkit_hal_t *h) {
  h->monotonic_ms = px_monotonic_ms;
  h->wall_ms = px_wall_ms;
  h->random = px_random;
  h->sleep_ms = px_sleep_ms;
  h->kv_get = iotkit__hal_posix_kv_get;
  h->kv_set = iotkit__hal_posix_kv_set;
  h->kv_erase = iotkit__hal_posix_kv_erase;
  h->slot_open = iotkit__hal_posix_slot_open;
  h->slot_write = iotkit__hal_posix_slot_write;
  h->slot_read = iotkit__hal_posix_slot_read;
  h->slot_finalize = iotkit__hal_posix_slot_finalize;
  h->slot_mark_pending = iotkit__hal_posix_slot_mark_pending;
  h->slot_confirm = iotkit__hal_posix_slot_confirm;
  h->slot_query = iotkit__hal_posix_slot_query;
  h->slot_resume = iotkit__hal_posix_slot_resume;
  h->slot_revert = iotkit__hal_posix_slot_revert;
  h->reboot = px_reboot;
  h->log = px_log;
  iotkit__hal_use_pthreads(h);
  iotkit__hal_posix_segs_install(h);
}

/* Create the directories, clean what a crash left, load the boot record. */
static iotkit_err_t open_state(iotkit__hal_posix_t *p, const char *state_dir) {
  int root = -1;
  iotkit_err_t rc = iotkit__hal_dir_open(p, AT_FDCWD, state_dir, &root);
  if (rc != IOTKIT_OK) return rc;
  rc = iotkit__hal_dir_open(p, root, "kv", &p->kv_dir);
  if (rc == IOTKIT_OK) rc = iotkit__hal_dir_open(p, root, "slots", &p->slots_dir);
  if (rc == IOTKIT_OK) rc = iotkit__hal_dir_open(p, root, "queue", &p->queue_dir);
  close(root);
  if (rc == IOTKIT_OK) rc = iotkit__hal_dir_clean_temps(p, p->kv_dir);
  if (rc == IOTKIT_OK) rc = iotkit__hal_dir_clean_temps(p, p->slots_dir);
  if (rc == IOTKIT_OK) rc = iotkit__hal_posix_slots_load(p);
  return rc;
}

iotkit_err_t iotkit_hal_posix_new(const iotkit_hal_posix_config_t *user_cfg, iotkit_hal_t **out) {
  if (!user_cfg || !out) return IOTKIT_ERR_INVALID_ARG;
  iotkit_hal_posix_config_t full;
  if (IOTKIT__STRUCT_IN(full, iotkit_hal_posix_config_init, user_cfg, IOTKIT__HAL_POSIX_CONFIG) != IOTKIT_OK)
    return IOTKIT_ERR_INVALID_ARG;
  const iotkit_hal_posix_config_t *cfg = &full;
  if (!cfg->state_dir || !*cfg->state_dir || cfg->slot_capacity == 0 || cfg->slot_capacity > (uint64_t)INT64_MAX)
    return IOTKIT_ERR_INVALID_ARG;
  iotkit__hal_posix_t *p = calloc(1, sizeof(*p));
  if (!p) return IOTKIT_ERR_NOMEM;
  if (pthread_mutex_init(&p->lock, NULL) != 0) {
    free(p);
    return IOTKIT_ERR_NOMEM;
  }
  p->log_level = cfg->log_level;
  p->log_fd = cfg->log_fd;
  p->log_cb = cfg->log_cb;
  p->log_user = cfg->log_cb ? cfg->log_user : NULL;
  p->capacity = cfg->slot_capacity;
  p->kv_dir = p->slots_dir = p->queue_dir = -1;
  for (int i = 0; i < IOTKIT_HAL_SLOT_COUNT; i++) p->slot_fd[i] = -1;
  p->rec_fd = -1;
  for (int i = 0; i < IOTKIT__HAL_SEG_CACHE; i++) p->seg_fd[i].fd = -1;
  atomic_init(&p->temp_seq, 0);
  iotkit_hal_init(&p->box.hal);
  p->box.hal.ctx = p;
  p->box.magic = IOTKIT__HAL_MAGIC;
  p->box.kind = IOTKIT__HAL_POSIX;
  p->box.destroy = px_destroy;
  p->box.boot = iotkit__hal_posix_boot;
  install_ops(&p->box.hal);
  iotkit_err_t rc = open_state(p, cfg->state_dir);
  if (rc != IOTKIT_OK) {
    px_destroy(&p->box);
    return rc;
  }
  *out = &p->box.hal;
  return IOTKIT_OK;
}
