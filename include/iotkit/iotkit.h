/**
 * @file iotkit.h
 * @brief Umbrella header of libiotkit: include this one.
 *
 * Ownership rule, for the whole API:
 *  - The library copies every string and buffer it is given, unless the
 *    documentation of the field or function says otherwise (a HAL or registry
 *    handed to a config must outlive the handle that uses it).
 *  - Pointers handed to a callback are valid only during the callback.
 *  - Memory the library returns is released with iotkit_free() or with the
 *    type's own _free function, as each call documents. Every _free accepts NULL.
 *  - A call that fails leaves its outputs and the handle's state as they were
 *    and never calls the callback it was given.
 *
 * Errors: every fallible call returns an ::iotkit_err_t (see error.h); a
 * handle keeps a last-error text with the detail (host, server's reason).
 */
#ifndef IOTKIT_IOTKIT_H
#define IOTKIT_IOTKIT_H

#include "export.h"
#include "options.h"
#include "error.h"
#include "core.h"
#include "hal.h"
#include "transport.h"
#include "protocol.h"
#include "device.h"
#include "telemetry.h"
#include "edge.h"
#include "crypto.h"
#include "ota.h"
#include "fleet.h"

#endif /* IOTKIT_IOTKIT_H */
