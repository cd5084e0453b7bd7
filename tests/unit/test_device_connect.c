/* What the device hands to its transport, and how it treats connect failures,
   checked with a scripted fake backend registered for the scheme "fake". */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_fixture.h"

/* How the fake behaves, and what it saw. One per test process. */
static struct {
  iotkit_err_t connect_rc;  /* returned by connect() */
  iotkit_err_t fail_reason; /* if set: first poll delivers disconnected(fail_reason) */
  bool never_up;            /* poll never delivers connected() */
  char username[64], password[64], client_id[64];
  int creates, destroys, disconnects;
  bool alive;
  const iotkit_transport_events_t *ev;
  bool connecting;
  int unconfirmed; /* sends that the next poll confirms */
} fake;

static iotkit_err_t fake_create(const iotkit_transport_config_t *cfg, const iotkit_transport_events_t *ev,
                                void **ctx) {
  snprintf(fake.username, sizeof(fake.username), "%s", cfg->username ? cfg->username : "(none)");
  snprintf(fake.password, sizeof(fake.password), "%s", cfg->password ? cfg->password : "(none)");
  snprintf(fake.client_id, sizeof(fake.client_id), "%s", cfg->client_id);
  fake.creates++;
  fake.alive = true;
  fake.ev = ev;
  *ctx = &fake;
  return IOTKIT_OK;
}

static void fake_destroy(void *ctx) {
  (void)ctx;
  fake.destroys++;
  fake.alive = false;
}

static iotkit_err_t fake_connect(void *ctx) {
  (void)ctx;
  if (fake.connect_rc == IOTKIT_OK) fake.connecting = true;
  return fake.connect_rc;
}

static iotkit_err_t fake_disconnect(void *ctx) {
  (void)ctx;
  fake.disconnects++;
  fake.ev->disconnected(fake.ev->user, IOTKIT_OK, "");
  return IOTKIT_OK;
}

static iotkit_err_t fake_send(void *ctx, const iotkit_message_t *msg, uint32_t *id) {
  (void)ctx;
  (void)msg;
  *id = 1;
  fake.unconfirmed++;
  return IOTKIT_OK;
}

static iotkit_err_t fake_subscribe(void *ctx, const char *channel, int qos) {
  (void)ctx;
  (void)channel;
  (void)qos;
  return IOTKIT_OK;
}

static iotkit_err_t fake_poll(void *ctx, int timeout_ms) {
  (void)ctx;
  (void)timeout_ms;
  for (; fake.unconfirmed > 0; fake.unconfirmed--) fake.ev->delivery(fake.ev->user, 1, IOTKIT_OK);
  if (!fake.connecting) return IOTKIT_OK;
  if (fake.fail_reason != IOTKIT_OK) {
    fake.connecting = false;
    fake.ev->disconnected(fake.ev->user, fake.fail_reason, "fake: not authorized");
  } else if (!fake.never_up) {
    fake.connecting = false;
    fake.ev->connected(fake.ev->user);
  }
  return IOTKIT_OK;
}

static int fake_fd(void *ctx) {
  (void)ctx;
  return 42;
}

static const char *fake_last_error(void *ctx) {
  (void)ctx;
  return "fake: something odd";
}

static const char *const fake_schemes[] = {"fake", NULL};
static const iotkit_transport_ops_t fake_ops = {
    .name = "fake",
    .schemes = fake_schemes,
    .create = fake_create,
    .destroy = fake_destroy,
    .connect = fake_connect,
    .disconnect = fake_disconnect,
    .send = fake_send,
    .subscribe = fake_subscribe,
    .poll = fake_poll,
    .fd = fake_fd,
    .last_error = fake_last_error,
};

static device_fixture_t fx;
static iotkit_transport_registry_t *reg;

static void setup(void) {
  memset(&fake, 0, sizeof(fake));
  device_fixture_init(&fx, "fake://uriuser:uripass@broker.test:1234");
  cr_assert_eq(iotkit_transport_registry_new(&reg), IOTKIT_OK);
  cr_assert_eq(iotkit_transport_register(reg, &fake_ops), IOTKIT_OK);
  fx.cfg.transports = reg;
}

static void teardown(void) {
  iotkit_transport_registry_free(reg);
  device_fixture_fini(&fx);
}
TestSuite(device_connect, .init = setup, .fini = teardown);

static int callbacks;
static void count_cb(iotkit_device_t *dev, void *user, bool up, iotkit_err_t reason, const char *detail) {
  (void)dev, (void)user, (void)up, (void)reason, (void)detail;
  callbacks++;
}

static iotkit_device_t *make(void) {
  iotkit_device_t *dev = NULL;
  cr_assert_eq(iotkit_device_new(&fx.cfg, &dev), IOTKIT_OK);
  iotkit_device_on_connection(dev, count_cb, NULL);
  return dev;
}

Test(device_connect, nothing_created_before_connect) {
  iotkit_device_t *dev = make();
  cr_assert_eq(fake.creates, 0);
  iotkit_device_free(dev);
  cr_assert_eq(fake.destroys, 0);
}

Test(device_connect, uri_credentials_are_used) {
  iotkit_device_t *dev = make();
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_OK);
  cr_assert_str_eq(fake.username, "uriuser");
  cr_assert_str_eq(fake.password, "uripass");
  cr_assert_str_eq(fake.client_id, "dev-1");
  iotkit_device_free(dev);
}

Test(device_connect, config_credentials_override_the_uri) {
  fx.cfg.username = "cfguser";
  fx.cfg.password = "cfgpass";
  iotkit_device_t *dev = make();
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_OK);
  cr_assert_str_eq(fake.username, "cfguser");
  cr_assert_str_eq(fake.password, "cfgpass");
  iotkit_device_free(dev);
}

/* Every attempt gets a fresh transport (refreshed credentials, nothing left of the old session). */
Test(device_connect, fresh_transport_per_connection) {
  iotkit_device_t *dev = make();
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_disconnect(dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_OK);
  cr_assert_eq(fake.creates, 2);
  cr_assert_eq(fake.destroys, 1);
  cr_assert_eq(iotkit_device_fd(dev), 42);
  iotkit_device_free(dev);
  cr_assert_eq(fake.destroys, 2);
}

Test(device_connect, timeout) {
  fake.never_up = true;
  fx.cfg.connect_timeout_ms = 150;
  iotkit_device_t *dev = make();
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_ERR_TIMEOUT);
  cr_assert(device_fixture_error_has(dev, "broker.test:1234"));
  cr_assert(device_fixture_error_has(dev, "150 ms"));
  cr_assert_eq(callbacks, 0);
  cr_assert_not(fake.alive, "the half-open attempt is dropped");
  iotkit_device_free(dev);
}

Test(device_connect, refused_by_server_is_auth) {
  fake.fail_reason = IOTKIT_ERR_AUTH;
  iotkit_device_t *dev = make();
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_ERR_AUTH);
  cr_assert(device_fixture_error_has(dev, "cannot connect to broker.test:1234: fake: not authorized"));
  cr_assert_eq(callbacks, 0);
  iotkit_device_free(dev);
}

Test(device_connect, odd_transport_failure_maps_to_connect) {
  fake.connect_rc = IOTKIT_ERR_PROTOCOL;
  iotkit_device_t *dev = make();
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_ERR_CONNECT);
  cr_assert(device_fixture_error_has(dev, "fake: something odd"));
  iotkit_device_free(dev);
}

Test(device_connect, tls_failure_keeps_its_code) {
  fake.connect_rc = IOTKIT_ERR_TLS;
  iotkit_device_t *dev = make();
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_ERR_TLS);
  iotkit_device_free(dev);
}

Test(device_connect, connect_again_after_failure) {
  fake.connect_rc = IOTKIT_ERR_CONNECT;
  iotkit_device_t *dev = make();
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_ERR_CONNECT);
  fake.connect_rc = IOTKIT_OK;
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_OK);
  cr_assert_eq(callbacks, 1);
  iotkit_device_free(dev);
}

Test(device_connect, free_says_goodbye_without_callbacks) {
  iotkit_device_t *dev = make();
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_OK);
  cr_assert_eq(callbacks, 1);
  iotkit_device_free(dev);
  cr_assert_eq(fake.disconnects, 1, "a live session ends cleanly");
  cr_assert_eq(fake.destroys, 1);
  cr_assert_eq(callbacks, 1, "free must not run the connection callback");
}

Test(device_connect, free_of_a_closed_session_does_not_disconnect_again) {
  iotkit_device_t *dev = make();
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_disconnect(dev), IOTKIT_OK);
  iotkit_device_free(dev);
  cr_assert_eq(fake.disconnects, 1);
}
