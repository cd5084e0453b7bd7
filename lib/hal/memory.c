/* The memory HAL: creation, clocks, deterministic random, captured log, reboot. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "hal/memory_internal.h"

#define DEFAULT_SEED 0x9e3779b97f4a7c15ull
#define LOG_KEEP_MAX (1024u * 1024u)
/* The manual wall clock starts at 2026-01-01T00:00:00Z. */
#define MANUAL_WALL_BASE 1767225600000ll

void iotkit_hal_memory_config_init(iotkit_hal_memory_config_t *cfg) {
  if (!cfg) return;
  memset(cfg, 0, sizeof(*cfg));
  cfg->struct_size = sizeof(*cfg);
  cfg->slot_capacity = 16u * 1024u * 1024u;
  cfg->log_level = IOTKIT_LOG_DEBUG;
}

iotkit__hal_memory_t *iotkit__hal_memory_of(const iotkit_hal_t *hal) {
  return (iotkit__hal_memory_t *)iotkit__hal_box_of(hal, IOTKIT__HAL_MEMORY);
}

static uint64_t mem_monotonic_ms(void *ctx) {
  iotkit__hal_memory_t *m = ctx;
  if (!m->cfg.manual_clock) return iotkit__hal_os_monotonic_ms();
  pthread_mutex_lock(&m->lock);
  uint64_t now = m->manual_now;
  pthread_mutex_unlock(&m->lock);
  return now;
}

static int64_t mem_wall_ms(void *ctx) {
  iotkit__hal_memory_t *m = ctx;
  if (!m->cfg.manual_clock) return iotkit__hal_os_wall_ms();
  return MANUAL_WALL_BASE + (int64_t)mem_monotonic_ms(ctx);
}

static void mem_sleep_ms(void *ctx, uint32_t ms) {
  iotkit__hal_memory_t *m = ctx;
  /* A manual clock does not move while sleeping: wait a token 1 ms so that polling loops yield. */
  iotkit__hal_os_sleep_ms(m->cfg.manual_clock && ms > 1 ? 1 : ms);
}

/* splitmix64: fast, reproducible from a seed, and NOT cryptographically strong. */
static uint64_t splitmix64(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static iotkit_err_t mem_random(void *ctx, void *buf, size_t len) {
  iotkit__hal_memory_t *m = ctx;
  if (!buf && len > 0) return IOTKIT_ERR_INVALID_ARG;
  unsigned char *p = buf;
  pthread_mutex_lock(&m->lock);
  while (len > 0) {
    uint64_t r = splitmix64(&m->rng);
    size_t n = len < sizeof(r) ? len : sizeof(r);
    memcpy(p, &r, n);
    p += n;
    len -= n;
  }
  pthread_mutex_unlock(&m->lock);
  return IOTKIT_OK;
}

/* With the lock held. Keeps at most LOG_KEEP_MAX bytes, dropping the oldest lines. */
static void log_append(iotkit__hal_memory_t *m, const char *text, size_t n) {
  mem_buf_t *b = &m->log;
  if (b->len + n + 1 > LOG_KEEP_MAX && b->len > 0) {
    const char *cut = memchr(b->data + b->len / 2, '\n', b->len - b->len / 2);
    size_t drop = cut ? (size_t)(cut - (const char *)b->data) + 1 : b->len;
    memmove(b->data, b->data + drop, b->len - drop);
    b->len -= drop;
  }
  if (iotkit__hal_mem_buf_reserve(b, b->len + n + 1) != IOTKIT_OK) return;
  memcpy(b->data + b->len, text, n);
  b->len += n;
  b->data[b->len] = '\0';
}

static void mem_log(void *ctx, iotkit_log_level_t level, const char *line) {
  iotkit__hal_memory_t *m = ctx;
  if (!line || level > m->cfg.log_level) return;
  char text[1200];
  int n = snprintf(text, sizeof(text), "[%s] %s\n", iotkit_log_level_name(level), line);
  if (n < 0) return;
  if ((size_t)n >= sizeof(text)) {
    n = (int)sizeof(text) - 1;
    text[n - 1] = '\n';
  }
  pthread_mutex_lock(&m->lock);
  log_append(m, text, (size_t)n);
  pthread_mutex_unlock(&m->lock);
  /* Outside the lock: the sink may take its own locks, or read the captured log. */
  if (m->cfg.log_cb) m->cfg.log_cb(m->cfg.log_user, level, line);
}

static iotkit_err_t mem_reboot(void *ctx, const char *reason) {
  iotkit__hal_memory_t *m = ctx;
  iotkit_hal_logf(&m->box.hal, IOTKIT_LOG_WARN, "reboot requested: %s", reason ? reason : "(no reason)");
  pthread_mutex_lock(&m->lock);
  m->reboots++;
  pthread_mutex_unlock(&m->lock);
  return IOTKIT_OK;
}

static void mem_destroy(iotkit__hal_box_t *box) {
  iotkit__hal_memory_t *m = (iotkit__hal_memory_t *)box;
  iotkit__hal_mem_free_storage(m);
  iotkit__hal_mem_buf_free(&m->log);
  pthread_mutex_destroy(&m->lock);
  free(m);
}

static void install_ops(iotkit_hal_t *h) {
  h->monotonic_ms = mem_monotonic_ms;
  h->wall_ms = mem_wall_ms;
  h->random = mem_random;
  h->sleep_ms = mem_sleep_ms;
  h->kv_get = iotkit__hal_mem_kv_get;
  h->kv_set = iotkit__hal_mem_kv_set;
  h->kv_erase = iotkit__hal_mem_kv_erase;
  h->slot_open = iotkit__hal_mem_slot_open;
  h->slot_write = iotkit__hal_mem_slot_write;
  h->slot_read = iotkit__hal_mem_slot_read;
  h->slot_finalize = iotkit__hal_mem_slot_finalize;
  h->slot_mark_pending = iotkit__hal_mem_slot_mark_pending;
  h->slot_confirm = iotkit__hal_mem_slot_confirm;
  h->slot_query = iotkit__hal_mem_slot_query;
  h->slot_resume = iotkit__hal_mem_slot_resume;
  h->slot_revert = iotkit__hal_mem_slot_revert;
  h->reboot = mem_reboot;
  h->log = mem_log;
  iotkit__hal_use_pthreads(h);
  iotkit__hal_mem_segs_install(h);
}

iotkit_err_t iotkit_hal_memory_new(const iotkit_hal_memory_config_t *cfg, iotkit_hal_t **out) {
  if (!out) return IOTKIT_ERR_INVALID_ARG;
  iotkit_hal_memory_config_t c;
  if (!cfg) {
    iotkit_hal_memory_config_init(&c);
  } else if (IOTKIT__STRUCT_IN(c, iotkit_hal_memory_config_init, cfg, IOTKIT__HAL_MEMORY_CONFIG) != IOTKIT_OK) {
    return IOTKIT_ERR_INVALID_ARG;
  }
  if (c.slot_capacity == 0 || c.slot_capacity > SIZE_MAX) return IOTKIT_ERR_INVALID_ARG;
  iotkit__hal_memory_t *m = calloc(1, sizeof(*m));
  if (!m) return IOTKIT_ERR_NOMEM;
  if (pthread_mutex_init(&m->lock, NULL) != 0) {
    free(m);
    return IOTKIT_ERR_NOMEM;
  }
  m->cfg = c;
  m->rng = c.seed ? c.seed : DEFAULT_SEED;
  iotkit__hal_boot_record_init(&m->rec);
  iotkit_hal_init(&m->box.hal);
  m->box.hal.ctx = m;
  m->box.magic = IOTKIT__HAL_MAGIC;
  m->box.kind = IOTKIT__HAL_MEMORY;
  m->box.destroy = mem_destroy;
  m->box.boot = iotkit__hal_mem_boot;
  install_ops(&m->box.hal);
  *out = &m->box.hal;
  return IOTKIT_OK;
}

iotkit_err_t iotkit_hal_memory_advance(iotkit_hal_t *hal, uint64_t ms) {
  iotkit__hal_memory_t *m = iotkit__hal_memory_of(hal);
  if (!m) return IOTKIT_ERR_INVALID_ARG;
  if (!m->cfg.manual_clock) return IOTKIT_ERR_STATE;
  pthread_mutex_lock(&m->lock);
  m->manual_now += ms;
  pthread_mutex_unlock(&m->lock);
  return IOTKIT_OK;
}

uint64_t iotkit_hal_memory_write_count(const iotkit_hal_t *hal) {
  iotkit__hal_memory_t *m = iotkit__hal_memory_of(hal);
  if (!m) return 0;
  pthread_mutex_lock(&m->lock);
  uint64_t n = m->writes;
  pthread_mutex_unlock(&m->lock);
  return n;
}

const char *iotkit_hal_memory_log(const iotkit_hal_t *hal) {
  iotkit__hal_memory_t *m = iotkit__hal_memory_of(hal);
  if (!m) return "";
  pthread_mutex_lock(&m->lock);
  const char *s = m->log.len ? (const char *)m->log.data : "";
  pthread_mutex_unlock(&m->lock);
  return s;
}

unsigned iotkit_hal_memory_reboot_count(const iotkit_hal_t *hal) {
  iotkit__hal_memory_t *m = iotkit__hal_memory_of(hal);
  if (!m) return 0;
  pthread_mutex_lock(&m->lock);
  unsigned n = m->reboots;
  pthread_mutex_unlock(&m->lock);
  return n;
}
