/* The background loop: start/stop rules, sends from many threads, no callback after free. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "device_fixture.h"

static device_fixture_t fx;
static void setup(void) { device_fixture_init(&fx, "loop://local"); }
static void teardown(void) { device_fixture_fini(&fx); }
TestSuite(device_loop, .init = setup, .fini = teardown);

Test(device_loop, start_without_thread_support) {
  iotkit_hal_t no_threads = *fx.hal; /* same context, no thread operations */
  no_threads.thread_start = NULL;
  no_threads.thread_join = NULL;
  fx.cfg.hal = &no_threads;
  iotkit_device_t *dev = device_fixture_connect(&fx);
  cr_assert_eq(iotkit_device_start(dev), IOTKIT_ERR_UNSUPPORTED);
  cr_assert_eq(iotkit_device_poll(dev, 0), IOTKIT_OK, "a refused start leaves the device usable");
  iotkit_device_free(dev);
}

Test(device_loop, poll_while_started) {
  iotkit_device_t *dev = device_fixture_connect(&fx);
  cr_assert_eq(iotkit_device_start(dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_poll(dev, 0), IOTKIT_ERR_STATE);
  cr_assert_eq(iotkit_device_stop(dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_poll(dev, 0), IOTKIT_OK);
  iotkit_device_free(dev);
}

Test(device_loop, start_twice) {
  iotkit_device_t *dev = device_fixture_connect(&fx);
  cr_assert_eq(iotkit_device_start(dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_start(dev), IOTKIT_ERR_STATE);
  iotkit_device_free(dev);
}

Test(device_loop, stop_when_not_started) {
  iotkit_device_t *dev = device_fixture_connect(&fx);
  cr_assert_eq(iotkit_device_stop(dev), IOTKIT_ERR_STATE);
  iotkit_device_free(dev);
}

Test(device_loop, connect_while_started) {
  iotkit_device_t *dev = NULL;
  cr_assert_eq(iotkit_device_new(&fx.cfg, &dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_start(dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_ERR_STATE);
  iotkit_device_free(dev);
}

Test(device_loop, disconnect_while_started) {
  iotkit_device_t *dev = device_fixture_connect(&fx);
  cr_assert_eq(iotkit_device_start(dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_disconnect(dev), IOTKIT_ERR_STATE);
  iotkit_device_free(dev);
}

static void count_msg(iotkit_device_t *dev, void *user, const char *channel, const void *payload, size_t len) {
  (void)dev, (void)channel, (void)payload, (void)len;
  atomic_fetch_add((atomic_int *)user, 1);
}

static bool got_one(void *arg) { return atomic_load((atomic_int *)arg) > 0; }

/* While the loop runs it owns the transport: the subscription is remembered and made by the loop. */
Test(device_loop, subscribe_while_started_is_made_by_the_loop) {
  atomic_int msgs = 0;
  iotkit_device_t *dev = device_fixture_connect(&fx);
  iotkit_device_on_message(dev, count_msg, &msgs);
  cr_assert_eq(iotkit_device_start(dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_subscribe(dev, "echo/#", 1), IOTKIT_OK);
  /* The loopback echoes a send on a subscribed channel once the loop has subscribed. */
  for (int i = 0; i < 200 && !got_one(&msgs); i++) {
    cr_assert_eq(iotkit_device_publish(dev, "echo/x", "1", 1, 1, false, NULL), IOTKIT_OK);
    (void)device_fixture_wait(&fx, NULL, got_one, &msgs, 20);
  }
  cr_assert(got_one(&msgs));
  iotkit_device_free(dev);
}

Test(device_loop, loop_delivers_callbacks) {
  device_counts_t c = {.want = 20};
  iotkit_device_t *dev = device_fixture_connect(&fx);
  iotkit_device_on_delivery(dev, device_counts_on_delivery, &c);
  cr_assert_eq(iotkit_device_start(dev), IOTKIT_OK);
  for (int i = 0; i < 20; i++) cr_assert_eq(iotkit_device_send_telemetry(dev, "x", 1, NULL), IOTKIT_OK);
  cr_assert(device_fixture_wait(&fx, NULL, device_counts_settled, &c, 10000));
  cr_assert_eq(atomic_load(&c.delivered), 20);
  cr_assert_eq(iotkit_device_stop(dev), IOTKIT_OK);
  iotkit_device_free(dev);
}

Test(device_loop, sends_from_three_threads_are_all_delivered) {
  device_counts_t c = {.want = 150};
  iotkit_device_t *dev = device_fixture_connect(&fx);
  iotkit_device_on_delivery(dev, device_counts_on_delivery, &c);
  cr_assert_eq(iotkit_device_start(dev), IOTKIT_OK);
  device_fixture_send_from_threads(dev, 3, 50);
  cr_assert(device_fixture_wait(&fx, NULL, device_counts_settled, &c, 10000));
  cr_assert_eq(atomic_load(&c.delivered), 150);
  iotkit_device_free(dev);
}

Test(device_loop, free_while_running) {
  device_counts_t c = {.want = 10};
  iotkit_device_t *dev = device_fixture_connect(&fx);
  iotkit_device_on_delivery(dev, device_counts_on_delivery, &c);
  cr_assert_eq(iotkit_device_start(dev), IOTKIT_OK);
  for (int i = 0; i < 10; i++) cr_assert_eq(iotkit_device_send_telemetry(dev, "x", 1, NULL), IOTKIT_OK);
  iotkit_device_free(dev); /* stops the loop first */
}

Test(device_loop, no_callback_after_free) {
  /* The callbacks' state lives on the heap and is released right after free:
     a late callback would be a use after free (caught by ASan) and would move
     the counter (caught below). */
  device_counts_t *c = calloc(1, sizeof(*c));
  cr_assert_not_null(c);
  iotkit_device_t *dev = device_fixture_connect(&fx);
  iotkit_device_on_delivery(dev, device_counts_on_delivery, c);
  cr_assert_eq(iotkit_device_start(dev), IOTKIT_OK);
  for (int i = 0; i < 100; i++) cr_assert_eq(iotkit_device_send_telemetry(dev, "x", 1, NULL), IOTKIT_OK);
  iotkit_device_free(dev);
  int at_free = atomic_load(&c->delivered) + atomic_load(&c->failed);
  fx.hal->sleep_ms(fx.hal->ctx, 200);
  cr_assert_eq(atomic_load(&c->delivered) + atomic_load(&c->failed), at_free);
  free(c);
}
