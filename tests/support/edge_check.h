/* Test aid for the edge pipeline: a pipeline whose aggregates are recorded, and
   one-line feeding of points. */
#ifndef IOTKIT_TEST_EDGE_CHECK_H
#define IOTKIT_TEST_EDGE_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "iotkit/iotkit.h"

#define EDGE_REC_MAX 4096

typedef struct edge_rec {
  char name[IOTKIT_TELEMETRY_MAX_NAME + 1];
  int64_t ts;
  double v;
} edge_rec;

typedef struct edge_fixture {
  iotkit_edge_t *edge;
  edge_rec out[EDGE_REC_MAX];
  size_t n_out;
} edge_fixture;

/* A pipeline loaded with @p json (the test fails if it is refused). */
edge_fixture *edge_fixture_new(const char *json);
void edge_fixture_free(edge_fixture *f);
/* Process a double point; returns whether it is to be sent. */
bool edge_feed(edge_fixture *f, const char *name, int64_t ts, double v);
/* The value of the last recorded aggregate named @p name (the test fails if none). */
double edge_last(const edge_fixture *f, const char *name);
/* How many aggregates named @p name were recorded (of the newest EDGE_REC_MAX). */
size_t edge_count(const edge_fixture *f, const char *name);
/* Load @p json into a fresh pipeline and return the code; @p pointer receives the pointer. */
iotkit_err_t edge_refused(const char *json, char *pointer, size_t cap);

#endif
