/* Thread hammer for the device model, run under Helgrind (ctest threads/helgrind):
   while the background loop runs, other threads send telemetry, reports and events,
   complete commands handed out by the loop, and read the device's state. Any data
   race or lock-order problem Helgrind sees fails the run; so does a failed call. */
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <iotkit/iotkit.h>

#define ROUNDS 150

static iotkit_device_t *dev;
static atomic_int failures;

/* Commands handed from the loop thread to the completing thread. */
static pthread_mutex_t q_mu = PTHREAD_MUTEX_INITIALIZER;
static iotkit_command_t *queue[ROUNDS * 2];
static int q_head, q_tail;
static atomic_int handled, completed, requests_done;

static void check(iotkit_err_t err, const char *what) {
  /* Sends may meet a moment without a session; nothing else may fail. */
  if (err != IOTKIT_OK && err != IOTKIT_ERR_NOT_CONNECTED) {
    fprintf(stderr, "hammer: %s: %s\n", what, iotkit_err_name(err));
    atomic_fetch_add(&failures, 1);
  }
}

static void on_work(iotkit_device_t *d, void *user, const char *id, const char *name, const char *params,
                    iotkit_command_t *cmd) {
  (void)d, (void)user, (void)id, (void)name, (void)params;
  pthread_mutex_lock(&q_mu);
  queue[q_tail++ % (ROUNDS * 2)] = cmd;
  pthread_mutex_unlock(&q_mu);
  atomic_fetch_add(&handled, 1);
}

static void on_delivery(iotkit_device_t *d, void *user, uint32_t id, iotkit_err_t status) {
  (void)d, (void)user, (void)id, (void)status;
}

static void *telemetry(void *arg) {
  (void)arg;
  for (int i = 0; i < ROUNDS; i++) check(iotkit_device_send_telemetry(dev, "{\"t\":1}", 7, NULL), "telemetry");
  return NULL;
}

static void *reports(void *arg) {
  (void)arg;
  char json[64];
  for (int i = 0; i < ROUNDS; i++) {
    snprintf(json, sizeof(json), "{\"n\":%d,\"tmp\":%s}", i, i % 2 ? "null" : "1");
    check(iotkit_device_report(dev, json), "report");
  }
  return NULL;
}

static void *events(void *arg) {
  (void)arg;
  for (int i = 0; i < ROUNDS; i++) check(iotkit_device_event(dev, "tick", "{\"i\":1}", NULL), "event");
  return NULL;
}

static void *requests(void *arg) {
  (void)arg;
  char json[64];
  /* The loopback echoes what the device publishes on a channel it subscribed to. */
  for (int i = 0; i < ROUNDS; i++) {
    snprintf(json, sizeof(json), "{\"id\":\"%d\",\"name\":\"work\"}", i);
    /* The completer may lag: keep the commands awaiting completion well under the device's
       limit, or the request would be answered "busy" and never handled. */
    for (int spin = 0; spin < 20000 && atomic_load(&handled) - atomic_load(&completed) >= (int)IOTKIT_MAX_PENDING_COMMANDS / 2;
         spin++)
      nanosleep(&(struct timespec){0, 1000000}, NULL);
    /* A request refused for a moment without a session was never sent: send it again. */
    iotkit_err_t err;
    for (int spin = 0; (err = iotkit_device_publish(dev, "commands/request", json, strlen(json), 1, false, NULL)) ==
                           IOTKIT_ERR_NOT_CONNECTED && spin < 20000; spin++)
      nanosleep(&(struct timespec){0, 1000000}, NULL);
    check(err, "request");
    /* One at a time, so that the device never has too many awaiting completion. */
    for (int spin = 0; spin < 20000 && atomic_load(&handled) <= i; spin++) nanosleep(&(struct timespec){0, 1000000}, NULL);
    if (atomic_load(&handled) <= i) {
      char why[IOTKIT_ERROR_TEXT_SIZE];
      fprintf(stderr, "hammer: request %d was not handled (publish: %s; connected: %d; last error: %s)\n", i,
              iotkit_err_name(err), (int)iotkit_device_is_connected(dev), iotkit_device_last_error(dev, why, sizeof why));
      atomic_fetch_add(&failures, 1);
      break;
    }
  }
  atomic_store(&requests_done, 1);
  return NULL;
}

static void *completer(void *arg) {
  (void)arg;
  while (atomic_load(&completed) < ROUNDS) {
    iotkit_command_t *cmd = NULL;
    pthread_mutex_lock(&q_mu);
    if (q_head < q_tail) cmd = queue[q_head++ % (ROUNDS * 2)];
    pthread_mutex_unlock(&q_mu);
    if (!cmd) {
      if (atomic_load(&requests_done)) {
        pthread_mutex_lock(&q_mu);
        bool empty = q_head >= q_tail;
        pthread_mutex_unlock(&q_mu);
        if (empty) break;
      }
      nanosleep(&(struct timespec){0, 100000}, NULL);
      continue;
    }
    iotkit_err_t err = iotkit_command_complete(cmd, "{\"done\":true}");
    if (err != IOTKIT_ERR_TIMEOUT) check(err, "complete");
    atomic_fetch_add(&completed, 1);
  }
  return NULL;
}

static void *readers(void *arg) {
  (void)arg;
  char buf[IOTKIT_ERROR_TEXT_SIZE];
  for (int i = 0; i < ROUNDS; i++) {
    (void)iotkit_device_is_connected(dev);
    (void)iotkit_device_last_error(dev, buf, sizeof(buf));
    char *doc = NULL;
    check(iotkit_device_reported(dev, &doc), "reported");
    iotkit_free(doc);
    check(iotkit_device_desired(dev, NULL, NULL), "desired");
    check(iotkit_device_on_delivery(dev, i % 2 ? on_delivery : NULL, NULL), "setter");
  }
  return NULL;
}

int main(void) {
  iotkit_hal_t *hal = NULL;
  if (iotkit_hal_memory_new(NULL, &hal) != IOTKIT_OK) return 2;
  iotkit_device_config_t cfg;
  iotkit_device_config_init(&cfg);
  cfg.device_id = "hammer";
  cfg.uri = "loop://local";
  cfg.hal = hal;
  if (iotkit_device_new(&cfg, &dev) != IOTKIT_OK) return 2;
  check(iotkit_device_command_register(dev, "work", on_work, NULL), "register");
  check(iotkit_device_connect(dev), "connect");
  check(iotkit_device_start(dev), "start");

  void *(*fns[])(void *) = {telemetry, reports, events, requests, completer, readers};
  pthread_t th[sizeof(fns) / sizeof(fns[0])];
  for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) pthread_create(&th[i], NULL, fns[i], NULL);
  for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) pthread_join(th[i], NULL);

  check(iotkit_device_stop(dev), "stop");
  iotkit_device_free(dev);
  iotkit_hal_free(hal);
  int f = atomic_load(&failures);
  printf("hammer: %d commands handled, %d completed, %d failures\n", atomic_load(&handled), atomic_load(&completed), f);
  return f == 0 && atomic_load(&handled) == ROUNDS ? 0 : 1;
}
