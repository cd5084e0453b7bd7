/* Network and process helpers for tests and test servers (see net_util.h). */
#include "net_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <sys/prctl.h>
#include <unistd.h>

/* A port of @p type the kernel gives out on 127.0.0.1, or 0. */
static uint16_t free_port(int type) {
  int fd = socket(AF_INET, type, 0);
  if (fd < 0) return 0;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  uint16_t port = 0;
  if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0) {
    port = ntohs(a.sin_port);
  }
  close(fd);
  return port;
}

uint16_t test_free_port(void) { return free_port(SOCK_STREAM); }

uint16_t test_free_udp_port(void) { return free_port(SOCK_DGRAM); }

bool test_port_bindable(int type, uint16_t port) {
  int fd = socket(AF_INET, type, 0);
  if (fd < 0) return false;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  bool ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
  close(fd);
  return ok;
}

bool test_accepts_tcp(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
  close(fd);
  return ok;
}

void test_msleep(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

uint64_t test_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

pid_t test_spawn(char *const argv[], const char *log_path) {
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    /* A test that times out or skips is killed without its teardown: make the
       servers it started die with it instead of outliving the run. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    int fd = open(log_path ? log_path : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
    }
    execv(argv[0], argv);
    _exit(127);
  }
  return pid;
}

/* Wait for @p pid to end; false if it is not our child (or was reaped already). */
static bool reap(pid_t pid, int *status) {
  while (waitpid(pid, status, 0) < 0) {
    if (errno != EINTR) return false;
  }
  return true;
}

void test_kill_wait(pid_t pid, int sig) {
  if (pid <= 0) return;
  int status;
  kill(pid, sig);
  reap(pid, &status);
}

bool test_exited(pid_t pid) {
  int status;
  return pid <= 0 || waitpid(pid, &status, WNOHANG) == pid;
}

int test_wait_exit(pid_t pid, int ms) {
  uint64_t end = test_now_ms() + (uint64_t)ms;
  int st = 0;
  while (test_now_ms() < end) {
    if (waitpid(pid, &st, WNOHANG) == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    test_msleep(50);
  }
  test_kill_wait(pid, SIGKILL);
  return -1;
}

bool test_proc_run(const char *log_path, char *const argv[]) {
  pid_t pid = test_spawn(argv, log_path);
  int status = 0;
  if (pid < 0 || !reap(pid, &status)) return false;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}
