"""iotkit.aio.Fleet under pytest-asyncio against a real mosquitto and real
iotkit.aio.Device handles on the same event loop: driven through the fleet's
descriptor with no thread (a device and the fleet both answer inside one loop),
await command (result, the device's error, unknown, offline, timeout), group
commands, events() iteration and callbacks (sync and async), a callback's
exception re-raised, closing with commands pending, and bad inputs."""
import asyncio
import threading

import pytest

import iotkit
import iotkit.aio
from iotkit import InvalidArgumentError, NotFoundError, OfflineError, RemoteError, StateError
from test_aio import until
from test_crypto import raises


async def started_device(fleet, broker, id, **kw):
    if id not in fleet:
        fleet.create(id, **kw)
    d = iotkit.aio.Device(id, broker.uri)

    @d.command("add")
    async def add(p):
        await asyncio.sleep(0)
        return {"s": p["a"] + p["b"]}

    @d.command("slow")
    async def slow(p):
        await asyncio.sleep(30)

    @d.command("fail")
    def fail(p):
        raise ValueError("no can do")

    await d.connect()
    await until(lambda: fleet.presence(id).online)
    return d


@pytest.mark.asyncio
async def test_command_on_one_loop_without_threads(broker):
    before = threading.active_count()
    async with iotkit.aio.Fleet(uri=broker.uri) as fleet:
        d = await started_device(fleet, broker, "a1")
        assert threading.active_count() <= before + 2  # the fleet's writer thread and the executor's, no loop thread
        assert await fleet.command("a1", "add", {"a": 2, "b": 3}, timeout=5) == {"s": 5}
        results = await asyncio.gather(*(fleet.command("a1", "add", {"a": i, "b": 1}, timeout=5) for i in range(10)))  # under the device's 16 awaiting completion
        assert [r["s"] for r in results] == [i + 1 for i in range(10)]
        with pytest.raises(RemoteError) as e:
            await fleet.command("a1", "fail", timeout=5)
        assert e.value.code == -50 and "no can do" in e.value.error_message
        with raises(NotFoundError, "IOTKIT_ERR_NOT_FOUND"):
            await fleet.command("stranger", "add", {}, timeout=5)
        fleet.create("sleeper")
        with raises(OfflineError, "IOTKIT_ERR_OFFLINE"):
            await fleet.command("sleeper", "add", {}, timeout=5)
        with raises(iotkit.TimeoutError, "IOTKIT_ERR_TIMEOUT"):
            await fleet.command("a1", "slow", timeout=0.3)
        assert fleet.control_stats().timeouts == 1
        await d.close()


@pytest.mark.asyncio
async def test_group_command(broker):
    async with iotkit.aio.Fleet(uri=broker.uri) as fleet:
        devs = [await started_device(fleet, broker, i, type="lamp") for i in ("b2", "a1")]
        fleet.create("off", type="lamp")
        res = await fleet.command_group("add", {"a": 1, "b": 1}, type="lamp", timeout=5)
        assert [r.device_id for r in res] == ["a1", "b2", "off"]
        assert [r.result for r in res[:2]] == [{"s": 2}, {"s": 2}]
        assert isinstance(res[2].error, OfflineError)
        res = await fleet.command_group("add", {"a": 1, "b": 2}, devices=["b2", "stranger", "a1"], timeout=5)
        assert [(r.device_id, r.ok) for r in res] == [("b2", True), ("stranger", False), ("a1", True)]
        assert await fleet.command_group("add", {}, tag="none-has-it", timeout=5) == []
        with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
            await fleet.command_group("add", {}, timeout=5)
        for d in devs:
            await d.close()


@pytest.mark.asyncio
async def test_events_and_callbacks(broker):
    async with iotkit.aio.Fleet(uri=broker.uri) as fleet:
        statuses, got = [], []
        fleet.set_callback("status", statuses.append)

        @fleet.on("telemetry")
        async def on_tm(ev):
            await asyncio.sleep(0)
            got.append(ev)

        it = fleet.events("status", "telemetry", "state")
        d = await started_device(fleet, broker, "e1")
        await d.send_telemetry({"temp": 20.5})
        await d.report({"fw": "1"})
        seen = []
        async for ev in it:
            seen.append(ev)
            if any(e.kind == "state" for e in seen) and any(e.kind == "telemetry" for e in seen):
                break
        kinds = [e.kind for e in seen]
        assert kinds[0] == "status" and seen[0] == iotkit.aio.StatusEvent("e1", True, None, seen[0].ts_ms)
        tm = [e for e in seen if e.kind == "telemetry"][0]
        assert tm.device_id == "e1" and tm.points[0].name == "temp" and tm.points[0].value == 20.5
        assert [e for e in seen if e.kind == "state"][0].state == {"fw": "1"}
        await until(lambda: got)
        assert got[0].points[0].value == 20.5 and statuses[0].online
        await d.close()
        await until(lambda: len(statuses) == 2)
        assert statuses[1].online is False and statuses[1].reason == "disconnect"


@pytest.mark.asyncio
async def test_a_callback_exception_is_raised_by_the_next_await(broker):
    fleet = iotkit.aio.Fleet(uri=broker.uri)
    await fleet.connect()

    def boom(ev):
        raise RuntimeError("in the status callback")

    fleet.set_callback("status", boom)
    d = await started_device(fleet, broker, "x1")
    with pytest.raises(RuntimeError, match="in the status callback"):
        await fleet.command("x1", "add", {"a": 1, "b": 1}, timeout=5)
    assert await fleet.command("x1", "add", {"a": 1, "b": 1}, timeout=5) == {"s": 2}
    await d.close()  # its offline status raises in the callback again: close() re-raises it
    with pytest.raises(RuntimeError, match="in the status callback"):
        await asyncio.wait_for(fleet.events("telemetry").__anext__(), 5)
    await fleet.close()


@pytest.mark.asyncio
async def test_the_iterator_raises_a_callback_exception_and_ends_at_close(broker):
    fleet = iotkit.aio.Fleet(uri=broker.uri)
    await fleet.connect()
    fleet.set_callback("status", lambda ev: 1 / 0)
    it = fleet.events("status")
    d = await started_device(fleet, broker, "x2")
    with pytest.raises(ZeroDivisionError):
        async for _ in it:
            pass
    fleet.set_callback("status", None)
    it2 = fleet.events("telemetry")
    task = asyncio.ensure_future(it2.__anext__())
    await asyncio.sleep(0.05)
    await d.close()
    await fleet.close()
    with pytest.raises(StopAsyncIteration):
        await task


@pytest.mark.asyncio
async def test_close_with_a_command_pending(broker):
    fleet = iotkit.aio.Fleet(uri=broker.uri)
    await fleet.connect()
    d = await started_device(fleet, broker, "c1")
    pending = asyncio.ensure_future(fleet.command("c1", "slow", timeout=20))
    await asyncio.sleep(0.1)
    await fleet.close()
    with raises(StateError, "IOTKIT_ERR_STATE"):
        await pending
    assert fleet.closed
    await fleet.close()  # idempotent
    with raises(StateError, "IOTKIT_ERR_STATE"):
        await fleet.command("c1", "add", {}, timeout=5)
    await d.close()


@pytest.mark.asyncio
async def test_bad_inputs(broker):
    fleet = iotkit.aio.Fleet(uri=broker.uri)
    fleet.create("a1")
    with raises(iotkit.ConnectionError, "IOTKIT_ERR_NOT_CONNECTED"):
        await fleet.command("a1", "add", {}, timeout=5)
    await fleet.connect()
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        await fleet.command("bad id!", "add", {}, timeout=5)
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        await fleet.command("a1", "add", {}, timeout=0)
    with raises(InvalidArgumentError, "IOTKIT_ERR_BAD_ENCODING"):
        await fleet.command("a1", "add", {"x": object()}, timeout=5)
    with pytest.raises(TypeError):
        await fleet.command("a1", "add", [1], timeout=5)
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        fleet.events("nope")
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        fleet.set_callback("nope", print)
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        fleet.on("nope")
    with pytest.raises(TypeError):
        fleet.set_callback("status", 42)
    with pytest.raises(TypeError):
        fleet.events("status", queue_size=-1)
    with pytest.raises(AttributeError):
        fleet.call  # the loop drives the session: no blocking call here
    await fleet.close()


def test_bound_to_one_loop(broker):
    fleet = iotkit.aio.Fleet(uri=broker.uri)

    async def connect():
        await fleet.connect()

    async def command():
        await fleet.command("a1", "add", {}, timeout=5)

    asyncio.run(connect())
    with raises(StateError, "IOTKIT_ERR_STATE"):
        asyncio.run(command())
    fleet.sync.close()
