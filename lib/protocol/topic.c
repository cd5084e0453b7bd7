/* MQTT topic names, filters and matching (MQTT 3.1.1 section 4.7). */
#include <string.h>

#include "iotkit/protocol.h"

bool iotkit_topic_filter_valid(const char *filter) {
  if (!filter || !*filter) return false;
  for (const char *p = filter; *p; p++) {
    bool level_start = p == filter || p[-1] == '/';
    bool level_end = p[1] == '\0' || p[1] == '/';
    if (*p == '+' && !(level_start && level_end)) return false;
    if (*p == '#' && !(level_start && p[1] == '\0')) return false;
  }
  return true;
}

bool iotkit_topic_name_valid(const char *topic) { return topic && *topic && !strpbrk(topic, "+#"); }

bool iotkit_topic_match(const char *filter, const char *topic) {
  if (!iotkit_topic_filter_valid(filter) || !iotkit_topic_name_valid(topic)) return false;
  if (topic[0] == '$' && (filter[0] == '+' || filter[0] == '#')) return false;
  const char *f = filter;
  const char *t = topic;
  for (;;) {
    if (f[0] == '#') return true; /* matches this level and everything below */
    size_t flen = strcspn(f, "/");
    size_t tlen = strcspn(t, "/");
    if (!(flen == 1 && f[0] == '+') && (flen != tlen || memcmp(f, t, flen) != 0)) return false;
    f += flen;
    t += tlen;
    if (*f == '\0' || *t == '\0') {
      /* "a/#" also matches "a": the filter may end with "/#". */
      return (*f == '\0' && *t == '\0') || (*t == '\0' && strcmp(f, "/#") == 0);
    }
    f++;
    t++;
  }
}
