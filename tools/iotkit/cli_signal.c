/* SIGINT and SIGTERM ask a running command to stop cleanly. */
#include <signal.h>
#include <string.h>

#include "cli.h"

static volatile sig_atomic_t stop_flag;

static void on_stop_signal(int sig) {
  (void)sig;
  stop_flag = 1;
}

void cli_catch_stop_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  /* No SA_RESTART: a blocking wait in the transport returns early, so the
     command notices the flag at once. */
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

bool cli_stop_requested(void) { return stop_flag != 0; }
