/* Report by exception: deadband (absolute or percent of the last value sent),
   minimum interval (throttle) and maximum interval (heartbeat). A point is sent
   when it leaves the deadband or the heartbeat is due, unless the minimum
   interval since the last point sent has not passed (docs/edge.md, "Filters"). */
#include <math.h>

#include "edge/edge_internal.h"

bool iotkit__edge_filter(edge_stream *s, double v, int64_t ts) {
  bool send = true;
  if (s->sent) {
    int64_t since = ts - s->sent_ts;
    if (s->deadband) {
      double band = s->percent ? s->band / 100.0 * fabs(s->sent_v) : s->band;
      send = fabs(v - s->sent_v) > band;
    }
    if (!send && s->max_ms && since >= (int64_t)s->max_ms) send = true;
    if (send && s->min_ms && since < (int64_t)s->min_ms) send = false;
  }
  if (send) {
    s->sent = true;
    s->sent_v = v;
    s->sent_ts = ts;
  }
  return send;
}
