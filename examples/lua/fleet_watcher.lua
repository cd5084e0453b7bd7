#!/usr/bin/env lua
-- A fleet watcher: registers devices as they appear and prints what they do.
--
--   lua fleet_watcher.lua URI [DB [SECONDS [MESSAGES]]]
--   e.g. lua fleet_watcher.lua mqtt://127.0.0.1:1883 fleet.db 60
--
-- DB is the registry (":memory:" by default). It stops after SECONDS (default
-- 60) or once MESSAGES telemetry messages and events have been seen (default:
-- no limit), and prints the registry. The loop is the fleet's own poll; a
-- script with other sockets would wait on fleet:getfd() with socket.select and
-- call fleet:poll(0) when it is readable or fleet:dirty() is true.
local iotkit = require "iotkit"

local uri, db = arg[1], arg[2] or ":memory:"
local seconds, limit = tonumber(arg[3]) or 60, tonumber(arg[4])
if not uri then
  io.stderr:write("usage: lua fleet_watcher.lua URI [DB [SECONDS [MESSAGES]]]\n")
  os.exit(2)
end

local fleet = assert(iotkit.fleet{uri = uri, db = db, auto_register = true})
local seen = 0
local function line(...) print(string.format(...)) io.stdout:flush() end

fleet:watch{
  status = function(id, online, reason) line("status %s %s%s", id, online and "online" or "offline",
    reason and (" (" .. reason .. ")") or "") end,
  telemetry = function(id, points)
    local parts = {}
    for _, p in ipairs(points) do parts[#parts + 1] = p.name .. "=" .. tostring(p.value) end
    table.sort(parts)
    line("telemetry %s %s", id, table.concat(parts, " "))
    seen = seen + 1
  end,
  state = function(id, state) line("state %s %s", id, iotkit.json_encode(state)) end,
  event = function(id, type, data) line("event %s %s %s", id, type, iotkit.json_encode(data)) seen = seen + 1 end,
}
assert(fleet:connect())
line("watching %s", uri)
local deadline = os.time() + seconds
while os.time() < deadline and not (limit and seen >= limit) do
  assert(fleet:poll(0.1))
end
for _, d in ipairs((fleet:list())) do
  line("registry %s online=%s", d.id, tostring(d.online))
end
fleet:close()
