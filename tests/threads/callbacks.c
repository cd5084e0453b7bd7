/* Callback replacement race, run under Helgrind (ctest threads/callbacks_helgrind; plainly,
   or under a sanitizer, as threads/callbacks): one thread drives the device (first its
   background loop, then a polling thread of this program) while commands, messages and
   their deliveries keep arriving, and another thread keeps replacing the command handler,
   the message callback and the delivery callback (sometimes clearing the last two), each
   with its own heap-allocated user state, which it frees as soon as the setter has
   returned, as a binding releases its handle. The library promises that the old callback
   is then not running and will not run again (include/iotkit/device.h, "Replacing a
   callback"). If it broke that promise, a callback would touch freed state: Helgrind sees
   the callback's access race with free() (the replacing thread shares no lock of its own
   with the callbacks, and each callback touches its state last, after every library call
   it makes), a sanitizer sees a use after free, and a plain run may see the poisoned magic.
   Any such report, a wrong magic or a failed call fails the run. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <iotkit/iotkit.h>

/* Replacements of each callback per phase; sized to keep a Helgrind run well under a minute. */
#define ROUNDS 500
/* Requests the driver lets wait for the handler before it pauses (bounded) for the device. */
#define AHEAD 4
#define MAGIC 0x1c0ffee5u

enum { K_COMMAND, K_MESSAGE, K_DELIVERY, K_COUNT };
static const char *const kind_name[K_COUNT] = {"command", "message", "delivery"};

/* The user state of one installed callback. Its fields are plain on purpose: only the
   library's promise orders the callback's accesses before the free in the replacing thread. */
typedef struct state {
  unsigned magic;
  int kind;
  unsigned long calls;
} state_t;

static iotkit_device_t *dev;
static atomic_int failures;
/* Calls per kind, counted before the state is touched (atomics order nothing for Helgrind,
   so these counters cannot hide a race on the states). */
static atomic_long dispatched[K_COUNT];
static atomic_bool replacing_done, poller_stop;
/* The states installed when a phase starts, then the last ones the replacer installed
   (handed over through thread creation and join). */
static state_t *current[K_COUNT];

static void sleep_ms(long ms) { nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000L}, NULL); }

static void check(iotkit_err_t err, const char *what) {
  if (err != IOTKIT_OK) {
    fprintf(stderr, "callbacks: %s: %s\n", what, iotkit_err_name(err));
    atomic_fetch_add(&failures, 1);
  }
}

static state_t *state_new(int kind) {
  state_t *st = calloc(1, sizeof(*st));
  if (!st) {
    fprintf(stderr, "callbacks: out of memory\n");
    exit(2);
  }
  st->magic = MAGIC;
  st->kind = kind;
  return st;
}

/* Poison, then free: a late callback in a plain run may see the magic gone. */
static void state_free(state_t *st) {
  if (!st) return;
  st->magic = 0;
  free(st);
}

/* The last thing every callback does: use its state. */
static void touch(void *user, int kind) {
  state_t *st = user;
  if (st->magic != MAGIC || st->kind != kind) {
    fprintf(stderr, "callbacks: a %s callback ran with released or foreign state\n", kind_name[kind]);
    atomic_fetch_add(&failures, 1);
    return;
  }
  st->calls++;
}

static void on_command(iotkit_device_t *d, void *user, const char *id, const char *name, const char *params,
                       iotkit_command_t *cmd) {
  (void)d, (void)id, (void)name, (void)params;
  atomic_fetch_add(&dispatched[K_COMMAND], 1);
  iotkit_err_t err = iotkit_command_complete(cmd, "{\"ok\":true}");
  /* A response may meet a moment without a session; nothing else may fail. */
  if (err != IOTKIT_ERR_NOT_CONNECTED) check(err, "complete");
  touch(user, K_COMMAND);
}

static void on_message(iotkit_device_t *d, void *user, const char *channel, const void *payload, size_t len) {
  (void)d, (void)channel, (void)payload, (void)len;
  atomic_fetch_add(&dispatched[K_MESSAGE], 1);
  touch(user, K_MESSAGE);
}

static void on_delivery(iotkit_device_t *d, void *user, uint32_t msg_id, iotkit_err_t status) {
  (void)d, (void)msg_id, (void)status;
  atomic_fetch_add(&dispatched[K_DELIVERY], 1);
  touch(user, K_DELIVERY);
}

/* Install @p st (NULL: clear; the command handler is never removed) as the user state of @p kind. */
static iotkit_err_t install(int kind, state_t *st) {
  switch (kind) {
    case K_COMMAND: return iotkit_device_command_register(dev, "work", on_command, st);
    case K_MESSAGE: return iotkit_device_on_message(dev, st ? on_message : NULL, st);
    default: return iotkit_device_on_delivery(dev, st ? on_delivery : NULL, st);
  }
}

static long total_dispatched(void) {
  long n = 0;
  for (int k = 0; k < K_COUNT; k++) n += atomic_load(&dispatched[k]);
  return n;
}

/* Keeps commands and messages (and so deliveries) coming until the replacer is done. */
static void *driver(void *arg) {
  (void)arg;
  long sent = atomic_load(&dispatched[K_COMMAND]);
  char json[64];
  while (!atomic_load(&replacing_done)) {
    snprintf(json, sizeof(json), "{\"id\":\"%ld\",\"name\":\"work\"}", sent++);
    check(iotkit_device_publish(dev, "commands/request", json, strlen(json), 1, false, NULL), "request");
    check(iotkit_device_publish(dev, "app/x", "{\"m\":1}", 7, 1, false, NULL), "message");
    /* Do not run far ahead of the device (a pause, not a check: the wait is bounded). */
    for (int spin = 0; spin < 100 && atomic_load(&dispatched[K_COMMAND]) < sent - AHEAD; spin++) sleep_ms(1);
  }
  return NULL;
}

/* Replaces every callback ROUNDS times, freeing each old state right after its setter returned. */
static void *replacer(void *arg) {
  (void)arg;
  for (int i = 0; i < ROUNDS; i++) {
    /* Let some callbacks run between two rounds, so that replacements meet running calls. */
    long seen = total_dispatched();
    for (int spin = 0; spin < 2000 && total_dispatched() == seen; spin++) sleep_ms(1);
    for (int k = 0; k < K_COUNT; k++) {
      bool clear = k != K_COMMAND && i % 5 == 4;
      state_t *fresh = clear ? NULL : state_new(k);
      check(install(k, fresh), "setter");
      state_free(current[k]); /* the old callback is not running and will not run */
      current[k] = fresh;
    }
  }
  atomic_store(&replacing_done, true);
  return NULL;
}

static void *poller(void *arg) {
  (void)arg;
  while (!atomic_load(&poller_stop)) check(iotkit_device_poll(dev, 10), "poll");
  return NULL;
}

/* One phase: the background loop (@p loop) or a polling thread drives the device. */
static void phase(bool loop) {
  /* Nothing drives the device between phases: the previous phase's states go at once. */
  for (int k = 0; k < K_COUNT; k++) {
    state_t *old = current[k];
    current[k] = state_new(k);
    check(install(k, current[k]), "install");
    state_free(old);
  }
  atomic_store(&replacing_done, false);
  atomic_store(&poller_stop, false);
  pthread_t drive_th = 0, th[2];
  if (loop)
    check(iotkit_device_start(dev), "start");
  else if (pthread_create(&drive_th, NULL, poller, NULL) != 0)
    exit(2);
  if (pthread_create(&th[0], NULL, driver, NULL) != 0 || pthread_create(&th[1], NULL, replacer, NULL) != 0) exit(2);
  pthread_join(th[0], NULL);
  pthread_join(th[1], NULL);
  if (loop) {
    check(iotkit_device_stop(dev), "stop");
  } else {
    atomic_store(&poller_stop, true);
    pthread_join(drive_th, NULL);
  }
  /* The last states stay installed until the device is freed or the next phase replaces them. */
}

int main(void) {
  iotkit_hal_t *hal = NULL;
  if (iotkit_hal_memory_new(NULL, &hal) != IOTKIT_OK) return 2;
  iotkit_device_config_t cfg;
  iotkit_device_config_init(&cfg);
  cfg.device_id = "callbacks";
  cfg.uri = "loop://local";
  cfg.hal = hal;
  if (iotkit_device_new(&cfg, &dev) != IOTKIT_OK) return 2;
  check(iotkit_device_connect(dev), "connect");
  check(iotkit_device_subscribe(dev, "app/#", 1), "subscribe");

  long before[K_COUNT] = {0};
  bool quiet = false;
  for (int p = 0; p < 2; p++) {
    phase(p == 0);
    for (int k = 0; k < K_COUNT; k++) {
      long n = atomic_load(&dispatched[k]);
      if (n == before[k]) quiet = true;
      before[k] = n;
    }
  }
  check(iotkit_device_free(dev), "free");
  for (int k = 0; k < K_COUNT; k++) state_free(current[k]);
  iotkit_hal_free(hal);

  int f = atomic_load(&failures);
  printf("callbacks: %d rounds x 2 phases; %ld commands, %ld messages, %ld deliveries dispatched; %d failures\n",
         ROUNDS, atomic_load(&dispatched[K_COMMAND]), atomic_load(&dispatched[K_MESSAGE]),
         atomic_load(&dispatched[K_DELIVERY]), f);
  if (quiet) fprintf(stderr, "callbacks: some callback was never called in a phase: nothing was tested\n");
  return f == 0 && !quiet ? 0 : 1;
}
