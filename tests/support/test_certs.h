/* Test certificates made with the openssl command-line tool, in a directory
 * the caller owns:
 *   ca.pem / ca.key           a private CA
 *   server.pem / server.key   signed by it, for IP 127.0.0.1 and DNS localhost
 *   wrong.pem / wrong.key     signed by it, for DNS wrong.example only (a host
 *                             name mismatch when reached as 127.0.0.1)
 *   client.pem / client.key   a client certificate signed by it (mutual TLS)
 */
#ifndef IOTKIT_TEST_CERTS_H
#define IOTKIT_TEST_CERTS_H

#include <stdbool.h>
#include <stddef.h>

/* Make every file above in @p dir; false (with a message on stderr) on failure. */
bool test_certs_make(const char *dir);

/* "@p dir/@p name" into @p buf. */
const char *test_certs_path(char *buf, size_t cap, const char *dir, const char *name);

#endif
