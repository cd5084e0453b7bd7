/* The registry's input checks (registry_check.c), shared by the registry calls. */
#ifndef IOTKIT__FLEET_REGISTRY_H
#define IOTKIT__FLEET_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "fleet/fleet_internal.h"

/* True if @p id follows the device id rule (1..IOTKIT_MAX_DEVICE_ID of [A-Za-z0-9._-]). */
bool iotkit__fleet_id_ok(const char *id);

/*
 * Copy the caller's @p in into the full-size @p spec, check its id and the
 * fields named in @p fields (the rules of iotkit_fleet_device_spec_t), and
 * fill @p rec from it (NULLs become "", "{}", no tags). On failure the detail
 * is in the fleet's last error.
 */
iotkit_err_t iotkit__fleet_spec_in(iotkit_fleet_t *fleet, const iotkit_fleet_device_spec_t *in, uint32_t fields,
                                   iotkit_fleet_device_spec_t *spec, iotkit__fleet_rec_t *rec);

/* Copy the caller's filter (NULL: match all) into the full-size @p out and check it. */
iotkit_err_t iotkit__fleet_filter_in(iotkit_fleet_t *fleet, const iotkit_fleet_filter_t *in,
                                     iotkit_fleet_filter_t *out);

#endif
