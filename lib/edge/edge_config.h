/* Helpers shared by the files that compile a configuration (config*.c). */
#ifndef IOTKIT__EDGE_CONFIG_H
#define IOTKIT__EDGE_CONFIG_H

#include <cjson/cJSON.h>

#include "edge/edge_internal.h"

/* Refuse a key of @p obj not in the NULL-terminated @p allowed. */
iotkit_err_t iotkit__edge_keys(edge_refusal *why, const cJSON *obj, const char *const *allowed, const char *at);
/* A finite number in [lo, hi]; absent: @p out unchanged unless @p required. */
iotkit_err_t iotkit__edge_num(edge_refusal *why, const cJSON *obj, const char *key, const char *at, double lo,
                              double hi, bool required, double *out);
/* A whole number in [lo, hi]; absent: @p out unchanged unless @p required. */
iotkit_err_t iotkit__edge_uint(edge_refusal *why, const cJSON *obj, const char *key, const char *at, uint64_t lo,
                               uint64_t hi, bool required, uint64_t *out);
/* A valid point name. */
bool iotkit__edge_name_ok(const char *s);
iotkit_err_t iotkit__edge_signal_add(edge_plan *plan, edge_refusal *why, const char *name, uint32_t stream,
                                     const char *at, uint32_t *out);
iotkit_err_t iotkit__edge_stream_add(edge_plan *plan, edge_refusal *why, const char *metric, const char *at,
                                     uint32_t *out);
/* config_procs.c: one entry of a stream's "processors". */
iotkit_err_t iotkit__edge_compile_processor(edge_plan *plan, edge_refusal *why, const cJSON *p, uint32_t si,
                                            const char *at, size_t max_bytes);

#endif
