/* Internal state of an edge pipeline, shared by the files of lib/edge/.
   A configuration is compiled into a plan: arrays of streams, windows, detectors,
   rules, conditions and actions, all carved from one arena when it is loaded, so
   that processing a point touches preallocated state only. */
#ifndef IOTKIT__EDGE_INTERNAL_H
#define IOTKIT__EDGE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotkit/edge.h"

/* ----------------------------------------------------------------- arena -- */

typedef struct edge_arena {
  struct edge_chunk *chunks;
  size_t state_bytes; /* bytes of per-stream state (windows, queues): the part max_bytes bounds */
} edge_arena;

void *iotkit__edge_alloc(edge_arena *a, size_t size); /* zeroed, 8-aligned; NULL on failure */
char *iotkit__edge_strdup(edge_arena *a, const char *s);
void iotkit__edge_arena_free(edge_arena *a);

/* --------------------------------------------------------------- windows -- */

enum { EDGE_AGG_COUNT, EDGE_AGG_SUM, EDGE_AGG_MEAN, EDGE_AGG_MIN, EDGE_AGG_MAX, EDGE_AGG_STD, EDGE_AGG_PCT };

typedef struct edge_output {
  int agg;       /* EDGE_AGG_* */
  double q;      /* percentile, 0 < q < 100 (EDGE_AGG_PCT) */
  char *name;    /* "<metric>.<aggregate>" */
  uint32_t sig;  /* its signal */
} edge_output;

typedef struct edge_window {
  bool sliding;
  uint64_t ms;       /* tumbling by time (0: by points) */
  uint32_t points;   /* points per window (sliding, or tumbling by points) */
  uint32_t every;    /* sliding: emit every this many points */
  edge_output *outs;
  uint32_t n_outs;
  bool want_minmax, want_hist;
  double lo, hi;     /* histogram range of the percentiles */
  uint32_t bins;
  /* State. */
  uint32_t *hist;
  double *ring;               /* sliding: the last `points` values */
  uint64_t *dq_min, *dq_max;  /* sliding: monotonic queues of positions (rings of `points`) */
  uint32_t min_h, min_n, max_h, max_n;
  uint64_t pos;               /* values pushed so far */
  uint32_t slot, hop;         /* sliding: pos % points; points since the last emission */
  uint64_t count;             /* values in the window */
  double sum, wmean, m2, mn, mx; /* tumbling: sum, Welford mean and M2, min, max */
  double shift, s1, s2;       /* sliding: sums of (x - shift) and its square */
  uint32_t since_rebuild;
  int64_t win_idx;            /* tumbling by time: the open window's index */
  int64_t last_ts;            /* tumbling by points: the last point's time */
  bool open;
} edge_window;

/* ------------------------------------------------------------- detectors -- */

enum { EDGE_DET_THRESHOLD, EDGE_DET_RATE, EDGE_DET_EWMA, EDGE_DET_STUCK };

typedef struct edge_detector {
  char *name;
  int kind;
  uint32_t stream;
  bool above;          /* threshold: raised above the level (else below) */
  double level, hyst;  /* threshold */
  double max_rate;     /* rate: per second */
  double alpha, z;     /* ewma_z */
  uint32_t warmup;
  uint32_t run_points; /* stuck */
  double eps;
  /* State. */
  bool active;
  double score;
  double mean, var;
  uint64_t n;
  double prev;
  int64_t prev_ts;
  double ref;
  uint32_t run;
} edge_detector;

/* ----------------------------------------------------------------- rules -- */

enum { EDGE_C_METRIC, EDGE_C_DETECTOR, EDGE_C_RULE, EDGE_C_ALL, EDGE_C_ANY, EDGE_C_NOT };
enum { EDGE_OP_LT, EDGE_OP_LE, EDGE_OP_GT, EDGE_OP_GE, EDGE_OP_EQ, EDGE_OP_NE };

typedef struct edge_cond {
  int kind, op;
  uint32_t ref;    /* signal, detector or rule */
  double value;
  uint32_t *kids;  /* ALL, ANY: children; NOT: one */
  uint32_t n_kids;
} edge_cond;

typedef struct edge_action {
  iotkit_edge_action_kind_t kind;
  char *name; /* event type, command name */
  char *json; /* data, params, patch */
} edge_action;

typedef struct edge_rule {
  char *name;
  uint32_t cond;
  uint64_t for_ms;
  uint32_t of_n, of_m; /* "N of the last M" (0: not used) */
  edge_action *acts;
  uint32_t n_acts;
  /* State. */
  bool holds, active;
  int64_t since;
  uint64_t hist;
} edge_rule;

/* --------------------------------------------------------------- streams -- */

typedef struct edge_signal {
  char *name;
  uint32_t stream;
  bool has;
  double value;
} edge_signal;

typedef struct edge_stream {
  char *metric;
  uint32_t sig;
  bool deadband, percent;
  double band;
  uint64_t min_ms, max_ms;
  uint32_t first_win, n_win, first_det, n_det;
  uint32_t *rules; /* rules to evaluate after a point of this stream, dependencies first */
  uint32_t n_rules;
  /* State. */
  bool seen, is_bool, sent;
  int64_t last_ts, sent_ts;
  double sent_v;
} edge_stream;

typedef struct edge_pending {
  iotkit_edge_action_kind_t kind;
  uint32_t src;    /* rule or detector */
  uint32_t act;    /* action of the rule */
  uint32_t stream; /* the triggering point's */
  int64_t ts;
  double value;
  bool active;
} edge_pending;

typedef struct edge_plan {
  edge_arena arena;
  edge_stream *streams;
  uint32_t n_streams;
  uint32_t *table; /* open addressing by metric name: stream index + 1, 0 empty */
  uint32_t table_mask;
  edge_signal *sigs;
  uint32_t n_sigs;
  edge_window *wins;
  uint32_t n_wins;
  edge_detector *dets;
  uint32_t n_dets;
  edge_rule *rules;
  uint32_t n_rules;
  edge_cond *conds;
  uint32_t n_conds;
  edge_pending *pending; /* ring of max_actions */
  uint32_t pend_cap, pend_head, pend_n;
} edge_plan;

struct iotkit_edge {
  iotkit_edge_config_t cfg;
  edge_plan *plan; /* NULL: no configuration */
  iotkit_edge_stats_t st;
  char pointer[IOTKIT_EDGE_POINTER_SIZE];
  char error[256];
};

/* What a refused configuration says. */
typedef struct edge_refusal {
  iotkit_err_t code;
  char pointer[IOTKIT_EDGE_POINTER_SIZE];
  char message[256];
} edge_refusal;

/* config.c: compile @p json into a new plan, or fill @p why. */
iotkit_err_t iotkit__edge_compile(const char *json, size_t len, size_t max_bytes, size_t max_actions,
                                  edge_plan **out, edge_refusal *why);
void iotkit__edge_plan_free(edge_plan *plan);
/* Set a refusal (pointer given as a format) and return its code. */
iotkit_err_t iotkit__edge_refuse(edge_refusal *why, iotkit_err_t code, const char *message, const char *ptr_fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
/* The signal named @p name (a stream's metric or a window output), or UINT32_MAX. */
uint32_t iotkit__edge_signal_find(const edge_plan *plan, const char *name);
uint32_t iotkit__edge_stream_find(const edge_plan *plan, const char *metric);

/* config_rules.c: the "rules" array (streams, windows and detectors are already compiled). */
struct cJSON;
iotkit_err_t iotkit__edge_compile_rules(edge_plan *plan, const struct cJSON *rules, edge_refusal *why);

/* filters.c: whether a point of @p s at @p ts with @p v is sent (and remember it if so). */
bool iotkit__edge_filter(edge_stream *s, double v, int64_t ts);

/* window.c */
size_t iotkit__edge_window_bytes(const edge_window *w);
iotkit_err_t iotkit__edge_window_alloc(edge_arena *a, edge_window *w);
void iotkit__edge_window_add(iotkit_edge_t *edge, edge_window *w, double v, int64_t ts, const char *unit);
void iotkit__edge_window_flush(iotkit_edge_t *edge, edge_window *w);

/* detectors.c: update @p d with a point; true when it was raised or cleared. */
bool iotkit__edge_detector_update(edge_detector *d, double v, int64_t ts);

/* rules.c: evaluate the rules of stream @p si after a point; queue what they trigger. */
void iotkit__edge_rules_run(iotkit_edge_t *edge, uint32_t si, int64_t ts, double v);
void iotkit__edge_queue(iotkit_edge_t *edge, const edge_pending *p);

#endif
