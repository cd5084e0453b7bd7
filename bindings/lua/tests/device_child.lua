-- A device in a process of its own for test_fleet.lua (a blocking fleet:command()
-- needs the device to answer while the fleet's thread waits):
--   device_child.lua ID [SECONDS]
-- Handles "add" ({a,b} -> {sum}) and "fail" (an error code), and exits after SECONDS.
local iotkit = require "iotkit"
local id, seconds = arg[1], tonumber(arg[2]) or 20
local dev = assert(iotkit.device{id = id, uri = os.getenv("IOTKIT_TEST_URI"), connect_timeout = 5})
dev:on_command("add", function(p) return {sum = p.a + p.b} end)
dev:on_command("fail", function() return nil, "nope", "this command always fails" end)
local quit = false
dev:on_command("quit", function() quit = true; return {} end)
assert(dev:connect())
local deadline = os.time() + seconds
while os.time() < deadline and not quit do assert(dev:poll(0.05)) end
dev:close()
