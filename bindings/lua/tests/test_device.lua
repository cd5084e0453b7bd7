-- Device suite of the Lua binding against a real mosquitto (run_with_broker.sh):
-- telemetry seen by an independent subscriber, reported state, events,
-- commands and desired state round trips, callbacks that raise, the fd/select
-- protocol, and garbage collection of an open device with callbacks pending.
local iotkit = require "iotkit"
local t = require "harness"

local P = "iotkit/v1/"

t.test("telemetry from a table arrives as a batch with a sequence number", function()
  local id = t.name("tele")
  local sub = t.subscriber(P .. id .. "/telemetry", 2)
  sub:wait_ready()
  local dev = t.device(id)
  assert(dev:connect())
  local msg_id, seq = dev:send_telemetry({temp = 21.5, count = 3, ok = true, label = "hall"})
  assert(type(msg_id) == "number" and msg_id > 0, "msg_id " .. tostring(msg_id))
  t.eq(seq, 1, "first seq")
  assert(dev:send_telemetry("raw bytes"))
  t.poll_until(dev, function() return #sub:messages() == 2 end, 10, "two telemetry messages")
  local m = sub:messages()
  local doc = assert(iotkit.json_decode(m[1].payload))
  t.eq(doc.seq, 1, "seq on the wire")
  local byname = {}
  for _, p in ipairs(doc.points or doc.p or {}) do byname[p.name or p.n] = p end
  assert(next(byname), "points in " .. m[1].payload)
  assert(m[1].payload:find('"temp"', 1, true) and m[1].payload:find("21.5", 1, true), m[1].payload)
  t.eq(m[2].payload, "raw bytes", "raw payload")
  dev:close()
end)

t.test("a batch userdata is sent in the format asked for", function()
  local id = t.name("batch")
  local sub = t.subscriber(P .. id .. "/telemetry", 1)
  sub:wait_ready()
  local dev = t.device(id)
  assert(dev:connect())
  local b = iotkit.batch()
  b:add("volts", 3.3, {unit = "V", tags = {phase = "a"}})
  t.eq(#b, 1, "#batch")
  local _, seq = assert(dev:send_telemetry(b, "senml-json"))
  t.eq(seq, 1, "seq")
  t.poll_until(dev, function() return #sub:messages() == 1 end, 10, "senml message")
  local senml = assert(iotkit.json_decode(sub:messages()[1].payload))
  t.eq(senml[1].n or senml[1].bn, "volts", "SenML name")
  b:close()
  b:close() -- idempotent
  t.raises("closed", b.count, b)
  dev:close()
end)

t.test("report and event reach the broker", function()
  local id = t.name("rep")
  local sub = t.subscriber(P .. id .. "/#", 3)
  sub:wait_ready()
  local dev = t.device(id)
  assert(dev:connect())
  assert(dev:report({fw = "1.0", led = {on = true}, list = iotkit.array()}))
  local ev = assert(dev:event("alarm", {level = 2}))
  assert(ev > 0)
  t.poll_until(dev, function()
    for _, m in ipairs(sub:messages()) do if m.topic:find("events/alarm", 1, true) then return true end end
  end, 10, "the event")
  local seen = {}
  for _, m in ipairs(sub:messages()) do seen[m.topic] = m.payload end
  local rep = assert(iotkit.json_decode(seen[P .. id .. "/state/reported"]))
  t.eq(rep.state.fw, "1.0", "reported fw")
  t.eq(rep.state.led.on, true, "reported led")
  t.eq(iotkit.json_encode(rep.state.list), "[]", "empty array stays an array")
  local evd = assert(iotkit.json_decode(seen[P .. id .. "/events/alarm"]))
  t.eq(evd.data.level, 2, "event data")
  t.eq(dev:reported().fw, "1.0", "reported() reads back")
  dev:close()
end)

t.test("a command round-trips: result, handler error code, unknown command", function()
  local id = t.name("cmd")
  local sub = t.subscriber(P .. id .. "/commands/response", 3)
  sub:wait_ready()
  local dev = t.device(id)
  local got
  assert(dev:on_command("set_interval", function(params, request_id, name)
    got = {params = params, request_id = request_id, name = name}
    if params.interval_ms < 10 then return nil, "invalid_params", "interval_ms too small" end
    return {interval_ms = params.interval_ms}
  end))
  assert(dev:connect())
  t.publish(P .. id .. "/commands/request", '{"id":"r1","name":"set_interval","params":{"interval_ms":5000}}')
  t.poll_until(dev, function() return got ~= nil end, 10, "the command")
  t.eq(got.request_id, "r1", "request id")
  t.eq(got.name, "set_interval", "name")
  t.eq(got.params.interval_ms, 5000, "params")
  t.publish(P .. id .. "/commands/request", '{"id":"r2","name":"set_interval","params":{"interval_ms":1}}')
  t.publish(P .. id .. "/commands/request", '{"id":"r3","name":"nope"}')
  t.poll_until(dev, function() return #sub:messages() == 3 end, 10, "three responses")
  local r = {}
  for _, m in ipairs(sub:messages()) do local d = iotkit.json_decode(m.payload); r[d.id] = d end
  t.eq(r.r1.status, "ok", "r1 status")
  t.eq(r.r1.result.interval_ms, 5000, "r1 result")
  t.eq(r.r2.status, "error", "r2 status")
  t.eq(r.r2.error.code, "invalid_params", "r2 code")
  t.eq(r.r2.error.message, "interval_ms too small", "r2 message")
  t.eq(r.r3.error.code, "unknown_command", "r3 code")
  dev:close()
end)

t.test("desired state round-trips: delta table, version, desired()", function()
  local id = t.name("des")
  local dev = t.device(id)
  local deltas = {}
  assert(dev:on_desired(function(delta, version) deltas[#deltas + 1] = {delta = delta, version = version} end))
  assert(dev:connect())
  t.publish(P .. id .. "/state/desired", '{"version":3,"state":{"interval_ms":5000,"led":"on","x":1.5}}', true)
  t.poll_until(dev, function() return #deltas == 1 end, 10, "the desired state")
  t.eq(deltas[1].version, 3, "version")
  t.eq(deltas[1].delta.interval_ms, 5000, "delta interval")
  t.eq(deltas[1].delta.led, "on", "delta led")
  t.publish(P .. id .. "/state/desired", '{"version":4,"state":{"interval_ms":5000,"x":1.5}}', true)
  t.poll_until(dev, function() return #deltas == 2 end, 10, "the second desired state")
  t.eq(deltas[2].delta.led, iotkit.null, "a removed key is iotkit.null")
  local state, version = dev:desired()
  t.eq(version, 4, "desired() version")
  t.eq(state.led, nil, "led gone")
  t.eq(state.x, 1.5, "x")
  t.publish(P .. id .. "/state/desired", "", true) -- clear the retained document
  dev:close()
end)

t.test("a callback that raises is reported with its traceback and the loop goes on", function()
  local id = t.name("boom")
  local reports = {}
  iotkit.on_error(function(where, text) reports[#reports + 1] = {where = where, text = text} end)
  local dev = t.device(id)
  local after = 0
  dev:on_connection(function() error("connection callback exploded") end)
  dev:on_command("boom", function() error("handler exploded") end)
  dev:on_command("fine", function() after = after + 1; return "ok" end)
  local sub = t.subscriber(P .. id .. "/commands/response", 2)
  sub:wait_ready()
  assert(dev:connect())
  t.publish(P .. id .. "/commands/request", '{"id":"b1","name":"boom"}')
  t.publish(P .. id .. "/commands/request", '{"id":"f1","name":"fine"}')
  t.poll_until(dev, function() return after == 1 and #sub:messages() == 2 end, 10, "both commands")
  iotkit.on_error(nil)
  t.eq(#reports, 2, "two reports")
  t.eq(reports[1].where, "connection", "first report's callback")
  assert(reports[1].text:find("connection callback exploded", 1, true), reports[1].text)
  assert(reports[1].text:find("stack traceback", 1, true), "traceback in: " .. reports[1].text)
  t.eq(reports[2].where, "command", "second report's callback")
  local r = {}
  for _, m in ipairs(sub:messages()) do local d = iotkit.json_decode(m.payload); r[d.id] = d end
  t.eq(r.b1.status, "error", "a raising handler fails the command")
  t.eq(r.b1.error.code, "error", "its code")
  t.eq(r.f1.status, "ok", "the next command still runs")
  dev:close()
end)

t.test("callbacks run only inside poll, never inside connect", function()
  local dev = t.device(t.name("onlypoll"))
  local ups = 0
  dev:on_connection(function(up) if up then ups = ups + 1 end end)
  assert(dev:connect())
  t.eq(ups, 0, "nothing ran during connect")
  assert(dev:dirty(), "dirty while an event waits")
  t.eq(dev:next_timeout(), 0, "next_timeout 0 while an event waits")
  assert(dev:poll(0))
  t.eq(ups, 1, "the connection callback ran in poll")
  dev:close()
end)

t.test("a callback may close its own device", function()
  local id = t.name("selfclose")
  local dev = t.device(id)
  local ran = 0
  dev:on_command("bye", function() ran = ran + 1; dev:close(); return "late" end)
  assert(dev:connect())
  t.publish(P .. id .. "/commands/request", '{"id":"c1","name":"bye"}')
  local deadline = os.time() + 10
  while not dev:closed() and os.time() < deadline do dev:poll(0.05) end
  t.eq(ran, 1, "the handler ran once")
  assert(dev:closed(), "closed")
  t.raises("closed", dev.poll, dev)
end)

t.test("getfd and dirty let a select loop drive the device", function()
  local dev = t.device(t.name("fd"))
  t.eq(dev:getfd(), -1, "no descriptor before connect")
  assert(dev:connect())
  local fd = dev:getfd()
  assert(fd >= 0, "a descriptor once connected")
  t.eq(dev:fd(), fd, "fd() is getfd()")
  local r, w = dev:fd_events()
  t.eq(type(r), "boolean", "fd_events read")
  t.eq(type(w), "boolean", "fd_events write")
  assert(dev:poll(0))
  assert(dev:connected())
  dev:close()
  t.eq(dev:getfd(), -1, "no descriptor once closed")
  t.eq(dev:dirty(), false, "a closed device is not dirty")
end)

t.test("an open device with callbacks pending is collected cleanly", function()
  local id = t.name("gc")
  local sub = t.subscriber(P .. id .. "/status", 2)
  sub:wait_ready()
  local weak = setmetatable({}, {__mode = "v"})
  do
    local dev = t.device(id)
    -- the callbacks refer to the device: a cycle through its user value
    dev:on_connection(function() error("must never run: " .. tostring(dev)) end)
    dev:on_command("x", function() return dev:id() end)
    assert(dev:connect()) -- queues the connection event, never dispatched
    weak[1] = dev
  end
  collectgarbage()
  collectgarbage()
  t.eq(weak[1], nil, "the device was collected")
  -- it ended its session cleanly: the retained status says offline
  local deadline = os.time() + 10
  while #sub:messages() < 2 and os.time() < deadline do t.sleep(0.05) end
  local last = sub:messages()[#sub:messages()]
  assert(last and last.payload:find('"offline"', 1, true) or last.payload:find("offline", 1, true),
    "status after collection: " .. tostring(last and last.payload))
end)

if iotkit.have_close then
  t.test("a <close> variable closes the device (Lua 5.4)", function()
    local chunk = assert(load([[
      local iotkit, t = ...
      local keep
      do
        local dev <close> = t.device(t.name("tbc"))
        assert(dev:connect())
        keep = dev
      end
      return keep
    ]]))
    local dev = chunk(iotkit, t)
    assert(dev:closed(), "closed at the end of its block")
  end)
end

t.run()
