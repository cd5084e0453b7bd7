"""iotkit.Device against a real mosquitto: telemetry, state, commands, events and
messages round-trip, checked by an independent paho-mqtt client."""
import json
import logging
import time

import pytest

import iotkit

P = "iotkit/v1/sensor-1/"


def poll_until(dev, cond, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not met within %s s" % timeout
        dev.poll(0.05)


def on(sub, suffix):
    """Payloads @p sub got on the device's channel @p suffix (one paho subscriber per
    test, on P + "#": the fixture's clients share one client id)."""
    return [m[1] for m in sub.messages if m[0] == P + suffix]


def online(sub):
    return any(b'"online"' in m for m in on(sub, "status"))


def connect_online(dev, sub):
    """Connect and wait until the broker has the device's subscriptions: connect()
    returns at CONNACK, before the SUBACKs; the device publishes its online status
    after subscribing, so a request sent once the status is seen is not lost."""
    dev.connect()
    poll_until(dev, lambda: online(sub))


@pytest.fixture
def dev(broker):
    d = iotkit.Device("sensor-1", broker.uri)
    yield d
    d.close()


def test_connect_then_close_publishes_online_and_offline(broker, subscriber):
    sub = subscriber(P + "status")
    events = []
    with iotkit.Device("sensor-1", broker.uri) as d:
        d.on_connection = lambda up, reason, detail: events.append((up, reason, detail))
        d.connect()
        assert d.connected
        assert events == [(True, None, "")]
    assert events[-1] == (False, None, "")
    assert d.closed
    assert sub.wait(2)
    docs = [json.loads(m[1]) for m in sub.messages]
    assert docs[0]["status"] == "online"
    assert docs[-1]["status"] == "offline" and docs[-1]["reason"] == "disconnect"


def test_dict_telemetry_arrives_as_compact_json(dev, subscriber):
    sub = subscriber(P + "telemetry")
    delivered = []
    dev.on_delivery = lambda mid, err: delivered.append((mid, err))
    dev.connect()
    mid = dev.send_telemetry({"temp": 21.5, "ok": True, "name": "caf\u00e9"})
    assert mid > 0
    poll_until(dev, lambda: delivered)
    assert delivered == [(mid, None)]
    assert sub.wait(1)
    assert sub.messages[0][1] == '{"temp":21.5,"ok":true,"name":"caf\u00e9"}'.encode("utf-8")
    assert sub.messages[0][2] == 1  # telemetry_qos 1


def test_bytes_and_str_telemetry_are_sent_unchanged(dev, subscriber):
    sub = subscriber(P + "telemetry")
    dev.connect()
    raw = bytes(range(256))
    dev.send_telemetry(raw)
    dev.send_telemetry(bytearray(b"\x00\x01"))
    dev.send_telemetry(memoryview(b"mv"))
    dev.send_telemetry("text \u00e9")
    poll_until(dev, lambda: len(sub.messages) >= 4)
    assert [m[1] for m in sub.messages] == [raw, b"\x00\x01", b"mv", "text \u00e9".encode("utf-8")]


def test_telemetry_qos_0(broker, subscriber):
    sub = subscriber(P + "telemetry", qos=0)
    with iotkit.Device("sensor-1", broker.uri, telemetry_qos=0) as d:
        d.connect()
        d.send_telemetry(b"q0")
        poll_until(d, lambda: sub.messages)
    assert sub.messages[0][1:3] == (b"q0", 0)


def test_offline_telemetry_is_stored_and_sent_after_connect(dev, subscriber):
    sub = subscriber(P + "telemetry")
    assert dev.send_telemetry(b"one") == 0  # stored: id 0 while offline
    assert dev.send_telemetry(b"two") == 0
    st = dev.telemetry_stats()
    assert st.durable and st.accepted == 2 and st.queue.pending == 2
    dev.connect()
    poll_until(dev, lambda: dev.telemetry_stats().queue.pending == 0)
    assert sub.wait(2)
    assert [m[1] for m in sub.messages] == [b"one", b"two"]
    st = dev.telemetry_stats()
    assert st.sent_backlog == 2 and st.confirmed == 2 and st.queue.acked == 2


def test_stats_count_confirmations_without_the_durable_queue(broker, subscriber):
    sub = subscriber(P + "telemetry")
    with iotkit.Device("sensor-1", broker.uri, telemetry_durable=False) as d:
        d.connect()
        ids = [d.send_telemetry(b"m%d" % i) for i in range(5)]
        ids.append(d.send_telemetry(bytearray(b"from a bytearray")))
        ids.append(d.send_telemetry(memoryview(b"xx-a memoryview-xx")[3:-3]))
        ids.append(d.send_telemetry(memoryview(b"aXcXeX")[::2]))  # not contiguous: copied
        assert all(i > 0 for i in ids)
        d.publish("raw", b"not telemetry", qos=1)
        poll_until(d, lambda: d.telemetry_stats().confirmed == 8)
        st = d.telemetry_stats()
        assert not st.durable
        assert (st.accepted, st.sent_live, st.sent_backlog, st.failed) == (8, 8, 0, 0)
        assert st.queue.pending == 0
        d.poll(0.2)
        assert d.telemetry_stats().confirmed == 8, "the other publish is not counted"
    assert sub.wait(8)
    assert [m[1] for m in sub.messages][5:] == [b"from a bytearray", b"a memoryview", b"ace"]


def test_state_dir_keeps_telemetry_across_restarts(broker, subscriber, tmp_path):
    sub = subscriber(P + "telemetry")
    with iotkit.Device("sensor-1", broker.uri, state_dir=tmp_path / "state") as d:
        assert d.send_telemetry({"n": 1}) == 0
        assert d.telemetry_stats().durable
    assert (tmp_path / "state" / "queue").is_dir()
    with iotkit.Device("sensor-1", broker.uri, state_dir=str(tmp_path / "state")) as d:
        assert d.telemetry_stats().queue.pending == 1  # recovered from the directory
        d.connect()
        poll_until(d, lambda: d.telemetry_stats().queue.pending == 0)
    assert sub.wait(1)
    assert sub.messages[0][1] == b'{"n":1}'


def test_without_durable_queue_offline_telemetry_raises(broker):
    with iotkit.Device("sensor-1", broker.uri, telemetry_durable=False) as d:
        assert not d.telemetry_stats().durable
        with pytest.raises(iotkit.ConnectionError):
            d.send_telemetry(b"x")


def test_report_publishes_the_merged_document_retained(dev, subscriber):
    sub = subscriber(P + "state/reported")
    dev.connect()
    dev.report({"firmware": "1.4.2", "interval_ms": 1000, "location": {"room": "lab"}})
    dev.report({"interval_ms": 5000, "location": None})
    assert dev.reported == {"firmware": "1.4.2", "interval_ms": 5000}
    poll_until(dev, lambda: len(sub.messages) >= 2)
    docs = [json.loads(m[1]) for m in sub.messages]
    assert docs[0]["state"] == {"firmware": "1.4.2", "interval_ms": 1000, "location": {"room": "lab"}}
    assert docs[1]["state"] == {"firmware": "1.4.2", "interval_ms": 5000}
    assert isinstance(docs[1]["ts"], int)
    # A late subscriber gets the retained document.
    sub.close()  # the fixture's clients share a client id
    late = subscriber(P + "state/reported")
    assert late.wait(1)
    assert late.messages[0][3] is True and json.loads(late.messages[0][1])["state"]["interval_ms"] == 5000


def test_desired_state_reaches_on_desired_as_deltas(dev, subscriber):
    pub = subscriber(P + "#")
    seen = []
    dev.on_desired = lambda delta, version: seen.append((delta, version))
    assert dev.desired == iotkit.Desired({}, 0)
    connect_online(dev, pub)
    pub.publish(P + "state/desired", b'{"version":7,"state":{"interval_ms":5000,"led":"on"}}', retain=True)
    poll_until(dev, lambda: seen)
    pub.publish(P + "state/desired", b'{"version":8,"state":{"interval_ms":5000,"led":"off","mode":"eco"}}',
                retain=True)
    pub.publish(P + "state/desired", b'{"version":6,"state":{"old":true}}')  # older: ignored
    poll_until(dev, lambda: len(seen) >= 2)
    dev.poll(0.2)
    assert seen == [({"interval_ms": 5000, "led": "on"}, 7), ({"led": "off", "mode": "eco"}, 8)]
    assert dev.desired == ({"interval_ms": 5000, "led": "off", "mode": "eco"}, 8)
    assert dev.desired.version == 8


def test_desired_state_is_restored_from_state_dir_at_connect(broker, subscriber, tmp_path):
    pub = subscriber(P + "#")
    with iotkit.Device("sensor-1", broker.uri, state_dir=tmp_path) as d:
        seen = []
        d.on_desired = lambda delta, version: seen.append(version)
        d.connect()
        pub.publish(P + "state/desired", b'{"version":3,"state":{"led":"on"}}')
        poll_until(d, lambda: seen)
    pub.publish(P + "state/desired", b"", retain=True)  # nothing retained: only the store knows
    broker.stop()  # the restored state comes before the connection is attempted
    with iotkit.Device("sensor-1", broker.uri, state_dir=tmp_path, connect_timeout=1) as d:
        seen = []
        d.on_desired = lambda delta, version: seen.append((delta, version))
        with pytest.raises(iotkit.ConnectionError):
            d.connect()
        assert seen == [({"led": "on"}, 3)]
        assert d.desired == ({"led": "on"}, 3)


def test_command_round_trip(dev, subscriber):
    sub = subscriber(P + "#")

    @dev.command("set_interval")
    def set_interval(params):
        if not 10 <= params.get("interval_ms", 0) <= 86400000:
            raise iotkit.CommandError("invalid_params", "interval_ms out of range")
        return {"interval_ms": params["interval_ms"]}

    @dev.command("nothing")
    def nothing(params):
        assert params == {}
        return None

    connect_online(dev, sub)
    sub.publish(P + "commands/request", b'{"id":"42","name":"set_interval","params":{"interval_ms":5000}}')
    sub.publish(P + "commands/request", b'{"id":"43","name":"set_interval","params":{"interval_ms":1}}')
    sub.publish(P + "commands/request", b'{"id":"44","name":"nothing"}')
    sub.publish(P + "commands/request", b'{"id":"45","name":"self_destruct"}')
    poll_until(dev, lambda: len(on(sub, "commands/response")) >= 4)
    got = {json.loads(m)["id"]: m for m in on(sub, "commands/response")}
    assert got["42"] == b'{"id":"42","status":"ok","result":{"interval_ms":5000}}'
    assert got["43"] == (b'{"id":"43","status":"error","error":{"code":"invalid_params",'
                         b'"message":"interval_ms out of range"}}')
    assert got["44"] == b'{"id":"44","status":"ok","result":{}}'
    assert json.loads(got["45"])["error"]["code"] == "unknown_command"


def test_command_handler_exceptions_fail_the_command(dev, subscriber, caplog):
    sub = subscriber(P + "#")

    @dev.command("bad_params")
    def bad_params(params):
        return {"v": params["missing"]}  # KeyError -> invalid_params

    @dev.command("buggy")
    def buggy(params):
        raise RuntimeError("boom")

    connect_online(dev, sub)
    with caplog.at_level(logging.ERROR, logger="iotkit"):
        sub.publish(P + "commands/request", b'{"id":"1","name":"bad_params"}')
        sub.publish(P + "commands/request", b'{"id":"2","name":"buggy"}')
        poll_until(dev, lambda: len(on(sub, "commands/response")) >= 2)
    got = {json.loads(m)["id"]: json.loads(m) for m in on(sub, "commands/response")}
    assert got["1"]["error"]["code"] == "invalid_params"
    assert got["2"]["error"] == {"code": "error", "message": "RuntimeError: boom"}
    assert any("buggy" in r.getMessage() and r.exc_info for r in caplog.records)


def test_deferred_command_answered_from_another_thread(dev, subscriber):
    import threading

    sub = subscriber(P + "#")
    reqs = []
    workers = []

    @dev.command("slow", deferred=True)
    def slow(req):
        assert isinstance(req, iotkit.CommandRequest) and not req.done
        reqs.append(req)
        workers.append(threading.Thread(target=req.complete, args=({"id": req.id, "p": req.params},)))
        workers[-1].start()

    connect_online(dev, sub)
    sub.publish(P + "commands/request", b'{"id":"7","name":"slow","params":{"a":1}}')
    poll_until(dev, lambda: on(sub, "commands/response"))
    assert on(sub, "commands/response") == [b'{"id":"7","status":"ok","result":{"id":"7","p":{"a":1}}}']
    workers[0].join()
    assert reqs[0].done
    with pytest.raises(iotkit.StateError):
        reqs[0].complete({})  # answered once only


def test_remove_command(dev, subscriber):
    sub = subscriber(P + "#")
    dev.command("ping")(lambda params: {"pong": True})
    dev.remove_command("ping")
    with pytest.raises(iotkit.NotFoundError):
        dev.remove_command("ping")
    connect_online(dev, sub)
    sub.publish(P + "commands/request", b'{"id":"1","name":"ping"}')
    poll_until(dev, lambda: on(sub, "commands/response"))
    assert json.loads(on(sub, "commands/response")[0])["error"]["code"] == "unknown_command"


def test_event_publish_subscribe(dev, subscriber):
    sub = subscriber(P + "#")
    got = []
    delivered = []
    dev.on_message = lambda suffix, payload: got.append((suffix, payload))
    dev.on_delivery = lambda mid, err: delivered.append(mid)
    connect_online(dev, sub)
    dev.subscribe("config/+")
    e = dev.event("overheat", {"temperature": 85.5})
    p = dev.publish("custom/raw", b"\x01\x02", qos=1)
    dev.publish("custom/text", "hello", qos=0, retain=False)
    dev.publish("custom/json", {"a": [1, 2]})
    sub.publish(P + "config/led", b"on", retain=True)  # retained: whether or not the SUBACK came yet
    want = {"events/overheat", "custom/raw", "custom/text", "custom/json"}
    poll_until(dev, lambda: got and e in delivered and p in delivered
               and want <= {m[0][len(P):] for m in sub.messages})
    assert got == [("config/led", b"on")]
    msgs = {m[0][len(P):]: m[1] for m in sub.messages}
    ev = json.loads(msgs["events/overheat"])
    assert ev["type"] == "overheat" and ev["data"] == {"temperature": 85.5} and isinstance(ev["ts"], int)
    assert msgs["custom/raw"] == b"\x01\x02"
    assert msgs["custom/text"] == b"hello"
    assert msgs["custom/json"] == b'{"a":[1,2]}'


def test_background_loop_connects_and_runs_callbacks_in_its_thread(broker, subscriber):
    import threading

    sub = subscriber(P + "#")
    threads = set()
    up = threading.Event()
    with iotkit.Device("sensor-1", broker.uri) as d:
        def on_connection(ok, reason, detail):
            if ok:
                threads.add(threading.get_ident())
                up.set()

        d.on_connection = on_connection

        @d.command("ping")
        def ping(params):
            threads.add(threading.get_ident())
            return {"pong": True}

        d.start()
        assert up.wait(10)
        deadline = time.monotonic() + 10
        while not online(sub) and time.monotonic() < deadline:
            time.sleep(0.02)
        with pytest.raises(iotkit.StateError):
            d.poll(0)  # the loop owns the device
        with pytest.raises(iotkit.StateError):
            d.start()
        assert d.fd_events() == 0 and d.next_timeout() is None
        sub.publish(P + "commands/request", b'{"id":"1","name":"ping"}')
        deadline = time.monotonic() + 10
        while not on(sub, "commands/response") and time.monotonic() < deadline:
            time.sleep(0.02)
        d.stop()
        assert d.connected  # stop keeps the connection
        with pytest.raises(iotkit.StateError):
            d.stop()
    assert threads and threading.get_ident() not in threads
    assert on(sub, "commands/response") == [b'{"id":"1","status":"ok","result":{"pong":true}}']


def test_external_loop_api(dev):
    fds = []
    assert dev.fd() == -1 and dev.fd_events() == 0
    assert dev.next_timeout() is None  # idle: never connected
    dev.on_fd = lambda old, new: fds.append((old, new))
    dev.connect()
    fd = dev.fd()
    assert fd >= 0 and fds and fds[-1][1] == fd
    assert dev.fd_events() & iotkit.FD_READ
    t = dev.next_timeout()
    assert t is not None and t >= 0
    dev.disconnect()
    with pytest.raises(iotkit.ConnectionError):
        dev.disconnect()  # not connected any more


def test_credentials_callback_supplies_the_password():
    import os
    import subprocess

    from conftest import Broker

    b = Broker()
    pwfile = os.path.join(b.dir, "passwd")
    r = subprocess.run(["mosquitto_passwd", "-b", "-c", pwfile, "dev", "s3cret"], capture_output=True)
    if r.returncode != 0:
        b.close()
        pytest.skip("mosquitto_passwd unavailable")
    b.extra = ("password_file %s" % pwfile, "allow_anonymous false") + (("user root",) if os.geteuid() == 0 else ())
    b.start()
    try:
        with iotkit.Device("sensor-1", b.uri, username="dev", password="wrong", auto_reconnect=False,
                           connect_timeout=3) as d:
            with pytest.raises(iotkit.AuthenticationError) as ei:
                d.connect()
            assert ei.value.detail
            calls = []

            def creds():
                calls.append(1)
                return ("dev", "s3cret")

            d.on_credentials = creds
            d.connect()
            assert calls == [1] and d.connected
    finally:
        b.close()


def test_telemetry_stats_fields(dev):
    st = dev.telemetry_stats()
    assert isinstance(st, iotkit.TelemetryStats) and isinstance(st.queue, iotkit.QueueStats)
    assert st.queue.next_seq >= 1 and st.accepted == 0


def test_repr_and_properties(dev):
    assert dev.device_id == "sensor-1"
    assert "sensor-1" in repr(dev) and "open" in repr(dev)
    assert dev.last_error == ""
    assert dev.e2e_rejected == 0
    assert not dev.connected


def test_help_reads_well():
    import pydoc

    text = pydoc.render_doc(iotkit.Device, renderer=pydoc.plaintext)
    for word in ("send_telemetry", "on_desired", "command", "background",
                 "state_dir", "StateError"):
        assert word in text
    for name in dir(iotkit.Device):
        if not name.startswith("_"):
            assert getattr(iotkit.Device, name).__doc__, name


def _libiotkit_path():
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            if "/libiotkit.so" in path:
                return path
    pytest.skip("libiotkit.so not found in the process maps")


class FakeBatch:
    """A C telemetry batch made through libiotkit's own batch functions (ABI mode,
    a second cffi instance), exposed as iotkit.telemetry's batches are: ``_iotkit_batch``."""

    def __init__(self, points):
        import cffi

        self._ffi = cffi.FFI()
        self._ffi.cdef("typedef struct iotkit_telemetry_batch iotkit_telemetry_batch_t;"
                       "int iotkit_telemetry_batch_new(const void *hal, iotkit_telemetry_batch_t **out);"
                       "void iotkit_telemetry_batch_free(iotkit_telemetry_batch_t *b);"
                       "int iotkit_telemetry_batch_add_double(iotkit_telemetry_batch_t *b, const char *name,"
                       " const char *unit, int64_t ts_ms, double value);")
        self._lib = self._ffi.dlopen(_libiotkit_path())
        out = self._ffi.new("iotkit_telemetry_batch_t **")
        assert self._lib.iotkit_telemetry_batch_new(self._ffi.NULL, out) == 0
        self._b = self._ffi.gc(out[0], self._lib.iotkit_telemetry_batch_free)
        for name, unit, ts, value in points:
            assert self._lib.iotkit_telemetry_batch_add_double(self._b, name, unit, ts, value) == 0
        from iotkit._native import ffi

        self._iotkit_batch = ffi.cast("iotkit_telemetry_batch_t *", int(self._ffi.cast("uintptr_t", self._b)))


def test_batch_telemetry_is_encoded_by_the_library_with_a_sequence_number(dev, subscriber):
    sub = subscriber(P + "telemetry")
    dev.connect()
    batch = FakeBatch([(b"temperature", b"Cel", 1764081600000, 21.53)])
    assert dev.send_telemetry(batch) > 0
    assert dev.send_telemetry(batch, encoding="senml-json") > 0
    assert dev.send_telemetry(batch, encoding="senml-cbor") > 0
    with pytest.raises(iotkit.InvalidArgumentError):
        dev.send_telemetry(batch, encoding="xml")
    poll_until(dev, lambda: len(sub.messages) >= 3)
    first = json.loads(sub.messages[0][1])
    assert first == {"ver": 1, "seq": first["seq"], "points": [
        {"n": "temperature", "u": "Cel", "ts": 1764081600000, "d": 21.53}]}
    senml = json.loads(sub.messages[1][1])
    assert senml[0]["n"] == "temperature" and senml[0]["v"] == 21.53
    assert sub.messages[2][1][:1] in (b"\x81", b"\x9f")  # a CBOR array
