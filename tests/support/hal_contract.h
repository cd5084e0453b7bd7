/* Behaviour every shipped HAL must share; each check runs on a fresh HAL with
 * slot capacity HAL_CONTRACT_CAPACITY. A test file turns each entry of
 * HAL_CONTRACT_LIST into its own named Criterion test. */
#ifndef HAL_CONTRACT_H
#define HAL_CONTRACT_H

#include "iotkit/iotkit.h"

#define HAL_CONTRACT_CAPACITY 4096u
#define HAL_CONTRACT_THREADS 4
#define HAL_CONTRACT_THREAD_STEPS 100

#define HAL_CONTRACT_LIST(X)                                                                             \
  X(kv_roundtrip)                                                                                        \
  X(kv_overwrite)                                                                                        \
  X(kv_empty_value)                                                                                      \
  X(kv_max_value)                                                                                        \
  X(kv_value_too_large)                                                                                  \
  X(kv_key_empty)                                                                                        \
  X(kv_key_dot)                                                                                          \
  X(kv_key_dotdot)                                                                                       \
  X(kv_key_slash)                                                                                        \
  X(kv_key_space)                                                                                        \
  X(kv_key_too_long)                                                                                     \
  X(kv_key_max_length)                                                                                   \
  X(kv_key_null)                                                                                         \
  X(kv_get_not_found)                                                                                    \
  X(kv_get_buffer_too_small)                                                                             \
  X(kv_get_size_query)                                                                                   \
  X(kv_get_null_len)                                                                                     \
  X(kv_get_null_buf)                                                                                     \
  X(kv_set_null_value)                                                                                   \
  X(kv_set_null_value_empty)                                                                             \
  X(kv_erase)                                                                                            \
  X(kv_erase_absent)                                                                                     \
  X(kv_erase_bad_key)                                                                                    \
  X(kv_many_keys)                                                                                        \
  X(slot_factory_state)                                                                                  \
  X(slot_roundtrip)                                                                                      \
  X(slot_open_negative)                                                                                  \
  X(slot_open_out_of_range)                                                                              \
  X(slot_open_active)                                                                                    \
  X(slot_write_beyond_capacity)                                                                          \
  X(slot_write_offset_beyond_capacity)                                                                   \
  X(slot_write_up_to_capacity)                                                                           \
  X(slot_write_not_open)                                                                                 \
  X(slot_write_null_data)                                                                                \
  X(slot_write_out_of_range)                                                                             \
  X(slot_read_null_got)                                                                                  \
  X(slot_read_out_of_range)                                                                              \
  X(slot_read_past_end)                                                                                  \
  X(slot_finalize_beyond_written)                                                                        \
  X(slot_finalize_too_large)                                                                             \
  X(slot_finalize_not_open)                                                                              \
  X(slot_reopen_erases)                                                                                  \
  X(slot_mark_pending)                                                                                   \
  X(slot_mark_pending_unfinalized)                                                                       \
  X(slot_mark_pending_active)                                                                            \
  X(slot_mark_pending_out_of_range)                                                                      \
  X(slot_reopen_cancels_pending)                                                                         \
  X(slot_confirm)                                                                                        \
  X(slot_query_null)                                                                                     \
  X(random_fills)                                                                                        \
  X(random_null_buffer)                                                                                  \
  X(random_zero_length)                                                                                  \
  X(clock_monotonic_never_backwards)                                                                     \
  X(mutex_lifecycle)                                                                                     \
  X(mutex_new_null)                                                                                      \
  X(thread_start_join)                                                                                   \
  X(thread_start_null_fn)                                                                                \
  X(reboot_returns)                                                                                      \
  X(threads_share_one_hal)                                                                               \
  X(seg_append_read)                                                                                     \
  X(seg_read_past_end)                                                                                   \
  X(seg_absent)                                                                                          \
  X(seg_list_sorted)                                                                                     \
  X(seg_list_too_small)                                                                                  \
  X(seg_remove)                                                                                          \
  X(seg_stores_separate)                                                                                 \
  X(seg_bad_store)                                                                                       \
  X(seg_null_outputs)                                                                                    \
  X(seg_sync)

#define HAL_CONTRACT_DECLARE(name) void hal_contract_##name(iotkit_hal_t *hal);
HAL_CONTRACT_LIST(HAL_CONTRACT_DECLARE)
#undef HAL_CONTRACT_DECLARE

/* A memory HAL with the contract's slot capacity (asserts on failure). */
iotkit_hal_t *hal_contract_memory_new(void);

/* Fill @buf with a recognisable pattern from @seed. */
void hal_contract_pattern(void *buf, size_t len, unsigned seed);

#endif
