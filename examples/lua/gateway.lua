#!/usr/bin/env lua
-- A gateway: reads (simulated) sensors and forwards them through libiotkit,
-- with edge rules deciding on the device what is worth sending.
--
--   lua gateway.lua URI DEVICE_ID [READINGS [INTERVAL_S]]
--   e.g. lua gateway.lua mqtt://127.0.0.1:1883 gw-1 60 1
--
-- Every reading is one batch (temperature, humidity, a door contact). The edge
-- pipeline holds temperature and humidity readings that moved less than a
-- deadband, raises a "hot" detector above 30 °C, and a rule then sends an
-- "overheat" event and reports {cooling = true}. The cloud can change the
-- reading interval with the command "set_interval" {seconds = S} or the
-- desired state {interval = S}. At the end it prints what the pipeline did.
local iotkit = require "iotkit"

local uri, id = arg[1], arg[2]
local readings, interval = tonumber(arg[3]) or 60, tonumber(arg[4]) or 1
if not uri or not id then
  io.stderr:write("usage: lua gateway.lua URI DEVICE_ID [READINGS [INTERVAL_S]]\n")
  os.exit(2)
end

local rules = {
  version = 1,
  description = "gateway example",
  streams = {
    {metric = "temperature", processors = {
      {type = "deadband", absolute = 0.5},
      {type = "threshold", name = "hot", above = 30, hysteresis = 2},
    }},
    {metric = "humidity", processors = {{type = "deadband", absolute = 2}}},
  },
  rules = {
    {name = "overheat", when = {detector = "hot"},
     actions = {{event = "overheat", data = {limit = 30}}, {report = {cooling = true}}}},
  },
}

local dev = assert(iotkit.device{id = id, uri = uri, edge = rules})
dev:on_command("set_interval", function(params)
  if type(params.seconds) ~= "number" or params.seconds < 0 then
    return nil, "invalid_params", "seconds must be a number >= 0"
  end
  interval = params.seconds
  return {interval = interval}
end)
dev:on_desired(function(delta)
  if type(delta.interval) == "number" then interval = delta.interval end
end)
assert(dev:connect())
assert(dev:report({role = "gateway", sensors = {"temperature", "humidity", "door"}}))

-- The simulated sensors: a warm afternoon that overheats half-way, with noise.
math.randomseed(42)
local t0 = os.time() * 1000
local function read_sensors(i)
  local temp = 24 + 9 * math.sin(i / readings * math.pi) + (math.random() - 0.5)
  return {
    temperature = {value = temp, unit = "Cel", ts_ms = t0 + i * 1000},
    humidity = {value = 55 - (temp - 24) * 1.5, unit = "%RH", ts_ms = t0 + i * 1000},
    door = {value = i % 10 == 0, ts_ms = t0 + i * 1000},
  }
end

for i = 1, readings do
  local ok, msg = dev:send_telemetry(read_sensors(i))
  if not ok then io.stderr:write("gateway: ", msg, "\n") end
  -- wait for the next reading while serving the connection (callbacks run here)
  local deadline = os.clock() + interval
  repeat
    assert(dev:poll(math.min(interval, 0.05)))
  until os.clock() >= deadline
end
for _ = 1, 20 do dev:poll(0.01) end -- let the last messages go
local st = dev:edge_stats()
print(string.format("gateway: %d readings, points in %d, sent %d, held %d, actions %d",
  readings, st.points_in, st.points_sent, st.points_held, st.actions))
dev:close()
