/* Crash safety of the POSIX key-value store: a writer killed at random moments
 * never leaves a torn value, and what it leaves behind is cleaned at open. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hal_contract.h"
#include "hal_tmpdir.h"
#include "iotkit/iotkit.h"

#define VALUE_SIZE (256u * 1024u)
#define ROUNDS 50
#define KEY "firmware-manifest"

static char g_dir[256];
static char g_state[300];
static unsigned char *g_pattern[2];

static void setup(void) {
  hal_tmpdir_make(g_dir, sizeof(g_dir));
  snprintf(g_state, sizeof(g_state), "%s/state", g_dir);
  for (int i = 0; i < 2; i++) {
    g_pattern[i] = malloc(VALUE_SIZE);
    hal_contract_pattern(g_pattern[i], VALUE_SIZE, 100u + (unsigned)i);
  }
}

static void teardown(void) {
  free(g_pattern[0]);
  free(g_pattern[1]);
  hal_tmpdir_remove(g_dir);
}

static iotkit_err_t open_hal(iotkit_hal_t **out) {
  iotkit_hal_posix_config_t cfg;
  iotkit_hal_posix_config_init(&cfg);
  cfg.state_dir = g_state;
  cfg.log_fd = -1;
  return iotkit_hal_posix_new(&cfg, out);
}

/* The child: write the two patterns in turn forever; say "ready" after the first. */
static void writer(int ready_fd) {
  iotkit_hal_t *hal = NULL;
  if (open_hal(&hal) != IOTKIT_OK) _exit(3);
  for (unsigned i = 0;; i++) {
    if (hal->kv_set(hal->ctx, KEY, g_pattern[(i + 1) % 2], VALUE_SIZE) != IOTKIT_OK) _exit(4);
    if (i == 0 && write(ready_fd, "r", 1) != 1) _exit(5);
  }
}

/* Which pattern the stored value is (0 or 1), or -1 if it is neither. */
static int stored_pattern(iotkit_hal_t *hal, unsigned char *buf) {
  size_t len = 0;
  cr_assert_eq(hal->kv_get(hal->ctx, KEY, buf, VALUE_SIZE, &len), IOTKIT_OK);
  if (len != VALUE_SIZE) return -1;
  for (int i = 0; i < 2; i++)
    if (memcmp(buf, g_pattern[i], VALUE_SIZE) == 0) return i;
  return -1;
}

Test(hal_posix_crash, sigkill_never_tears_a_value, .init = setup, .fini = teardown, .timeout = 240) {
  iotkit_hal_t *hal = NULL;
  cr_assert_eq(open_hal(&hal), IOTKIT_OK);
  cr_assert_eq(hal->kv_set(hal->ctx, KEY, g_pattern[0], VALUE_SIZE), IOTKIT_OK);
  iotkit_hal_free(hal);

  unsigned char *buf = malloc(VALUE_SIZE);
  unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
  char kv_dir[400];
  snprintf(kv_dir, sizeof(kv_dir), "%s/kv", g_state);
  int seen[2] = {0, 0}, left_temp = 0;
  for (int round = 0; round < ROUNDS; round++) {
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      writer(fds[1]);
    }
    close(fds[1]);
    char r;
    cr_assert_eq(read(fds[0], &r, 1), 1, "round %d: the writer died before its first write", round);
    close(fds[0]);
    struct timespec delay = {0, (long)(rand_r(&seed) % 20000) * 1000L}; /* 0..20 ms */
    nanosleep(&delay, NULL);
    cr_assert_eq(kill(pid, SIGKILL), 0);
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "round %d: the writer exited by itself (%d)",
              round, status);

    left_temp += hal_tmpdir_count(kv_dir, "~tmp.") > 0;
    cr_assert_eq(open_hal(&hal), IOTKIT_OK);
    int which = stored_pattern(hal, buf);
    cr_assert_neq(which, -1, "round %d: torn value", round);
    seen[which]++;
    cr_assert_eq(hal_tmpdir_count(kv_dir, "~tmp."), 0, "round %d: stale temporary files cleaned at open", round);
    cr_assert_eq(hal_tmpdir_count(kv_dir, ""), 1);
    iotkit_hal_free(hal);
  }
  free(buf);
  cr_log_info("patterns seen after kill: %d / %d; rounds that left a temporary file: %d", seen[0], seen[1],
              left_temp);
}
