/* Names and messages of the error codes, generated from IOTKIT_ERRNO_MAP. */
#include "iotkit/error.h"

const char *iotkit_strerror(iotkit_err_t err) {
  switch (err) {
#define IOTKIT__ERR_MSG(name, value, msg) \
  case IOTKIT_##name:                     \
    return msg;
    IOTKIT_ERRNO_MAP(IOTKIT__ERR_MSG)
#undef IOTKIT__ERR_MSG
  }
  return "unknown error";
}

const char *iotkit_err_name(iotkit_err_t err) {
  switch (err) {
#define IOTKIT__ERR_NAME(name, value, msg) \
  case IOTKIT_##name:                      \
    return "IOTKIT_" #name;
    IOTKIT_ERRNO_MAP(IOTKIT__ERR_NAME)
#undef IOTKIT__ERR_NAME
  }
  return "IOTKIT_ERR_UNKNOWN";
}
