/* iotkit help */
#include <stdio.h>

#include "cli.h"

static const char help_text[] =
    "usage: iotkit <command> [options]\n"
    "\n"
    "Commands:\n"
    "  help                     show this help\n"
    "  version                  print the version of iotkit and libiotkit\n"
    "  device simulate          run a simulated sensor that publishes telemetry\n"
    "  keygen                   make an Ed25519 or P-256 key pair (PEM)\n"
    "  jwt make | jwt verify    mint or check a device token (JWT)\n"
    "\n"
    "iotkit device simulate --uri URI --id ID [options]\n"
    "  Connects as device ID to URI (e.g. mqtt://127.0.0.1:1883) and publishes a\n"
    "  temperature/humidity reading (a smooth random walk) as JSON on\n"
    "  \"iotkit/v1/ID/telemetry\", e.g.\n"
    "    {\"seq\":1,\"ts\":1700000000000,\"temperature\":21.53,\"humidity\":40.2}\n"
    "  (ts is the wall clock in ms since the Unix epoch). One line is printed per\n"
    "  publish, then a summary. With --count N it waits until the N deliveries are\n"
    "  confirmed (at most 10 s) before disconnecting. SIGINT/SIGTERM stop it\n"
    "  cleanly: it stops publishing, waits for what is outstanding, disconnects.\n"
    "  --uri URI          endpoint (mqtt://host:port, loop://...) (required)\n"
    "  --id ID            device id, 1..128 of [A-Za-z0-9._-] (required)\n"
    "  --count N          publish N readings, then stop (default 0: until stopped)\n"
    "  --interval-ms MS   time between readings (default 1000)\n"
    "  --qos Q            telemetry QoS 0, 1 or 2 (default 1)\n"
    "  --username U       user name (overrides the URI's)\n"
    "  --password P       password (overrides the URI's; prefer the URI or a\n"
    "                     private config, as the command line is visible to others)\n"
    "  --state-dir DIR    keep device state in DIR (POSIX HAL). Without it the\n"
    "                     device state lives in memory (memory HAL) and nothing is\n"
    "                     written to disk.\n"
    "  --quiet            print only errors and the summary\n"
    "  --reconnect        ride out lost connections (reconnect with backoff; readings\n"
    "                     due while offline are skipped) instead of exiting with 3\n"
    "  The device also reports {\"model\",\"firmware\",\"interval_ms\"} on\n"
    "  iotkit/v1/ID/state/reported, obeys \"interval_ms\" in its desired state and\n"
    "  answers the commands ping, set_interval {\"interval_ms\":N} and reboot\n"
    "  (see docs/protocol.md).\n"
    "\n"
    "iotkit keygen --type ed25519|p256 [--out FILE] [--pub FILE]\n"
    "  Makes a key pair from the kernel's random generator. The private key\n"
    "  (PEM PKCS#8) goes to --out, created with mode 0600, or to stdout; the\n"
    "  public key (PEM) to --pub, or to stdout when --out is given. Existing\n"
    "  files are never replaced.\n"
    "\n"
    "iotkit jwt make --key FILE --alg EdDSA|ES256|RS256 --sub ID [--aud A] [--kid K] [--ttl S]\n"
    "  Prints a device token signed with the private key FILE: iss and sub are\n"
    "  ID, iat is now, exp is now + S seconds (60 to 86400, default 3600).\n"
    "\n"
    "iotkit jwt verify --pub FILE --alg EdDSA|ES256|RS256 [--aud A] [--leeway S] TOKEN\n"
    "  Checks TOKEN's signature with the public key FILE, its alg, exp/nbf\n"
    "  against the clock and, with --aud, its audience. Prints \"valid: <claims>\"\n"
    "  and exits 0, or prints the error name (e.g. IOTKIT_ERR_JWT_EXPIRED) and\n"
    "  exits 4.\n"
    "\n"
    "Exit codes:\n"
    "  0  success (every message published was confirmed)\n"
    "  1  usage or configuration error (bad option, URI, device id, state dir)\n"
    "  2  could not connect (refused, unreachable, authentication, TLS, timeout)\n"
    "  3  delivery failure: a message failed or was not confirmed in time, or the\n"
    "     connection was lost\n"
    "  4  a token or signature was refused (jwt verify)\n";

void cli_print_help(void) { fputs(help_text, stdout); }

int cmd_help(int argc, char **argv) {
  (void)argc;
  (void)argv;
  cli_print_help();
  return CLI_EXIT_OK;
}
