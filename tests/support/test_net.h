/* Loopback helpers shared by the test servers (mosquitto, nginx). */
#ifndef IOTKIT_TEST_NET_H
#define IOTKIT_TEST_NET_H

#include <stdbool.h>
#include <stdint.h>

/* A port the kernel just gave us on 127.0.0.1 (0 on failure); another process
   might take it before the server binds it, so callers retry with a new one. */
uint16_t test_net_free_port(void);

/* True if something accepts TCP connections on 127.0.0.1:@port. */
bool test_net_accepts_tcp(uint16_t port);

#endif
