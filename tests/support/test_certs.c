/* Test certificates made with the openssl command-line tool (see test_certs.h). */
#include "test_certs.h"

#include <stdio.h>

#include "net_util.h"

#define OPENSSL_BIN "/usr/bin/openssl"

const char *test_certs_path(char *buf, size_t cap, const char *dir, const char *name) {
  snprintf(buf, cap, "%s/%s", dir, name);
  return buf;
}

/* A P-256 key and a CSR for @p name with subjectAltName @p san, signed by the CA. */
static bool make_leaf(const char *dir, const char *name, const char *cn, const char *san) {
  char key[256], csr[256], pem[256], ca[256], cakey[256], subj[128], ext[192];
  snprintf(key, sizeof key, "%s/%s.key", dir, name);
  snprintf(csr, sizeof csr, "%s/%s.csr", dir, name);
  snprintf(pem, sizeof pem, "%s/%s.pem", dir, name);
  test_certs_path(ca, sizeof ca, dir, "ca.pem");
  test_certs_path(cakey, sizeof cakey, dir, "ca.key");
  snprintf(subj, sizeof subj, "/CN=%s", cn);
  snprintf(ext, sizeof ext, "subjectAltName=%s", san);
  char *req[] = {OPENSSL_BIN, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                 "-keyout", key, "-out", csr, "-subj", subj, "-addext", ext, NULL};
  char *sign[] = {OPENSSL_BIN, "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", cakey, "-CAcreateserial",
                  "-days", "2", "-copy_extensions", "copyall", "-out", pem, NULL};
  return test_run(req) && test_run(sign);
}

bool test_certs_make(const char *dir) {
  char ca[256], cakey[256];
  test_certs_path(ca, sizeof ca, dir, "ca.pem");
  test_certs_path(cakey, sizeof cakey, dir, "ca.key");
  char *mkca[] = {OPENSSL_BIN, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                  "-keyout", cakey, "-out", ca, "-days", "2", "-subj", "/CN=iotkit test CA", "-addext",
                  "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", NULL};
  bool ok = test_run(mkca) && make_leaf(dir, "server", "127.0.0.1", "IP:127.0.0.1,DNS:localhost") &&
            make_leaf(dir, "wrong", "wrong.example", "DNS:wrong.example") &&
            make_leaf(dir, "client", "dev-1", "DNS:dev-1");
  if (!ok) fprintf(stderr, "test_certs: openssl failed making certificates in %s\n", dir);
  return ok;
}
