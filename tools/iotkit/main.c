/* iotkit: command-line tool of libiotkit. Commands are listed in one table. */
#include <string.h>

#include "cli.h"

static const cli_command_t commands[] = {
    {"help", cmd_help, "show this help"},
    {"version", cmd_version, "print the version"},
    {"device", cmd_device, "device commands (simulate)"},
    {"keygen", cmd_keygen, "make an Ed25519 or P-256 key pair (PEM)"},
    {"jwt", cmd_jwt, "make or verify a device token"},
    {"fleet", cmd_fleet, "the fleet side: registry, locations, history, live view"},
    {"ota", cmd_ota, "sign, verify and push OTA update manifests"},
    {"telemetry", cmd_telemetry, "telemetry tools (decode)"},
    {"edge", cmd_edge, "check an edge configuration or replay points through it"},
    {NULL, NULL, NULL},
};

int main(int argc, char **argv) {
  if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) return cmd_help(1, argv);
  if (argc >= 2 && strcmp(argv[1], "--version") == 0) return cmd_version(1, argv);
  return cli_dispatch(NULL, commands, argc - 1, argv + 1);
}
