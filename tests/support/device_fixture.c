/* Shared set-up for device tests. */
#include "device_fixture.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

void device_fixture_init(device_fixture_t *f, const char *uri) {
  memset(f, 0, sizeof(*f));
  cr_assert_eq(iotkit_hal_memory_new(NULL, &f->hal), IOTKIT_OK);
  iotkit_device_config_init(&f->cfg);
  f->cfg.device_id = "dev-1";
  f->cfg.uri = uri;
  f->cfg.hal = f->hal;
}

iotkit_device_t *device_fixture_connect(device_fixture_t *f) {
  iotkit_device_t *dev = NULL;
  cr_assert_eq(iotkit_device_new(&f->cfg, &dev), IOTKIT_OK);
  iotkit_err_t err = iotkit_device_connect(dev);
  char why[IOTKIT_ERROR_TEXT_SIZE];
  cr_assert_eq(err, IOTKIT_OK, "connect: %s: %s", iotkit_err_name(err), iotkit_device_last_error(dev, why, sizeof(why)));
  return dev;
}

bool device_fixture_wait(device_fixture_t *f, iotkit_device_t *dev, bool (*done)(void *arg), void *arg,
                         unsigned budget_ms) {
  uint64_t start = f->hal->monotonic_ms(f->hal->ctx);
  while (!done(arg)) {
    if (f->hal->monotonic_ms(f->hal->ctx) - start >= budget_ms) return false;
    if (dev)
      (void)iotkit_device_poll(dev, 50);
    else
      f->hal->sleep_ms(f->hal->ctx, 5);
  }
  return true;
}

bool device_fixture_error_has(const iotkit_device_t *dev, const char *needle) {
  char buf[IOTKIT_ERROR_TEXT_SIZE];
  return strstr(iotkit_device_last_error(dev, buf, sizeof(buf)), needle) != NULL;
}

void device_counts_on_delivery(iotkit_device_t *dev, void *user, uint32_t msg_id, iotkit_err_t status) {
  (void)dev;
  (void)msg_id;
  device_counts_t *c = user;
  atomic_fetch_add(status == IOTKIT_OK ? &c->delivered : &c->failed, 1);
}

void device_counts_on_connection(iotkit_device_t *dev, void *user, bool up, iotkit_err_t reason,
                                 const char *detail) {
  (void)dev;
  (void)reason;
  (void)detail;
  device_counts_t *c = user;
  atomic_fetch_add(up ? &c->ups : &c->downs, 1);
}

bool device_counts_settled(void *arg) {
  device_counts_t *c = arg;
  return atomic_load(&c->delivered) + atomic_load(&c->failed) >= c->want;
}

typedef struct sender_job {
  iotkit_device_t *dev;
  int index, count;
} sender_job_t;

static void *sender_main(void *arg) {
  sender_job_t *job = arg;
  for (int i = 0; i < job->count; i++) {
    char text[48];
    int n = snprintf(text, sizeof(text), "{\"thread\":%d,\"n\":%d}", job->index, i);
    if (iotkit_device_send_telemetry(job->dev, text, (size_t)n, NULL) != IOTKIT_OK) return (void *)1;
  }
  return NULL;
}

void device_fixture_send_from_threads(iotkit_device_t *dev, int threads, int per_thread) {
  pthread_t tid[16];
  sender_job_t jobs[16];
  cr_assert_leq(threads, 16);
  for (int i = 0; i < threads; i++) {
    jobs[i] = (sender_job_t){dev, i, per_thread};
    cr_assert_eq(pthread_create(&tid[i], NULL, sender_main, &jobs[i]), 0);
  }
  int failed = 0;
  for (int i = 0; i < threads; i++) {
    void *rc = NULL;
    pthread_join(tid[i], &rc);
    failed += rc != NULL;
  }
  cr_assert_eq(failed, 0, "%d sender thread(s) saw a failed send", failed);
}

void device_fixture_fini(device_fixture_t *f) {
  iotkit_hal_free(f->hal);
  f->hal = NULL;
}
