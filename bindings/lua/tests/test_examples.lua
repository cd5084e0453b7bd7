-- examples/lua run as a user would: the fleet watcher in the background, the
-- gateway in the foreground, both against the launcher's mosquitto; what the
-- watcher printed shows what the gateway forwarded.
local t = require "harness"

local here = arg[0]:match("^(.*)/[^/]*$") or "."
local examples = here .. "/../../../examples/lua"
local lua = arg[-1] or "lua"

local function read(path)
  local f = io.open(path)
  if not f then return "" end
  local s = f:read("*a")
  f:close()
  return s
end

t.test("the gateway forwards readings through its edge rules; the watcher sees them", function()
  local id = t.name("gw")
  local out, gw_out = t.dir .. "/watcher.out", t.dir .. "/gateway.out"
  os.execute(string.format("%s %s/fleet_watcher.lua %s :memory: 30 31 > %s 2>&1 &", lua, examples, t.uri, out))
  for _ = 1, 200 do
    if read(out):find("watching", 1, true) then break end
    t.sleep(0.05)
  end
  assert(read(out):find("watching", 1, true), "the watcher did not start: " .. read(out))
  local ok = os.execute(string.format("%s %s/gateway.lua %s %s 30 0 > %s 2>&1", lua, examples, t.uri, id, gw_out))
  assert(ok == true or ok == 0, "the gateway failed: " .. read(gw_out))
  local summary = read(gw_out)
  local pin, sent, held = summary:match("points in (%d+), sent (%d+), held (%d+)")
  assert(pin, "the gateway's summary: " .. summary)
  t.eq(tonumber(pin), 90, "points read (30 readings of 3 sensors)")
  assert(tonumber(held) > 0, "the deadband held some points: " .. summary)
  t.eq(tonumber(sent) + tonumber(held), 90, "each point sent or held")
  -- the watcher stops after 31 messages (30 telemetry + the event) and prints the registry
  for _ = 1, 400 do
    if read(out):find("registry", 1, true) then break end
    t.sleep(0.05)
  end
  local w = read(out)
  local telemetry = 0
  for _ in w:gmatch("telemetry " .. id:gsub("%-", "%%-") .. " ") do telemetry = telemetry + 1 end
  t.eq(telemetry, 30, "telemetry messages the watcher saw")
  assert(w:find("event " .. id .. " overheat", 1, true), "the overheat event: " .. w)
  assert(w:find('"cooling":true', 1, true), "the rule's reported state: " .. w)
  assert(w:find("registry " .. id, 1, true), "auto-registered: " .. w)
end)

t.run()
