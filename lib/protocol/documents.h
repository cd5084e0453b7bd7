/* Internal side of the protocol documents: checks on parsed cJSON trees that the
   device model shares with the public parsers, so both read a document alike. */
#ifndef IOTKIT__PROTOCOL_DOCUMENTS_H
#define IOTKIT__PROTOCOL_DOCUMENTS_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "iotkit/error.h"

/* Check {"version":N,"state":{...}}: NULL and *version, *state (borrowed from
   doc) on success, else why not, for a log line. */
const char *iotkit__desired_check(const cJSON *doc, uint64_t *version, const cJSON **state);

/* {"version":N,"state":S} for an object @p state (malloc'd), or NULL. */
char *iotkit__desired_json(uint64_t version, const cJSON *state);

/* {"state":S,"ts":N} (malloc'd), or NULL. */
char *iotkit__reported_json(const cJSON *state, int64_t ts);

/* {"type":T,"ts":N,"data":D} for a valid type (malloc'd), or NULL. */
char *iotkit__event_json(const char *type, int64_t ts, const cJSON *data);

/* Parse a received payload: *doc on success, else IOTKIT_ERR_BAD_ENCODING or IOTKIT_ERR_INVALID_ARG. */
iotkit_err_t iotkit__doc_parse(const void *payload, size_t len, cJSON **doc);

/* A malloc'd copy of a JSON string member, NULL for null or absent; false for another type or no memory
   (*nomem tells which). */
bool iotkit__doc_opt_string(const cJSON *obj, const char *key, char **out, bool *nomem);

#endif
