#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "iotkit/transport.h"
#include "transport/registry.h"

static iotkit_transport_registry_t *reg;

static void setup(void) { cr_assert_eq(iotkit_transport_registry_new(&reg), IOTKIT_OK); }
static void teardown(void) { iotkit_transport_registry_free(reg); }

TestSuite(registry, .init = setup, .fini = teardown);

/* A do-nothing backend to register. */
static iotkit_err_t f_create(const iotkit_transport_config_t *c, const iotkit_transport_events_t *e, void **x) {
  (void)c, (void)e;
  *x = NULL;
  return IOTKIT_OK;
}
static void f_destroy(void *x) { (void)x; }
static iotkit_err_t f_connect(void *x) {
  (void)x;
  return IOTKIT_OK;
}
static iotkit_err_t f_send(void *x, const iotkit_message_t *m, uint32_t *id) {
  (void)x, (void)m, (void)id;
  return IOTKIT_OK;
}
static iotkit_err_t f_subscribe(void *x, const char *c, int q) {
  (void)x, (void)c, (void)q;
  return IOTKIT_OK;
}
static iotkit_err_t f_poll(void *x, int t) {
  (void)x, (void)t;
  return IOTKIT_OK;
}

static const char *const k_modem_schemes[] = {"modem", "MQTT", NULL};

static iotkit_transport_ops_t fake_ops(const char *name) {
  iotkit_transport_ops_t ops = {
      .name = name,
      .schemes = k_modem_schemes,
      .create = f_create,
      .destroy = f_destroy,
      .connect = f_connect,
      .disconnect = f_connect,
      .send = f_send,
      .subscribe = f_subscribe,
      .poll = f_poll,
  };
  return ops;
}

Test(registry, loopback_is_built_in) {
  const iotkit_transport_ops_t *ops = NULL;
  cr_assert_eq(iotkit_transport_find(reg, "loop", &ops), IOTKIT_OK);
  cr_assert_eq(ops, iotkit_transport_loopback());
  cr_assert_str_eq(ops->name, "loopback");
}

Test(registry, find_without_registry_uses_built_ins) {
  const iotkit_transport_ops_t *ops = NULL;
  cr_assert_eq(iotkit_transport_find(NULL, "LOOP", &ops), IOTKIT_OK);
  cr_assert_eq(ops, iotkit_transport_loopback());
}

Test(registry, mqtt_is_built_in_when_compiled) {
  const iotkit_transport_ops_t *ops = NULL;
  iotkit_err_t rc = iotkit_transport_find(reg, "mqtts", &ops);
  if (iotkit_transport_mqtt()) {
    cr_assert_eq(rc, IOTKIT_OK);
    cr_assert_eq(ops, iotkit_transport_mqtt());
    cr_assert_eq(iotkit_transport_find(reg, "mqtt", &ops), IOTKIT_OK);
  } else {
    cr_assert_eq(rc, IOTKIT_ERR_UNKNOWN_SCHEME);
  }
}

Test(registry, unknown_scheme) {
  const iotkit_transport_ops_t *ops = NULL;
  cr_assert_eq(iotkit_transport_find(reg, "gopher", &ops), IOTKIT_ERR_UNKNOWN_SCHEME);
  cr_assert_null(ops);
}

Test(registry, coap_schemes_served_when_built) {
  const iotkit_transport_ops_t *ops = NULL;
  iotkit_err_t rc = iotkit_transport_find(reg, "coaps", &ops);
  if (iotkit_transport_coap()) {
    cr_assert_eq(rc, IOTKIT_OK);
    cr_assert_eq(ops, iotkit_transport_coap());
    cr_assert_eq(iotkit_transport_find(reg, "COAP", &ops), IOTKIT_OK);
    cr_assert_eq(ops, iotkit_transport_coap());
  } else {
    cr_assert_eq(rc, IOTKIT_ERR_UNKNOWN_SCHEME);
    char why[256];
    iotkit__transport_explain_scheme(reg, "coaps", why, sizeof why);
    cr_assert(strstr(why, "CoAP backend") != NULL, "%s", why);
  }
}

Test(registry, unregistered_scheme_explained) {
  char why[256];
  iotkit__transport_explain_scheme(reg, "gopher", why, sizeof why);
  cr_assert(strstr(why, "'gopher'") != NULL, "%s", why);
}

Test(registry, custom_backend_is_found_and_preferred) {
  iotkit_transport_ops_t ops = fake_ops("cell-modem");
  cr_assert_eq(iotkit_transport_register(reg, &ops), IOTKIT_OK);
  const iotkit_transport_ops_t *found = NULL;
  cr_assert_eq(iotkit_transport_find(reg, "modem", &found), IOTKIT_OK);
  cr_assert_eq(found, &ops);
  /* it also claims mqtt (case-insensitively) and wins over the built-in one */
  cr_assert_eq(iotkit_transport_find(reg, "mqtt", &found), IOTKIT_OK);
  cr_assert_eq(found, &ops);
  /* built-ins still serve the rest */
  cr_assert_eq(iotkit_transport_find(reg, "loop", &found), IOTKIT_OK);
  cr_assert_eq(found, iotkit_transport_loopback());
}

Test(registry, later_registration_wins) {
  iotkit_transport_ops_t a = fake_ops("a"), b = fake_ops("b");
  cr_assert_eq(iotkit_transport_register(reg, &a), IOTKIT_OK);
  cr_assert_eq(iotkit_transport_register(reg, &b), IOTKIT_OK);
  const iotkit_transport_ops_t *found = NULL;
  cr_assert_eq(iotkit_transport_find(reg, "modem", &found), IOTKIT_OK);
  cr_assert_eq(found, &b);
}

Test(registry, many_registrations_grow) {
  static char names[20][8];
  static iotkit_transport_ops_t ops[20];
  for (int i = 0; i < 20; i++) {
    snprintf(names[i], sizeof names[i], "b%d", i);
    ops[i] = fake_ops(names[i]);
    cr_assert_eq(iotkit_transport_register(reg, &ops[i]), IOTKIT_OK);
  }
  const iotkit_transport_ops_t *found = NULL;
  cr_assert_eq(iotkit_transport_find(reg, "modem", &found), IOTKIT_OK);
  cr_assert_eq(found, &ops[19]);
}

Test(registry, duplicate_name_exists) {
  iotkit_transport_ops_t a = fake_ops("dup"), b = fake_ops("dup");
  cr_assert_eq(iotkit_transport_register(reg, &a), IOTKIT_OK);
  cr_assert_eq(iotkit_transport_register(reg, &b), IOTKIT_ERR_EXISTS);
}

Test(registry, built_in_name_exists) {
  iotkit_transport_ops_t a = fake_ops("loopback");
  cr_assert_eq(iotkit_transport_register(reg, &a), IOTKIT_ERR_EXISTS);
}

static void expect_invalid(iotkit_transport_ops_t ops) {
  cr_assert_eq(iotkit_transport_register(reg, &ops), IOTKIT_ERR_INVALID_ARG);
  const iotkit_transport_ops_t *found = NULL;
  cr_assert_eq(iotkit_transport_find(reg, "modem", &found), IOTKIT_ERR_UNKNOWN_SCHEME);
}

Test(registry_invalid, null_registry) {
  iotkit_transport_ops_t ops = fake_ops("x");
  cr_assert_eq(iotkit_transport_register(NULL, &ops), IOTKIT_ERR_INVALID_ARG);
}

Test(registry_invalid, null_ops, .init = setup, .fini = teardown) {
  cr_assert_eq(iotkit_transport_register(reg, NULL), IOTKIT_ERR_INVALID_ARG);
}

#define INVALID_OPS_TEST(test_name, field, value)                             \
  Test(registry_invalid, test_name, .init = setup, .fini = teardown) {      \
    iotkit_transport_ops_t ops = fake_ops("bad");                            \
    ops.field = value;                                                       \
    expect_invalid(ops);                                                     \
  }

INVALID_OPS_TEST(no_name, name, NULL)
INVALID_OPS_TEST(empty_name, name, "")
INVALID_OPS_TEST(no_schemes, schemes, NULL)
INVALID_OPS_TEST(no_create, create, NULL)
INVALID_OPS_TEST(no_destroy, destroy, NULL)
INVALID_OPS_TEST(no_connect, connect, NULL)
INVALID_OPS_TEST(no_disconnect, disconnect, NULL)
INVALID_OPS_TEST(no_send, send, NULL)
INVALID_OPS_TEST(no_subscribe, subscribe, NULL)
INVALID_OPS_TEST(no_poll, poll, NULL)

static const char *const k_empty_schemes[] = {NULL};
static const char *const k_bad_schemes[] = {"modem", "bad scheme", NULL};
INVALID_OPS_TEST(empty_scheme_list, schemes, k_empty_schemes)
INVALID_OPS_TEST(malformed_scheme, schemes, k_bad_schemes)

Test(registry_invalid, find_null_scheme, .init = setup, .fini = teardown) {
  const iotkit_transport_ops_t *found = NULL;
  cr_assert_eq(iotkit_transport_find(reg, NULL, &found), IOTKIT_ERR_INVALID_ARG);
}

Test(registry_invalid, find_null_out, .init = setup, .fini = teardown) {
  cr_assert_eq(iotkit_transport_find(reg, "loop", NULL), IOTKIT_ERR_INVALID_ARG);
}

Test(registry_invalid, new_null_out) { cr_assert_eq(iotkit_transport_registry_new(NULL), IOTKIT_ERR_INVALID_ARG); }

Test(registry_invalid, free_null) { iotkit_transport_registry_free(NULL); }
