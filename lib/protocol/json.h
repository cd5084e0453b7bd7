/* JSON helpers on cJSON shared by the protocol documents and the device model:
   strict parsing of a byte buffer, RFC 7396 merge patches, printing. */
#ifndef IOTKIT__PROTOCOL_JSON_H
#define IOTKIT__PROTOCOL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* Parse exactly @p len bytes (no NUL needed; trailing whitespace allowed, an
   embedded NUL or trailing bytes refused, as are a number beyond the double range,
   which cJSON would print as null, and an object with a member name twice). NULL
   if not one JSON value (or out of memory). */
cJSON *iotkit__json_parse(const void *buf, size_t len);

/* Apply the merge patch @p patch (an object) to the object @p target in place.
   False on allocation failure (target may then be partly patched: callers patch a copy). */
bool iotkit__json_merge(cJSON *target, const cJSON *patch);

/* The merge patch that turns object @p from into object @p to (changed or new keys
   with their new value, removed keys as null, objects recursively). NULL on allocation failure. */
cJSON *iotkit__json_diff(const cJSON *from, const cJSON *to);

/* A whole number in 0..2^53 as uint64. */
bool iotkit__json_uint(const cJSON *item, uint64_t *out);

/* cJSON_PrintUnformatted, or NULL. Free with cJSON_free. */
char *iotkit__json_print(const cJSON *item);

/* cJSON_PrintUnformatted copied into malloc'd memory (released with free / iotkit_free), or NULL. */
char *iotkit__json_print_malloc(const cJSON *item);

/* Parse @p text (NUL-terminated) for a value handed in through the API; NULL
   text gives an empty object. Returns IOTKIT_ERR_BAD_ENCODING / IOTKIT_ERR_NOMEM / 0. */
int iotkit__json_from_api(const char *text, cJSON **out);

/* "<head><value printed><tail>" in one malloc'd string (the documents whose key
   order cJSON cannot be asked for keep it this way), or NULL. */
char *iotkit__json_wrap(const char *head, const cJSON *value, const char *tail);

#endif
