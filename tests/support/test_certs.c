/* Certificates for TLS tests (see test_certs.h). */
#include "test_certs.h"

#include <stdio.h>

#include "net_util.h"

#define OPENSSL_BIN "/usr/bin/openssl"
#define PATH_CAP 256

static bool openssl(const char *dir, char *const argv[]) {
  char log[PATH_CAP];
  snprintf(log, sizeof log, "%s/tools.log", dir);
  if (test_proc_run(log, argv)) return true;
  fprintf(stderr, "test_certs: openssl %s failed (see %s)\n", argv[1], log);
  return false;
}

bool test_certs_make_ca(const char *dir, const char *name, const char *cn) {
  char crt[PATH_CAP], key[PATH_CAP], subj[128];
  snprintf(crt, sizeof crt, "%s/%s.crt", dir, name);
  snprintf(key, sizeof key, "%s/%s.key", dir, name);
  snprintf(subj, sizeof subj, "/CN=%s", cn);
  char *argv[] = {OPENSSL_BIN, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                  "-nodes", "-keyout", key, "-out", crt, "-subj", subj, "-days", "2", "-batch", NULL};
  return openssl(dir, argv);
}

bool test_certs_make_cert(const char *dir, const char *name, const char *ca, const char *cn, const char *san,
                          test_cert_use_t use) {
  char key[PATH_CAP], csr[PATH_CAP], crt[PATH_CAP], ext[PATH_CAP], ca_crt[PATH_CAP], ca_key[PATH_CAP],
      serial[PATH_CAP], subj[128];
  snprintf(key, sizeof key, "%s/%s.key", dir, name);
  snprintf(csr, sizeof csr, "%s/%s.csr", dir, name);
  snprintf(crt, sizeof crt, "%s/%s.crt", dir, name);
  snprintf(ext, sizeof ext, "%s/%s.ext", dir, name);
  snprintf(ca_crt, sizeof ca_crt, "%s/%s.crt", dir, ca);
  snprintf(ca_key, sizeof ca_key, "%s/%s.key", dir, ca);
  snprintf(serial, sizeof serial, "%s/%s.srl", dir, ca);
  snprintf(subj, sizeof subj, "/CN=%s", cn);
  FILE *f = fopen(ext, "w");
  if (!f) return false;
  fprintf(f, "basicConstraints=CA:FALSE\nextendedKeyUsage=%s\n", use == TEST_CERT_SERVER ? "serverAuth" : "clientAuth");
  if (san) fprintf(f, "subjectAltName=%s\n", san);
  if (fclose(f) != 0) return false;
  char *req[] = {OPENSSL_BIN, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", key, "-out", csr, "-subj", subj, "-batch", NULL};
  char *sign[] = {OPENSSL_BIN, "x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAserial", serial,
                  "-CAcreateserial", "-out", crt, "-days", "2", "-extfile", ext, NULL};
  return openssl(dir, req) && openssl(dir, sign);
}

/* Copy the file @p from to @p to. */
static bool copy_file(const char *from, const char *to) {
  FILE *in = fopen(from, "rb");
  if (!in) return false;
  FILE *out = fopen(to, "wb");
  bool ok = out != NULL;
  char buf[4096];
  size_t n;
  while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0) ok = fwrite(buf, 1, n, out) == n;
  ok = ok && !ferror(in);
  fclose(in);
  return out && fclose(out) == 0 && ok;
}

bool test_certs_hash_dir(const char *dir, const char *ca_file) {
  char pem[PATH_CAP];
  snprintf(pem, sizeof pem, "%s/ca.pem", dir);
  char *argv[] = {OPENSSL_BIN, "rehash", (char *)dir, NULL};
  return copy_file(ca_file, pem) && openssl(dir, argv);
}

const char *test_certs_path(char *buf, size_t cap, const char *dir, const char *name) {
  snprintf(buf, cap, "%s/%s", dir, name);
  return buf;
}

bool test_certs_make(const char *dir) {
  bool ok = test_certs_make_ca(dir, "ca", "iotkit test CA") &&
            test_certs_make_cert(dir, "server", "ca", "127.0.0.1", "IP:127.0.0.1,DNS:localhost", TEST_CERT_SERVER) &&
            test_certs_make_cert(dir, "wrong", "ca", "wrong.example", "DNS:wrong.example", TEST_CERT_SERVER) &&
            test_certs_make_cert(dir, "client", "ca", "dev-1", "DNS:dev-1", TEST_CERT_CLIENT);
  if (!ok) fprintf(stderr, "test_certs: openssl failed making certificates in %s\n", dir);
  return ok;
}
