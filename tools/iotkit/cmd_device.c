/* iotkit device <subcommand> */
#include "cli.h"

static const cli_command_t device_commands[] = {
    {"simulate", cmd_device_simulate, "run a simulated sensor that publishes telemetry"},
    {NULL, NULL, NULL},
};

int cmd_device(int argc, char **argv) { return cli_dispatch("device", device_commands, argc - 1, argv + 1); }
