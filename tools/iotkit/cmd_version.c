/* iotkit version */
#include <stdio.h>

#include "cli.h"

int cmd_version(int argc, char **argv) {
  (void)argv;
  if (argc > 1) return cli_usage_error("'version' takes no arguments");
  printf("iotkit %s\n", iotkit_version());
  return CLI_EXIT_OK;
}
