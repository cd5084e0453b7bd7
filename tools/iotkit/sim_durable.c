/* iotkit device simulate with --state-dir: readings as telemetry batches through
   the device's durable queue, and the statistics printed at the end. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "device_sim.h"

bool sim_parse_format(sim_t *s, const char *text) {
  if (iotkit_telemetry_format_parse(text, &s->format) == IOTKIT_OK) return true;
  cli_usage_error("option '--format' wants json, senml-json or senml-cbor, not '%s'", text ? text : "");
  return false;
}

iotkit_err_t sim_publish_batch(sim_t *s, double temperature, double humidity) {
  const iotkit_hal_t *hal = iotkit_device_hal(s->dev);
  iotkit_telemetry_batch_t *b = NULL;
  iotkit_err_t err = iotkit_telemetry_batch_new(hal, &b);
  if (err == IOTKIT_OK) err = iotkit_telemetry_batch_add_double(b, "temperature", "Cel", IOTKIT_TELEMETRY_NOW, temperature);
  if (err == IOTKIT_OK) err = iotkit_telemetry_batch_add_double(b, "humidity", "%RH", IOTKIT_TELEMETRY_NOW, humidity);
  uint64_t seq = 0;
  if (err == IOTKIT_OK) err = iotkit_device_send_batch(s->dev, b, s->format, &seq, NULL);
  iotkit_telemetry_batch_free(b);
  if (err == IOTKIT_OK && !s->quiet && seq == 0) {
    printf("held by the edge pipeline\n");
    fflush(stdout);
  } else if (err == IOTKIT_OK && !s->quiet) {
    /* Flushed line by line: what was printed was stored, even if the process is killed next. */
    printf("queued seq=%" PRIu64 "\n", seq);
    fflush(stdout);
  }
  return err;
}

iotkit_err_t sim_edge_load(sim_t *s) {
  size_t len = 0;
  char *json = cli_edge_read_config(s->edge, &len);
  if (!json) return IOTKIT_ERR_INVALID_ARG;
  iotkit_err_t err = iotkit_device_edge_load(s->dev, json);
  free(json);
  return err;
}

bool sim_queue_drained(const sim_t *s) {
  iotkit_device_telemetry_stats_t st;
  return iotkit_device_telemetry_stats(s->dev, &st) == IOTKIT_OK && st.queue.pending == 0;
}

bool sim_print_stats(const sim_t *s) {
  iotkit_device_telemetry_stats_t st;
  if (iotkit_device_telemetry_stats(s->dev, &st) != IOTKIT_OK) return false;
  const iotkit_telemetry_queue_stats_t *q = &st.queue;
  printf("telemetry: accepted %" PRIu64 ", sent live %" PRIu64 ", re-sent %" PRIu64 ", confirmed %" PRIu64
         ", pending %" PRIu64 ", retried %" PRIu64 ", dropped oldest %" PRIu64 " newest %" PRIu64
         " corrupt %" PRIu64 ", refused %" PRIu64 ", damaged regions %" PRIu64 ", next seq %" PRIu64 "\n",
         st.accepted, st.sent_live, st.sent_backlog, st.confirmed, q->pending, q->retried, q->dropped_oldest,
         q->dropped_newest, q->dropped_corrupt, q->refused, q->corrupt, q->next_seq);
  fflush(stdout);
  return q->pending == 0;
}
