/* What iotkit_device_connect() returns, and what it logs, for unusable TLS files
   (the claims of the README's Security section): checked before any handshake. */
#include <criterion/criterion.h>
#include <string.h>

#include "iotkit/iotkit.h"

static iotkit_hal_t *hal;
static iotkit_device_config_t cfg;
static iotkit_device_t *dev;

static void setup(void) {
  iotkit_hal_memory_config_t mc;
  iotkit_hal_memory_config_init(&mc);
  cr_assert_eq(iotkit_hal_memory_new(&mc, &hal), IOTKIT_OK);
  iotkit_device_config_init(&cfg);
  cfg.device_id = "tls-1";
  cfg.uri = "mqtts://127.0.0.1:1"; /* never reached: the files are checked first */
  cfg.hal = hal;
  cfg.auto_reconnect = false;
}
static void teardown(void) {
  iotkit_device_free(dev);
  iotkit_hal_free(hal);
}
TestSuite(device_tls_files, .init = setup, .fini = teardown, .timeout = 30);

static iotkit_err_t connect_once(void) {
  cr_assert_eq(iotkit_device_new(&cfg, &dev), IOTKIT_OK);
  return iotkit_device_connect(dev);
}

static bool logged(const char *needle) {
  const char *log = iotkit_hal_memory_log(hal);
  return log && strstr(log, needle) != NULL;
}

Test(device_tls_files, unreadable_ca_file_is_tls_error_and_the_log_names_it) {
  cfg.tls.ca_file = "/nonexistent/ca.pem";
  cr_assert_eq(connect_once(), IOTKIT_ERR_TLS);
  cr_assert(logged("CA file '/nonexistent/ca.pem' cannot be read"));
}

/* The transport refuses the configuration as IOTKIT_ERR_INVALID_ARG; iotkit_device_connect()
   documents only connect codes and reports it as IOTKIT_ERR_CONNECT (README says so). */
Test(device_tls_files, certificate_without_key_fails_the_connect) {
  cfg.tls.cert_file = "/nonexistent/dev.crt";
  iotkit_err_t err = connect_once();
  cr_assert_eq(err, IOTKIT_ERR_CONNECT, "got %s", iotkit_err_name(err));
  cr_assert(logged("given without its key"));
}
