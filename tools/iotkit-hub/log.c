/* Log lines on stderr: "2026-11-25T16:23:13.123Z INFO message". Both the main
   and the MQTT thread log; one fprintf per line keeps lines whole. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "hub.h"

static hub_log_level_t g_level = HUB_LOG_INFO; /* set once at start-up */

static const char *const k_names[] = {"error", "warn", "info", "debug"};
static const char *const k_tags[] = {"ERROR", "WARN", "INFO", "DEBUG"};

void hub_log_set_level(hub_log_level_t level) { g_level = level; }
hub_log_level_t hub_log_get_level(void) { return g_level; }
bool hub_log_enabled(hub_log_level_t level) { return level <= g_level; }

bool hub_log_parse_level(const char *text, hub_log_level_t *out) {
  for (int i = 0; i <= HUB_LOG_DEBUG; i++) {
    if (text && strcasecmp(text, k_names[i]) == 0) {
      *out = (hub_log_level_t)i;
      return true;
    }
  }
  return false;
}

void hub_log(hub_log_level_t level, const char *fmt, ...) {
  if (!hub_log_enabled(level)) return;
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  size_t n = strlen(msg);
  while (n > 0 && msg[n - 1] == '\n') msg[--n] = '\0';
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char when[32];
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
  fprintf(stderr, "%s.%03ldZ %s %s\n", when, ts.tv_nsec / 1000000L, k_tags[level], msg);
}
