/* Test aid for the edge pipeline (see edge_check.h). */
#include "edge_check.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void record(iotkit_edge_t *edge, void *user, const iotkit_telemetry_point_t *p) {
  (void)edge;
  edge_fixture *f = user;
  if (f->n_out == EDGE_REC_MAX) { /* long runs keep the newest half */
    memmove(f->out, f->out + EDGE_REC_MAX / 2, (EDGE_REC_MAX / 2) * sizeof(f->out[0]));
    f->n_out = EDGE_REC_MAX / 2;
  }
  edge_rec *r = &f->out[f->n_out++];
  (void)snprintf(r->name, sizeof(r->name), "%s", p->name);
  r->ts = p->ts_ms;
  r->v = p->value.d;
}

edge_fixture *edge_fixture_new(const char *json) {
  edge_fixture *f = calloc(1, sizeof(*f));
  cr_assert_not_null(f);
  iotkit_edge_config_t cfg;
  iotkit_edge_config_init(&cfg);
  cfg.on_point = record;
  cfg.user = f;
  cfg.max_actions = 1024;
  cr_assert_eq(iotkit_edge_new(&cfg, &f->edge), IOTKIT_OK);
  iotkit_err_t err = iotkit_edge_load(f->edge, json, strlen(json));
  cr_assert_eq(err, IOTKIT_OK, "refused (%s) at '%s': %s", iotkit_err_name(err), iotkit_edge_error_pointer(f->edge),
               iotkit_edge_last_error(f->edge));
  return f;
}

void edge_fixture_free(edge_fixture *f) {
  if (!f) return;
  iotkit_edge_free(f->edge);
  free(f);
}

bool edge_feed(edge_fixture *f, const char *name, int64_t ts, double v) {
  iotkit_telemetry_point_t p = {.name = name, .ts_ms = ts, .type = IOTKIT_TELEMETRY_DOUBLE};
  p.value.d = v;
  bool send = false;
  cr_assert_eq(iotkit_edge_process(f->edge, &p, &send), IOTKIT_OK);
  return send;
}

double edge_last(const edge_fixture *f, const char *name) {
  for (size_t i = f->n_out; i-- > 0;)
    if (!strcmp(f->out[i].name, name)) return f->out[i].v;
  cr_assert_fail("no aggregate %s", name);
  return 0;
}

size_t edge_count(const edge_fixture *f, const char *name) {
  size_t n = 0;
  for (size_t i = 0; i < f->n_out; i++) n += !strcmp(f->out[i].name, name);
  return n;
}

iotkit_err_t edge_refused(const char *json, char *pointer, size_t cap) {
  iotkit_edge_t *e = NULL;
  cr_assert_eq(iotkit_edge_new(NULL, &e), IOTKIT_OK);
  iotkit_err_t err = iotkit_edge_load(e, json, strlen(json));
  (void)snprintf(pointer, cap, "%s", iotkit_edge_error_pointer(e));
  iotkit_edge_free(e);
  return err;
}
