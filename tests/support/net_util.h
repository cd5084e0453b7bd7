/* Small network and process helpers shared by the test servers (127.0.0.1 only). */
#ifndef IOTKIT_TEST_NET_UTIL_H
#define IOTKIT_TEST_NET_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* A TCP port on 127.0.0.1 the kernel just gave out, or 0. Another process may
   take it before a server binds it: servers retry with a new one. */
uint16_t test_free_port(void);

/* True if something accepts TCP connections on 127.0.0.1:@p port. */
bool test_accepts_tcp(uint16_t port);

/* Sleep @p ms milliseconds. */
void test_msleep(int ms);

/* Monotonic milliseconds. */
uint64_t test_now_ms(void);

/* Start @p argv[0] (a path) with @p argv, stdout and stderr appended to
   @p log_path (or /dev/null for NULL). Returns the pid, or -1. */
pid_t test_spawn(char *const argv[], const char *log_path);

/* Send @p sig to @p pid and reap it. */
void test_kill_wait(pid_t pid, int sig);

/* True if @p pid has exited (and is reaped now). */
bool test_exited(pid_t pid);

/* Run @p argv[0] (a path) to its end, output to /dev/null; true if it exited with 0. */
bool test_run(char *const argv[]);

#endif
