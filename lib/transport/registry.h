/* Internal side of the transport registry. */
#ifndef IOTKIT__TRANSPORT_REGISTRY_H
#define IOTKIT__TRANSPORT_REGISTRY_H

#include <stddef.h>

#include "iotkit/transport.h"

/* Write into @p buf why no backend serves @p scheme (for a last-error text):
   a backend not built or not written yet, or a scheme nobody registered. */
void iotkit__transport_explain_scheme(const iotkit_transport_registry_t *reg, const char *scheme, char *buf,
                                      size_t cap);

#endif
