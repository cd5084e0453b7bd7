/* The one module of network and process helpers for tests and test servers
   (127.0.0.1 only): free TCP/UDP port, TCP probe, sleep and clock, spawn / kill / reap
   a server, run a tool to its end with its output in a log. */
#ifndef IOTKIT_TEST_NET_UTIL_H
#define IOTKIT_TEST_NET_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* A TCP port on 127.0.0.1 the kernel just gave out, or 0. Another process may
   take it before a server binds it: servers retry with a new one. */
uint16_t test_free_port(void);

/* The same for a UDP port. */
uint16_t test_free_udp_port(void);

/* True if a socket of @p type (SOCK_STREAM, SOCK_DGRAM) can bind 127.0.0.1:@p port now. */
bool test_port_bindable(int type, uint16_t port);

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

/* Exit status of @p pid, waiting up to @p ms (then it is killed and reaped: -1;
   -1 as well if it did not exit normally). */
int test_wait_exit(pid_t pid, int ms);

/* Run @p argv[0] (an absolute path) with @p argv to its end, its stdout and
   stderr appended to @p log_path (or /dev/null for NULL); true if it exited with 0. */
bool test_proc_run(const char *log_path, char *const argv[]);

#endif
