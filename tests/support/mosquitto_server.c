/* A real mosquitto broker for integration tests (see mosquitto_server.h). */
#include "mosquitto_server.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MOSQ_BIN "/usr/sbin/mosquitto"
#define MOSQ_PASSWD_BIN "/usr/bin/mosquitto_passwd"
#define MAX_EXTRA 32

struct mosq_server {
  char dir[64];
  char uri[64];
  uint16_t port;
  pid_t pid;
  bool persistence;
  bool has_users;
  bool started_once;
  bool tls;
  char path[192];
  char *extra[MAX_EXTRA];
  int nextra;
};

static void msleep(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* A port the kernel just gave us; another process might take it before the
   broker binds it, so start() retries with a new one if the broker fails. */
static uint16_t pick_free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
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

static bool accepts_tcp(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
  close(fd);
  return ok;
}

static void set_port(mosq_server_t *srv, uint16_t port) {
  srv->port = port;
  snprintf(srv->uri, sizeof srv->uri, "%s://127.0.0.1:%u", srv->tls ? "mqtts" : "mqtt", port);
}

mosq_server_t *mosq_server_new(void) {
  mosq_server_t *srv = calloc(1, sizeof *srv);
  if (!srv) return NULL;
  snprintf(srv->dir, sizeof srv->dir, "/tmp/iotkit-mosq-XXXXXX");
  if (!mkdtemp(srv->dir)) {
    fprintf(stderr, "mosq_server: mkdtemp: %s\n", strerror(errno));
    free(srv);
    return NULL;
  }
  set_port(srv, pick_free_port());
  return srv;
}

bool mosq_server_set_persistence(mosq_server_t *srv, bool on) {
  if (!srv) return false;
  srv->persistence = on;
  return true;
}

bool mosq_server_add_config(mosq_server_t *srv, const char *line) {
  if (!srv || !line || srv->nextra == MAX_EXTRA) return false;
  srv->extra[srv->nextra] = strdup(line);
  return srv->extra[srv->nextra++] != NULL;
}

/* Run a tool and wait for it; true if it exited with 0. Its output goes to
   tools.log in the directory. */
static bool run(const mosq_server_t *srv, char *const argv[]) {
  char log[128];
  snprintf(log, sizeof log, "%s/tools.log", srv->dir);
  pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
    }
    execv(argv[0], argv);
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool mosq_server_add_user(mosq_server_t *srv, const char *user, const char *password) {
  if (!srv || !user || !password) return false;
  char file[128];
  snprintf(file, sizeof file, "%s/passwd", srv->dir);
  char *create[] = {MOSQ_PASSWD_BIN, "-c", "-b", file, (char *)user, (char *)password, NULL};
  char *append[] = {MOSQ_PASSWD_BIN, "-b", file, (char *)user, (char *)password, NULL};
  if (!run(srv, srv->has_users ? append : create)) {
    fprintf(stderr, "mosq_server: mosquitto_passwd failed for user %s\n", user);
    return false;
  }
  srv->has_users = true;
  return true;
}

const char *mosq_server_file(mosq_server_t *srv, const char *name) {
  if (!srv || !name) return "";
  snprintf(srv->path, sizeof srv->path, "%s/%s", srv->dir, name);
  return srv->path;
}

/* A self-signed CA certificate "<name>.crt" with key "<name>.key". */
static bool make_ca(mosq_server_t *srv, const char *name, const char *cn) {
  char crt[192], key[192], subj[64];
  snprintf(crt, sizeof crt, "%s/%s.crt", srv->dir, name);
  snprintf(key, sizeof key, "%s/%s.key", srv->dir, name);
  snprintf(subj, sizeof subj, "/CN=%s", cn);
  char *argv[] = {"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                  "-nodes", "-keyout", key, "-out", crt, "-subj", subj, "-days", "2", "-batch", NULL};
  return run(srv, argv);
}

bool mosq_server_enable_tls(mosq_server_t *srv) {
  if (!srv || !make_ca(srv, "ca", "iotkit test CA") || !make_ca(srv, "other-ca", "unrelated CA")) return false;
  char key[192], csr[192], crt[192], ext[192], ca[192], cakey[192], serial[192];
  snprintf(key, sizeof key, "%s/server.key", srv->dir);
  snprintf(csr, sizeof csr, "%s/server.csr", srv->dir);
  snprintf(crt, sizeof crt, "%s/server.crt", srv->dir);
  snprintf(ext, sizeof ext, "%s/server.ext", srv->dir);
  snprintf(ca, sizeof ca, "%s/ca.crt", srv->dir);
  snprintf(cakey, sizeof cakey, "%s/ca.key", srv->dir);
  snprintf(serial, sizeof serial, "%s/ca.srl", srv->dir);
  FILE *f = fopen(ext, "w");
  if (!f) return false;
  fprintf(f, "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n");
  fclose(f);
  char *req[] = {"/usr/bin/openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1", "-batch", NULL};
  char *sign[] = {"/usr/bin/openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", cakey, "-CAserial", serial,
                  "-CAcreateserial", "-out", crt, "-days", "2", "-extfile", ext, NULL};
  if (!run(srv, req) || !run(srv, sign)) {
    fprintf(stderr, "mosq_server: could not make the test certificates (see %s/tools.log)\n", srv->dir);
    return false;
  }
  char line[256];
  snprintf(line, sizeof line, "cafile %s", ca);
  bool ok = mosq_server_add_config(srv, line);
  snprintf(line, sizeof line, "certfile %s", crt);
  ok = ok && mosq_server_add_config(srv, line);
  snprintf(line, sizeof line, "keyfile %s", key);
  ok = ok && mosq_server_add_config(srv, line);
  srv->tls = true;
  set_port(srv, srv->port);
  return ok;
}

static bool write_config(mosq_server_t *srv, const char *path) {
  FILE *f = fopen(path, "w");
  if (!f) return false;
  fprintf(f, "listener %u 127.0.0.1\n", srv->port);
  fprintf(f, "allow_anonymous %s\n", srv->has_users ? "false" : "true");
  if (srv->has_users) fprintf(f, "password_file %s/passwd\n", srv->dir);
  if (srv->persistence) fprintf(f, "persistence true\npersistence_location %s/\n", srv->dir);
  fprintf(f, "log_dest stderr\nlog_type all\n");
  /* As root, mosquitto would switch to the "mosquitto" user, who cannot read our directory. */
  if (geteuid() == 0) fprintf(f, "user root\n");
  for (int i = 0; i < srv->nextra; i++) fprintf(f, "%s\n", srv->extra[i]);
  return fclose(f) == 0;
}

static pid_t spawn(mosq_server_t *srv, const char *conf) {
  char log[128];
  snprintf(log, sizeof log, "%s/mosquitto.log", srv->dir);
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
    }
    execl(MOSQ_BIN, "mosquitto", "-c", conf, (char *)NULL);
    _exit(127);
  }
  return pid;
}

/* How many times the log says the broker is up ("mosquitto version X running"). */
static int count_running(const mosq_server_t *srv) {
  char path[128], line[512];
  snprintf(path, sizeof path, "%s/mosquitto.log", srv->dir);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  int n = 0;
  while (fgets(line, sizeof line, f)) n += strstr(line, " running") != NULL;
  fclose(f);
  return n;
}

/* One attempt: true once it is up and accepts, false if it exited or did not
   come up. The log line proves that what accepts is our broker, not another
   process that took the port. */
static bool start_once(mosq_server_t *srv) {
  char conf[128];
  snprintf(conf, sizeof conf, "%s/mosquitto.conf", srv->dir);
  if (!write_config(srv, conf)) return false;
  int before = count_running(srv);
  srv->pid = spawn(srv, conf);
  if (srv->pid < 0) return false;
  for (int i = 0; i < 1000; i++) {
    int status;
    if (waitpid(srv->pid, &status, WNOHANG) == srv->pid) {
      srv->pid = 0;
      return false;
    }
    if (count_running(srv) > before && accepts_tcp(srv->port)) return true;
    msleep(10);
  }
  mosq_server_kill(srv);
  return false;
}

bool mosq_server_start(mosq_server_t *srv) {
  if (!srv || srv->pid > 0) return false;
  /* A first start may lose its port to another process: try fresh ports.
     A restart must keep its port, so it only waits for it to come free. */
  for (int attempt = 0; attempt < 20; attempt++) {
    if (start_once(srv)) {
      srv->started_once = true;
      return true;
    }
    if (srv->started_once) {
      msleep(100);
    } else {
      set_port(srv, pick_free_port());
    }
  }
  fprintf(stderr, "mosq_server: mosquitto did not start on port %u (see %s/mosquitto.log)\n", srv->port,
          srv->dir);
  return false;
}

static bool signal_and_wait(mosq_server_t *srv, int sig) {
  if (!srv || srv->pid <= 0) return false;
  kill(srv->pid, sig);
  kill(srv->pid, SIGCONT); /* a paused broker must run to act on the signal */
  int status;
  while (waitpid(srv->pid, &status, 0) < 0 && errno == EINTR) {
  }
  srv->pid = 0;
  return true;
}

bool mosq_server_stop(mosq_server_t *srv) { return signal_and_wait(srv, SIGTERM); }

bool mosq_server_kill(mosq_server_t *srv) { return signal_and_wait(srv, SIGKILL); }

bool mosq_server_pause(mosq_server_t *srv, bool paused) {
  if (!srv || srv->pid <= 0) return false;
  return kill(srv->pid, paused ? SIGSTOP : SIGCONT) == 0;
}

bool mosq_server_restart(mosq_server_t *srv) {
  if (!srv) return false;
  if (srv->pid > 0) mosq_server_stop(srv);
  return mosq_server_start(srv);
}

bool mosq_server_running(mosq_server_t *srv) {
  if (!srv || srv->pid <= 0) return false;
  int status;
  if (waitpid(srv->pid, &status, WNOHANG) == srv->pid) {
    srv->pid = 0;
    return false;
  }
  return true;
}

uint16_t mosq_server_port(const mosq_server_t *srv) { return srv ? srv->port : 0; }

const char *mosq_server_uri(const mosq_server_t *srv) { return srv ? srv->uri : ""; }

const char *mosq_server_dir(const mosq_server_t *srv) { return srv ? srv->dir : ""; }

static void remove_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  char path[512];
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    unlink(path);
  }
  closedir(d);
  rmdir(dir);
}

void mosq_server_free(mosq_server_t *srv) {
  if (!srv) return;
  if (srv->pid > 0) mosq_server_stop(srv);
  if (!getenv("IOTKIT_TEST_KEEP")) remove_dir(srv->dir);
  for (int i = 0; i < srv->nextra; i++) free(srv->extra[i]);
  free(srv);
}
