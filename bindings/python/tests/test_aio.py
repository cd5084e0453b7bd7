"""iotkit.aio.Device under pytest-asyncio against a real mosquitto: driven by the
event loop through the descriptor, sends resolve on delivery, messages() and
async command handlers."""
import asyncio
import json
import socket
import threading

import pytest

import iotkit
import iotkit.aio

P = "iotkit/v1/sensor-1/"


def on(sub, suffix):
    return [m[1] for m in sub.messages if m[0] == P + suffix]


async def until(cond, timeout=10.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        assert loop.time() < deadline, "condition not met within %s s" % timeout
        await asyncio.sleep(0.01)


async def online(sub):
    await until(lambda: any(b'"online"' in m for m in on(sub, "status")))


@pytest.fixture
def sub(subscriber):
    return subscriber(P + "#")  # one paho client per test: the fixture's share a client id


@pytest.mark.asyncio
async def test_async_with_sends_telemetry_and_resolves_on_delivery(broker, sub):
    async with iotkit.aio.Device("sensor-1", broker.uri) as dev:
        assert dev.connected
        mid = await dev.send_telemetry({"temp": 21.5})
        assert mid > 0
        assert dev.telemetry_stats().confirmed == 1  # resolved by the confirmation
        assert await dev.send_telemetry(b"\x00raw") > 0
    assert dev.closed
    await until(lambda: len(on(sub, "telemetry")) == 2)
    assert on(sub, "telemetry") == [b'{"temp":21.5}', b"\x00raw"]
    await until(lambda: any(b'"disconnect"' in m for m in on(sub, "status")))


@pytest.mark.asyncio
async def test_sends_go_out_at_once_and_return_futures(broker, sub):
    async with iotkit.aio.Device("sensor-1", broker.uri, telemetry_durable=False, max_payload=1024) as dev:
        futs = [dev.send_telemetry(b"now"), dev.publish("raw", b"now too"), dev.event("e")]
        assert all(isinstance(f, asyncio.Future) for f in futs)  # gather() wraps no task around them
        assert dev.telemetry_stats().sent_live == 1, "sent by the call, before any await"
        assert all(i > 0 for i in await asyncio.gather(*futs))
        assert dev.telemetry_stats().confirmed == 1  # without the durable queue too
        too_large = dev.send_telemetry(b"x" * 2000)  # the error comes from the future, as it did
        with pytest.raises(iotkit.TooLargeError):
            await too_large
        with pytest.raises(TypeError):
            await dev.publish("raw", 12)
        assert await dev.send_telemetry({"n": 1}, encoding="json") > 0


@pytest.mark.asyncio
async def test_a_thousand_concurrent_sends_are_all_confirmed(broker, sub):
    async with iotkit.aio.Device("sensor-1", broker.uri) as dev:
        ids = await asyncio.gather(*[dev.send_telemetry(b"m%d" % i) for i in range(1000)])
        st = dev.telemetry_stats()
    assert all(i > 0 for i in ids) and len(set(ids)) == 1000
    assert st.confirmed == 1000 and st.queue.pending == 0
    await until(lambda: len(on(sub, "telemetry")) == 1000)
    assert sorted(on(sub, "telemetry")) == sorted(b"m%d" % i for i in range(1000))


@pytest.mark.asyncio
async def test_offline_send_resolves_once_the_queue_drains(broker, sub):
    dev = iotkit.aio.Device("sensor-1", broker.uri)
    try:
        first = asyncio.ensure_future(dev.send_telemetry(b"stored-1"))
        second = asyncio.ensure_future(dev.send_telemetry(b"stored-2"))
        await asyncio.sleep(0.2)
        assert not first.done() and not second.done()  # stored, no id, nothing confirmed yet
        assert dev.telemetry_stats().queue.pending == 2
        await dev.connect()
        assert await asyncio.wait_for(first, 10) == 0
        assert await asyncio.wait_for(second, 10) == 0
        assert dev.telemetry_stats().queue.pending == 0
    finally:
        await dev.close()
    assert on(sub, "telemetry") == [b"stored-1", b"stored-2"]


@pytest.mark.asyncio
async def test_close_fails_sends_still_waiting(broker):
    dev = iotkit.aio.Device("sensor-1", broker.uri)
    waiting = asyncio.ensure_future(dev.send_telemetry(b"never connected"))
    await asyncio.sleep(0.05)
    await dev.close()
    with pytest.raises(iotkit.StateError):
        await waiting
    await dev.close()  # idempotent
    with pytest.raises(iotkit.StateError):
        await dev.send_telemetry(b"x")


@pytest.mark.asyncio
async def test_publish_and_event_resolve_on_delivery(broker, sub):
    async with iotkit.aio.Device("sensor-1", broker.uri) as dev:
        assert await dev.publish("raw/q0", b"zero", qos=0) > 0
        assert await dev.publish("raw/q1", {"a": 1}, qos=1) > 0
        assert await dev.publish("raw/q2", "two", qos=2) > 0
        assert await dev.event("overheat", {"t": 85.5}) > 0
        await dev.report({"fw": "1.0"})
        assert dev.reported == {"fw": "1.0"}
    await until(lambda: on(sub, "events/overheat") and on(sub, "raw/q2"))
    assert on(sub, "raw/q0") == [b"zero"] and on(sub, "raw/q1") == [b'{"a":1}'] and on(sub, "raw/q2") == [b"two"]
    assert json.loads(on(sub, "events/overheat")[0])["data"] == {"t": 85.5}


@pytest.mark.asyncio
async def test_offline_event_raises_at_once(broker):
    dev = iotkit.aio.Device("sensor-1", broker.uri)
    try:
        with pytest.raises(iotkit.ConnectionError):
            await dev.event("alarm")
        with pytest.raises(iotkit.ConnectionError):
            await dev.subscribe("in/#")
    finally:
        await dev.close()


@pytest.mark.asyncio
async def test_messages_iterator(broker, sub):
    async with iotkit.aio.Device("sensor-1", broker.uri) as dev:
        await dev.subscribe("in/#")
        await online(sub)
        sub.publish(P + "in/probe", b"p", retain=True)  # retained: arrives whether or not the SUBACK came yet
        it = dev.messages()
        first = await asyncio.wait_for(it.__anext__(), 10)
        assert first == iotkit.aio.Message(P + "in/probe", "in/probe", b"p")
        for i in range(3):
            sub.publish(P + "in/n/%d" % i, b"%d" % i)
        got = []
        async for msg in it:
            got.append((msg.suffix, msg.payload))
            if len(got) == 3:
                break
        assert got == [("in/n/0", b"0"), ("in/n/1", b"1"), ("in/n/2", b"2")]
        sub.publish(P + "in/probe", b"", retain=True)


@pytest.mark.asyncio
async def test_messages_iterator_ends_when_closed(broker):
    dev = iotkit.aio.Device("sensor-1", broker.uri)
    await dev.connect()
    got = []

    async def consume():
        async for msg in dev.messages():
            got.append(msg)

    task = asyncio.ensure_future(consume())
    await asyncio.sleep(0.05)
    await dev.close()
    await asyncio.wait_for(task, 5)
    assert got == []


@pytest.mark.asyncio
async def test_bounded_queue_drops_the_oldest(broker, sub):
    async with iotkit.aio.Device("sensor-1", broker.uri, queue_size=2) as dev:
        await dev.subscribe("in/#")
        await online(sub)
        sub.publish(P + "in/probe", b"p", retain=True)
        await until(lambda: dev.dropped_messages == 0 and len(dev._msgs) == 1)
        for i in range(5):
            sub.publish(P + "in/n", b"%d" % i)
        await until(lambda: dev.dropped_messages == 4)
        it = dev.messages()
        assert [(await it.__anext__()).payload for _ in range(2)] == [b"3", b"4"]
        sub.publish(P + "in/probe", b"", retain=True)


@pytest.mark.asyncio
async def test_async_and_sync_command_handlers(broker, sub):
    loop_thread = threading.get_ident()
    threads = []
    async with iotkit.aio.Device("sensor-1", broker.uri) as dev:

        @dev.command("slow")
        async def slow(params):
            threads.append(threading.get_ident())
            await asyncio.sleep(0.05)
            return {"waited": params["ms"]}

        @dev.command("quick")
        def quick(params):
            threads.append(threading.get_ident())
            return {"quick": True}

        @dev.command("refuse")
        async def refuse(params):
            raise iotkit.CommandError("busy", "try later")

        @dev.command("bad")
        async def bad(params):
            return params["missing"]

        await online(sub)
        for i, name in enumerate(("slow", "quick", "refuse", "bad")):
            sub.publish(P + "commands/request",
                        json.dumps({"id": str(i), "name": name, "params": {"ms": 50}}).encode())
        await until(lambda: len(on(sub, "commands/response")) == 4)
    got = {json.loads(m)["id"]: json.loads(m) for m in on(sub, "commands/response")}
    assert got["0"] == {"id": "0", "status": "ok", "result": {"waited": 50}}
    assert got["1"] == {"id": "1", "status": "ok", "result": {"quick": True}}
    assert got["2"]["error"] == {"code": "busy", "message": "try later"}
    assert got["3"]["error"]["code"] == "invalid_params"
    assert threads == [loop_thread, loop_thread] or sorted(threads) == [loop_thread, loop_thread]


@pytest.mark.asyncio
async def test_close_cancels_a_running_async_handler(broker, sub):
    started = asyncio.Event()
    dev = iotkit.aio.Device("sensor-1", broker.uri)

    @dev.command("forever")
    async def forever(params):
        started.set()
        await asyncio.sleep(3600)

    await dev.connect()
    await online(sub)
    sub.publish(P + "commands/request", b'{"id":"1","name":"forever"}')
    await asyncio.wait_for(started.wait(), 10)
    await dev.close()
    await until(lambda: on(sub, "commands/response"))
    err = json.loads(on(sub, "commands/response")[0])["error"]
    assert err["code"] == "error" and "CancelledError" in err["message"]


@pytest.mark.asyncio
async def test_callbacks_run_in_the_loop_thread(broker, sub, tmp_path):
    loop_thread = threading.get_ident()
    seen = []
    # A desired state stored by an earlier run reaches on_desired during the connect (in the executor).
    with iotkit.Device("sensor-1", broker.uri, state_dir=tmp_path) as d:
        got = []
        d.on_desired = lambda delta, v: got.append(v)
        d.connect()
        sub.publish(P + "state/desired", b'{"version":2,"state":{"led":"on"}}')
        while not got:
            d.poll(0.05)
    sub.publish(P + "state/desired", b"", retain=True)
    dev = iotkit.aio.Device("sensor-1", broker.uri, state_dir=tmp_path)
    dev.on_connection = lambda up, reason, detail: seen.append(("conn", up, threading.get_ident()))

    async def desired(delta, version):
        seen.append(("desired", delta, version, threading.get_ident()))

    dev.on_desired = desired
    await dev.connect()
    await until(lambda: len(seen) >= 2)
    await dev.close()
    assert ("desired", {"led": "on"}, 2, loop_thread) in seen
    assert ("conn", True, loop_thread) in seen
    assert ("conn", False, loop_thread) in seen


@pytest.mark.asyncio
async def test_callback_exception_is_reraised_by_the_next_await(broker, sub):
    dev = iotkit.aio.Device("sensor-1", broker.uri)

    def on_connection(up, reason, detail):
        if up:
            raise RuntimeError("from on_connection")

    dev.on_connection = on_connection
    try:
        with pytest.raises(RuntimeError, match="from on_connection"):
            await dev.connect()
        assert dev.connected
        assert await dev.send_telemetry(b"after") > 0  # raised once only
    finally:
        await dev.close()


@pytest.mark.asyncio
async def test_async_callback_exception_reaches_the_messages_iterator(broker, sub):
    dev = iotkit.aio.Device("sensor-1", broker.uri)

    async def on_desired(delta, version):
        raise LookupError("desired %d" % version)

    dev.on_desired = on_desired
    try:
        await dev.connect()
        await online(sub)
        sub.publish(P + "state/desired", b'{"version":5,"state":{"x":1}}')
        with pytest.raises(LookupError, match="desired 5"):
            async for _ in dev.messages():
                pass
    finally:
        await dev.close()
        sub.publish(P + "state/desired", b"", retain=True)


@pytest.mark.asyncio
async def test_the_loop_runs_while_connect_waits(broker):
    ticks = []

    async def ticker():
        while True:
            ticks.append(1)
            await asyncio.sleep(0.01)

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # accepts, never answers CONNECT
        dev = iotkit.aio.Device("sensor-1", "mqtt://127.0.0.1:%d" % silent.getsockname()[1], connect_timeout=1,
                                auto_reconnect=False)
        t = asyncio.ensure_future(ticker())
        try:
            with pytest.raises(iotkit.TimeoutError):
                await dev.connect()
        finally:
            t.cancel()
            await dev.close()
    assert len(ticks) > 1  # the loop was not blocked by the C connect


@pytest.mark.asyncio
async def test_reconnects_and_moves_the_watcher_after_a_broker_restart(broker, sub):
    ups = []
    dev = iotkit.aio.Device("sensor-1", broker.uri, reconnect_min=0.1, reconnect_max=0.5)
    dev.on_connection = lambda up, reason, detail: ups.append(up)
    try:
        await dev.connect()
        first_fd = dev.sync.fd()
        assert dev._reader == first_fd >= 0
        broker.stop()
        await until(lambda: ups[-1] is False)
        pending = asyncio.ensure_future(dev.send_telemetry(b"while down"))  # stored in the queue
        broker.start()  # the same port
        await until(lambda: ups.count(True) == 2, timeout=20)
        assert dev._reader == dev.sync.fd() >= 0
        assert await asyncio.wait_for(pending, 20) == 0
        assert await dev.send_telemetry(b"after") > 0
    finally:
        await dev.close()


@pytest.mark.asyncio
async def test_device_belongs_to_one_loop(broker):
    dev = iotkit.aio.Device("sensor-1", broker.uri)
    await dev.connect()

    def other_loop():
        async def use():
            await dev.send_telemetry(b"x")
        asyncio.run(use())

    with pytest.raises(iotkit.StateError):
        await asyncio.get_running_loop().run_in_executor(None, other_loop)
    await dev.close()


def test_aio_help_reads_well():
    import pydoc

    text = pydoc.render_doc(iotkit.aio.Device, renderer=pydoc.plaintext)
    for word in ("send_telemetry", "messages", "queue_size", "drained"):
        assert word in text
    for name in dir(iotkit.aio.Device):
        if not name.startswith("_"):
            assert getattr(iotkit.aio.Device, name).__doc__, name
    assert "executor" in iotkit.aio.__doc__ and "add_reader" in iotkit.aio.__doc__


class HalfBroker:
    """A fake MQTT server that accepts one session (CONNACK) and acknowledges nothing,
    then drops the connection when told: messages stay in flight until then."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.uri = "mqtt://127.0.0.1:%d" % self.sock.getsockname()[1]
        self.conn = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        self.conn, _ = self.sock.accept()
        self.conn.recv(4096)  # CONNECT
        self.conn.sendall(b"\x20\x02\x00\x00")  # CONNACK, accepted

    def drop(self):
        self.thread.join(10)
        self.conn.close()
        self.sock.close()


@pytest.mark.asyncio
@pytest.mark.parametrize("durable", [False, True])
async def test_messages_in_flight_when_the_session_drops(durable):
    fake = HalfBroker()
    dev = iotkit.aio.Device("sensor-1", fake.uri, telemetry_durable=durable, auto_reconnect=False)
    try:
        await dev.connect()
        tel = asyncio.ensure_future(dev.send_telemetry(b"in flight"))
        pub = asyncio.ensure_future(dev.publish("raw", b"in flight", qos=1))
        await asyncio.sleep(0.2)
        assert not tel.done() and not pub.done()  # no PUBACK from the fake
        fake.drop()
        with pytest.raises(iotkit.ConnectionError):
            await asyncio.wait_for(pub, 10)  # publish() is not queued: lost with the session
        if durable:
            await asyncio.sleep(0.2)
            assert not tel.done()  # back in the queue: it waits for the next session
            assert dev.telemetry_stats().queue.pending == 1
        else:
            with pytest.raises(iotkit.ConnectionError):
                await asyncio.wait_for(tel, 10)
    finally:
        await dev.close()
    if durable:
        with pytest.raises(iotkit.StateError):
            await tel
