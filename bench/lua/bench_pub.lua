-- Lua side of bench/run_lua.sh: one device driven by :poll() from the script's
-- thread (the module has no background loop), send_telemetry COUNT times
-- (polling every BATCH sends so that the socket keeps moving), then poll until
-- every delivery callback has run.
--   lua bench_pub.lua URI QOS COUNT PAYLOAD_BYTES
-- Prints: "lua qos=Q count=N seconds=S rate=R"
local iotkit = require "iotkit"
local uri, qos, count, size = arg[1], tonumber(arg[2]), tonumber(arg[3]), tonumber(arg[4])
local dev = assert(iotkit.device{id = "bench-lua", uri = uri, qos = qos, durable = false})
local delivered, failed = 0, 0
dev:on_delivery(function(_, code) if code == 0 then delivered = delivered + 1 else failed = failed + 1 end end)
assert(dev:connect())
local payload = string.rep("x", size)
local clock = os.clock
local function now()
  local f = io.popen("date +%s.%N")
  local s = tonumber(f:read("*l"))
  f:close()
  return s or clock()
end
local t0 = now()
local send, poll = dev.send_telemetry, dev.poll
for i = 1, count do
  local ok, msg = send(dev, payload)
  while not ok do -- the transport's window is full: let it drain
    assert(poll(dev, 0.001))
    ok, msg = send(dev, payload)
    if not ok and not msg:find("full", 1, true) and not msg:find("busy", 1, true) then error(msg) end
  end
  if i % 64 == 0 then assert(poll(dev, 0)) end
end
while delivered + failed < count do assert(poll(dev, 0.01)) end
local secs = now() - t0
print(string.format("lua qos=%d count=%d seconds=%.3f rate=%.0f failed=%d", qos, count, secs, count / secs, failed))
dev:close()
