/* Records the events of a transport backend under test, and polls it until
 * an expected count is reached (bounded, so no test can hang).
 *
 *   transport_rec_t rec; transport_rec_init(&rec);
 *   iotkit_transport_events_t ev = transport_rec_events(&rec);
 *   ops->create(&cfg, &ev, &ctx); ops->connect(ctx);
 *   cr_assert(transport_rec_wait(&rec, ops, ctx, &rec.connected, 1, 10000));
 */
#ifndef IOTKIT_TEST_TRANSPORT_REC_H
#define IOTKIT_TEST_TRANSPORT_REC_H

#include <pthread.h>
#include <stdbool.h>

#include "iotkit/transport.h"

#define TRANSPORT_REC_MAX 512

typedef struct transport_rec {
  pthread_mutex_t lock; /* a sender thread may read ids while poll() records */
  int connected;
  int disconnected;
  iotkit_err_t disc_reason;
  char disc_detail[256];
  int messages;
  char channel[256];        /* of the last message */
  unsigned char payload[4096];
  size_t len;
  int ex_messages; /* of messages, those that came through message_ex() */
  int qos;         /* message_ex(): QoS of the last message */
  bool retain;     /* message_ex(): its retain flag */
  int deliveries;
  uint32_t ids[TRANSPORT_REC_MAX];
  iotkit_err_t statuses[TRANSPORT_REC_MAX];
} transport_rec_t;

/* Zero @p rec and make its lock. */
void transport_rec_init(transport_rec_t *rec);

/* Events that record into @p rec. */
iotkit_transport_events_t transport_rec_events(transport_rec_t *rec);

/* The same, with message_ex() set (it records into messages too, and qos, retain). */
iotkit_transport_events_t transport_rec_events_ex(transport_rec_t *rec);

/* Read a counter of @p rec under its lock. */
int transport_rec_read(transport_rec_t *rec, const int *counter);

/* poll(ctx, 20) until *counter >= want or @p limit_ms passed; true if reached. */
bool transport_rec_wait(transport_rec_t *rec, const iotkit_transport_ops_t *ops, void *ctx, const int *counter,
                        int want, int limit_ms);

/* Status of the delivery reported for @p id, or 1 if none was. */
int transport_rec_status(transport_rec_t *rec, uint32_t id);

#endif
