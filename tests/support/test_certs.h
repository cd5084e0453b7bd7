/* Certificates for TLS tests, made with the openssl command-line tool (EC
 * P-256 keys, valid two days) in a directory the test owns. Files are named
 * DIR/NAME.crt and DIR/NAME.key; the tool's output goes to DIR/tools.log.
 *
 *   test_certs_make_ca(dir, "ca", "test CA");
 *   test_certs_make_cert(dir, "server", "ca", "127.0.0.1", "IP:127.0.0.1,DNS:localhost", TEST_CERT_SERVER);
 *   test_certs_make_cert(dir, "devA", "ca", "devA", NULL, TEST_CERT_CLIENT);
 */
#ifndef IOTKIT_TEST_CERTS_H
#define IOTKIT_TEST_CERTS_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { TEST_CERT_SERVER, TEST_CERT_CLIENT } test_cert_use_t;

/* A self-signed CA certificate NAME.crt with its key NAME.key, subject CN=@p cn. */
bool test_certs_make_ca(const char *dir, const char *name, const char *cn);

/* A leaf certificate NAME.crt (key NAME.key) for CN=@p cn signed by the CA
   @p ca (made by test_certs_make_ca in the same directory), with the
   subjectAltName @p san (openssl syntax, e.g. "IP:127.0.0.1,DNS:localhost";
   NULL for none) and the extended key usage of @p use. */
bool test_certs_make_cert(const char *dir, const char *name, const char *ca, const char *cn, const char *san,
                          test_cert_use_t use);

/* The usual set in @p dir, made with the calls above: a CA "ca", "server" for
   IP 127.0.0.1 and DNS localhost, "wrong" for DNS wrong.example only (a host-name
   mismatch when reached as 127.0.0.1), and a client certificate "client" (CN dev-1),
   each as NAME.crt + NAME.key. False (with a message on stderr) on failure. */
bool test_certs_make(const char *dir);

/* A CA directory for a CApath / ca_dir setting: the CA certificate @p ca_file
   copied into the existing directory @p dir as ca.pem, with the hash links
   of `openssl rehash`. */
bool test_certs_hash_dir(const char *dir, const char *ca_file);

/* "@p dir/@p name" into @p buf; returns @p buf. */
const char *test_certs_path(char *buf, size_t cap, const char *dir, const char *name);

#endif
