-- luarocks make (from bindings/lua) builds the C module against an installed
-- libiotkit (or a build tree: IOTKIT_INCDIR=<repo>/include IOTKIT_LIBDIR=<build dir>).
-- Everything is in this directory: nothing is downloaded.
rockspec_format = "3.0"
package = "iotkit"
version = "scm-1"
source = {
  url = "git+https://example.invalid/libiotkit.git", -- not fetched by luarocks make
}
description = {
  summary = "Lua bindings of libiotkit: devices, telemetry and fleets",
  detailed = [[
    local iotkit = require "iotkit" gives device and fleet handles backed by the
    libiotkit C library: telemetry, reported and desired state, commands, events,
    the fleet registry, its live view and remote control. Lua 5.1 to 5.4 and LuaJIT.
  ]],
  license = "MIT",
}
dependencies = {
  "lua >= 5.1, < 5.5",
}
external_dependencies = {
  IOTKIT = {
    header = "iotkit/iotkit.h",
    library = "iotkit",
  },
}
build = {
  type = "builtin",
  modules = {
    iotkit = {
      sources = {"src/module.c", "src/json.c", "src/queue.c", "src/batch.c", "src/device.c", "src/fleet.c"},
      incdirs = {"$(IOTKIT_INCDIR)"},
      libdirs = {"$(IOTKIT_LIBDIR)"},
      libraries = {"iotkit", "pthread"},
      defines = {"_POSIX_C_SOURCE=200809L"},
    },
  },
}
