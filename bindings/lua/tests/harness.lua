-- A small test harness for the Lua suite (plain asserts; no busted needed):
-- t.test(name, fn) registers a test, t.run() runs them all, prints one line
-- each and "N passed, M failed", and exits non-zero if any failed. Helpers for
-- the broker the launcher started and for an independent mosquitto_sub.
local iotkit = require "iotkit"
local t = {tests = {}}

t.port = assert(os.getenv("IOTKIT_TEST_PORT"), "run me through run_with_broker.sh")
t.uri = os.getenv("IOTKIT_TEST_URI")
t.dir = os.getenv("IOTKIT_TEST_DIR")

function t.test(name, fn) t.tests[#t.tests + 1] = {name = name, fn = fn} end

function t.eq(got, want, what)
  if got ~= want then
    error(string.format("%s: got %s, want %s", what or "value", tostring(got), tostring(want)), 2)
  end
end

-- Assert that fn(...) raises an error whose message contains `pattern` (plain text).
function t.raises(pattern, fn, ...)
  local ok, err = pcall(fn, ...)
  if ok then error("expected an error containing '" .. pattern .. "', got none", 2) end
  if not tostring(err):find(pattern, 1, true) then
    error("expected an error containing '" .. pattern .. "', got: " .. tostring(err), 2)
  end
end

-- Assert the runtime-failure return nil, message, code with that exact code.
function t.fails(code, ...)
  local v, msg, c = ...
  if v ~= nil or type(msg) ~= "string" or c ~= code then
    error(string.format("expected nil, message, %s (%s); got %s, %s, %s", tostring(code),
      iotkit.err_name(code), tostring(v), tostring(msg), tostring(c)), 2)
  end
  return msg
end

function t.sleep(s) os.execute("sleep " .. tostring(s)) end

-- Poll `dev` (a device or fleet) until cond() is true or `timeout` seconds (real ones) pass.
function t.poll_until(dev, cond, timeout, what)
  local deadline = os.time() + (timeout or 10)
  while not cond() do
    if os.time() > deadline then error("timed out waiting for " .. (what or "a condition"), 2) end
    assert(dev:poll(0.05))
  end
end

local seq = 0
function t.name(prefix)
  seq = seq + 1
  return string.format("%s-%d-%d", prefix, os.time() % 100000, seq)
end

function t.device(id, extra)
  local cfg = {id = id, uri = t.uri, connect_timeout = 5}
  for k, v in pairs(extra or {}) do cfg[k] = v end
  return assert(iotkit.device(cfg))
end

-- An independent subscriber: mosquitto_sub in the background writing to a file.
-- :wait_ready() waits for its SUBACK; :lines() returns what it printed so far.
function t.subscriber(topic, count)
  local file = string.format("%s/sub-%d.out", t.dir, seq + 1)
  seq = seq + 1
  os.execute(string.format("stdbuf -oL mosquitto_sub -d -h 127.0.0.1 -p %s -t '%s' -C %d -W 20 -F 'MSG> %%t %%p' > %s 2>&1 &",
    t.port, topic, count or 1, file))
  local sub = {file = file}
  function sub:read()
    local f = io.open(self.file)
    if not f then return "" end
    local s = f:read("*a")
    f:close()
    return s
  end
  function sub:wait_ready()
    for _ = 1, 200 do
      if self:read():find("SUBACK", 1, true) then return end
      t.sleep(0.05)
    end
    error("mosquitto_sub did not subscribe: " .. self:read())
  end
  function sub:messages()
    local out = {}
    for topic_, payload in self:read():gmatch("MSG> (%S+) ([^\n]*)") do out[#out + 1] = {topic = topic_, payload = payload} end
    return out
  end
  return sub
end

-- Publish with mosquitto_pub (payload given in a file, so that any JSON passes).
function t.publish(topic, payload, retain)
  local file = t.dir .. "/pub.json"
  local f = assert(io.open(file, "w"))
  f:write(payload)
  f:close()
  assert(os.execute(string.format("mosquitto_pub -h 127.0.0.1 -p %s -q 1 %s -t '%s' -f %s", t.port,
    retain and "-r" or "", topic, file)))
end

function t.run()
  local passed, failed = 0, 0
  for _, tc in ipairs(t.tests) do
    local ok, err = xpcall(tc.fn, debug.traceback)
    collectgarbage()
    if ok then
      passed = passed + 1
      print("ok     " .. tc.name)
    else
      failed = failed + 1
      print("FAILED " .. tc.name .. "\n" .. tostring(err))
    end
  end
  print(string.format("%s: %d passed, %d failed", arg and arg[0] or "lua suite", passed, failed))
  os.exit(failed == 0 and 0 or 1)
end

return t
