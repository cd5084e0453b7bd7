-- Lifetimes: 10,000 create/close cycles (devices, batches, fleets when the fleet
-- is built) leave neither the Lua heap nor the process growing; run under
-- valgrind by the lua/valgrind test with a smaller count (arg[1]).
local iotkit = require "iotkit"
local t = require "harness"

local N = tonumber(arg and arg[1]) or 10000

local function rss_kb()
  local f = io.open("/proc/self/statm")
  if not f then return nil end
  local _, resident = f:read("*n", "*n")
  f:close()
  return resident * 4 -- pages of 4 KiB
end

local function cycles(n, fn)
  for i = 1, n do
    fn(i)
    if i % 500 == 0 then collectgarbage() end
  end
  collectgarbage()
  collectgarbage()
end

-- Growth over N cycles after a warm-up of N/10: the Lua heap may differ by a
-- few KiB (strings interned, tables resized), never by anything that grows with N.
local function no_growth(what, fn)
  cycles(math.max(math.floor(N / 10), 10), fn)
  local lua0, rss0 = collectgarbage("count"), rss_kb()
  cycles(N, fn)
  local lua1, rss1 = collectgarbage("count"), rss_kb()
  print(string.format("  %s: %d cycles, Lua heap %+.1f KiB, RSS %+d KiB", what, N, lua1 - lua0,
    rss1 and rss0 and rss1 - rss0 or 0))
  assert(lua1 - lua0 < 64, string.format("%s: the Lua heap grew by %.1f KiB", what, lua1 - lua0))
  -- a leaked device is several KiB: N of them would be tens of MiB
  if rss0 and N >= 10000 then
    assert(rss1 - rss0 < 4096, string.format("%s: RSS grew by %d KiB", what, rss1 - rss0))
  end
end

t.test("device create/close cycles do not grow", function()
  no_growth("device close()", function(i)
    local d = assert(iotkit.device{id = "cycle-" .. i, uri = t.uri})
    d:on_command("x", function() return d end)
    d:on_desired(function() end)
    d:close()
  end)
end)

t.test("devices left to the garbage collector do not grow", function()
  no_growth("device __gc", function(i)
    local d = assert(iotkit.device{id = "gc-" .. i, uri = t.uri})
    d:on_connection(function() return d end) -- a cycle through the user value
  end)
end)

t.test("batch cycles do not grow", function()
  no_growth("batch", function(i)
    local b = iotkit.batch{temp = 21.5, n = i, ok = true, s = "x"}
    if i % 2 == 0 then b:close() end
  end)
end)

t.test("a failing constructor leaves nothing behind", function()
  no_growth("failed device", function()
    assert(not iotkit.device{id = "bad id!", uri = t.uri})
  end)
end)

t.test("raised argument errors leave nothing behind", function()
  no_growth("raised JSON error", function()
    assert(not pcall(iotkit.json_encode, {a = {b = {c = print}}}))
  end)
end)

if iotkit.fleet then
  t.test("fleet create/close cycles do not grow", function()
    no_growth("fleet", function() iotkit.fleet{db = ":memory:"}:close() end)
  end)
end

t.test("connected devices collected with callbacks pending", function()
  local n = math.max(math.min(math.floor(N / 100), 50), 2)
  for i = 1, n do
    local d = t.device("conn-" .. i)
    d:on_connection(function() error("never run") end)
    assert(d:connect())
  end
  collectgarbage()
  collectgarbage()
end)

t.run()
