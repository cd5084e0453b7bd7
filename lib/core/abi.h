/*
 * The frozen 0.2.0 layouts of the structs that grow (not exported; see
 * docs/architecture.md, "Structs that grow"). Included by core/util.h.
 *
 * IOTKIT__<X>_SIZE_0_2 is what struct_size 0 stands for: the size of the
 * struct in 0.2.0, computed from the end of its last 0.2.0 field so that it
 * stays the same when fields are appended. IOTKIT__<X>_REQUIRED is the end of
 * the struct's required fields: a smaller struct_size is refused.
 *
 * Adding a field: append it (never insert, never reorder), make sure it starts
 * at or after IOTKIT__<X>_SIZE_0_2 (if the compiler would place it in the old
 * tail padding, add explicit padding before it), read it only under
 * IOTKIT__HAS_FIELD / IOTKIT__HAS_OP, and move the IOTKIT__<X>_SIZE_NOW
 * assertion below to the new last field.
 */
#ifndef IOTKIT__CORE_ABI_H
#define IOTKIT__CORE_ABI_H

#include <stddef.h>

#include "iotkit/crypto.h"
#include "iotkit/device.h"
#include "iotkit/edge.h"
#include "iotkit/fleet.h"
#include "iotkit/hal.h"
#include "iotkit/ota.h"
#include "iotkit/telemetry.h"
#include "iotkit/transport.h"

#define IOTKIT__ALIGN_UP(n, a) ((((n) + (a)-1) / (a)) * (a))
/* The size a struct has when @p last is its last field. */
#define IOTKIT__SIZE_UPTO(type, last) IOTKIT__ALIGN_UP(IOTKIT__FIELD_END(type, last), _Alignof(type))

/* ------------------------------------------------- 0.2.0 layouts -- */

#define IOTKIT__DEVICE_CONFIG_SIZE_0_2 IOTKIT__SIZE_UPTO(iotkit_device_config_t, telemetry_drain_rate)
#define IOTKIT__DEVICE_CONFIG_REQUIRED IOTKIT__FIELD_END(iotkit_device_config_t, uri)

#define IOTKIT__OTA_CONFIG_SIZE_0_2 IOTKIT__SIZE_UPTO(iotkit_ota_config_t, user)
#define IOTKIT__OTA_CONFIG_REQUIRED IOTKIT__FIELD_END(iotkit_ota_config_t, running_version)

#define IOTKIT__TELEMETRY_QUEUE_CONFIG_SIZE_0_2 IOTKIT__SIZE_UPTO(iotkit_telemetry_queue_config_t, sync_interval_ms)
#define IOTKIT__TELEMETRY_QUEUE_CONFIG_REQUIRED IOTKIT__FIELD_END(iotkit_telemetry_queue_config_t, hal)

#define IOTKIT__HAL_POSIX_CONFIG_SIZE_0_2 IOTKIT__SIZE_UPTO(iotkit_hal_posix_config_t, log_user)
#define IOTKIT__HAL_POSIX_CONFIG_REQUIRED IOTKIT__FIELD_END(iotkit_hal_posix_config_t, state_dir)

#define IOTKIT__HAL_MEMORY_CONFIG_SIZE_0_2 IOTKIT__SIZE_UPTO(iotkit_hal_memory_config_t, log_user)
#define IOTKIT__HAL_MEMORY_CONFIG_REQUIRED IOTKIT__FIELD_END(iotkit_hal_memory_config_t, struct_size)

#define IOTKIT__JWT_PROVIDER_CONFIG_SIZE_0_2 IOTKIT__SIZE_UPTO(iotkit_jwt_provider_config_t, refresh_margin_s)
#define IOTKIT__JWT_PROVIDER_CONFIG_REQUIRED IOTKIT__FIELD_END(iotkit_jwt_provider_config_t, hal)

#define IOTKIT__JWT_VERIFY_OPTS_SIZE_0_2 IOTKIT__SIZE_UPTO(iotkit_jwt_verify_opts_t, require_exp)
#define IOTKIT__JWT_VERIFY_OPTS_REQUIRED IOTKIT__FIELD_END(iotkit_jwt_verify_opts_t, key)

#define IOTKIT__ENVELOPE_CONFIG_SIZE_0_2 IOTKIT__SIZE_UPTO(iotkit_envelope_config_t, nonce_block)
#define IOTKIT__ENVELOPE_CONFIG_REQUIRED IOTKIT__FIELD_END(iotkit_envelope_config_t, device_id)

#define IOTKIT__HAL_SIZE_0_2 IOTKIT__SIZE_UPTO(iotkit_hal_t, thread_self)
#define IOTKIT__HAL_REQUIRED IOTKIT__FIELD_END(iotkit_hal_t, mutex_free)
/* 0.3.0 appended the condition variables (cond_new .. cond_free). */
#define IOTKIT__HAL_SIZE_0_3 IOTKIT__SIZE_UPTO(iotkit_hal_t, cond_free)

#define IOTKIT__TRANSPORT_CONFIG_SIZE_0_2 IOTKIT__SIZE_UPTO(iotkit_transport_config_t, tls)
#define IOTKIT__TRANSPORT_CONFIG_REQUIRED IOTKIT__FIELD_END(iotkit_transport_config_t, hal)

#define IOTKIT__TRANSPORT_EVENTS_SIZE_0_2 IOTKIT__SIZE_UPTO(iotkit_transport_events_t, message_ex)
#define IOTKIT__TRANSPORT_EVENTS_REQUIRED IOTKIT__FIELD_END(iotkit_transport_events_t, delivery)

#define IOTKIT__TRANSPORT_OPS_SIZE_0_2 IOTKIT__SIZE_UPTO(iotkit_transport_ops_t, fd_events)
#define IOTKIT__TRANSPORT_OPS_REQUIRED IOTKIT__FIELD_END(iotkit_transport_ops_t, poll)

/* ------------------------------------------------- 0.3.0 layouts -- */
/* Structs new in 0.3.0: struct_size 0 stands for their first layout. */

/* 0.3.0 is not released yet: its layout still grows (the broker session's fields, up to history_max_age_ms). */
#define IOTKIT__FLEET_CONFIG_SIZE_0_3 IOTKIT__SIZE_UPTO(iotkit_fleet_config_t, key_user)
#define IOTKIT__FLEET_CONFIG_REQUIRED IOTKIT__FIELD_END(iotkit_fleet_config_t, hal)

#define IOTKIT__FLEET_DEVICE_SPEC_SIZE_0_3 IOTKIT__SIZE_UPTO(iotkit_fleet_device_spec_t, attributes)
#define IOTKIT__FLEET_DEVICE_SPEC_REQUIRED IOTKIT__FIELD_END(iotkit_fleet_device_spec_t, id)

#define IOTKIT__FLEET_FILTER_SIZE_0_3 IOTKIT__SIZE_UPTO(iotkit_fleet_filter_t, last_seen_after_ms)
#define IOTKIT__FLEET_FILTER_REQUIRED IOTKIT__FIELD_END(iotkit_fleet_filter_t, struct_size)

#define IOTKIT__FLEET_ROLLOUT_SPEC_SIZE_0_3 IOTKIT__SIZE_UPTO(iotkit_fleet_rollout_spec_t, group_count)
#define IOTKIT__FLEET_ROLLOUT_SPEC_REQUIRED IOTKIT__FIELD_END(iotkit_fleet_rollout_spec_t, manifest_len)
#define IOTKIT__EDGE_CONFIG_SIZE_0_3 IOTKIT__SIZE_UPTO(iotkit_edge_config_t, user)
#define IOTKIT__EDGE_CONFIG_REQUIRED IOTKIT__FIELD_END(iotkit_edge_config_t, struct_size)

/* Tripwires: a struct that grew without a new constant fails the build here. */
#define IOTKIT__SIZE_NOW(type, size) _Static_assert(sizeof(type) == (size), #type " grew: see core/abi.h")
IOTKIT__SIZE_NOW(iotkit_device_config_t, IOTKIT__DEVICE_CONFIG_SIZE_0_2);
IOTKIT__SIZE_NOW(iotkit_ota_config_t, IOTKIT__OTA_CONFIG_SIZE_0_2);
IOTKIT__SIZE_NOW(iotkit_telemetry_queue_config_t, IOTKIT__TELEMETRY_QUEUE_CONFIG_SIZE_0_2);
IOTKIT__SIZE_NOW(iotkit_hal_posix_config_t, IOTKIT__HAL_POSIX_CONFIG_SIZE_0_2);
IOTKIT__SIZE_NOW(iotkit_hal_memory_config_t, IOTKIT__HAL_MEMORY_CONFIG_SIZE_0_2);
IOTKIT__SIZE_NOW(iotkit_jwt_provider_config_t, IOTKIT__JWT_PROVIDER_CONFIG_SIZE_0_2);
IOTKIT__SIZE_NOW(iotkit_jwt_verify_opts_t, IOTKIT__JWT_VERIFY_OPTS_SIZE_0_2);
IOTKIT__SIZE_NOW(iotkit_envelope_config_t, IOTKIT__ENVELOPE_CONFIG_SIZE_0_2);
IOTKIT__SIZE_NOW(iotkit_hal_t, IOTKIT__HAL_SIZE_0_3);
IOTKIT__SIZE_NOW(iotkit_transport_config_t, IOTKIT__TRANSPORT_CONFIG_SIZE_0_2);
IOTKIT__SIZE_NOW(iotkit_transport_events_t, IOTKIT__TRANSPORT_EVENTS_SIZE_0_2);
IOTKIT__SIZE_NOW(iotkit_transport_ops_t, IOTKIT__TRANSPORT_OPS_SIZE_0_2);
IOTKIT__SIZE_NOW(iotkit_fleet_config_t, IOTKIT__FLEET_CONFIG_SIZE_0_3);
IOTKIT__SIZE_NOW(iotkit_edge_config_t, IOTKIT__EDGE_CONFIG_SIZE_0_3);
IOTKIT__SIZE_NOW(iotkit_fleet_device_spec_t, IOTKIT__FLEET_DEVICE_SPEC_SIZE_0_3);
IOTKIT__SIZE_NOW(iotkit_fleet_filter_t, IOTKIT__FLEET_FILTER_SIZE_0_3);
IOTKIT__SIZE_NOW(iotkit_fleet_rollout_spec_t, IOTKIT__FLEET_ROLLOUT_SPEC_SIZE_0_3);
/* Embedded by value: frozen for good (new TLS options take the reserved slots). */
_Static_assert(sizeof(iotkit_tls_config_t) == IOTKIT__SIZE_UPTO(iotkit_tls_config_t, reserved),
               "iotkit_tls_config_t is embedded by value: its size is frozen");

/* The 0.2.0 size of the table @p t points to (HAL, transport ops or events). */
#define IOTKIT__SIZE_0_2_OF(t)                                            \
  _Generic((t),                                                           \
      const iotkit_hal_t *: IOTKIT__HAL_SIZE_0_2,                         \
      iotkit_hal_t *: IOTKIT__HAL_SIZE_0_2,                               \
      const iotkit_transport_ops_t *: IOTKIT__TRANSPORT_OPS_SIZE_0_2,     \
      iotkit_transport_ops_t *: IOTKIT__TRANSPORT_OPS_SIZE_0_2,           \
      const iotkit_transport_events_t *: IOTKIT__TRANSPORT_EVENTS_SIZE_0_2, \
      iotkit_transport_events_t *: IOTKIT__TRANSPORT_EVENTS_SIZE_0_2)

/*
 * Whether the table @p t (an iotkit_hal_t, iotkit_transport_ops_t or
 * iotkit_transport_events_t pointer) has operation @p field: within its
 * struct_size (0: the 0.2.0 layout) and not NULL. Use it for every optional
 * operation; those added after 0.2.0 must never be read without it.
 */
#define IOTKIT__HAS_OP(t, field)                                                                    \
  ((size_t)((const char *)&(t)->field - (const char *)(t)) + sizeof((t)->field) <=                  \
       IOTKIT__STRUCT_SIZE((t), IOTKIT__SIZE_0_2_OF(t)) &&                                          \
   (t)->field != NULL)

/*
 * The HAL to use in place of @p hal (which iotkit_hal_validate() accepted):
 * @p hal itself when its struct_size covers the whole current iotkit_hal_t
 * (the shipped HALs, whose own functions need the original pointer), else
 * @p view filled with the prefix it knows and NULL operations after it.
 * The view shares @p hal's ctx. Implemented in lib/hal/hal.c.
 */
const iotkit_hal_t *iotkit__hal_view(const iotkit_hal_t *hal, iotkit_hal_t *view);

/*
 * Full-size copies of a backend's create() arguments: @p cfg_out starts as
 * iotkit_transport_config_init() and @p ev_out zeroed, then each receives the
 * prefix its struct_size covers (fields beyond take the defaults, events
 * beyond are NULL). ::IOTKIT_ERR_INVALID_ARG for NULL or a size below the
 * required fields (uri and hal; the four events up to delivery). Every
 * backend's create() calls it first and uses only the copies. Implemented in
 * lib/transport/registry.c.
 */
iotkit_err_t iotkit__transport_args(const iotkit_transport_config_t *cfg, const iotkit_transport_events_t *events,
                                    iotkit_transport_config_t *cfg_out, iotkit_transport_events_t *ev_out);

#endif
