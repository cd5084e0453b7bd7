#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "iotkit/iotkit.h"

Test(error, ok_is_zero_and_errors_negative) {
  cr_assert_eq(IOTKIT_OK, 0);
#define CHECK_NEG(name, value, msg) \
  if (IOTKIT_##name != IOTKIT_OK) cr_assert_lt((int)IOTKIT_##name, 0, #name " must be negative");
  IOTKIT_ERRNO_MAP(CHECK_NEG)
#undef CHECK_NEG
}

Test(error, codes_are_never_renumbered) {
  /* The published values: changing one breaks every compiled caller. */
  cr_assert_eq(IOTKIT_ERR_INVALID_ARG, -1);
  cr_assert_eq(IOTKIT_ERR_BAD_URI, -4);
  cr_assert_eq(IOTKIT_ERR_UNKNOWN_SCHEME, -5);
  cr_assert_eq(IOTKIT_ERR_CONNECT, -6);
  cr_assert_eq(IOTKIT_ERR_TOO_LARGE, -9);
  cr_assert_eq(IOTKIT_ERR_INTERNAL, -24);
}

Test(error, every_code_has_distinct_name_and_message) {
  const char *names[64] = {0};
  int n = 0;
#define COLLECT(name, value, msg)                                                     \
  cr_assert_str_eq(iotkit_err_name(IOTKIT_##name), "IOTKIT_" #name);               \
  cr_assert_str_eq(iotkit_strerror(IOTKIT_##name), msg);                           \
  cr_assert_neq(strlen(msg), 0);                                                   \
  for (int i = 0; i < n; i++) cr_assert_str_neq(names[i], iotkit_err_name(IOTKIT_##name)); \
  names[n++] = iotkit_err_name(IOTKIT_##name);
  IOTKIT_ERRNO_MAP(COLLECT)
#undef COLLECT
  cr_assert_gt(n, 10);
}

Test(error, unknown_codes_have_fallbacks) {
  cr_assert_str_eq(iotkit_strerror((iotkit_err_t)-9999), "unknown error");
  cr_assert_str_eq(iotkit_err_name((iotkit_err_t)12345), "IOTKIT_ERR_UNKNOWN");
}

Test(core, version_matches_macros) {
  char want[32];
  snprintf(want, sizeof want, "%d.%d.%d", IOTKIT_VERSION_MAJOR, IOTKIT_VERSION_MINOR, IOTKIT_VERSION_PATCH);
  cr_assert_str_eq(iotkit_version(), want);
}

Test(core, log_level_names) {
  cr_assert_str_eq(iotkit_log_level_name(IOTKIT_LOG_ERROR), "error");
  cr_assert_str_eq(iotkit_log_level_name(IOTKIT_LOG_TRACE), "trace");
  cr_assert_str_eq(iotkit_log_level_name((iotkit_log_level_t)99), "?");
}

Test(core, free_null_is_noop) { iotkit_free(NULL); }
