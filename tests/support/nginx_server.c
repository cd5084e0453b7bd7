/* A real nginx for HTTP integration tests (see nginx_server.h). */
#include "nginx_server.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hal_tmpdir.h"
#include "net_util.h"

#define NGINX_BIN "/usr/sbin/nginx"
#define MAX_EXTRA 4096
#define LOG_LINE 4096

struct nginx_server {
  char dir[128];
  char url[64];
  uint16_t port;
  pid_t pid;
  char *cert;
  char *key;
  char extra[MAX_EXTRA];
};

static void set_port(nginx_server_t *srv, uint16_t port) {
  srv->port = port;
  snprintf(srv->url, sizeof srv->url, "%s://127.0.0.1:%u", srv->cert ? "https" : "http", port);
}

static void path_of(const nginx_server_t *srv, const char *name, char *buf, size_t cap) {
  snprintf(buf, cap, "%s/%s", srv->dir, name);
}

nginx_server_t *nginx_server_new(void) {
  nginx_server_t *srv = calloc(1, sizeof *srv);
  if (!srv) return NULL;
  const char *base = getenv("TMPDIR");
  snprintf(srv->dir, sizeof srv->dir, "%s/iotkit-nginx-XXXXXX", base && *base ? base : "/tmp");
  if (!mkdtemp(srv->dir)) {
    fprintf(stderr, "nginx_server: mkdtemp: %s\n", strerror(errno));
    free(srv);
    return NULL;
  }
  char files[192];
  path_of(srv, "files", files, sizeof files);
  if (mkdir(files, 0700) != 0) {
    fprintf(stderr, "nginx_server: mkdir %s: %s\n", files, strerror(errno));
    nginx_server_free(srv);
    return NULL;
  }
  set_port(srv, test_free_port());
  return srv;
}

bool nginx_server_add_config(nginx_server_t *srv, const char *text) {
  if (!srv || !text || strlen(srv->extra) + strlen(text) + 2 > sizeof srv->extra) return false;
  strcat(srv->extra, text);
  strcat(srv->extra, "\n");
  return true;
}

bool nginx_server_put(nginx_server_t *srv, const char *name, const void *data, size_t len) {
  if (!srv || !name || !*name || strchr(name, '/') || (!data && len)) return false;
  char path[256];
  snprintf(path, sizeof path, "%s/files/%s", srv->dir, name);
  FILE *f = fopen(path, "wb");
  if (!f) return false;
  bool ok = fwrite(data, 1, len, f) == len;
  return fclose(f) == 0 && ok;
}

bool nginx_server_set_tls(nginx_server_t *srv, const char *cert_file, const char *key_file) {
  if (!srv || !cert_file || !key_file) return false;
  free(srv->cert);
  free(srv->key);
  srv->cert = strdup(cert_file);
  srv->key = strdup(key_file);
  set_port(srv, srv->port);
  return srv->cert && srv->key;
}

static bool write_config(nginx_server_t *srv, const char *path) {
  FILE *f = fopen(path, "w");
  if (!f) return false;
  const char *d = srv->dir;
  fprintf(f, "daemon off;\nmaster_process off;\nworker_processes 1;\npid %s/nginx.pid;\n", d);
  fprintf(f, "error_log %s/error.log info;\nevents { worker_connections 256; }\nhttp {\n", d);
  fprintf(f, "  client_body_temp_path %s/body;\n  proxy_temp_path %s/proxy;\n", d, d);
  fprintf(f, "  fastcgi_temp_path %s/fcgi;\n  uwsgi_temp_path %s/uwsgi;\n  scgi_temp_path %s/scgi;\n", d, d, d);
  /* The field order is the one nginx_server_requests() parses. */
  fprintf(f, "  log_format iotkit \"$request_method\\t$uri\\t$args\\t$server_protocol\\t$connection\\t"
             "$connection_requests\\t$status\\t$content_type\\t$http_authorization\\t$request_body_file\\t"
             "$request\\t$http_range\\t$body_bytes_sent\";\n");
  fprintf(f, "  access_log %s/access.log iotkit;\n  keepalive_requests 10000;\n  keepalive_timeout 60s;\n", d);
  fprintf(f, "  server {\n    listen unix:%s/upstream.sock;\n    access_log off;\n", d);
  fprintf(f, "    location / { return 200 \"ok\\n\"; }\n  }\n");
  fprintf(f, "  server {\n    listen 127.0.0.1:%u%s;\n", srv->port, srv->cert ? " ssl http2" : "");
  if (srv->cert) fprintf(f, "    ssl_certificate %s;\n    ssl_certificate_key %s;\n", srv->cert, srv->key);
  fprintf(f, "    client_body_in_file_only on;\n    client_max_body_size 16m;\n%s", srv->extra);
  fprintf(f, "    location %s { root %s; default_type application/octet-stream; }\n", NGINX_SERVER_FILES, d);
  fprintf(f, "    location / { proxy_pass http://unix:%s/upstream.sock; }\n  }\n}\n", d);
  return fclose(f) == 0;
}

static bool start_once(nginx_server_t *srv) {
  char conf[192], log[192];
  path_of(srv, "nginx.conf", conf, sizeof conf);
  path_of(srv, "stderr.log", log, sizeof log);
  if (!write_config(srv, conf)) return false;
  char *argv[] = {NGINX_BIN, "-e", log, "-p", srv->dir, "-c", conf, NULL};
  srv->pid = test_spawn(argv, log);
  if (srv->pid < 0) return false;
  for (int i = 0; i < 1000; i++) {
    if (test_exited(srv->pid)) {
      srv->pid = 0;
      return false;
    }
    /* our own process still runs and the port answers: it is ours */
    if (test_accepts_tcp(srv->port)) return true;
    test_msleep(10);
  }
  nginx_server_stop(srv);
  return false;
}

bool nginx_server_start(nginx_server_t *srv) {
  if (!srv || srv->pid > 0) return false;
  /* The port may be taken between picking and binding: try fresh ones. */
  for (int attempt = 0; attempt < 20; attempt++) {
    if (start_once(srv)) return true;
    set_port(srv, test_free_port());
  }
  fprintf(stderr, "nginx_server: nginx did not start (see %s/stderr.log)\n", srv->dir);
  return false;
}

void nginx_server_stop(nginx_server_t *srv) {
  if (!srv || srv->pid <= 0) return;
  test_kill_wait(srv->pid, SIGTERM);
  srv->pid = 0;
}

uint16_t nginx_server_port(const nginx_server_t *srv) { return srv ? srv->port : 0; }

const char *nginx_server_url(const nginx_server_t *srv) { return srv ? srv->url : ""; }

const char *nginx_server_dir(const nginx_server_t *srv) { return srv ? srv->dir : ""; }

/* Copy tab-separated field @p i of @p line into @p out. */
static void field(const char *line, int i, char *out, size_t cap) {
  const char *p = line;
  while (i-- > 0 && p) {
    p = strchr(p, '\t');
    if (p) p++;
  }
  size_t n = p ? strcspn(p, "\t\n") : 0;
  if (n >= cap) n = cap - 1;
  memcpy(out, p ? p : "", n);
  out[n] = '\0';
}

static void parse(const char *line, nginx_request_t *r) {
  char num[32];
  field(line, 0, r->method, sizeof r->method);
  field(line, 1, r->uri, sizeof r->uri);
  field(line, 2, r->args, sizeof r->args);
  field(line, 3, r->protocol, sizeof r->protocol);
  field(line, 4, num, sizeof num);
  r->connection = strtoul(num, NULL, 10);
  field(line, 5, num, sizeof num);
  r->connection_requests = strtoul(num, NULL, 10);
  field(line, 6, num, sizeof num);
  r->status = atoi(num);
  field(line, 7, r->content_type, sizeof r->content_type);
  field(line, 8, r->authorization, sizeof r->authorization);
  field(line, 9, r->body_file, sizeof r->body_file);
  field(line, 10, r->request, sizeof r->request);
  field(line, 11, r->range, sizeof r->range);
  field(line, 12, num, sizeof num);
  r->bytes = strtoull(num, NULL, 10);
}

size_t nginx_server_requests(nginx_server_t *srv, nginx_request_t *out, size_t max) {
  if (!srv) return 0;
  char path[192], line[LOG_LINE];
  path_of(srv, "access.log", path, sizeof path);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  size_t n = 0;
  while (fgets(line, sizeof line, f)) {
    if (n < max && out) parse(line, &out[n]);
    n++;
  }
  fclose(f);
  return n;
}

bool nginx_server_wait_requests(nginx_server_t *srv, size_t n) {
  for (int i = 0; i < 1000; i++) {
    if (nginx_server_requests(srv, NULL, 0) >= n) return true;
    test_msleep(10);
  }
  return false;
}

long nginx_request_body(const nginx_request_t *req, void *buf, size_t cap) {
  FILE *f = fopen(req->body_file, "rb");
  if (!f) return -1;
  size_t got = fread(buf, 1, cap, f);
  fclose(f);
  return (long)got;
}

void nginx_server_free(nginx_server_t *srv) {
  if (!srv) return;
  nginx_server_stop(srv);
  if (!getenv("IOTKIT_TEST_KEEP")) hal_tmpdir_remove(srv->dir);
  free(srv->cert);
  free(srv->key);
  free(srv);
}
