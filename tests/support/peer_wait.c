/* Waiting for a particular message in what an mqtt_peer received. */
#include "peer_wait.h"

#include <string.h>
#include <time.h>

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const mqtt_peer_msg_t *peer_wait_for(mqtt_peer_t *p, size_t from, const char *topic, const char *needle,
                                     int timeout_ms, size_t *index) {
  long long end = now_ms() + timeout_ms;
  size_t i = from;
  for (;;) {
    for (; i < mqtt_peer_count(p); i++) {
      const mqtt_peer_msg_t *m = mqtt_peer_get(p, i);
      if (strcmp(m->topic, topic) != 0) continue;
      if (needle && !strstr((const char *)m->payload, needle)) continue;
      if (index) *index = i;
      return m;
    }
    if (now_ms() >= end) return NULL;
    (void)mqtt_peer_wait(p, i + 1, 20);
  }
}

const mqtt_peer_msg_t *peer_next_on(mqtt_peer_t *p, size_t from, const char *topic, int timeout_ms) {
  return peer_wait_for(p, from, topic, NULL, timeout_ms, NULL);
}
